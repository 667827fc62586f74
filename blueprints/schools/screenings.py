"""Psychological screening (§2): the instruments and their score bands (an administrator's data),
a pupil's screening in a term and its follow-up, the screenings still waiting for one, and the
section of the child's record and archive.

Rules (each broken one is a message in Chinese naming its field):
- an instrument's bands cover its range from the lowest to the highest score, without a gap or an
  overlap (check_instrument);
- a screening's score lies within its instrument's range; its band is the instrument's band of
  that score, kept as it was when recorded (an instrument edited later leaves it alone);
- one screening per pupil, term and instrument; the screening day falls within its term and not
  after today; the pupil is on the roll;
- a follow-up is not before the screening nor after today.

A 高风险 screening waits for its follow-up: FOLLOWUP_DAYS days after the screening it is overdue.
Only holders of screenings:read reach a screening at all (schools/access.py): the school's
mental-health teacher for her own pupils, civil affairs and the supervisor for the town."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import after_this_request, has_request_context
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core import audit
from blueprints.core.clock import format_date, local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import CURRENT_STATUSES, SCREENING_BANDS, SCREENING_FOLLOWUPS
from blueprints.places.models import School
from blueprints.schools.access import reachable_screenings
from blueprints.schools.models import Screening, ScreeningBand, ScreeningInstrument
from blueprints.schools.terms import is_term, term_bounds, term_label
from extensions import db

FOLLOWUP_DAYS = 7  # a 高风险 screening is followed up within a week (§2)
HIGH = "high"
SCORE_LIMIT = 1000  # an instrument's scores lie within 0..SCORE_LIMIT
# The worst first: a list of screenings shows the bands in this order.
BANDS_WORST_FIRST = list(reversed(SCREENING_BANDS))
BAND_RANK = {code: rank for rank, code in enumerate(BANDS_WORST_FIRST)}


class ScreeningError(FieldErrors):
    """A screening, follow-up or instrument the rules refuse: {field: message}."""


def band_field(code: str, end: str) -> str:
    """The instrument form's field of a band's lowest ("low") or highest ("high") score."""
    return f"{code}_{end}"


def band_of(instrument: ScreeningInstrument, score: int) -> str | None:
    return next((b.band for b in instrument.bands if b.low <= score <= b.high), None)


def bands_text(bands) -> str:
    """"正常 0—14，关注 15—24，高风险 25—40" (the bands as (code, low, high), or rows)."""
    rows = [(b.band, b.low, b.high) if isinstance(b, ScreeningBand) else b for b in bands]
    return "，".join(f"{SCREENING_BANDS[code]} {low}—{high}" for code, low, high in sorted(rows, key=lambda r: r[1]))


# --- instruments ---------------------------------------------------------------------------------

def check_instrument(instrument: ScreeningInstrument | None, values: dict) -> dict[str, str]:
    """values: name, min_score, max_score, bands {code: (low, high)} (None where left empty)."""
    errors: dict[str, str] = {}
    name = (values.get("name") or "").strip()
    if not name:
        errors["name"] = "量表名称：请填写"
    elif db.session.scalar(_same_name(instrument, name)):
        errors["name"] = f"量表名称：已有名为「{name}」的量表，请换一个名称"
    low, high = values.get("min_score"), values.get("max_score")
    if not isinstance(low, int) or not 0 <= low <= SCORE_LIMIT:
        errors["min_score"] = f"最低分：请填写 0 到 {SCORE_LIMIT} 之间的整数"
    if not isinstance(high, int) or not 0 <= high <= SCORE_LIMIT:
        errors["max_score"] = f"最高分：请填写 0 到 {SCORE_LIMIT} 之间的整数"
    elif isinstance(low, int) and high <= low:
        errors["max_score"] = f"最高分：应大于最低分 {low}"
    used = []
    for code, label in SCREENING_BANDS.items():
        b_low, b_high = values.get("bands", {}).get(code, (None, None))
        if b_low is None and b_high is None:
            continue
        if b_low is None:
            errors[band_field(code, "low")] = f"“{label}”的最低分：请填写（不用这一档就把两格都空着）"
        elif b_high is None:
            errors[band_field(code, "high")] = f"“{label}”的最高分：请填写（不用这一档就把两格都空着）"
        elif b_high < b_low:
            errors[band_field(code, "high")] = f"“{label}”的最高分：不能小于它的最低分 {b_low}"
        else:
            used.append((code, b_low, b_high))
    if not used and not errors:
        errors[band_field(next(iter(SCREENING_BANDS)), "low")] = "分数段：至少要填一档，例如“正常”0—14"
    if errors:
        return errors
    return _coverage_errors(low, high, sorted(used, key=lambda b: b[1]))


def _same_name(instrument: ScreeningInstrument | None, name: str):
    query = select(ScreeningInstrument.id).where(ScreeningInstrument.name == name)
    return query if instrument is None else query.where(ScreeningInstrument.id != instrument.id)


def _coverage_errors(low: int, high: int, bands: list[tuple[str, int, int]]) -> dict[str, str]:
    """The bands, ordered by their lowest score, must run from `low` to `high` one after another."""
    errors: dict[str, str] = {}
    first, last = bands[0], bands[-1]
    if first[1] != low:
        errors[band_field(first[0], "low")] = (
            f"“{SCREENING_BANDS[first[0]]}”的最低分：应为量表的最低分 {low}"
            + (f"（现在 {low}—{first[1] - 1} 分不属于任何一档）" if first[1] > low else "（不能低于量表的最低分）"))
    for before, after in zip(bands, bands[1:]):
        expected = before[2] + 1
        if after[1] == expected:
            continue
        label, before_label = SCREENING_BANDS[after[0]], SCREENING_BANDS[before[0]]
        if after[1] > expected:
            why = f"“{before_label}”到 {before[2]} 分为止，现在 {expected}—{after[1] - 1} 分不属于任何一档"
        else:
            why = f"与“{before_label}”（{before[1]}—{before[2]}）重叠"
        errors.setdefault(band_field(after[0], "low"), f"“{label}”的最低分：应为 {expected}（{why}）")
    if last[2] != high:
        errors.setdefault(band_field(last[0], "high"), (
            f"“{SCREENING_BANDS[last[0]]}”的最高分：应为量表的最高分 {high}"
            + (f"（现在 {last[2] + 1}—{high} 分不属于任何一档）" if last[2] < high else "（不能高于量表的最高分）")))
    return errors


def save_instrument(instrument: ScreeningInstrument | None, values: dict, *, actor) -> ScreeningInstrument:
    """A new instrument (None) or an edited one, with its bands. Screenings already recorded keep
    the band they were given."""
    errors = check_instrument(instrument, values)
    if errors:
        raise ScreeningError(errors)
    created = instrument is None
    if created:
        instrument = ScreeningInstrument()
        db.session.add(instrument)
    instrument.name = values["name"].strip()
    instrument.min_score, instrument.max_score = values["min_score"], values["max_score"]
    instrument.note = (values.get("note") or "").strip() or None
    instrument.active = bool(values.get("active", True))
    # Changed in place, band by band: a band removed and added again in one flush would meet the
    # UNIQUE (instrument, band) before its old row is deleted.
    wanted = {code: pair for code, pair in values["bands"].items() if pair[0] is not None}
    for row in list(instrument.bands):
        if row.band not in wanted:
            instrument.bands.remove(row)
    existing = {row.band: row for row in instrument.bands}
    for code, (b_low, b_high) in wanted.items():
        row = existing.get(code)
        if row is None:
            instrument.bands.append(ScreeningBand(band=code, low=b_low, high=b_high))
        else:
            row.low, row.high = b_low, b_high
    db.session.flush()
    audit.record("instrument_saved", instrument, user=actor,
                 detail=f"{'新增' if created else '修改'}{instrument.name}：{instrument.min_score}—{instrument.max_score} 分；"
                        f"{bands_text((c, lo, hi) for c, (lo, hi) in wanted.items())}"
                        + ("" if instrument.active else "（停用）"))
    return instrument


def active_instruments() -> list[ScreeningInstrument]:
    return list(db.session.scalars(select(ScreeningInstrument).where(ScreeningInstrument.active)
                                   .options(joinedload(ScreeningInstrument.bands))
                                   .order_by(ScreeningInstrument.id)).unique())


# --- screenings and their follow-up ---------------------------------------------------------------

def check_screening(child: Child, values: dict) -> dict[str, str]:
    """values: term, instrument (a ScreeningInstrument or None), screened_on, score."""
    errors: dict[str, str] = {}
    term, instrument = values.get("term"), values.get("instrument")
    day, score = values.get("screened_on"), values.get("score")
    if not is_term(term):
        errors["term"] = "学期：请从列表中选择"
    if instrument is None or not instrument.active:
        errors["instrument_id"] = "筛查量表：请从列表中选择"
    if not isinstance(day, date):
        errors["screened_on"] = "筛查日期：请填写日期"
    elif day > local_today():
        errors["screened_on"] = "筛查日期：不能晚于今天"
    elif "term" not in errors:
        start, end = term_bounds(term)
        if not start <= day <= end:
            errors["screened_on"] = (f"筛查日期：应在{term_label(term)}之内（{format_date(start)} 至 {format_date(end)}），"
                                     "请核对日期或改选学期")
    if not isinstance(score, int):
        errors["score"] = "得分：请填写整数"
    elif instrument is not None and "instrument_id" not in errors:
        if not instrument.min_score <= score <= instrument.max_score:
            errors["score"] = (f"得分：「{instrument.name}」的得分在 {instrument.min_score}—{instrument.max_score} 之间，"
                               f"{score} 不在其中，请核对")
        elif band_of(instrument, score) is None:
            errors["score"] = f"得分：「{instrument.name}」的分数段没有包含 {score} 分，请管理员检查这个量表的分数段"
    if not errors:
        earlier = _same_term(child, term, instrument)
        if earlier is not None:
            errors["term"] = _repeat_message(child, earlier)
    return errors


def _same_term(child: Child, term: str, instrument: ScreeningInstrument) -> Screening | None:
    return db.session.scalar(select(Screening).where(
        Screening.child_id == child.id, Screening.term == term, Screening.instrument_id == instrument.id))


def _repeat_message(child: Child, earlier: Screening) -> str:
    return (f"学期：{child.name}在{term_label(earlier.term)}已做过「{earlier.instrument.name}」筛查"
            f"（{format_date(earlier.screened_on)}），同一学期同一量表只录入一次；要补记跟进，请打开那一次筛查")


def record_screening(child: Child, values: dict, *, actor) -> Screening:
    """values as check_screening's. The band is the instrument's band of the score."""
    ensure_open(child)
    errors = check_screening(child, values)
    if errors:
        raise ScreeningError(errors)
    instrument = values["instrument"]
    try:
        with db.session.begin_nested():
            screening = Screening(child_id=child.id, school_id=child.school_id, term=values["term"],
                                  instrument_id=instrument.id, screened_on=values["screened_on"],
                                  score=values["score"], band=band_of(instrument, values["score"]),
                                  recorded_by_id=actor.id if actor is not None else None)
            db.session.add(screening)
            db.session.flush()
    except IntegrityError:
        # Recorded by someone else between the check and the write: the UNIQUE constraint decides.
        earlier = _same_term(child, values["term"], instrument)
        if earlier is None:
            raise
        raise ScreeningError({"term": _repeat_message(child, earlier)}) from None
    # The audit trail (the administrator reads it) names the pupil and the term, never the score or the band.
    audit.record("screening_recorded", screening, user=actor,
                 detail=f"{child.name}：{term_label(screening.term)}，{instrument.name}")
    return screening


def record_followup(screening: Screening, values: dict, *, actor) -> None:
    """values: followup (SCREENING_FOLLOWUPS), followup_on, followup_note. A second one replaces
    the first (a correction); the audit trail keeps both."""
    ensure_open(screening.child)
    errors: dict[str, str] = {}
    kind, day = values.get("followup"), values.get("followup_on")
    if kind not in SCREENING_FOLLOWUPS:
        errors["followup"] = "跟进方式：请选择谈心、转介心理咨询或告知监护人"
    if not isinstance(day, date):
        errors["followup_on"] = "跟进日期：请填写日期"
    elif day > local_today():
        errors["followup_on"] = "跟进日期：不能晚于今天"
    elif day < screening.screened_on:
        errors["followup_on"] = f"跟进日期：不能早于筛查日期 {format_date(screening.screened_on)}"
    if errors:
        raise ScreeningError(errors)
    corrected = screening.followup is not None
    screening.followup, screening.followup_on = kind, day
    screening.followup_note = (values.get("followup_note") or "").strip() or None
    # The administrator reads the audit trail: it says that a follow-up was made, never which.
    audit.record("screening_followed_up", screening, user=actor,
                 detail=f"{screening.child.name}：{'更正跟进' if corrected else '跟进'}，{format_date(day)}")


def overdue_since(today: date) -> date:
    """A 高风险 screening done before this day and still without a follow-up is overdue."""
    return today - timedelta(days=FOLLOWUP_DAYS)


def due_on(screening: Screening) -> date:
    return screening.screened_on + timedelta(days=FOLLOWUP_DAYS)


def _awaiting(query):
    """`query` (of screenings joined with their child) kept to the 高风险 ones without a follow-up,
    of pupils on the roll. (followup_on is set with followup: the index on band and followup_on.)"""
    return query.where(Screening.band == HIGH, Screening.followup_on.is_(None), Child.status.in_(CURRENT_STATUSES))


def awaiting_followup(user, permission: str = "screenings:read"):
    """The 高风险 screenings of pupils on the roll without a follow-up, within `user`'s reach."""
    return _awaiting(reachable_screenings(user, permission).join(Child, Child.id == Screening.child_id))


