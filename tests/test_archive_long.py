"""A child's archive with thousands of visits (issue 8 §11): the last ARCHIVE_VISITS_FULL_MONTHS
print in full (for a child visited more often than ARCHIVE_VISITS_FULL_MOST times in them, the
months of its newest ones), the years before as one summary row each; the PDF stays small."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select, update

from bench.seed import seed_visit_history
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from blueprints.visits.sections import month_start
from extensions import db
from tests.factories import create_child, create_user, create_village
from tests.test_children_print import pdf_pages, pdf_text

# pdf_text normalises (NFKC): full-width punctuation comes back as ASCII.
FULL_LINE = r"(\d{4}-\d{2}-\d{2}) 入户走访 · 走访人[甲乙];安全隐患:无;心理:良好"


@pytest.mark.parametrize(("day", "months", "first"), [
    (date(2026, 11, 29), -24, date(2024, 11, 1)),
    (date(2026, 1, 1), -24, date(2024, 1, 1)),
    (date(2026, 12, 31), -24, date(2024, 12, 1)),
    (date(2026, 3, 15), -14, date(2025, 1, 1)),
    (date(2024, 12, 31), 1, date(2025, 1, 1)),
])
def test_month_start(day, months, first):
    assert month_start(day, months) == first


@pytest.fixture
def visitors(app):
    village = create_village("东洼村")
    create_user("civil_affairs", username="minzheng")
    return village, [create_user("director", username=f"zhuren_{n}", villages=[village], display_name=f"走访人{n}")
                     for n in "甲乙"]


def printed(client, child_id: int) -> tuple[str, int]:
    with client.get(f"/children/{child_id}/archive.pdf") as response:
        assert response.status_code == 200
        return pdf_text(response.data), pdf_pages(response.data)


def check_summary(text: str, dates: list[date], since: date) -> None:
    """Every year before `since` on one row: how many, the first and last, by whom, the needs."""
    per_year = Counter(d.year for d in dates if d < since)
    assert len(per_year) >= 9
    for year, count in per_year.items():
        in_year = sorted(d for d in dates if d.year == year and d < since)
        needs = r"\s*心理疏导 \d+、教育帮扶 \d+" if count > 20 else ""  # every 7th and 11th visit found one
        assert re.search(rf"{year}年 {count} 次 {in_year[0]} 至\s*{in_year[-1]}\s*走访人[甲乙]\(\d+\)、走访人[甲乙]\(\d+\)"
                         + needs, text), year
    assert "2020年" in text and not any(f"2020-06-{day:02d}" in text for day in range(2, 30))  # no line per old visit


def test_a_child_visited_weekly_prints_two_years_in_full_and_the_years_before_summed(app, visitors, client, auth):
    village, (first, second) = visitors
    child = create_child("龚鑫淼", village=village)
    seed_visit_history(child.id, [first.id, second.id], visits=500, years=10)  # about once a week
    dates = list(db.session.scalars(select(Visit.visited_on).where(Visit.child_id == child.id)))
    since = month_start(local_today(), -app.config["ARCHIVE_VISITS_FULL_MONTHS"])
    recent = sorted((d for d in dates if d >= since), reverse=True)
    assert 80 < len(recent) <= app.config["ARCHIVE_VISITS_FULL_MOST"]

    auth.login("minzheng")
    text, _ = printed(client, child.id)
    assert f"{since.year}年{since.month}月以前的走访按年汇总,完整记录可在系统中查看" in text
    assert re.findall(FULL_LINE, text) == [d.isoformat() for d in recent]  # every one, newest first
    check_summary(text, dates, since)


def test_an_archive_of_3000_visits_over_ten_years_stays_short(app, visitors, client, auth):
    village, (first, second) = visitors
    child = create_child("田甜", village=village)
    seed_visit_history(child.id, [first.id, second.id], visits=3000, years=10)
    dates = sorted(db.session.scalars(select(Visit.visited_on).where(Visit.child_id == child.id)), reverse=True)
    most = app.config["ARCHIVE_VISITS_FULL_MOST"]
    since = month_start(dates[most], 1)  # the months of the newest `most` visits, whole
    recent = [d for d in dates if d >= since]
    assert 0 < len(recent) <= most and since > month_start(local_today(), -24)

    auth.login("minzheng")
    text, pages = printed(client, child.id)
    assert f"{since.year}年{since.month}月以前的走访按年汇总,完整记录可在系统中查看" in text
    assert re.findall(FULL_LINE, text) == [d.isoformat() for d in recent]
    check_summary(text, dates, since)
    assert pages < 12


def test_a_child_visited_only_long_ago_gets_the_summary_alone(app, visitors, client, auth):
    village, (first, _) = visitors
    child = create_child("欧阳晓", village=village)
    seed_visit_history(child.id, [first.id], visits=10, years=10)
    db.session.execute(update(Visit).where(Visit.child_id == child.id, Visit.visited_on >= date(2023, 1, 1))
                       .values(visited_on=date(2019, 5, 5)))  # every visit before 2023
    db.session.commit()
    auth.login("minzheng")
    text, _ = printed(client, child.id)
    assert "以前的走访按年汇总" in text and "入户走访 ·" not in text
    assert re.search(r"2019年 \d+ 次 2019-\d\d-\d\d 至\s*2019-\d\d-\d\d\s*走访人甲\(\d+\)", text)
