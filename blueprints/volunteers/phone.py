"""What the volunteer's phone shows: her paired children (only who the child is and what the pairing
is for: name, age, village, school, goals, needs), how this month's promise stands, her activities
and her totals. Every query starts from her reach (access.py reachable_pairings with
activities:write: her open pairings, and an ended one for 30 more days). A fixed number of queries
whatever she has logged."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import after_this_request
from sqlalchemy import case, func, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.models import Child
from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.disclosure import disclosure_for, shown_age
from blueprints.core.vocabulary import PROGRAMMES
from blueprints.volunteers.access import reachable_pairings
from blueprints.volunteers.models import Pairing, PairingActivity
from blueprints.volunteers.pairings import Tally, last_activities, month_bounds, promise_due, tallies
from extensions import db

HISTORY_PAGE_SIZE = 20


@dataclass(frozen=True)
class Card:
    """One paired child on her phone."""

    pairing: Pairing
    name: str
    age: int
    village: str
    school: str | None
    last: date | None  # her last activity with the child
    month: Tally  # this month so far
    due: int  # what the promise asks of this month (0: a month the pairing did not cover in full)

    @property
    def promised(self) -> int:
        return self.pairing.times_per_month

    @property
    def ended(self) -> bool:
        return self.pairing.ended_on is not None

    @property
    def met(self) -> bool:
        return self.month.count >= self.promised


@dataclass(frozen=True)
class Totals:
    month_minutes: int
    year_minutes: int
    month_count: int

    @property
    def month_hours(self) -> float:
        return round(self.month_minutes / 60, 1)

    @property
    def year_hours(self) -> float:
        return round(self.year_minutes / 60, 1)


def my_pairings(user) -> list[Pairing]:
    """Her pairings in reach: open ones first (oldest pairing first), then the recently ended."""
    query = reachable_pairings(user, "activities:write").options(
        joinedload(Pairing.child).joinedload(Child.residence_village),
        joinedload(Pairing.child).joinedload(Child.school),
        selectinload(Pairing.need_rows),
    ).order_by(Pairing.ended_on.is_not(None), Pairing.started_on, Pairing.id)
    return list(db.session.scalars(query).unique())


def cards(user, today: date | None = None) -> list[Card]:
    today = today or local_today()
    pairings = my_pairings(user)
    ids = [p.id for p in pairings]
    start, end = month_bounds(today)
    month, last = tallies(ids, start, end), last_activities(ids)
    disclosure = disclosure_for(user)
    return [
        Card(pairing=p, name=p.child.name, age=shown_age(p.child.birth_date, today, disclosure),
             village=p.child.residence_village.name, school=p.child.school.name if p.child.school else None,
             last=last.get(p.id), month=month.get(p.id, Tally()), due=promise_due(p, start, end))
        for p in pairings
    ]


def totals(user, today: date | None = None) -> Totals:
    """Her minutes this month and this year: every activity she logged, whatever became of the
    pairing (one query)."""
    today = today or local_today()
    month_start = today.replace(day=1)
    in_month = PairingActivity.done_on >= month_start
    row = db.session.execute(
        select(func.coalesce(func.sum(case((in_month, PairingActivity.minutes), else_=0)), 0),
               func.coalesce(func.sum(PairingActivity.minutes), 0),
               func.count(case((in_month, PairingActivity.id))))
        .where(PairingActivity.recorded_by_id == user.id,
               PairingActivity.done_on.between(today.replace(month=1, day=1), today.replace(month=12, day=31)))
    ).one()
    return Totals(month_minutes=int(row[0]), year_minutes=int(row[1]), month_count=int(row[2]))


def home_panel(user) -> dict | None:
    """The home page's card: her paired children in a line each, and her totals. The read is
    audited once the page is rendered (a commit before would expire what the page shows)."""
    found = cards(user)

    @after_this_request
    def audit_view(response):
        audit.record_view("volunteer_home_viewed", detail=f"首页：{len(found)} 名结对儿童")
        return response

    return {"cards": found, "totals": totals(user)}


def picker_rows(user, today: date | None = None) -> list[dict]:
    """The activity form's picker (GET /api/v1/my-pairings, kept on the phone): minimal fields only."""
    today = today or local_today()
    return [
        {"id": c.pairing.id, "name": c.name, "age": c.age, "village": c.village, "school": c.school,
         "detail": f"{c.pairing.ended_on:%Y-%m-%d} 已结束" if c.ended else PROGRAMMES.get(c.pairing.programme, ""),
         "started_on": c.pairing.started_on.isoformat(),
         "ended_on": c.pairing.ended_on.isoformat() if c.ended else None}
        for c in cards(user, today)
    ]


@dataclass(frozen=True)
class HistoryRow:
    activity: PairingActivity
    child_name: str | None  # None: the pairing has dropped out of her reach (ended over 30 days ago)
    has_photo: bool


def history(user, page: int):
    """Her activities, newest first, paginated; the child named only while the pairing is in reach."""
    query = (select(PairingActivity).where(PairingActivity.recorded_by_id == user.id)
             .options(selectinload(PairingActivity.photo))
             .order_by(PairingActivity.done_on.desc(), PairingActivity.id.desc()))
    activities = db.paginate(query, page=page, per_page=HISTORY_PAGE_SIZE, error_out=False)
    pairing_ids = {a.pairing_id for a in activities.items}
    names = dict(db.session.execute(
        reachable_pairings(user, "activities:write").with_only_columns(Pairing.id, Child.name)
        .join(Child, Child.id == Pairing.child_id).where(Pairing.id.in_(pairing_ids))).all()) if pairing_ids else {}
    rows = [HistoryRow(a, names.get(a.pairing_id), a.photo is not None and a.pairing_id in names)
            for a in activities.items]
    return activities, rows
