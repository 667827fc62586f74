"""Responsible carers (关爱责任人, §12), the after-school fee waiver per term, weekend and holiday
care places, and the duties of a school's staff: the rules, the services that keep them (each
takes actor=, writes its audit event and leaves the commit to the request), the home cards and
the record and archive section.

Key pupils: on the roll, at a school (not transferred, graduated or 未入学 there: enrolment.py
LEFT_SCHOOL), and 重点关注 or of a difficult category (困境, 孤儿, 事实无人抚养). Who qualifies for
the waiver in a term: such a pupil of a difficult category, or with a 基本生活保障 benefit running
some day of the term. Rules (each broken one is a message naming its field):
- a carer is one of the pupil's school's active accounts (her name, and her phone unless another
  is typed), or a typed name with a phone; from a day not after today, and not before the carer
  she replaces; the pupil is on the roll (children/services.py ensure_open: 409 otherwise);
- a change of carer ends the current row that day and adds one: the rows are the history; her
  phone, note or start are corrected in place (correct_carer), never by naming her again;
- a school keeps at least one active coordinator (关爱工作负责人); a teacher who stops being 班主任
  no longer holds her class (classes.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from blueprints.auth.models import User
from blueprints.children.access import reachable_children
from blueprints.children.models import Benefit, Child, ChildCategory
from blueprints.children.services import ensure_open, lock_child
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core import audit
from blueprints.core.clock import format_date, local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import (CATEGORY_SHORT, CURRENT_STATUSES, ENROLMENT_STATES, HOLIDAY_CARE_KINDS,
                                        SCHOOL_DUTIES)
from blueprints.schools.classes import HEAD_TEACHER, clear_class
from blueprints.schools.access import reachable_carers, reachable_fee_waivers, reachable_holiday_care
from blueprints.schools.enrolment import LEFT_SCHOOL, at_school, current_state
from blueprints.schools.models import FeeWaiver, HolidayCare, ResponsibleCarer
from blueprints.schools.terms import recent_terms, term_bounds, term_label, term_of
from extensions import db

# 困境 (poverty, disability, guardianship), 孤儿, 事实无人抚养: a key pupil, and one the waiver is for
DIFFICULT = ("poverty", "disability", "guardianship", "orphan", "unsupported")
WAIVER_BENEFIT = "basic_living"


class CarerError(FieldErrors):
    """Input the rules refuse: {field: message}."""


# --- who is a key pupil, who qualifies for the waiver ------------------------------------------

# Membership of a town-wide set (a difficult category, a benefit, a waiver) is asked as IN
# (subquery), read once for a school's thousands of pupils; what depends on the pupil's own row
# (her carer named by her present school) as EXISTS (make bench: the school's home).
def _difficult():
    return Child.id.in_(select(ChildCategory.child_id).where(ChildCategory.category.in_(DIFFICULT)))


def key_pupils(user):
    """The key pupils `user` reaches: on the roll, at a school, 重点关注 or of a difficult category."""
    return reachable_children(user).where(Child.status.in_(CURRENT_STATUSES), Child.school_id.is_not(None), at_school(),
                                          or_(Child.attention_level == "key", _difficult()))


def _open_carer():
    # named by her present school: a pupil moved to another school by an edit of her record (not
    # a transfer here, which ends the carer) is that school's to provide for
    return exists().where(ResponsibleCarer.child_id == Child.id, ResponsibleCarer.ended_on.is_(None),
                          ResponsibleCarer.school_id == Child.school_id)


def without_carer(query):
    return query.where(~_open_carer())


def _benefit_in(term: str):
    start, end = term_bounds(term)
    return Child.id.in_(select(Benefit.child_id).where(Benefit.kind == WAIVER_BENEFIT, Benefit.start_on <= end,
                                                       or_(Benefit.end_on.is_(None), Benefit.end_on >= start)))


def qualifies(term: str):
    """The clause on Child: the pupil qualifies for the waiver in `term`."""
    return or_(_difficult(), _benefit_in(term))


def waived_in(term: str):
    return Child.id.in_(select(FeeWaiver.child_id).where(FeeWaiver.term == term))


def waiver_terms(today: date) -> list[str]:
    """The terms a waiver may be decided for, newest first: the next one (decided before it
    starts), this one and the three before."""
    following = term_of(term_bounds(term_of(today))[1] + timedelta(days=1))
    return [following, *recent_terms(today, 4)]


def waiver_reasons(children: list[Child], term: str) -> dict[int, list[str]]:
    """Why each pupil qualifies in `term`: her difficult categories (loaded with her), and a
    benefit running in the term (one query)."""
    start, end = term_bounds(term)
    with_benefit = set(db.session.scalars(select(Benefit.child_id).where(
        Benefit.child_id.in_([c.id for c in children]), Benefit.kind == WAIVER_BENEFIT, Benefit.start_on <= end,
        or_(Benefit.end_on.is_(None), Benefit.end_on >= start))))
    return {c.id: [CATEGORY_SHORT[code] for code in c.category_codes if code in DIFFICULT]
            + (["基本生活保障"] if c.id in with_benefit else []) for c in children}


# --- the carer ---------------------------------------------------------------------------------

def current_carer(child_id: int) -> ResponsibleCarer | None:
    return db.session.scalar(select(ResponsibleCarer).where(ResponsibleCarer.child_id == child_id,
                                                            ResponsibleCarer.ended_on.is_(None)))


def school_accounts(school_id: int) -> list[User]:
    """The accounts a school may name as carers: its own staff's, active."""
    return list(db.session.scalars(select(User).where(User.role == "school", User.school_id == school_id,
                                                      User.active.is_(True)).order_by(User.display_name, User.id)))


