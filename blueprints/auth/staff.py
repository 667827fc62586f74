"""Who works where: the child directors of each village."""
from __future__ import annotations

from sqlalchemy import select

from blueprints.auth.models import User, user_villages
from extensions import db


def directors_by_village(village_ids: list[int]) -> dict[int, list[User]]:
    """One query for every village's directors (no query per village)."""
    rows = db.session.execute(
        select(user_villages.c.village_id, User)
        .join(User, User.id == user_villages.c.user_id)
        .where(user_villages.c.village_id.in_(village_ids), User.active.is_(True), User.role == "director")
        .order_by(User.display_name)
    ).all()
    result: dict[int, list[User]] = {vid: [] for vid in village_ids}
    for village_id, user in rows:
        result[village_id].append(user)
    return result
