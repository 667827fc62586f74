"""The pairing record (结对帮扶记录表): what it shows, and rendering it, one pairing or many.

As the child's archive (children/printing.py, whose Printer, page set-up and stylesheet it
shares): everything is turned into plain text before rendering, and of the child it shows only
who she is — name, age as the printer may see it, village, school — never an ID number, an
address or her family. Photos are not printed.

A single record holds every activity; a batch for a programme and a year holds, for each pairing
open at any time in that year, the activities and monthly totals of that year only.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.models import Child
from blueprints.children.printing import EMPTY, Printer
from blueprints.core import audit
from blueprints.core.clock import format_datetime, local_today
from blueprints.core.disclosure import shown_age
from blueprints.core.files import write_private
from blueprints.core.pdf import render_pdf, render_pdf_many
from blueprints.core.vocabulary import (
    ACTIVITY_KINDS,
    NEED_CATEGORIES,
    ORGANISATION_KINDS,
    PAIRING_END_REASONS,
    PROGRAMMES,
    VOLUNTEER_KINDS,
)
from blueprints.volunteers.models import Pairing, PairingActivity, Volunteer
from blueprints.volunteers.pairings import month_bounds, promise_due
from extensions import db

TEMPLATE = "print/pairing_record.html"
DOC_TITLE = "结对帮扶记录表"
CHUNK = 50  # pairings loaded at a time in a batch: a fixed number of queries each


@dataclass(frozen=True)
class Year:
    """A calendar year: the span of a batch."""

    year: int

    @property
    def first(self) -> date:
        return date(self.year, 1, 1)

    @property
    def last(self) -> date:
        return date(self.year, 12, 31)


def _day(value: date | None) -> str:
    return value.strftime("%Y-%m-%d") if value else EMPTY


def _hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}"


def record_query() -> Select:
    """A pairing with everything its record shows but the activities: a fixed number of queries."""
    return select(Pairing).options(
        joinedload(Pairing.child).joinedload(Child.residence_village),
        joinedload(Pairing.child).joinedload(Child.school),
        joinedload(Pairing.volunteer).joinedload(Volunteer.organisation),
        selectinload(Pairing.need_rows),
    )


def load_pairings(pairing_ids: Sequence[int]) -> list[Pairing]:
    """The pairings, in the order of `pairing_ids`."""
    rows = db.session.scalars(record_query().where(Pairing.id.in_(pairing_ids))
                              .execution_options(populate_existing=True)).unique().all()
    by_id = {pairing.id: pairing for pairing in rows}
    return [by_id[i] for i in pairing_ids if i in by_id]


def load_activities(pairing_ids: Sequence[int], year: Year | None = None) -> dict[int, list[PairingActivity]]:
    """The activities of the pairings (of `year` only, when given), oldest first: one query."""
    query = select(PairingActivity).where(PairingActivity.pairing_id.in_(pairing_ids)) \
        .order_by(PairingActivity.pairing_id, PairingActivity.done_on, PairingActivity.id)
    if year is not None:
        query = query.where(PairingActivity.done_on.between(year.first, year.last))
    found: dict[int, list[PairingActivity]] = {i: [] for i in pairing_ids}
    for activity in db.session.scalars(query):
        found[activity.pairing_id].append(activity)
    return found


def _months(first: date, last: date) -> list[date]:
    """The first day of every month from `first`'s to `last`'s."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = month_bounds(day)[1] + timedelta(days=1)
    return months


def monthly_totals(pairing: Pairing, activities: Sequence[PairingActivity], today: date,
                   year: Year | None = None) -> dict:
    """Every month the pairing ran (within `year`, up to today): activities, hours, what was
    promised (pairings.promise_due: a month not covered in full is not held against anyone) and
    whether it was kept; and the totals."""
    start = pairing.started_on
    end = min(pairing.ended_on or today, today)
    if year is not None:
        start, end = max(start, year.first), min(end, year.last)
    months = set(_months(start, end)) if start <= end else set()
    months |= {a.done_on.replace(day=1) for a in activities}  # whatever was logged is counted
    rows, total_count, total_minutes, total_due, kept, judged = [], 0, 0, 0, 0, 0
    for month in sorted(months):
        first, last = month_bounds(month)
        done = [a for a in activities if first <= a.done_on <= last]
        count, minutes = len(done), sum(a.minutes for a in done)
        due = promise_due(pairing, first, last)
        if due == 0:
            verdict = "不足整月，不计"
        elif count >= due:
            verdict = "达到"
        elif last >= today:
            verdict = f"本月进行中（还差 {due - count} 次）"
        else:
            verdict = f"未达到（差 {due - count} 次）"
        if due and (count >= due or last < today):
            judged += 1
            kept += count >= due
        rows.append({"month": f"{month:%Y-%m}", "count": count, "hours": _hours(minutes),
                     "due": due if due else EMPTY, "verdict": verdict, "missed": verdict.startswith("未达到")})
        total_count, total_minutes, total_due = total_count + count, total_minutes + minutes, total_due + due
    return {"rows": rows, "count": total_count, "hours": _hours(total_minutes), "due": total_due,
            "kept": f"达到 {kept} / {judged} 个月" if judged else EMPTY}


