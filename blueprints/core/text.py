"""Text as it enters the house: one cleaning rule for forms, the JSON API and imports.

Control characters pasted from other programs (a vertical tab, NUL, a lone surrogate from a
broken phone keyboard) cannot be stored by PostgreSQL, break Excel files and spoof names in print.
They are removed at the boundary, so that everything stored is text a person could have typed.
"""
from __future__ import annotations

import re
import unicodedata

# Bidirectional overrides and isolates: they reorder what a reader sees (a name shown backwards).
_BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ZERO_WIDTH_JOINER = "\u200d"
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def _unwanted(char: str, keep_newlines: bool) -> bool:
    if char == "\n":
        return not keep_newlines
    if char in _BIDI_CONTROLS:
        return True
    category = unicodedata.category(char)
    # Cc: control characters; Cs: lone surrogates; Cn: unassigned code points and non-characters;
    # Cf: invisible format characters (zero-width space, LRM/RLM, BOM, soft hyphen): "张三\u200b"
    # is not "张三" to the duplicate check. The zero-width joiner stays: emoji are built with it.
    if category == "Cf":
        return char != _ZERO_WIDTH_JOINER
    return category in ("Cc", "Cs") or (category == "Cn" and _is_noncharacter(char))


def _is_noncharacter(char: str) -> bool:
    code = ord(char)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


def clean_text(value: str | None, *, multiline: bool = False) -> str | None:
    """`value` without control characters. Tabs become spaces; line breaks become "\\n" in
    multi-line text (notes) and a space in one-line text (names). None stays None."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    value = _LINE_BREAKS.sub("\n", value).replace("\t", " ")
    if not multiline:
        value = value.replace("\n", " ")
    return "".join(c for c in value if not _unwanted(c, multiline))