def _check_since(since, errors: dict, not_before: ResponsibleCarer | None) -> None:
    if not isinstance(since, date):
        errors["since"] = "开始负责日期：请填写日期"
    elif since > local_today():
        errors["since"] = "开始负责日期：不能晚于今天"
    elif not_before is not None and since < not_before.since:
        errors["since"] = (f"开始负责日期：不能早于前一位关爱责任人 {not_before.name} 的开始日期 "
                           f"{not_before.since:%Y-%m-%d}")


def name_carer(child: Child, *, account: User | None, name: str | None, phone: str | None, since: date | None,
               note: str | None, actor) -> ResponsibleCarer:
    """Name the pupil's carer, or change her: the current row ends on `since` and a new one starts."""
    ensure_open(child)
    lock_child(child)
    current = current_carer(child.id)
    errors: dict[str, str] = {}
    state, _ = current_state(child)
    if state in LEFT_SCHOOL:
        raise CarerError({"user_id": f"本校老师：{child.name}已{ENROLMENT_STATES[state]}，不再由本校指定关爱责任人；"
                                     "回校后请先把在读状态改回“在读”"})
    if account is not None and not (account.role == "school" and account.school_id == child.school_id
                                    and account.active):
        errors["user_id"] = "本校老师：请从列表中选择"
        account = None
    name = account.display_name[:40] if account is not None else (name or "").strip()
    phone = (phone or "").strip() or (account.phone if account is not None else None)
    if not name and "user_id" not in errors:
        errors["name"] = "姓名：请从本校老师中选择，或填写关爱责任人的姓名"
    elif current is not None and (current.user_id == account.id if account is not None
                                  else current.user_id is None and current.name == name):
        errors["user_id" if account is not None else "name"] = (
            f"{'本校老师' if account is not None else '姓名'}：{name} 已经是{child.name}的关爱责任人；"
            "要改电话、备注或开始日期，请用“修改现任责任人信息”")
    if not phone:
        errors["phone"] = ("电话：这位老师的账号没有登记电话，请填写她的手机号" if account is not None
                           else "电话：填写姓名时请同时填写关爱责任人的电话")
    _check_since(since, errors, current)
    if errors:
        raise CarerError(errors)
    actor_id = actor.id if actor is not None else None
    if current is not None:
        current.ended_on, current.end_note, current.ended_by_id = since, f"更换为 {name}", actor_id
        db.session.flush()  # the current row ends before the new one becomes the current one
    carer = ResponsibleCarer(child_id=child.id, school_id=child.school_id, user_id=account.id if account else None,
                             name=name, phone=phone, since=since, note=(note or "").strip() or None,
                             created_by_id=actor_id)
    db.session.add(carer)
    db.session.flush()
    audit.record("carer_named", carer, user=actor,
                 detail=f"{child.name}：{current.name} → {name}" if current is not None else f"{child.name}：{name}")
    return carer


