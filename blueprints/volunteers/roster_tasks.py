"""The roster import as a huey job (blueprints/core/jobs.py runs it). Imported by roster_routes,
one of the area's route modules, so the web app and the worker (worker.py builds the same app)
both register it.

Every row is a login whose password is hashed with scrypt, which takes a while: the hashes are
made while the progress bar moves (each progress report commits), then all rows are written in
one transaction that the runner commits with the job's "done"."""
from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from blueprints.auth.models import User
from blueprints.children.excel import Report, import_dir
from blueprints.core.jobs import job_task
from blueprints.volunteers.roster import new_login
from blueprints.volunteers.roster_excel import claimed_name, import_roster, read_roster
from extensions import db

IMPORT_TASK = "volunteers.import_roster"
GONE = "上传的文件已不在服务器上，请重新上传。"
RACE = "导入时发现有登录名刚刚被别人使用，没有导入任何志愿者。请重新上传文件检查。"


def report_path(result: Path | str) -> Path:
    """Where the job leaves its report (beside its result: cleaned with the job's files)."""
    return Path(f"{result}.json")


def read_report(result: Path | str | None) -> tuple[Report | None, int]:
    """The report a finished job left, and how many volunteers it imported."""
    path = report_path(result) if result else None
    if path is None or not path.exists():
        return None, 0
    text = path.read_text(encoding="utf-8")
    return Report.from_json(text), json.loads(text).get("imported", 0)


def _done(result: Path, report: Report, message: str, imported: int = 0) -> str:
    report_path(result).write_text(report.to_json(imported=imported), encoding="utf-8")
    return message


def _import_failed(*, upload: str, filename: str, user_id: int, rows: int) -> None:
    """Nothing was kept: the same file can be confirmed again."""
    claimed = import_dir() / claimed_name(upload)
    if claimed.exists():
        claimed.rename(import_dir() / upload)


@job_task(IMPORT_TASK, on_failure=_import_failed)
def import_volunteers(progress, result: Path, *, upload: str, filename: str, user_id: int, rows: int) -> str:
    path = import_dir() / claimed_name(upload)
    if not path.exists():
        return _done(result, Report(total=rows, problem=GONE), "没有导入：上传的文件已不在服务器上。")
    total = max(rows, 1)
    progress(0, 2 * total, "正在检查……")
    checked = read_roster(path, on_progress=lambda done: progress(done, 2 * total, f"正在检查：第 {done} 行"))
    if not checked.report.ok:
        path.unlink(missing_ok=True)
        return _done(result, checked.report, f"没有导入：{checked.report.bad_rows} 行有问题。")
    logins = []
    for i, row in enumerate(checked.rows, start=1):
        logins.append(new_login(row.username, row.password))
        if i % 5 == 0:
            progress(total + i, 2 * total, f"正在建立登录账号：{i} / {len(checked.rows)}")
    user = db.session.get(User, user_id)
    try:
        count = import_roster(checked, logins, filename, actor=user)
        db.session.flush()
    except IntegrityError:  # a login name taken between the check and the write
        db.session.rollback()
        path.unlink(missing_ok=True)
        return _done(result, Report(total=checked.report.total, problem=RACE), "没有导入：有登录名刚刚被别人使用。")
    path.unlink(missing_ok=True)
    return _done(result, checked.report, f"已导入 {count} 名志愿者。", imported=count)
