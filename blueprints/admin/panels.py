"""The admin area's cards on the home page."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from blueprints.core.access import ROLES
from blueprints.core.audit import AuditEvent
from extensions import db


def accounts(user) -> dict:
    counts = dict(db.session.execute(
        select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
    ).all())
    return {
        "user_counts": [(r.label, counts.get(code, 0)) for code, r in ROLES.items()],
        "village_count": db.session.scalar(select(func.count()).select_from(Village)),
        "school_count": db.session.scalar(select(func.count()).select_from(School)),
        "department_count": db.session.scalar(select(func.count()).select_from(Department)),
    }


def recent_events(user) -> dict:
    return {"events": db.session.scalars(
        select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(8)).all()}