def audit_read(detail: str) -> None:
    """A read of screenings, recorded once the page is rendered (a commit before would expire what
    the page shows)."""
    if not has_request_context():
        return

    @after_this_request
    def record(response):
        if response.status_code < 400:
            audit.record_view("screenings_viewed", detail=detail)
        return response


# --- the list ------------------------------------------------------------------------------------

FOLLOWUP_STATES = {"": "全部", "pending": "未跟进", "overdue": "高风险逾期未跟进", "done": "已跟进"}


def listed(user, term: str, band: str, followup: str, school_id: int | None, today: date):
    """The list's query: the filters applied, waiting for a follow-up first (高风险 before 关注),
    then the newest."""
    query = reachable_screenings(user).join(Child, Child.id == Screening.child_id)
    if term:
        query = query.where(Screening.term == term)
    if band in SCREENING_BANDS:
        query = query.where(Screening.band == band)
    if followup == "pending":
        query = query.where(Screening.followup.is_(None))
    elif followup == "overdue":
        query = _awaiting(query).where(Screening.screened_on < overdue_since(today))
    elif followup == "done":
        query = query.where(Screening.followup.is_not(None))
    if school_id is not None:
        query = query.where(Child.school_id == school_id)
    return query.order_by(Screening.followup.is_not(None), case(BAND_RANK, value=Screening.band, else_=len(BAND_RANK)),
                          Screening.screened_on.desc(), Screening.id.desc())


