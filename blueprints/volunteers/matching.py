"""Matching (plan §23 "matching needs with help"): for a child, the volunteers who fit best; for a
volunteer, the unpaired children who fit her. Every rank comes with its reasons in words.

A child's needs: those the newest visit recorded (the director saw them), and those her categories
imply (CATEGORY_NEEDS). A volunteer's skills meet needs through SKILL_NEEDS.

Distance in villages, from what the town already records: 0 the same village; 1 a neighbouring
village (one school serves both); 2 elsewhere in the town; unknown (a volunteer without a village)
counts as elsewhere.

Order, for a child (the issue's order): the same village first, then more of her needs met, then
more room left, then nearer. For a volunteer: children of key attention and 事实无人抚养 first,
then the same village, more needs met, nearer."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from blueprints.children.models import Child, ChildCategory
from blueprints.core.vocabulary import CATEGORY_SHORT, NEED_CATEGORIES, SKILL_NEEDS, SKILLS
from blueprints.places.models import Village, school_villages
from blueprints.visits.models import Visit, VisitNeed
from blueprints.volunteers.access import children_to_pair, reachable_volunteers
from blueprints.volunteers.models import Pairing, Volunteer, VolunteerSkill
from blueprints.volunteers.pairings import open_counts
from extensions import db

CATEGORY_NEEDS = {
    "left_behind": {"psychological", "education"},
    "poverty": {"living", "education"},
    "disability": {"medical", "living"},
    "guardianship": {"guardianship", "safety", "psychological"},
    "orphan": {"living", "psychological"},
    "unsupported": {"living", "psychological", "guardianship"},
}
DISTANCE_WORDS = {0: "同村", 1: "邻村（同一学校片区）", 2: "本镇其他村"}
SHOWN = 30


def neighbours() -> dict[int, set[int]]:
    """Village → the villages one school serves with it: one query."""
    by_school: dict[int, set[int]] = defaultdict(set)
    for school_id, village_id in db.session.execute(select(school_villages.c.school_id, school_villages.c.village_id)):
        by_school[school_id].add(village_id)
    near: dict[int, set[int]] = defaultdict(set)
    for villages in by_school.values():
        for village_id in villages:
            near[village_id] |= villages
    return near


def distance(a: int | None, b: int | None, near: dict[int, set[int]]) -> int:
    if a is None or b is None:
        return 2
    if a == b:
        return 0
    return 1 if b in near.get(a, ()) else 2


def child_needs(child_ids) -> dict[int, dict[str, str]]:
    """Child → {need: why we think so}: the newest visit's needs, then those the categories imply.
    `child_ids`: a list or a select of ids. Two queries for any number of children."""
    found: dict[int, dict[str, str]] = defaultdict(dict)
    if isinstance(child_ids, list) and not child_ids:
        return found
    newest = select(Visit.id, func.row_number().over(
        partition_by=Visit.child_id, order_by=(Visit.visited_on.desc(), Visit.id.desc())).label("n")) \
        .where(Visit.child_id.in_(child_ids), Visit.superseded.is_(False)).subquery()
    rows = db.session.execute(select(Visit.child_id, VisitNeed.category)
                              .join(newest, newest.c.id == Visit.id).join(VisitNeed, VisitNeed.visit_id == Visit.id)
                              .where(newest.c.n == 1))
    for child_id, need in rows:
        found[child_id][need] = "走访记录"
    for child_id, category in db.session.execute(select(ChildCategory.child_id, ChildCategory.category)
                                                  .where(ChildCategory.child_id.in_(child_ids))):
        for need in sorted(CATEGORY_NEEDS.get(category, ())):
            found[child_id].setdefault(need, CATEGORY_SHORT.get(category, category))
    return found


def met_needs(skills: list[str], needs: dict[str, str]) -> list[tuple[str, str]]:
    """(skill, need) pairs: which of her skills meet which of the child's needs."""
    return [(skill, need) for skill in skills for need in sorted(SKILL_NEEDS.get(skill, ())) if need in needs]


def _needs_words(pairs: list[tuple[str, str]]) -> str:
    met = dict.fromkeys(need for _, need in pairs)
    return "能满足需求：" + "、".join(
        f"{NEED_CATEGORIES[need]}（{'、'.join(SKILLS[s] for s, n in pairs if n == need)}）" for need in met)


