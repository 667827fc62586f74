"""Checking what a phone sends (JSON from the outbox, or the same fields from a plain form post).
Errors are {field: message} in Chinese, naming the fix. JSON can hold anything where a word is
expected (a list, a number, a string with NUL in it): every value is checked for its type first,
and text is cleaned of control characters (blueprints/core/text.py) before its length is counted."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from blueprints.core.clock import LOCAL_TZ, local_today
from blueprints.core.inputs import LAST_YEAR, as_id
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import CONTACT_METHODS, HAZARDS, MENTAL_STATES, NEED_CATEGORIES, VISIT_KINDS

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
EARLIEST = date(2000, 1, 1)
TEXT_FIELDS = {
    "living_conditions": ("居住情况", 1000), "hazard_note": ("隐患说明", 200), "study": ("学习情况", 1000),
    "health": ("健康情况", 1000), "mental_note": ("心理状况说明", 1000), "guardianship": ("监护和照护情况", 1000),
    "concern_note": ("网络和社会保护情况", 1000), "needs_note": ("需求说明", 1000),
    "follow_up_note": ("跟进事项", 1000),
}
BOOL_FIELDS = [*HAZARDS, "internet_concern", "social_concern", "follow_up_needed"]


def _truthy(value) -> bool:
    return value in (True, 1, "1", "true", "on", "y", "yes")


def _text(payload: dict, field: str, label: str, limit: int, errors: dict, *, multiline: bool = True) -> str | None:
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


def _choice(payload: dict, field: str, choices: dict, errors: dict, message: str, required: bool = False):
    """A code from `choices`; absent or empty gives None (an error when `required`)."""
    value = payload.get(field)
    if value in (None, "") and not required:
        return None
    if not isinstance(value, str) or value not in choices:
        errors[field] = message
        return None
    return value


def _date(payload: dict, field: str, label: str, errors: dict, required: bool = False,
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


def _timestamp(payload: dict, field: str, label: str, errors: dict) -> datetime | None:
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


def check_child_id(payload: dict, errors: dict) -> int | None:
    child_id = as_id(payload.get("child_id"))
    if child_id is None:
        errors["child_id"] = "请选择走访的儿童"
    return child_id


def check_reason(payload: dict, errors: dict) -> str | None:
    """Why a visit is corrected: required, at most 500 characters."""
    reason = _text(payload, "correction_reason", "更正原因", 500, errors)
    if reason is None and "correction_reason" not in errors:
        errors["correction_reason"] = "请说明更正的原因"
    return reason


def parse_visit(payload: dict, today: date | None = None) -> tuple[dict, list[str], dict]:
    """(Visit column values, need codes, errors)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values: dict = {}
    values["visited_on"] = visited_on = _date(payload, "visited_on", "走访日期", errors, required=True, today=today)
    values["kind"] = _choice(payload, "kind", VISIT_KINDS, errors, "请选择走访方式：入户、电话、在校或其他",
                             required=True)
    for field, (label, limit) in TEXT_FIELDS.items():
        values[field] = _text(payload, field, label, limit, errors)
    for field in BOOL_FIELDS:
        values[field] = _truthy(payload.get(field))
    values["mental_state"] = _choice(payload, "mental_state", MENTAL_STATES, errors,
                                     "心理状况请选择：良好、一般或需要关注")
    contacted = payload.get("parents_contacted")
    values["parents_contacted"] = None if contacted in (None, "") else _truthy(contacted)
    values["parents_contacted_on"] = _date(payload, "parents_contacted_on", "父母联系日期", errors, today=today)
    values["parents_contact_method"] = _choice(payload, "parents_contact_method", CONTACT_METHODS, errors,
                                               "联系方式请选择：电话、视频或回家探望")
    values["next_visit_on"] = _date(payload, "next_visit_on", "下次走访日期", errors)
    if values["next_visit_on"] and visited_on and values["next_visit_on"] < visited_on:
        errors["next_visit_on"] = "下次走访日期不能早于这次走访"
    values["recorded_at"] = _timestamp(payload, "recorded_at", "记录时间", errors)
    needs = payload.get("needs") or []
    if not isinstance(needs, list):
        needs = [needs]  # one code alone
    unknown = [n for n in needs if not isinstance(n, str) or n not in NEED_CATEGORIES]
    if unknown:
        shown = [clean_text(n)[:20] if isinstance(n, str) else "（不是文字）" for n in unknown[:5]]
        errors["needs"] = "需求类别不认识：" + "、".join(shown)
    return values, [n for n in needs if isinstance(n, str) and n in NEED_CATEGORIES], errors


def parse_contact(payload: dict, today: date | None = None) -> tuple[dict, dict]:
    today = today or local_today()
    errors: dict[str, str] = {}
    contacted_on = _date(payload, "contacted_on", "联系日期", errors, required=True, today=today)
    method = _choice(payload, "method", CONTACT_METHODS, errors, "请选择联系方式：电话、视频或回家探望", required=True)
    who = _text(payload, "who", "联系人", 40, errors, multiline=False) or "父母"
    note = _text(payload, "note", "情况说明", 200, errors)
    return {"contacted_on": contacted_on, "method": method, "who": who, "note": note}, errors
