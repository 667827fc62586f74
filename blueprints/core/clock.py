"""Time: stored as naive UTC in the database, shown in the town's time zone (Asia/Shanghai)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def utcnow() -> datetime:
    """Naive UTC, as every timestamp column stores it (SQLite keeps no zone)."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def to_local(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc).astimezone(LOCAL_TZ)


def utc_of(value: datetime) -> datetime:
    """An aware time as the database stores it: naive UTC."""
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def local_now() -> datetime:
    """The town's time now, which local_today reads (a test that needs a given day replaces this)."""
    return datetime.now(LOCAL_TZ)


def local_today() -> date:
    return local_now().date()


def format_datetime(value: datetime | None) -> str:
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


def format_date(value: date | datetime | str | None) -> str:
    if value is None or isinstance(value, str):  # text already: a date masked by the disclosure policy
        return value or ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return value.strftime("%Y-%m-%d")
