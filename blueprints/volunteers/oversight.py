"""The figures per programme (plan oversight): pairings open, activities and hours this month,
the pairings that fell short of their promise last month (named), and the children of key
attention (or 事实无人抚养) without any open pairing (named). A fixed number of queries."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import exists, func, or_
from sqlalchemy.orm import joinedload

from blueprints.children.models import Child, ChildCategory
from blueprints.core.clock import local_today
from blueprints.core.vocabulary import PROGRAMMES
from blueprints.volunteers.access import children_to_pair, reachable_pairings
from blueprints.volunteers.models import Pairing
from blueprints.volunteers.pairings import month_bounds, promise_due, tallies
from extensions import db

UNPAIRED_SHOWN = 200


@dataclass
class Shortfall:
    pairing: Pairing
    done: int
    due: int


@dataclass
class ProgrammeFigures:
    code: str
    label: str
    open: int = 0
    activities: int = 0
    minutes: int = 0
    behind: list[Shortfall] = field(default_factory=list)

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 1)


@dataclass
class Figures:
    month: date
    last_month: date
    programmes: list[ProgrammeFigures]
    unpaired: list[Child]
    unpaired_total: int


def home_panel(user) -> dict:
    """The home page's card: the same figures, summed over the programmes."""
    figures = programme_figures(user, local_today())
    return {"open": sum(f.open for f in figures.programmes),
            "behind": sum(len(f.behind) for f in figures.programmes), "unpaired": figures.unpaired_total}


def programme_figures(user, today: date) -> Figures:
    start, end = month_bounds(today)
    last_start, last_end = month_bounds(start - timedelta(days=1))
    # every pairing open at some time last month or now: the figures of both months come from them
    pairings = db.session.scalars(
        reachable_pairings(user, "pairings:oversight")
        .where(Pairing.started_on <= end, or_(Pairing.ended_on.is_(None), Pairing.ended_on >= last_start))
        .options(joinedload(Pairing.child), joinedload(Pairing.volunteer))
        .order_by(Pairing.programme, Pairing.id)).all()
    ids = [p.id for p in pairings]
    this_month, last_month = tallies(ids, start, end), tallies(ids, last_start, last_end)
    by_code = {code: ProgrammeFigures(code, label) for code, label in PROGRAMMES.items()}
    for p in pairings:
        figures = by_code[p.programme]
        if p.ended_on is None:
            figures.open += 1
        done_now = this_month.get(p.id)
        if done_now:
            figures.activities += done_now.count
            figures.minutes += done_now.minutes
        due = promise_due(p, last_start, last_end)
        done = last_month[p.id].count if p.id in last_month else 0
        if due and done < due:
            figures.behind.append(Shortfall(p, done, due))
    unpaired_query = children_to_pair(user, "pairings:oversight").where(
        or_(Child.attention_level == "key",
            exists().where(ChildCategory.child_id == Child.id, ChildCategory.category == "unsupported")),
        ~exists().where(Pairing.child_id == Child.id, Pairing.ended_on.is_(None)))
    total = db.session.scalar(unpaired_query.with_only_columns(func.count(Child.id)).order_by(None)) or 0
    unpaired = db.session.scalars(unpaired_query.options(joinedload(Child.residence_village))
                                  .order_by(Child.residence_village_id, Child.name_pinyin).limit(UNPAIRED_SHOWN)).all()
    return Figures(start, last_start, [f for f in by_code.values()], list(unpaired), total)
