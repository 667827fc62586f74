"""A child's archive with thousands of visits (issue 8 §11): the last ARCHIVE_VISITS_FULL_MONTHS
print in full, the years before as one summary line each, and the PDF stays a bounded size."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date

import pytest
from sqlalchemy import select, update

from bench.seed import seed_visit_history
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from blueprints.visits.sections import full_since
from extensions import db
from tests.factories import create_child, create_user, create_village
from tests.test_children_print import pdf_pages, pdf_text


@pytest.mark.parametrize(("today", "months", "since"), [
    (date(2026, 11, 29), 24, date(2024, 11, 1)),
    (date(2026, 1, 1), 24, date(2024, 1, 1)),
    (date(2026, 12, 31), 24, date(2024, 12, 1)),
    (date(2026, 3, 15), 14, date(2025, 1, 1)),
])
def test_full_visits_start_on_the_first_of_a_month(today, months, since):
    assert full_since(today, months) == since


def test_an_archive_of_3000_visits_over_ten_years_prints_recent_ones_in_full_and_older_years_summed(
        app, client, auth):
    village = create_village("东洼村")
    first = create_user("director", username="zhuren_a", villages=[village], display_name="走访人甲")
    second = create_user("director", username="zhuren_b", villages=[village], display_name="走访人乙")
    child = create_child("龚鑫淼", village=village)
    seed_visit_history(child.id, [first.id, second.id], visits=3000, years=10)
    create_user("civil_affairs", username="minzheng")

    since = full_since(local_today(), app.config["ARCHIVE_VISITS_FULL_MONTHS"])
    dates = list(db.session.scalars(select(Visit.visited_on).where(Visit.child_id == child.id)))
    recent = sorted((d for d in dates if d >= since), reverse=True)
    per_year = Counter(d.year for d in dates if d < since)
    assert len(dates) == 3000 and len(per_year) >= 9 and 500 < len(recent) < 700

    auth.login("minzheng")
    with client.get(f"/children/{child.id}/archive.pdf") as response:
        assert response.status_code == 200
        data = response.data
    text = pdf_text(data)

    # pdf_text normalises (NFKC): full-width punctuation comes back as ASCII.
    assert f"{since.year}年{since.month}月以前的走访按年汇总,完整记录可在系统中查看" in text
    # Every recent visit, newest first, in full.
    printed = re.findall(r"(\d{4}-\d{2}-\d{2}) 入户走访 · 走访人[甲乙];安全隐患:无;心理:良好", text)
    assert printed == [d.isoformat() for d in recent]
    # Every older year on one line: how many, first and last, by whom, the needs found.
    for year, count in per_year.items():
        in_year = sorted(d for d in dates if d.year == year and d < since)
        assert re.search(rf"{year}年 {count} 次 {in_year[0].isoformat()} 至\s*{in_year[-1].isoformat()}", text), year
    halves = {per_year[2020] // 2, per_year[2020] - per_year[2020] // 2}
    assert re.search(rf"2020年 {per_year[2020]} 次 .{{0,40}}走访人[甲乙]\(({'|'.join(map(str, halves))})\)、走访人[甲乙]\(\d+\)",
                     text, re.S)
    assert re.search(r"走访人[甲乙]\(\d+\)\s*心理疏导 \d+、教育帮扶 \d+", text)
    # Older visits are not printed one by one.
    older_middle = [d for d in dates if d.year == 2020 and d.month == 6]
    assert older_middle and not any(d.isoformat() in text for d in older_middle)
    assert pdf_pages(data) < 30


def test_a_child_visited_only_long_ago_gets_the_summary_alone(app, client, auth):
    village = create_village("西洼村")
    visitor = create_user("director", username="zhuren_c", villages=[village], display_name="走访人丙")
    child = create_child("田甜", village=village)
    seed_visit_history(child.id, [visitor.id], visits=10, years=10)
    db.session.execute(update(Visit).where(Visit.child_id == child.id, Visit.visited_on >= date(2023, 1, 1))
                       .values(visited_on=date(2019, 5, 5)))  # every visit before 2023
    db.session.commit()
    create_user("civil_affairs", username="minzheng")
    auth.login("minzheng")
    with client.get(f"/children/{child.id}/archive.pdf") as response:
        text = pdf_text(response.data)
    assert "以前的走访按年汇总" in text and "入户走访 ·" not in text
    assert re.search(r"2019年 \d+ 次 2019-\d\d-\d\d 至\s*2019-\d\d-\d\d\s*走访人丙\(\d+\)", text)
