"""A child's care plan (帮扶方案, plan §10 §23): her needs, where each came from, and the measures
(帮扶措施) taken for each, with a responsible person and a due date.

Rules (each broken one is a message in Chinese naming its field):
- a measure has an action, a responsible person and a due date not before today (a due date left
  as it was may have passed: the measure is then overdue, not wrong);
- a measure goes open → in_progress → done with its outcome, or closed with its reason; once done
  or closed it stays so. While a department holds it (an open referral) it is the department's to
  return: the keeper can neither finish it, put it back to waiting, nor give it to another department;
- a need is met when someone says so, once every measure is done or closed and at least one is
  done (the message names the measures still open); a need no longer needed is closed with its
  reason, and its unfinished measures with it;
- a visit's findings become needs with one tap each on the visit page (confirm_visit_need): its
  need categories, and its 需要跟进 as one need "other" (merged into the visit's own "other" when
  it has one). Twice is once: uq_needs_source.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blueprints.care.access import reachable_measures, reachable_needs
from blueprints.care.models import OPEN_REFERRAL_STATES, Measure, Need, Referral
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core.clock import format_date, local_today, utcnow
from blueprints.core.forms import FieldErrors
from blueprints.core.inputs import as_id
from blueprints.core.vocabulary import CURRENT_STATUSES, MEASURE_STATES, NEED_CATEGORIES, NEED_SOURCES, NEED_STATES
from blueprints.places.models import Department
from blueprints.visits.models import Visit
from extensions import db

UNFINISHED = ("open", "in_progress")  # a measure still to be done
DUE_SOON_DAYS = 7  # the home card: measures due within this many days, and those overdue
EMPTY = "—"


class PlanError(FieldErrors):
    """A need or measure the rules refuse: {field: message}."""


def is_overdue(measure: Measure, today: date) -> bool:
    return measure.state in UNFINISHED and measure.due_on < today


def measure_title(measure: Measure) -> str:
    """A measure as a message names it: its action, shortened."""
    action = measure.action.replace("\n", " ")
    return f"“{action[:20]}…”" if len(action) > 20 else f"“{action}”"


def department_choices() -> list[tuple[str, str]]:
    """The departments a measure may name (the 13 of the plan, as the departments table holds them)."""
    return [(str(d.id), d.name) for d in db.session.scalars(
        select(Department).where(Department.active.is_(True)).order_by(Department.id))]


def _text(values: dict, name: str) -> str:
    return (values.get(name) or "").strip()


def _long(errors: dict, name: str, label: str, value: str, limit: int) -> None:
    if len(value) > limit:
        errors[name] = f"{label}：最多 {limit} 个字，请删减"


# --- needs ---------------------------------------------------------------------------------------

def add_need(child: Child, values: dict, *, actor) -> Need:
    """values: category, description: a need typed in by the keeper."""
    ensure_open(child)
    category, description = values.get("category"), _text(values, "description")
    errors: dict[str, str] = {}
    if category not in NEED_CATEGORIES:
        errors["category"] = "需求类别：请从列表中选择"
    if not description:
        errors["description"] = "具体情况：请写明孩子和家庭缺什么、难在哪里"
    _long(errors, "description", "具体情况", description, 500)
    if errors:
        raise PlanError(errors)
    need = Need(child_id=child.id, category=category, description=description, source="manual",
                created_by_id=actor.id if actor is not None else None)
    db.session.add(need)
    audit.record("need_added", need, detail=f"{child.name}：{NEED_CATEGORIES[category]}", user=actor)
    return need


def _lock_need(need: Need) -> None:
    """Read the need afresh under a lock: two keepers resolving it at once decide one after the other."""
    db.session.execute(select(Need).where(Need.id == need.id).with_for_update(of=Need)
                       .execution_options(populate_existing=True))


def _lock_measures(*where) -> tuple[list[Measure], dict[int, Referral]]:
    """Hold the measures `where` selects and read them afresh, with their open referrals read now
    (not the ones loaded with the page): a measure added, or referred (refer_measure locks the
    measure too), by a director on another phone a moment ago counts. (The measures, in order;
    {measure id: its open referral}.)"""
    measures = db.session.scalars(select(Measure).where(*where).order_by(Measure.id).with_for_update(of=Measure)
                                  .execution_options(populate_existing=True)).all()
    if not measures:
        return [], {}
    return measures, {r.measure_id: r for r in db.session.scalars(
        select(Referral).where(Referral.measure_id.in_([m.id for m in measures]),
                               Referral.state.in_(OPEN_REFERRAL_STATES))
        .options(joinedload(Referral.department)))}


def resolve_need(need: Need, values: dict, *, actor) -> None:
    """values: resolution ("met" or "closed"), note. Met: every measure done or closed, one done.
    Closed: no longer needed; its unfinished measures close with it (unless a department holds one)."""
    ensure_open(need.child)
    _lock_need(need)
    measures, referred = _lock_measures(Measure.need_id == need.id)
    resolution, note = values.get("resolution"), _text(values, "note")
    errors: dict[str, str] = {}
    unfinished = [m for m in measures if m.state in UNFINISHED]
    if need.state != "open":
        errors["resolution"] = (f"结果：这项需求已于 {format_date(need.resolved_at)} "
                                f"标记为“{NEED_STATES.get(need.state, need.state)}”")
    elif resolution == "met":
        if not measures:
            errors["resolution"] = "结果：还没有帮扶措施。请先添加并落实措施；如果不再需要，请选择“不再需要”"
        elif unfinished:
            errors["resolution"] = ("结果：还有措施没有完成：" + "、".join(
                f"{measure_title(m)}（{MEASURE_STATES[m.state]}）" for m in unfinished)
                + "。请先完成或终止这些措施")
        elif not any(m.state == "done" for m in measures):
            errors["resolution"] = "结果：没有一项措施已完成，需求不能算已解决；如果不再需要，请选择“不再需要”"
    elif resolution == "closed":
        held = [m for m in unfinished if m.id in referred]
        if held:
            errors["resolution"] = ("结果：措施" + "、".join(
                f"{measure_title(m)}已转介给{referred[m.id].department.name}" for m in held)
                + "，正在办理中，请等部门办结或退回后再关闭")
    else:
        errors["resolution"] = "结果：请选择“已解决”或“不再需要”"
    if not note:
        errors["note"] = "说明：请写明" + ("情况有了什么变化" if resolution == "met" else "为什么不再需要")
    _long(errors, "note", "说明", note, 500)
    if errors:
        raise PlanError(errors)
    today = local_today()
    if resolution == "closed":
        for m in unfinished:
            m.state, m.closed_reason, m.finished_on = "closed", f"需求不再需要：{note}", today
    need.state, need.resolved_note, need.resolved_at = resolution, note, utcnow()
    need.resolved_by_id = actor.id if actor is not None else None
    audit.record("need_met" if resolution == "met" else "need_closed", need, user=actor,
                 detail=f"{need.child.name}：{NEED_CATEGORIES.get(need.category, need.category)}")


# --- a visit's findings --------------------------------------------------------------------------

@dataclass(frozen=True)
class Offer:
    """A finding of a visit that may join the care plan: the need it becomes."""

    category: str
    title: str
    description: str | None


def visit_offers(visit: Visit) -> list[Offer]:
    """The visit's need categories (in the list's order) and its 需要跟进, each as the need it
    becomes, described with the visit's words: the hazards (safety, in place of the needs note,
    which says what the other needs are: a safety need referred to the police carries no note
    about schooling), the needs note, the follow-up note (the follow-up item, or the visit's own
    "other" when it has one)."""
    hazards = ""
    if visit.hazards:
        hazards = "安全隐患：" + "、".join(visit.hazards) + (f"（{visit.hazard_note}）" if visit.hazard_note else "")
    follow_up = ("需要跟进：" + (visit.follow_up_note or "走访时勾选了需要跟进")) if visit.follow_up_needed else ""
    codes = set(visit.need_codes)

    def described(*parts) -> str | None:
        return "；".join(p for p in parts if p) or None

    offers = []
    for code, name in NEED_CATEGORIES.items():
        if code in codes:
            note = (hazards or visit.needs_note) if code == "safety" else visit.needs_note
            offers.append(Offer(code, name + ("（需要跟进）" if code == "other" and follow_up else ""), described(
                note, follow_up if code == "other" else "")))
    if follow_up and "other" not in codes:
        offers.append(Offer("other", "需要跟进", described(follow_up, hazards if "safety" not in codes else "")))
    return offers


def _visit_sources(visit: Visit) -> list[int]:
    """The visits whose confirmed needs count for this one: itself and the visit it corrects."""
    return [visit.id, visit.corrects_id] if visit.corrects_id else [visit.id]


def confirmed_from_visit(visit: Visit, query=None) -> dict[str, Need]:
    """The needs already in the plan from this visit (or the one it corrects), by category: one query."""
    query = select(Need) if query is None else query
    return {n.category: n for n in db.session.scalars(query.where(
        Need.child_id == visit.child_id, Need.source == "visit", Need.source_id.in_(_visit_sources(visit)))
        .order_by(Need.id.desc()))}


def confirm_visit_need(visit: Visit, category: str, *, actor) -> tuple[Need, bool]:
    """The visit's finding `category` (one of visit_offers, else LookupError) in the child's plan:
    (the need, whether it was added now). Confirmed twice, it is there once."""
    offer = next((o for o in visit_offers(visit) if o.category == category), None)
    if offer is None:
        raise LookupError(category)
    found = confirmed_from_visit(visit).get(category)
    if found is not None:
        return found, False
    if visit.superseded:
        raise PlanError({"category": "这条走访记录已被更正，请在更正后的记录上加入帮扶方案"})
    ensure_open(visit.child)
    need = add_need_once(visit.child_id, category, offer.description, "visit", visit.id, actor=actor)
    if need is None:  # the same tap from another phone came first
        return confirmed_from_visit(visit)[category], False
    audit.record("need_confirmed", need, user=actor,
                 detail=f"{visit.child.name}：{NEED_CATEGORIES[category]}（走访 {format_date(visit.visited_on)}）")
    return need, True


def add_need_once(child_id: int, category: str, description: str | None, source: str, source_id: int, *,
                  actor) -> Need | None:
    """A need that came from a record (a visit, an assessment…) into the child's plan, or None when
    another tap (another phone) put it there first: uq_needs_source keeps one per source and category."""
    need = Need(child_id=child_id, category=category, description=description, source=source,
                source_id=source_id, created_by_id=actor.id if actor is not None else None)
    try:
        with db.session.begin_nested():
            db.session.add(need)
    except IntegrityError:
        return None
    return need


def visit_slot(viewer, visit: Visit) -> dict | None:
    """The care plan's piece of the visit page: each finding with 加入帮扶方案 or 已加入. One query."""
    offers = visit_offers(visit)
    if not offers:
        return None
    confirmed = confirmed_from_visit(visit, reachable_needs(viewer))
    return {"visit": visit, "items": [(offer, confirmed.get(offer.category)) for offer in offers],
            "may_confirm": can(viewer, "care_plans:write") and not visit.superseded
            and visit.child.status != "exited"}


