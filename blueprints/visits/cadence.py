"""Visit cadence (DOMAIN.md "Rules"): a key child at least once a month, any other child at least
once a quarter, counted from the last visit; a child never visited is due from registration."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app

DEFAULT_CADENCE_MONTHS = {"key": 1, "general": 3}
BUCKETS = {
    "overdue": "已逾期",
    "due_this_week": "本周到期",
    "done_this_month": "本月已走访",
    "later": "以后到期",
}


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def cadence_months() -> dict[str, int]:
    return current_app.config.get("VISIT_CADENCE_MONTHS", DEFAULT_CADENCE_MONTHS)


def due_on(last_visit: date | None, registered_on: date, attention: str, cadence: dict | None = None) -> date:
    if last_visit is None:
        return registered_on
    return add_months(last_visit, (cadence or cadence_months()).get(attention, 3))


def end_of_week(today: date) -> date:
    return today + timedelta(days=6 - today.weekday())  # Sunday


@dataclass(frozen=True)
class Due:
    due: date
    bucket: str
    days: int  # days until due; negative when overdue


def classify(last_visit: date | None, registered_on: date, attention: str, today: date,
             cadence: dict | None = None) -> Due:
    due = due_on(last_visit, registered_on, attention, cadence)
    if due < today:
        bucket = "overdue"
    elif due <= end_of_week(today):
        bucket = "due_this_week"
    elif last_visit is not None and (last_visit.year, last_visit.month) == (today.year, today.month):
        bucket = "done_this_month"
    else:
        bucket = "later"
    return Due(due=due, bucket=bucket, days=(due - today).days)


def month_bounds(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
