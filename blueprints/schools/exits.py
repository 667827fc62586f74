"""What a child's leaving the roll closes here (the exit hook, core/areas.py): her responsible
carer's naming ends, and a dropout case still open or watched is closed that day, or the day the
row began if that was later (the exit form takes a past date; as the volunteers' hook ends a pairing)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import case, func, update

from blueprints.schools.models import DropoutCase, ResponsibleCarer
from extensions import db


def _not_before(column, on: date):
    return case((column > on, column), else_=on)


def close_with_child(child, on: date, actor) -> None:
    actor_id = actor.id if actor is not None else None
    db.session.execute(update(ResponsibleCarer)
                       .where(ResponsibleCarer.child_id == child.id, ResponsibleCarer.ended_on.is_(None))
                       .values(ended_on=_not_before(ResponsibleCarer.since, on), end_note="儿童退出名册",
                               ended_by_id=actor_id))
    began = func.coalesce(DropoutCase.returned_on, DropoutCase.dropped_on)  # a return is never before its dropout
    db.session.execute(update(DropoutCase)
                       .where(DropoutCase.child_id == child.id, DropoutCase.closed_on.is_(None))
                       .values(closed_on=_not_before(began, on)))
