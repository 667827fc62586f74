"""The audit trail: who did what to which object, when and from where.

Every service that changes data, and every read of a child's archive, export or print, calls
`record()`. The event joins the request's transaction, so it is kept exactly when the change is.
Views of pages and forms that show a child's data, and downloads, call `record_view()`.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, has_request_context, request
from flask_login import current_user
from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.clock import utcnow
from extensions import db

# action → label shown on the audit page; each area adds its own through its manifest.
ACTION_LABELS: dict[str, str] = {"denied": "拒绝访问"}  # the core's own: every 403 (core/errors.py)


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str | None] = mapped_column(String(40))  # kept as it was at the time
    action: Mapped[str] = mapped_column(String(40), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="")
    ip: Mapped[str | None] = mapped_column(String(45))

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)


def record(action: str, obj=None, detail: str = "", user=None) -> AuditEvent:
    """Add an audit event to the session; the request's commit keeps it with the change."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    if obj is not None and obj.id is None:
        db.session.flush()  # a new object needs its id before the event can name it
    event = AuditEvent(
        action=action,
        user_id=user.id if user is not None else None,
        username=user.username if user is not None else None,
        object_type=obj.__tablename__ if obj is not None else None,
        object_id=str(obj.id) if obj is not None and obj.id is not None else None,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event


def record_view(action: str, obj=None, detail: str = "") -> None:
    """A read (a page, a form, a download), recorded and committed after the response is rendered
    (the commit expires what the page loaded). Reads are frequent: the caller keeps `detail` short,
    and a failure to record is logged, never turned into a failed page the user was allowed to see."""
    try:
        record(action, obj, detail)
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        current_app.logger.exception("audit: could not record %s", action)
