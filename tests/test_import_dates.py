"""Dates in the survey workbook: every way people type them (and Excel stores them) is read by
validation.parse_date; a date that does not exist or cannot be read says how to fix it."""
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import Workbook

from blueprints.children.excel import TEMPLATE_HEADERS, Reach, read_survey
from blueprints.children.validation import DateError, parse_date
from tests.factories import create_village

MARCH_2 = date(2015, 3, 2)


def test_excel_date_cell():
    assert parse_date(datetime(2015, 3, 2, 0, 0)) == MARCH_2


def test_date_object():
    assert parse_date(MARCH_2) == MARCH_2


def test_iso_dashes():
    assert parse_date("2015-03-02") == MARCH_2


def test_dots_without_leading_zeros():
    assert parse_date("2015.3.2") == MARCH_2


def test_slashes_without_leading_zeros():
    assert parse_date("2015/3/2") == MARCH_2


def test_chinese_year_month_day():
    assert parse_date("2015年3月2日") == MARCH_2


def test_eight_digits_as_text():
    assert parse_date("20150302") == MARCH_2


def test_eight_digits_typed_into_a_number_cell():
    assert parse_date(20150302) == MARCH_2
    assert parse_date(20150302.0) == MARCH_2


def test_spaces_around_are_trimmed():
    assert parse_date("  2015-03-02 ") == MARCH_2


def test_blank_is_none():
    assert parse_date(None) is None
    assert parse_date("") is None
    assert parse_date("   ") is None


def test_a_day_that_does_not_exist():
    with pytest.raises(DateError) as error:
        parse_date("2015-02-30")
    assert str(error.value) == "日期“2015-02-30”不存在，请核对月和日"


def test_text_that_is_not_a_date():
    with pytest.raises(DateError) as error:
        parse_date("abc")
    assert str(error.value) == "日期“abc”看不懂，请写成 2015-03-02 的样子"


def _survey(births: list) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(TEMPLATE_HEADERS)
    for i, birth in enumerate(births):
        row = {"姓名*": f"孩子{i}", "性别": "女", "出生日期": birth, "居住村*": "前王庄村", "儿童类别*": "孤儿"}
        ws.append([row.get(h) for h in TEMPLATE_HEADERS])
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def test_every_format_through_a_real_workbook(app):
    """A date cell as Excel stores it (a serial number with a date format) and the typed forms."""
    create_village("前王庄村")
    data = _survey([datetime(2015, 3, 2), "2015-03-02", "2015.3.2", "2015/3/2", "2015年3月2日", "20150302",
                    20150302])
    result = read_survey(BytesIO(data), Reach.town())
    assert result.report.errors == []
    assert [row.values["birth_date"] for row in result.rows] == [MARCH_2] * 7


def test_bad_dates_through_a_real_workbook(app):
    create_village("前王庄村")
    result = read_survey(BytesIO(_survey(["2015-02-30", "abc"])), Reach.town())
    assert result.report.errors == [
        (2, "出生日期", "日期“2015-02-30”不存在，请核对月和日"),
        (3, "出生日期", "日期“abc”看不懂，请写成 2015-03-02 的样子"),
    ]
    assert result.rows == []
