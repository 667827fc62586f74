"""The printed archive of a child (一人一档): what it shows, and rendering it, one child or many.

Everything a page shows is turned into plain text here, before rendering: the templates get no
ORM objects (so a commit in between — a background job reporting progress — costs nothing).
What the printer may see is decided by the disclosure policy (core/disclosure.py); the other
areas add their sections (core/areas.py), each loaded once per chunk of children.
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

from blueprints.children.models import Child
from blueprints.children.services import disclosed_as
from blueprints.core import audit
from blueprints.core.access import grants_of
from blueprints.core.areas import sections_for
from blueprints.core.clock import format_date, format_datetime, local_today, utcnow
from blueprints.core.disclosure import Disclosure, disclosure_for, full_disclosure, shown_age
from blueprints.core.files import write_private
from blueprints.core.pdf import render_pdf, render_pdf_many
from blueprints.core.vocabulary import (
    ATTENTION_LEVELS,
    BENEFIT_KINDS,
    CATEGORIES,
    CONTACT_METHODS,
    EXIT_REASONS,
    GENDERS,
    GUARDIANSHIP_CAPACITY,
    STATE_GUARDIANSHIP,
    STATUSES,
)
from extensions import db

TEMPLATE = "print/archive.html"
DOC_TITLE = "留守和困境儿童档案"
EMPTY = "—"
CHUNK = 50  # children loaded at a time in a batch: a fixed number of queries each


@dataclass(frozen=True)
class Printer:
    """Who prints, when, and what they may see: the disclosure policy for their fields, their
    grants for the other areas' sections (None: every section, for the command line)."""

    name: str
    disclosure: Disclosure
    grants: frozenset[str] | None = None
    at: datetime = field(default_factory=utcnow)  # naive UTC, shown in Beijing time

    @classmethod
    def for_user(cls, user) -> "Printer":
        return cls(name=user.display_name, disclosure=disclosure_for(user), grants=grants_of(user))

    @classmethod
    def command_line(cls) -> "Printer":
        return cls(name="命令行", disclosure=full_disclosure())

    def may(self, permission: str) -> bool:
        return self.grants is None or permission in self.grants

    @property
    def shows_full_ids(self) -> bool:
        return not self.disclosure.masks_ids


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
    )


def load_children(child_ids: Sequence[int]) -> list[Child]:
    """The children, in the order of `child_ids`, with everything loaded."""
    rows = db.session.scalars(
        archive_query().where(Child.id.in_(child_ids)).execution_options(populate_existing=True)
    ).unique().all()
    by_id = {child.id: child for child in rows}
    return [by_id[i] for i in child_ids if i in by_id]


