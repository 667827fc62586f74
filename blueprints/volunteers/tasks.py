"""The area's background work as named huey tasks (blueprints/core/jobs.py runs them): the batch
print of pairing records. Arguments are JSON; the task builds what it needs from the database."""
from __future__ import annotations

from pathlib import Path

from blueprints.auth.models import User
from blueprints.children.printing import Printer
from blueprints.core.jobs import job_task
from blueprints.volunteers import printing
from extensions import db

PRINT_TASK = "volunteers.print_pairings"


@job_task(PRINT_TASK)
def print_pairings(progress, result: Path, *, pairing_ids: list[int], programme: str, year: int, user_id: int) -> str:
    user = db.session.get(User, user_id)
    printer = Printer.for_user(user)
    span = printing.Year(year)
    count = printing.write_records(pairing_ids, printer, span, Path(f"{result}.pdf"), progress)
    user = db.session.get(User, user_id)  # printing let go of every loaded object
    printing.record_batch(count, programme, span, f"任务 {progress.job_id}", user=user)
    return f"已生成 {count} 份结对帮扶记录表。"
