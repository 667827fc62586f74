"""School terms, the period of a screening, a fee waiver and the contacts due. The autumn term
runs from 1 September to 31 January (its winter holiday included), the spring term from 1 February
to 31 August (its summer holiday included). A term's code is "2026-autumn" or "2027-spring"."""
from __future__ import annotations

import re
from datetime import date, timedelta

TERM_NAMES = {"spring": "春季学期", "autumn": "秋季学期"}
_CODE = re.compile(r"^(\d{4})-(spring|autumn)$")


def term_of(day: date) -> str:
    if day.month >= 9:
        return f"{day.year}-autumn"
    if day.month == 1:
        return f"{day.year - 1}-autumn"
    return f"{day.year}-spring"


def is_term(code: str | None) -> bool:
    found = _CODE.match(code or "")
    return bool(found) and 2000 <= int(found[1]) <= 2100


def term_bounds(code: str) -> tuple[date, date]:
    """First and last day of the term."""
    found = _CODE.match(code)
    if not found:
        raise ValueError(f"not a term: {code!r}")
    year = int(found[1])
    if found[2] == "autumn":
        return date(year, 9, 1), date(year + 1, 1, 31)
    return date(year, 2, 1), date(year, 8, 31)


def term_label(code: str | None) -> str:
    found = _CODE.match(code or "")
    if not found:
        return code or ""
    year = int(found[1])
    school_year = f"{year}—{year + 1}" if found[2] == "autumn" else f"{year - 1}—{year}"
    return f"{school_year}学年{TERM_NAMES[found[2]]}"


def recent_terms(day: date, count: int = 4) -> list[str]:
    """The term of `day` and the ones before it, newest first (a form's choices)."""
    terms, current = [], day
    for _ in range(count):
        code = term_of(current)
        terms.append(code)
        current = term_bounds(code)[0] - timedelta(days=1)
    return terms
