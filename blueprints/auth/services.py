"""Signing in: password check, the login throttle counted in the database, server-side sessions
and password changes."""
from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from blueprints.auth.models import LoginFailure, User, UserSession
from blueprints.core import audit
from blueprints.core.clock import utcnow
from extensions import db

# One answer for a wrong password, an unknown name, a demo account outside demo mode and a throttled
# address: whoever is guessing learns nothing about which names exist or whether they are paused.
WRONG_CREDENTIALS = (
    "用户名或密码不正确。多次输错后，将暂停从当前网络登录此账号 {minutes} 分钟；"
    "急需登录请联系系统管理员解除限制。"
)
ACCOUNT_DISABLED = "该账号已停用。如需继续使用，请联系系统管理员。"
# A hash to check against when no real check is made, so every refusal takes the same time.
_DUMMY_HASH = generate_password_hash("guanai-no-such-user")


@dataclass
class LoginOutcome:
    user: User | None
    error: str | None = None


def failure_key(username: str) -> str:
    """The name failures are counted under: as typed, trimmed and lowercased."""
    return username.strip().lower()[:40]


def throttle_address(remote_addr: str | None) -> str:
    """The address failures are counted and stored under. An IPv6 client holds a whole /64 and could
    rotate through it, so IPv6 counts by its /64 network; IPv4 (also IPv4-mapped IPv6) as it is; no or
    an unreadable address as "unknown"."""
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return "unknown"
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def _window_start() -> datetime:
    return utcnow() - current_app.config["LOGIN_LOCKOUT"]


def _failure_counts(key: str, address: str) -> tuple[int, int]:
    """Recent failures (for this name from this address, from this address for any name), one query."""
    pair, spread = db.session.execute(
        select(func.count(case((LoginFailure.username == key, 1))), func.count())
        .where(LoginFailure.address == address, LoginFailure.at >= _window_start())
    ).one()
    return pair, spread


def _is_throttled(key: str, address: str) -> bool:
    pair, spread = _failure_counts(key, address)
    return (pair >= current_app.config["LOGIN_MAX_FAILURES"]
            or spread >= current_app.config["LOGIN_ADDRESS_MAX_FAILURES"])


def _record_failure(key: str, address: str, user: User | None, typed: str) -> None:
    """Count the failure (old rows go at the same time) and audit it; an unknown name is audited too,
    with the name as typed, so that guessing shows in the log."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < _window_start()))
    db.session.add(LoginFailure(username=key, address=address, at=utcnow()))
    db.session.flush()
    detail = f"地址：{address}" if user is not None else f"用户名：{typed.strip()[:40]}；地址：{address}"
    audit.record("login_failed", user, detail=detail, user=user)
    pair, spread = _failure_counts(key, address)
    minutes = int(current_app.config["LOGIN_LOCKOUT"].total_seconds() // 60)
    if pair == current_app.config["LOGIN_MAX_FAILURES"]:
        audit.record("login_throttled", user, user=user,
                     detail=f"{detail}：连续输错 {pair} 次，暂停此地址登录此账号 {minutes} 分钟")
    if spread == current_app.config["LOGIN_ADDRESS_MAX_FAILURES"]:
        audit.record("login_throttled", None, user=user,
                     detail=f"地址：{address}：{minutes} 分钟内输错 {spread} 次，暂停此地址登录任何账号")


def attempt_login(username: str, password: str, *, address: str | None) -> LoginOutcome:
    """Check a sign-in from client `address` (counted under throttle_address). The caller commits:
    failures count even though no one signs in."""
    minutes = int(current_app.config["LOGIN_LOCKOUT"].total_seconds() // 60)
    wrong = LoginOutcome(None, WRONG_CREDENTIALS.format(minutes=minutes))
    key = failure_key(username)
    address = throttle_address(address)

    if _is_throttled(key, address):
        check_password_hash(_DUMMY_HASH, password)
        return wrong

    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        _record_failure(key, address, None, username)
        return wrong
    if not user.check_password(password):
        _record_failure(key, address, user, username)
        return wrong
    if user.is_demo and not current_app.config["DEMO_MODE"]:
        # The demo password is printed on every demo login page: outside demo mode it opens nothing.
        audit.record("login_failed", user, user=user, detail=f"演示模式关闭：演示账号不能登录；地址：{address}")
        return wrong
    if not user.active:
        return LoginOutcome(None, ACCOUNT_DISABLED)

    db.session.execute(delete(LoginFailure).where(LoginFailure.username == key, LoginFailure.address == address))
    user.last_login_at = utcnow()
    audit.record("login", user, user=user)
    return LoginOutcome(user)


def recent_failures(user: User) -> list[tuple[str, int]]:
    """(address, failures) for this account within the throttle window, most first."""
    count = func.count().label("n")
    rows = db.session.execute(
        select(LoginFailure.address, count)
        .where(LoginFailure.username == failure_key(user.username), LoginFailure.at >= _window_start())
        .group_by(LoginFailure.address)
        .order_by(count.desc(), LoginFailure.address)
    ).all()
    return [(address, n) for address, n in rows]


# The sessions whose addresses count as where an account signs in from (address_pauses).
RECENT_SESSIONS = 5


def address_pauses(user: User) -> list[tuple[str, int]]:
    """(address, failures for any name) for the addresses paused for every account by
    LOGIN_ADDRESS_MAX_FAILURES where this user has been lately: an address this account failed from
    within the window, or that of one of her last RECENT_SESSIONS sessions. She may be stuck behind
    an office's shared address that someone else's guessing paused, with no failure of her own."""
    sessions = db.session.scalars(
        select(UserSession.ip).where(UserSession.user_id == user.id)
        .order_by(UserSession.last_seen_at.desc()).limit(RECENT_SESSIONS)
    )
    places = {throttle_address(ip) for ip in sessions} | {address for address, _ in recent_failures(user)}
    count = func.count().label("n")
    rows = db.session.execute(
        select(LoginFailure.address, count)
        .where(LoginFailure.address.in_(places), LoginFailure.at >= _window_start())
        .group_by(LoginFailure.address)
        .having(count >= current_app.config["LOGIN_ADDRESS_MAX_FAILURES"])
        .order_by(count.desc(), LoginFailure.address)
    ).all()
    return [(address, n) for address, n in rows]


def unlock_user(user: User, *, actor: User | None) -> int:
    """Lift what keeps this account out: its own failures from every address, and every failure
    (any name) from the address-wide pauses where she has been lately (address_pauses). Other
    addresses' counts stay. How many failures were cleared."""
    paused = [address for address, _ in address_pauses(user)]
    cleared = db.session.execute(
        delete(LoginFailure).where(
            (LoginFailure.username == failure_key(user.username)) | LoginFailure.address.in_(paused))
    ).rowcount
    where = f"；解除地址暂停：{'、'.join(paused)}" if paused else ""
    audit.record("login_unlocked", user, detail=f"{user.username}：清除 {cleared} 条登录失败记录{where}", user=actor)
    return cleared


