"""A class teacher's class (班主任带的班): a (grade, class) pair of her school's pupils
(children.grade, children.class_name), held on her account (users.class_grade, users.class_name).

It narrows what she is shown first, never what she reaches: her home's cards list her class's
pupils, the phone's picker lists them first, the full lists open on 本班 with 全校 a tap away. A
school account still reaches, and may write for, every pupil of its school.

Rules (each broken one a message naming its field):
- only a 班主任 holds a class; it is chosen from the pairs the school's pupils on the roll have
  (a select, so no typo separates her from her pupils), or is the one she has (with_her_class);
- the class goes when her duty stops being 班主任 or her school changes (clear_class).
"""
from __future__ import annotations

import json
import re
import unicodedata
from typing import NamedTuple

from sqlalchemy import select

from blueprints.children.models import Child
from blueprints.core import audit
from blueprints.core.forms import FieldErrors
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.schools.enrolment import at_school
from extensions import db

HEAD_TEACHER = "head_teacher"
SCOPES = {"class": "本班", "school": "全校"}
CLASS_MESSAGE = "班级：请从列表中选择本校学生所在的班级"
# The grades as a school counts them: the select lists its classes in this order, not the characters'
GRADE_ORDER = ["小班", "中班", "大班", "一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三"]


class ClassError(FieldErrors):
    """Input the rules refuse: {field: message}."""


def class_label(grade: str | None, class_name: str | None) -> str:
    return " ".join(part for part in (grade, class_name) if part)


def teacher_class(user) -> tuple[str | None, str] | None:
    """(grade, class) of the class `user` teaches, or None: the whole school is hers to see."""
    if user.role != "school" or user.school_duty != HEAD_TEACHER or not user.class_name:
        return None
    return user.class_grade, user.class_name


def in_class(pair: tuple[str | None, str]):
    """The clause on Child: a pupil of that class (its grade may be blank, as the pupils' is)."""
    grade, name = pair
    return (Child.class_name == name) & (Child.grade.is_(None) if grade is None else Child.grade == grade)


class Scope(NamedTuple):
    name: str  # a key of SCOPES
    pair: tuple[str | None, str] | None  # the class the list narrows to
    tabs: dict  # SCOPES for a teacher with a class, else nothing to choose
    label: str | None  # her class, as shown


def scope_of(user, wanted: str | None) -> Scope:
    """A full list's scope (?scope=class|school): 本班 by default for a teacher with a class;
    everyone else sees the school, whatever is asked."""
    pair = teacher_class(user)
    if pair is None:
        return Scope("school", None, {}, None)
    name = wanted if wanted in SCOPES else "class"
    return Scope(name, pair if name == "class" else None, SCOPES, class_label(*pair))


def _in_order(pair: tuple[str | None, str]) -> tuple:
    """一年级 before 三年级, 2班 before 10班; a grade or class written otherwise after, as written."""
    grade, name = pair
    number = re.search(r"\d+", unicodedata.normalize("NFKC", name))
    return (GRADE_ORDER.index(grade) if grade in GRADE_ORDER else len(GRADE_ORDER), grade or "",
            int(number.group()) if number else 0, name)


def _encode(pair: tuple[str | None, str]) -> str:
    return json.dumps(list(pair), ensure_ascii=False)


def class_choices(school_id: int | None) -> list[tuple[str, str]]:
    """(value, label) of the classes the school's pupils on the roll are in, by grade and class."""
    return classes_of([school_id]).get(school_id, [])


def classes_of(school_ids) -> dict[int, list[tuple[str, str]]]:
    """class_choices of several schools (a page of their staff), in one query."""
    ids = [school_id for school_id in school_ids if school_id is not None]
    found: dict[int, list[tuple]] = {}
    if ids:
        for school_id, grade, name in db.session.execute(
                select(Child.school_id, Child.grade, Child.class_name).distinct()
                .where(Child.school_id.in_(ids), Child.class_name.is_not(None), Child.status.in_(CURRENT_STATUSES),
                       at_school())):
            found.setdefault(school_id, []).append((grade, name))
    return {school_id: [(_encode(pair), class_label(*pair)) for pair in sorted(pairs, key=_in_order)]
            for school_id, pairs in found.items()}


def chosen_value(user) -> str:
    pair = teacher_class(user)
    return _encode(pair) if pair else ""


def with_her_class(staff, known: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Her select: `known` (class_choices of her school), and her class when no pupil is in it any
    more (a new school year moved them on), so that it shows the class she has, not “不带班”, and
    saving it unchanged keeps it."""
    pair = teacher_class(staff)
    if pair is None or _encode(pair) in dict(known):
        return known
    return [*known, (_encode(pair), f"{class_label(*pair)}（已没有学生在这个班）")]


def set_teacher_class(staff, value: str | None, *, actor) -> bool:
    """Set (a value of class_choices) or clear ("") the class a 班主任 teaches; True when it changed."""
    if staff.school_duty != HEAD_TEACHER:
        raise ClassError({"class_pair": "班级：只有班主任带班，请先把职责设为班主任并保存"})
    if value:
        if value not in dict(with_her_class(staff, class_choices(staff.school_id))):
            raise ClassError({"class_pair": CLASS_MESSAGE})
        grade, name = json.loads(value)
    else:
        grade, name = None, None
    if (staff.class_grade, staff.class_name) == (grade, name):
        return False
    before = class_label(staff.class_grade, staff.class_name) or "未设置"
    staff.class_grade, staff.class_name = grade, name
    audit.record("teacher_class_set", staff, user=actor,
                 detail=f"{staff.username}（{staff.display_name}）：{before} → {class_label(grade, name) or '未设置'}")
    return True


def clear_class(staff) -> str | None:
    """Her class goes with her duty or her school: the label of the class cleared, or None."""
    if not staff.class_name and not staff.class_grade:
        return None
    label = class_label(staff.class_grade, staff.class_name)
    staff.class_grade = staff.class_name = None
    return label
