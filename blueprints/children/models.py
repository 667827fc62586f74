"""The child's record (一人一档, plan §10) and what hangs off it: categories, family members,
the entrusted caregiver (§6), parent–child contacts (§6), benefits (§11), and the change history.

Nothing here is ever deleted: a child leaves the registry by an exit (status, reason, date)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.places.models import School, Village
from blueprints.core.clock import utcnow
from blueprints.core import vocabulary
from blueprints.core.mixins import CreatedByMixin, TimestampMixin
from extensions import db

RELATIONS = ["父亲", "母亲", "祖父", "祖母", "外祖父", "外祖母", "兄姐", "叔伯姑", "舅姨", "其他亲属", "其他"]
DISABILITY_KINDS = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
DISABILITY_GRADES = ["一级", "二级", "三级", "四级"]


class Child(TimestampMixin, CreatedByMixin, db.Model):
    __tablename__ = "children"
    __table_args__ = (
        Index("ix_children_village_status", "residence_village_id", "status"),
        Index("ix_children_name_pinyin", "name_pinyin", "id"),  # the list's order: a page without a sort
        Index("ix_children_school_class", "school_id", "grade", "class_name"),  # a class teacher's pupils
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    archive_no: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    name_initials: Mapped[str] = mapped_column(String(40), index=True)  # 张三 → zs (pypinyin)
    name_pinyin: Mapped[str] = mapped_column(String(160))  # 张三 → zhangsan
    # Nullable: a child without a registered ID (无户口) must still be found and helped.
    id_number: Mapped[str | None] = mapped_column(String(18), unique=True)
    id_last4: Mapped[str | None] = mapped_column(String(4), index=True)
    gender: Mapped[str] = mapped_column(String(10))
    birth_date: Mapped[date] = mapped_column(index=True)
    ethnicity: Mapped[str] = mapped_column(String(20), default="汉族")
    hukou_village_id: Mapped[int | None] = mapped_column(ForeignKey("villages.id"))
    residence_village_id: Mapped[int] = mapped_column(ForeignKey("villages.id"))
    address: Mapped[str | None] = mapped_column(String(200))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"), index=True)
    grade: Mapped[str | None] = mapped_column(String(20))
    class_name: Mapped[str | None] = mapped_column(String(20))  # 班级: "2班", shown after the grade
    health: Mapped[str | None] = mapped_column(String(200))
    disability_kind: Mapped[str | None] = mapped_column(String(20))
    disability_grade: Mapped[str | None] = mapped_column(String(10))
    disability_certificate: Mapped[str | None] = mapped_column(String(40))
    attention_level: Mapped[str] = mapped_column(String(10), default="general", index=True)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)
    exit_reason: Mapped[str | None] = mapped_column(String(30))
    exit_date: Mapped[date | None]
    exit_note: Mapped[str | None] = mapped_column(Text)  # what the exit form's 说明 said
    state_guardianship: Mapped[str] = mapped_column(String(12), default="none")  # §9
    guardianship_unit: Mapped[str | None] = mapped_column(String(80))
    # The entrusted caregiver of a 留守 child (委托照护人, §6).
    caregiver_name: Mapped[str | None] = mapped_column(String(40))
    caregiver_relation: Mapped[str | None] = mapped_column(String(20))
    caregiver_phone: Mapped[str | None] = mapped_column(String(20))
    caregiver_confirmed_on: Mapped[date | None]  # when the parents confirmed the arrangement
    # The newest visit that stands (not superseded by a correction): kept by visits/services.py on
    # every visit, so that due lists need no aggregate over all visits.
    last_visit_on: Mapped[date | None]
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))

    residence_village: Mapped[Village] = relationship(foreign_keys=[residence_village_id])
    hukou_village: Mapped[Village | None] = relationship(foreign_keys=[hukou_village_id])
    school: Mapped[School | None] = relationship()
    categories: Mapped[list["ChildCategory"]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="ChildCategory.category"
    )
    family: Mapped[list["FamilyMember"]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="FamilyMember.id"
    )
    contacts: Mapped[list["ParentContact"]] = relationship(
        back_populates="child", order_by="ParentContact.contacted_on.desc()"
    )
    benefits: Mapped[list["Benefit"]] = relationship(back_populates="child", order_by="Benefit.start_on.desc()")
    changes: Mapped[list["ChildChange"]] = relationship(back_populates="child", order_by="ChildChange.id.desc()")

    @property
    def category_codes(self) -> list[str]:
        return [c.category for c in self.categories]

    @property
    def guardian(self) -> "FamilyMember | None":
        return next((m for m in self.family if m.is_guardian), None)

    @property
    def grade_and_class(self) -> str:
        """The grade with the class, as shown: "三年级 2班" (either alone, or "")."""
        return " ".join(part for part in (self.grade, self.class_name) if part)

    def age_on(self, day: date) -> int:
        return vocabulary.age_on(self.birth_date, day)


class ChildCategory(db.Model):
    __tablename__ = "child_categories"
    __table_args__ = (
        UniqueConstraint("child_id", "category"),
        Index("ix_child_categories_category_child", "category", "child_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"))
    category: Mapped[str] = mapped_column(String(20))
    child: Mapped[Child] = relationship(back_populates="categories")


class FamilyMember(TimestampMixin, db.Model):
    __tablename__ = "family_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(40))
    id_number: Mapped[str | None] = mapped_column(String(18))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    work: Mapped[str | None] = mapped_column(String(60))
    work_place: Mapped[str | None] = mapped_column(String(80))
    works_away: Mapped[bool] = mapped_column(default=False)  # 外出务工
    guardianship_capacity: Mapped[str] = mapped_column(String(10), default="full")
    is_guardian: Mapped[bool] = mapped_column(default=False)
    child: Mapped[Child] = relationship(back_populates="family")


class ParentContact(db.Model):
    """A parent's contact with the child and caregiver (§6: at least once a week)."""

    __tablename__ = "parent_contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_uuid: Mapped[str | None] = mapped_column(String(36), unique=True)  # offline replays
    fingerprint: Mapped[str | None] = mapped_column(String(64))  # of the body: blueprints/core/offline.py
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    contacted_on: Mapped[date]
    who: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(12))
    note: Mapped[str | None] = mapped_column(String(200))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    child: Mapped[Child] = relationship(back_populates="contacts")


class Benefit(TimestampMixin, db.Model):
    """A benefit the child receives (§11 救助保障)."""

    __tablename__ = "benefits"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    period: Mapped[str | None] = mapped_column(String(20))  # 每月 / 每年 / 一次性
    start_on: Mapped[date]
    end_on: Mapped[date | None]
    source: Mapped[str | None] = mapped_column(String(60))
    child: Mapped[Child] = relationship(back_populates="benefits")


class ChildChange(db.Model):
    """One field changed on a child's record: who, when, from what to what."""

    __tablename__ = "child_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    username: Mapped[str | None] = mapped_column(String(40))
    section: Mapped[str] = mapped_column(String(20))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    child: Mapped[Child] = relationship(back_populates="changes")


class ImportBatch(db.Model):
    """An Excel import of the survey (摸底排查): the report is kept whatever the outcome."""

    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filename: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))  # previewed / imported / rejected
    total_rows: Mapped[int] = mapped_column(default=0)
    bad_rows: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    report: Mapped[str] = mapped_column(Text, default="")