# --- the home cards --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    screening_id: int
    child_name: str
    school_name: str
    screened_on: date
    due_on: date
    overdue: bool


def _waiting(query, today: date) -> tuple[int, int, list[Waiting]]:
    """(how many, how many overdue, the first HOME_CARD_NAMES: overdue first, the oldest first): two queries."""
    since = overdue_since(today)
    total, overdue = db.session.execute(query.with_only_columns(
        func.count(Screening.id), func.count(Screening.id).filter(Screening.screened_on < since)).order_by(None)).one()
    rows = db.session.execute(
        query.join(School, School.id == Child.school_id, isouter=True)
        .with_only_columns(Screening.id, Child.name, School.name, Screening.screened_on)
        .order_by(Screening.screened_on, Screening.id).limit(HOME_CARD_NAMES)).all()
    return total or 0, overdue or 0, [
        Waiting(sid, name, school or "", day, day + timedelta(days=FOLLOWUP_DAYS), day < since)
        for sid, name, school, day in rows]


def teacher_panel(user) -> dict:
    """The mental-health teacher's card: every 高风险 screening of her pupils waiting for a
    follow-up, the overdue first (the oldest are the overdue ones)."""
    total, overdue, rows = _waiting(awaiting_followup(user, "screenings:write"), local_today())
    if rows:
        audit_read(f"首页：{total} 名待跟进")
    return {"total": total, "overdue": overdue, "rows": rows, "days": FOLLOWUP_DAYS}


