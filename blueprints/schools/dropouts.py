"""Dropouts (辍学, plan §12 控辍保学): the report, the steps taken to bring the pupil back (家访,
劝返, 联系部门), her return (应返尽返), then a weekly attendance check for WATCH_WEEKS weeks so that
a relapse shows.

Rules (each broken one is a message in Chinese naming its field):
- one case waiting for a return per pupil: a second report names the first (the partial unique
  index ux_dropout_cases_open is the backstop; the child's row is locked so two reports at once
  are decided one after the other, children.services.lock_child);
- dates not after today; a step and the return not before the dropout; a new dropout not before
  the last return, nor before the pupil's present state began (e.g. her transfer in); a week
  checked lies in the watch;
- a new dropout during the watch ends that watch (closed_on): the earlier case shows as relapsed.

The watch, week by week: weeks begin on Monday, the first is the week of the return, the last
begins before watch_until. A week is due from the Monday after it, and missed once a further week
has passed without its check. A relapse shows for absences in the watch, a missed week, or a new
dropout after the return."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.models import Child
from blueprints.children.services import ensure_open, lock_child
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.clock import format_date, local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import DROPOUT_REASONS, DROPOUT_STEPS, ENROLMENT_STATES, label
from blueprints.places.models import School
from blueprints.schools.access import reachable_dropouts, reachable_enrolment_changes, reachable_enrolments
from blueprints.schools.classes import class_label, in_class, teacher_class
from blueprints.schools.enrolment import current_state, default_state, record_state, waiting_case
from blueprints.schools.models import AttendanceCheck, DropoutCase, DropoutStep, Enrolment, EnrolmentChange
from extensions import db

WATCH_WEEKS = 18  # a school term: how long a returned pupil's attendance is checked


class DropoutError(FieldErrors):
    """A report, step, return or check the rules refuse: {field: message}."""


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _date_errors(day, label: str, field_name: str, errors: dict[str, str]) -> bool:
    """Whether `day` is a date not after today (else its message goes in `errors`)."""
    if not isinstance(day, date):
        errors[field_name] = f"{label}：请填写日期"
        return False
    if day > local_today():
        errors[field_name] = f"{label}：不能晚于今天"
        return False
    return True


def _note(values: dict, name: str) -> str:
    return (values.get(name) or "").strip()


def report_dropout(child: Child, values: dict, *, actor) -> DropoutCase:
    """values: dropped_on, reason, reason_note. The pupil's state becomes 辍学."""
    ensure_open(child)
    lock_child(child)
    dropped_on, reason, note = values.get("dropped_on"), values.get("reason"), _note(values, "reason_note")
    errors: dict[str, str] = {}
    waiting = waiting_case(child.id)
    last_return = db.session.scalar(select(func.max(DropoutCase.returned_on)).where(DropoutCase.child_id == child.id))
    if waiting is not None:
        errors["dropped_on"] = (f"辍学日期：该生 {waiting.dropped_on:%Y-%m-%d} 起的辍学还没有登记返校，"
                                "请在那条记录里继续跟进")
    elif _date_errors(dropped_on, "辍学日期", "dropped_on", errors):
        state, since = current_state(child)
        if last_return and dropped_on < last_return:
            errors["dropped_on"] = f"辍学日期：不能早于上次返校日期 {last_return:%Y-%m-%d}"
        elif since is not None and dropped_on < since:
            errors["dropped_on"] = (f"辍学日期：不能早于目前状态“{ENROLMENT_STATES[state]}”的开始日期 "
                                    f"{since:%Y-%m-%d}，请核对")
    if reason not in DROPOUT_REASONS:
        errors["reason"] = "辍学原因：请从列表中选择"
    elif reason == "other" and not note:
        errors["reason_note"] = "说明：原因选“其他”时请写明"
    if len(note) > 200:
        errors["reason_note"] = "说明：最多 200 个字，请删减"
    if errors:
        raise DropoutError(errors)
    case = DropoutCase(child_id=child.id, school_id=child.school_id, dropped_on=dropped_on, reason=reason,
                       reason_note=note or None, reported_by_id=actor.id if actor is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(case)
    except IntegrityError:
        # Where the lock is not (SQLite): another report of her came in between; the index kept one.
        raise DropoutError({"dropped_on": "辍学日期：该生的辍学刚刚已由别人报告，请打开那条记录继续跟进"}) from None
    # A watch still running ends with the new dropout: the earlier case shows as relapsed.
    for watched in db.session.scalars(select(DropoutCase).where(
            DropoutCase.child_id == child.id, DropoutCase.id != case.id, DropoutCase.returned_on.is_not(None),
            DropoutCase.closed_on.is_(None))):
        watched.closed_on = dropped_on
    record_state(child, "dropped_out", dropped_on, DROPOUT_REASONS[reason], actor=actor)
    audit.record("dropout_reported", case, detail=f"{child.name}：{dropped_on:%Y-%m-%d} {DROPOUT_REASONS[reason]}",
                 user=actor)
    return case


def lock_case(case: DropoutCase) -> None:
    """Read the case afresh under a lock (a return and a check, or two checks, at once)."""
    db.session.execute(select(DropoutCase).where(DropoutCase.id == case.id).with_for_update(of=DropoutCase)
                       .execution_options(populate_existing=True))


def add_step(case: DropoutCase, values: dict, *, actor) -> DropoutStep:
    """values: kind, done_on, note: what was done to bring the pupil back."""
    ensure_open(case.child)
    kind, done_on, note = values.get("kind"), values.get("done_on"), _note(values, "note")
    errors: dict[str, str] = {}
    if case.closed_on is not None and case.returned_on is not None:  # the watch ended with a new dropout
        errors["kind"] = f"跟进方式：这条记录已于 {case.closed_on:%Y-%m-%d} 关闭，请在新的辍学记录里跟进"
    elif kind not in DROPOUT_STEPS:
        errors["kind"] = "跟进方式：请从列表中选择"
    if _date_errors(done_on, "日期", "done_on", errors) and done_on < case.dropped_on:
        errors["done_on"] = f"日期：不能早于辍学日期 {case.dropped_on:%Y-%m-%d}"
    if not note:
        errors["note"] = "情况：请写明做了什么、结果如何"
    elif len(note) > 1000:
        errors["note"] = "情况：最多 1000 个字，请删减"
    if errors:
        raise DropoutError(errors)
    step = DropoutStep(case_id=case.id, kind=kind, done_on=done_on, note=note,
                       done_by_id=actor.id if actor is not None else None)
    db.session.add(step)
    audit.record("dropout_step_added", case, detail=f"{case.child.name}：{DROPOUT_STEPS[kind]} {done_on:%Y-%m-%d}",
                 user=actor)
    return step


def record_return(case: DropoutCase, values: dict, *, actor) -> None:
    """values: returned_on, return_note. The pupil is 在读 again and watched for WATCH_WEEKS weeks."""
    child = case.child
    ensure_open(child)
    lock_child(child)
    lock_case(case)
    returned_on, note = values.get("returned_on"), _note(values, "return_note")
    errors: dict[str, str] = {}
    if case.returned_on is not None:
        errors["returned_on"] = f"返校日期：已于 {case.returned_on:%Y-%m-%d} 登记返校"
    elif _date_errors(returned_on, "返校日期", "returned_on", errors) and returned_on < case.dropped_on:
        errors["returned_on"] = f"返校日期：不能早于辍学日期 {case.dropped_on:%Y-%m-%d}，请核对"
    if len(note) > 200:
        errors["return_note"] = "说明：最多 200 个字，请删减"
    if errors:
        raise DropoutError(errors)
    case.returned_on, case.return_note = returned_on, note or None
    case.returned_by_id = actor.id if actor is not None else None
    case.watch_until = returned_on + timedelta(weeks=WATCH_WEEKS)
    case.closed_on = None  # a case closed with the child's exit, returned after she was reinstated
    record_state(child, "enrolled", returned_on, "返校", actor=actor)
    audit.record("dropout_returned", case, detail=f"{child.name}：{returned_on:%Y-%m-%d} 返校", user=actor)


def record_attendance(case: DropoutCase, values: dict, *, actor) -> AttendanceCheck:
    """values: week_of (any day of the week), absent_days (0 is 正常), note. A week checked again is
    corrected: the last word stands."""
    ensure_open(case.child)
    lock_case(case)
    day, absent, note = values.get("week_of"), values.get("absent_days"), _note(values, "note")
    errors: dict[str, str] = {}
    week = monday_of(day) if isinstance(day, date) else None
    if case.returned_on is None:
        errors["week_of"] = "周次：该生还没有返校，返校后才每周记录考勤"
    elif week is None:
        errors["week_of"] = "周次：请填写这一周里的任一天"
    elif week > monday_of(local_today()):
        errors["week_of"] = "周次：不能是以后的周"
    elif week < monday_of(case.returned_on):
        errors["week_of"] = f"周次：不能早于返校那一周（{monday_of(case.returned_on):%Y-%m-%d} 起）"
    elif week >= case.watch_until:
        errors["week_of"] = f"周次：复学观察到 {case.watch_until:%Y-%m-%d} 为止，这一周不用记录"
    elif case.closed_on is not None and week > case.closed_on:
        errors["week_of"] = f"周次：这条记录已于 {case.closed_on:%Y-%m-%d} 关闭"
    if not isinstance(absent, int) or isinstance(absent, bool) or not 0 <= absent <= 7:
        errors["absent_days"] = "缺勤天数：请填 0 到 7 天（0 即正常）"
    if len(note) > 200:
        errors["note"] = "说明：最多 200 个字，请删减"
    if errors:
        raise DropoutError(errors)
    check = db.session.scalar(select(AttendanceCheck).where(AttendanceCheck.case_id == case.id,
                                                            AttendanceCheck.week_of == week))
    corrected = check is not None
    if check is None:
        check = AttendanceCheck(case_id=case.id, week_of=week)
        db.session.add(check)
    check.absent_days, check.note = absent, note or None
    check.checked_by_id = actor.id if actor is not None else None
    audit.record("attendance_checked", case, user=actor,
                 detail=f"{case.child.name}：{week:%Y-%m-%d} 这一周" + (f"缺勤 {absent} 天" if absent else "正常")
                 + ("（更正）" if corrected else ""))
    return check


# --- the watch ---------------------------------------------------------------------------------

@dataclass
class Watch:
    """A returned pupil's weeks, as of `today`."""

    weeks: list[date] = field(default_factory=list)  # the Mondays of the watch, up to this week
    checks: dict[date, int] = field(default_factory=dict)  # week → days absent
    due: date | None = None  # last week, over and not yet checked
    missed: list[date] = field(default_factory=list)  # earlier weeks never checked
    dropped_again: date | None = None  # a new dropout after the return
    running: bool = False  # still watched today

    @property
    def absent_days(self) -> int:
        return sum(self.checks.values())

    @property
    def absent_weeks(self) -> int:
        return sum(1 for days in self.checks.values() if days)

    @property
    def relapsed(self) -> bool:
        return bool(self.absent_days or self.missed or self.dropped_again)

    @property
    def signs(self) -> list[str]:
        """What shows the relapse, in words."""
        signs = []
        if self.dropped_again:
            signs.append(f"{self.dropped_again:%Y-%m-%d} 再次辍学")
        if self.absent_days:
            signs.append(f"{self.absent_weeks} 周缺勤共 {self.absent_days} 天")
        if self.missed:
            signs.append(f"漏记 {len(self.missed)} 周考勤")
        return signs


def watch_of(case: DropoutCase, checks: dict[date, int], dropped_again: date | None, today: date) -> Watch | None:
    if case.returned_on is None:
        return None
    end = case.watch_until
    if case.closed_on is not None:
        end = min(end, case.closed_on + timedelta(days=1))
    watch = Watch(checks=checks, dropped_again=dropped_again,
                  running=case.closed_on is None and today < case.watch_until)
    week, this_week = monday_of(case.returned_on), monday_of(today)
    while week < end and week <= this_week:
        watch.weeks.append(week)
        if week not in checks:
            if week + timedelta(days=14) <= today:
                watch.missed.append(week)
            elif week + timedelta(days=7) <= today:
                watch.due = week
        week += timedelta(days=7)
    return watch


def watches(cases: list[DropoutCase], today: date) -> dict[int, Watch]:
    """The watch of each returned case: two queries whatever the number of cases."""
    returned = [c for c in cases if c.returned_on is not None]
    if not returned:
        return {}
    checks: dict[int, dict[date, int]] = defaultdict(dict)
    for case_id, week, absent in db.session.execute(
            select(AttendanceCheck.case_id, AttendanceCheck.week_of, AttendanceCheck.absent_days)
            .where(AttendanceCheck.case_id.in_([c.id for c in returned]))):
        checks[case_id][week] = absent
    dropouts: dict[int, list[date]] = defaultdict(list)
    for child_id, dropped_on in db.session.execute(
            select(DropoutCase.child_id, DropoutCase.dropped_on)
            .where(DropoutCase.child_id.in_({c.child_id for c in returned}))):
        dropouts[child_id].append(dropped_on)
    found = {}
    for case in returned:
        again = min((d for d in dropouts[case.child_id] if d >= case.returned_on and d > case.dropped_on), default=None)
        found[case.id] = watch_of(case, checks[case.id], again, today)
    return found


def case_state(case: DropoutCase, today: date) -> str:
    """open (未返校), closed (没有返校就关闭：儿童退出名册), watched (复学观察中), done (观察期满)."""
    if case.returned_on is None:
        return "closed" if case.closed_on is not None else "open"
    return "watched" if case.closed_on is None and today < case.watch_until else "done"


CASE_STATES = {"open": "未返校", "closed": "已关闭", "watched": "复学观察中", "done": "观察期满"}


# --- the lists and the home cards ---------------------------------------------------------------

LIST_FILTERS = {"open": "未返校", "watched": "复学观察中", "relapsed": "有反复", "all": "全部"}
TOWN_PANEL_NAMES = 20  # civil affairs' and 镇教办's card, read at a desk


@dataclass
class Listed:
    case: DropoutCase
    state: str  # CASE_STATES
    watch: Watch | None

    @property
    def state_label(self) -> str:
        return CASE_STATES[self.state]


def _open(query):
    return query.where(DropoutCase.returned_on.is_(None), DropoutCase.closed_on.is_(None))


def _watched(query, today: date):
    return query.where(DropoutCase.returned_on.is_not(None), DropoutCase.closed_on.is_(None),
                       DropoutCase.watch_until > today)


def listed(cases: list[DropoutCase], today: date) -> list[Listed]:
    found = watches(cases, today)
    return [Listed(c, case_state(c, today), found.get(c.id)) for c in cases]


def dropout_page(query, which: str, today: date, page: int, size: int, options=()) -> tuple[list[Listed], int]:
    """One page of the cases `query` selects (already limited to the user's reach and filters),
    filtered by `which` (LIST_FILTERS), and how many there are in all. Open cases first, the
    longest out first; then the newest returns. A relapse is a matter of weeks and checks: for
    that filter the returned cases are weighed here (few: a town's dropouts are counted in tens)."""
    order = (DropoutCase.returned_on.is_not(None), DropoutCase.returned_on.desc(), DropoutCase.dropped_on,
             DropoutCase.id)
    if which == "relapsed":
        cases = db.session.scalars(query.where(DropoutCase.returned_on.is_not(None)).options(*options)
                                   .order_by(*order)).all()
        rows = [row for row in listed(cases, today) if row.watch.relapsed]
        return rows[(page - 1) * size:page * size], len(rows)
    if which == "open":
        query = _open(query)
    elif which == "watched":
        query = _watched(query, today)
    total = db.session.scalar(query.with_only_columns(func.count(DropoutCase.id)).order_by(None)) or 0
    cases = db.session.scalars(query.options(*options).order_by(*order).limit(size).offset((page - 1) * size)).all()
    return listed(cases, today), total


def _checks_due(query, today: date):
    """Returned pupils whose last week is over and not yet checked."""
    this_week = monday_of(today)
    last_week = this_week - timedelta(days=7)
    checked = select(AttendanceCheck.id).where(AttendanceCheck.case_id == DropoutCase.id,
                                               AttendanceCheck.week_of == last_week)
    return query.where(DropoutCase.returned_on < this_week, DropoutCase.watch_until > last_week,
                       DropoutCase.closed_on.is_(None), ~checked.exists())


def _names(query, limit: int) -> list[tuple[int, str, date]]:
    """(case id, pupil's name, the date that matters) of the first `limit` cases: one query."""
    return [tuple(row) for row in db.session.execute(
        query.join(Child, Child.id == DropoutCase.child_id)
        .with_only_columns(DropoutCase.id, Child.name, DropoutCase.dropped_on)
        .order_by(DropoutCase.dropped_on, DropoutCase.id).limit(limit))]


def of_class(query, pair: tuple | None):
    """The cases of a class's pupils (None: all that `query` selects)."""
    return query if pair is None else query.where(DropoutCase.child_id.in_(select(Child.id).where(in_class(pair))))


def school_panel(user) -> dict:
    """A school's card: its open dropouts and the attendance checks due, named, one tap each (a
    class teacher's class's, with her class named)."""
    today = local_today()
    pair = teacher_class(user)
    base = of_class(reachable_dropouts(user, "dropouts:write"), pair)
    open_cases, due = _open(base), _checks_due(base, today)
    counts = db.session.execute(select(
        open_cases.with_only_columns(func.count(DropoutCase.id)).order_by(None).scalar_subquery(),
        due.with_only_columns(func.count(DropoutCase.id)).order_by(None).scalar_subquery())).one()
    return {"open_count": counts[0], "open": _names(open_cases, HOME_CARD_NAMES) if counts[0] else [],
            "due_count": counts[1], "due": _names(due, HOME_CARD_NAMES) if counts[1] else [],
            "due_week": monday_of(today) - timedelta(days=7), "class_label": class_label(*pair) if pair else None}


def town_panel(user) -> dict | None:
    """The town's card (civil affairs, the supervisor, 镇教办): open dropouts, named with their
    school, and the returned pupils watched now, with how many show a relapse. A school has its
    own card."""
    if can(user, "dropouts:write"):
        return None
    today = local_today()
    base = reachable_dropouts(user, "dropouts:list")
    open_cases = _open(base)
    total = db.session.scalar(open_cases.with_only_columns(func.count(DropoutCase.id)).order_by(None)) or 0
    names = db.session.execute(
        open_cases.join(Child, Child.id == DropoutCase.child_id).outerjoin(School, School.id == Child.school_id)
        .with_only_columns(DropoutCase.id, Child.name, School.name, DropoutCase.dropped_on)
        .order_by(DropoutCase.dropped_on, DropoutCase.id).limit(TOWN_PANEL_NAMES)).all() if total else []
    watched = db.session.scalars(_watched(base, today)).all()
    return {"open_count": total, "open": names, "watched_count": len(watched),
            "relapsed_count": sum(1 for w in watches(watched, today).values() if w.relapsed)}


# --- the section "在读与辍学" of the record page and of the archive --------------------------------

@dataclass
class Schooling:
    state: str
    since: date | None
    changes: list[tuple[EnrolmentChange, str]]  # newest first, each with its words
    cases: list[Listed]  # newest first


def describe_change(change: EnrolmentChange) -> str:
    if change.state_to == "transferred":
        old = change.school.name if change.school else ""
        new = change.to_school.name if change.to_school else "本镇以外"
        return f"转学：{old} → {new}"
    return f"{label(change.state_from, 'enrolment_state')} → {label(change.state_to, 'enrolment_state')}"


def _schooling(child_ids: list[int], enrolments, changes, cases) -> dict[int, Schooling]:
    """Each child's state, changes and cases among the rows the three queries reach: a fixed
    number of queries for any number of children."""
    if not child_ids:
        return {}
    today = local_today()
    schools = dict(db.session.execute(select(Child.id, Child.school_id).where(Child.id.in_(child_ids))).all())
    rows = {e.child_id: e for e in db.session.scalars(enrolments.where(Enrolment.child_id.in_(child_ids)))}
    changed: dict[int, list] = defaultdict(list)
    for change in db.session.scalars(
            changes.where(EnrolmentChange.child_id.in_(child_ids))
            .options(joinedload(EnrolmentChange.school), joinedload(EnrolmentChange.to_school),
                     joinedload(EnrolmentChange.changed_by))
            .order_by(EnrolmentChange.changed_on.desc(), EnrolmentChange.id.desc())):
        changed[change.child_id].append((change, describe_change(change)))
    found_cases = db.session.scalars(
        cases.where(DropoutCase.child_id.in_(child_ids))
        .options(selectinload(DropoutCase.steps), joinedload(DropoutCase.school), joinedload(DropoutCase.reported_by))
        .order_by(DropoutCase.dropped_on.desc(), DropoutCase.id.desc())).all()
    by_child: dict[int, list[Listed]] = defaultdict(list)
    for row in listed(found_cases, today):
        by_child[row.case.child_id].append(row)
    found = {}
    for child_id, school_id in schools.items():
        row = rows.get(child_id)
        found[child_id] = Schooling(row.state if row else default_state(school_id), row.since if row else None,
                                    changed[child_id], by_child[child_id])
    return found


def record_schooling(child_ids: list[int], viewer) -> dict[int, Schooling]:
    return _schooling(child_ids, reachable_enrolments(viewer), reachable_enrolment_changes(viewer),
                      reachable_dropouts(viewer))


def watch_text(case: DropoutCase, watch: Watch | None) -> str:
    if watch is None:
        return ""
    checked = sum(1 for week in watch.weeks if week in watch.checks)
    words = [f"观察至 {case.watch_until:%Y-%m-%d}" if watch.running else "观察已结束",
             f"已记 {checked} 周考勤"]
    return "，".join(words + watch.signs)


def archive_schooling(child_ids: list[int], printer) -> dict[int, dict]:
    """For the archive (printed for children the printer reaches, by one holding dropouts:read):
    the state, every dropout with its steps, return and watch, and every change, as text."""
    found = {}
    for child_id, s in _schooling(child_ids, select(Enrolment), select(EnrolmentChange), select(DropoutCase)).items():
        found[child_id] = {
            "state": label(s.state, "enrolment_state") + (f"（{format_date(s.since)} 起）" if s.since else ""),
            "cases": [{
                "dropped": f"{format_date(row.case.dropped_on)}（{row.case.school.name}）",
                "reason": label(row.case.reason, "dropout_reason")
                + (f"：{row.case.reason_note}" if row.case.reason_note else ""),
                "steps": "；".join(f"{format_date(step.done_on)} {label(step.kind, 'dropout_step')}：{step.note}"
                                  for step in row.case.steps) or "暂无",
                "returned": (format_date(row.case.returned_on) + (f"（{row.case.return_note}）" if row.case.return_note else ""))
                if row.case.returned_on else CASE_STATES[row.state],
                "watch": watch_text(row.case, row.watch),
            } for row in s.cases],
            "changes": [{"on": format_date(change.changed_on), "change": text, "note": change.note or ""}
                        for change, text in s.changes],
        }
    return found