def correct_carer(child: Child, *, phone: str | None, since: date | None, note: str | None,
                  actor) -> ResponsibleCarer:
    """Correct the current carer's phone, start or note in place (the same person: no new row)."""
    ensure_open(child)
    lock_child(child)
    current = current_carer(child.id)
    if current is None:
        raise CarerError({"phone": "电话：还没有指定关爱责任人，请先指定"})
    errors: dict[str, str] = {}
    if not (phone or "").strip():
        errors["phone"] = "电话：请填写关爱责任人的电话"
    before = db.session.scalar(select(ResponsibleCarer).where(
        ResponsibleCarer.child_id == child.id, ResponsibleCarer.ended_on.is_not(None))
        .order_by(ResponsibleCarer.since.desc(), ResponsibleCarer.id.desc()).limit(1))
    _check_since(since, errors, before)
    if errors:
        raise CarerError(errors)
    if before is not None and before.ended_on == current.since:  # she replaced `before` that day
        before.ended_on = since
    current.phone, current.since, current.note = phone.strip(), since, (note or "").strip() or None
    audit.record("carer_updated", current, detail=f"{child.name}：{current.name}", user=actor)
    return current


# --- the fee waiver and holiday care -------------------------------------------------------------

def set_fee_waiver(child: Child, term: str, waived: bool, *, actor) -> bool:
    """Waive the pupil's after-school fee for `term`, or withdraw it; True when something changed."""
    ensure_open(child)
    if term not in waiver_terms(local_today()):
        raise CarerError({"term": "学期：请从列表中选择"})
    state, _ = current_state(child)
    if waived and state in LEFT_SCHOOL:  # withdrawing one stays possible
        raise CarerError({"term": f"学期：{child.name}已{ENROLMENT_STATES[state]}，不在本校参加课后服务，不用减免"})
    row = db.session.scalar(select(FeeWaiver).where(FeeWaiver.child_id == child.id, FeeWaiver.term == term))
    if waived == (row is not None):
        return False  # as asked already (a second tap, another tab)
    if row is not None:
        if not db.session.execute(delete(FeeWaiver).where(FeeWaiver.id == row.id)).rowcount:
            return False  # withdrawn by another tap at the same moment
        audit.record("fee_waiver_withdrawn", child, detail=f"{child.name}：{term_label(term)}", user=actor)
        return True
    try:
        with db.session.begin_nested():  # another coordinator's tap at the same moment: hers stands
            db.session.add(FeeWaiver(child_id=child.id, school_id=child.school_id, term=term, decided_on=local_today(),
                                     decided_by_id=actor.id if actor is not None else None))
    except IntegrityError:
        return False
    audit.record("fee_waiver_granted", child, detail=f"{child.name}：{term_label(term)}", user=actor)
    return True


def add_holiday_care(child: Child, *, kind: str | None, place: str | None, starts_on: date | None,
                     ends_on: date | None, note: str | None, actor) -> HolidayCare:
    ensure_open(child)
    errors = {}
    if kind not in HOLIDAY_CARE_KINDS:
        errors["kind"] = "时段：请从列表中选择"
    if not (place or "").strip():
        errors["place"] = "关爱地点：请填写孩子在哪里、由谁照看，例如“村儿童之家”"
    if not isinstance(starts_on, date):
        errors["starts_on"] = "开始日期：请填写日期"
    elif ends_on is not None and ends_on < starts_on:
        errors["ends_on"] = f"结束日期：不能早于开始日期 {starts_on:%Y-%m-%d}"
    if errors:
        raise CarerError(errors)
    care = HolidayCare(child_id=child.id, school_id=child.school_id, kind=kind, place=place.strip(),
                       starts_on=starts_on, ends_on=ends_on, note=(note or "").strip() or None,
                       recorded_by_id=actor.id if actor is not None else None)
    db.session.add(care)
    db.session.flush()
    audit.record("holiday_care_added", care, user=actor,
                 detail=f"{child.name}：{HOLIDAY_CARE_KINDS[kind]} {place.strip()}")
    return care


