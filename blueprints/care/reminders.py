"""The daily reminder of measures coming due (the bell): each open or in-progress measure due
within MEASURE_DUE_DAYS, or overdue, is told once to its owner (her account, when she has one,
else whoever wrote the measure down). It lives with the measures rather than in the notices area,
which every area tells through and which therefore imports none of them."""
from __future__ import annotations

import logging
from datetime import date, timedelta

from huey import crontab
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.care.access import reachable_measures
from blueprints.care.models import Measure
from blueprints.children.models import Child
from blueprints.core.clock import local_today
from blueprints.core.jobs import periodic
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.notices.services import notify
from extensions import db

log = logging.getLogger(__name__)

MEASURE_DUE_DAYS = 3
OPEN_MEASURE_STATES = ("open", "in_progress")


def _recipient(measure: Measure):
    if measure.owner_user is not None and measure.owner_user.active:
        return measure.owner_user
    if measure.created_by is not None and measure.created_by.active:
        return measure.created_by
    return None


def measures_due(today: date | None = None) -> int:
    """Tell each measure's owner that it is due within MEASURE_DUE_DAYS ("measure_due:<id>") or
    overdue ("measure_overdue:<id>"), once each. The notice names the child and links to her plan
    only for a user who reaches that plan; anyone else is told there is a measure of hers to see
    to, no more. Returns how many notices were added; the caller commits."""
    today = today or local_today()
    measures = db.session.scalars(
        select(Measure).join(Measure.child)
        .where(Measure.state.in_(OPEN_MEASURE_STATES), Measure.due_on <= today + timedelta(days=MEASURE_DUE_DAYS),
               Child.status.in_(CURRENT_STATUSES))  # a child who has left the roll is nobody's to see to
        .options(joinedload(Measure.child), joinedload(Measure.owner_user), joinedload(Measure.created_by))
        .order_by(Measure.id)).all()
    added = 0
    for measure in measures:
        user = _recipient(measure)
        if user is None:
            continue
        overdue = measure.due_on < today
        kind = "measure_overdue" if overdue else "measure_due"
        when = f"已于 {measure.due_on:%Y-%m-%d} 到期" if overdue else f"将于 {measure.due_on:%Y-%m-%d} 到期"
        reaches = db.session.scalar(reachable_measures(user).where(Measure.id == measure.id)
                                    .with_only_columns(Measure.id)) is not None
        if reaches:
            text, url = f"{measure.child.name} 的帮扶措施“{measure.action[:40]}”{when}", f"/children/{measure.child_id}/plan"
        else:
            text, url = f"您负责的一项帮扶措施{when}，请向交办人了解", None
        added += len(notify([user], kind, text, key=f"{kind}:{measure.id}", url=url,
                            child_id=measure.child_id if reaches else None))
    return added


@periodic("notices.measures_due", crontab(hour="16", minute="10"))  # huey's clock is UTC: 00:10 in Beijing
def measures_due_daily() -> None:
    added = measures_due()
    db.session.commit()
    log.info("told %s measures due or overdue", added)
