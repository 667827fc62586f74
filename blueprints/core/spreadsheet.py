"""Writing Excel (and CSV) files: every value goes through here, so that text is written as text.

Names, addresses and notes are typed by people (or imported). A text starting with "=" (or "+",
"-", "@", a tab or a carriage return, also after spaces or in full-width form, which Excel and WPS
accept too) would open as a live formula: =HYPERLINK(...) sends the row's ID number to another
site, a DDE formula starts a program. As OWASP recommends, such text is quoted: in xlsx the cell
is stored as a string with Excel's quote prefix (what Excel itself keeps when someone types '=…,
so the text shows unchanged and stays text when edited); in CSV, which has no types, a single
quote is put in front. Characters a file cannot hold (NUL, vertical tab …) are removed, so that
one bad value already in the database cannot break a whole export.

Use `cell()` for one value, `append()` for a row; numbers and dates the app writes stay typed.
"""
from __future__ import annotations

import unicodedata
from typing import Iterable

from openpyxl.cell.cell import ERROR_CODES, ILLEGAL_CHARACTERS_RE, Cell

from blueprints.core.text import clean_text

# Where a formula may start (after NFKC, which folds the full-width ＝＋－＠ into these), and
# the characters Excel reads as a line or a field break in front of one.
_FORMULA_STARTS = frozenset("=+-@\u2212")
_BREAKS_IN_FRONT = ("\t", "\r", "\n")


def writable_text(value: str) -> str:
    """`value` without characters an xlsx or CSV file cannot hold (line breaks stay): the house's
    cleaning rule (core/text.py), and openpyxl's own list of what it refuses."""
    if value.isprintable():  # nothing clean_text would change; checked in C, as exports call this per cell
        return value
    return ILLEGAL_CHARACTERS_RE.sub("", clean_text(value, multiline=True))


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet program could take `text` for a formula."""
    if text.startswith(_BREAKS_IN_FRONT):
        return True
    stripped = text.lstrip()  # also the full-width space U+3000
    return bool(stripped) and unicodedata.normalize("NFKC", stripped[0])[:1] in _FORMULA_STARTS


def cell(ws, value, *, font=None) -> Cell:
    """A cell of `ws` (write-only or not) holding `value`: text always as a string, never a formula
    or an error code (openpyxl makes "=…" a formula and "#N/A" an error); other values as they are."""
    result = Cell(ws, column=1, row=1)  # the row and column are set when the row is appended
    if isinstance(value, str):
        text = writable_text(value)
        result.value = text or None  # "" as an empty cell
        if text:
            result.data_type = "s"
            result.quotePrefix = looks_like_formula(text)
    else:
        result.value = value
    if font is not None:
        result.font = font
    return result


def _bare(value) -> bool:
    """Whether openpyxl, given `value` itself, writes what `cell()` would: a number, a date, or
    text it keeps as text unchanged."""
    if not isinstance(value, str):
        return True
    return bool(value) and value.isprintable() and not looks_like_formula(value) and value not in ERROR_CODES


def append(ws, values: Iterable, *, font=None) -> None:
    """Append one row of values to `ws`, each as `cell()` makes it. Values openpyxl writes right on
    its own go bare: in a write-only sheet every Cell costs openpyxl a caught exception, which
    doubled the time of a 20,000-row export."""
    ws.append([value if font is None and _bare(value) else cell(ws, value, font=font) for value in values])


def csv_value(value):
    """A value for csv.writer: text cleaned and, when it could start a formula, behind a single quote."""
    if not isinstance(value, str):
        return value
    text = writable_text(value)
    return "'" + text if looks_like_formula(text) else text
