"""What a child's leaving the roll closes here (the exit hook, core/areas.py), in the exit's own
transaction: her open needs and their unfinished measures close with the reason, and a referral a
department still holds is withdrawn (撤回) and the department told: it keeps reading the child for
REFERRAL_GRACE_DAYS from today, to answer for what it did, as after any return."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from blueprints.care.models import OPEN_REFERRAL_STATES, Measure, Need, Referral
from blueprints.care.referrals import department_users
from blueprints.core.clock import format_date, local_today, utcnow
from blueprints.core.vocabulary import EXIT_REASONS
from blueprints.notices.services import notify
from extensions import db

UNFINISHED = ("open", "in_progress")


def close_with_child(child, on: date, actor) -> None:
    actor_id = actor.id if actor is not None else None
    why = f"儿童已于 {format_date(on)} 退出名册（{EXIT_REASONS.get(child.exit_reason, child.exit_reason)}）"
    for referral in db.session.scalars(select(Referral).where(Referral.child_id == child.id,
                                                              Referral.state.in_(OPEN_REFERRAL_STATES))):
        referral.state, referral.closed_on, referral.closed_by_id = "withdrawn", local_today(), actor_id
        referral.return_note = f"{why}，转介撤回"
        notify(department_users(referral.department_id), "referral_withdrawn",
               f"转介撤回：{child.name} {why}", key=f"referral_withdrawn:{referral.id}",
               url=f"/referrals/{referral.id}", child_id=child.id)
    db.session.execute(update(Measure).where(Measure.child_id == child.id, Measure.state.in_(UNFINISHED))
                       .values(state="closed", closed_reason=why, finished_on=on))
    db.session.execute(update(Need).where(Need.child_id == child.id, Need.state == "open")
                       .values(state="closed", resolved_note=why, resolved_at=utcnow(), resolved_by_id=actor_id))
