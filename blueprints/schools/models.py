"""What a school keeps of its pupils (plan §12 §6 §2 §17): the responsible carer (关爱责任人) and
its history, the enrolment state and its changes, dropout cases followed until the pupil is back
and watched for a term after, the contact log with parents and caregivers (offline first, like
visits: client_uuid, fingerprint), psychological screenings against instruments whose score bands
an administrator edits, the after-school fee waiver per term and weekend or holiday care places.

Every record names the child; a school reaches a record through its pupil (children.school_id),
so a pupil who moves to another school of the town takes her file with her (access.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import utcnow
from blueprints.core.mixins import TimestampMixin
from blueprints.core.vocabulary import HAZARDS
from blueprints.places.models import School
from extensions import db

_OPEN = "ended_on IS NULL"


class ResponsibleCarer(TimestampMixin, db.Model):
    """The member of staff a school names to look after one key pupil (关爱责任人, §12). A change
    ends the current row and adds a new one: the rows are the history."""

    __tablename__ = "responsible_carers"
    __table_args__ = (
        Index("ux_responsible_carers_current", "child_id", unique=True,
              sqlite_where=text(_OPEN), postgresql_where=text(_OPEN)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))  # the school that named her
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # when she has an account
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    since: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(200))
    ended_on: Mapped[date | None]
    end_note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    school: Mapped[School] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Enrolment(db.Model):
    """A pupil's enrolment state now (ENROLMENT_STATES; not `status`, which is the child's place on
    the roll). No row: 在读 when the child has a school, else 未入学 (schools/enrolment.py)."""

    __tablename__ = "enrolments"

    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    since: Mapped[date]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship()


class EnrolmentChange(db.Model):
    """One change of enrolment state or school (a transfer), kept for the record."""

    __tablename__ = "enrolment_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))  # the school before
    to_school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))  # a transfer's
    state_from: Mapped[str | None] = mapped_column(String(20))
    state_to: Mapped[str] = mapped_column(String(20))
    changed_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(200))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    school: Mapped[School | None] = relationship(foreign_keys=[school_id])
    to_school: Mapped[School | None] = relationship(foreign_keys=[to_school_id])
    changed_by: Mapped[User | None] = relationship()


class DropoutCase(TimestampMixin, db.Model):
    """A pupil reported out of school (辍学, §12), followed up until she is back (应返尽返), then
    watched week by week for a term (attendance checks) so that a relapse shows."""

    __tablename__ = "dropout_cases"
    __table_args__ = (
        # One case not yet returned per pupil (the service says so in words first).
        Index("ux_dropout_cases_open", "child_id", unique=True,
              sqlite_where=text("returned_on IS NULL"), postgresql_where=text("returned_on IS NULL")),
        CheckConstraint("returned_on IS NULL OR returned_on >= dropped_on", name="return_after_dropout"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)  # where she dropped out
    dropped_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(20))  # DROPOUT_REASONS
    reason_note: Mapped[str | None] = mapped_column(String(200))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    returned_on: Mapped[date | None]
    return_note: Mapped[str | None] = mapped_column(String(200))
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    watch_until: Mapped[date | None]  # attendance is checked every week until then
    closed_on: Mapped[date | None]  # the watch ended (or the pupil left the roll)

    child: Mapped[Child] = relationship()
    school: Mapped[School] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    steps: Mapped[list["DropoutStep"]] = relationship(
        back_populates="case", order_by="(DropoutStep.done_on, DropoutStep.id)")
    checks: Mapped[list["AttendanceCheck"]] = relationship(
        back_populates="case", order_by="AttendanceCheck.week_of")


class DropoutStep(db.Model):
    """What was done to bring the pupil back: 家访, 劝返, 联系部门 (DROPOUT_STEPS)."""

    __tablename__ = "dropout_steps"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dropout_cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    done_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[DropoutCase] = relationship(back_populates="steps")
    done_by: Mapped[User | None] = relationship()


class AttendanceCheck(db.Model):
    """A week of a returned pupil's attendance: 0 days absent is 正常."""

    __tablename__ = "attendance_checks"
    __table_args__ = (
        UniqueConstraint("case_id", "week_of"),
        CheckConstraint("absent_days BETWEEN 0 AND 7", name="absent_days_in_week"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("dropout_cases.id"))
    week_of: Mapped[date]  # the Monday
    absent_days: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(String(200))
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    case: Mapped[DropoutCase] = relationship(back_populates="checks")


class SchoolContact(db.Model):
    """A school's contact with a pupil's parents or caregiver (§6), or a school home visit (§17:
    method home_visit, with the visit form's home-safety checklist). Logged on the phone,
    offline first (blueprints/core/offline.py: client_uuid, fingerprint); never edited in place."""

    __tablename__ = "school_contacts"
    __table_args__ = (
        UniqueConstraint("client_uuid"),
        Index("ix_school_contacts_child_on", "child_id", "contacted_on"),
        Index("ix_school_contacts_school_on", "school_id", "contacted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str] = mapped_column(String(36))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))  # the school that made it
    contacted_on: Mapped[date]
    contact_with: Mapped[str] = mapped_column(String(20))  # CONTACT_WITH
    method: Mapped[str] = mapped_column(String(20))  # SCHOOL_CONTACT_METHODS
    topics: Mapped[str] = mapped_column(String(60), default="")  # CONTACT_TOPICS codes, comma-separated
    note: Mapped[str | None] = mapped_column(Text)
    # A home visit's checklist, the same as the visit form's (HAZARDS)
    hazard_water: Mapped[bool] = mapped_column(default=False)
    hazard_electric: Mapped[bool] = mapped_column(default=False)
    hazard_gas: Mapped[bool] = mapped_column(default=False)
    hazard_fire: Mapped[bool] = mapped_column(default=False)
    hazard_waters: Mapped[bool] = mapped_column(default=False)
    hazard_other: Mapped[bool] = mapped_column(default=False)
    hazard_note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    recorded_at: Mapped[datetime | None]  # on the phone
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship()
    school: Mapped[School] = relationship()
    recorded_by: Mapped[User] = relationship()

    @property
    def topic_codes(self) -> list[str]:
        return [code for code in self.topics.split(",") if code]

    @property
    def hazards(self) -> list[str]:
        return [label for field, label in HAZARDS.items() if getattr(self, field)]


class ScreeningInstrument(TimestampMixin, db.Model):
    """A screening questionnaire by name and score range; its bands are data an administrator
    edits (the default was written for this project, with no copyrighted items)."""

    __tablename__ = "screening_instruments"
    __table_args__ = (CheckConstraint("min_score < max_score", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    min_score: Mapped[int] = mapped_column(default=0)
    max_score: Mapped[int]
    note: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(default=True)

    bands: Mapped[list["ScreeningBand"]] = relationship(
        back_populates="instrument", cascade="all, delete-orphan", order_by="ScreeningBand.low")


class ScreeningBand(db.Model):
    """Scores low..high (inclusive) of an instrument fall in this band (SCREENING_BANDS)."""

    __tablename__ = "screening_bands"
    __table_args__ = (UniqueConstraint("instrument_id", "band"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("screening_instruments.id", ondelete="CASCADE"))
    band: Mapped[str] = mapped_column(String(20))
    low: Mapped[int]
    high: Mapped[int]

    instrument: Mapped[ScreeningInstrument] = relationship(back_populates="bands")


class Screening(TimestampMixin, db.Model):
    """A pupil's psychological screening in a term, and its follow-up (§2). Seen only by the
    school's mental-health teacher, civil affairs and the supervisor (core/disclosure.py)."""

    __tablename__ = "screenings"
    __table_args__ = (
        UniqueConstraint("child_id", "term", "instrument_id"),
        Index("ix_screenings_band_followup", "band", "followup_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    term: Mapped[str] = mapped_column(String(12))  # terms.py: "2026-autumn"
    instrument_id: Mapped[int] = mapped_column(ForeignKey("screening_instruments.id"))
    screened_on: Mapped[date]
    score: Mapped[int]
    band: Mapped[str] = mapped_column(String(20))  # from the instrument's bands when recorded
    followup: Mapped[str | None] = mapped_column(String(20))  # SCREENING_FOLLOWUPS
    followup_on: Mapped[date | None]
    followup_note: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    instrument: Mapped[ScreeningInstrument] = relationship()
    recorded_by: Mapped[User | None] = relationship()


class FeeWaiver(db.Model):
    """课后服务费减免 for one pupil in one term (§12)."""

    __tablename__ = "fee_waivers"
    __table_args__ = (UniqueConstraint("child_id", "term"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    term: Mapped[str] = mapped_column(String(12), index=True)
    decided_on: Mapped[date]
    note: Mapped[str | None] = mapped_column(String(200))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship()


class HolidayCare(db.Model):
    """A weekend or holiday care place for a pupil (§12: 周末和节假日关爱)."""

    __tablename__ = "holiday_care"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(20))  # HOLIDAY_CARE_KINDS
    place: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    child: Mapped[Child] = relationship()
