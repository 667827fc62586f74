"""Care that follows up (精准帮扶, plan §5 §8 §10 §14 §15 §23, 保障一): a child's care plan (帮扶方案)
of needs, each with measures (帮扶措施) that have an owner and a due date; a measure referred to a
department (转介), what the department did and how it returned it; guardianship assessments (监护评估)
against items and thresholds an administrator edits; urgent flags (《山东省未成年人保护条例》第六十七条)
that stay until someone records the action taken; case conferences (个案会商) whose decisions become
measures.

Every row names its child: it is reached through the child (access.py), and a department reaches a
child only through a referral to it (open, or closed less than REFERRAL_GRACE_DAYS ago)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import utcnow
from blueprints.core.mixins import TimestampMixin
from blueprints.places.models import Department
from extensions import db

OPEN_REFERRAL_STATES = ("sent", "accepted")
_OPEN_REFERRAL = "state IN ('sent', 'accepted')"


class Need(TimestampMixin, db.Model):
    """One need of a child (NEED_CATEGORIES) in her care plan, with where it came from: a visit, a
    school record, an assessment, a rule, a conference (`source`, `source_id`) or typed in (manual).
    Met when its measures are done and someone says so (resolved_*); closed when no longer needed."""

    __tablename__ = "needs"
    __table_args__ = (
        # confirming a visit's need twice (two taps, two phones) adds it once
        UniqueConstraint("child_id", "source", "source_id", "category", name="uq_needs_source"),
        Index("ix_needs_child_state", "child_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(12), default="manual")
    source_id: Mapped[int | None]
    state: Mapped[str] = mapped_column(String(10), default="open")  # NEED_STATES
    resolved_note: Mapped[str | None] = mapped_column(Text)  # met: what changed; closed: why
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    measures: Mapped[list["Measure"]] = relationship(back_populates="need", order_by="Measure.id")
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])


class Measure(TimestampMixin, db.Model):
    """A measure (帮扶措施) for a need: what is to be done, by which department and person, by when.
    open → in_progress → done (with the outcome), or closed (with the reason)."""

    __tablename__ = "measures"
    __table_args__ = (
        Index("ix_measures_state_due", "state", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)  # the need's, for lists
    action: Mapped[str] = mapped_column(Text)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    owner_name: Mapped[str] = mapped_column(String(40))  # the responsible person
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # when she has an account
    due_on: Mapped[date]
    state: Mapped[str] = mapped_column(String(12), default="open")  # MEASURE_STATES
    outcome: Mapped[str | None] = mapped_column(Text)  # done
    closed_reason: Mapped[str | None] = mapped_column(Text)  # closed
    finished_on: Mapped[date | None]  # done or closed
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    need: Mapped[Need] = relationship(back_populates="measures")
    child: Mapped[Child] = relationship()
    department: Mapped[Department | None] = relationship()
    owner_user: Mapped[User | None] = relationship(foreign_keys=[owner_user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    referrals: Mapped[list["Referral"]] = relationship(back_populates="measure", order_by="Referral.id")


class Referral(db.Model):
    """A measure referred to a department (转介): sent → accepted → done, or declined with a reason.
    At most one open referral per measure. While it is open, and for REFERRAL_GRACE_DAYS after
    `closed_on`, the department reaches the child (access.py)."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ux_referrals_open_measure", "measure_id", unique=True,
              sqlite_where=text(_OPEN_REFERRAL), postgresql_where=text(_OPEN_REFERRAL)),
        Index("ix_referrals_department_state", "department_id", "state"),
        Index("ix_referrals_child", "child_id", "closed_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    measure_id: Mapped[int] = mapped_column(ForeignKey("measures.id"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    note: Mapped[str | None] = mapped_column(Text)  # what the referrer asks of the department
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    referred_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="sent")  # REFERRAL_STATES
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accepted_at: Mapped[datetime | None]
    closed_on: Mapped[date | None]  # the town's day it was returned done or declined
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    return_note: Mapped[str | None] = mapped_column(Text)  # done: the outcome; declined: the reason

    measure: Mapped[Measure] = relationship(back_populates="referrals")
    child: Mapped[Child] = relationship()
    department: Mapped[Department] = relationship()
    referred_by: Mapped[User | None] = relationship(foreign_keys=[referred_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    actions: Mapped[list["ReferralAction"]] = relationship(back_populates="referral", order_by="ReferralAction.id")

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_REFERRAL_STATES


class ReferralAction(db.Model):
    """What the department did on a referral: a dated text, with attachments."""

    __tablename__ = "referral_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    acted_on: Mapped[date]
    text: Mapped[str] = mapped_column(Text)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    referral: Mapped[Referral] = relationship(back_populates="actions")
    by: Mapped[User | None] = relationship()
    attachments: Mapped[list["ReferralAttachment"]] = relationship(back_populates="action",
                                                                   order_by="ReferralAttachment.id")


class ReferralAttachment(db.Model):
    """A file attached to a department's action (a scan of a decision, a photo): stored as a private
    file under the instance folder (core/files.py), named by `stored_name`, never by the user's name."""

    __tablename__ = "referral_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("referral_actions.id"), index=True)
    filename: Mapped[str] = mapped_column(String(120))  # as uploaded, cleaned; shown and downloaded as
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    action: Mapped[ReferralAction] = relationship(back_populates="attachments")


class AssessmentItem(TimestampMixin, db.Model):
    """One scored item of the guardianship assessment (监护评估, §8): what the assessor asks, with its
    weight. An administrator edits them; an assessment keeps the text and weight it was made with."""

    __tablename__ = "assessment_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(String(200))
    help: Mapped[str | None] = mapped_column(String(200))
    weight: Mapped[int] = mapped_column(default=1)
    position: Mapped[int] = mapped_column(default=0)
    need_category: Mapped[str | None] = mapped_column(String(20))  # the need a low answer suggests
    active: Mapped[bool] = mapped_column(default=True)


class AssessmentThreshold(db.Model):
    """The lowest percentage of the weighted score for a result level (ASSESSMENT_LEVELS): below the
    lowest of them is 严重缺失. Edited by an administrator."""

    __tablename__ = "assessment_thresholds"

    level: Mapped[str] = mapped_column(String(10), primary_key=True)
    min_percent: Mapped[int]


class GuardianshipAssessment(TimestampMixin, db.Model):
    __tablename__ = "guardianship_assessments"
    __table_args__ = (Index("ix_guardianship_assessments_child", "child_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    assessed_on: Mapped[date]
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    percent: Mapped[int]  # the weighted score, 0–100
    level: Mapped[str] = mapped_column(String(10))  # ASSESSMENT_LEVELS
    interventions: Mapped[str | None] = mapped_column(String(120))  # INTERVENTIONS codes, comma-separated
    note: Mapped[str | None] = mapped_column(Text)

    child: Mapped[Child] = relationship()
    assessor: Mapped[User | None] = relationship()
    answers: Mapped[list["AssessmentAnswer"]] = relationship(back_populates="assessment",
                                                             cascade="all, delete-orphan",
                                                             order_by="AssessmentAnswer.id")

    @property
    def intervention_codes(self) -> list[str]:
        return [c for c in (self.interventions or "").split(",") if c]


class AssessmentAnswer(db.Model):
    __tablename__ = "assessment_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("guardianship_assessments.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("assessment_items.id"))
    item_text: Mapped[str] = mapped_column(String(200))  # as asked, whatever the item says today
    weight: Mapped[int]
    answer: Mapped[int]  # ASSESSMENT_ANSWERS: 2, 1 or 0

    assessment: Mapped[GuardianshipAssessment] = relationship(back_populates="answers")


class UrgentFlag(db.Model):
    """A child in danger without care (《山东省未成年人保护条例》第六十七条), flagged 紧急: at the top of
    civil affairs' and the police's homes from `flagged_at` until someone records the action taken."""

    __tablename__ = "urgent_flags"
    __table_args__ = (Index("ix_urgent_flags_open", "action_at", "flagged_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    situation: Mapped[str] = mapped_column(Text)
    assessment_id: Mapped[int | None] = mapped_column(ForeignKey("guardianship_assessments.id"))
    flagged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
    action_taken: Mapped[str | None] = mapped_column(Text)
    action_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action_at: Mapped[datetime | None]

    child: Mapped[Child] = relationship()
    flagged_by: Mapped[User | None] = relationship(foreign_keys=[flagged_by_id])
    action_by: Mapped[User | None] = relationship(foreign_keys=[action_by_id])


conference_departments = Table(
    "conference_departments",
    db.metadata,
    Column("conference_id", ForeignKey("conferences.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id"), primary_key=True),
)


class Conference(TimestampMixin, db.Model):
    """A case conference (个案会商, 保障一) on one child: who sat, what was said, what was decided. Its
    decisions are measures of needs whose source is the conference."""

    __tablename__ = "conferences"
    __table_args__ = (Index("ix_conferences_child", "child_id", "held_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    held_on: Mapped[date]
    place: Mapped[str | None] = mapped_column(String(100))
    attendees: Mapped[str | None] = mapped_column(Text)  # names and units, as the minutes list them
    summary: Mapped[str] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    child: Mapped[Child] = relationship()
    departments: Mapped[list[Department]] = relationship(secondary=conference_departments, order_by="Department.id")
    created_by: Mapped[User | None] = relationship()
