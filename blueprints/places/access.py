"""How far each reach goes over the town's villages and schools (registered with the access
gate), and the queries and loaders every page about places starts from."""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import Select, select

from blueprints.places.models import School, Village, school_villages
from blueprints.core.access import get_reachable_or_404, reachable, register_reach


def setup() -> None:
    register_reach("villages", "town", lambda user: None)
    register_reach("villages", "village", lambda user: Village.id.in_([v.id for v in user.villages]))
    register_reach("villages", "school", lambda user: Village.id.in_(
        select(school_villages.c.village_id).where(school_villages.c.school_id == user.school_id)))
    register_reach("schools", "town", lambda user: None)
    register_reach("schools", "village", lambda user: School.id.in_(
        select(school_villages.c.school_id).where(school_villages.c.village_id.in_([v.id for v in user.villages]))))
    register_reach("schools", "school", lambda user: School.id == user.school_id)


def reachable_villages(user) -> Select:
    """The villages whose objects `user` may see."""
    return reachable(select(Village).order_by(Village.name), "villages", user, "villages:read")


def reachable_schools(user) -> Select:
    """The schools whose objects `user` may see."""
    return reachable(select(School).order_by(School.name), "schools", user, "schools:read")


def get_village_or_404(village_id: int, permission: str = "villages:read") -> Village:
    return get_reachable_or_404(reachable_villages(current_user), Village, village_id, permission)


def get_school_or_404(school_id: int, permission: str = "schools:read") -> School:
    return get_reachable_or_404(reachable_schools(current_user), School, school_id, permission)