# --- measures ------------------------------------------------------------------------------------

def _department(values: dict, errors: dict) -> Department | None:
    raw = values.get("department_id")
    if raw in (None, ""):
        return None
    ident = as_id(raw)
    department = db.session.get(Department, ident) if ident else None
    if department is None or not department.active:
        errors["department_id"] = "责任部门：请从列表中选择，或不选"
    return department


def _check_measure(values: dict, errors: dict, today: date, due_may_pass: date | None = None):
    """action, owner_name, due_on: checked, cleaned. A due date left as it was (due_may_pass) may
    have passed; a new one may not."""
    action, owner = _text(values, "action"), _text(values, "owner_name")
    due_on = values.get("due_on")
    if not action:
        errors["action"] = "帮扶措施：请写明要做什么"
    _long(errors, "action", "帮扶措施", action, 300)
    if not owner:
        errors["owner_name"] = "责任人：请填写负责落实的人"
    _long(errors, "owner_name", "责任人", owner, 40)
    if not isinstance(due_on, date):
        errors["due_on"] = "完成期限：请填写日期"
    elif due_on < today and due_on != due_may_pass:
        errors["due_on"] = f"完成期限：不能早于今天（{format_date(today)}）"
    return action, owner, due_on


def _owner_user_id(owner: str, actor) -> int | None:
    """The keeper who names herself responsible gets the due reminders (notices)."""
    return actor.id if actor is not None and owner == actor.display_name else None


