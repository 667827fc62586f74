"""The school's contact with its pupils' parents and caregivers (§6), and its home visits (§17: a
contact of method home_visit, with the visit form's home-safety checklist). Logged on a class
teacher's phone, offline first, through the one offline contract (blueprints/core/offline.py):
stored once per client_uuid, never edited in place.

Rules, each broken one a message in Chinese naming its field (422):
- the date is a real date, not after today (Beijing);
- with whom (CONTACT_WITH) and how (SCHOOL_CONTACT_METHODS) are chosen; at least one topic
  (CONTACT_TOPICS), none unknown; the note at most NOTE_LIMIT characters;
- the checklist and its note belong to a home visit: with another method they are not kept (the
  form hides them then, so what is stored is what the teacher saw);
- the pupil is still on the roll (children/services.py ensure_open: 409 child_exited otherwise).

Also here: the picker's list (the school's pupils on the roll, minimal fields; a class teacher's
class first), the home card (留守 pupils with no school contact this month; a class teacher's
class's), the log's query and the record and archive sections. Every query starts from the
user's reach (schools/access.py, children/access.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import joinedload

from blueprints.children.access import reachable_children
from blueprints.children.models import Child, ChildCategory
from blueprints.children.sections import newest_per_child
from blueprints.children.services import ChildExited, ensure_open
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core import audit
from blueprints.core.clock import format_date, local_today
from blueprints.core.disclosure import disclosure_for, shown_age
from blueprints.core.inputs import as_id
from blueprints.core.offline import Outcome, fingerprint, store_once
from blueprints.core.payload import choice_field, date_field, text_field, timestamp_field, truthy
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import (CATEGORY_SHORT, CONTACT_TOPICS, CONTACT_WITH, CURRENT_STATUSES, HAZARDS,
                                        SCHOOL_CONTACT_METHODS)
from blueprints.places.models import Village
from blueprints.schools.access import reachable_school_contacts
from blueprints.schools.classes import class_label, in_class, teacher_class
from blueprints.schools.enrolment import at_school
from blueprints.schools.models import SchoolContact
from extensions import db

WRITE = "school_contacts:write"
HOME_VISIT = "home_visit"
NOTE_LIMIT = 1000
HAZARD_NOTE_LIMIT = 200  # the column's size, as the visit form's
PUPIL_MESSAGE = "学生：请选择这次联系的学生"
WITH_MESSAGE = "联系对象：请选择" + "、".join(CONTACT_WITH.values())
METHOD_MESSAGE = "联系方式：请选择" + "、".join(SCHOOL_CONTACT_METHODS.values())
TOPICS_MESSAGE = "联系内容：请至少选择一项：" + "、".join(CONTACT_TOPICS.values())
DUE_SHOWN = 500  # names on the page of all those due (the count gives the rest)
RECORD_SHOWN = 10
ARCHIVE_SHOWN = 30


# --- what the phone or the form sends -------------------------------------------------------------

def check_child_id(payload: dict, errors: dict) -> int | None:
    child_id = as_id(payload.get("child_id"))
    if child_id is None:
        errors["child_id"] = PUPIL_MESSAGE
    return child_id


def _topics(payload: dict, errors: dict) -> str:
    """The topics as stored: known codes, each once, in the vocabulary's order, comma-separated."""
    raw = payload.get("topics")
    if raw in (None, ""):
        raw = []
    elif not isinstance(raw, list):
        raw = [raw]  # one code alone (a form with one box ticked sends a string)
    unknown = [t for t in raw if not isinstance(t, str) or t not in CONTACT_TOPICS]
    if unknown:
        shown = [clean_text(t)[:20] if isinstance(t, str) else "（不是文字）" for t in unknown[:5]]
        errors["topics"] = "联系内容不认识：" + "、".join(shown) + "。" + TOPICS_MESSAGE
        return ""
    if not raw:
        errors["topics"] = TOPICS_MESSAGE
    return ",".join(code for code in CONTACT_TOPICS if code in raw)


def parse_contact(payload: dict, today: date | None = None) -> tuple[dict, dict]:
    """(SchoolContact column values, errors) of what the phone or the form sent."""
    today = today or local_today()
    errors: dict[str, str] = {}
    values = {
        "contacted_on": date_field(payload, "contacted_on", "联系日期", errors, required=True, today=today),
        "contact_with": choice_field(payload, "contact_with", CONTACT_WITH, errors, WITH_MESSAGE, required=True),
        "method": choice_field(payload, "method", SCHOOL_CONTACT_METHODS, errors, METHOD_MESSAGE, required=True),
        "topics": _topics(payload, errors),
        "note": text_field(payload, "note", "情况说明", NOTE_LIMIT, errors),
    }
    home_visit = values["method"] == HOME_VISIT
    for field in HAZARDS:
        values[field] = home_visit and truthy(payload.get(field))
    hazard_note = text_field(payload, "hazard_note", "隐患说明", HAZARD_NOTE_LIMIT, errors, multiline=False)
    values["hazard_note"] = hazard_note if home_visit else None
    if not home_visit:
        errors.pop("hazard_note", None)  # not kept: nothing to fix
    values["recorded_at"] = timestamp_field(payload, "recorded_at", "记录时间", errors)
    return values, errors


