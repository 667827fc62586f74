"""The printed archive of a child (一人一档): what it shows, and rendering it, one child or many.

Everything a page shows is turned into plain text here, before rendering: the templates get no
ORM objects (so a commit in between — a background job reporting progress — costs nothing),
and the masking of ID numbers is decided in one place.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.idnumber import mask_id_number
from blueprints.children.models import (
    ATTENTION_LEVELS,
    BENEFIT_KINDS,
    CATEGORIES,
    CONTACT_METHODS,
    EXIT_REASONS,
    GENDERS,
    GUARDIANSHIP_CAPACITY,
    STATE_GUARDIANSHIP,
    STATUSES,
    Child,
)
from blueprints.children.services import is_id_field
from blueprints.visits.models import MENTAL_STATES, NEED_CATEGORIES, VISIT_KINDS, Visit
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.clock import format_date, format_datetime, local_today, utcnow
from blueprints.core.pdf import render_pdf, render_pdf_many
from extensions import db

TEMPLATE = "print/archive.html"
DOC_TITLE = "留守和困境儿童档案"
EMPTY = "—"
CHUNK = 50  # children loaded at a time in a batch: a fixed number of queries each


@dataclass(frozen=True)
class Printer:
    """Who prints, when, whether full ID numbers and the visit records may be shown to them."""

    name: str
    show_ids: bool
    show_visits: bool = True
    at: datetime = field(default_factory=utcnow)  # naive UTC, shown in Beijing time

    @classmethod
    def for_user(cls, user) -> "Printer":
        return cls(name=user.display_name, show_ids=can(user, "children:read_ids"),
                   show_visits=can(user, "visits:read"))

    @classmethod
    def command_line(cls) -> "Printer":
        return cls(name="命令行", show_ids=True)


def _text(value) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    return str(value)


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


def _label(mapping: dict, code) -> str:
    return mapping.get(code, code) if code else EMPTY


def archive_query():
    """A child with everything its archive shows: a fixed number of queries, whatever the rows."""
    return select(Child).options(
        joinedload(Child.residence_village),
        joinedload(Child.hukou_village),
        joinedload(Child.school),
        selectinload(Child.categories),
        selectinload(Child.family),
        selectinload(Child.contacts),
        selectinload(Child.benefits),
        selectinload(Child.changes),
        selectinload(Child.visits).options(joinedload(Visit.visitor), selectinload(Visit.needs)),
    )


def load_children(child_ids: Sequence[int]) -> list[Child]:
    """The children, in the order of `child_ids`, with everything loaded."""
    rows = db.session.scalars(
        archive_query().where(Child.id.in_(child_ids)).execution_options(populate_existing=True)
    ).unique().all()
    by_id = {child.id: child for child in rows}
    return [by_id[i] for i in child_ids if i in by_id]


def archive_context(child: Child, printer: Printer, org_name: str, today: date | None = None) -> dict:
    """What the archive of `child` shows, as text."""
    today = today or local_today()

    def id_number(value: str | None) -> str:
        if not value:
            return EMPTY
        return value if printer.show_ids else mask_id_number(value)

    basic = [
        ("姓名", child.name), ("性别", _label(GENDERS, child.gender)),
        ("出生日期", _text(child.birth_date)), ("年龄", f"{child.age_on(today)} 岁"),
        ("民族", _text(child.ethnicity)), ("身份证号", id_number(child.id_number)),
        ("居住村", child.residence_village.name if child.residence_village else EMPTY),
        ("户籍村", child.hukou_village.name if child.hukou_village else EMPTY),
        ("就读学校", child.school.name if child.school else EMPTY), ("年级", _text(child.grade)),
        ("关注等级", _label(ATTENTION_LEVELS, child.attention_level)),
        ("状态", _label(STATUSES, child.status)),
    ]
    if child.status == "exited" or child.exit_reason or child.exit_date:
        basic += [("退出原因", _label(EXIT_REASONS, child.exit_reason)), ("退出日期", _text(child.exit_date)),
                  ("退出说明", _text(child.exit_note))]
    basic += [
        ("兜底监护", _label(STATE_GUARDIANSHIP, child.state_guardianship)),
        ("监护责任单位", _text(child.guardianship_unit)),
    ]
    wide = [
        ("住址", _text(child.address)),
        ("儿童类别", "、".join(CATEGORIES.get(c, c) for c in child.category_codes) or EMPTY),
    ]

    health = []
    if child.health or child.disability_kind or child.disability_grade or child.disability_certificate:
        certificate = child.disability_certificate
        health = [
            ("健康状况", _text(child.health)),
            ("残疾类别", _text(child.disability_kind)),
            ("残疾等级", _text(child.disability_grade)),
            ("残疾证号", id_number(certificate) if certificate else EMPTY),
        ]

    family = [
        {
            "relation": m.relation, "name": m.name, "id_number": id_number(m.id_number),
            "phone": _text(m.phone), "work": _text(m.work), "work_place": _text(m.work_place),
            "works_away": _yes_no(m.works_away),
            "capacity": _label(GUARDIANSHIP_CAPACITY, m.guardianship_capacity),
            "guardian": _yes_no(m.is_guardian),
        }
        for m in child.family
    ]

    caregiver = []
    if child.caregiver_name:
        caregiver = [
            ("委托照护人", child.caregiver_name), ("与儿童关系", _text(child.caregiver_relation)),
            ("联系电话", _text(child.caregiver_phone)), ("父母确认日期", _text(child.caregiver_confirmed_on)),
        ]

    contacts = [
        {"on": _text(c.contacted_on), "who": c.who, "method": _label(CONTACT_METHODS, c.method),
         "note": _text(c.note)}
        for c in sorted(child.contacts, key=lambda c: (c.contacted_on, c.id), reverse=True)
    ]
    benefits = [
        {"kind": _label(BENEFIT_KINDS, b.kind),
         "amount": f"{_text(b.amount)} 元" if b.amount is not None else EMPTY,
         "period": _text(b.period), "start": _text(b.start_on), "end": _text(b.end_on), "source": _text(b.source)}
        for b in sorted(child.benefits, key=lambda b: (b.start_on, b.id), reverse=True)
    ]

    visits = [
        {"on": _text(v.visited_on), "kind": _label(VISIT_KINDS, v.kind), "by": v.visitor.display_name,
         "hazards": "、".join(v.hazards) or "无",
         "mental": _label(MENTAL_STATES, v.mental_state) if v.mental_state else EMPTY,
         "needs": "、".join(NEED_CATEGORIES[c] for c in v.need_codes) or EMPTY,
         "follow_up": _text(v.follow_up_note) if v.follow_up_needed else "无",
         "note": "（已被更正）" if v.superseded else ""}
        for v in child.visits
    ] if printer.show_visits else None

    def history_value(change, value):
        if value and is_id_field(change.field) and not printer.show_ids:
            return mask_id_number(value)
        return _text(value)

    changes = [
        {"at": format_datetime(c.at), "section": c.section, "field": c.field,
         "old": history_value(c, c.old_value), "new": history_value(c, c.new_value),
         "by": c.username or EMPTY}
        for c in sorted(child.changes, key=lambda c: c.id, reverse=True)
    ]

    return {
        "doc_title": DOC_TITLE,
        "org_name": org_name,
        "printed_by": printer.name,
        "printed_at": format_datetime(printer.at),
        "archive_no": child.archive_no,
        "name": child.name,
        "registered_on": format_date(child.created_at) if child.created_at else EMPTY,
        "ids_masked": not printer.show_ids,
        "basic": basic,
        "wide": wide,
        "health": health,
        "family": family,
        "caregiver": caregiver,
        "contacts": contacts,
        "visits": visits,
        "benefits": benefits,
        "changes": changes,
    }


def render_archive(child_id: int, printer: Printer) -> bytes:
    """One child's archive as PDF bytes."""
    children = load_children([child_id])
    if not children:
        raise LookupError(child_id)
    return render_pdf(TEMPLATE, **archive_context(children[0], printer, current_app.config["ORG_NAME"]))


