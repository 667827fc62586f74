"""ID numbers: normalisation and validation (python-stdnum underneath), property-tested."""
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from blueprints.children.idnumber import IdNumberError, normalize_id_number, parse_id_number
from blueprints.core.disclosure import mask_id_number

# Region codes are checked against the years they were in use (371724 巨野县 since 2000; before,
# 372930 under 菏泽地区), so the generated births stay within years all of these were valid.
REGIONS = ["371724", "371702", "110101", "440305"]
births = st.dates(min_value=date(2001, 1, 1), max_value=date(2025, 12, 31))


def make(region: str, birth: date, seq: int) -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@given(st.sampled_from(REGIONS), births, st.integers(0, 999))
def test_every_well_formed_number_parses_with_its_birth_date_and_gender(region, birth, seq):
    number = make(region, birth, seq)
    parsed = parse_id_number(number, today=date(2026, 1, 1))
    assert parsed.number == number
    assert parsed.birth_date == birth
    assert parsed.gender == ("male" if seq % 2 else "female")
    assert parsed.last4 == number[-4:]


@given(st.sampled_from(REGIONS), births, st.integers(0, 999),
       st.lists(st.sampled_from([" ", "\u3000", "-", "\u00a0"]), max_size=4), st.booleans())
def test_pasted_forms_normalise_to_the_same_number(region, birth, seq, junk, full_width):
    number = make(region, birth, seq)
    messy = number.lower()
    if full_width:
        messy = messy.upper().translate(FULL_WIDTH)
    for i, piece in enumerate(junk):
        pos = (i * 5) % len(messy)
        messy = messy[:pos] + piece + messy[pos:]
    messy = f" {messy}\t"
    assert normalize_id_number(messy) == number
    assert parse_id_number(messy, today=date(2026, 1, 1)).number == number


@given(st.sampled_from(REGIONS), births, st.integers(0, 999), st.integers(0, 16), st.integers(1, 9))
def test_one_wrong_digit_is_always_caught(region, birth, seq, position, delta):
    number = make(region, birth, seq)
    digit = (int(number[position]) + delta) % 10
    wrong = number[:position] + str(digit) + number[position + 1:]
    with pytest.raises(IdNumberError):
        parse_id_number(wrong, today=date(2026, 1, 1))


def test_lowercase_x_check_digit():
    # find a number whose check digit is X
    for seq in range(1000):
        number = make("371724", date(2015, 3, 2), seq)
        if number.endswith("X"):
            break
    assert parse_id_number(number.lower(), today=date(2026, 1, 1)).number == number


@pytest.mark.parametrize("raw, message", [
    ("", "请填写身份证号"),
    ("37172420150302001", "应为 18 位，现在是 17 位"),
    ("3717242015030200A1", "前 17 位只能是数字"),
    (make("371724", date(2015, 3, 2), 1)[:-1] + ("0" if make("371724", date(2015, 3, 2), 1)[-1] != "0" else "1"),
     "校验位不对"),
])
def test_messages_say_what_to_fix(raw, message):
    with pytest.raises(IdNumberError, match=message):
        parse_id_number(raw, today=date(2026, 1, 1))


def test_birth_date_that_does_not_exist():
    body = "37172420150230001"  # 30 February
    number = body + ric.calc_check_digit(body + "0")
    with pytest.raises(IdNumberError, match="出生日期或地区代码不存在"):
        parse_id_number(number, today=date(2026, 1, 1))


def test_birth_in_the_future():
    tomorrow = date(2026, 1, 2)
    with pytest.raises(IdNumberError, match="在今天之后"):
        parse_id_number(make("371724", tomorrow, 1), today=tomorrow - timedelta(days=1))


def test_mask_shows_no_digit():
    """See tests/test_masking_candidates.py for why not a single one."""
    assert mask_id_number("371724201503020017") == "已登记·号码隐藏"
    assert mask_id_number(None) == ""


def test_region_codes_are_checked_for_their_years():
    """A 巨野 parent born in 1985 carries the old 372930 code; 371724 did not exist yet."""
    assert parse_id_number(make("372930", date(1985, 6, 1), 1), today=date(2026, 1, 1))
    with pytest.raises(IdNumberError, match="地区代码"):
        parse_id_number(make("371724", date(1985, 6, 1), 1), today=date(2026, 1, 1))
