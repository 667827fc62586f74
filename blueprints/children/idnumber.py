"""Resident ID numbers (居民身份证号, GB 11643): normalising what people paste, checking it with
python-stdnum, deriving birth date and gender. Masking is the disclosure policy's (core/disclosure.py)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u00a0\u3000'’`]+")


def normalize_id_number(raw: str | None) -> str:
    """Full-width digits and letters (from Excel or a Chinese keyboard), spaces anywhere, dashes
    and a leading apostrophe become the plain 18 characters; a lowercase x becomes X."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFKC", str(raw))
    return _SEPARATORS.sub("", text).upper()


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    gender: str  # "male" / "female": the 17th digit, odd for men

    @property
    def last4(self) -> str:
        return self.number[-4:]


class IdNumberError(ValueError):
    """Why an ID number is not valid, in words for the person who typed it."""


def parse_id_number(raw: str | None, today: date | None = None) -> IdNumber:
    number = normalize_id_number(raw)
    if not number:
        raise IdNumberError("请填写身份证号")
    try:
        ric.validate(number)
    except InvalidLength:
        raise IdNumberError(f"身份证号应为 18 位，现在是 {len(number)} 位") from None
    except InvalidFormat:
        raise IdNumberError("身份证号前 17 位只能是数字，最后一位是数字或 X") from None
    except InvalidChecksum:
        raise IdNumberError("身份证号校验位不对，请逐位核对（常见原因：抄错一位或把 X 写成其他字符）") from None
    except InvalidComponent:
        raise IdNumberError("身份证号中的出生日期或地区代码不存在，请核对第 1–6 位和第 7–14 位") from None
    birth = ric.get_birth_date(number)
    if birth > (today or date.today()):
        raise IdNumberError("身份证号中的出生日期在今天之后，请核对第 7–14 位")
    gender = "male" if int(number[16]) % 2 == 1 else "female"
    return IdNumber(number=number, birth_date=birth, gender=gender)