def add_measure(need: Need, values: dict, *, actor) -> Measure:
    """values: action, department_id (or None), owner_name, due_on."""
    ensure_open(need.child)
    today = local_today()
    errors: dict[str, str] = {}
    if need.state != "open":
        errors["action"] = (f"帮扶措施：这项需求已标记为“{NEED_STATES.get(need.state, need.state)}”，"
                            "不能再添加措施；如有新的需要，请登记一项新需求")
    action, owner, due_on = _check_measure(values, errors, today)
    department = _department(values, errors)
    if errors:
        raise PlanError(errors)
    measure = Measure(need_id=need.id, child_id=need.child_id, action=action, owner_name=owner, due_on=due_on,
                      department_id=department.id if department else None, state="open",
                      owner_user_id=_owner_user_id(owner, actor), created_by_id=actor.id if actor is not None else None)
    db.session.add(measure)
    audit.record("measure_added", measure, user=actor,
                 detail=f"{need.child.name}：{NEED_CATEGORIES.get(need.category, need.category)}，"
                        f"期限 {format_date(due_on)}")
    return measure


def update_measure(measure: Measure, values: dict, *, actor) -> None:
    """values: action, department_id, owner_name, due_on, state, outcome (done), closed_reason (closed)."""
    ensure_open(measure.child)
    held = _lock_measures(Measure.id == measure.id)[1].get(measure.id)
    today = local_today()
    errors: dict[str, str] = {}
    if measure.state not in UNFINISHED:
        raise PlanError({"state": f"状态：该措施已于 {format_date(measure.finished_on)} "
                                  f"{MEASURE_STATES[measure.state]}，不能再修改"})
    action, owner, due_on = _check_measure(values, errors, today, due_may_pass=measure.due_on)
    department = _department(values, errors)
    state = values.get("state")
    outcome, reason = _text(values, "outcome"), _text(values, "closed_reason")
    if state not in MEASURE_STATES:
        errors["state"] = "状态：请从列表中选择"
    elif held is not None and state != "in_progress":  # the department's, until it returns it
        errors["state"] = (f"状态：该措施已转介给{held.department.name}，正在办理中，"
                           "由部门办结或退回；如需改变，请先与部门沟通")
    elif state == "done" and not outcome:
        errors["outcome"] = "完成情况：状态选“已完成”时请写明做了什么、结果如何"
    elif state == "closed" and not reason:
        errors["closed_reason"] = "终止原因：状态选“已终止”时请写明原因"
    if held is not None and "department_id" not in errors and (department.id if department else None) != measure.department_id:
        errors["department_id"] = f"责任部门：该措施已转介给{held.department.name}，办理中不能改动责任部门"
    _long(errors, "outcome", "完成情况", outcome, 500)
    _long(errors, "closed_reason", "终止原因", reason, 500)
    if errors:
        raise PlanError(errors)
    if owner != measure.owner_name:
        measure.owner_user_id = _owner_user_id(owner, actor)
    measure.action, measure.owner_name, measure.due_on = action, owner, due_on
    measure.department_id = department.id if department else None
    measure.state = state
    if state == "done":
        measure.outcome, measure.finished_on = outcome, today
    elif state == "closed":
        measure.closed_reason, measure.finished_on = reason, today
    audit.record({"done": "measure_done", "closed": "measure_closed"}.get(state, "measure_updated"), measure,
                 user=actor, detail=f"{measure.child.name}：{measure_title(measure)} {MEASURE_STATES[state]}")


