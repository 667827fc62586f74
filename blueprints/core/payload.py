"""Checking the JSON a phone sends (the offline outbox's records, their plain-form twins): the field
checks every area's parser uses. Errors are {field: message} in Chinese, naming the fix. JSON can
hold anything where a word is expected (a list, a number, a string with NUL in it): every value is
checked for its type first, and text is cleaned of control characters (core/text.py) before its
length is counted."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from blueprints.core.clock import LOCAL_TZ
from blueprints.core.inputs import LAST_YEAR
from blueprints.core.text import clean_text

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EARLIEST = date(2000, 1, 1)  # the phones' records: nothing older is recorded offline


def truthy(value) -> bool:
    return value in (True, 1, "1", "true", "on", "y", "yes")


def text_field(payload: dict, field: str, label: str, limit: int, errors: dict, *, multiline: bool = True) -> str | None:
    """A text field: absent or empty gives None; anything but a string is refused."""
    raw = payload.get(field)
    if raw is None:
        return None
    if not isinstance(raw, str):
        errors[field] = f"{label}应为文字"
        return None
    text = clean_text(raw, multiline=multiline).strip()
    if len(text) > limit:
        errors[field] = f"{label}最多 {limit} 个字，请删减"
    return text or None


def choice_field(payload: dict, field: str, choices: dict, errors: dict, message: str, required: bool = False):
    """A code from `choices`; absent or empty gives None (an error when `required`)."""
    value = payload.get(field)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or value not in choices:
        errors[field] = message
        return None
    return value


def date_field(payload: dict, field: str, label: str, errors: dict, required: bool = False,
          today: date | None = None) -> date | None:
    """An ISO date from EARLIEST to the end of LAST_YEAR; not after `today` when it is given."""
    raw = payload.get(field)
    if raw in (None, ""):
        if required:
            errors[field] = f"请填写{label}"
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError
        value = date.fromisoformat(raw)
    except ValueError:
        errors[field] = f"{label}格式不对，应为 2026-03-02 这样的日期"
        return None
    if value < EARLIEST:
        errors[field] = f"{label}太早了，请核对年份"
        return None
    if today is not None and value > today:
        errors[field] = f"{label}不能晚于今天"
        return None
    if value.year > LAST_YEAR:
        errors[field] = f"{label}太晚了，请核对年份"
        return None
    return value


def timestamp_field(payload: dict, field: str, label: str, errors: dict) -> datetime | None:
    """ISO 8601 with its offset, as the phone sends it (JavaScript's toISOString: UTC, "Z"), as naive UTC."""
    raw = payload.get(field)
    if raw in (None, ""):
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        errors[field] = f"{label}格式不对"
        return None
    if not EARLIEST.year <= stamp.year <= LAST_YEAR:  # near year 1 or 9999 the shift to UTC overflows
        errors[field] = f"{label}不在合理的年份内，请核对手机的日期"
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=LOCAL_TZ)
    return stamp.astimezone(timezone.utc).replace(tzinfo=None)


def check_uuid(payload: dict, errors: dict) -> str | None:
    """The record's client_uuid, strictly (nothing before or after it), in lowercase: the one form
    it is stored in, so that the same uuid sent twice is found again."""
    value = payload.get("client_uuid")
    if not isinstance(value, str) or not _UUID.fullmatch(value):
        errors["client_uuid"] = "缺少记录编号（client_uuid），请刷新页面后重新提交"
        return None
    return value.lower()