def archive_context(child: Child, printer: Printer, org_name: str, today: date | None = None) -> dict:
    """What the archive of `child` shows, as text, as far as the printer may see it (a part the
    printer may not see is None, and its section prints nothing)."""
    today = today or local_today()
    d = printer.disclosure

    def shown(name: str, value) -> str:
        return _text(d.show(name, value))

    basic = [
        ("姓名", child.name), ("性别", _label(GENDERS, child.gender)),
        ("年龄", f"{shown_age(child.birth_date, today, d)} 岁"),
        ("居住村", child.residence_village.name if child.residence_village else EMPTY),
        ("就读学校", child.school.name if child.school else EMPTY), ("年级班级", _text(child.grade_and_class or None)),
    ]
    if d.shows("child.ethnicity"):
        basic[2:2] = [("民族", _text(child.ethnicity))]
        basic.append(("户籍村", child.hukou_village.name if child.hukou_village else EMPTY))
    if d.shows("child.birth_date"):
        basic[2:2] = [("出生日期", shown("child.birth_date", child.birth_date))]
    if d.shows("child.id_number"):
        basic.append(("身份证号", shown("child.id_number", child.id_number)))
    wide = []
    if d.shows("child.attention_level"):
        basic += [("关注等级", _label(ATTENTION_LEVELS, child.attention_level)),
                  ("状态", _label(STATUSES, child.status))]
        if child.status == "exited" or child.exit_reason or child.exit_date:
            basic += [("退出原因", _label(EXIT_REASONS, child.exit_reason)), ("退出日期", _text(child.exit_date)),
                      ("退出说明", _text(child.exit_note))]
        basic += [
            ("兜底监护", _label(STATE_GUARDIANSHIP, child.state_guardianship)),
            ("监护责任单位", _text(child.guardianship_unit)),
        ]
        wide.append(("儿童类别", "、".join(CATEGORIES.get(c, c) for c in child.category_codes) or EMPTY))
    if d.shows("child.address"):
        wide.insert(0, ("住址", shown("child.address", child.address)))

    health = None
    if d.shows("child.health"):
        health = []
        if child.health or child.disability_kind or child.disability_grade or child.disability_certificate:
            health = [
                ("健康状况", _text(child.health)),
                ("残疾类别", _text(child.disability_kind)),
                ("残疾等级", _text(child.disability_grade)),
                ("残疾证号", shown("child.disability_certificate", child.disability_certificate)),
            ]

    family = None
    if d.shows("family.member"):
        family = [
            {
                "relation": m.relation, "name": m.name, "id_number": shown("family.id_number", m.id_number),
                "phone": shown("family.phone", m.phone), "work": _text(m.work), "work_place": _text(m.work_place),
                "works_away": _yes_no(m.works_away),
                "capacity": _label(GUARDIANSHIP_CAPACITY, m.guardianship_capacity),
                "guardian": _yes_no(m.is_guardian),
            }
            for m in child.family
        ]

    caregiver = None
    if d.shows("child.caregiver"):
        caregiver = []
        if child.caregiver_name:
            caregiver = [
                ("委托照护人", child.caregiver_name), ("与儿童关系", _text(child.caregiver_relation)),
                ("联系电话", shown("child.caregiver_phone", child.caregiver_phone)),
                ("父母确认日期", _text(child.caregiver_confirmed_on)),
            ]

    contacts = [
        {"on": _text(c.contacted_on), "who": c.who, "method": _label(CONTACT_METHODS, c.method),
         "note": _text(c.note)}
        for c in sorted(child.contacts, key=lambda c: (c.contacted_on, c.id), reverse=True)
    ] if d.shows("child.contacts") else None
    benefits = [
        {"kind": _label(BENEFIT_KINDS, b.kind),
         "amount": f"{_text(b.amount)} 元" if b.amount is not None else EMPTY,
         "period": _text(b.period), "start": _text(b.start_on), "end": _text(b.end_on), "source": _text(b.source)}
        for b in sorted(child.benefits, key=lambda b: (b.start_on, b.id), reverse=True)
    ] if d.shows("child.benefits") else None

    def history_value(change, value):
        name = disclosed_as(change.field)
        return shown(name, value) if value and name else _text(value)

    changes = [
        {"at": format_datetime(c.at), "section": c.section, "field": c.field,
         "old": history_value(c, c.old_value), "new": history_value(c, c.new_value),
         "by": c.username or EMPTY}
        for c in sorted(child.changes, key=lambda c: c.id, reverse=True)
    ] if d.shows("child.history") else None

    return {
        "doc_title": DOC_TITLE,
        "org_name": org_name,
        "printed_by": printer.name,
        "printed_at": format_datetime(printer.at),
        "archive_no": child.archive_no,
        "name": child.name,
        "registered_on": format_date(child.created_at) if child.created_at else EMPTY,
        "ids_masked": d.masks_ids,
        "basic": basic,
        "wide": wide,
        "health": health,
        "family": family,
        "caregiver": caregiver,
        "contacts": contacts,
        "benefits": benefits,
        "changes": changes,
    }


def with_sections(contexts: list[dict], child_ids: list[int], printer: Printer) -> list[dict]:
    """Add the sections the printer may see, each area's loaded once for all of `child_ids`."""
    sections = sections_for("archive", printer, child_ids, printer.may)
    for child_id, context in zip(child_ids, contexts):
        context["sections"] = [section for section, _ in sections]
        context["section_data"] = {section.key: data.get(child_id, section.empty) for section, data in sections}
    return contexts


def render_archive(child_id: int, printer: Printer) -> bytes:
    """One child's archive as PDF bytes."""
    children = load_children([child_id])
    if not children:
        raise LookupError(child_id)
    context = archive_context(children[0], printer, current_app.config["ORG_NAME"])
    return render_pdf(TEMPLATE, **with_sections([context], [child_id], printer)[0])


def render_archives(child_ids: Sequence[int], printer: Printer,
                    progress: Callable[[int], None] | None = None, processes: int | None = None) -> bytes:
    """Many archives in one PDF, each with its own page numbers. The children are loaded CHUNK
    at a time and turned into text before any of them is laid out, so `progress` may commit."""
    org_name = current_app.config["ORG_NAME"]
    today = local_today()

    def contexts():
        for start in range(0, len(child_ids), CHUNK):
            children = load_children(child_ids[start:start + CHUNK])
            chunk = with_sections([archive_context(c, printer, org_name, today) for c in children],
                                   [c.id for c in children], printer)
            db.session.expunge_all()  # the chunk is text now: let the ORM objects go
            yield from chunk

    return render_pdf_many(TEMPLATE, contexts(), progress, processes=processes)


def write_archives(child_ids: Sequence[int], printer: Printer, target: Path,
                   progress: Callable[[int, int, str], None] | None = None) -> int:
    """Render the archives into the file `target` (mode 0600, written whole, then moved into
    place). Returns how many archives it holds."""
    total = len(child_ids)

    def laid_out(done: int) -> None:
        if progress is not None:
            progress(done, total, "正在合成 PDF 文件……" if done == total else "")

    if progress is not None:
        progress(0, total, "正在启动排版……")
    write_private(target, render_archives(child_ids, printer, laid_out))
    return total


def record_batch(count: int, printer: Printer, what: str, user=None) -> None:
    """One audit event for a whole batch."""
    ids = "含完整身份证号" if printer.shows_full_ids else "身份证号已遮挡"
    audit.record("archive_printed", None, detail=f"批量打印 {count} 份儿童档案（{what}，{ids}）", user=user)
