"""Long work (batch printing, big imports) on huey, with progress a page can poll.

A job is a row: which named task runs it, its JSON arguments, how far it is and which consumer
runs it. The web app only adds the row and enqueues; a huey consumer (worker.py, started beside
the web server by `make run`) does the work. Areas register their work with `@job_task(name)`;
the core knows no area.

Queue storage: SqliteHuey in instance/huey.db (its own file: it takes SQLite's write lock), Redis
when HUEY_URL or REDIS_URL is set, in-process ("immediate") when HUEY_IMMEDIATE is on (tests).

A consumer that dies (killed, machine restarted) loses the task it was running: huey has no
acknowledgement. The next consumer to start (and every consumer once a minute) finds the job's
row still "running" under a dead worker and runs it once more, or marks it failed after
MAX_ATTEMPTS. A task claims its row before working and finishes with a conditional update, so a
job is never done twice.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from flask import Flask, abort, current_app, has_app_context, send_file
from flask_login import current_user
from huey import Huey, crontab
from huey.constants import EmptyData
from huey.storage import MemoryStorage, SqliteStorage
from sqlalchemy import ForeignKey, String, Text, false, func, select, update
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import Conflict

from blueprints.core.clock import utcnow
from blueprints.core.errors import render_error
from blueprints.core.files import private_dir
from extensions import db

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a job whose worker died is run once more, then reported failed
# A worker on another machine cannot be asked whether it lives: silence this long means dead.
STALE_AFTER = timedelta(minutes=10)
# No sign of a consumer for this long: a queued job says it waits for the background worker.
CONSUMER_SILENT_AFTER = timedelta(minutes=2)
# A queued task that is in no queue this long after it was queued was lost with a consumer.
LOST_AFTER = timedelta(minutes=2)
HEARTBEAT_KEY = "guanai:consumer-heartbeat"

INTERRUPTED = "后台程序中断过，任务将重新开始……"
FAILED = "任务出错，没有完成。请重试；如果一直出错，请联系系统管理员。"
GAVE_UP = "任务两次被中断（后台程序意外停止），没有完成。请重新开始；如果一直这样，请联系系统管理员。"

# The queue. Tasks are registered on it at import time; its storage is chosen per app (bind).
huey = Huey("guanai", results=False, immediate=True)


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
    task: Mapped[str | None] = mapped_column(String(60))  # the named huey task
    arguments: Mapped[str] = mapped_column(Text, default="{}")  # its JSON arguments
    task_id: Mapped[str | None] = mapped_column(String(40))  # huey's id of the queued message
    attempts: Mapped[int] = mapped_column(default=0)
    worker: Mapped[str | None] = mapped_column(String(120))  # host:pid running it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else (100 if self.status == "done" else 0)

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")

    @property
    def waiting_for_worker(self) -> bool:
        """Queued, and no consumer has been seen lately: say so rather than spin."""
        if self.status != "queued":
            return False
        seen = consumer_last_seen()
        return seen is None or utcnow() - seen > CONSUMER_SILENT_AFTER


# ---------------------------------------------------------------------------------------------
# Configuration: which storage the queue uses, per app


def init_app(app: Flask) -> None:
    config = app.config
    url = config.get("HUEY_URL") or config.get("REDIS_URL")
    if config.get("HUEY_IMMEDIATE"):
        immediate, storage = True, MemoryStorage("guanai")
    elif url:
        from huey.storage import RedisStorage  # needs the redis client: pip install redis

        immediate, storage = False, RedisStorage("guanai", url=url)
    else:
        immediate, storage = False, SqliteStorage("guanai", filename=str(Path(app.instance_path) / "huey.db"))
    app.extensions["huey"] = (immediate, storage)
    app.register_error_handler(TooManyJobs, lambda error: render_error(409, "任务太多", error.description))
    global _consumer_app
    _consumer_app = app  # worker.py builds one app; its tasks run in it
    bind(app)


_consumer_app: Flask | None = None


def bind(app: Flask) -> None:
    """Point the one huey instance at this app's storage (a test process builds several apps)."""
    immediate, storage = app.extensions["huey"]
    huey._immediate = immediate
    huey.storage = storage


def storage_dir() -> Path:
    """JOB_STORAGE_DIR: job results and uploads waiting for confirmation; may be shared by servers.
    Only the server's user may list it (0700): the files hold names and full ID numbers."""
    return private_dir(current_app.config.get("JOB_STORAGE_DIR") or Path(current_app.instance_path) / "jobs")


# ---------------------------------------------------------------------------------------------
# The consumer's heartbeat, kept in the queue's own storage (shared by web and consumer)


def touch_heartbeat() -> None:
    if has_app_context():
        bind(current_app)
    huey.storage.put_data(HEARTBEAT_KEY, str(time.time()).encode())


def consumer_last_seen() -> datetime | None:
    if has_app_context():
        bind(current_app)
    try:
        value = huey.storage.peek_data(HEARTBEAT_KEY)
    except Exception:  # a queue that cannot be read: no consumer seen
        log.exception("reading the consumer heartbeat")
        return None
    if value is EmptyData or value is None:
        return None
    return datetime.fromtimestamp(float(value), timezone.utc).replace(tzinfo=None)


