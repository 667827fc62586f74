"""The children area's card on the home page."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.children.access import reachable_children
from blueprints.children.models import Child, ChildCategory
from blueprints.core.access import can, role_of
from blueprints.core.vocabulary import CATEGORIES, CURRENT_STATUSES
from extensions import db

TITLES = {"town": "全镇在册儿童", "village": "本村在册儿童", "school": "本校在册儿童"}


def child_counts(user) -> dict | None:
    """How many current children, in all and by category: within reach for those who read
    records, town-wide without names for departments (children:count). Three queries."""
    if can(user, "children:count"):  # a department, which also reads the children referred to it
        current, named = select(Child), False
    elif can(user, "children:read"):
        current, named = reachable_children(user), True
    else:
        return None
    current = current.where(Child.status.in_(CURRENT_STATUSES))
    ids = current.with_only_columns(Child.id).scalar_subquery()
    total = db.session.scalar(current.with_only_columns(func.count(Child.id)).order_by(None))
    key = db.session.scalar(
        current.with_only_columns(func.count(Child.id)).where(Child.attention_level == "key").order_by(None))
    by_category = dict(db.session.execute(
        select(ChildCategory.category, func.count()).where(ChildCategory.child_id.in_(ids))
        .group_by(ChildCategory.category)
    ).all())
    title = TITLES.get(role_of(user).reach, "全镇在册儿童") if named else "全镇在册儿童（统计）"
    return {
        "title": title,
        "total": total,
        "key": key,
        "by_category": [(label, by_category.get(code, 0)) for code, label in CATEGORIES.items()],
        "named": named,
    }
