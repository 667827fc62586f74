"""Case conferences (个案会商, 保障一): who sat, what was said, and the decisions, each of which
becomes a measure with an owner and a due date in the child's care plan (a need whose source is
the conference: one need per category decided, uq_needs_source). The minutes print on one page
with a signature line for each department present (print/conference.html)."""
from __future__ import annotations

from collections import defaultdict
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.care.access import reachable_conferences
from blueprints.care.models import Conference, Measure, Need
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit
from blueprints.core.clock import format_date, format_datetime, local_today
from blueprints.core.disclosure import shown_age
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import GENDERS, MEASURE_STATES, NEED_CATEGORIES
from blueprints.places.models import Department
from extensions import db

DOC_TITLE = "个案会商记录"
EMPTY = "—"
# A decision's fields, in the words its messages use
DECISION_FIELDS = {"category": "需求类别", "action": "措施", "owner_name": "责任人", "due_on": "完成期限"}


def active_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.id)))


def decision_errors(decisions: list[dict], departments: dict[int, Department] | None = None) -> dict[str, str]:
    """Each row that is not blank must be whole, its department one of the list and its due date not
    past: {"decisions-<row>-<field>": message naming the row and the field}."""
    departments = departments if departments is not None else {d.id: d for d in active_departments()}
    today = local_today()
    errors: dict[str, str] = {}
    for index, row in enumerate(decisions):
        if not any(row.get(name) for name in (*DECISION_FIELDS, "department_id")):
            continue  # a blank row: not a decision
        where = f"第 {index + 1} 条决定"
        for name, label in DECISION_FIELDS.items():
            if not row.get(name):
                errors[f"decisions-{index}-{name}"] = f"{where}：请填写{label}" if name not in ("category", "due_on") \
                    else f"{where}：请选择{label}"
        if row.get("category") and row["category"] not in NEED_CATEGORIES:
            errors[f"decisions-{index}-category"] = f"{where}：需求类别请从列表中选择"
        if row.get("department_id") and row["department_id"] not in departments:
            errors[f"decisions-{index}-department_id"] = f"{where}：责任部门请从列表中选择"
        if row.get("due_on") and row["due_on"] < today:
            errors[f"decisions-{index}-due_on"] = f"{where}：完成期限不能早于今天（{today:%Y-%m-%d}）"
    return errors


def hold_conference(child: Child, values: dict, decisions: list[dict], *, actor) -> Conference:
    """values: held_on, place, attendees, summary, department_ids; decisions: one dict per row of the
    form (category, action, department_id, owner_name, due_on), blank rows included. Raises
    FieldErrors keyed by the form's field names ("decisions-1-owner_name")."""
    ensure_open(child)
    today = local_today()
    departments = {d.id: d for d in active_departments()}
    errors: dict[str, str] = {}
    held_on, summary = values.get("held_on"), (values.get("summary") or "").strip()
    if held_on is None:
        errors["held_on"] = "请填写会商日期"
    elif held_on > today:
        errors["held_on"] = "会商日期不能晚于今天"
    if not summary:
        errors["summary"] = "请填写会商情况"
    present = values.get("department_ids") or []
    if any(i not in departments for i in present):
        errors["departments"] = "参会部门请从列表中选择"
    errors |= decision_errors(decisions, departments)
    if errors:
        raise FieldErrors(errors)

    by = actor.id if actor is not None else None
    conference = Conference(child_id=child.id, held_on=held_on, place=(values.get("place") or "").strip() or None,
                            attendees=(values.get("attendees") or "").strip() or None, summary=summary,
                            departments=[departments[i] for i in dict.fromkeys(present)], created_by_id=by)
    db.session.add(conference)
    db.session.flush()
    rows = [row for row in decisions if row.get("action")]
    needs: dict[str, Need] = {}
    for row in rows:  # the decisions of one category are the measures of one need
        need = needs.get(row["category"])
        if need is None:
            need = needs[row["category"]] = Need(child_id=child.id, category=row["category"], source="conference",
                                                 source_id=conference.id, created_by_id=by, description="")
            db.session.add(need)
        need.description = "；".join(filter(None, [need.description, row["action"]]))
        need.measures.append(Measure(child_id=child.id, action=row["action"], department_id=row.get("department_id"),
                                     owner_name=row["owner_name"], due_on=row["due_on"], created_by_id=by))
    audit.record("conference_held", conference,
                 detail=f"{child.name}：{held_on:%Y-%m-%d} 个案会商，决定 {len(rows)} 项措施")
    return conference


