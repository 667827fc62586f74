"""Masking that masks (issue 8, item 2). A role that may not see ID numbers (here a school) must
not be shown enough of one — in a page, the export, the archive PDF, JSON or the history — to
narrow it to fewer than 1,000 numbers; the same for a family member's ID number and for the
残疾证号 (the holder's ID number and two digits). Nor may a search by ID number confirm one.

The count is the attacker's: everything the school sees of a child is gathered from every output,
each digit shown is placed where it belongs in the number, what the outputs give of the birth date
(the day, in any form the app prints, or a birthday reckoned from it; else the year and month) is
read, and the numbers consistent with it all — the region, taken as known (a school knows its
township, and so the county), a birth date the school cannot tell apart, a sequence of the right
parity for the sex, the check digit — are counted. The same counter shows that the old mask (first
4 and last 4 digits, beside the birth date) gave the number back, and that the full birth date
alone, with the region known, leaves 500: why the day of birth is masked too; and why the age (and
the age suggestions) a school sees must not change on the birthday, which it could watch for."""
from __future__ import annotations

import html
import json
import re
import unicodedata
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from stdnum.cn import ric

from blueprints.children.idnumber import IdNumberError, parse_id_number
from blueprints.auth.models import User
from blueprints.children.services import FamilyInput, save_family_member, update_child
from blueprints.core.audit import AuditEvent
from blueprints.core import clock
from blueprints.core.clock import LOCAL_TZ, local_today
from blueprints.core.disclosure import (
    POLICY, Disclosure, full_disclosure, mask_id_number, reckoned_birth_date, shown_age)
from blueprints.core.vocabulary import CHILD_AGE, LEFT_BEHIND_AGE
from blueprints.visits.services import due_list
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village, valid_id_number

THRESHOLD = 1000
TODAY = date(2026, 6, 1)


# ---- the counter ---------------------------------------------------------------------------

@lru_cache(maxsize=1)
def region_codes() -> tuple[str, ...]:
    """Every region code there has been (python-stdnum's table, which idnumber.py checks against)."""
    codes, province = [], None
    for line in (files("stdnum.cn") / "loc.dat").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(" "):
            codes.append(province + line.split()[0])
        else:
            province = line.split()[0]
    return tuple(codes)


def _fits(value: str, pattern: list[str | None]) -> bool:
    return all(p is None or p == v for v, p in zip(value, pattern))


def _known(patterns: list[str]) -> list[str | None]:
    """What the patterns show, position by position ('*' where nothing is shown)."""
    known: list[str | None] = [None] * 18
    for pattern in patterns:
        for i, ch in enumerate(pattern[:18]):
            if ch != "*":
                assert known[i] in (None, ch), f"patterns disagree at digit {i + 1}"
                known[i] = ch
    return known


Birth = date | tuple[int, int] | None  # what is known of a birth date: the day, (year, month), nothing


def _days(birth: Birth) -> list[date]:
    """The birth dates a reader who knows `birth` cannot tell apart."""
    if isinstance(birth, date):
        return [birth]
    if birth is None:
        first, last = date(1920, 1, 1), TODAY  # any date a living person may have
    else:
        first = date(*birth, 1)
        last = (first + timedelta(days=31)).replace(day=1) - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def count_candidates(patterns: list[str], birth: Birth, gender: str | None, region: str | None = None,
                     stop_at: int | None = None) -> int:
    """How many valid ID numbers agree with what was shown: `patterns` are what was seen of the
    number, each digit in its place ('*' elsewhere; a mask with no digit tells nothing), `birth`
    what was shown of the birth date (see Birth), `gender` the sex shown (None: either), `region`
    the region code the reader knows anyway (None: any). Counting stops once `stop_at` is reached."""
    known = _known([p for p in patterns if len(p) >= 18])
    regions = [r for r in region_codes() if _fits(r, known[:6]) and region in (None, r)]
    days = [d for d in _days(birth) if _fits(f"{d:%Y%m%d}", known[6:14])]
    odd = {"male": 1, "female": 0}.get(gender or "")
    sequences = [f"{s:03d}" for s in range(1000)
                 if _fits(f"{s:03d}", known[14:17]) and (odd is None or s % 2 == odd)]
    count = 0
    for region in regions:
        for day in days:
            body = f"{region}{day:%Y%m%d}"
            try:  # the region code existed when a number with this birth date was given
                parse_id_number(body + "000" + ric.calc_check_digit(body + "0000"), today=TODAY)
            except IdNumberError:
                continue
            if known[17] is None:
                count += len(sequences)
            else:
                count += sum(ric.calc_check_digit(body + s + "0") == known[17] for s in sequences)
            if stop_at is not None and count >= stop_at:
                return count
    return count