def _ended_already(care: HolidayCare) -> CarerError:
    return CarerError({"ends_on": f"结束日期：这处关爱已于 {care.ends_on:%Y-%m-%d} 结束，不用再结束"})


def end_holiday_care(care: HolidayCare, ends_on: date | None, *, actor) -> HolidayCare:
    """End a place still open, on a day from its start to today."""
    ensure_open(care.child)
    if care.ends_on is not None:
        raise _ended_already(care)
    if not isinstance(ends_on, date):
        raise CarerError({"ends_on": "结束日期：请填写日期"})
    if ends_on > local_today():
        raise CarerError({"ends_on": "结束日期：不能晚于今天"})
    if ends_on < care.starts_on:
        raise CarerError({"ends_on": f"结束日期：不能早于开始日期 {care.starts_on:%Y-%m-%d}"})
    # only while still open: of two taps at the same moment (two tabs, two coordinators) the first stands
    if not db.session.execute(update(HolidayCare).where(HolidayCare.id == care.id, HolidayCare.ends_on.is_(None))
                              .values(ends_on=ends_on)).rowcount:
        db.session.refresh(care)
        raise _ended_already(care)
    audit.record("holiday_care_ended", care, user=actor,
                 detail=f"{care.child.name}：{HOLIDAY_CARE_KINDS.get(care.kind, care.kind)} {care.place}，"
                        f"{ends_on:%Y-%m-%d} 结束")
    return care


# --- the school's staff --------------------------------------------------------------------------

def set_school_duty(staff: User, duty: str | None, *, actor) -> bool:
    """Set a school account's duty; True when it changed. The school keeps an active coordinator."""
    if duty not in SCHOOL_DUTIES:
        raise CarerError({"duty": "职责：请从列表中选择"})
    if staff.school_duty == duty:
        return False
    if staff.school_duty == "coordinator" and staff.active:
        # Two coordinators stepping down at once: the second waits, then counts what the first left.
        others = db.session.scalars(select(User.id).where(
            User.role == "school", User.school_id == staff.school_id, User.school_duty == "coordinator",
            User.active.is_(True), User.id != staff.id).with_for_update()).all()
        if not others:
            raise CarerError({"duty": f"职责：{staff.display_name} 是本校唯一的关爱工作负责人，"
                                      "请先把另一位老师设为关爱工作负责人，再改她的职责"})
    before = SCHOOL_DUTIES.get(staff.school_duty, "未设置")
    staff.school_duty = duty
    cleared = clear_class(staff) if duty != HEAD_TEACHER else None
    audit.record("school_duty_set", staff, user=actor,
                 detail=f"{staff.username}（{staff.display_name}）：{before} → {SCHOOL_DUTIES[duty]}"
                        + (f"，不再带 {cleared}" if cleared else ""))
    return True


# --- the home cards ------------------------------------------------------------------------------

def _named(query, order=(Child.grade, Child.name_pinyin)) -> tuple[int, list[Child]]:
    """How many, and the first HOME_CARD_NAMES: the ids with the count as a window over them (no
    whole rows of thousands of pupils to sort), then those few children."""
    rows = db.session.execute(query.with_only_columns(Child.id, func.count().over()).order_by(*order, Child.id)
                              .limit(HOME_CARD_NAMES)).all()
    if not rows:
        return 0, []
    found = {c.id: c for c in db.session.scalars(select(Child).where(Child.id.in_([r[0] for r in rows])))}
    return rows[0][1], [found[r[0]] for r in rows]


def carer_panel(user) -> dict:
    """The key pupils without a carer, named (the coordinator's card): two queries."""
    total, children = _named(without_carer(key_pupils(user)))
    return {"total": total, "children": children}


