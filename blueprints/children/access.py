"""How far each reach goes over the children (registered with the access gate), what kind of
data each field of a child's record is (registered with the disclosure policy), and the query
every list, search, count and export of children starts from."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select, false, select

from blueprints.children.models import Child
from blueprints.core.access import get_reachable_or_404, reachable, register_reach
from blueprints.core.disclosure import register_fields

# Departments (referrals) and volunteers (pairings) register their reach from their own areas.
CHILD_FIELDS = {
    "child.name": "identity", "child.gender": "identity", "child.age": "identity",
    "child.village": "identity", "child.school": "identity", "child.grade": "identity",
    "child.class_name": "identity",
    "child.archive_no": "profile", "child.categories": "profile", "child.attention_level": "profile",
    "child.status": "profile", "child.exit": "profile", "child.state_guardianship": "profile",
    "child.birth_date": "birth_date", "child.ethnicity": "origin", "child.hukou_village": "origin",
    "child.id_number": "id_number", "child.disability_certificate": "id_number",
    "child.address": "address",
    "child.health": "health", "child.disability": "health",
    "child.caregiver": "family", "child.caregiver_phone": "contact",
    "family.member": "family", "family.id_number": "id_number", "family.phone": "contact",
    "family.work": "family",
    "child.contacts": "support", "child.benefits": "support",
    "child.history": "history",
    "child.suggestions": "profile",
}


def setup() -> None:
    register_reach("children", "town", lambda user: None)
    register_reach("children", "village",
                   lambda user: Child.residence_village_id.in_([v.id for v in user.villages]))
    # `== None` would be IS NULL: a school account without a school would reach every child at none
    register_reach("children", "school",
                   lambda user: Child.school_id == user.school_id if user.school_id is not None else false())
    register_fields(CHILD_FIELDS)


def reachable_children(user) -> Select:
    """The children whose records `user` may see: where every list, search, count and export starts."""
    return reachable(select(Child), "children", user, "children:read")


def get_child_or_404(child_id: int, permission: str = "children:read", options=()) -> Child:
    """The child, if the signed-in user may do `permission` on it; `options` load what the page shows."""
    return get_reachable_or_404(reachable_children(current_user), Child, child_id, permission, options)
