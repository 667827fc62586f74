"""Guardianship assessment (监护评估, plan §8): scored items an administrator edits (the scale), an
assessment of a child's family against them, its result level, the interventions it suggests and
the needs it suggests for the care plan; the section "监护评估" of the record and the archive.

Scoring: each item is answered 具备 (2), 部分具备 (1) or 缺失 (0); the percent is
Σ weight × answer / Σ weight × 2 × 100, rounded half up; the level is the highest whose threshold
(assessment_thresholds) the percent reaches, else 严重缺失. An assessment keeps the text and the
weight of each item as asked (assessment_answers): editing the scale leaves it alone.

Rules (each broken one is a message in Chinese naming its field): every active item answered; the
date not after today; on the scale, an item's text (≤ 200), weight 1–5, need category from the one
list; thresholds 0–100 with 有能力 above 部分缺失; at least one item stays active."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from blueprints.care.access import reachable_assessments
from blueprints.care.models import AssessmentAnswer, AssessmentItem, AssessmentThreshold, GuardianshipAssessment, Need
from blueprints.care.plan import add_need_once
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit
from blueprints.core.clock import local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import ASSESSMENT_ANSWERS, ASSESSMENT_LEVELS, INTERVENTIONS, NEED_CATEGORIES
from extensions import db

# As migration 0011 seeds them: what a level's missing row falls back to (the scale page saves both).
DEFAULT_THRESHOLDS = {"capable": 75, "partial": 45}
# What each result suggests (plan §8): the assessor ticks what is to be done.
SUGGESTED_INTERVENTIONS = {
    "capable": (),
    "partial": ("family_education",),
    "severe": ("family_education", "supervision_order", "temporary_guardianship"),
}
WEIGHTS = range(1, 6)
POSITIONS = range(0, 10000)  # an item's order: a column of the database's integers, kept small
NOTE_LIMIT = 1000


class AssessmentError(FieldErrors):
    """An assessment or a scale the rules refuse: {field: message}."""


def item_field(item_id: int | str, name: str = "answer") -> str:
    """The form field of one item: its answer on the assessment, its text/weight/… on the scale."""
    return f"item_{item_id}_{name}"


def active_items() -> list[AssessmentItem]:
    return list(db.session.scalars(select(AssessmentItem).where(AssessmentItem.active)
                                   .order_by(AssessmentItem.position, AssessmentItem.id)))


def thresholds() -> dict[str, int]:
    saved = dict(db.session.execute(select(AssessmentThreshold.level, AssessmentThreshold.min_percent)).all())
    return {level: saved.get(level, percent) for level, percent in DEFAULT_THRESHOLDS.items()}


def percent_of(answers: list[tuple[int, int]]) -> int:
    """(weight, answer) pairs → the weighted percent, rounded half up."""
    total = sum(weight for weight, _ in answers)
    if not total:
        return 0
    return (100 * sum(weight * answer for weight, answer in answers) + total) // (2 * total)


def level_of(percent: int, limits: dict[str, int]) -> str:
    if percent >= limits["capable"]:
        return "capable"
    return "partial" if percent >= limits["partial"] else "severe"


def unanswered(items: list[AssessmentItem], answers: dict) -> dict[str, str]:
    """{field: message} of each item not answered, named as the form asks it (its number and text:
    the list of mistakes at the top then says it once, not twice)."""
    return {item_field(item.id): f"{number}. {item.text}：请选择具备、部分具备或缺失"
            for number, item in enumerate(items, start=1) if answers.get(item.id) not in ASSESSMENT_ANSWERS}


def record_assessment(child: Child, values: dict, *, actor) -> GuardianshipAssessment:
    """values: items (the active items the form asked), answers {item id: 2|1|0|None}, assessed_on, note."""
    ensure_open(child)
    items, answers = values["items"], values.get("answers", {})
    errors: dict[str, str] = {}
    if not items:
        errors["assessed_on"] = "评估项目：还没有启用的评估项目，请联系系统管理员在“监护评估量表”里设置"
    errors |= unanswered(items, answers)
    day = values.get("assessed_on")
    if not isinstance(day, date):
        errors["assessed_on"] = "评估日期：请填写日期"
    elif day > local_today():
        errors["assessed_on"] = "评估日期：不能晚于今天"
    note = (values.get("note") or "").strip()
    if len(note) > NOTE_LIMIT:
        errors["note"] = f"说明：最多 {NOTE_LIMIT} 个字，请删减"
    if errors:
        raise AssessmentError(errors)
    pairs = [(item.weight, answers[item.id]) for item in items]
    percent = percent_of(pairs)
    assessment = GuardianshipAssessment(
        child_id=child.id, assessed_on=day, assessor_id=actor.id if actor is not None else None, percent=percent,
        level=level_of(percent, thresholds()), note=note or None,
        answers=[AssessmentAnswer(item_id=item.id, item_text=item.text, weight=item.weight, answer=answers[item.id])
                 for item in items])
    db.session.add(assessment)
    # The audit trail (the administrator reads it) names the child and the day, never the result.
    audit.record("assessment_recorded", assessment, detail=f"{child.name}：{day:%Y-%m-%d}", user=actor)
    return assessment


def set_interventions(assessment: GuardianshipAssessment, codes: list[str], *, actor) -> None:
    """The interventions the assessor decided on (ticked among INTERVENTIONS)."""
    ensure_open(assessment.child)
    unknown = [c for c in codes if c not in INTERVENTIONS]
    if unknown:
        raise AssessmentError({"interventions": "干预措施：请从列表中勾选"})
    assessment.interventions = ",".join(c for c in INTERVENTIONS if c in codes) or None
    audit.record("assessment_interventions_set", assessment, user=actor,
                 detail=f"{assessment.child.name}：{assessment.assessed_on:%Y-%m-%d} 的评估")


# --- the needs an assessment suggests ------------------------------------------------------------

@dataclass(frozen=True)
class SuggestedNeed:
    category: str
    items: tuple[str, ...]  # the items answered below 具备 that point to it, as asked
    need_id: int | None  # once added to the plan

    @property
    def description(self) -> str:
        return "监护评估：" + "；".join(self.items)


def suggested_needs(assessment: GuardianshipAssessment) -> list[SuggestedNeed]:
    """Each need category of the items answered below 具备, in the order of NEED_CATEGORIES, with
    the need already added from this assessment: two queries."""
    categories = dict(db.session.execute(select(AssessmentItem.id, AssessmentItem.need_category).where(
        AssessmentItem.id.in_([a.item_id for a in assessment.answers if a.item_id is not None]))).all())
    found: dict[str, list[str]] = {}
    for answer in assessment.answers:
        category = categories.get(answer.item_id)
        if answer.answer < 2 and category in NEED_CATEGORIES:
            found.setdefault(category, []).append(f"{answer.item_text}（{ASSESSMENT_ANSWERS[answer.answer]}）")
    added = dict(db.session.execute(select(Need.category, Need.id).where(
        Need.child_id == assessment.child_id, Need.source == "assessment", Need.source_id == assessment.id)).all())
    return [SuggestedNeed(code, tuple(found[code]), added.get(code)) for code in NEED_CATEGORIES if code in found]


def add_suggested_need(assessment: GuardianshipAssessment, category: str, *, actor) -> Need | None:
    """The suggested need of `category` in the child's care plan (source "assessment"): once, however
    often it is tapped (uq_needs_source). None when the assessment suggests no such need."""
    ensure_open(assessment.child)
    suggestion = next((s for s in suggested_needs(assessment) if s.category == category), None)
    if suggestion is None:
        return None
    if suggestion.need_id is not None:
        return db.session.get(Need, suggestion.need_id)
    need = add_need_once(assessment.child_id, category, suggestion.description, "assessment", assessment.id,
                         actor=actor)
    if need is None:  # added from another phone in between
        return db.session.scalar(select(Need).where(
            Need.child_id == assessment.child_id, Need.source == "assessment", Need.source_id == assessment.id,
            Need.category == category))
    audit.record("assessment_need_added", need, user=actor,
                 detail=f"{assessment.child.name}：{NEED_CATEGORIES[category]}")
    return need


# --- the scale (an administrator's) ----------------------------------------------------------------

def all_items() -> list[AssessmentItem]:
    return list(db.session.scalars(select(AssessmentItem).order_by(AssessmentItem.active.desc(),
                                                                   AssessmentItem.position, AssessmentItem.id)))


def _item_errors(key, label: str, values: dict, errors: dict[str, str]) -> None:
    text = (values.get("text") or "").strip()
    if not text:
        errors[item_field(key, "text")] = f"{label}的内容：请填写（不再使用就取消“启用”）"
    elif len(text) > 200:
        errors[item_field(key, "text")] = f"{label}的内容：最多 200 个字，请删减"
    if values.get("weight") not in WEIGHTS:
        errors[item_field(key, "weight")] = f"{label}的权重：请填 1 到 5 的整数"
    if values.get("need_category") not in (None, "", *NEED_CATEGORIES):
        errors[item_field(key, "need_category")] = f"{label}的对应需求：请从列表中选择"
    if values.get("position") not in POSITIONS:
        errors[item_field(key, "position")] = f"{label}的顺序：请填 0 到 {POSITIONS[-1]} 的整数"


def save_scale(items: list[AssessmentItem], values: dict, *, actor) -> None:
    """values: items {item id: {text, weight, need_category, position, active}}, new (the same, or
    None when its text is empty), capable, partial (the thresholds, percent)."""
    errors: dict[str, str] = {}
    edited = values.get("items", {})
    for number, item in enumerate(items, start=1):
        _item_errors(item.id, f"第 {number} 项", edited.get(item.id, {}), errors)
    new = values.get("new")
    if new is not None:
        _item_errors("new", "新增项目", new, errors)
    capable, partial = values.get("capable"), values.get("partial")
    if not isinstance(capable, int) or not 0 <= capable <= 100:
        errors["capable"] = "“有能力”的最低百分比：请填 0 到 100 的整数"
    if not isinstance(partial, int) or not 0 <= partial <= 100:
        errors["partial"] = "“部分缺失”的最低百分比：请填 0 到 100 的整数"
    elif "capable" not in errors and capable <= partial:
        errors["capable"] = f"“有能力”的最低百分比：应大于“部分缺失”的 {partial}"
    if not errors and not any(edited.get(i.id, {}).get("active") for i in items) and new is None:
        errors[item_field(items[0].id, "active") if items else item_field("new", "text")] = \
            "启用：至少要启用一个评估项目"
    if errors:
        raise AssessmentError(errors)
    for item in items:
        row = edited[item.id]
        item.text, item.weight, item.position = row["text"].strip(), row["weight"], row["position"]
        item.need_category, item.active = row.get("need_category") or None, bool(row.get("active"))
    if new is not None:
        db.session.add(AssessmentItem(text=new["text"].strip(), weight=new["weight"], position=new["position"],
                                      need_category=new.get("need_category") or None, active=True))
    saved = {row.level: row for row in db.session.scalars(select(AssessmentThreshold))}
    for level, percent in (("capable", capable), ("partial", partial)):
        if level in saved:
            saved[level].min_percent = percent
        else:
            db.session.add(AssessmentThreshold(level=level, min_percent=percent))
    active = sum(1 for i in items if edited[i.id].get("active")) + (new is not None)
    audit.record("assessment_scale_saved", user=actor,
                 detail=f"{active} 个启用项目；有能力 ≥ {capable}%，部分缺失 ≥ {partial}%"
                        + ("；新增一项" if new is not None else ""))


# --- the section "监护评估" of the record page and of the archive -----------------------------------

def _of_children(query, child_ids: list[int]) -> list[GuardianshipAssessment]:
    return list(db.session.scalars(
        query.where(GuardianshipAssessment.child_id.in_(child_ids)).options(joinedload(GuardianshipAssessment.assessor))
        .order_by(GuardianshipAssessment.assessed_on.desc(), GuardianshipAssessment.id.desc())))


def record_assessments(child_ids: list[int], viewer) -> dict[int, list[GuardianshipAssessment]]:
    found: dict[int, list[GuardianshipAssessment]] = {}
    for assessment in _of_children(reachable_assessments(viewer), child_ids):
        found.setdefault(assessment.child_id, []).append(assessment)
    return found


def archive_assessments(child_ids: list[int], printer) -> dict[int, list[dict] | None]:
    """For the archive, printed by a holder of assessments:read for children she reaches: each
    assessment as one row of text; None (nothing printed) where the printer may not see care data."""
    if not printer.disclosure.shows("care.assessment"):
        return dict.fromkeys(child_ids)
    found: dict[int, list[dict] | None] = {}
    for a in _of_children(select(GuardianshipAssessment), child_ids):
        found.setdefault(a.child_id, []).append({
            "assessed_on": f"{a.assessed_on:%Y-%m-%d}", "percent": f"{a.percent}%", "level": ASSESSMENT_LEVELS[a.level],
            "interventions": "、".join(INTERVENTIONS[c] for c in a.intervention_codes) or "—",
            "assessor": a.assessor.display_name if a.assessor else "", "note": a.note or ""})
    return found
