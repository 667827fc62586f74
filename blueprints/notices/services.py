"""Telling users: `notify` writes an in-app notice for each user (the bell), then hands it to every
other channel registered (none on these machines: no e-mail or SMS is configured; a channel is one
function, `register_channel(send)`, called after the notice's transaction commits)."""
from __future__ import annotations

from typing import Callable, Iterable

from flask import abort
from sqlalchemy import event, func, select, update

from blueprints.children.access import reachable_children
from blueprints.children.models import Child
from blueprints.core.clock import utcnow
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


def bell(viewer) -> dict:
    """The bell's slot in the top bar (one query): how many of the viewer's notices are unread."""
    return {"unread": unread_count(viewer)}


def own_notice_or_404(notice_id: int, user) -> Notice:
    """The user's own notice; anyone else's looks the same as none."""
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.user_id != user.id:
        abort(404)
    return notice


def notices_page(user, page: int, size: int) -> tuple[list[Notice], int]:
    """A page of the user's notices, unread first, newest first; and how many she has. Two queries."""
    mine = select(Notice).where(Notice.user_id == user.id)
    total = db.session.scalar(mine.with_only_columns(func.count(Notice.id))) or 0
    rows = db.session.scalars(mine.order_by(Notice.read_at.is_not(None), Notice.created_at.desc(), Notice.id.desc())
                              .limit(size).offset((page - 1) * size)).all()
    return list(rows), total


# kind → read(user, child ids) → the ids of those children whose notices of that kind `user` still
# reads through the notice's own page, without reaching the child's record (register_reader).
READERS: dict[str, Callable[[object, set[int]], set[int]]] = {}


def register_reader(kind: str, read: Callable[[object, set[int]], set[int]]) -> None:
    READERS[kind] = read


def out_of_reach(user, notices: list[Notice]) -> set[int]:
    """The ids of those of `notices` about a child `user` no longer reaches (a department 30 days
    after returning her referral, a director moved to other villages): a notice's text was written
    for the reach of its day, so these are shown without it. A kind registered with a reader (an
    urgent flag: the police read its page, the child's name on it, without her record) also counts
    what the reader says. One query, and one per such kind present."""
    child_ids = {n.child_id for n in notices if n.child_id is not None}
    if not child_ids:
        return set()
    reached = set(db.session.scalars(reachable_children(user).where(Child.id.in_(child_ids))
                                     .with_only_columns(Child.id)))
    for kind, read in READERS.items():  # a page read without the child's record: its own reach
        through = {n.child_id for n in notices if n.kind == kind and n.child_id not in reached}
        if through:
            reached |= read(user, through)
    return {n.id for n in notices if n.child_id is not None and n.child_id not in reached}


def mark_read(notice: Notice) -> None:
    if notice.read_at is None:
        notice.read_at = utcnow()


def mark_all_read(user) -> int:
    return db.session.execute(update(Notice).where(Notice.user_id == user.id, Notice.read_at.is_(None))
                              .values(read_at=utcnow())).rowcount
