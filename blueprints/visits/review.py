"""The supervisors' review queue (plan §10 §20: the supervisor follows up the directors' visits): the
visits not yet reviewed, concerns first; a visit sent back with a question, and the visitor's answer,
which puts it back in the queue. Reviewing a visit as done is approve_visit (services.review_visit)."""
from __future__ import annotations

from flask import url_for
from sqlalchemy import Select, case, func, or_, select, union_all
from sqlalchemy.orm import aliased

from blueprints.auth.models import User
from blueprints.children.access import reachable_children
from blueprints.children.models import Child
from blueprints.core import audit
from blueprints.core.clock import utcnow
from blueprints.core.vocabulary import HAZARDS, REVIEW_STATES
from blueprints.notices.services import notify
from blueprints.places.models import Village
from blueprints.visits.models import Visit
from blueprints.visits.services import review_visit
from extensions import db


class ReviewRefused(Exception):
    """A review step the visit's state does not allow (409): the message says why, in Chinese."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


PAGE_SIZE = 30  # rows carry their forms: a phone page stays light

# What a visit found that a supervisor looks at first (the queue's "concerns first").
CONCERNS = {
    "mental": func.coalesce(Visit.mental_state, "") == "concern",  # not NULL: "none" negates these
    "hazard": or_(*(getattr(Visit, field) for field in HAZARDS)),
    "online": or_(Visit.internet_concern, Visit.social_concern),
    "follow_up": Visit.follow_up_needed,
}
ANY_CONCERN = or_(*CONCERNS.values())
FINDINGS = {
    "concern": "有关注事项",
    "mental": "心理需要关注",
    "hazard": "有安全隐患",
    "online": "网络或社会保护",
    "follow_up": "需要跟进",
    "none": "未发现问题",
}
FINDING_CLAUSES = {**CONCERNS, "concern": ANY_CONCERN, "none": ~ANY_CONCERN}
QUEUE_STATES = {"new": "未评阅", "answered": REVIEW_STATES["answered"]}  # "new": review_state None
VISITOR_ROLES = ("director", "supervisor")  # those who record visits (visits:write)

Visitor = aliased(User)  # the visit's visitor, apart from any user a reach clause may bring in


def reachable_visits(user) -> Select:
    """The visits of the children `user` reaches (selecting the children: see with_names)."""
    return reachable_children(user).join(Visit, Visit.child_id == Child.id)


def with_names(query: Select) -> Select:
    """Each visit with its child's name, village and visitor's name: one query for a page of rows."""
    return (query.join(Village, Village.id == Child.residence_village_id)
            .join(Visitor, Visitor.id == Visit.visitor_id)
            .with_only_columns(Visit, Child.name.label("child_name"), Village.name.label("village"),
                               Visitor.display_name.label("visitor")))


def queue(user, village_id: int | None = None, visitor_id: int | None = None, finding: str = "",
          state: str = "") -> Select:
    """The review queue (unordered, without the names: see queue_page): standing visits not yet
    reviewed or answered since."""
    # The waiting visits found through ix_visits_review_state, one lookup per state: with a plain OR
    # (or stale statistics) a planner walks every child's visits from the villages instead (0.8 s
    # against 17 ms for the page with 200,000 visits on SQLite).
    parts = [select(Visit.id).where(Visit.review_state.is_(None)) if code == "new" else
             select(Visit.id).where(Visit.review_state == code)
             for code in QUEUE_STATES if state in ("", code)]
    waiting = parts[0] if len(parts) == 1 else union_all(*parts)
    query = reachable_visits(user).where(Visit.id.in_(waiting), Visit.superseded.is_(False),
                                         Visit.visitor_id != user.id)  # her own: civil affairs reviews them
    if village_id is not None:
        query = query.where(Child.residence_village_id == village_id)
    if visitor_id is not None:
        query = query.where(Visit.visitor_id == visitor_id)
    if finding in FINDING_CLAUSES:
        query = query.where(FINDING_CLAUSES[finding])
    return query


def queue_page(query: Select, page: int) -> tuple[list, int, int, int]:
    """(rows, total, page, pages): a count (without the names' joins) and one query for the page's
    rows, concerns first, then the oldest first."""
    total = db.session.scalar(query.with_only_columns(func.count(Visit.id))) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page, pages)
    rows = db.session.execute(with_names(query).order_by(case((ANY_CONCERN, 0), else_=1), Visit.visited_on, Visit.id)
                              .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, total, page, pages


def visit_row(user, visit_id: int):
    """One visit as a queue row (re-shown with a message), or None outside reach."""
    return db.session.execute(with_names(reachable_visits(user)).where(Visit.id == visit_id)).first()


def visitors() -> list[tuple[int, str]]:
    """The queue's filter by director: everyone who records visits."""
    return db.session.execute(select(User.id, User.display_name).where(User.role.in_(VISITOR_ROLES))
                              .order_by(User.display_name, User.id)).all()


def returned_to(user) -> list:
    """`user`'s own standing visits sent back with a question, oldest first (the top of her due list)."""
    hers = select(Visit.id).where(Visit.review_state == "returned", Visit.visitor_id == user.id)  # as in queue()
    query = with_names(reachable_visits(user)).where(Visit.id.in_(hers), Visit.superseded.is_(False))
    return db.session.execute(query.order_by(Visit.returned_at, Visit.id)).all()


def _may_review(visit: Visit, actor) -> None:
    """A visit corrected since it was shown is not reviewed: the correction is the one to review, and
    it still waits. Nor does anyone review her own visit: a supervisor's visits (the villages with no
    director) wait in civil affairs' queue."""
    if visit.superseded:
        raise ReviewRefused("这条走访记录已被更正，请评阅更正后的记录。")
    if visit.visitor_id == actor.id:
        raise ReviewRefused("这是您自己的走访记录，不能自己评阅：请由民政组评阅。")


def approve_visit(visit: Visit, comment: str | None = None, *, actor) -> None:
    """The visit reviewed ("ok"): one tap in the queue, or the visit page's form with a comment
    (refused as _may_review says)."""
    _may_review(visit, actor)
    review_visit(visit, comment, actor=actor)


def return_visit(visit: Visit, question: str, *, actor) -> None:
    """Send the visit back to its visitor with a question (a new question replaces an earlier one and
    its answer; the audit trail keeps both), and tell her."""
    _may_review(visit, actor)
    visit.review_state = "returned"
    visit.review_question = question
    visit.returned_at = utcnow()
    visit.answer = visit.answered_at = None
    visit.reviewed_by_id, visit.reviewed_at = actor.id, None  # reviewed_at: set by an "ok" only
    audit.record("visit_returned", visit, detail=question[:100], user=actor)
    visitor = db.session.get(User, visit.visitor_id)
    # the child's name only to a visitor who still reaches her (she may have moved to another village)
    named = db.session.scalar(reachable_children(visitor).where(Child.id == visit.child_id)
                              .with_only_columns(Child.name)) if visitor.active else None
    about = f"对{named}的走访" if named else "的一次走访"
    who = "督导" if actor.role == "supervisor" else actor.role_label  # civil affairs returns the supervisor's
    notify([visitor], "visit_returned", f"{who}退回了您 {visit.visited_on:%Y-%m-%d} {about}，请答复提问。",
           key=f"visit_returned:{visit.id}:{visit.returned_at:%Y%m%d%H%M%S%f}",
           url=url_for("visits.detail", visit_id=visit.id), child_id=visit.child_id if named else None)


def answer_visit(visit: Visit, answer: str, *, actor) -> None:
    """The visitor's answer to the question (the route lets only her answer for her visit): the visit
    goes back to the queue ("answered")."""
    if visit.superseded:
        raise ReviewRefused("这条走访记录已被更正，请在更正后的记录上说明。")
    if visit.review_state == "ok":  # the supervisor passed it while the question waited
        raise ReviewRefused("督导已评阅通过这条走访记录，不需要再答复。")
    if visit.review_state != "returned":
        raise ReviewRefused("这条走访记录没有待答复的提问（可能已答复过）。")
    visit.review_state = "answered"
    visit.answer = answer
    visit.answered_at = utcnow()
    audit.record("visit_answered", visit, detail=answer[:100], user=actor)

