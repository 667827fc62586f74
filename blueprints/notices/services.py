"""Telling users: `notify` writes an in-app notice for each user (the bell), then hands it to every
other channel registered (none on these machines: no e-mail or SMS is configured; a channel is one
function, `register_channel(send)`, called after the notice's transaction commits)."""
from __future__ import annotations

from typing import Callable, Iterable

from sqlalchemy import event, func, select

from blueprints.notices.models import Notice
from extensions import db

CHANNELS: list[Callable[[Notice], None]] = []


def register_channel(send: Callable[[Notice], None]) -> None:
    """`send(notice)` is called for each new notice once its transaction has committed."""
    CHANNELS.append(send)


def notify(users: Iterable, kind: str, text: str, *, key: str, url: str | None = None,
           child_id: int | None = None) -> list[Notice]:
    """A notice for each of `users` (deduplicated), unless that user already has one with `key`.
    `text` must say no more than each user may read at `url`. Added to the caller's transaction."""
    ids = sorted({u.id for u in users if u is not None})
    if not ids:
        return []
    told = set(db.session.scalars(select(Notice.user_id).where(Notice.key == key, Notice.user_id.in_(ids))))
    added = [Notice(user_id=user_id, kind=kind, text=text[:200], url=url, child_id=child_id, key=key[:80])
             for user_id in ids if user_id not in told]
    db.session.add_all(added)
    if added and CHANNELS:
        _send_after_commit(added)
    return added


def _send_after_commit(notices: list[Notice]) -> None:
    session = db.session()

    def send(_session) -> None:
        for notice in notices:
            for channel in CHANNELS:
                channel(notice)

    event.listen(session, "after_commit", send, once=True)


def unread_count(user) -> int:
    return db.session.scalar(select(func.count(Notice.id)).where(Notice.user_id == user.id,
                                                                  Notice.read_at.is_(None))) or 0
