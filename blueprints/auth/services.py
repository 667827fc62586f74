"""Signing in: password check, lockout counted in the database, and password changes."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.auth.models import User
from blueprints.core import audit
from blueprints.core.clock import format_datetime, utcnow
from extensions import db

WRONG_CREDENTIALS = "用户名或密码不正确。连续输错 {max} 次，账号将锁定 {minutes} 分钟。"
# A hash to check against when the username is unknown, so both cases take the same time.
_DUMMY_HASH = generate_password_hash("guanai-no-such-user")


@dataclass
class LoginOutcome:
    user: User | None
    error: str | None = None


def _lockout_message(user: User) -> str:
    return (
        f"连续 {current_app.config['LOGIN_MAX_FAILURES']} 次密码错误，账号已锁定，"
        f"请于 {format_datetime(user.locked_until)} 后再试，或请系统管理员解锁。"
    )


def attempt_login(username: str, password: str) -> LoginOutcome:
    max_failures = current_app.config["LOGIN_MAX_FAILURES"]
    lockout = current_app.config["LOGIN_LOCKOUT"]
    wrong = WRONG_CREDENTIALS.format(max=max_failures, minutes=int(lockout.total_seconds() // 60))
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    now = utcnow()

    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return LoginOutcome(None, wrong)

    if user.locked_until is not None and user.locked_until > now:
        return LoginOutcome(None, _lockout_message(user))

    if not user.check_password(password):
        # Increment in SQL, not in Python: two workers failing at once must both count.
        db.session.execute(
            update(User)
            .where(User.id == user.id)
            .values(failed_login_count=User.failed_login_count + 1)
        )
        db.session.refresh(user)
        audit.record("login_failed", user, user=user)
        if user.failed_login_count >= max_failures:
            user.locked_until = now + lockout
            user.failed_login_count = 0
            audit.record("login_locked", user, detail=f"锁定至 {format_datetime(user.locked_until)}", user=user)
            return LoginOutcome(None, _lockout_message(user))
        return LoginOutcome(None, wrong)

    if not user.active:
        return LoginOutcome(None, "该账号已停用。如需继续使用，请联系系统管理员。")

    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record("login", user, user=user)
    return LoginOutcome(user)


def change_password(user: User, new_password: str) -> None:
    """Set a new password and end the user's other sessions (the login cookie carries the version)."""
    user.set_password(new_password)
    user.password_changed_at = utcnow()
    user.session_version += 1
    audit.record("password_changed", user)


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader: the cookie's id must name an active user at the current version."""
    user_pk, _, version = user_id.partition(".")
    if not user_pk.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_pk))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user