@dataclass
class VolunteerMatch:
    volunteer: Volunteer
    distance: int
    met: list[tuple[str, str]]
    room: int
    reasons: list[str] = field(default_factory=list)


@dataclass
class ChildMatch:
    child_id: int
    name: str
    village: str
    attention: str
    categories: list[str]
    distance: int
    met: list[tuple[str, str]]
    needs: dict[str, str]
    reasons: list[str] = field(default_factory=list)

    @property
    def first(self) -> bool:
        return self.attention == "key" or "unsupported" in self.categories


def volunteers_for(child: Child, user, limit: int = SHOWN, first: int | None = None) -> list[VolunteerMatch]:
    """Active volunteers `user` reaches with room left, not already paired with `child`, best first
    (the volunteer `first`, if she is one of them, at the top whatever her rank)."""
    paired = select(Pairing.volunteer_id).where(Pairing.child_id == child.id, Pairing.ended_on.is_(None))
    volunteers = db.session.scalars(
        reachable_volunteers(user, "pairings:manage").where(Volunteer.active.is_(True), Volunteer.id.not_in(paired))
        .options(joinedload(Volunteer.village), joinedload(Volunteer.organisation))
    ).all()
    taken = open_counts(v.id for v in volunteers)
    needs = child_needs([child.id]).get(child.id, {})
    skills = _skills_of([v.id for v in volunteers])
    near = neighbours()
    matches = []
    for v in volunteers:
        room = v.capacity - taken.get(v.id, 0)
        if room <= 0:
            continue
        gap = distance(child.residence_village_id, v.village_id, near)
        met = met_needs(skills.get(v.id, []), needs)
        reasons = [DISTANCE_WORDS[gap] + (f"（{v.village.name}）" if v.village and gap else "")]
        reasons.append(_needs_words(met) if met else "特长与需求没有直接对应")
        reasons.append(f"还可结对 {room} 名（共 {v.capacity} 名）")
        matches.append(VolunteerMatch(v, gap, met, room, reasons))
    matches.sort(key=lambda m: (m.volunteer.id != first, m.distance != 0, -len({n for _, n in m.met}), -m.room,
                                m.distance, m.volunteer.name))
    return matches[:limit]


def children_for(volunteer: Volunteer, user, limit: int = SHOWN) -> list[ChildMatch]:
    """Children on the roll `user` may pair who have no open pairing at all, best first for her."""
    open_pairing = select(Pairing.child_id).where(Pairing.ended_on.is_(None))
    candidates = children_to_pair(user).where(Child.id.not_in(open_pairing))
    rows = db.session.execute(
        candidates.join(Village, Village.id == Child.residence_village_id)
        .with_only_columns(Child.id, Child.name, Child.residence_village_id, Village.name, Child.attention_level)
    ).all()
    ids = candidates.with_only_columns(Child.id)  # a subquery: the town may have thousands
    categories: dict[int, list[str]] = defaultdict(list)
    for child_id, category in db.session.execute(select(ChildCategory.child_id, ChildCategory.category)
                                                 .where(ChildCategory.child_id.in_(ids))):
        categories[child_id].append(category)
    needs = child_needs(ids)
    near = neighbours()
    skills = volunteer.skills
    matches = []
    for child_id, name, village_id, village, attention in rows:
        gap = distance(volunteer.village_id, village_id, near)
        met = met_needs(skills, needs.get(child_id, {}))
        match = ChildMatch(child_id, name, village, attention, sorted(categories[child_id]), gap, met,
                           needs.get(child_id, {}))
        if match.first:
            match.reasons.append("重点关注" if attention == "key" else "事实无人抚养儿童")
        match.reasons.append(DISTANCE_WORDS[gap] + (f"（{village}）" if gap else ""))
        match.reasons.append(_needs_words(met) if met else "她的特长与孩子的需求没有直接对应")
        matches.append(match)
    matches.sort(key=lambda m: (not m.first, m.distance != 0, -len({n for _, n in m.met}), m.distance, m.name))
    return matches[:limit]


def _skills_of(volunteer_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if volunteer_ids:
        for volunteer_id, skill in db.session.execute(select(VolunteerSkill.volunteer_id, VolunteerSkill.skill)
                                                      .where(VolunteerSkill.volunteer_id.in_(volunteer_ids))
                                                      .order_by(VolunteerSkill.skill)):
            found[volunteer_id].append(skill)
    return found