def record_contact(child: Child, values: dict, client_uuid: str, *, actor) -> Outcome:
    """Stored once per client_uuid: a replay (same teacher, pupil and body) gets the stored contact,
    anything else under that uuid a conflict. A new contact with a pupil who has left the roll
    raises ChildExited (409) once it is known not to be a replay, unless it was made on or before
    the day she left (a phone may send it days later)."""
    def build() -> SchoolContact:
        try:
            ensure_open(child, on=values["contacted_on"])
        except ChildExited as exited:
            since = f"已于 {format_date(child.exit_date)} " if child.exit_date else "已"
            exited.message = (f"学生：这名学生{since}退出关爱名册，不能再记录此后的联系。"
                              "请删除这条记录，或核对联系日期。")
            raise
        contact = SchoolContact(child_id=child.id, school_id=actor.school_id, recorded_by_id=actor.id, **values)
        db.session.add(contact)
        return contact

    outcome = store_once(SchoolContact, client_uuid, owner_field="recorded_by_id", owner_id=actor.id,
                         child_id=child.id, fingerprint=fingerprint(child.id, values), build=build)
    if outcome.created:
        audit.record("school_contact_logged", outcome.record,
                     detail=f"{child.name} {values['contacted_on']:%Y-%m-%d} "
                            f"{SCHOOL_CONTACT_METHODS[values['method']]}", user=actor)
    return outcome


# --- the phone's pupils ---------------------------------------------------------------------------

def _on_roll(user):
    """The pupils the user may log a contact with: her school's, on the roll and still at school
    (in school, suspended or dropped out: the family of a dropout is the one to keep in touch with)."""
    return reachable_children(user).where(Child.status.in_(CURRENT_STATUSES), at_school())


def _left_behind():
    return exists().where(ChildCategory.child_id == Child.id, ChildCategory.category == "left_behind")


def _contacted_since(day: date):
    return exists().where(SchoolContact.child_id == Child.id, SchoolContact.contacted_on >= day)


def _class_first(user) -> tuple:
    """The order of a picker: a class teacher's class first (she may log any pupil of the school)."""
    pair = teacher_class(user)
    first = (case((in_class(pair), 0), else_=1),) if pair else ()
    return (*first, Child.name_pinyin, Child.id)


def form_pupils(user) -> list[tuple[int, str, str]]:
    """(id, name, village) of the pupils on the roll, for the form's choices without script."""
    return db.session.execute(
        _on_roll(user).join(Village, Village.id == Child.residence_village_id)
        .with_only_columns(Child.id, Child.name, Village.name)
        .order_by(*_class_first(user))).all()


def picker_rows(user, today: date | None = None) -> list[dict]:
    """GET /api/v1/school-pupils, kept on the phone: minimal fields only (who the pupil is, her
    categories in short, and whether a 留守 pupil still waits for this month's contact). Two queries."""
    today = today or local_today()
    disclosure = disclosure_for(user)
    due = _left_behind() & ~_contacted_since(today.replace(day=1))
    rows = db.session.execute(
        _on_roll(user).join(Village, Village.id == Child.residence_village_id)
        .with_only_columns(Child.id, Child.name, Child.birth_date, Child.grade, Child.class_name, Village.name, due)
        .order_by(*_class_first(user))).all()
    categories: dict[int, list[str]] = {}
    if rows:
        for child_id, code in db.session.execute(
                select(ChildCategory.child_id, ChildCategory.category)
                .where(ChildCategory.child_id.in_(_on_roll(user).with_only_columns(Child.id)))
                .order_by(ChildCategory.child_id, ChildCategory.category)):
            categories.setdefault(child_id, []).append(CATEGORY_SHORT.get(code, code))
    pupils = []
    for child_id, name, birth, grade, class_name, village, waiting in rows:
        grade = class_label(grade, class_name) or None  # "三年级 2班": the search box finds a class too
        pupils.append({"id": child_id, "name": name, "age": shown_age(birth, today, disclosure), "village": village,
                       "grade": grade, "categories": categories.get(child_id, []),
                       "detail": " · ".join(part for part in (grade, "本月待联系" if waiting else None) if part) or None})
    return pupils


# --- the home card --------------------------------------------------------------------------------

