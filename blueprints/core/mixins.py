"""Small column sets that many models share."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.clock import utcnow


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class CreatedByMixin:
    """Who made the row: the actor a service was given (None: the system, a command without --user)."""

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
