"""The visits area's sections of a child's record page and printed archive: a fixed number of
queries for any number of children."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from flask import current_app
from sqlalchemy import case, extract, func, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.auth.models import User
from blueprints.children.sections import newest_per_child
from blueprints.core.clock import format_date, local_today
from blueprints.core.vocabulary import MENTAL_STATES, NEED_CATEGORIES, VISIT_KINDS
from blueprints.visits.models import Visit, VisitNeed
from extensions import db

VISITS_SHOWN = 10
EMPTY = "—"


def recent_visits(child_ids: list[int], viewer) -> dict[int, list[Visit]]:
    """For the record page: the newest visits, with who visited."""
    return newest_per_child(Visit, child_ids, (Visit.visited_on.desc(), Visit.id.desc()), VISITS_SHOWN,
                            lambda row: (joinedload(row.visitor),))


def month_start(day: date, months: int = 0) -> date:
    """The first day of the month `months` after (negative: before) the month of `day`."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def full_since(child_ids: list[int], today: date, months: int, most: int) -> dict[int, date]:
    """From which day each child's visits print in full: the first of the month `months` ago, or
    later for a child with more than `most` visits since then (the archive must print in its
    budget, CONVENTIONS.md): the months of its newest `most` only. One query."""
    base = month_start(today, -months)
    ranked = select(Visit.child_id, Visit.visited_on, func.row_number().over(
        partition_by=Visit.child_id, order_by=(Visit.visited_on.desc(), Visit.id.desc())).label("n")) \
        .where(Visit.child_id.in_(child_ids), Visit.visited_on >= base).subquery()
    crowded = db.session.execute(select(ranked.c.child_id, ranked.c.visited_on).where(ranked.c.n == most + 1))
    since = dict.fromkeys(child_ids, base)
    since.update({child_id: month_start(on, 1) for child_id, on in crowded})
    return since


def archive_visits(child_ids: list[int], printer) -> dict[int, dict]:
    """For the archive: the last ARCHIVE_VISITS_FULL_MONTHS of visits in full (at most the months
    of the newest ARCHIVE_VISITS_FULL_MOST), as the text each line prints, and the years before as
    one row each: a child visited every week for ten years would otherwise print hundreds of
    pages. Five queries for any number of children."""
    config = current_app.config
    since = full_since(child_ids, local_today(), config["ARCHIVE_VISITS_FULL_MONTHS"], config["ARCHIVE_VISITS_FULL_MOST"])
    cutoff = case(since, value=Visit.child_id)  # each child's own day
    found: dict[int, dict] = {}
    visits = db.session.scalars(
        select(Visit).where(Visit.child_id.in_(child_ids), Visit.visited_on >= cutoff)
        .options(joinedload(Visit.visitor), selectinload(Visit.needs))
        .order_by(Visit.child_id, Visit.visited_on.desc(), Visit.id.desc())
    ).unique()

    def of(child_id: int) -> dict:
        day = since[child_id]
        return found.setdefault(child_id, {"visits": [], "years": [], "since": f"{day.year}年{day.month}月"})

    for v in visits:
        of(v.child_id)["visits"].append({
            "on": format_date(v.visited_on), "kind": VISIT_KINDS.get(v.kind, v.kind), "by": v.visitor.display_name,
            "hazards": "、".join(v.hazards) or "无",
            "mental": MENTAL_STATES.get(v.mental_state, v.mental_state) if v.mental_state else EMPTY,
            "needs": "、".join(NEED_CATEGORIES[c] for c in v.need_codes) or EMPTY,
            "follow_up": (v.follow_up_note or EMPTY) if v.follow_up_needed else "无",
            "note": "（已被更正）" if v.superseded else "",
        })
    for child_id, years in _older_years(child_ids, cutoff).items():
        of(child_id)["years"] = years
    return found


def _older_years(child_ids: list[int], cutoff) -> dict[int, list[dict]]:
    """Per child and year before its `cutoff`: how many visits, the first and last, by whom, the
    needs found. A corrected (superseded) visit is not counted: its correction is."""
    year = extract("year", Visit.visited_on).label("year")
    older = (Visit.child_id.in_(child_ids), Visit.visited_on < cutoff, Visit.superseded.is_(False))
    by_visitor = db.session.execute(
        select(Visit.child_id, year, User.display_name, func.count(), func.min(Visit.visited_on),
               func.max(Visit.visited_on))
        .join(User, User.id == Visit.visitor_id).where(*older)
        .group_by(Visit.child_id, year, User.id, User.display_name)
    ).all()
    needs = db.session.execute(
        select(Visit.child_id, year, VisitNeed.category, func.count())
        .join(VisitNeed, VisitNeed.visit_id == Visit.id).where(*older)
        .group_by(Visit.child_id, year, VisitNeed.category)
    ).all()
    summary: dict[tuple[int, int], dict] = {}
    for child_id, y, name, count, first, last in by_visitor:
        row = summary.setdefault((child_id, int(y)), {"count": 0, "first": first, "last": last, "by": [], "needs": []})
        row["count"] += count
        row["first"], row["last"] = min(row["first"], first), max(row["last"], last)
        row["by"].append((count, name))
    for child_id, y, category, count in sorted(needs, key=lambda n: (n[0], n[1], -n[3], n[2])):
        summary[(child_id, int(y))]["needs"].append(f"{NEED_CATEGORIES.get(category, category)} {count}")
    found: dict[int, list[dict]] = defaultdict(list)
    for (child_id, y), row in sorted(summary.items(), key=lambda item: (item[0][0], -item[0][1])):
        found[child_id].append({
            "year": f"{y}年", "count": row["count"], "span": f"{format_date(row['first'])} 至 {format_date(row['last'])}",
            "by": "、".join(f"{name}（{count}）" for count, name in sorted(row["by"], key=lambda b: (-b[0], b[1]))),
            "needs": "、".join(row["needs"]) or "无",
        })
    return found
