"""Volunteers and 爱心妈妈, the organisations they come from, their pairings with children
(结对帮扶, plan §13) and what they log of each pairing (activities, an optional photo).

A volunteer is a person with a login of role `volunteer` (users) and this profile: what she can
offer (skills), how many children she can take (capacity). A pairing ties one volunteer to one
child within a programme; it is ended, never deleted. An activity is logged on the phone, offline
first (blueprints/core/offline.py: client_uuid, fingerprint), and never edited in place."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import utcnow
from blueprints.core.mixins import TimestampMixin
from blueprints.places.models import Village
from extensions import db


class Organisation(TimestampMixin, db.Model):
    """A social organisation, service site or unit that volunteers come from (§21 §22)."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # ORGANISATION_KINDS
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    contact: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)

    village: Mapped[Village | None] = relationship()


class Volunteer(TimestampMixin, db.Model):
    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)  # her login
    name: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # VOLUNTEER_KINDS; users.volunteer_kind follows it
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(default=2)  # children she can take at once
    active: Mapped[bool] = mapped_column(default=True)
    # Taking her off the roster disabled her login (it was on): putting her back turns it on again.
    # A login the administrator disabled stays off whatever the roster does.
    login_stopped: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
    village: Mapped[Village | None] = relationship()
    skill_rows: Mapped[list["VolunteerSkill"]] = relationship(
        back_populates="volunteer", cascade="all, delete-orphan", order_by="VolunteerSkill.skill")
    changes: Mapped[list["VolunteerChange"]] = relationship(
        back_populates="volunteer", order_by="VolunteerChange.id.desc()")

    @property
    def skills(self) -> list[str]:
        return [row.skill for row in self.skill_rows]


class VolunteerSkill(db.Model):
    __tablename__ = "volunteer_skills"
    __table_args__ = (UniqueConstraint("volunteer_id", "skill"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id", ondelete="CASCADE"))
    skill: Mapped[str] = mapped_column(String(20), index=True)  # SKILLS
    volunteer: Mapped[Volunteer] = relationship(back_populates="skill_rows")


class VolunteerChange(db.Model):
    """Every change of a volunteer's profile: who, when, which field, from what to what."""

    __tablename__ = "volunteer_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(40))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    volunteer: Mapped[Volunteer] = relationship(back_populates="changes")


class Pairing(TimestampMixin, db.Model):
    __tablename__ = "pairings"
    __table_args__ = (
        # One open pairing of the same volunteer and child (the service says so in words first).
        Index("ux_pairings_open_volunteer_child", "volunteer_id", "child_id", unique=True,
              sqlite_where=text("ended_on IS NULL"), postgresql_where=text("ended_on IS NULL")),
        Index("ix_pairings_child_ended", "child_id", "ended_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    programme: Mapped[str] = mapped_column(String(20), index=True)  # PROGRAMMES
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteers.id"), index=True)
    started_on: Mapped[date]
    planned_end_on: Mapped[date | None]
    goals: Mapped[str] = mapped_column(Text)  # what the pairing should change
    times_per_month: Mapped[int] = mapped_column(default=2)  # the frequency promised
    director_remarks: Mapped[str | None] = mapped_column(Text)  # the child director's, for the record
    ended_on: Mapped[date | None]
    end_reason: Mapped[str | None] = mapped_column(String(20))  # PAIRING_END_REASONS
    end_note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    volunteer: Mapped[Volunteer] = relationship()
    need_rows: Mapped[list["PairingNeed"]] = relationship(
        back_populates="pairing", cascade="all, delete-orphan", order_by="PairingNeed.category")
    activities: Mapped[list["PairingActivity"]] = relationship(
        back_populates="pairing", order_by="(PairingActivity.done_on.desc(), PairingActivity.id.desc())")

    @property
    def needs(self) -> list[str]:
        return [row.category for row in self.need_rows]

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


class PairingNeed(db.Model):
    """The child's needs (NEED_CATEGORIES) this pairing serves."""

    __tablename__ = "pairing_needs"
    __table_args__ = (UniqueConstraint("pairing_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(20))
    pairing: Mapped[Pairing] = relationship(back_populates="need_rows")


class PairingActivity(db.Model):
    """What a volunteer did with her paired child, logged on the phone (offline first)."""

    __tablename__ = "pairing_activities"
    __table_args__ = (
        UniqueConstraint("client_uuid"),
        Index("ix_pairing_activities_pairing_done", "pairing_id", "done_on"),
        Index("ix_pairing_activities_done_child", "done_on", "child_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36))
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the body: blueprints/core/offline.py
    pairing_id: Mapped[int] = mapped_column(ForeignKey("pairings.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))  # the pairing's, for the offline contract
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    done_on: Mapped[date]
    minutes: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))  # ACTIVITY_KINDS
    note: Mapped[str] = mapped_column(Text)  # what was done
    mood: Mapped[str | None] = mapped_column(Text)  # how the child seemed
    pass_on: Mapped[str | None] = mapped_column(Text)  # for the child director: shows on her due list
    pass_on_seen_at: Mapped[datetime | None]
    pass_on_seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]  # on the phone
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    pairing: Mapped[Pairing] = relationship(back_populates="activities")
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    photo: Mapped["ActivityPhoto | None"] = relationship(back_populates="activity", uselist=False)


class ActivityPhoto(db.Model):
    """An activity's photo: sent after its record, its own idempotent upload (client_uuid). The
    image lives under the storage directory (blueprints/volunteers/photos.py), re-encoded without
    its metadata (a phone's photo carries where it was taken)."""

    __tablename__ = "activity_photos"
    __table_args__ = (UniqueConstraint("client_uuid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36))
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # sha256 of the bytes sent
    activity_id: Mapped[int] = mapped_column(ForeignKey("pairing_activities.id"), unique=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    path: Mapped[str] = mapped_column(String(200))  # relative to the photo directory
    size: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    activity: Mapped[PairingActivity] = relationship(back_populates="photo")