def record_context(pairing: Pairing, activities: Sequence[PairingActivity], printer: Printer, org_name: str,
                   today: date | None = None, year: Year | None = None) -> dict:
    """What the record of `pairing` shows, as text."""
    today = today or local_today()
    child, volunteer = pairing.child, pairing.volunteer
    organisation = volunteer.organisation
    if pairing.ended_on:
        reason = PAIRING_END_REASONS.get(pairing.end_reason, pairing.end_reason or "")
        ended = f"{_day(pairing.ended_on)}（{reason}）" if reason else _day(pairing.ended_on)
    else:
        ended = "进行中"
    details = [
        ("结对项目", PROGRAMMES.get(pairing.programme, pairing.programme)),
        ("约定频次", f"每月 {pairing.times_per_month} 次"),
        ("儿童姓名", child.name),
        ("年龄", f"{shown_age(child.birth_date, today, printer.disclosure)} 岁"),
        ("居住村", child.residence_village.name if child.residence_village else EMPTY),
        ("就读学校", child.school.name if child.school else EMPTY),
        ("志愿者", f"{volunteer.name}（{VOLUNTEER_KINDS.get(volunteer.kind, volunteer.kind)}）"),
        ("所属组织", f"{organisation.name}（{ORGANISATION_KINDS.get(organisation.kind, organisation.kind)}）"
                     if organisation else EMPTY),
        ("开始日期", _day(pairing.started_on)),
        ("计划结束", _day(pairing.planned_end_on)),
        ("结束日期", ended),
        ("结对编号", str(pairing.id)),
    ]
    wide = [
        ("帮扶目标", pairing.goals or EMPTY),
        ("针对的需求", "、".join(NEED_CATEGORIES.get(n, n) for n in pairing.needs) or EMPTY),
    ]
    minutes = sum(a.minutes for a in activities)
    return {
        "doc_title": DOC_TITLE,
        "org_name": org_name,
        "printed_by": printer.name,
        "printed_at": format_datetime(printer.at),
        "pairing_no": str(pairing.id),
        "child_name": child.name,
        "volunteer_name": volunteer.name,
        "programme": PROGRAMMES.get(pairing.programme, pairing.programme),
        "year": year.year if year else None,
        "details": details,
        "wide": wide,
        "activities": [
            {"on": _day(a.done_on), "minutes": a.minutes, "kind": ACTIVITY_KINDS.get(a.kind, a.kind), "note": a.note}
            for a in activities
        ],
        "activity_total": f"共 {len(activities)} 次，合计 {_hours(minutes)} 小时",
        "months": monthly_totals(pairing, activities, today, year),
        "remarks": pairing.director_remarks or "",
    }


def render_record(pairing_id: int, printer: Printer) -> bytes:
    """One pairing's record, with every activity, as PDF bytes."""
    pairings = load_pairings([pairing_id])
    if not pairings:
        raise LookupError(pairing_id)
    activities = load_activities([pairing_id])[pairing_id]
    return render_pdf(TEMPLATE, **record_context(pairings[0], activities, printer, current_app.config["ORG_NAME"]))


def render_records(pairing_ids: Sequence[int], printer: Printer, year: Year | None = None,
                   progress: Callable[[int], None] | None = None, processes: int | None = None) -> bytes:
    """Many records in one PDF, each with its own page numbers. The pairings are loaded CHUNK at
    a time and turned into text before any is laid out, so `progress` may commit."""
    org_name = current_app.config["ORG_NAME"]
    today = local_today()

    def contexts():
        for start in range(0, len(pairing_ids), CHUNK):
            chunk = load_pairings(pairing_ids[start:start + CHUNK])
            activities = load_activities([p.id for p in chunk], year)
            texts = [record_context(p, activities[p.id], printer, org_name, today, year) for p in chunk]
            db.session.expunge_all()  # the chunk is text now: let the ORM objects go
            yield from texts

    return render_pdf_many(TEMPLATE, contexts(), progress, processes=processes)


def write_records(pairing_ids: Sequence[int], printer: Printer, year: Year | None, target: Path,
                  progress: Callable[[int, int, str], None] | None = None) -> int:
    """Render the records into the file `target` (mode 0600, written whole). Returns how many."""
    total = len(pairing_ids)

    def laid_out(done: int) -> None:
        if progress is not None:
            progress(done, total, "正在合成 PDF 文件……" if done == total else "")

    if progress is not None:
        progress(0, total, "正在启动排版……")
    write_private(target, render_records(pairing_ids, printer, year, laid_out))
    return total


def batch_query(query: Select, programme: str, year: Year) -> Select:
    """The pairings of `query` (already limited to a reach) of `programme` open at any time in
    `year`, by village and child, as a batch prints them."""
    return (query.join(Child, Child.id == Pairing.child_id)
            .where(Pairing.programme == programme, Pairing.started_on <= year.last,
                   (Pairing.ended_on.is_(None)) | (Pairing.ended_on >= year.first))
            .order_by(Child.residence_village_id, Child.name_pinyin, Child.id, Pairing.started_on, Pairing.id))


def batch_ids(query: Select, programme: str, year: Year) -> list[int]:
    return list(db.session.scalars(batch_query(query, programme, year).with_only_columns(Pairing.id)))


def record_batch(count: int, programme: str, year: Year, what: str, user=None) -> None:
    """One audit event for a whole batch."""
    audit.record("pairing_record_printed", None,
                 detail=f"批量打印 {count} 份结对帮扶记录表（{PROGRAMMES.get(programme, programme)} {year.year} 年，{what}）",
                 user=user)
