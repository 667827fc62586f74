"""Recording visits and parent contacts (idempotent by the phone's client_uuid), due lists and
monthly compliance. Every query starts from the access gate."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from blueprints.admin.models import Village
from blueprints.auth.models import User, user_villages
from blueprints.children.models import Child, ParentContact
from blueprints.children.services import add_parent_contact
from blueprints.core import audit
from blueprints.core.access import reachable_children
from blueprints.core.clock import to_local, utcnow
from blueprints.visits.cadence import BUCKETS, classify, due_on, month_bounds
from blueprints.visits.models import NEED_CATEGORIES, Visit, VisitNeed
from extensions import db

CURRENT = ("registered", "active")


def _registered_on(child: Child) -> date:
    return to_local(child.created_at).date()


# --- recording ------------------------------------------------------------------------------

def find_by_uuid(model, client_uuid: str):
    return db.session.scalar(select(model).where(model.client_uuid == client_uuid))


def record_visit(child: Child, values: dict, needs: list[str], client_uuid: str) -> tuple[Visit, bool]:
    """Store a visit once: (visit, created). A replay of the same client_uuid, even one that
    races this one from another request, returns the visit already stored."""
    existing = find_by_uuid(Visit, client_uuid)
    if existing is not None:
        return existing, False
    visit = Visit(child_id=child.id, visitor_id=current_user.id, client_uuid=client_uuid, **values)
    visit.needs = [VisitNeed(category=code) for code in sorted(set(needs)) if code in NEED_CATEGORIES]
    db.session.add(visit)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent replay stored it first (the UNIQUE constraint decides). Nothing else is
        # pending in this request, so a rollback loses nothing.
        db.session.rollback()
        return find_by_uuid(Visit, client_uuid), False
    audit.record("visit_recorded", visit, detail=f"{child.name} {values['visited_on']:%Y-%m-%d}")
    return visit, True


def record_contact(child: Child, contacted_on: date, who: str, method: str, note: str | None,
                   client_uuid: str) -> tuple[ParentContact, bool]:
    existing = find_by_uuid(ParentContact, client_uuid)
    if existing is not None:
        return existing, False
    contact = add_parent_contact(child, contacted_on, who, method, note, client_uuid=client_uuid)
    try:
        db.session.flush()
    except IntegrityError:  # a concurrent replay won: see record_visit
        db.session.rollback()
        return find_by_uuid(ParentContact, client_uuid), False
    return contact, True


def correct_visit(original: Visit, values: dict, needs: list[str], client_uuid: str, reason: str) -> Visit:
    """A correction is a new visit pointing at the original, which stays, marked superseded."""
    visit, _ = record_visit(original.child, values, needs, client_uuid)
    visit.corrects_id = original.id
    original.superseded = True
    audit.record("visit_corrected", visit, detail=f"更正走访 #{original.id}：{reason}")
    return visit


def review_visit(visit: Visit, comment: str) -> None:
    visit.reviewed_by_id = current_user.id
    visit.reviewed_at = utcnow()
    visit.review_comment = comment
    audit.record("visit_reviewed", visit, detail=comment[:100])


def recent_visits(child: Child, limit: int = 10) -> list[Visit]:
    """For the child's record page, newest first, with who visited (one query)."""
    return list(db.session.scalars(
        select(Visit).where(Visit.child_id == child.id).options(joinedload(Visit.visitor))
        .order_by(Visit.visited_on.desc(), Visit.id.desc()).limit(limit)
    ))


# --- due lists ------------------------------------------------------------------------------

def last_visits(child_ids_query, before: date | None = None) -> dict[int, date]:
    query = select(Visit.child_id, func.max(Visit.visited_on)).where(
        Visit.child_id.in_(child_ids_query), Visit.superseded.is_(False))
    if before is not None:
        query = query.where(Visit.visited_on < before)
    return dict(db.session.execute(query.group_by(Visit.child_id)).all())


@dataclass
class DueRow:
    child: Child
    last_visit: date | None
    due: date
    bucket: str
    days: int


def due_list(user, today: date) -> tuple[list[DueRow], dict[str, int]]:
    """The children `user` visits, most urgent first, and how many in each bucket."""
    children = reachable_children(user).where(Child.status.in_(CURRENT)).options(
        joinedload(Child.residence_village), selectinload(Child.categories))
    rows = db.session.scalars(children).unique().all()
    last = last_visits(reachable_children(user).where(Child.status.in_(CURRENT)).with_only_columns(Child.id))
    result = []
    for child in rows:
        d = classify(last.get(child.id), _registered_on(child), child.attention_level, today)
        result.append(DueRow(child, last.get(child.id), d.due, d.bucket, d.days))
    order = list(BUCKETS)
    result.sort(key=lambda r: (order.index(r.bucket), r.due, r.child.attention_level != "key", r.child.name_pinyin))
    counts = {bucket: sum(1 for r in result if r.bucket == bucket) for bucket in BUCKETS}
    return result, counts


# --- compliance -----------------------------------------------------------------------------

@dataclass
class Compliance:
    name: str
    due: int = 0
    done: int = 0
    overdue: int = 0

    @property
    def rate(self) -> int:
        return round(100 * self.done / self.due) if self.due else 100


def compliance(user, year: int, month: int, today: date) -> tuple[list[Compliance], list[Compliance], Compliance]:
    """For one month: by village and by director, the children due a visit (due by the month's
    end, counting from their last visit before it), those visited in the month, and those overdue."""
    start, end = month_bounds(year, month)
    children_q = reachable_children(user).where(Child.status.in_(CURRENT), Child.created_at <= datetime.combine(end, datetime.max.time()))
    ids = children_q.with_only_columns(Child.id)
    rows = db.session.execute(children_q.with_only_columns(
        Child.id, Child.residence_village_id, Child.attention_level, Child.created_at)).all()
    before = last_visits(ids, before=start)
    visited = set(db.session.scalars(select(Visit.child_id).where(
        Visit.child_id.in_(ids), Visit.visited_on.between(start, end), Visit.superseded.is_(False)).distinct()))
    villages = dict(db.session.execute(select(Village.id, Village.name)).all())
    directors = defaultdict(list)
    for village_id, name in db.session.execute(
        select(user_villages.c.village_id, User.display_name).join(User, User.id == user_villages.c.user_id)
        .where(User.role == "director", User.active.is_(True))
    ).all():
        directors[village_id].append(name)

    by_village: dict[int, Compliance] = {}
    by_director: dict[str, Compliance] = {}
    total = Compliance("合计")
    cutoff = min(today, end)
    for child_id, village_id, attention, created_at in rows:
        due = due_on(before.get(child_id), to_local(created_at).date(), attention)
        if due > end:
            continue
        done = child_id in visited
        overdue = not done and due < cutoff
        targets = [by_village.setdefault(village_id, Compliance(villages[village_id])), total]
        targets += [by_director.setdefault(name, Compliance(name)) for name in directors.get(village_id, ["（未配备儿童主任）"])]
        for target in targets:
            target.due += 1
            target.done += done
            target.overdue += overdue
    return (sorted(by_village.values(), key=lambda c: c.name), sorted(by_director.values(), key=lambda c: c.name),
            total)
