"""Pairings (结对帮扶): the rules for making and ending one, and the figures every page of this
area shares (how many activities in a month, the last one, whether the promise was kept).

Rules (each broken one is a message in Chinese naming its field):
- the volunteer is active and has room (capacity: her open pairings);
- no second open pairing of the same volunteer and child;
- the child is on the roll (children/services.py ensure_open: 409 otherwise);
- the start is not after today; the planned end and the end are not before it, nor the end before
  the last activity logged; dates within the calendar.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select

from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import NEED_CATEGORIES, PAIRING_END_REASONS, PROGRAMMES
from blueprints.volunteers.models import Pairing, PairingActivity, PairingNeed, Volunteer
from extensions import db


class PairingError(FieldErrors):
    """A pairing the rules refuse: {field: message}."""


def open_count(volunteer_id: int) -> int:
    return db.session.scalar(select(func.count(Pairing.id)).where(
        Pairing.volunteer_id == volunteer_id, Pairing.ended_on.is_(None))) or 0


def open_counts(volunteer_ids) -> dict[int, int]:
    rows = db.session.execute(select(Pairing.volunteer_id, func.count(Pairing.id))
                              .where(Pairing.volunteer_id.in_(list(volunteer_ids)), Pairing.ended_on.is_(None))
                              .group_by(Pairing.volunteer_id))
    return dict(rows.all())


def lock_volunteer(volunteer: Volunteer) -> None:
    """Lock her row until the transaction ends and read it afresh (her capacity, whether she is
    active), so that a change counted against her open pairings is counted as the last writer left
    them. A plain select: refresh() would bring the page's joined loads, and PostgreSQL refuses
    FOR UPDATE on the nullable side of an outer join."""
    db.session.execute(select(Volunteer).where(Volunteer.id == volunteer.id).with_for_update(of=Volunteer)
                       .execution_options(populate_existing=True))


def check_pairing(child: Child, volunteer: Volunteer, values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    if values.get("programme") not in PROGRAMMES:
        errors["programme"] = "结对项目：请从列表中选择"
    if not (values.get("goals") or "").strip():
        errors["goals"] = "帮扶目标：请写明这次结对希望为孩子带来什么改变"
    times = values.get("times_per_month")
    if not isinstance(times, int) or not 1 <= times <= 8:
        errors["times_per_month"] = "约定频次：请填写每月 1 到 8 次"
    started, planned = values.get("started_on"), values.get("planned_end_on")
    if not isinstance(started, date):
        errors["started_on"] = "开始日期：请填写日期"
    elif started > local_today():
        errors["started_on"] = "开始日期：不能晚于今天（结对从建立的那天或更早开始）"
    elif planned is not None and planned < started:
        errors["planned_end_on"] = f"计划结束日期：不能早于开始日期 {started:%Y-%m-%d}"
    if not volunteer.active:
        errors["volunteer_id"] = f"志愿者：{volunteer.name} 已停用，不能新建结对"
    elif db.session.scalar(select(Pairing.id).where(Pairing.volunteer_id == volunteer.id, Pairing.child_id == child.id,
                                                    Pairing.ended_on.is_(None))):
        errors["volunteer_id"] = f"志愿者：{volunteer.name} 与 {child.name} 已有一个进行中的结对，不能重复结对"
    else:
        taken = open_count(volunteer.id)
        if taken >= volunteer.capacity:
            errors["volunteer_id"] = (f"志愿者：{volunteer.name} 最多结对 {volunteer.capacity} 名儿童，现已结对 {taken} 名。"
                                      "请另选志愿者，或先结束她的一个结对，或在志愿者信息里调高可结对人数")
    unknown = [n for n in values.get("needs", ()) if n not in NEED_CATEGORIES]
    if unknown:
        errors["needs"] = "针对的需求：请从列表中选择"
    return errors


def create_pairing(child: Child, volunteer: Volunteer, values: dict, *, actor) -> Pairing:
    """values: programme, started_on, planned_end_on, goals, times_per_month, needs (codes)."""
    ensure_open(child)
    # Two managers pairing the same volunteer at once (or one lowering her capacity): the second
    # waits, then reads her row and her pairings as the first left them (PostgreSQL; SQLite writes
    # one at a time anyway and ignores FOR UPDATE).
    lock_volunteer(volunteer)
    errors = check_pairing(child, volunteer, values)
    if errors:
        raise PairingError(errors)
    pairing = Pairing(
        programme=values["programme"], child_id=child.id, volunteer_id=volunteer.id,
        started_on=values["started_on"], planned_end_on=values.get("planned_end_on"),
        goals=values["goals"].strip(), times_per_month=values["times_per_month"],
        need_rows=[PairingNeed(category=n) for n in dict.fromkeys(values.get("needs", ()))],
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(pairing)
    db.session.flush()
    audit.record("pairing_created", pairing, detail=f"{PROGRAMMES[pairing.programme]}：{volunteer.name} — {child.name}",
                 user=actor)
    return pairing


def end_pairing(pairing: Pairing, ended_on: date | None, reason: str | None, note: str | None, *, actor) -> None:
    errors = {}
    if pairing.ended_on is not None:
        errors["ended_on"] = f"结束日期：这个结对已于 {pairing.ended_on:%Y-%m-%d} 结束"
    elif not isinstance(ended_on, date):
        errors["ended_on"] = "结束日期：请填写日期"
    elif ended_on < pairing.started_on:
        errors["ended_on"] = f"结束日期：不能早于开始日期 {pairing.started_on:%Y-%m-%d}"
    elif (last := db.session.scalar(select(func.max(PairingActivity.done_on))
                                    .where(PairingActivity.pairing_id == pairing.id))) and ended_on < last:
        errors["ended_on"] = f"结束日期：不能早于最后一次活动 {last:%Y-%m-%d}"
    if reason not in PAIRING_END_REASONS:
        errors["end_reason"] = "结束原因：请从列表中选择"
    if errors:
        raise PairingError(errors)
    pairing.ended_on, pairing.end_reason, pairing.end_note = ended_on, reason, (note or "").strip() or None
    audit.record("pairing_ended", pairing, detail=f"{PAIRING_END_REASONS[reason]}", user=actor)


def _end_all(where, on: date, reason: str, actor) -> int:
    """End the open pairings `where` selects on `on` (never before they started, nor before their
    last activity); returns how many."""
    pairings = db.session.scalars(select(Pairing).where(where, Pairing.ended_on.is_(None))).all()
    last = last_activities(p.id for p in pairings)
    for pairing in pairings:
        pairing.ended_on = max(on, pairing.started_on, last.get(pairing.id, on))
        pairing.end_reason = reason
        audit.record("pairing_ended", pairing, detail=PAIRING_END_REASONS[reason], user=actor)
    return len(pairings)


def end_with_child(child: Child, on: date, actor) -> None:
    """The child left the roll: her open pairings end that day, and her volunteers' places are
    free again (the exit hook of the volunteers area)."""
    _end_all(Pairing.child_id == child.id, on, "child_exited", actor)


def end_open_pairings(volunteer: Volunteer, reason: str, *, actor) -> int:
    """The volunteer leaves: her open pairings end today, and her children count as unpaired."""
    return _end_all(Pairing.volunteer_id == volunteer.id, local_today(), reason, actor)


# --- the figures --------------------------------------------------------------------------------

def month_bounds(day: date) -> tuple[date, date]:
    """The first and the last day of `day`'s month."""
    first = day.replace(day=1)
    return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)