def render_archives(child_ids: Sequence[int], printer: Printer,
                    progress: Callable[[int], None] | None = None, processes: int | None = None) -> bytes:
    """Many archives in one PDF, each with its own page numbers. The children are loaded CHUNK
    at a time and turned into text before any of them is laid out, so `progress` may commit."""
    org_name = current_app.config["ORG_NAME"]
    today = local_today()

    def contexts():
        for start in range(0, len(child_ids), CHUNK):
            chunk = [archive_context(c, printer, org_name, today) for c in load_children(child_ids[start:start + CHUNK])]
            db.session.expunge_all()  # the chunk is text now: let the ORM objects go
            yield from chunk

    return render_pdf_many(TEMPLATE, contexts(), progress, processes=processes)


def write_archives(child_ids: Sequence[int], printer: Printer, target: Path,
                   progress: Callable[[int, int, str], None] | None = None) -> int:
    """Render the archives into the file `target` (written whole, then moved into place).
    Returns how many archives it holds."""
    total = len(child_ids)

    def laid_out(done: int) -> None:
        if progress is not None:
            progress(done, total, "正在合成 PDF 文件……" if done == total else "")

    if progress is not None:
        progress(0, total, "正在启动排版……")
    pdf = render_archives(child_ids, printer, laid_out)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(pdf)
    partial.replace(target)
    return total


def record_batch(count: int, printer: Printer, what: str, user=None) -> None:
    """One audit event for a whole batch."""
    ids = "含完整身份证号" if printer.show_ids else "身份证号已遮挡"
    audit.record("archive_printed", None, detail=f"批量打印 {count} 份儿童档案（{what}，{ids}）", user=user)
