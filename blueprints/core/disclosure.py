"""What a user may see of a child: the one disclosure policy.

Every field of a child's data is of one kind (below); the areas say which kind each of their
fields is (`register_fields`). The policy gives each kind a level for a user — shown in full,
masked, or hidden — from the user's reach and grants (DOMAIN.md "Who uses it"). Every output
asks it: the record page and its fragments, the history, search results, the Excel export, the
archive PDF and the JSON API. Templates ask through the `disclose` and `discloses` globals and
never test roles.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable

from flask import g, has_request_context
from flask_login import current_user

from blueprints.core.access import can, role_of
from blueprints.core.vocabulary import age_on

FULL, MASKED, HIDDEN = "full", "masked", "hidden"

KINDS = {
    "identity": "姓名、性别、年龄、村、学校、年级",
    "needs": "结对或帮扶所针对的需求",
    "profile": "儿童类别、关注等级、状态、档案号",
    "birth_date": "出生日期",
    "origin": "民族、户籍",
    "id_number": "身份证号，以及以身份证号开头的证件号（残疾证号）",
    "contact": "电话",
    "address": "住址",
    "family": "家庭成员、监护人、委托照护人",
    "health": "健康状况与残疾",
    "support": "救助保障、亲情联系",
    "history": "档案变更记录",
    "schooling": "在校情况：关爱责任人、在读与辍学、家校联系、课后服务减免",
    "psychological": "心理筛查与心理档案",
    "care": "帮扶方案（需求与措施）、转介、监护评估、紧急情况、个案会商",
}

# Reach → level of each kind. Staff who keep the records (town, village, school) see everything
# but ID numbers and the day of birth, which need the children:read_ids grant (UNMASKED_BY_IDS),
# and the psychological file, which only its grant shows (SHOWN_BY_GRANT). Volunteers (own) see
# only who the child is and what the pairing is for. Departments see what a referral needs to act on.
_READERS = {kind: FULL for kind in KINDS} | {"id_number": MASKED, "birth_date": MASKED, "psychological": HIDDEN}
POLICY: dict[str, dict[str, str]] = {
    "town": _READERS,
    "village": _READERS,
    "school": _READERS,
    "department": _READERS | {"health": HIDDEN, "support": HIDDEN, "history": HIDDEN},
    "own": {kind: HIDDEN for kind in KINDS} | {"identity": FULL, "needs": FULL},
}
NOTHING = {kind: HIDDEN for kind in KINDS}

# "entity.field" → kind, from the areas
FIELDS: dict[str, str] = {}


def register_fields(fields: dict[str, str]) -> None:
    for name, kind in fields.items():
        if kind not in KINDS:
            raise KeyError(f"{name}: unknown kind {kind!r}")
    FIELDS.update(fields)


# audit action → the kind of data its detail names (a screening recorded for a named child): the
# audit log shows such a detail only to a reader who may see that kind. The event itself stays.
AUDIT_DETAIL_KINDS: dict[str, str] = {}
AUDIT_DETAIL_HIDDEN = "（无权查看详情）"


def register_audit_details(actions: dict[str, str]) -> None:
    for action, kind in actions.items():
        if kind not in KINDS:
            raise KeyError(f"{action}: unknown kind {kind!r}")
    AUDIT_DETAIL_KINDS.update(actions)


# What a role without children:read_ids sees of an ID number, and of a 残疾证号 (the holder's ID
# number and two digits): that there is one, and not one digit of it; and of the birth date
# (digits 7–14), the year and month only. Such a reader knows the township, and so the county:
# the region (digits 1–6) counts as known. The sex gives the parity of digit 17, and digit 18 is
# a check digit of the other seventeen. Left unknown are the day (digits 13–14) and the sequence
# (15–17). Counting the numbers consistent with what is shown (tests/test_masking_candidates.py,
# a girl of region 371724 born 2014-05-06; region codes as python-stdnum knows them):
#   year and month, no digit                       31 days × 500 sequences = 15,500
#   year and month, no digit, region not known     3,584 regions × 15,500  = 55,552,000
#   the full birth date, no digit                  1 × 500                 = 500: too few
#   year and month and the last 4 (the old 尾号)    days whose check digit agrees = 4: too few
#   the full date, first 4 + last 4 (the old mask)                          = 1: the number itself
# The rule is at least 1,000 candidates: so no digit of the number, and no day of the birth date
# anywhere these roles look (nor a day reckoned from it: the day a child turns 16 or 18 shows to
# the month too). The age in years may show, reckoned from the last day of the birth month
# (reckoned_birth_date): reckoned from the day itself, it would change on the birthday and give
# the day to whoever looks every day of the month. A family member's birth date is recorded
# nowhere but in the number, and without the month a family member's number leaves millions.
ID_MASK = "已登记·号码隐藏"


def mask_id_number(number: str | None) -> str:
    """That an ID (or certificate) number is on record, without any of its digits: see above."""
    return ID_MASK if number else ""


def mask_text(value: str | None) -> str:
    if not value:
        return ""
    return value[:1] + "*" * (len(value) - 1)


_YEAR_MONTH = re.compile(r"(\d{4})-(\d{2})")


def mask_birth_date(value: str | None) -> str:
    """A birth date, or a day reckoned from it, to the month (2014-05-06 → 2014年5月): see above."""
    if not value:
        return ""
    found = _YEAR_MONTH.match(value)
    return f"{found[1]}年{int(found[2])}月" if found else "已隐藏"


def reckoned_birth_date(birth_date: date, disclosure: Disclosure) -> date:
    """The birth date what `disclosure`'s viewer is shown is reckoned from (the age, when an age
    review is due): the day itself for those who see it; for the others the last day of the birth
    month, the same for every child born that month: never older than the child is, at most a
    month late. Rules that act (age limits, exits) take the real date."""
    if disclosure.levels["birth_date"] == FULL:
        return birth_date
    return (birth_date.replace(day=1) + timedelta(days=31)).replace(day=1) - timedelta(days=1)


def shown_age(birth_date: date, today: date, disclosure: Disclosure) -> int:
    """The age in full years on `today`, as `disclosure`'s viewer may see it (reckoned_birth_date)."""
    return age_on(reckoned_birth_date(birth_date, disclosure), today)