# ---------------------------------------------------------------------------------------------
# Registering and starting jobs


@dataclass
class Registered:
    wrapper: object  # huey's TaskWrapper
    on_failure: Callable[..., None] | None


_TASKS: dict[str, Registered] = {}


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _task_app() -> Flask:
    if has_app_context():  # immediate mode: in the request's process
        return current_app._get_current_object()
    if _consumer_app is None:
        raise RuntimeError("no app: the consumer is started through worker.py")
    return _consumer_app


def job_task(name: str, on_failure: Callable[..., None] | None = None):
    """Register `work(progress, result, **arguments) -> message` as the huey task `name`.
    `result` is the path (without suffix) where the job may write its file. `on_failure(**arguments)`
    undoes what the area holds for the job (a claimed import batch) when it fails for good."""

    def decorator(work: Callable[..., str]):
        def task(job_id: int, **arguments) -> None:
            with _task_app().app_context():
                _run(job_id, work, on_failure, arguments)

        task.__name__ = task.__qualname__ = name.replace(".", "_")
        wrapper = huey.task(name=name)(task)
        _TASKS[name] = Registered(wrapper, on_failure)
        return wrapper

    return decorator


class TooManyJobs(Conflict):
    """The user already has JOB_MAX_ACTIVE_PER_USER jobs queued or running: answered 409."""


def _check_active_jobs(user_id: int) -> None:
    limit = current_app.config.get("JOB_MAX_ACTIVE_PER_USER", 2)
    # Two submissions at once are counted one after the other, never both let through: lock the
    # user's row (PostgreSQL), or take SQLite's one write lock with a write that changes nothing.
    if db.engine.dialect.name == "sqlite":
        db.session.execute(update(Job).where(false()).values(id=Job.id))
    else:
        users = db.metadata.tables["users"]
        db.session.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
    active = db.session.scalar(select(func.count()).select_from(Job).where(
        Job.user_id == user_id, Job.status.in_(("queued", "running"))))
    if active >= limit:
        db.session.rollback()  # lets the lock go, and what the request claimed (an import batch)
        raise TooManyJobs(f"您已有 {active} 个任务正在排队或进行中，每人同时最多 {limit} 个。"
                          "请等前面的任务完成后再提交（进度见各任务页面）。")


def start_job(kind: str, title: str, user_id: int, task: str, /, **arguments) -> Job:
    """Add the job row, commit it, and queue the named task with its JSON arguments. Raises
    TooManyJobs (409, a Chinese message) when the user has JOB_MAX_ACTIVE_PER_USER jobs already."""
    registered = _TASKS[task]
    _check_active_jobs(user_id)
    job = Job(kind=kind, title=title, user_id=user_id, task=task, status="queued",
              arguments=json.dumps(arguments, ensure_ascii=False))  # refuses anything but JSON
    db.session.add(job)
    db.session.flush()
    message = registered.wrapper.s(job.id, **arguments)
    job.task_id = message.id
    db.session.commit()  # before enqueueing: the consumer (or immediate mode) reads the row
    bind(current_app)
    huey.enqueue(message)
    db.session.refresh(job)
    return job


class Progress:
    """Handed to the work function: report how far it is."""

    def __init__(self, job_id: int):
        self.job_id = job_id
        self._beat = 0.0

    def __call__(self, done: int, total: int, message: str = "") -> None:
        db.session.execute(
            update(Job).where(Job.id == self.job_id, Job.status == "running")
            .values(done=done, total=total, message=message, updated_at=utcnow())
        )
        db.session.commit()
        if time.monotonic() - self._beat > 10:  # a busy consumer is a live one
            self._beat = time.monotonic()
            touch_heartbeat()


def _finish(job_id: int, attempt: int, **values) -> int:
    now = utcnow()
    return db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
        .values(updated_at=now, finished_at=now, **values)
    ).rowcount


