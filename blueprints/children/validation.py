"""Checks shared by the registration form and the Excel import, so both say the same thing."""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from blueprints.children.idnumber import IdNumber, IdNumberError, parse_id_number
from blueprints.core.inputs import FIRST_YEAR, LAST_YEAR, in_calendar
from blueprints.core.vocabulary import GENDERS

_DATE_PATTERNS = [
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
]


class DateError(ValueError):
    pass


def class_text(value: str | None) -> str | None:
    """A pupil's class as one spelling: ２班 (a phone's input method in full-width mode), 2 班 and 2班
    are one class, which a class teacher's card and lists find by equality (schools/classes.py)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or ""))
    return text or None


def parse_date(value) -> date | None:
    """A date as people type it or Excel stores it: a date cell, 2015-03-02, 2015.3.2, 2015/3/2,
    2015年3月2日 or 20150302. Empty gives None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return _in_calendar(value, f"{value:%Y-%m-%d}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 20150302 typed into a number cell
    text = str(value).strip()
    if not text:
        return None
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            year, month, day = (int(part) for part in match.groups())
            try:
                parsed = date(year, month, day)
            except ValueError:
                raise DateError(f"日期“{text}”不存在，请核对月和日") from None
            return _in_calendar(parsed, text)
    raise DateError(f"日期“{text}”看不懂，请写成 2015-03-02 的样子")


def _in_calendar(value: date, text: str) -> date:
    """Only the years the house deals in: 0001-01-01 and 9999-12-31 are typing slips (and break
    date arithmetic)."""
    if not in_calendar(value):
        raise DateError(f"日期“{text}”的年份不对，应在 {FIRST_YEAR} 到 {LAST_YEAR} 年之间")
    return value


def check_identity(id_raw: str | None, gender: str | None, birth_date: date | None,
                   today: date | None = None) -> tuple[IdNumber | None, dict[str, str]]:
    """The ID number, and that the typed birth date and gender agree with it. Without an ID
    number, birth date and gender must be given. Returns the parsed number and errors by field."""
    errors: dict[str, str] = {}
    parsed = None
    if id_raw and str(id_raw).strip():
        try:
            parsed = parse_id_number(id_raw, today=today)
        except IdNumberError as error:
            errors["id_number"] = str(error)
    if parsed is not None:
        if birth_date is not None and birth_date != parsed.birth_date:
            errors["birth_date"] = (f"出生日期与身份证号不一致：身份证号中的出生日期是 "
                                    f"{parsed.birth_date:%Y-%m-%d}，请核对")
        if gender and gender != parsed.gender:
            errors["gender"] = f"性别与身份证号不一致：按身份证号第 17 位应为{GENDERS[parsed.gender]}，请核对"
    elif "id_number" not in errors:
        if birth_date is None:
            errors["birth_date"] = "没有身份证号时请填写出生日期"
        if not gender:
            errors["gender"] = "没有身份证号时请选择性别"
    if birth_date is not None and birth_date > (today or date.today()):
        errors["birth_date"] = "出生日期不能晚于今天"
    elif birth_date is not None and birth_date.year < FIRST_YEAR:
        errors["birth_date"] = f"出生日期太早了，应在 {FIRST_YEAR} 年以后，请核对年份"
    return parsed, errors