# Server-side sessions -------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, ip: str | None, user_agent: str | None) -> UserSession:
    """A new session row for `user`; its token goes in the login cookie (User.get_id)."""
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=_token_hash(token), user=user, ip=ip, user_agent=(user_agent or "")[:120] or None)
    db.session.add(row)
    user.session_token, user.current_session = token, row
    return row


def end_sessions(user: User, reason: str, *, keep: UserSession | None = None) -> int:
    """End the user's open sessions (all but `keep`); how many were ended."""
    query = (update(UserSession)
             .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
             .values(ended_at=utcnow(), ended_reason=reason))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    return db.session.execute(query).rowcount


def end_session(row: UserSession, reason: str) -> None:
    row.ended_at, row.ended_reason = utcnow(), reason


def load_user(token: str) -> User | None:
    """Flask-Login's loader: the cookie's token must name an open session of an active user (not a
    demo account outside demo mode) that has not been idle too long. Runs first in the request
    (see routes.load_signed_in_user), so its commits carry nothing else. One query a request:
    the session with its user and her department (some grants go to a department: access.grants_of)."""
    row = db.session.scalar(
        select(UserSession).options(joinedload(UserSession.user).joinedload(User.department))
        .where(UserSession.token_hash == _token_hash(token), UserSession.ended_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    if row.user.is_demo and not current_app.config["DEMO_MODE"]:
        # As in attempt_login: outside demo mode a demo account opens nothing, not even a session
        # begun while demo mode was on.
        end_session(row, "demo_off")
        db.session.commit()
        return None
    now = utcnow()
    if now - row.last_seen_at > current_app.config["SESSION_IDLE_TIMEOUT"]:
        end_session(row, "idle")
        db.session.commit()
        g.session_idle = True
        return None
    if now - row.last_seen_at >= current_app.config["SESSION_TOUCH_INTERVAL"]:
        row.last_seen_at = now  # at most once a minute: no write on every request
        db.session.commit()
    user = row.user
    user.session_token, user.current_session = token, row
    return user


def change_password(user: User, new_password: str, *, current: UserSession | None) -> None:
    """Set a new password and end the user's other sessions; the one in use (`current`) goes on."""
    user.set_password(new_password)
    user.password_changed_at = utcnow()
    user.password_is_temporary = False
    end_sessions(user, "password_changed", keep=current)
    audit.record("password_changed", user)
