"""Accounts. A user has one role (see core/access.py) and the reach that role needs:
villages for a child director, a school for school staff, a department for department staff."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, Index, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.places.models import Department, School, Village
from blueprints.core.clock import utcnow
from blueprints.core.mixins import TimestampMixin
from blueprints.core.vocabulary import SCHOOL_DUTIES, VOLUNTEER_KINDS
from extensions import db


user_villages = Table(
    "user_villages",
    db.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    volunteer_kind: Mapped[str | None] = mapped_column(String(20))
    school_id: Mapped[int | None] = mapped_column(ForeignKey("schools.id"))
    school_duty: Mapped[str | None] = mapped_column(String(20))  # SCHOOL_DUTIES, school staff only
    # A class teacher's class (schools/classes.py): a (grade, class) pair of her school's pupils
    class_grade: Mapped[str | None] = mapped_column(String(20))
    class_name: Mapped[str | None] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    active: Mapped[bool] = mapped_column(default=True)
    is_demo: Mapped[bool] = mapped_column(default=False)

    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]
    # Set by someone else (an administrator, the volunteers' roster): known to two people and often
    # sent by message, it opens only the page that sets her own (auth/routes.py: load_signed_in_user).
    password_is_temporary: Mapped[bool] = mapped_column(default=False, server_default=false())

    villages: Mapped[list[Village]] = relationship(secondary=user_villages, order_by=Village.name)
    school: Mapped[School | None] = relationship()
    department: Mapped[Department | None] = relationship()

    # The signed-in session this object was loaded for (auth/services.py: start_session, load_user);
    # not columns: the login cookie carries the session's token, never the user's id.
    session_token = None
    current_session = None

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # Without start_session (login_user in a test's request context) the cookie names no session:
        # that user is signed in for the one request only.
        return self.session_token or ""

    # UserMixin compares get_id(), the session token; two objects are the same account by id.
    def __eq__(self, other):
        if not isinstance(other, User):
            return NotImplemented
        return self is other or (self.id is not None and self.id == other.id)

    def __ne__(self, other):
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = object.__hash__

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)  # scrypt

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def role_label(self) -> str:
        from blueprints.core.access import ROLES

        role = ROLES.get(self.role)
        if role is None:
            return self.role
        if self.role == "volunteer" and self.volunteer_kind:
            return VOLUNTEER_KINDS.get(self.volunteer_kind, role.label)
        if self.role == "school" and self.school_duty:
            return f"{role.label}·{SCHOOL_DUTIES.get(self.school_duty, self.school_duty)}"
        return role.label

    @property
    def role_duty(self) -> str:
        from blueprints.core.access import ROLES

        return ROLES[self.role].duty if self.role in ROLES else ""

    @property
    def reach_label(self) -> str:
        """Where this account reaches, in words: 全镇, the villages, the school, the department."""
        from blueprints.core.access import ROLES

        reach = ROLES[self.role].reach if self.role in ROLES else None
        if reach == "town":
            return "全镇"
        if reach == "village":
            return "、".join(v.name for v in self.villages) or "未分配村"
        if reach == "school":
            return self.school.name if self.school else "未分配学校"
        if reach == "department":
            return self.department.name if self.department else "未分配部门"
        if reach == "own":
            return "结对儿童"
        return ""

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """A signed-in session, kept on the server. The cookie carries a random token and this row only
    its hash: ending the row (logout, idle, new password, account disabled) ends the session for
    every copy of the cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(20))  # logout, idle, password_changed, …
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(120))

    user: Mapped[User] = relationship()


class LoginFailure(db.Model):
    """One failed sign-in: the name as typed (lowercased; the account may not exist) and the client
    address. Counted per (name, address) and per address to throttle guessing (auth/services.py)."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_username_address_at", "username", "address", "at"),
        Index("ix_login_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(default=utcnow)