def _run(job_id: int, work, on_failure, arguments: dict) -> None:
    # Claim the row: a job already taken, done or failed is not run again.
    claimed = db.session.execute(
        update(Job).where(Job.id == job_id, Job.status == "queued")
        .values(status="running", attempts=Job.attempts + 1, worker=_worker_name(), updated_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        log.warning("job %s is not queued any more: not run again", job_id)
        return
    if not huey.immediate:
        touch_heartbeat()
    attempt = db.session.scalar(select(Job.attempts).where(Job.id == job_id))
    result = storage_dir() / f"job-{job_id}"
    try:
        message = work(Progress(job_id), result, **arguments)
    except Exception:  # a failed job must say so, not hang at "running"
        current_app.logger.error("job %s failed:\n%s", job_id, traceback.format_exc())
        db.session.rollback()
        if _finish(job_id, attempt, status="failed", message=FAILED) and on_failure is not None:
            on_failure(**arguments)
        db.session.commit()
    else:
        # What the work wrote and "done" in one transaction: all or nothing, never twice.
        if _finish(job_id, attempt, status="done", message=message, result_path=str(result), done=Job.total):
            db.session.commit()
        else:
            db.session.rollback()
            log.warning("job %s was taken from this worker: its work is not kept", job_id)


# ---------------------------------------------------------------------------------------------
# Jobs whose worker died


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: dead all the same
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _worker_dead(job: Job, now: datetime) -> bool:
    host, _, pid = (job.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _pid_alive(int(pid))
    return now - job.updated_at > STALE_AFTER


def _requeue(job: Job, condition, message: str = INTERRUPTED) -> bool:
    registered = _TASKS[job.task]
    task = registered.wrapper.s(job.id, **json.loads(job.arguments or "{}"))
    moved = db.session.execute(
        update(Job).where(Job.id == job.id, condition)
        .values(status="queued", worker=None, task_id=task.id, message=message, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    if moved:
        huey.enqueue(task)
    return bool(moved)


def recover_interrupted() -> int:
    """Run again (or fail, after MAX_ATTEMPTS) the jobs of dead workers; queue again the tasks
    lost between the queue and the claim. Returns how many jobs it touched."""
    bind(current_app)
    now = utcnow()
    touched = 0
    for job in db.session.scalars(select(Job).where(Job.status == "running")).all():
        if not _worker_dead(job, now):
            continue
        still = (Job.status == "running") & (Job.worker == job.worker) & (Job.attempts == job.attempts)
        if job.attempts < MAX_ATTEMPTS and job.task in _TASKS:
            touched += _requeue(job, still)
            continue
        failed = db.session.execute(update(Job).where(Job.id == job.id, still).values(
            status="failed", message=GAVE_UP, updated_at=now, finished_at=now)).rowcount
        registered = _TASKS.get(job.task)
        if failed and registered and registered.on_failure:
            registered.on_failure(**json.loads(job.arguments or "{}"))
        db.session.commit()
        touched += failed
    lost = db.session.scalars(select(Job).where(Job.status == "queued", Job.updated_at < now - LOST_AFTER)).all()
    if lost:
        pending = {task.id for task in huey.pending()}
        for job in lost:
            if job.task in _TASKS and job.task_id not in pending:
                touched += _requeue(job, (Job.status == "queued") & (Job.task_id == job.task_id), job.message)
    return touched


# ---------------------------------------------------------------------------------------------
# Periodic work: what the consumer does by itself


def periodic(name: str, schedule):
    """A periodic task run in the consumer's app, e.g. `@periodic("rules.daily", crontab(hour=18))`.
    huey's crontab is in UTC: hour 18 is 02:00 in Beijing."""

    def decorator(fn: Callable[[], None]):
        def task() -> None:
            with _task_app().app_context():
                fn()

        task.__name__ = task.__qualname__ = name.replace(".", "_")
        return huey.periodic_task(schedule, name=name)(task)

    return decorator


def clean_job_files(now: float | None = None) -> int:
    """Delete job files and uploads older than JOB_FILES_DAYS: batch PDFs hold names and full ID
    numbers. Returns how many files went."""
    cutoff = (now or time.time()) - 86400 * float(current_app.config.get("JOB_FILES_DAYS", 7))
    removed = 0
    for path in storage_dir().rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another server's clean-up was quicker
            pass
    return removed


@periodic("core.cleanup_job_files", crontab(hour="19", minute="17"))  # huey's clock is UTC: 03:17 in Beijing
def cleanup_job_files() -> None:
    removed = clean_job_files()
    log.info("removed %s job files past retention", removed)


@periodic("core.watch_jobs", crontab(minute="*"))
def watch_jobs() -> None:
    touch_heartbeat()
    recover_interrupted()


@huey.on_startup("guanai.startup")
def on_consumer_startup() -> None:
    with _task_app().app_context():
        bind(current_app)
        touch_heartbeat()
        recover_interrupted()


def own_job_or_404(job_id: int, kind: str) -> Job:
    """The signed-in user's job of this kind; someone else's looks the same as none (404)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != kind or job.user_id != current_user.id:
        abort(404)
    return job


def pdf_download(job: Job, download_name: str):
    """A finished batch print's PDF, never cached (it holds names); 404 before it is done, 410 after
    the daily clean-up removed it."""
    if job.status != "done" or not job.result_path:
        abort(404)
    path = Path(f"{job.result_path}.pdf")
    if not path.is_file():
        return file_expired_response()
    response = send_file(path, mimetype="application/pdf", as_attachment=True, download_name=download_name,
                         max_age=0)
    response.headers["Cache-Control"] = "no-store"
    return response


def file_expired_response():
    """A job's file gone past retention: 410 with a message, not a 500."""
    days = current_app.config.get("JOB_FILES_DAYS", 7)
    return render_error(410, "文件已过期删除",
                        f"这份文件已超过保存期限（{days} 天），按规定已删除：档案中有姓名和身份证号，不长期保存。"
                        "请重新生成。")
