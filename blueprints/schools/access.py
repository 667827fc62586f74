"""How far each reach goes over what schools keep (registered with the access gate), what kind of
data it is (registered with the disclosure policy), and the queries every list, page, figure and
export of this area starts from.

Every record is reached through its pupil: a school reaches the records of the children enrolled
with it now (children.school_id), so a pupil who moves to another school of the town takes her
file into that school's reach; a child director those of her villages' children; town-reach staff
all of them. Departments reach only the dropouts, and only with a department's grant (镇教办).
The psychological screenings are reached by the town and the school alone, and shown only with
screenings:read (core/disclosure.py)."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select, false, select

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.access import get_reachable_or_404, reachable, register_reach
from blueprints.core.disclosure import register_audit_details, register_fields
from blueprints.schools.models import (AttendanceCheck, DropoutCase, DropoutStep, Enrolment, EnrolmentChange,
                                       FeeWaiver, HolidayCare, ResponsibleCarer, SchoolContact, Screening)

SCHOOL_FIELDS = {
    "school.carer": "schooling",
    "school.enrolment": "schooling",
    "school.dropout": "schooling",
    "school.contact": "schooling",
    "school.fee_waiver": "schooling",
    "school.holiday_care": "schooling",
    "screening.score": "psychological",
    "screening.band": "psychological",
    "screening.followup": "psychological",
}


def _pupils_of_school(user):
    if user.school_id is None:  # `== None` would be IS NULL: every child at no school
        return select(Child.id).where(false())
    return select(Child.id).where(Child.school_id == user.school_id)


def _children_of_villages(user):
    return select(Child.id).where(Child.residence_village_id.in_([v.id for v in user.villages]))


def _through_child(resource: str, child_column, reaches: tuple[str, ...]) -> None:
    """Register `resource` as reached through its child for each of `reaches`."""
    clauses = {
        "town": lambda user: None,
        "department": lambda user: None,  # only with a department's grant
        "school": lambda user: child_column.in_(_pupils_of_school(user)),
        "village": lambda user: child_column.in_(_children_of_villages(user)),
    }
    for reach in reaches:
        register_reach(resource, reach, clauses[reach])


def setup() -> None:
    _through_child("carers", ResponsibleCarer.child_id, ("town", "village", "school"))
    _through_child("enrolments", Enrolment.child_id, ("town", "village", "school", "department"))
    _through_child("enrolment_changes", EnrolmentChange.child_id, ("town", "village", "school", "department"))
    _through_child("dropouts", DropoutCase.child_id, ("town", "village", "school", "department"))
    _through_child("school_contacts", SchoolContact.child_id, ("town", "village", "school"))
    _through_child("screenings", Screening.child_id, ("town", "school"))
    _through_child("fee_waivers", FeeWaiver.child_id, ("town", "village", "school"))
    _through_child("holiday_care", HolidayCare.child_id, ("town", "village", "school"))
    # The accounts whose school duty a user may set: her own school's, or every school's.
    register_reach("school_staff", "town", lambda user: User.role == "school")
    register_reach("school_staff", "school", lambda user: (User.role == "school") & (User.school_id == user.school_id))
    register_fields(SCHOOL_FIELDS)
    # Who had a screening, and was followed up, is itself the psychological file.
    register_audit_details({"screening_recorded": "psychological", "screening_followed_up": "psychological",
                            "screenings_viewed": "psychological"})


def reachable_carers(user, permission: str = "carers:read") -> Select:
    return reachable(select(ResponsibleCarer), "carers", user, permission)


def reachable_enrolments(user, permission: str = "dropouts:read") -> Select:
    return reachable(select(Enrolment), "enrolments", user, permission)


def reachable_enrolment_changes(user, permission: str = "dropouts:read") -> Select:
    return reachable(select(EnrolmentChange), "enrolment_changes", user, permission)


def reachable_dropouts(user, permission: str = "dropouts:read") -> Select:
    return reachable(select(DropoutCase), "dropouts", user, permission)


def get_dropout_or_404(case_id: int, permission: str = "dropouts:read", options=()) -> DropoutCase:
    return get_reachable_or_404(reachable_dropouts(current_user, permission), DropoutCase, case_id,
                                permission, options)


def reachable_dropout_steps(user, permission: str = "dropouts:read") -> Select:
    cases = reachable_dropouts(user, permission).with_only_columns(DropoutCase.id)
    return select(DropoutStep).where(DropoutStep.case_id.in_(cases))


def reachable_attendance(user, permission: str = "dropouts:read") -> Select:
    cases = reachable_dropouts(user, permission).with_only_columns(DropoutCase.id)
    return select(AttendanceCheck).where(AttendanceCheck.case_id.in_(cases))


def reachable_school_contacts(user, permission: str = "school_contacts:read") -> Select:
    return reachable(select(SchoolContact), "school_contacts", user, permission)


def reachable_screenings(user, permission: str = "screenings:read") -> Select:
    return reachable(select(Screening), "screenings", user, permission)


def get_screening_or_404(screening_id: int, permission: str = "screenings:read", options=()) -> Screening:
    return get_reachable_or_404(reachable_screenings(current_user, permission), Screening, screening_id,
                                permission, options)


def reachable_fee_waivers(user, permission: str = "fee_waivers:read") -> Select:
    return reachable(select(FeeWaiver), "fee_waivers", user, permission)


def reachable_holiday_care(user, permission: str = "fee_waivers:read") -> Select:
    return reachable(select(HolidayCare), "holiday_care", user, permission)


def reachable_school_staff(user, permission: str = "school_staff:manage") -> Select:
    return reachable(select(User), "school_staff", user, permission)


def get_staff_or_404(user_id: int) -> User:
    return get_reachable_or_404(reachable_school_staff(current_user), User, user_id, "school_staff:manage")