def oversight_panel(user) -> dict:
    """Civil affairs' and the supervisor's card: the 高风险 screenings still without a follow-up
    FOLLOWUP_DAYS days after, named with their school."""
    today = local_today()
    query = awaiting_followup(user, "screenings:oversight").where(Screening.screened_on < overdue_since(today))
    total, _, rows = _waiting(query, today)
    if rows:
        audit_read(f"首页：{total} 名逾期未跟进")
    return {"total": total, "rows": rows, "days": FOLLOWUP_DAYS}


# --- the section of the child's record and archive ------------------------------------------------

def _of_children(query, child_ids: list[int]) -> list[Screening]:
    return list(db.session.scalars(
        query.where(Screening.child_id.in_(child_ids)).options(joinedload(Screening.instrument))
        .order_by(Screening.screened_on.desc(), Screening.id.desc())))


def record_screenings(child_ids: list[int], viewer) -> dict[int, list[Screening]]:
    found: dict[int, list[Screening]] = {}
    for screening in _of_children(reachable_screenings(viewer), child_ids):
        found.setdefault(screening.child_id, []).append(screening)
    if found:
        audit_read(f"儿童档案页：{sum(map(len, found.values()))} 次筛查")
    return found


def archive_screenings(child_ids: list[int], printer) -> dict[int, list[dict] | None]:
    """For the archive, printed by a holder of screenings:read (the section's grant) for children
    she reaches: every screening, one row of text each. A printer whose disclosure hides the
    psychological file gets None (the section prints nothing)."""
    if not printer.disclosure.shows("screening.band"):
        return dict.fromkeys(child_ids)
    found: dict[int, list[dict] | None] = {}
    for s in _of_children(select(Screening), child_ids):
        found.setdefault(s.child_id, []).append({
            "term": term_label(s.term), "instrument": s.instrument.name, "screened_on": format_date(s.screened_on),
            "score": str(s.score), "band": SCREENING_BANDS.get(s.band, s.band),
            "followup": (f"{SCREENING_FOLLOWUPS.get(s.followup, s.followup)}（{format_date(s.followup_on)}）"
                         + (f"：{s.followup_note}" if s.followup_note else "")) if s.followup else "未跟进",
        })
    return found
