"""Rules that read a child's record and suggest what staff should look at (DOMAIN.md "Rules").
They only suggest: staff decide."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from blueprints.children.models import Child
from blueprints.core.clock import format_date
from blueprints.core.disclosure import Disclosure, reckoned_birth_date
from blueprints.core.vocabulary import CHILD_AGE, LEFT_BEHIND_AGE, age_on, birthday_at

REVIEW_AHEAD = timedelta(days=90)


@dataclass(frozen=True)
class Suggestion:
    rule: str  # which rule found it, shown beside the reason
    text: str


def parents_away(child: Child) -> bool:
    """Both parents work away, or one does and the other cannot act as guardian (国发〔2016〕13号)."""
    father = next((m for m in child.family if m.relation == "父亲"), None)
    mother = next((m for m in child.family if m.relation == "母亲"), None)
    if father is None or mother is None:
        return False
    if father.works_away and mother.works_away:
        return True
    return (father.works_away and mother.guardianship_capacity == "none") or (
        mother.works_away and father.guardianship_capacity == "none")


def suggest_left_behind(child: Child, age: int) -> bool:
    """`age`: the real one where staff act on it, the one shown where it is suggested."""
    return "left_behind" not in child.category_codes and age < LEFT_BEHIND_AGE and parents_away(child)


def suggestions(child: Child, today: date, disclosure: Disclosure) -> list[Suggestion]:
    """What to look at, worded for the viewer: a birthday gives the birth date away, so it shows
    as the birth date does (to the month without children:read_ids); and the day a suggestion
    comes or goes would give it too, so they are reckoned as the age shown is (reckoned_birth_date)."""

    def day(birthday: date) -> str:
        return format_date(disclosure.show("child.birth_date", birthday))

    found = []
    if child.status == "exited":
        return found
    birth = reckoned_birth_date(child.birth_date, disclosure)
    if suggest_left_behind(child, age_on(birth, today)):
        found.append(Suggestion("留守认定", "孩子未满16周岁，父母双方外出务工（或一方外出、另一方无监护能力），建议标记为留守儿童。"))
    if "left_behind" in child.category_codes:
        sixteen = birthday_at(birth, LEFT_BEHIND_AGE)
        if today >= sixteen - REVIEW_AHEAD:
            found.append(Suggestion("年龄复核", f"{day(sixteen)} 年满16周岁，留守儿童身份到期，请复核。"))
        if not (child.caregiver_name and child.caregiver_confirmed_on):
            found.append(Suggestion("委托照护（§6）", "留守儿童还没有经父母确认的委托照护人，请补充。"))
    eighteen = birthday_at(birth, CHILD_AGE)
    if today >= eighteen - REVIEW_AHEAD:
        found.append(Suggestion("年龄复核", f"{day(eighteen)} 年满18周岁，请复核是否退出。"))
    return found