# --- the plan page -------------------------------------------------------------------------------

MEASURE_LOAD = (selectinload(Need.measures).selectinload(Measure.referrals).joinedload(Referral.department),
                selectinload(Need.measures).joinedload(Measure.department))
_NEED_ORDER = (case({"open": 0, "met": 1}, value=Need.state, else_=2), Need.id.desc())


def plan_needs(child: Child, viewer) -> list[Need]:
    """The child's needs as `viewer` reaches them, open first, with their measures and referrals:
    a fixed number of queries."""
    return db.session.scalars(reachable_needs(viewer).where(Need.child_id == child.id)
                              .options(*MEASURE_LOAD, joinedload(Need.created_by)).order_by(*_NEED_ORDER)).all()


def visit_dates(needs: list[Need]) -> dict[int, date]:
    """The day of each visit a need came from (the source's link says it): one query."""
    ids = {n.source_id for n in needs if n.source == "visit" and n.source_id}
    if not ids:
        return {}
    return dict(db.session.execute(select(Visit.id, Visit.visited_on).where(Visit.id.in_(ids))).all())


def source_label(need: Need, visits: dict[int, date]) -> str:
    label = NEED_SOURCES.get(need.source, need.source)
    if need.source == "visit" and need.source_id in visits:
        return f"{label} {format_date(visits[need.source_id])}"
    return label


