"""Command-line printing: `flask --app app print-pairings --programme 爱心妈妈结对 --year 2026 -o 2026.pdf`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from blueprints.children.printing import Printer
from blueprints.core.vocabulary import PROGRAMMES
from blueprints.volunteers import printing
from blueprints.volunteers.models import Pairing
from extensions import db


def programme_code(name: str) -> str | None:
    """A programme by its code (caring_mother) or its Chinese label (爱心妈妈结对)."""
    name = name.strip()
    if name in PROGRAMMES:
        return name
    return next((code for code, label in PROGRAMMES.items() if label == name), None)


def register_cli(app: Flask) -> None:
    @app.cli.command("print-pairings")
    @click.option("--programme", "programme_name", required=True, help="结对项目：代码或中文名，如 爱心妈妈结对")
    @click.option("--year", required=True, type=click.IntRange(2000, 9999), help="年度，如 2026")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
                  help="输出的 PDF 文件")
    def print_pairings(programme_name: str, year: int, output: Path) -> None:
        """Print the record of every pairing of a programme open at any time in a year into one
        PDF, with that year's activities (run on the server: everything the record shows, "打印人"
        is 命令行)."""
        programme = programme_code(programme_name)
        if programme is None:
            known = "、".join(f"{label}（{code}）" for code, label in PROGRAMMES.items())
            click.echo(f"没有名为“{programme_name}”的结对项目。可用的项目：{known}", err=True)
            sys.exit(1)
        label, span = PROGRAMMES[programme], printing.Year(year)
        pairing_ids = printing.batch_ids(select(Pairing), programme, span)
        if not pairing_ids:
            click.echo(f"{label}在 {year} 年没有结对，未生成文件。", err=True)
            sys.exit(1)
        printer = Printer.command_line()
        with click.progressbar(length=len(pairing_ids), label=f"{label} {year} 年 {len(pairing_ids)} 份",
                               file=sys.stderr) as bar:
            count = printing.write_records(pairing_ids, printer, span, output,
                                           lambda done, total, message: bar.update(done - bar.pos))
        printing.record_batch(count, programme, span, f"命令行，{output.name}")
        db.session.commit()
        click.echo(f"已打印 {label} {year} 年 {count} 份结对帮扶记录表：{output}")
