"""Recording visits and parent contacts (once per client_uuid: blueprints/core/offline.py), due lists and
monthly compliance. Every query starts from the access gate."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select

from blueprints.places.models import Village
from blueprints.children.models import Child, ChildCategory, ParentContact
from blueprints.children.services import add_parent_contact, ensure_open
from blueprints.core import audit
from blueprints.children.access import reachable_children
from blueprints.core.access import ROLES
from blueprints.core.clock import to_local, utcnow
from blueprints.core.disclosure import disclosure_for, shown_age
from blueprints.auth.staff import directors_by_village
from blueprints.core.offline import CONFLICT_MESSAGES, Outcome, conflict, fingerprint, store_once
from blueprints.core.vocabulary import CURRENT_STATUSES, NEED_CATEGORIES
from blueprints.visits.cadence import BUCKETS, add_months, cadence_months, classify, month_bounds
from blueprints.visits.models import Visit, VisitNeed
from extensions import db



# --- recording ------------------------------------------------------------------------------
# Once per client_uuid, through the one offline contract (blueprints/core/offline.py): a replay
# gets the stored record, a client_uuid reused for another child or body gets a conflict.

def visit_fingerprint(child: Child, values: dict, needs: list[str], corrects: Visit | None = None) -> str:
    return fingerprint(child.id, {**values, "needs": sorted(set(needs)), "corrects_id": corrects.id if corrects else None})


def record_visit(child: Child, values: dict, needs: list[str], client_uuid: str,
                 corrects: Visit | None = None, *, actor) -> Outcome:
    """A new visit to an exited child is refused (ChildExited) once it is known not to be a replay:
    a phone resending what was stored before the exit still gets its 200."""
    def build() -> Visit:
        # a correction fixes the history: allowed up to the exit date
        ensure_open(child, on=values["visited_on"] if corrects else None)
        visit = Visit(child_id=child.id, visitor_id=actor.id, client_uuid=client_uuid,
                      corrects_id=corrects.id if corrects else None, **values)
        visit.needs = [VisitNeed(category=code) for code in sorted(set(needs)) if code in NEED_CATEGORIES]
        db.session.add(visit)
        return visit

    outcome = store_once(Visit, client_uuid, owner_field="visitor_id", owner_id=actor.id, child_id=child.id,
                         fingerprint=visit_fingerprint(child, values, needs, corrects), build=build)
    if outcome.created:
        visit = outcome.record
        if child.last_visit_on is None or visit.visited_on > child.last_visit_on:
            child.last_visit_on = visit.visited_on
        audit.record("visit_recorded", visit, detail=f"{child.name} {values['visited_on']:%Y-%m-%d}", user=actor)
    return outcome


def record_contact(child: Child, contacted_on: date, who: str, method: str, note: str | None,
                   client_uuid: str, *, actor) -> Outcome:
    values = {"contacted_on": contacted_on, "who": who, "method": method, "note": note}
    return store_once(ParentContact, client_uuid, owner_field="recorded_by_id", owner_id=actor.id,
                      child_id=child.id, fingerprint=fingerprint(child.id, values),
                      build=lambda: add_parent_contact(child, client_uuid=client_uuid, actor=actor, **values))


def correct_visit(original: Visit, values: dict, needs: list[str], client_uuid: str, reason: str, *,
                  actor) -> Outcome:
    """A correction is a new visit pointing at the original, which stays, marked superseded. A
    client_uuid that already names another visit is refused: that visit is never re-linked."""
    outcome = record_visit(original.child, values, needs, client_uuid, corrects=original, actor=actor)
    if outcome.status == "replay" and outcome.record.corrects_id != original.id:
        return conflict(CONFLICT_MESSAGES["body"])  # an older row without fingerprint, same child
    if not outcome.created:
        return outcome
    visit = outcome.record
    original.superseded = True
    db.session.flush()
    # the corrected date may be earlier than the original's: recount from the visits that stand
    original.child.last_visit_on = db.session.scalar(
        select(func.max(Visit.visited_on)).where(Visit.child_id == original.child_id, Visit.superseded.is_(False)))
    audit.record("visit_corrected", visit, detail=f"更正走访 #{original.id}：{reason}", user=actor)
    return outcome


def review_visit(visit: Visit, comment: str | None = None, *, actor) -> None:
    """The supervisor has reviewed the visit ("ok"; it leaves the review queue). Without a comment
    (one tap in the queue) an earlier comment stays."""
    visit.review_state = "ok"
    visit.reviewed_by_id = actor.id
    visit.reviewed_at = utcnow()
    if comment:
        visit.review_comment = comment
    audit.record("visit_reviewed", visit, detail=(comment or "评阅通过")[:100], user=actor)


# --- due lists ---------------------------------------------------------------------------

@dataclass(slots=True)  # thousands per due list
class DueRow:
    child_id: int
    name: str
    age: int
    village: str
    attention: str
    last_visit: date | None
    due: date
    bucket: str
    days: int
    categories: list[str] = field(default_factory=list)


def categories_of(child_ids) -> dict[int, list[str]]:
    """Each child's category codes. `child_ids`: a list, or a select of ids (one query whatever the
    number: thousands of bound ids cost PostgreSQL's driver more than the query itself)."""
    found: dict[int, list[str]] = defaultdict(list)
    chunks = [child_ids] if not isinstance(child_ids, list) else \
        [child_ids[start:start + 900] for start in range(0, len(child_ids), 900)]  # SQLite's bound-parameter limit
    for chunk in chunks:
        for child_id, code in db.session.execute(
            select(ChildCategory.child_id, ChildCategory.category).where(ChildCategory.child_id.in_(chunk))
        ):
            found[child_id].append(code)
    return found


