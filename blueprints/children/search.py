"""Finding children: name, pinyin initials (zs → 张三), last 4 of the ID number, and filters.
Every search starts from the access gate. A search by ID number is for those who may see ID
numbers, and is audited; for anyone else it matches nothing, so it cannot confirm a number."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields

from pypinyin import lazy_pinyin
from sqlalchemy import Select, exists, false, func, or_
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.idnumber import normalize_id_number
from blueprints.children.models import Child, ChildCategory
from blueprints.children.access import reachable_children
from blueprints.core import audit
from blueprints.core.disclosure import disclosure_for
from blueprints.core.inputs import id_arg, text_arg
from blueprints.core.vocabulary import ATTENTION_LEVELS, CATEGORIES, CURRENT_STATUSES, STATUSES
from extensions import db

PAGE_SIZE = 20
_LETTERS = re.compile(r"[a-z]+")
_ID_LIKE = re.compile(r"\d{3,17}[\dX]")  # a tail, a whole number, or a piece of one


def name_keys(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name, lowercase, letters only: 张三 → ("zs", "zhangsan")."""
    syllables = [s for s in lazy_pinyin(name, errors="ignore") if s]
    initials = "".join(s[0] for s in syllables if s[0].isalpha())
    full = "".join(ch for s in syllables for ch in s if ch.isalpha())
    return initials.lower(), full.lower()


@dataclass
class ChildFilters:
    q: str = ""
    village: int | None = None
    school: int | None = None
    category: str = ""
    attention: str = ""
    status: str = "current"  # current (registered + active), exited, all

    @classmethod
    def from_args(cls, args) -> "ChildFilters":
        f = cls(
            q=text_arg(args, "q", 40),
            village=id_arg(args, "village"),
            school=id_arg(args, "school"),
            category=args.get("category", ""),
            attention=args.get("attention", ""),
            status=args.get("status", "current"),
        )
        # Unknown codes are ignored rather than matched against nothing.
        if f.category not in CATEGORIES:
            f.category = ""
        if f.attention not in ATTENTION_LEVELS:
            f.attention = ""
        if f.status not in ("current", "all", *STATUSES):
            f.status = "current"
        return f

    def as_args(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in ("", None)}


def id_query(q: str) -> str | None:
    """The ID number, its tail or a piece of it that a search asks for (normalised); None for a name."""
    normalized = normalize_id_number(q)
    return normalized if _ID_LIKE.fullmatch(normalized) else None


def describe_id_query(number: str) -> str:
    """For the audit trail: what kind of ID search it was, never the number itself."""
    return "完整身份证号" if len(number) == 18 else f"身份证号片段（{len(number)} 位）"


def may_search_ids(user) -> bool:
    return disclosure_for(user).full("child.id_number")


def refuses_id_search(user, q: str) -> bool:
    """Whether this search is by ID number and the user may not search so (the list says why)."""
    return bool(q) and id_query(q) is not None and not may_search_ids(user)


def filtered_children(user, filters: ChildFilters) -> Select:
    """The children within reach that match. A search by ID number is recorded in the audit trail
    (the caller commits); by a user who may not see ID numbers it matches nothing."""
    query = reachable_children(user)
    q = filters.q
    if q:
        lowered = q.lower()
        number = id_query(q)
        if refuses_id_search(user, q):
            query = query.where(false())  # any match would confirm a number the user may not see
        elif number is not None:
            audit.record("id_search", detail=f"按{describe_id_query(number)}查找", user=user)
            if len(number) == 4:
                query = query.where(Child.id_last4 == number)
            elif len(number) == 18:
                query = query.where(Child.id_number == number)
            else:
                query = query.where(false())
        elif _LETTERS.fullmatch(lowered):
            query = query.where(or_(Child.name_initials.startswith(lowered), Child.name_pinyin.startswith(lowered)))
        else:
            query = query.where(Child.name.contains(q))
    if filters.village:
        query = query.where(Child.residence_village_id == filters.village)
    if filters.school:
        query = query.where(Child.school_id == filters.school)
    if filters.category:
        query = query.where(exists().where(ChildCategory.child_id == Child.id,
                                           ChildCategory.category == filters.category))
    if filters.attention:
        query = query.where(Child.attention_level == filters.attention)
    if filters.status == "current":
        query = query.where(Child.status.in_(CURRENT_STATUSES))
    elif filters.status in STATUSES:
        query = query.where(Child.status == filters.status)
    return query


def list_order(filters: ChildFilters) -> tuple:
    """By pinyin. Unfiltered, the (name_pinyin, id) index gives the first page without a sort. With
    a search the matches are few, and walking that index in order to find them would read most of
    the table: order by an expression (the same order: the column is lowercase) so the planner
    filters first and sorts the few it found."""
    if filters.q:
        return func.lower(Child.name_pinyin), Child.id
    return Child.name_pinyin, Child.id


@dataclass
class Page:
    items: list[Child]
    total: int
    page: int
    pages: int
    id_search_refused: bool = False


def search_children(user, filters: ChildFilters, page: int = 1, per_page: int = PAGE_SIZE) -> Page:
    """One page of matches, with what each row shows loaded up front (a fixed number of queries)."""
    query = filtered_children(user, filters)
    total = db.session.scalar(query.with_only_columns(func.count(Child.id)).order_by(None))
    pages = max((total + per_page - 1) // per_page, 1)
    page = min(max(page, 1), pages)
    items = db.session.scalars(
        query.options(joinedload(Child.residence_village), joinedload(Child.school), selectinload(Child.categories))
        .order_by(*list_order(filters))
        .limit(per_page).offset((page - 1) * per_page)
    ).all()
    return Page(items=list(items), total=total, page=page, pages=pages,
                id_search_refused=refuses_id_search(user, filters.q))


def ordered_for_export(user, filters: ChildFilters) -> Select:
    return filtered_children(user, filters).order_by(Child.residence_village_id, Child.name_pinyin, Child.id)


