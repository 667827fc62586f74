"""What the accounts keep no longer than they need: the rows of sessions long over (each holds an
address and a browser), deleted daily by the consumer."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from huey import crontab
from sqlalchemy import delete, or_

from blueprints.auth.models import UserSession
from blueprints.core.clock import utcnow
from blueprints.core.jobs import periodic
from extensions import db

log = logging.getLogger(__name__)


def prune_sessions(now=None) -> int:
    """Delete the sessions that ended more than SESSION_RECORD_DAYS ago, and those never ended but
    unused as long (idle far past the timeout: the browser simply went away). Returns how many."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["SESSION_RECORD_DAYS"])
    gone = db.session.execute(delete(UserSession).where(or_(
        UserSession.ended_at < cutoff, UserSession.ended_at.is_(None) & (UserSession.last_seen_at < cutoff))))
    return gone.rowcount


@periodic("auth.prune_sessions", crontab(hour="19", minute="29"))  # huey's clock is UTC: 03:29 in Beijing
def prune_sessions_daily() -> None:
    removed = prune_sessions()
    db.session.commit()
    log.info("deleted %s session records past retention", removed)