# --- the home card: measures due soon or overdue --------------------------------------------------

def due_panel(user) -> dict:
    """The measures of the children `user` keeps that are due within DUE_SOON_DAYS or overdue,
    soonest first, named: two queries."""
    today = local_today()
    due = reachable_measures(user, "care_plans:write").join(Child, Child.id == Measure.child_id).where(
        Measure.state.in_(UNFINISHED), Measure.due_on <= today + timedelta(days=DUE_SOON_DAYS),
        Child.status.in_(CURRENT_STATUSES))
    total = db.session.scalar(due.with_only_columns(func.count(Measure.id)).order_by(None)) or 0
    rows = db.session.execute(due.with_only_columns(Measure.id, Measure.child_id, Child.name, Measure.action,
                                                    Measure.due_on)
                              .order_by(Measure.due_on, Measure.id).limit(HOME_CARD_NAMES)).all() if total else []
    return {"total": total, "rows": rows, "today": today, "days": DUE_SOON_DAYS}


# --- the record page and the archive ---------------------------------------------------------------

@dataclass
class PlanSummary:
    """What the record page shows of a child's plan: the open needs with their measures, and how
    many needs are met or closed."""

    open: list[Need] = field(default_factory=list)
    resolved: int = 0


def record_plan(child_ids: list[int], viewer) -> dict[int, PlanSummary]:
    """For the record page: three queries for any number of children."""
    found: dict[int, PlanSummary] = defaultdict(PlanSummary)
    base = reachable_needs(viewer).where(Need.child_id.in_(child_ids))
    for need in db.session.scalars(base.where(Need.state == "open").options(*MEASURE_LOAD).order_by(Need.id)):
        found[need.child_id].open.append(need)
    for child_id, count in db.session.execute(base.where(Need.state != "open").with_only_columns(
            Need.child_id, func.count(Need.id)).group_by(Need.child_id)):
        found[child_id].resolved = count
    return found


def archive_plan(child_ids: list[int], printer) -> dict[int, list[dict] | None]:
    """For the archive (printed for children the printer reaches, by a holder of care_plans:read):
    the whole plan, one row per measure (a need without one: one row), as text. A printer whose
    disclosure hides the care file gets None (the section prints nothing). Three queries."""
    if not printer.disclosure.shows("care.need"):
        return dict.fromkeys(child_ids)
    needs = db.session.scalars(select(Need).where(Need.child_id.in_(child_ids)).options(
        selectinload(Need.measures).joinedload(Measure.department))
        .order_by(Need.child_id, *_NEED_ORDER)).all()
    visits = visit_dates(needs)
    today = local_today()
    found: dict[int, list[dict]] = {}
    for need in needs:
        state = NEED_STATES.get(need.state, need.state)
        if need.state != "open":
            state += f"（{format_date(need.resolved_at)}）" + (f"：{need.resolved_note}" if need.resolved_note else "")
        head = {"need": f"{NEED_CATEGORIES.get(need.category, need.category)}：{need.description or EMPTY}",
                "source": source_label(need, visits), "state": state}
        rows = found.setdefault(need.child_id, [])
        for i, m in enumerate(need.measures or [None]):
            row = dict(head) if i == 0 else {"need": "", "source": "", "state": ""}
            if m is None:
                row.update(action="还没有措施", owner=EMPTY, due=EMPTY, result=EMPTY)
            else:
                result = MEASURE_STATES.get(m.state, m.state)
                if m.state == "done":
                    result += f"（{format_date(m.finished_on)}）：{m.outcome}"
                elif m.state == "closed":
                    result += f"（{format_date(m.finished_on)}）：{m.closed_reason}"
                elif is_overdue(m, today):
                    result += "，已逾期"
                row.update(action=m.action, owner=(f"{m.department.name} " if m.department else "") + m.owner_name,
                           due=format_date(m.due_on), result=result)
            rows.append(row)
    return found


def plan_url(child_id: int, anchor: str = "") -> str:
    return url_for("care.plan", child_id=child_id) + (f"#{anchor}" if anchor else "")
