"""Loaders of the children area's record sections (core/areas.py Section): one query for any
number of children, the newest rows of each child."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from blueprints.children.models import ChildChange, ParentContact
from extensions import db

CONTACTS_SHOWN = 20
CHANGES_SHOWN = 50


def newest_per_child(model, child_ids: list[int], order, limit: int, load=lambda row: ()) -> dict[int, list]:
    """The `limit` first rows of `model` by `order` for each child, in one query; `load(row)` gives
    the loader options, on the aliased entity the query selects."""
    ranked = select(model, func.row_number().over(partition_by=model.child_id, order_by=order).label("n")) \
        .where(model.child_id.in_(child_ids)).subquery()
    row = aliased(model, ranked)
    found: dict[int, list] = defaultdict(list)
    for obj in db.session.scalars(select(row).where(ranked.c.n <= limit).order_by(ranked.c.n).options(*load(row))):
        found[obj.child_id].append(obj)
    return found


def recent_contacts(child_ids: list[int], viewer) -> dict[int, list[ParentContact]]:
    return newest_per_child(ParentContact, child_ids,
                            (ParentContact.contacted_on.desc(), ParentContact.id.desc()), CONTACTS_SHOWN)


def recent_changes(child_ids: list[int], viewer) -> dict[int, list[ChildChange]]:
    return newest_per_child(ChildChange, child_ids, ChildChange.id.desc(), CHANGES_SHOWN)
