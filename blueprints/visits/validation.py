"""Checking a visit or a parent contact as a phone sends it (JSON from the outbox, or the same fields
from a plain form post), with the field checks every offline record shares (core/payload.py).
Errors are {field: message} in Chinese, naming the fix."""
from __future__ import annotations

from datetime import date

from blueprints.core.clock import local_today
from blueprints.core.inputs import as_id
from blueprints.core.payload import choice_field, date_field, text_field, timestamp_field, truthy
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import CONTACT_METHODS, HAZARDS, MENTAL_STATES, NEED_ALIASES, NEED_CATEGORIES, VISIT_KINDS

TEXT_FIELDS = {
    "living_conditions": ("居住情况", 1000), "hazard_note": ("隐患说明", 200), "study": ("学习情况", 1000),
    "health": ("健康情况", 1000), "mental_note": ("心理状况说明", 1000), "guardianship": ("监护和照护情况", 1000),
    "concern_note": ("网络和社会保护情况", 1000), "needs_note": ("需求说明", 1000),
    "follow_up_note": ("跟进事项", 1000),
}
BOOL_FIELDS = [*HAZARDS, "internet_concern", "social_concern", "follow_up_needed"]


def check_child_id(payload: dict, errors: dict) -> int | None:
    child_id = as_id(payload.get("child_id"))
    if child_id is None:
        errors["child_id"] = "请选择走访的儿童"
    return child_id


def check_reason(payload: dict, errors: dict) -> str | None:
    """Why a visit is corrected: required, at most 500 characters."""
    reason = text_field(payload, "correction_reason", "更正原因", 500, errors)
    if reason is None and "correction_reason" not in errors:
        errors["correction_reason"] = "请说明更正的原因"
    return reason


def parse_visit(payload: dict, today: date | None = None) -> tuple[dict, list[str], dict]:
    """(Visit column values, need codes, errors)."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values: dict = {}
    values["visited_on"] = visited_on = date_field(payload, "visited_on", "走访日期", errors, required=True, today=today)
    values["kind"] = choice_field(payload, "kind", VISIT_KINDS, errors, "请选择走访方式：入户、电话、在校或其他",
                             required=True)
    for field, (label, limit) in TEXT_FIELDS.items():
        values[field] = text_field(payload, field, label, limit, errors)
    for field in BOOL_FIELDS:
        values[field] = truthy(payload.get(field))
    values["mental_state"] = choice_field(payload, "mental_state", MENTAL_STATES, errors,
                                     "心理状况请选择：良好、一般或需要关注")
    contacted = payload.get("parents_contacted")
    values["parents_contacted"] = None if contacted in (None, "") else truthy(contacted)
    values["parents_contacted_on"] = date_field(payload, "parents_contacted_on", "父母联系日期", errors, today=today)
    values["parents_contact_method"] = choice_field(payload, "parents_contact_method", CONTACT_METHODS, errors,
                                               "联系方式请选择：电话、视频或回家探望")
    values["next_visit_on"] = date_field(payload, "next_visit_on", "下次走访日期", errors)
    if values["next_visit_on"] and visited_on and values["next_visit_on"] < visited_on:
        errors["next_visit_on"] = "下次走访日期不能早于这次走访"
    values["recorded_at"] = timestamp_field(payload, "recorded_at", "记录时间", errors)
    needs = payload.get("needs") or []
    if not isinstance(needs, list):
        needs = [needs]  # one code alone
    needs = [NEED_ALIASES.get(n, n) if isinstance(n, str) else n for n in needs]  # a phone's older codes
    unknown = [n for n in needs if not isinstance(n, str) or n not in NEED_CATEGORIES]
    if unknown:
        shown = [clean_text(n)[:20] if isinstance(n, str) else "（不是文字）" for n in unknown[:5]]
        errors["needs"] = "需求类别不认识：" + "、".join(shown)
    return values, [n for n in needs if isinstance(n, str) and n in NEED_CATEGORIES], errors


def parse_contact(payload: dict, today: date | None = None) -> tuple[dict, dict]:
    today = today or local_today()
    errors: dict[str, str] = {}
    contacted_on = date_field(payload, "contacted_on", "联系日期", errors, required=True, today=today)
    method = choice_field(payload, "method", CONTACT_METHODS, errors, "请选择联系方式：电话、视频或回家探望", required=True)
    who = text_field(payload, "who", "联系人", 40, errors, multiline=False) or "父母"
    note = text_field(payload, "note", "情况说明", 200, errors)
    return {"contacted_on": contacted_on, "method": method, "who": who, "note": note}, errors
