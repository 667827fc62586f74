"""The registry's background work as named huey tasks (blueprints/core/jobs.py runs them).

Arguments are JSON (ids and strings): each task builds what it needs from the database. What a
task writes is committed by the runner together with the job's "done", so a job whose worker
dies before that keeps nothing and runs again."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from blueprints.auth.models import User
from blueprints.children import printing
from blueprints.children.excel import RACE, Reach, Report, import_survey, read_survey, reject_batch, remove_upload, upload_path
from blueprints.children.models import ImportBatch
from blueprints.core.jobs import Job, job_task
from extensions import db

PRINT_TASK = "children.print_archives"
IMPORT_TASK = "children.import_survey"


@job_task(PRINT_TASK)
def print_archives(progress, result: Path, *, child_ids: list[int], user_id: int, what: str) -> str:
    user = db.session.get(User, user_id)
    printer = printing.Printer.for_user(user)
    count = printing.write_archives(child_ids, printer, Path(f"{result}.pdf"), progress)
    user = db.session.get(User, user_id)  # printing let go of every loaded object
    printing.record_batch(count, printer, f"任务 {progress.job_id}，{what}", user=user)
    return f"已生成 {count} 份儿童档案。"


def _import_failed(*, batch_id: int, user_id: int) -> None:
    """Nothing was kept: the same file can be confirmed again (the failed job cannot finish)."""
    db.session.execute(update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.status == "importing")
                       .values(status="previewed"))


@job_task(IMPORT_TASK, on_failure=_import_failed)
def import_children(progress, result: Path, *, batch_id: int, user_id: int) -> str:
    """Check again, then write all rows in one transaction (committed by the runner)."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.status != "importing":
        raise RuntimeError(f"import batch {batch_id} is not being imported")
    user = db.session.get(User, user_id)
    total = max(batch.total_rows, 1)
    progress(0, 2 * total, "正在检查……")
    path = upload_path(batch)
    if path is None or not path.exists():
        batch = db.session.get(ImportBatch, batch_id)
        reject_batch(batch, Report(total=batch.total_rows, problem="上传的文件已不在服务器上，请重新上传。"))
        return "没有导入：上传的文件已不在服务器上。"
    result_ = read_survey(path, Reach.of(user),
                          on_progress=lambda done: progress(done, 2 * total, f"正在检查：第 {done} 行"))
    batch = db.session.get(ImportBatch, batch_id)
    if not result_.report.ok:
        reject_batch(batch, result_.report)
        return f"没有导入：{result_.report.bad_rows} 行有问题。"
    progress(total, 2 * total, f"检查通过，正在写入 {total} 名儿童……")
    batch = db.session.get(ImportBatch, batch_id)
    user = db.session.get(User, user_id)
    try:
        count = import_survey(result_, batch, actor=user, on_progress=_side_progress(progress.job_id, total))
        db.session.flush()
    except IntegrityError:  # registered by someone else between the check and the write
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        reject_batch(batch, Report(total=batch.total_rows, problem=RACE))
        return "没有导入：有儿童刚刚被别人登记。"
    remove_upload(batch)
    return f"已导入 {count} 名儿童。"


def _side_progress(job_id: int, total: int):
    """Progress while the import's transaction is open, on a connection of its own. SQLite lets
    one writer at a time, so there the bar waits at “写入” until the commit."""
    if db.engine.dialect.name == "sqlite":
        return None

    def report(done: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(update(Job).where(Job.id == job_id).values(
                done=total + done, total=2 * total, message=f"正在写入：{done} / {total}"))

    return report