# What a town-reach visitor takes offline: the children overdue or due within this many days.
OFFLINE_AHEAD_DAYS = 7


def _in_her_care(user):
    """For a town-reach visitor (the supervisor), the children she visits herself: those of villages
    with no active child director (she covers them, as visits/demo.py has her do) and those whose
    newest standing visit is hers (she has taken them on). None for any other reach: a director's
    reach is already the villages he visits."""
    if ROLES[user.role].reach != "town":
        return None
    villages = list(db.session.scalars(select(Village.id)))
    uncovered = [village_id for village_id, staff in directors_by_village(villages).items() if not staff]
    hers = (select(Visit.id)
            .where(Visit.child_id == Child.id, Visit.visited_on == Child.last_visit_on,
                   Visit.visitor_id == user.id, Visit.superseded.is_(False))
            .exists())
    return or_(Child.residence_village_id.in_(uncovered), hers)


def due_list(user, today: date, categories_for: int | None = None,
             offline: bool = False) -> tuple[list[DueRow], dict[str, int]]:
    """The children `user` visits, most urgent first, and how many in each bucket. Plain columns
    (no ORM objects) and the denormalised last visit: two queries whatever the size.
    `categories_for`: load categories only for the first N of each bucket (what a page shows).

    `offline`: the list the phone keeps for the offline picker (/api/v1/due-list). A director's is
    his whole due list. A town-reach visitor's (the supervisor's) is not the whole town (tens of
    thousands of children, megabytes on a phone that can be lost) but what she is due to visit: the
    children in her care (_in_her_care) that are overdue or due within OFFLINE_AHEAD_DAYS — a child
    she visited lately drops out until it is due again. Her due page still shows the whole town."""
    query = reachable_children(user).where(Child.status.in_(CURRENT_STATUSES))
    care = _in_her_care(user) if offline else None
    if care is not None:
        query = query.where(care)
    horizon = today + timedelta(days=OFFLINE_AHEAD_DAYS)
    rows = db.session.connection().execute(  # plain rows, without the ORM's loading: thousands of them
        query.join(Village, Village.id == Child.residence_village_id)
        .with_only_columns(Child.id, Child.name, Child.name_pinyin, Child.birth_date, Child.attention_level,
                           Child.created_at, Child.last_visit_on, Village.name)
    ).all()
    result = []
    cadence = cadence_months()
    disclosure = disclosure_for(user)
    order = {bucket: index for index, bucket in enumerate(BUCKETS)}
    # A village's thousands of children share a few hundred dates: each is reckoned once.
    registered_on: dict[datetime, date] = {}
    reckoned: dict[tuple, object] = {}
    for child_id, name, pinyin, birth, attention, created_at, last, village in rows:
        registered = registered_on.get(created_at)
        if registered is None:
            registered = registered_on[created_at] = to_local(created_at).date()
        d = reckoned.get((last, registered, attention))
        if d is None:
            d = reckoned[last, registered, attention] = classify(last, registered, attention, today, cadence)
        if care is not None and d.due > horizon:
            continue
        result.append(((order[d.bucket], d.due, attention != "key", pinyin),
                       DueRow(child_id, name, shown_age(birth, today, disclosure), village, attention, last,
                              d.due, d.bucket, d.days)))
    result.sort(key=lambda pair: pair[0])
    due_rows = [row for _, row in result]
    counts = dict.fromkeys(BUCKETS, 0)
    for row in due_rows:
        counts[row.bucket] += 1
    wanted = due_rows
    if categories_for is not None:
        seen: dict[str, int] = defaultdict(int)
        wanted = []
        for row in due_rows:
            seen[row.bucket] += 1
            if seen[row.bucket] <= categories_for:
                wanted.append(row)
    # every row's (the phone's list): by the list's own query, not by thousands of ids
    categories = categories_of(query.with_only_columns(Child.id) if categories_for is None else
                               [r.child_id for r in wanted])
    for row in wanted:
        row.categories = categories.get(row.child_id, [])
    return due_rows, counts


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

    def add(self, other: "Compliance") -> None:
        self.due += other.due
        self.done += other.done
        self.overdue += other.overdue


