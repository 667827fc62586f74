"""Checking what a phone sends (JSON from the outbox, or the same fields from a plain form post).
Errors are {field: message} in Chinese, naming the fix."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from blueprints.core.clock import LOCAL_TZ, local_today
from blueprints.core.vocabulary import CONTACT_METHODS, HAZARDS, MENTAL_STATES, NEED_CATEGORIES, VISIT_KINDS

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
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


def _date(payload: dict, field: str, label: str, errors: dict, required: bool = False) -> date | None:
    raw = payload.get(field)
    if raw in (None, ""):
        if required:
            errors[field] = f"请填写{label}"
        return None
    try:
        value = date.fromisoformat(str(raw))
    except ValueError:
        errors[field] = f"{label}格式不对，应为 2026-03-02 这样的日期"
        return None
    if value < EARLIEST:
        errors[field] = f"{label}太早了，请核对年份"
    return value


def check_uuid(payload: dict, errors: dict) -> str | None:
    value = str(payload.get("client_uuid") or "")
    if not _UUID.match(value):
        errors["client_uuid"] = "缺少记录编号（client_uuid），请刷新页面后重新提交"
        return None
    return value.lower()


def check_child_id(payload: dict, errors: dict) -> int | None:
    raw = payload.get("child_id")
    try:
        return int(raw)
    except (TypeError, ValueError):
        errors["child_id"] = "请选择走访的儿童"
        return None


def parse_visit(payload: dict, today: date | None = None) -> tuple[dict, list[str], dict]:
    """(Visit column values, need codes, errors)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values: dict = {}
    visited_on = _date(payload, "visited_on", "走访日期", errors, required=True)
    if visited_on and visited_on > today:
        errors["visited_on"] = "走访日期不能晚于今天"
    values["visited_on"] = visited_on
    kind = payload.get("kind")
    if kind not in VISIT_KINDS:
        errors["kind"] = "请选择走访方式：入户、电话、在校或其他"
    values["kind"] = kind
    for field, (label, limit) in TEXT_FIELDS.items():
        text = str(payload.get(field) or "").strip()
        if len(text) > limit:
            errors[field] = f"{label}最多 {limit} 个字，请删减"
        values[field] = text or None
    for field in BOOL_FIELDS:
        values[field] = _truthy(payload.get(field))
    mental = payload.get("mental_state") or None
    if mental is not None and mental not in MENTAL_STATES:
        errors["mental_state"] = "心理状况请选择：良好、一般或需要关注"
    values["mental_state"] = mental
    contacted = payload.get("parents_contacted")
    values["parents_contacted"] = None if contacted in (None, "") else _truthy(contacted)
    values["parents_contacted_on"] = _date(payload, "parents_contacted_on", "父母联系日期", errors)
    if values["parents_contacted_on"] and values["parents_contacted_on"] > today:
        errors["parents_contacted_on"] = "父母联系日期不能晚于今天"
    method = payload.get("parents_contact_method") or None
    if method is not None and method not in CONTACT_METHODS:
        errors["parents_contact_method"] = "联系方式请选择：电话、视频或回家探望"
    values["parents_contact_method"] = method
    values["next_visit_on"] = _date(payload, "next_visit_on", "下次走访日期", errors)
    if values["next_visit_on"] and visited_on and values["next_visit_on"] < visited_on:
        errors["next_visit_on"] = "下次走访日期不能早于这次走访"
    values["recorded_at"] = None
    if payload.get("recorded_at"):
        try:  # the phone sends ISO 8601 with its offset (JavaScript's toISOString: UTC, "Z")
            stamp = datetime.fromisoformat(str(payload["recorded_at"]).replace("Z", "+00:00"))
            if stamp.tzinfo is None:
                stamp = stamp.replace(tzinfo=LOCAL_TZ)
            values["recorded_at"] = stamp.astimezone(timezone.utc).replace(tzinfo=None)
        except ValueError:
            errors["recorded_at"] = "记录时间格式不对"
    needs = payload.get("needs") or []
    if isinstance(needs, str):
        needs = [needs]
    unknown = [n for n in needs if n not in NEED_CATEGORIES]
    if unknown:
        errors["needs"] = "需求类别不认识：" + "、".join(map(str, unknown))
    return values, [n for n in needs if n in NEED_CATEGORIES], errors


def parse_contact(payload: dict, today: date | None = None) -> tuple[dict, dict]:
    today = today or local_today()
    errors: dict[str, str] = {}
    contacted_on = _date(payload, "contacted_on", "联系日期", errors, required=True)
    if contacted_on and contacted_on > today:
        errors["contacted_on"] = "联系日期不能晚于今天"
    method = payload.get("method")
    if method not in CONTACT_METHODS:
        errors["method"] = "请选择联系方式：电话、视频或回家探望"
    who = str(payload.get("who") or "父母").strip()
    if len(who) > 40:
        errors["who"] = "联系人最多 40 个字"
    note = str(payload.get("note") or "").strip()
    if len(note) > 200:
        errors["note"] = "情况说明最多 200 个字，请删减"
    return {"contacted_on": contacted_on, "method": method, "who": who, "note": note or None}, errors
