"""In-app notices (the bell): one row per user and event, read or not."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.clock import utcnow
from extensions import db


class Notice(db.Model):
    __tablename__ = "notices"
    __table_args__ = (
        # an event told once per user: "measure 12 overdue" is one notice, however often the rule runs
        UniqueConstraint("user_id", "key", name="uq_notices_user_key"),
        Index("ix_notices_user_read", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20))  # NOTICE_KINDS
    text: Mapped[str] = mapped_column(String(200))  # says no more than the user may read at `url`
    url: Mapped[str | None] = mapped_column(String(200))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id"))
    key: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
