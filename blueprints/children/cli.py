"""Command-line printing: `flask --app app print-archives --village 东洼村 -o 东洼村.pdf`."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from blueprints.places.models import Village
from blueprints.children import printing
from blueprints.children.models import Child
from blueprints.core.vocabulary import CURRENT_STATUSES
from extensions import db


def register_print_cli(app: Flask) -> None:
    @app.cli.command("print-archives")
    @click.option("--village", "village_name", required=True, help="村名（全称）")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
                  help="输出的 PDF 文件")
    def print_archives(village_name: str, output: Path) -> None:
        """Print the archive of every current child of a village into one PDF (run on the server:
        ID numbers are printed in full, "打印人" is 命令行)."""
        village = db.session.scalar(select(Village).where(Village.name == village_name.strip()))
        if village is None:
            click.echo(f"没有名为“{village_name}”的村。请核对村名（可在“基础数据”中查看）。", err=True)
            sys.exit(1)
        name = village.name
        child_ids = list(db.session.scalars(
            select(Child.id)
            .where(Child.residence_village_id == village.id, Child.status.in_(CURRENT_STATUSES))
            .order_by(Child.name_pinyin, Child.id)
        ))
        if not child_ids:
            click.echo(f"{name}没有在册儿童，未生成文件。", err=True)
            sys.exit(1)
        printer = printing.Printer.command_line()
        with click.progressbar(length=len(child_ids), label=f"{name} {len(child_ids)} 份", file=sys.stderr) as bar:
            count = printing.write_archives(child_ids, printer, output,
                                            lambda done, total, message: bar.update(done - bar.pos))
        printing.record_batch(count, printer, f"命令行，{name}，{output.name}")
        db.session.commit()
        click.echo(f"已打印 {name} {count} 份儿童档案：{output}")


def register_cli(app: Flask) -> None:
    """The area's commands: printing, and the survey's Excel template and import."""
    from blueprints.children.excel_cli import register_excel_cli

    register_print_cli(app)
    register_excel_cli(app)