@dataclass(frozen=True)
class DuePupil:
    id: int
    name: str
    village: str
    last: date | None  # the last school contact, before this month


def due_pupils(user, limit: int, today: date | None = None, within: tuple | None = None) -> tuple[list[DuePupil], int]:
    """留守 pupils on the roll with no school contact this calendar month, longest without one
    first (`within`: of that class only): the first `limit` and how many in all. One query (the
    count is a window over the rows)."""
    today = today or local_today()
    last = (select(func.max(SchoolContact.contacted_on)).where(SchoolContact.child_id == Child.id)
            .correlate(Child).scalar_subquery().label("last"))
    query = _on_roll(user) if within is None else _on_roll(user).where(in_class(within))
    rows = db.session.execute(
        query.join(Village, Village.id == Child.residence_village_id)
        .where(_left_behind(), ~_contacted_since(today.replace(day=1)))
        .with_only_columns(Child.id, Child.name, Village.name, last, func.count().over())
        .order_by(last.asc().nulls_first(), Child.name_pinyin, Child.id)
        .limit(limit)).all()
    return [DuePupil(*row[:4]) for row in rows], rows[0][4] if rows else 0


def home_panel(user) -> dict:
    """The school's home card: the count and the first HOME_CARD_NAMES of the pupils due (a class
    teacher's class's, with her class named)."""
    pair = teacher_class(user)
    pupils, total = due_pupils(user, HOME_CARD_NAMES, within=pair)
    return {"pupils": pupils, "total": total, "class_label": class_label(*pair) if pair else None}


# --- the log --------------------------------------------------------------------------------------

def log_query(user, *, child_id: int | None, method: str | None, month: tuple[int, int] | None):
    """The contacts the user reaches, newest first, filtered (the query; the route paginates)."""
    query = reachable_school_contacts(user)
    if child_id is not None:
        query = query.where(SchoolContact.child_id == child_id)
    if method in SCHOOL_CONTACT_METHODS:
        query = query.where(SchoolContact.method == method)
    if month is not None:
        year, number = month
        start = date(year, number, 1)
        end = date(year + number // 12, number % 12 + 1, 1)
        query = query.where(SchoolContact.contacted_on >= start, SchoolContact.contacted_on < end)
    return query.order_by(SchoolContact.contacted_on.desc(), SchoolContact.id.desc())


def with_rows(query):
    """What each row of the log shows: the pupil and her village, and who logged it."""
    return query.options(joinedload(SchoolContact.child).joinedload(Child.residence_village),
                         joinedload(SchoolContact.recorded_by), joinedload(SchoolContact.school))


# --- the record page and the archive ---------------------------------------------------------------

def topic_labels(contact: SchoolContact) -> str:
    return "、".join(CONTACT_TOPICS[code] for code in contact.topic_codes if code in CONTACT_TOPICS)


def _newest(child_ids: list[int], limit: int) -> dict[int, list[SchoolContact]]:
    """The newest `limit` contacts of each child, with who logged them: one query."""
    return newest_per_child(SchoolContact, child_ids, (SchoolContact.contacted_on.desc(), SchoolContact.id.desc()),
                            limit, lambda row: (joinedload(row.recorded_by), joinedload(row.school)))


def record_contacts(child_ids: list[int], viewer) -> dict[int, list[SchoolContact]]:
    return _newest(child_ids, RECORD_SHOWN)


def _archive_row(c: SchoolContact) -> dict:
    hazards = None
    if c.hazards or c.hazard_note:
        hazards = "居家隐患：" + "、".join(c.hazards) + (f"（{c.hazard_note}）" if c.hazard_note else "")
    return {"on": format_date(c.contacted_on), "with": CONTACT_WITH.get(c.contact_with, c.contact_with),
            "method": SCHOOL_CONTACT_METHODS.get(c.method, c.method), "topics": topic_labels(c),
            "note": "；".join(part for part in (c.note, hazards) if part),
            "by": f"{c.recorded_by.display_name}（{c.school.name}）"}


def archive_contacts(child_ids: list[int], printer) -> dict[int, list[dict] | None]:
    """For the archive: the newest ARCHIVE_SHOWN contacts of each child as the text each line
    prints; None (the section left out) for a printer the policy hides them from, and for a child
    at no school who has none (a pupil without any prints 暂无). Two queries."""
    if not printer.disclosure.shows("school.contact"):
        return dict.fromkeys(child_ids)
    pupils = set(db.session.scalars(select(Child.id).where(Child.id.in_(child_ids), Child.school_id.is_not(None))))
    found: dict[int, list[dict] | None] = {child_id: None for child_id in child_ids if child_id not in pupils}
    for child_id, contacts in _newest(child_ids, ARCHIVE_SHOWN).items():
        found[child_id] = [_archive_row(c) for c in contacts]
    return found