def latest_before(cutoff: date, months: int) -> date:
    """The last day d with add_months(d, months) < cutoff: a visit on or before it makes a child
    due (overdue) before `cutoff`. Turns the cadence into a date to compare in SQL."""
    day = add_months(cutoff, -months)
    while add_months(day, months) >= cutoff:
        day -= timedelta(days=1)
    return day


def compliance(user, year: int, month: int, today: date) -> tuple[list[Compliance], list[Compliance], Compliance]:
    """For one month, by village and by director: the children due a visit (due by the month's end,
    counting from their last visit before it), those visited in the month, and those overdue.
    Counted in the database, one grouped query, whatever the number of children and visits."""
    start, end = month_bounds(year, month)
    cutoff = min(today, end + timedelta(days=1))  # overdue: due before today (or by the month's end)
    cadence = cadence_months()
    window = add_months(start, -max(cadence.values()))  # older visits make a child due anyway
    last = (select(Visit.child_id, func.max(Visit.visited_on).label("last"))
            .where(Visit.visited_on >= window, Visit.visited_on < start, Visit.superseded.is_(False))
            .group_by(Visit.child_id).subquery())
    in_month = (select(Visit.child_id).where(Visit.visited_on.between(start, end), Visit.superseded.is_(False))
                .distinct().subquery())
    end_of_day = datetime.combine(end, datetime.max.time())

    def due_condition(limit: date):
        """Due (last visit + cadence) on or before `limit`; no recent visit: due already."""
        return or_(last.c.last.is_(None), *(
            and_(Child.attention_level == level, last.c.last <= latest_before(limit + timedelta(days=1), n))
            for level, n in cadence.items()))

    is_due = due_condition(end)
    done = in_month.c.child_id.is_not(None)
    overdue = and_(~done, or_(
        and_(last.c.last.is_(None), Child.created_at < datetime.combine(cutoff, datetime.min.time())),
        *(and_(Child.attention_level == level, last.c.last <= latest_before(cutoff, n))
          for level, n in cadence.items())))
    counted = (reachable_children(user)
               .where(Child.status.in_(CURRENT_STATUSES), Child.created_at <= end_of_day)
               .outerjoin(last, last.c.child_id == Child.id)
               .outerjoin(in_month, in_month.c.child_id == Child.id)
               .where(is_due)
               .with_only_columns(Child.residence_village_id, func.count(Child.id),
                                  func.sum(case((done, 1), else_=0)), func.sum(case((overdue, 1), else_=0)))
               .group_by(Child.residence_village_id))
    villages = dict(db.session.execute(select(Village.id, Village.name)).all())
    by_village = {vid: Compliance(villages[vid], due, int(d or 0), int(o or 0))
                  for vid, due, d, o in db.session.execute(counted).all()}

    directors: dict[str, Compliance] = {}
    staffed = set()
    for village_id, users in directors_by_village(list(by_village)).items():
        for user in users:
            directors.setdefault(user.display_name, Compliance(user.display_name)).add(by_village[village_id])
            staffed.add(village_id)
    for village_id, row in by_village.items():
        if village_id not in staffed:
            directors.setdefault("（未配备儿童主任）", Compliance("（未配备儿童主任）")).add(row)
    total = Compliance("合计")
    for row in by_village.values():
        total.add(row)
    return (sorted(by_village.values(), key=lambda c: c.name), sorted(directors.values(), key=lambda c: c.name),
            total)
