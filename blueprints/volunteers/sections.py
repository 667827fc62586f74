"""The pairing section of a child's record page and printed archive, and the notices a volunteer's
word puts on the child director's due list: a fixed number of queries for any number of children."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from flask import url_for
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from blueprints.core.access import reachable
from blueprints.core.areas import Notice
from blueprints.core.clock import format_date, local_today
from blueprints.core.vocabulary import PROGRAMMES, VOLUNTEER_KINDS
from blueprints.volunteers.access import reachable_activities
from blueprints.volunteers.models import Pairing, PairingActivity, Volunteer
from blueprints.volunteers.pairings import month_bounds, promise_due, tallies
from extensions import db


@dataclass
class PairingLine:
    pairing: Pairing
    month_done: int
    month_due: int
    last: date | None
    total: int
    minutes: int


def _lines(child_ids: list[int], pairings_query) -> dict[int, list[PairingLine]]:
    """Every pairing of these children in `pairings_query` (open first, then newest): three queries."""
    pairings = db.session.scalars(
        pairings_query.where(Pairing.child_id.in_(child_ids))
        .options(joinedload(Pairing.volunteer).joinedload(Volunteer.organisation))
        .order_by(Pairing.ended_on.is_not(None), Pairing.started_on.desc(), Pairing.id.desc())).all()
    ids = [p.id for p in pairings]
    totals = {}
    if ids:
        totals = {pid: (count, int(minutes), last) for pid, count, minutes, last in db.session.execute(
            select(PairingActivity.pairing_id, func.count(PairingActivity.id),
                   func.coalesce(func.sum(PairingActivity.minutes), 0), func.max(PairingActivity.done_on))
            .where(PairingActivity.pairing_id.in_(ids)).group_by(PairingActivity.pairing_id))}
    start, end = month_bounds(local_today())
    month = tallies(ids, start, end)
    found: dict[int, list[PairingLine]] = defaultdict(list)
    for p in pairings:
        count, minutes, last = totals.get(p.id, (0, 0, None))
        found[p.child_id].append(PairingLine(p, month[p.id].count if p.id in month else 0,
                                             0 if p.ended_on else promise_due(p, start, end), last, count, minutes))
    return found


def record_pairings(child_ids: list[int], viewer) -> dict[int, list[PairingLine]]:
    return _lines(child_ids, reachable(select(Pairing), "pairings", viewer, "pairings:read"))


def archive_pairings(child_ids: list[int], printer) -> dict[int, list[dict]]:
    """For the archive (printed for children the printer reaches, by one holding pairings:read):
    every pairing of the child, one row of text each."""
    return {child_id: [{
        "programme": PROGRAMMES.get(line.pairing.programme, line.pairing.programme),
        "volunteer": f"{line.pairing.volunteer.name}（{VOLUNTEER_KINDS.get(line.pairing.volunteer.kind, '')}"
                     + (f"，{line.pairing.volunteer.organisation.name}" if line.pairing.volunteer.organisation else "") + "）",
        "span": f"{format_date(line.pairing.started_on)} 至 "
                + (format_date(line.pairing.ended_on) if line.pairing.ended_on else "今"),
        "goals": line.pairing.goals,
        "done": f"{line.total} 次，{round(line.minutes / 60, 1)} 小时" + (f"；最近 {format_date(line.last)}" if line.last else ""),
    } for line in lines] for child_id, lines in _lines(child_ids, select(Pairing)).items()}


def pass_on_notices(viewer) -> dict[int, list[Notice]]:
    """What volunteers passed on to the child director and she has not yet read: a flag on her due
    list (the text stays behind the link: the due list is kept on the phone with minimal fields)."""
    found: dict[int, list[Notice]] = defaultdict(list)
    rows = db.session.execute(
        reachable_activities(viewer, "pairings:pass_on")
        .where(PairingActivity.pass_on.is_not(None), PairingActivity.pass_on_seen_at.is_(None))
        .join(Pairing, Pairing.id == PairingActivity.pairing_id).join(Volunteer, Volunteer.id == Pairing.volunteer_id)
        .with_only_columns(PairingActivity.child_id, PairingActivity.pairing_id, PairingActivity.done_on,
                           Volunteer.name, Volunteer.kind)
        .order_by(PairingActivity.done_on.desc()).limit(200))
    for child_id, pairing_id, done_on, name, kind in rows:
        found[child_id].append(Notice(f"{VOLUNTEER_KINDS.get(kind, '志愿者')}{name}有情况反映，请查看",
                                      url_for("volunteers.pairing_detail", pairing_id=pairing_id) + "#activities",
                                      done_on))
    return found
