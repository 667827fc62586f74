"""What a request brings, checked at the boundary: ids in URLs, query strings and JSON, page numbers,
months and dates. Anything outside the range the database and the calendar arithmetic can hold
(SQLite's 64-bit and PostgreSQL's 32-bit integers, dates near year 1 or 9999) is treated as absent
or refused here, so that no view gets as far as a 500.
"""
from __future__ import annotations

import re
from datetime import date

from werkzeug.routing import IntegerConverter

from blueprints.core.text import clean_text

MAX_ID = 2**31 - 1  # PostgreSQL's integer: the id columns' type
MAX_PAGE = 100_000
FIRST_YEAR, LAST_YEAR = 1990, 2100  # any date the house deals in lies between
_MONTH = re.compile(r"(\d{4})-(\d{1,2})", re.ASCII)


class IdConverter(IntegerConverter):
    """`<int:…>` in every URL: an id from 1 to 2**31-1; any other number does not match (404)."""

    def __init__(self, map, *args, **options) -> None:
        super().__init__(map, *args, **{"min": 1, "max": MAX_ID, **options})


def as_id(value) -> int | None:
    """An id sent as an int (not a bool) or as a string of ASCII digits, from 1 to MAX_ID; else None."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 10:
        value = int(value)
    if type(value) is not int or not 1 <= value <= MAX_ID:
        return None
    return value


def id_arg(args, name: str) -> int | None:
    """?village=3 and the like: None when absent or not an id (a filter then simply does not apply)."""
    return as_id(args.get(name))


def page_arg(args, name: str = "page") -> int:
    """?page=: 1 when absent or not a number, at most MAX_PAGE (the views clamp to their last page)."""
    value = args.get(name, "")
    if not (value.isascii() and value.isdigit()):
        return 1  # absent, negative or not a number
    return max(1, min(int(value), MAX_PAGE)) if len(value) <= 6 else MAX_PAGE


def text_arg(args, name: str, limit: int = 100) -> str:
    """A search word from the query string: one line, control characters (NUL) removed, cut to `limit`."""
    return clean_text(args.get(name, "")).strip()[:limit]


def month_arg(args, name: str, default: date) -> tuple[int, int]:
    """?month=2026-03 as (year, month) between FIRST_YEAR and LAST_YEAR; `default`'s month otherwise."""
    match = _MONTH.fullmatch(args.get(name, ""))
    if match:
        year, month = int(match[1]), int(match[2])
        if FIRST_YEAR <= year <= LAST_YEAR and 1 <= month <= 12:
            return year, month
    return default.year, default.month


def in_calendar(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR
