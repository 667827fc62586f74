"""Command-line survey import: `flask --app app import-template -o 模板.xlsx`,
`flask --app app import-children FILE.xlsx [--commit]`. The command line reaches the whole town."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from blueprints.auth.models import User
from blueprints.children.excel import Reach, import_survey, read_survey, record_report, template_workbook
from blueprints.children.models import ImportBatch
from extensions import db


def register_excel_cli(app: Flask) -> None:
    @app.cli.command("import-template")
    @click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True),
                  help="写到哪个文件（.xlsx）")
    def import_template_command(output: str) -> None:
        """Write the survey template workbook (villages and schools from the database)."""
        Path(output).write_bytes(template_workbook(Reach.town()))
        click.echo(f"已生成模板：{output}")

    @app.cli.command("import-children")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    @click.option("--commit", is_flag=True, help="全部通过检查时导入（不加只检查）")
    @click.option("--user", "username", default=None, help="以哪个账号的名义导入（记入档案变更记录和操作日志）")
    def import_children_command(path: str, commit: bool, username: str | None) -> None:
        """Check a survey workbook; with --commit import it when every row is good."""
        actor = None  # without --user: recorded as the system (the command line)
        if username:
            actor = db.session.scalar(select(User).where(User.username == username, User.active.is_(True)))
            if actor is None:
                click.echo(f"没有启用中的账号“{username}”。请核对 --user 后的用户名。", err=True)
                sys.exit(1)
        result = read_survey(path, Reach.town())
        report = result.report
        batch = ImportBatch(user_id=actor.id if actor else None, filename=Path(path).name[-200:], status="rejected")
        db.session.add(batch)
        db.session.flush()
        record_report(batch, report)
        if report.problem:
            db.session.commit()
            click.echo(report.problem, err=True)
            sys.exit(1)
        if report.errors:
            db.session.commit()
            for line in report.lines():
                click.echo(line)
            click.echo(f"共 {report.total} 行，{report.bad_rows} 行有问题，没有导入任何儿童。", err=True)
            sys.exit(1)
        if not commit:
            db.session.commit()
            click.echo(f"共 {report.total} 行，全部通过检查。加 --commit 导入。")
            return
        try:
            count = import_survey(result, batch, actor=actor)
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            click.echo("导入时发现有儿童刚刚被登记，没有导入任何儿童。请重新运行。", err=True)
            sys.exit(1)
        click.echo(f"已导入 {count} 名儿童（第 {batch.id} 批）。")
