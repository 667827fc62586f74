"""Long work (batch printing, big imports) in the background, with progress a page can poll.

A job is a row: any worker process can answer "how far is it?", and the work runs in a thread of
the worker that started it. This needs no queue server or consumer process to deploy; the price is
that a job dies with its worker, which the poll then reports (a job that has not moved for
STALE_AFTER is marked failed) so the user can start it again.
"""
from __future__ import annotations

import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from flask import current_app
from sqlalchemy import ForeignKey, String, Text, update
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.clock import utcnow
from extensions import db

STALE_AFTER = timedelta(minutes=5)
# One job at a time per worker: printing is CPU-bound and the machine is small.
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="guanai-job")


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")  # queued running done failed
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    result_path: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    def check_stale(self) -> None:
        if not self.finished and utcnow() - self.updated_at > STALE_AFTER:
            self.status = "failed"
            self.message = "任务中断（服务器可能重启过），请重新开始。"


def job_dir() -> Path:
    path = Path(current_app.instance_path) / "jobs"
    path.mkdir(parents=True, exist_ok=True)
    return path


class Progress:
    """Handed to the work function: report how far it is, from inside its own thread."""

    def __init__(self, job_id: int):
        self.job_id = job_id

    def __call__(self, done: int, total: int, message: str = "") -> None:
        db.session.execute(
            update(Job).where(Job.id == self.job_id)
            .values(done=done, total=total, message=message, updated_at=utcnow(), status="running")
        )
        db.session.commit()


def start_job(kind: str, title: str, user_id: int, work: Callable[[Progress, Path], str], wait: bool = False) -> Job:
    """Create the job row, commit it, and run `work(progress, result_file)` in the background.
    `work` returns the message shown when done. `wait` runs it to the end first (for the CLI)."""
    job = Job(kind=kind, title=title, user_id=user_id)
    db.session.add(job)
    db.session.commit()
    job_id = job.id
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            result = job_dir() / f"job-{job_id}"
            try:
                message = work(Progress(job_id), result)
                values = dict(status="done", message=message, result_path=str(result))
            except Exception:  # a failed job must say so, not hang at "running"
                app.logger.error("job %s failed:\n%s", job_id, traceback.format_exc())
                values = dict(status="failed", message="任务出错，没有完成。请重试；如果一直出错，请联系系统管理员。")
            db.session.rollback()
            now = utcnow()
            db.session.execute(update(Job).where(Job.id == job_id).values(updated_at=now, finished_at=now, **values))
            db.session.commit()
            db.session.remove()

    future = _executor.submit(run)
    if wait:
        future.result()
        db.session.refresh(job)
    return job
