"""How far each reach goes over the care plans, referrals, assessments, urgent flags and conferences
(registered with the access gate), what kind of data they are (the disclosure policy), and the
queries every list, page and figure of this area starts from.

Every record is reached through its child: town-reach staff reach every child's, a child director
her villages' children's, a school its pupils'. A department reaches a child only through a
referral to it: while the referral is open, and for REFERRAL_GRACE_DAYS after it was returned
(the `department` reach of children, registered here); it reaches the referrals sent to it, and
of the child only what the disclosure policy shows a department."""
from __future__ import annotations

from datetime import timedelta

from flask_login import current_user
from sqlalchemy import Select, false, or_, select

from blueprints.children.models import Child
from blueprints.core import clock
from blueprints.core.access import get_reachable_or_404, reachable, register_reach
from blueprints.core.backup import keep_folder
from blueprints.core.clock import local_today
from blueprints.core.disclosure import register_fields
from blueprints.care.models import (OPEN_REFERRAL_STATES, Conference, GuardianshipAssessment, Measure, Need, Referral,
                                    UrgentFlag)

# After a referral is returned (done or declined), the department keeps the child this many days:
# to answer a question about what it did, not to follow the child.
REFERRAL_GRACE_DAYS = 30

CARE_FIELDS = {
    "care.need": "care",
    "care.measure": "care",
    "care.referral": "care",
    "care.assessment": "care",
    "care.urgent": "care",
    "care.conference": "care",
}


def _children_of_villages(user):
    return select(Child.id).where(Child.residence_village_id.in_([v.id for v in user.villages]))


def _pupils_of_school(user):
    if user.school_id is None:  # `== None` would be IS NULL: every child at no school
        return select(Child.id).where(false())
    return select(Child.id).where(Child.school_id == user.school_id)


def referred_children(department_id: int | None):
    """The ids of the children a department reaches today: an open referral, or one returned at most
    REFERRAL_GRACE_DAYS days ago (by the town's calendar: local_today; the 30th day still counts)."""
    if department_id is None:
        return select(Referral.child_id).where(false())
    since = local_today() - timedelta(days=REFERRAL_GRACE_DAYS)
    return select(Referral.child_id).where(
        Referral.department_id == department_id,
        or_(Referral.state.in_(OPEN_REFERRAL_STATES), Referral.closed_on >= since))


def _through_child(resource: str, child_column, reaches: tuple[str, ...]) -> None:
    clauses = {
        "town": lambda user: None,
        "village": lambda user: child_column.in_(_children_of_villages(user)),
        "school": lambda user: child_column.in_(_pupils_of_school(user)),
    }
    for reach in reaches:
        register_reach(resource, reach, clauses[reach])


def setup() -> None:
    register_reach("children", "department", lambda user: Child.id.in_(referred_children(user.department_id)))
    _through_child("needs", Need.child_id, ("town", "village", "school"))
    _through_child("measures", Measure.child_id, ("town", "village", "school"))
    _through_child("referrals", Referral.child_id, ("town", "village"))
    # A department: the referrals sent to it (open or not: its own record of what it did).
    register_reach("referrals", "department",
                   lambda user: Referral.department_id == user.department_id
                   if user.department_id is not None else false())
    _through_child("assessments", GuardianshipAssessment.child_id, ("town", "village"))
    _through_child("urgent_flags", UrgentFlag.child_id, ("town", "village", "school"))
    # The police see every open flag of the town (urgent:act, a department grant): a child in danger;
    # a flag acted on, REFERRAL_GRACE_DAYS more (the child's address and guardian are on its page).
    register_reach("urgent_flags", "department", lambda user: or_(
        UrgentFlag.action_at.is_(None),
        UrgentFlag.action_at >= clock.utc_of(clock.local_now()) - timedelta(days=REFERRAL_GRACE_DAYS)))
    _through_child("conferences", Conference.child_id, ("town", "village"))
    register_fields(CARE_FIELDS)
    from blueprints.care.referrals import attachment_dir  # the module needs the models, set up by now

    keep_folder("referrals", attachment_dir)  # the referrals' attachments: copied by the nightly backup


def reachable_needs(user, permission: str = "care_plans:read") -> Select:
    return reachable(select(Need), "needs", user, permission)


def reachable_measures(user, permission: str = "care_plans:read") -> Select:
    return reachable(select(Measure), "measures", user, permission)


def get_measure_or_404(measure_id: int, permission: str = "care_plans:write", options=()) -> Measure:
    return get_reachable_or_404(reachable_measures(current_user, permission), Measure, measure_id, permission, options)


def get_need_or_404(need_id: int, permission: str = "care_plans:write", options=()) -> Need:
    return get_reachable_or_404(reachable_needs(current_user, permission), Need, need_id, permission, options)


def reachable_referrals(user, permission: str = "referrals:read") -> Select:
    return reachable(select(Referral), "referrals", user, permission)


def get_referral_or_404(referral_id: int, permission: str = "referrals:read", options=()) -> Referral:
    return get_reachable_or_404(reachable_referrals(current_user, permission), Referral, referral_id, permission,
                                options)


def reachable_assessments(user, permission: str = "assessments:read") -> Select:
    return reachable(select(GuardianshipAssessment), "assessments", user, permission)


def get_assessment_or_404(assessment_id: int, permission: str = "assessments:read", options=()):
    return get_reachable_or_404(reachable_assessments(current_user, permission), GuardianshipAssessment,
                                assessment_id, permission, options)


def reachable_urgent_flags(user, permission: str = "urgent:read") -> Select:
    return reachable(select(UrgentFlag), "urgent_flags", user, permission)


def get_urgent_flag_or_404(flag_id: int, permission: str = "urgent:act", options=()) -> UrgentFlag:
    return get_reachable_or_404(reachable_urgent_flags(current_user, permission), UrgentFlag, flag_id, permission,
                                options)


def reachable_conferences(user, permission: str = "conferences:read") -> Select:
    return reachable(select(Conference), "conferences", user, permission)


def get_conference_or_404(conference_id: int, permission: str = "conferences:read", options=()) -> Conference:
    return get_reachable_or_404(reachable_conferences(current_user, permission), Conference, conference_id,
                                permission, options)