@dataclass(frozen=True)
class Tally:
    count: int = 0
    minutes: int = 0


def tallies(pairing_ids, start: date, end: date) -> dict[int, Tally]:
    """Activities and minutes per pairing from `start` to `end` (both included): one query."""
    ids = list(pairing_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(PairingActivity.pairing_id, func.count(PairingActivity.id), func.coalesce(func.sum(PairingActivity.minutes), 0))
        .where(PairingActivity.pairing_id.in_(ids), PairingActivity.done_on.between(start, end))
        .group_by(PairingActivity.pairing_id))
    return {pairing_id: Tally(count, int(minutes)) for pairing_id, count, minutes in rows}


def last_activities(pairing_ids) -> dict[int, date]:
    ids = list(pairing_ids)
    if not ids:
        return {}
    rows = db.session.execute(select(PairingActivity.pairing_id, func.max(PairingActivity.done_on))
                              .where(PairingActivity.pairing_id.in_(ids)).group_by(PairingActivity.pairing_id))
    return dict(rows.all())


def promise_due(pairing: Pairing, start: date, end: date) -> int:
    """How many activities the pairing promised from `start` to `end` (one month): the promised
    frequency, or none for a month the pairing did not cover in full (it started after the first
    or ended before the last day: a part of a month is not held against anyone)."""
    if pairing.started_on > start or (pairing.ended_on is not None and pairing.ended_on < end):
        return 0
    return pairing.times_per_month
