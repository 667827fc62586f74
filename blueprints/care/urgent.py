"""Urgent flags (紧急情况): a child in danger without care (《山东省未成年人保护条例》第六十七条),
flagged by whoever finds her (a child director, a school, civil affairs). The flag goes at once to
the top of the homes of civil affairs and the police (urgent:read, a card of order 1) and to their
bell (every active holder of urgent:act), with who flagged it and when, and stays there until
someone records the action taken (urgent:act). On the child's page an open flag shows in red.

One open flag per child: a second, while the first waits, is refused with a message naming it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import after_this_request, has_request_context, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from blueprints.auth.models import User
from blueprints.care.access import reachable_assessments, reachable_urgent_flags
from blueprints.care.models import GuardianshipAssessment, UrgentFlag
from blueprints.children.models import Child
from blueprints.children.services import ensure_open, lock_child
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core.clock import format_datetime, utcnow
from blueprints.core.disclosure import disclosure_for
from blueprints.core.forms import FieldErrors
from blueprints.notices.services import notify, register_reader
from blueprints.places.models import Village
from extensions import db

TEXT_LIMIT = 1000
# The roles that may hold urgent:act (the grants say who does: civil affairs, the police).
ACTING_ROLES = ("civil_affairs", "department")


class UrgentError(FieldErrors):
    """A flag or an action the rules refuse: {field: message}."""


class FlagClosed(Exception):
    """An action on a flag already dealt with (the route answers 409)."""

    def __init__(self, flag: UrgentFlag):
        by = flag.action_by.display_name if flag.action_by else ""
        self.message = f"这条紧急情况已于 {format_datetime(flag.action_at)} 由{by}记录处置，不能再次处置。"
        super().__init__(self.message)


def _text(values: dict, name: str) -> str:
    return (values.get(name) or "").strip()


def open_flag(child_id: int) -> UrgentFlag | None:
    return db.session.scalar(select(UrgentFlag).where(UrgentFlag.child_id == child_id, UrgentFlag.action_at.is_(None))
                             .options(joinedload(UrgentFlag.flagged_by)))


def flag_child(child: Child, values: dict, *, actor) -> UrgentFlag:
    """values: situation, assessment_id (optional: the assessment that showed it, one of the
    child's that the actor reaches). Tells every holder of urgent:act at once."""
    ensure_open(child)
    lock_child(child)  # two flags of one child at once: the second sees the first
    situation = _text(values, "situation")
    errors: dict[str, str] = {}
    if not situation:
        errors["situation"] = "情况说明：请写明孩子现在的处境（在哪里、谁在身边、有什么危险）"
    elif len(situation) > TEXT_LIMIT:
        errors["situation"] = f"情况说明：最多 {TEXT_LIMIT} 个字，请删减"
    waiting = open_flag(child.id)
    if waiting is not None:
        by = waiting.flagged_by.display_name if waiting.flagged_by else ""
        errors["situation"] = (f"情况说明：{child.name}已有一条紧急情况（{format_datetime(waiting.flagged_at)} {by}标记）"
                               "还没有处置，镇民政组和派出所已收到，请直接联系他们")
    assessment_id = values.get("assessment_id")
    if assessment_id is not None and db.session.scalar(
            reachable_assessments(actor).where(GuardianshipAssessment.id == assessment_id,
                                               GuardianshipAssessment.child_id == child.id)) is None:
        errors["situation"] = errors.get("situation") or "情况说明：所附的监护评估不属于这名儿童，请从儿童档案页重新打开"
    if errors:
        raise UrgentError(errors)
    flag = UrgentFlag(child_id=child.id, situation=situation, assessment_id=assessment_id,
                      flagged_by_id=actor.id if actor is not None else None, flagged_at=utcnow())
    db.session.add(flag)
    db.session.flush()
    village = db.session.get(Village, child.residence_village_id)
    # Those told read the flag's page (its child's name and village); nothing of the situation here.
    notify(acting_users(), "urgent_flag", f"紧急情况：{child.name}（{village.name if village else ''}），"
           f"{actor.display_name if actor else ''}标记，请立即处置", key=f"urgent_flag:{flag.id}",
           url=url_for("care.urgent_detail", flag_id=flag.id), child_id=child.id)
    audit.record("urgent_flagged", flag, detail=child.name, user=actor)
    return flag


def acting_users() -> list[User]:
    """Every active user who may record the action taken (urgent:act): civil affairs, the police."""
    users = db.session.scalars(select(User).where(User.active, User.role.in_(ACTING_ROLES))
                               .options(joinedload(User.department))).all()
    return [u for u in users if can(u, "urgent:act")]


def record_action(flag: UrgentFlag, values: dict, *, actor) -> None:
    """values: action_taken. Closes the flag; a closed one raises FlagClosed."""
    db.session.execute(select(UrgentFlag).where(UrgentFlag.id == flag.id).with_for_update(of=UrgentFlag)
                       .execution_options(populate_existing=True))
    if flag.action_at is not None:
        raise FlagClosed(flag)
    action = _text(values, "action_taken")
    if not action:
        raise UrgentError({"action_taken": "处置情况：请写明采取了什么措施（谁去了现场、孩子现在由谁照料）"})
    if len(action) > TEXT_LIMIT:
        raise UrgentError({"action_taken": f"处置情况：最多 {TEXT_LIMIT} 个字，请删减"})
    flag.action_taken, flag.action_at = action, utcnow()
    flag.action_by_id = actor.id if actor is not None else None
    audit.record("urgent_acted", flag, detail=flag.child.name, user=actor)


# --- the home card, the child's page ----------------------------------------------------------------

@dataclass(frozen=True)
class OpenFlag:
    flag_id: int
    child_name: str
    village_name: str
    situation: str
    flagged_by: str
    flagged_at: datetime


def open_flags(user):
    """The open flags `user` reads, the oldest first (the longest waiting)."""
    return reachable_urgent_flags(user).where(UrgentFlag.action_at.is_(None))


def audit_read(detail: str) -> None:
    """A read of urgent flags, recorded once the page is rendered (the department's reads too)."""
    if not has_request_context():
        return

    @after_this_request
    def record(response):
        if response.status_code < 400:
            audit.record_view("urgent_viewed", detail=detail)
        return response


def home_panel(user) -> dict | None:
    """Civil affairs' and the police's card, at the top: every open flag, named, with who flagged it
    and when (two queries). Nothing when none waits."""
    query = open_flags(user)
    total = db.session.scalar(query.with_only_columns(func.count(UrgentFlag.id)).order_by(None)) or 0
    if not total:
        return None
    flagger = User.__table__.alias("flagger")
    rows = db.session.execute(
        query.join(Child, Child.id == UrgentFlag.child_id).join(Village, Village.id == Child.residence_village_id)
        .outerjoin(flagger, flagger.c.id == UrgentFlag.flagged_by_id)
        .with_only_columns(UrgentFlag.id, Child.name, Village.name, UrgentFlag.situation, flagger.c.display_name,
                           UrgentFlag.flagged_at)
        .order_by(UrgentFlag.flagged_at, UrgentFlag.id).limit(HOME_CARD_NAMES)).all()
    audit_read(f"首页：{total} 条未处置的紧急情况")
    return {"total": total, "rows": [OpenFlag(fid, name, village, situation, by or "", at)
                                     for fid, name, village, situation, by, at in rows],
            "may_act": can(user, "urgent:act")}


def child_slot(viewer, child: Child) -> dict | None:
    """The child's page: her open flag in red (to whoever reads flags or raises them, within reach)
    and the button to raise one. One query."""
    if not disclosure_for(viewer).shows("care.urgent"):
        return None
    permission = next((p for p in ("urgent:read", "urgent:flag") if can(viewer, p)), None)
    if permission is None:
        return None
    flag = db.session.scalar(reachable_urgent_flags(viewer, permission).where(
        UrgentFlag.child_id == child.id, UrgentFlag.action_at.is_(None)).options(joinedload(UrgentFlag.flagged_by)))
    may_flag = can(viewer, "urgent:flag") and child.status != "exited"
    if flag is None and not may_flag:
        return None
    return {"child": child, "flag": flag, "may_flag": may_flag, "may_read": can(viewer, "urgent:read")}


def _urgent_flag_children(user, child_ids: set[int]) -> set[int]:
    """The children of `child_ids` whose urgent flag `user` reaches: the police read a flag's page
    (her name on it) without reaching her record, so its notice keeps her name while they do."""
    return set(db.session.scalars(reachable_urgent_flags(user).where(UrgentFlag.child_id.in_(child_ids))
                                  .with_only_columns(UrgentFlag.child_id)))


register_reader("urgent_flag", _urgent_flag_children)
