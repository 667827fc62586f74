"""The volunteer's activity log: checking what her phone sends (JSON from the outbox, or the same
fields from the form posted without script) and recording it once per client_uuid, through the
one offline contract (blueprints/core/offline.py).

Rules, each broken one a message in Chinese naming its field (422):
- the date is a real date, not after today (Beijing), not before the pairing started and not
  after it ended (an ended pairing stays in her reach for 30 days to log what was still missing);
- minutes from 1 to 600; a kind of ACTIVITY_KINDS; what was done is written;
- the child is still on the roll (children/services.py ensure_open: 409 child_exited otherwise).
"""
from __future__ import annotations

from datetime import date

from blueprints.children.services import ChildExited, ensure_open
from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.inputs import as_id
from blueprints.core.offline import Outcome, fingerprint, store_once
from blueprints.core.vocabulary import ACTIVITY_KINDS
# The offline forms' field checks (types first, control characters out): one set for every record
# type the phones send.
from blueprints.core.payload import choice_field, date_field, text_field, timestamp_field
from blueprints.volunteers.models import Pairing, PairingActivity
from extensions import db

MINUTES_MIN, MINUTES_MAX = 1, 600
TEXTS = {  # field: (label, most characters)
    "note": ("活动内容", 1000),
    "mood": ("孩子的状态", 500),
    "pass_on": ("需转告儿童主任的事", 500),
}
KIND_MESSAGE = "活动方式：请选择" + "、".join(ACTIVITY_KINDS.values())
PAIRING_MESSAGE = "结对儿童：请选择这次活动的结对儿童"


def check_pairing_id(payload: dict, errors: dict) -> int | None:
    pairing_id = as_id(payload.get("pairing_id"))
    if pairing_id is None:
        errors["pairing_id"] = PAIRING_MESSAGE
    return pairing_id


def _minutes(payload: dict, errors: dict) -> int | None:
    raw = payload.get("minutes")
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 4:
        raw = int(raw.strip())
    if type(raw) is not int or not MINUTES_MIN <= raw <= MINUTES_MAX:  # a bool is not a number of minutes
        errors["minutes"] = f"活动时长：请填写 {MINUTES_MIN} 到 {MINUTES_MAX} 之间的分钟数"
        return None
    return raw


def parse_activity(payload: dict, today: date | None = None) -> tuple[dict, dict]:
    """(PairingActivity column values, errors) of what the phone or the form sent."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values = {
        "done_on": date_field(payload, "done_on", "活动日期", errors, required=True, today=today),
        "minutes": _minutes(payload, errors),
        "kind": choice_field(payload, "kind", ACTIVITY_KINDS, errors, KIND_MESSAGE, required=True),
    }
    for field, (label, limit) in TEXTS.items():
        values[field] = text_field(payload, field, label, limit, errors)
    if values["note"] is None and "note" not in errors:
        errors["note"] = "活动内容：请写明这次和孩子一起做了什么"
    values["recorded_at"] = timestamp_field(payload, "recorded_at", "记录时间", errors)
    return values, errors


def check_dates(pairing: Pairing, values: dict, errors: dict) -> None:
    """The date within the pairing: from its start to its end."""
    done_on = values.get("done_on")
    if done_on is None or "done_on" in errors:
        return
    if done_on < pairing.started_on:
        errors["done_on"] = f"活动日期：不能早于结对开始日期 {pairing.started_on:%Y-%m-%d}"
    elif pairing.ended_on is not None and done_on > pairing.ended_on:
        errors["done_on"] = (f"活动日期：这个结对已于 {pairing.ended_on:%Y-%m-%d} 结束，"
                             "只能补记结束之前的活动")


def record_activity(pairing: Pairing, values: dict, client_uuid: str, *, actor) -> Outcome:
    """Stored once per client_uuid: a replay (same volunteer, pairing and body) gets the stored
    activity, anything else under that uuid a conflict. A new activity for a child who has left the
    roll raises ChildExited (409) once it is known not to be a replay, unless it was done before she
    left (the 30 days after a pairing ends are for what was still missing). The message names no
    exit reason: that is the child's file, not the volunteer's."""
    # Loaded before the savepoint: a read inside it would pin SQLite's snapshot, and a writer that
    # committed meanwhile would then make the insert fail at once instead of waiting its turn.
    child = pairing.child

    def build() -> PairingActivity:
        try:
            ensure_open(child, on=values["done_on"])
        except ChildExited as exited:
            exited.message = "结对儿童：这名儿童已不在关爱名册上，这个日期不能再记录活动。"
            raise
        activity = PairingActivity(pairing_id=pairing.id, child_id=pairing.child_id, recorded_by_id=actor.id,
                                   **values)
        db.session.add(activity)
        return activity

    outcome = store_once(PairingActivity, client_uuid, owner_field="recorded_by_id", owner_id=actor.id,
                         child_id=pairing.child_id, fingerprint=fingerprint(pairing.child_id, {**values, "pairing_id": pairing.id}),
                         build=build)
    if outcome.created:
        audit.record("activity_logged", outcome.record,
                     detail=f"{child.name} {values['done_on']:%Y-%m-%d} {values['minutes']} 分钟", user=actor)
    return outcome
