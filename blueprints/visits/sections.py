"""The visits area's sections of a child's record page and printed archive: one query for any
number of children."""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.sections import newest_per_child
from blueprints.core.clock import format_date
from blueprints.core.vocabulary import MENTAL_STATES, NEED_CATEGORIES, VISIT_KINDS
from blueprints.visits.models import Visit
from extensions import db

VISITS_SHOWN = 10
EMPTY = "—"


def recent_visits(child_ids: list[int], viewer) -> dict[int, list[Visit]]:
    """For the record page: the newest visits, with who visited."""
    return newest_per_child(Visit, child_ids, (Visit.visited_on.desc(), Visit.id.desc()), VISITS_SHOWN,
                            lambda row: (joinedload(row.visitor),))


def archive_visits(child_ids: list[int], printer) -> dict[int, list[dict]]:
    """For the archive: every visit, as the text the table prints."""
    found: dict[int, list[dict]] = defaultdict(list)
    visits = db.session.scalars(
        select(Visit).where(Visit.child_id.in_(child_ids))
        .options(joinedload(Visit.visitor), selectinload(Visit.needs))
        .order_by(Visit.child_id, Visit.visited_on.desc(), Visit.id.desc())
    ).unique()
    for v in visits:
        found[v.child_id].append({
            "on": format_date(v.visited_on), "kind": VISIT_KINDS.get(v.kind, v.kind), "by": v.visitor.display_name,
            "hazards": "、".join(v.hazards) or "无",
            "mental": MENTAL_STATES.get(v.mental_state, v.mental_state) if v.mental_state else EMPTY,
            "needs": "、".join(NEED_CATEGORIES[c] for c in v.need_codes) or EMPTY,
            "follow_up": (v.follow_up_note or EMPTY) if v.follow_up_needed else "无",
            "note": "（已被更正）" if v.superseded else "",
        })
    return found