def decisions_of(conference_ids: list[int]) -> dict[int, list[Measure]]:
    """The measures each conference decided, in the order typed: one query."""
    found: dict[int, list[Measure]] = defaultdict(list)
    if not conference_ids:
        return found
    query = (select(Measure).join(Need, Need.id == Measure.need_id)
             .where(Need.source == "conference", Need.source_id.in_(conference_ids))
             .options(joinedload(Measure.department), joinedload(Measure.need)).order_by(Measure.id))
    for measure in db.session.scalars(query):
        found[measure.need.source_id].append(measure)
    return found


LIST_OPTIONS = (joinedload(Conference.child).joinedload(Child.residence_village), selectinload(Conference.departments))


def conference_page(query: Select, page: int, size: int) -> tuple[list[Conference], int]:
    """A page of conferences, newest first, and how many there are: two queries."""
    total = db.session.scalar(query.with_only_columns(func.count(Conference.id)).order_by(None)) or 0
    rows = db.session.scalars(query.options(*LIST_OPTIONS).order_by(Conference.held_on.desc(), Conference.id.desc())
                              .limit(size).offset((page - 1) * size)).all()
    return list(rows), total


def record_conferences(child_ids: list[int], viewer) -> dict[int, list[tuple[Conference, list[Measure]]]]:
    """For the record page: each child's conferences the viewer reaches, newest first, with their
    decisions. Two queries (and one for the departments)."""
    conferences = db.session.scalars(
        reachable_conferences(viewer).where(Conference.child_id.in_(child_ids))
        .options(selectinload(Conference.departments)).order_by(Conference.held_on.desc(), Conference.id.desc())).all()
    decided = decisions_of([c.id for c in conferences])
    found: dict[int, list] = defaultdict(list)
    for conference in conferences:
        found[conference.child_id].append((conference, decided.get(conference.id, [])))
    return found


def _decision_text(measure: Measure) -> dict:
    return {"category": NEED_CATEGORIES.get(measure.need.category, measure.need.category), "action": measure.action,
            "department": measure.department.name if measure.department else EMPTY, "owner": measure.owner_name,
            "due": format_date(measure.due_on), "state": MEASURE_STATES.get(measure.state, measure.state)}


def archive_conferences(child_ids: list[int], printer) -> dict[int, list[dict] | None]:
    """For the archive (printed by a holder of conferences:read for children she reaches): every
    conference as text, its decisions with their state today. None when the printer's disclosure
    hides the care records (the section prints nothing)."""
    if not printer.disclosure.shows("care.conference"):
        return dict.fromkeys(child_ids)
    conferences = db.session.scalars(
        select(Conference).where(Conference.child_id.in_(child_ids)).options(selectinload(Conference.departments))
        .order_by(Conference.held_on.desc(), Conference.id.desc())).all()
    decided = decisions_of([c.id for c in conferences])
    found: dict[int, list[dict] | None] = {}
    for c in conferences:
        found.setdefault(c.child_id, []).append({
            "held_on": format_date(c.held_on), "place": c.place or EMPTY,
            "departments": "、".join(d.name for d in c.departments) or EMPTY, "attendees": c.attendees or EMPTY,
            "summary": c.summary, "decisions": [_decision_text(m) for m in decided.get(c.id, [])],
        })
    return found


def minutes_context(conference: Conference, printer, org_name: str) -> dict:
    """What the one-page minutes (会商记录) show, as text: the child as the printer may see her, the
    meeting, the decisions, and a signature line for each department present."""
    child = conference.child
    today = local_today()
    child_facts = [
        ("儿童姓名", child.name), ("性别", GENDERS.get(child.gender, child.gender or EMPTY)),
        ("年龄", f"{shown_age(child.birth_date, today, printer.disclosure)} 岁"),
        ("居住村", child.residence_village.name if child.residence_village else EMPTY),
        ("就读学校", child.school.name if child.school else EMPTY), ("档案号", child.archive_no),
    ]
    meeting = [("会商日期", format_date(conference.held_on)), ("地点", conference.place or EMPTY)]
    # Attendees as one line: the page has no room for a list typed one name a line.
    attendees = "；".join(line.strip() for line in (conference.attendees or "").splitlines() if line.strip())
    return {
        "doc_title": DOC_TITLE,
        "org_name": org_name,
        "printed_by": printer.name,
        "printed_at": format_datetime(printer.at),
        "conference_no": str(conference.id),
        "child_name": child.name,
        "child_facts": child_facts,
        "meeting": meeting,
        "departments": [d.name for d in conference.departments],
        "attendees": attendees or EMPTY,
        "summary": conference.summary,
        "decisions": [_decision_text(m) for m in decisions_of([conference.id]).get(conference.id, [])],
        "recorded_by": conference.created_by.display_name if conference.created_by else EMPTY,
    }
