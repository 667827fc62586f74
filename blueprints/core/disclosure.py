"""What a user may see of a child: the one disclosure policy.

Every field of a child's data is of one kind (below); the areas say which kind each of their
fields is (`register_fields`). The policy gives each kind a level for a user — shown in full,
masked, or hidden — from the user's reach and grants (DOMAIN.md "Who uses it"). Every output
asks it: the record page and its fragments, the history, search results, the Excel export, the
archive PDF and the JSON API. Templates ask through the `disclose` and `discloses` globals and
never test roles.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import g, has_request_context
from flask_login import current_user

from blueprints.core.access import can, role_of

FULL, MASKED, HIDDEN = "full", "masked", "hidden"

KINDS = {
    "identity": "姓名、性别、年龄、村、学校、年级",
    "needs": "结对或帮扶所针对的需求",
    "profile": "儿童类别、关注等级、状态、档案号",
    "birth_date": "出生日期、民族、户籍",
    "id_number": "身份证号，以及以身份证号开头的证件号（残疾证号）",
    "contact": "电话",
    "address": "住址",
    "family": "家庭成员、监护人、委托照护人",
    "health": "健康状况与残疾",
    "support": "救助保障、亲情联系",
    "history": "档案变更记录",
}

# Reach → level of each kind. Staff who keep the records (town, village, school) see everything
# but ID numbers, which need the children:read_ids grant. Volunteers (own) see only who the child
# is and what the pairing is for. Departments see what a referral needs to act on.
_READERS = {kind: FULL for kind in KINDS} | {"id_number": MASKED}
POLICY: dict[str, dict[str, str]] = {
    "town": _READERS,
    "village": _READERS,
    "school": _READERS,
    "department": {kind: FULL for kind in KINDS} | {"id_number": MASKED, "health": HIDDEN, "support": HIDDEN,
                                                   "history": HIDDEN},
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


# What a role without children:read_ids sees of an ID number, and of a 残疾证号 (the holder's ID
# number and two digits): that there is one, and not one digit of it. Such roles see the birth
# date (digits 7–14) and the sex (the parity of digit 17) in full, and digit 18 is a check digit
# of the other seventeen; left unknown are the region (1–6) and the sequence (15–17). Counting
# the numbers consistent with what is shown (tests/test_masking_candidates.py, for a girl born
# 2014-05-06; region codes as python-stdnum knows them, valid in the birth year):
#   no digit shown                    3,584 regions × 500 sequences    = 1,792,000
#   the first 4 (province and city)   11 regions × 500                 = 5,500
#   the first 6 (the region)          1 × 500                          = 500: too few
#   the last 4 (the list's old 尾号)   regions whose check digit agrees = 319: too few
#   first 4 + last 4 (the old mask)                                    = 1: the number itself
# The rule is at least 1,000 candidates. The first 4 would pass the count, but to a reader who
# knows the township (and so the county) they are as good as the first 6: so no digit at all.
# Caveat: a region guessed from the 户籍村 rather than read leaves 500 whatever the mask shows;
# only hiding the full birth date from these roles would close that.
ID_MASK = "已登记·号码隐藏"


def mask_id_number(number: str | None) -> str:
    """That an ID (or certificate) number is on record, without any of its digits: see above."""
    return ID_MASK if number else ""


def mask_text(value: str | None) -> str:
    if not value:
        return ""
    return value[:1] + "*" * (len(value) - 1)


MASKS: dict[str, Callable[[str | None], str]] = {"id_number": mask_id_number}


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

    @property
    def masks_ids(self) -> bool:
        return self.levels["id_number"] == MASKED


def disclosure_for(user) -> Disclosure:
    role = role_of(user)
    if role is None:
        return Disclosure()
    levels = dict(POLICY.get(role.reach, NOTHING))
    if levels["id_number"] == MASKED and can(user, "children:read_ids"):
        levels["id_number"] = FULL
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
    """`disclose(field, value)`, `discloses(field)` and `may(permission)`: what templates ask
    instead of testing roles."""
    app.jinja_env.globals["may"] = lambda permission: can(current_user, permission)
    app.jinja_env.globals["disclose"] = lambda name, value: current_disclosure().show(name, value)
    app.jinja_env.globals["discloses"] = lambda name: current_disclosure().shows(name)


def disclosure_table() -> str:
    """The policy as a Markdown table (kind × reach), for docs/access-matrix.md."""
    names = {FULL: "完整", MASKED: "遮挡", HIDDEN: "—"}
    reaches = list(POLICY)
    lines = ["", "## 看得到什么 · disclosure by reach", "",
             "ID numbers (and 残疾证号) are shown in full only with `children:read_ids`; masked otherwise:",
             f"only that one is on record (“{ID_MASK}”), without any digit, and a search by ID number",
             "finds nothing.", "",
             "| 信息 | " + " | ".join(f"`{r}`" for r in reaches) + " |", "|---|" + "---|" * len(reaches)]
    for kind, label in KINDS.items():
        lines.append(f"| {label} `{kind}` | " + " | ".join(names[POLICY[r][kind]] for r in reaches) + " |")
    return "\n".join(lines) + "\n"