def old_mask(number: str) -> str:
    """The mask before issue 8: the first and last four characters."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


# ---- what the school sees ------------------------------------------------------------------

_TOKEN = re.compile(r"[0-9X*]{4,}")
_ATTRIBUTE = re.compile(r'\s(?:value|title|aria-label|placeholder|alt|data-[\w-]+)="([^"]*)"')


def visible_text(response) -> str:
    """What a person (or a script) reads in a response: text, cell values, JSON values, and the
    attributes that show or carry values (not the markup, the CSRF token or asset names)."""
    kind = response.headers.get("Content-Type", "")
    if "pdf" in kind:
        return "\n".join(page.extract_text() for page in PdfReader(BytesIO(response.data)).pages)
    if "spreadsheet" in kind:
        book = load_workbook(BytesIO(response.data), read_only=True)
        return "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row
                         if v is not None)
    if "json" in kind:
        return json.dumps(response.get_json(), ensure_ascii=False)
    page = re.sub(r'<input[^>]*name="csrf_token"[^>]*>', " ", response.get_data(as_text=True))
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(_ATTRIBUTE.findall(page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


def shown_of(texts: list[str], number: str) -> list[str]:
    """Every run of digits (and X and *) in the texts that agrees with `number` somewhere, placed
    there: a pattern of the number's length with the shown characters and '*' elsewhere. Where the
    run would fit in more than one place, each place counts (the reader is given the benefit)."""
    patterns = []
    for text in texts:
        for token in _TOKEN.findall(unicodedata.normalize("NFKC", text).upper().replace("＊", "*")):
            if sum(ch != "*" for ch in token) < 2:
                continue
            for start in range(len(number) - len(token) + 1):
                if all(t == "*" or t == number[start + i] for i, t in enumerate(token)):
                    pattern = ["*"] * len(number)
                    pattern[start:start + len(token)] = token
                    patterns.append("".join(pattern))
    return patterns


def birth_seen(texts: list[str], birth: date) -> Birth:
    """What the texts give of `birth`: the date itself if its day shows anywhere — in any form the
    app prints (2014-05-06, in a datetime cell too) or a person would write (2014年5月6日, 2014/5/6,
    2014.05.06, 20140506), or as the day the child turns 16 or 18 — else its year and month if
    they show, else nothing."""
    text = "|".join("".join(unicodedata.normalize("NFKC", t).split()) for t in texts)
    years = "|".join(str(birth.year + n) for n in (0, LEFT_BEHIND_AGE, CHILD_AGE))
    m, d = birth.month, birth.day
    if re.search(rf"(?<!\d)(?:{years})(?:-0?{m}-0?{d}|/0?{m}/0?{d}|\.0?{m}\.0?{d}|年0?{m}月0?{d}日|{m:02d}{d:02d})",
                 text):  # no end is required: what follows the day (a time, a PDF's next line) is no matter
        return birth
    if re.search(rf"(?<!\d){birth.year}(?:(?:-0?{m}|/0?{m}|\.0?{m}|{m:02d})(?!\d)|年0?{m}月)", text):
        return birth.year, birth.month
    return None


BIRTH_A, BIRTH_B = date(2014, 5, 6), date(2016, 9, 30)
CHILD_A = valid_id_number(BIRTH_A, 41, region="371724", gender="female")
CERTIFICATE_A = CHILD_A + "42"
CHILD_B = valid_id_number(BIRTH_B, 63, region="371724", gender="male")
# Child C turns 16 in a month: the record suggests an age review, naming the day. Registered first
# with a wrong day of birth, then corrected: the history holds both dates.
SIXTEEN_C = local_today() + timedelta(days=30)
BIRTH_C = SIXTEEN_C.replace(year=SIXTEEN_C.year - LEFT_BEHIND_AGE)
WRONG_BIRTH_C = BIRTH_C.replace(day=2 if BIRTH_C.day == 1 else 1)
CHILD_C = valid_id_number(BIRTH_C, 75, region="371724", gender="male")
FATHER_OLD = valid_id_number(date(1988, 1, 2), 42, region="372930")
FATHER = valid_id_number(date(1988, 1, 2), 48, region="372930")
MOTHER = valid_id_number(date(1990, 11, 23), 55, region="371724", gender="female")
GRANDMOTHER = valid_id_number(date(1958, 3, 17), 21, region="372930", gender="female")

# person → (number, birth date on record (None: none is, but the number's), sex the school sees)
PEOPLE = {
    "child A": (CHILD_A, BIRTH_A, "female"),
    "child A's 残疾证号": (CERTIFICATE_A, BIRTH_A, "female"),
    "child B": (CHILD_B, BIRTH_B, "male"),
    "child C": (CHILD_C, BIRTH_C, "male"),
    "father (old number, in the history)": (FATHER_OLD, None, "male"),
    "father": (FATHER, None, "male"),
    "mother": (MOTHER, None, "female"),
    "grandmother": (GRANDMOTHER, None, "female"),
}


@pytest.fixture
def scene(app):
    village = create_village("前王庄村")
    school = create_school("中心小学", villages=[village])
    civil = create_user("civil_affairs", username="minzheng")
    create_user("school", username="xuexiao", school=school)
    create_user("director", username="zhuren", villages=[village])
    a = create_child(
        "龚小雨", village=village, hukou_village_id=village.id, school=school, birth=BIRTH_A, gender="female",
        id_number=CHILD_A, categories=["left_behind", "disability"], disability_kind="肢体", disability_grade="三级",
        family=[FamilyInput(relation="父亲", name="龚大山", id_number=FATHER_OLD, phone="13912345678",
                            works_away=True, is_guardian=True),
                FamilyInput(relation="母亲", name="李秀梅", id_number=MOTHER, works_away=True)])
    # The history: the certificate added, the father's number corrected
    update_child(a, {"disability_certificate": CERTIFICATE_A}, actor=civil)
    save_family_member(a, FamilyInput(relation="父亲", name="龚大山", id_number=FATHER, phone="13912345678",
                                      works_away=True, is_guardian=True), a.family[0], actor=civil)
    b = create_child("王子豪", village=village, school=school, birth=BIRTH_B, gender="male", id_number=None,
                     family=[FamilyInput(relation="祖母", name="王桂英", id_number=GRANDMOTHER, is_guardian=True)])
    update_child(b, {"id_number": CHILD_B}, actor=civil)  # the history: the child's number added
    c = create_child("孙浩然", village=village, school=school, birth=WRONG_BIRTH_C, gender="male", id_number=None)
    update_child(c, {"birth_date": BIRTH_C, "id_number": CHILD_C}, actor=civil)  # the history: the day corrected
    db.session.commit()
    return {"a": a, "b": b, "c": c, "village": village, "school": school}


def school_outputs(scene) -> dict[str, str]:
    a, b, c = scene["a"], scene["b"], scene["c"]
    return {
        "list": "/children", "list by name": "/children?q=龚", "list by initials": "/children?q=wzh",
        "record A": f"/children/{a.id}", "record B": f"/children/{b.id}", "record C": f"/children/{c.id}",
        "export": "/children/export.xlsx",
        "archive A": f"/children/{a.id}/archive.pdf", "archive B": f"/children/{b.id}/archive.pdf",
        "archive C": f"/children/{c.id}/archive.pdf",
        "due-list JSON": "/api/v1/due-list", "due page": "/visits/due",
        "home": "/", "school page": f"/schools/{scene['school'].id}",
        "village page": f"/villages/{scene['village'].id}",
    }


def test_what_a_school_sees_leaves_at_least_1000_numbers_for_everyone(scene, client, auth):
    auth.login("xuexiao")
    texts, seen = [], []
    for name, path in school_outputs(scene).items():
        response = client.get(path)
        assert response.status_code in (200, 403, 404), (name, response.status_code)
        if response.status_code == 200:
            texts.append(visible_text(response))
            seen.append(name)
    # The outputs that show these children to a school were read (the JSON is not the school's)
    assert {"list", "record A", "record B", "record C", "export", "archive A", "archive B", "archive C"} <= set(seen)
    everything = "\n".join(texts)
    assert "龚小雨" in everything and "王子豪" in everything and "李秀梅" in everything
    assert "身份证号" in everything and "残疾证号" in everything and "父亲龚大山·身份证号" in everything
    assert "出生日期" in everything and "年龄复核" in everything and "年满16周岁" in everything

    counts = {}
    for person, (number, birth, gender) in PEOPLE.items():
        shown = shown_of(texts, number)
        if person == "child A":  # the certificate begins with the child's number
            shown += [p[:18] for p in shown_of(texts, CERTIFICATE_A)]
        if person == "child A's 残疾证号":
            shown += shown_of(texts, CHILD_A)
        assert all(number not in text for text in texts), person
        known_birth = birth_seen(texts, birth) if birth else None
        if birth:  # the year and month show, the day nowhere
            assert known_birth == (birth.year, birth.month), person
        counts[person] = count_candidates(shown, known_birth, gender, region=number[:6], stop_at=THRESHOLD)
    assert all(count >= THRESHOLD for count in counts.values()), counts


def test_the_counter_finds_the_old_mask_gave_the_number_back():
    """The same counter, given what the old mask showed beside the birth date: (almost) one number."""
    assert count_candidates([old_mask(CHILD_A)], BIRTH_A, "female") < THRESHOLD
    assert count_candidates([old_mask(CHILD_B)], BIRTH_B, "male") < THRESHOLD
    # the certificate's old mask showed the child's first four and the two extra digits; with the
    # child's own masked number beside it, the certificate was given back too
    assert count_candidates([old_mask(CERTIFICATE_A)[:18], old_mask(CHILD_A)], BIRTH_A, "female") < THRESHOLD
    # and what looked harmless: the list's 尾号 alone, or the region alone
    assert count_candidates(["*" * 14 + CHILD_A[-4:]], BIRTH_A, "female") < THRESHOLD
    assert count_candidates([CHILD_A[:6] + "*" * 12], BIRTH_A, "female") == 500


def test_the_full_birth_date_with_the_region_known_leaves_500():
    """Why the day of birth is masked: to a reader who knows the township, the full birth date and
    the sex leave only the sequence of the right parity; the month leaves every day of it."""
    assert count_candidates([], BIRTH_A, "female", region=CHILD_A[:6]) == 500 < THRESHOLD
    assert count_candidates([], BIRTH_B, "male", region=CHILD_B[:6]) == 500
    assert count_candidates([], (2014, 5), "female", region=CHILD_A[:6]) == 31 * 500
    assert count_candidates([], (2016, 9), "male", region=CHILD_B[:6]) == 30 * 500
    assert count_candidates([], (2016, 2), "male", region=CHILD_B[:6]) == 29 * 500
    # and the month does not make a digit safe to show: the old 尾号, or the old mask, beside it
    assert count_candidates(["*" * 14 + CHILD_A[-4:]], (2014, 5), "female", region=CHILD_A[:6]) < 10
    assert count_candidates([old_mask(CHILD_A)], (2014, 5), "female", region=CHILD_A[:6]) < 10


def test_birth_seen_reads_the_day_in_any_form():
    """Checks of the reader: each form of the day gives the date; the month form gives the month."""
    for form in ("2014-05-06", "2014-05-06 00:00:00", "2014年5月6日", "2014年05月06日", "2014/5/6",
                 "2014.05.06", "20140506", "2030-05-06 年满16周岁", "2032年5月6日"):
        assert birth_seen([f"出生日期 {form}"], BIRTH_A) == BIRTH_A, form
    assert birth_seen(["出生日期 2014年5月", "2030年5月 年满16周岁"], BIRTH_A) == (2014, 5)
    assert birth_seen(["2014-05"], BIRTH_A) == (2014, 5)
    assert birth_seen(["2015年5月6日", "12014-05-06", "2014-15-06"], BIRTH_A) is None


def test_a_school_sees_the_month_where_a_director_sees_the_day(scene, client, auth):
    """The record of the child near 16: the age review and the history name the day for those who
    may see ID numbers, the month for a school."""
    c = scene["c"]
    month, wrong = f"{BIRTH_C.year}年{BIRTH_C.month}月", f"{WRONG_BIRTH_C:%Y-%m-%d}"
    auth.login("xuexiao")
    page = visible_text(client.get(f"/children/{c.id}"))
    assert f"{SIXTEEN_C.year}年{SIXTEEN_C.month}月 年满16周岁" in page
    assert f"出生日期 {month}" in " ".join(page.split())
    assert f"出生日期：{month} → {month}" in " ".join(page.split())
    assert f"{BIRTH_C:%Y-%m-%d}" not in page and wrong not in page and f"{SIXTEEN_C:%Y-%m-%d}" not in page
    pdf = visible_text(client.get(f"/children/{c.id}/archive.pdf"))
    assert month in pdf and f"{BIRTH_C:%Y-%m-%d}" not in pdf and wrong not in pdf
    auth.logout()
    auth.login("zhuren")
    page = " ".join(visible_text(client.get(f"/children/{c.id}")).split())
    assert f"{SIXTEEN_C:%Y-%m-%d} 年满16周岁" in page
    assert f"出生日期 {BIRTH_C:%Y-%m-%d}" in page and f"出生日期：{wrong} → {BIRTH_C:%Y-%m-%d}" in page
    pdf = visible_text(client.get(f"/children/{c.id}/archive.pdf"))
    assert f"{BIRTH_C:%Y-%m-%d}" in pdf and wrong in pdf


def test_the_new_mask_leaves_the_counter_nothing():
    assert mask_id_number(CHILD_A) == mask_id_number(CERTIFICATE_A) == "已登记·号码隐藏"
    assert shown_of([mask_id_number(CHILD_A)], CHILD_A) == []
    assert count_candidates([], BIRTH_A, "female") >= 1_000_000


def test_the_counter_counts_what_it_should():
    """Checks of the counter itself: one number shown in full is one candidate; the check digit
    cuts the sequences to about a tenth."""
    assert count_candidates([CHILD_A], BIRTH_A, "female") == 1
    known17 = CHILD_A[:17] + "*"
    assert count_candidates([known17], BIRTH_A, "female") == 1
    just_region_and_check = CHILD_A[:6] + "*" * 11 + CHILD_A[-1]
    assert 30 <= count_candidates([just_region_and_check], BIRTH_A, "female") <= 60


ID_QUERIES = {
    "full": CHILD_A, "full, spaced": f"{CHILD_A[:6]} {CHILD_A[6:14]} {CHILD_A[14:]}", "tail": CHILD_A[-4:],
    "piece": CHILD_A[10:16], "certificate": CERTIFICATE_A,
}


@pytest.mark.parametrize("query", list(ID_QUERIES))
def test_a_school_cannot_confirm_an_id_number_by_searching(scene, client, auth, query):
    auth.login("xuexiao")
    q = ID_QUERIES[query]
    for path in ("/children", "/children/print"):  # the list, and the count a batch print would print
        page = client.get(path, query_string={"q": q}).get_data(as_text=True)
        assert "龚小雨" not in page and "共 <strong>0</strong> 名儿童" in page, (query, path)
    page = client.get("/children", query_string={"q": q}).get_data(as_text=True)
    if query != "certificate":  # 20 characters: not an ID number, searched as a name
        assert "按身份证号查找需要查看身份证号的权限" in page
    export = client.get("/children/export.xlsx", query_string={"q": q})
    assert "龚小雨" not in visible_text(export)
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "id_search")).all() == []
    # the same name search still works
    assert "龚小雨" in client.get("/children", query_string={"q": "gxy"}).get_data(as_text=True)


def test_an_id_search_by_those_who_may_is_audited_without_the_number(scene, client, auth):
    auth.login("zhuren")
    full = client.get("/children", query_string={"q": CHILD_A}).get_data(as_text=True)
    assert "龚小雨" in full and "共 <strong>1</strong> 名儿童" in full
    tail = client.get("/children", query_string={"q": CHILD_B[-4:]}).get_data(as_text=True)
    assert "王子豪" in tail and f"尾号 {CHILD_B[-4:]}" in tail
    export = client.get("/children/export.xlsx", query_string={"q": CHILD_A})
    assert CHILD_A in visible_text(export)
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "id_search")
                                .order_by(AuditEvent.id)).all()
    assert [e.detail for e in events] == ["按完整身份证号查找", "按身份证号片段（4 位）查找", "按完整身份证号查找"]
    assert all(e.username == "zhuren" for e in events)
    exported = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "children_exported"))
    everything = " ".join(e.detail for e in [*events, exported])
    assert CHILD_A not in everything and CHILD_B[-4:] not in everything
    assert "完整身份证号" in exported.detail


def test_the_list_shows_the_tail_only_to_those_who_may_see_id_numbers(scene, client, auth):
    auth.login("xuexiao")
    page = client.get("/children").get_data(as_text=True)
    assert "王子豪" in page and "尾号" not in page and CHILD_B[-4:] not in page
    assert "身份证后4位" not in page  # the search box does not offer it either
    auth.logout()
    auth.login("zhuren")
    page = client.get("/children").get_data(as_text=True)
    assert f"尾号 {CHILD_B[-4:]}" in page and "身份证后4位" in page


# ---- the age ---------------------------------------------------------------------------------
# Reckoned from the day of birth, the age would change on the birthday: a school that looks every
# day of the birth month it sees would learn the day, and be left with 500 numbers. For those who
# see the birth date to the month it is reckoned from the month's last day, the same for every
# child born in the month.

def on_day(monkeypatch, day: date) -> None:
    """Make `day` today for the app (at noon in the town)."""
    monkeypatch.setattr(clock, "local_now", lambda: datetime(day.year, day.month, day.day, 12, tzinfo=LOCAL_TZ))


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def test_the_age_is_reckoned_from_the_month_for_those_who_see_the_month():
    for disclosure in (Disclosure(dict(POLICY["school"])), Disclosure(dict(POLICY["own"])), Disclosure()):
        assert reckoned_birth_date(date(2013, 10, 15), disclosure) == date(2013, 10, 31)
        assert reckoned_birth_date(date(2013, 12, 1), disclosure) == date(2013, 12, 31)
        assert reckoned_birth_date(date(2012, 2, 3), disclosure) == date(2012, 2, 29)
        assert reckoned_birth_date(date(2013, 2, 3), disclosure) == date(2013, 2, 28)
        assert shown_age(date(2013, 10, 15), date(2026, 10, 30), disclosure) == 12
        assert shown_age(date(2013, 10, 15), date(2026, 10, 31), disclosure) == 13
        assert shown_age(date(2012, 2, 3), date(2026, 2, 28), disclosure) == 13  # born "29 February": 28th
        assert shown_age(date(2012, 2, 3), date(2028, 2, 28), disclosure) == 15
        assert shown_age(date(2012, 2, 3), date(2028, 2, 29), disclosure) == 16
    everything = full_disclosure()
    assert reckoned_birth_date(date(2013, 10, 15), everything) == date(2013, 10, 15)
    assert shown_age(date(2013, 10, 15), date(2026, 10, 14), everything) == 12
    assert shown_age(date(2013, 10, 15), date(2026, 10, 15), everything) == 13


BIRTH_D, BIRTH_E = date(2013, 10, 15), date(2013, 10, 3)  # born in the same month, D mid-month
BIRTH_MONTH = _days_between(date(2026, 10, 1), date(2026, 10, 31))


def _ages(text: str, name: str) -> list[int]:
    """The ages shown beside `name` (the list, the record's heading) or under 年龄 (the archive)."""
    text = " ".join(text.split())
    return [int(a) for a in re.findall(rf"{name} (?:女|男) · (\d+)岁", text) + re.findall(r"年龄 (\d+) 岁", text)]


def test_a_school_sees_the_same_age_on_every_day_of_the_birth_month(scene, client, auth, monkeypatch):
    d = create_child("欧阳晓月", village=scene["village"], school=scene["school"], birth=BIRTH_D, gender="female")
    create_child("欧阳晓星", village=scene["village"], school=scene["school"], birth=BIRTH_E, gender="female")
    db.session.commit()
    auth.login("xuexiao")
    seen, exports = {}, set()
    for day in [date(2026, 9, 30), *BIRTH_MONTH, date(2026, 11, 1)]:
        on_day(monkeypatch, day)
        listed = visible_text(client.get("/children", query_string={"q": "欧阳"}))
        record = visible_text(client.get(f"/children/{d.id}"))
        archive = visible_text(client.get(f"/children/{d.id}/archive.pdf"))
        export = visible_text(client.get("/children/export.xlsx", query_string={"q": "欧阳"}))
        assert "欧阳晓月" in export and "2013年10月" in export  # the export shows no age: the birth month
        seen[day] = (_ages(listed, "欧阳晓月"), _ages(listed, "欧阳晓星"), _ages(record, "欧阳晓月"),
                     _ages(archive, "欧阳晓月"))
        if day.month == 10:
            exports.add(export)
    # the list (both children), the record and the archive: 12 until the month's last day, the same
    # for the child born on the 3rd and the one born on the 15th, then 13
    assert all(seen[day] == ([12], [12], [12], [12]) for day in _days_between(date(2026, 9, 30), date(2026, 10, 30))), seen
    assert seen[date(2026, 10, 31)] == seen[date(2026, 11, 1)] == ([13], [13], [13], [13])
    assert len(exports) == 1  # and the export is the same file's text every day of the month

    auth.logout()
    auth.login("zhuren")  # who may see the day sees the age change on the birthday
    for day, age in [(date(2026, 10, 14), 12), (date(2026, 10, 15), 13)]:
        on_day(monkeypatch, day)
        listed = visible_text(client.get("/children", query_string={"q": "欧阳"}))
        assert _ages(listed, "欧阳晓月") == _ages(visible_text(client.get(f"/children/{d.id}")), "欧阳晓月") \
            == _ages(visible_text(client.get(f"/children/{d.id}/archive.pdf")), "欧阳晓月") == [age]
        assert _ages(listed, "欧阳晓星") == [13]


def test_the_age_suggestions_come_and_go_on_a_day_the_birth_day_does_not_set(scene, client, auth, monkeypatch):
    """The record's suggestions: 年龄复核 comes 90 days before the 16th birthday, 留守认定 goes on it.
    To a school both are reckoned as the age it sees: the same day for children born in one month."""
    away = [FamilyInput(relation="父亲", name="欧阳山", works_away=True, is_guardian=True),
            FamilyInput(relation="母亲", name="林芳", works_away=True)]
    kw = {"village": scene["village"], "school": scene["school"], "gender": "male"}
    review = {born: create_child(f"欧阳{name}", birth=born, categories=["left_behind"], **kw)
              for name, born in (("子轩", date(2010, 10, 15)), ("子涵", date(2010, 10, 3)))}
    suggest = {born: create_child(f"司马{name}", birth=born, categories=["poverty"], family=away, **kw)
               for name, born in (("子轩", date(2010, 10, 15)), ("子涵", date(2010, 10, 3)))}
    db.session.commit()

    def shown(children: dict, rule: str, days: list[date]) -> dict[date, set[date]]:
        """For each day, the birth dates of the children whose record shows the rule."""
        found = {}
        for day in days:
            on_day(monkeypatch, day)
            found[day] = {born for born, child in children.items()
                          if f"{rule} " in visible_text(client.get(f"/children/{child.id}"))}
        return found

    both = set(review)
    july_august = _days_between(date(2026, 7, 1), date(2026, 8, 5))
    auth.login("xuexiao")
    # 2026-10-31 less 90 days: 2 August, for both
    assert shown(review, "年龄复核", july_august) == {
        day: both if day >= date(2026, 8, 2) else set() for day in july_august}
    # the month's last day, for both
    assert shown(suggest, "留守认定", BIRTH_MONTH) == {
        day: set() if day == date(2026, 10, 31) else both for day in BIRTH_MONTH}
    auth.logout()
    auth.login("zhuren")  # who may see the day: 5 and 17 July; the 3rd and the 15th
    assert shown(review, "年龄复核", july_august) == {
        day: {b for b in review if day >= b.replace(year=2026) - timedelta(days=90)} for day in july_august}
    assert shown(suggest, "留守认定", BIRTH_MONTH) == {
        day: {b for b in suggest if day < b.replace(year=2026)} for day in BIRTH_MONTH}


def test_the_due_list_reckons_the_age_as_its_user_may_see_it(scene):
    """No role without children:read_ids records visits today; were one to, its due list (and the
    phone's copy of it) would show the age to the month as well."""
    d = create_child("欧阳晓月", village=scene["village"], school=scene["school"], birth=BIRTH_D, gender="female")
    db.session.commit()
    school = db.session.scalar(select(User).where(User.username == "xuexiao"))
    director = db.session.scalar(select(User).where(User.username == "zhuren"))
    birthday = date(2026, 10, 15)

    def age(user) -> int:
        return next(r.age for r in due_list(user, birthday)[0] if r.child_id == d.id)
    assert (age(school), age(director)) == (12, 13)
