"""Home visits (走访, plan §10) with what the visitor found: living conditions, home-safety hazards
(§17), study, health, mental state (§2), guardianship and the caregiver (§5 §6), the parents' weekly
contact (§6), internet and social-protection concerns (§18 §19), needs, follow-up.

A visit is never edited in place: a correction is a new visit that points at the one it corrects,
which stays, marked superseded. A supervisor's review is kept beside the visit."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import utcnow
from blueprints.core.vocabulary import HAZARDS, VISIT_KINDS
from extensions import db


class Visit(db.Model):
    __tablename__ = "visits"
    __table_args__ = (
        UniqueConstraint("client_uuid"),
        Index("ix_visits_child_visited", "child_id", "visited_on"),
        # covers the monthly compliance count: visits in a date range, by child
        Index("ix_visits_visited_superseded_child", "visited_on", "superseded", "child_id"),
        Index("ix_visits_review_state", "review_state", "visited_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36))
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the body: blueprints/core/offline.py
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    visitor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    visited_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(10))

    living_conditions: Mapped[str | None] = mapped_column(Text)
    hazard_water: Mapped[bool] = mapped_column(default=False)
    hazard_electric: Mapped[bool] = mapped_column(default=False)
    hazard_gas: Mapped[bool] = mapped_column(default=False)
    hazard_fire: Mapped[bool] = mapped_column(default=False)
    hazard_waters: Mapped[bool] = mapped_column(default=False)
    hazard_other: Mapped[bool] = mapped_column(default=False)
    hazard_note: Mapped[str | None] = mapped_column(String(200))
    study: Mapped[str | None] = mapped_column(Text)
    health: Mapped[str | None] = mapped_column(Text)
    mental_state: Mapped[str | None] = mapped_column(String(10))
    mental_note: Mapped[str | None] = mapped_column(Text)
    guardianship: Mapped[str | None] = mapped_column(Text)
    parents_contacted: Mapped[bool | None]  # this week; None: not asked
    parents_contacted_on: Mapped[date | None]
    parents_contact_method: Mapped[str | None] = mapped_column(String(12))
    internet_concern: Mapped[bool] = mapped_column(default=False)
    social_concern: Mapped[bool] = mapped_column(default=False)
    concern_note: Mapped[str | None] = mapped_column(Text)
    needs_note: Mapped[str | None] = mapped_column(Text)
    follow_up_needed: Mapped[bool] = mapped_column(default=False)
    follow_up_note: Mapped[str | None] = mapped_column(Text)
    next_visit_on: Mapped[date | None]

    recorded_at: Mapped[datetime | None]  # on the phone, when the visitor saved it
    received_at: Mapped[datetime] = mapped_column(default=utcnow)  # when it reached the server

    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    superseded: Mapped[bool] = mapped_column(default=False)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]
    review_comment: Mapped[str | None] = mapped_column(Text)
    # The review queue (/visits/review): None until reviewed; "returned" with a question for the
    # visitor, "answered" once she answers it (back in the queue), "ok" when reviewed (REVIEW_STATES).
    review_state: Mapped[str | None] = mapped_column(String(10))
    review_question: Mapped[str | None] = mapped_column(Text)
    returned_at: Mapped[datetime | None]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]

    child: Mapped[Child] = relationship()
    visitor: Mapped[User] = relationship(foreign_keys=[visitor_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])
    needs: Mapped[list["VisitNeed"]] = relationship(back_populates="visit", cascade="all, delete-orphan")

    @property
    def kind_label(self) -> str:
        return VISIT_KINDS.get(self.kind, self.kind)

    @property
    def hazards(self) -> list[str]:
        return [label for field, label in HAZARDS.items() if getattr(self, field)]

    @property
    def need_codes(self) -> list[str]:
        return [n.category for n in self.needs]


class VisitNeed(db.Model):
    __tablename__ = "visit_needs"
    __table_args__ = (UniqueConstraint("visit_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), index=True)
    category: Mapped[str] = mapped_column(String(20), index=True)
    visit: Mapped[Visit] = relationship(back_populates="needs")