MASKS: dict[str, Callable[[str | None], str]] = {"id_number": mask_id_number, "birth_date": mask_birth_date}
# What children:read_ids shows in full where the reach masks it.
UNMASKED_BY_IDS = ("id_number", "birth_date")
# Kinds hidden from every reach but to the holders of a grant, within their reach (DOMAIN.md: a
# screening only for the school's mental-health teacher, civil affairs and the supervisor).
SHOWN_BY_GRANT = {"psychological": "screenings:read"}


@dataclass(frozen=True)
class Disclosure:
    """The levels for one viewer."""

    levels: dict[str, str] = field(default_factory=lambda: dict(NOTHING))

    def kind(self, name: str) -> str:
        try:
            return FIELDS[name]
        except KeyError:
            raise KeyError(f"{name} is not a registered field: add it to its area's disclosure fields") from None

    def level(self, name: str) -> str:
        return self.levels[self.kind(name)]

    def shows(self, name: str) -> bool:
        """Whether the field appears at all (in full or masked)."""
        return self.level(name) != HIDDEN

    def full(self, name: str) -> bool:
        return self.level(name) == FULL

    def show(self, name: str, value) -> str | None:
        """The value as this viewer may see it: itself, masked, or None (hidden)."""
        level = self.level(name)
        if level == HIDDEN:
            return None
        if value is None or value == "":
            return ""
        if level == MASKED:
            return MASKS.get(self.kind(name), mask_text)(str(value))
        return value

    def audit_detail(self, event) -> str:
        """An audit event's detail as this viewer may read it (AUDIT_DETAIL_KINDS)."""
        kind = AUDIT_DETAIL_KINDS.get(event.action)
        if kind is not None and self.levels[kind] == HIDDEN and event.detail:
            return AUDIT_DETAIL_HIDDEN
        return event.detail

    @property
    def masks_ids(self) -> bool:
        return self.levels["id_number"] == MASKED


def disclosure_for(user) -> Disclosure:
    role = role_of(user)
    if role is None:
        return Disclosure()
    levels = dict(POLICY.get(role.reach, NOTHING))
    if can(user, "children:read_ids"):
        levels |= {kind: FULL for kind in UNMASKED_BY_IDS if levels[kind] == MASKED}
    if role.reach != "own":  # a volunteer never: DOMAIN.md
        levels |= {kind: FULL for kind, permission in SHOWN_BY_GRANT.items() if can(user, permission)}
    return Disclosure(levels)


def full_disclosure() -> Disclosure:
    """For the command line (an operator with the server's keys sees everything anyway)."""
    return Disclosure({kind: FULL for kind in KINDS})


def current_disclosure() -> Disclosure:
    """The signed-in user's, once per request."""
    if not has_request_context():
        return Disclosure()
    if "disclosure" not in g:
        g.disclosure = disclosure_for(current_user)
    return g.disclosure


def register_template_globals(app) -> None:
    """`disclose(field, value)`, `discloses(field)`, `shown_age(birth_date, today)`,
    `audit_detail(event)` and `may(permission)`: what templates ask instead of testing roles."""
    app.jinja_env.globals["may"] = lambda permission: can(current_user, permission)
    app.jinja_env.globals["disclose"] = lambda name, value: current_disclosure().show(name, value)
    app.jinja_env.globals["discloses"] = lambda name: current_disclosure().shows(name)
    app.jinja_env.globals["shown_age"] = lambda birth_date, today: shown_age(birth_date, today, current_disclosure())
    app.jinja_env.globals["audit_detail"] = lambda event: current_disclosure().audit_detail(event)


def disclosure_table() -> str:
    """The policy as a Markdown table (kind × reach), for docs/access-matrix.md."""
    names = {FULL: "完整", MASKED: "遮挡", HIDDEN: "—"}
    reaches = list(POLICY)
    lines = ["", "## 看得到什么 · disclosure by reach", "",
             "ID numbers (and 残疾证号) are shown in full only with `children:read_ids`; masked otherwise:",
             f"only that one is on record (“{ID_MASK}”), without any digit, and a search by ID number",
             "finds nothing. The same grant shows the birth date in full; without it, only its year and month",
             f"(“{mask_birth_date('2014-05-06')}”), and so any day reckoned from it (the day a child turns 16 or 18):",
             "to a reader who knows the township, the full date would leave 500 possible ID numbers.",
             "The age such a reader sees is reckoned as if the child was born on the last day of the month,",
             "so that it does not change on the birthday (the same day for every child born that month).",
             "The psychological file is hidden from every reach but to the holders of "
             + ", ".join(f"`{p}`" for p in SHOWN_BY_GRANT.values()) + " (within their reach).", "",
             "| 信息 | " + " | ".join(f"`{r}`" for r in reaches) + " |", "|---|" + "---|" * len(reaches)]
    for kind, label in KINDS.items():
        lines.append(f"| {label} `{kind}` | " + " | ".join(names[POLICY[r][kind]] for r in reaches) + " |")
    return "\n".join(lines) + "\n"
