"""Reference data: the town's villages, its schools (and the villages each serves), its departments."""
from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from blueprints.core.mixins import TimestampMixin
from blueprints.core.vocabulary import SCHOOL_KINDS
from extensions import db


school_villages = Table(
    "school_villages",
    db.metadata,
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class Village(TimestampMixin, db.Model):
    """行政村."""

    __tablename__ = "villages"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    is_demo: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    schools: Mapped[list["School"]] = relationship(
        secondary=school_villages, back_populates="villages", order_by="School.name"
    )

    def __repr__(self) -> str:
        return f"<Village {self.name}>"


class School(TimestampMixin, db.Model):
    """A school or kindergarten, and the villages whose children it takes."""

    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    is_demo: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    villages: Mapped[list[Village]] = relationship(
        secondary=school_villages, back_populates="schools", order_by=Village.name
    )

    @property
    def kind_label(self) -> str:
        return SCHOOL_KINDS.get(self.kind, self.kind)


class Department(TimestampMixin, db.Model):
    """A town department named in the action plan; `code` is stable, `name` may be edited."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