def waiver_panel(user) -> dict:
    """This term's qualifying pupils not yet waived, named, each with its button: two queries."""
    term = term_of(local_today())
    total, children = _named(pending_waivers(user, term))
    return {"total": total, "children": children, "term": term, "term_label": term_label(term)}


def pending_waivers(user, term: str):
    return reachable_children(user).where(Child.status.in_(CURRENT_STATUSES), Child.school_id.is_not(None),
                                          at_school(), qualifies(term), ~waived_in(term))


# --- the record and archive section -------------------------------------------------------------

@dataclass
class CarerFile:
    """What the section shows of one pupil: her carer now, those before, weekend and holiday
    care (newest first), and the terms her fee was waived (their labels)."""

    current: ResponsibleCarer | None = None
    before: list[ResponsibleCarer] = field(default_factory=list)
    holiday: list[HolidayCare] = field(default_factory=list)
    waived: list[str] = field(default_factory=list)


def _files(child_ids: list[int], carers, holiday, waivers) -> dict[int, CarerFile]:
    """Three queries for any number of pupils; `holiday` and `waivers` None: not shown."""
    files = {child_id: CarerFile() for child_id in child_ids}
    for carer in db.session.scalars(carers.where(ResponsibleCarer.child_id.in_(child_ids))
                                    .order_by(ResponsibleCarer.since.desc(), ResponsibleCarer.id.desc())):
        if carer.ended_on is None:
            files[carer.child_id].current = carer
        else:
            files[carer.child_id].before.append(carer)
    if holiday is not None:
        for care in db.session.scalars(holiday.where(HolidayCare.child_id.in_(child_ids))
                                       .order_by(HolidayCare.starts_on.desc(), HolidayCare.id.desc())):
            files[care.child_id].holiday.append(care)
    if waivers is not None:
        rows = db.session.execute(waivers.where(FeeWaiver.child_id.in_(child_ids))
                                  .with_only_columns(FeeWaiver.child_id, FeeWaiver.term)).all()
        for child_id, term in sorted(rows, key=lambda row: term_bounds(row[1]), reverse=True):  # newest first
            files[child_id].waived.append(term_label(term))
    return files


def record_carers(child_ids: list[int], viewer) -> dict[int, CarerFile]:
    return _files(child_ids, reachable_carers(viewer), reachable_holiday_care(viewer),
                  reachable_fee_waivers(viewer))


def archive_carers(child_ids: list[int], printer) -> dict[int, dict]:
    """For the archive (printed for pupils the printer reaches, by one holding carers:read), as
    text: the carer and those before, the terms waived and the holiday care; for a child at a
    school or with any of these (four queries)."""
    if not printer.disclosure.shows("school.carer"):
        return {}
    schooling = printer.may("fee_waivers:read")
    files = _files(child_ids, select(ResponsibleCarer), select(HolidayCare) if schooling else None,
                   select(FeeWaiver) if schooling else None)
    pupils = set(db.session.scalars(select(Child.id).where(Child.id.in_(child_ids), Child.school_id.is_not(None))))
    found = {}
    for child_id, f in files.items():
        if child_id not in pupils and not (f.current or f.before or f.holiday or f.waived):
            continue  # never at a school: the section is left out, not printed empty
        found[child_id] = {
            "carers": [{"name": c.name, "phone": c.phone or "—",
                        "span": f"{format_date(c.since)} 至 " + (format_date(c.ended_on) if c.ended_on else "今"),
                        "note": "；".join(part for part in (c.note, c.end_note) if part) or "—"}
                       for c in ([f.current] if f.current else []) + f.before],
            "waived": "、".join(f.waived) or "—" if schooling else None,
            "holiday": [{"kind": HOLIDAY_CARE_KINDS.get(h.kind, h.kind), "place": h.place,
                         "span": format_date(h.starts_on) + (f" 至 {format_date(h.ends_on)}" if h.ends_on else " 起"),
                         "note": h.note or "—"} for h in f.holiday] if schooling else None,
        }
    return found

