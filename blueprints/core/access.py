"""Who may reach what: the one access gate.

A role is a set of grants ("resource:action") plus a reach, as in Primero:
  town        every village, school and child of the town
  village     the villages assigned to the user (child directors)
  school      the user's school and the villages it serves
  department  what is referred to the user's department, and town-wide figures without names
  own         only what is paired with the user (volunteers)

Every list, search, count and export starts from a `reachable_*` query here; every object page
loads its object through a `get_*_or_404` here. Templates never look at roles.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, false, select

from blueprints.admin.models import School, Village, school_villages
from blueprints.children.models import Child
from extensions import db

READ_PLACES = frozenset({"villages:read", "schools:read"})
# Reading, exporting and printing the children within reach.
CHILD_READ = frozenset({"children:read", "children:export", "children:print"})
# Registering and updating children within reach.
CHILD_WRITE = frozenset({"children:write"})
# Seeing ID numbers unmasked (the child's own and the family's).
SEE_IDS = frozenset({"children:read_ids"})
# Home visits: recording them (directors, supervisors), reading them, reviewing them (supervision).
VISIT_WRITE = frozenset({"visits:read", "visits:write"})
VISIT_REVIEW = frozenset({"visits:read", "visits:review", "visits:compliance"})


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    reach: str
    grants: frozenset[str]


ROLES: dict[str, Role] = {
    role.code: role
    for role in [
        Role("admin", "系统管理员", "town",
             READ_PLACES | CHILD_READ | CHILD_WRITE | SEE_IDS | {"visits:read"}
             | {"users:manage", "reference:manage", "audit:read", "children:import"}),
        Role("civil_affairs", "镇民政组", "town",
             READ_PLACES | CHILD_READ | CHILD_WRITE | SEE_IDS | VISIT_REVIEW | {"audit:read", "children:import"}),
        Role("supervisor", "儿童督导员", "town",
             READ_PLACES | CHILD_READ | CHILD_WRITE | SEE_IDS | VISIT_WRITE | VISIT_REVIEW),
        Role("director", "儿童主任", "village", READ_PLACES | CHILD_READ | CHILD_WRITE | SEE_IDS | VISIT_WRITE),
        Role("school", "学校", "school", READ_PLACES | CHILD_READ),
        # Departments see town-wide figures without names; named children only once referred.
        Role("department", "部门", "department", frozenset({"children:count"})),
        Role("volunteer", "志愿者", "own", frozenset()),
    ]
}

# The reach each role needs filled in on the account before it can be saved.
REACH_FIELDS = {"village": "villages", "school": "school", "department": "department"}


def role_of(user) -> Role | None:
    if user is None or not user.is_authenticated:
        return None
    return ROLES.get(user.role)


def can(user, permission: str) -> bool:
    role = role_of(user)
    return role is not None and permission in role.grants


def require(permission: str):
    """View decorator: signed in (else the login page) and granted `permission` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def reachable_villages(user) -> Select:
    """The villages whose objects `user` may see."""
    query = select(Village).order_by(Village.name)
    role = role_of(user)
    if role is None or "villages:read" not in role.grants:
        return query.where(false())
    if role.reach == "town":
        return query
    if role.reach == "village":
        ids = [v.id for v in user.villages]
        return query.where(Village.id.in_(ids))
    if role.reach == "school":
        served = select(school_villages.c.village_id).where(
            school_villages.c.school_id == user.school_id
        )
        return query.where(Village.id.in_(served))
    return query.where(false())


def reachable_schools(user) -> Select:
    """The schools whose objects `user` may see."""
    query = select(School).order_by(School.name)
    role = role_of(user)
    if role is None or "schools:read" not in role.grants:
        return query.where(false())
    if role.reach == "town":
        return query
    if role.reach == "village":
        serving = select(school_villages.c.school_id).where(
            school_villages.c.village_id.in_([v.id for v in user.villages])
        )
        return query.where(School.id.in_(serving))
    if role.reach == "school":
        return query.where(School.id == user.school_id)
    return query.where(false())


def _get_reachable_or_404(query: Select, model, object_id: int, permission: str, options=()):
    if not can(current_user, permission):
        abort(403)
    obj = db.session.scalar(query.where(model.id == object_id).options(*options))
    if obj is None:
        abort(404)  # outside reach looks the same as missing: it tells nothing of what exists
    return obj


def get_village_or_404(village_id: int, permission: str = "villages:read") -> Village:
    return _get_reachable_or_404(reachable_villages(current_user), Village, village_id, permission)


def get_school_or_404(school_id: int, permission: str = "schools:read") -> School:
    return _get_reachable_or_404(reachable_schools(current_user), School, school_id, permission)


def reachable_children(user) -> Select:
    """The children whose records `user` may see: where every list, search, count and export starts."""
    query = select(Child)
    role = role_of(user)
    if role is None or "children:read" not in role.grants:
        return query.where(false())
    if role.reach == "town":
        return query
    if role.reach == "village":
        return query.where(Child.residence_village_id.in_([v.id for v in user.villages]))
    if role.reach == "school":
        return query.where(Child.school_id == user.school_id)
    return query.where(false())  # departments: referrals, volunteers: pairings (later issues)


def get_child_or_404(child_id: int, permission: str = "children:read", options=()) -> Child:
    """The child, if `user` may do `permission` on it; `options` load what the page shows with it."""
    return _get_reachable_or_404(reachable_children(current_user), Child, child_id, permission, options)
