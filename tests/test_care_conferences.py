"""Case conferences (个案会商, 保障一): a conference held on a child, its decisions becoming measures
of the care plan; a half-filled decision refused with its row and field named and nothing typed
lost; the one-page minutes (会商记录) with a signature line for each department present; the
record and archive sections; who reaches what."""
from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from blueprints.care.models import Conference, Measure, Need
from blueprints.core import clock
from blueprints.core.audit import AuditEvent
from extensions import db
from tests.factories import PASSWORD, create_child, create_school, create_user, create_village, department

TODAY = date(2026, 11, 20)
SUMMARY = "孩子父母在外务工，祖母年迈，住所旁有水塘无护栏。各部门一致认为需要尽快消除隐患并加强监护指导。"


def pdf_pages(data: bytes) -> list[str]:
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in PdfReader(BytesIO(data)).pages]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 11, 20, 10, tzinfo=clock.LOCAL_TZ))


@pytest.fixture
def town(app):
    village, other_village = create_village("前王庄村"), create_village("后王庄村")
    school = create_school("中心小学", [village])
    users = {
        "civil": create_user("civil_affairs", "minzheng_c"),
        "supervisor": create_user("supervisor", "dudao_c"),
        "director": create_user("director", "zhuren_c", villages=[village]),
        "other_director": create_user("director", "zhuren_d", villages=[other_village]),
        "school": create_user("school", "xuexiao_c", school=school),
        "police": create_user("department", "paichusuo_c", department_code="police"),
        "volunteer": create_user("volunteer", "zhiyuan_c"),
    }
    child = create_child("王小雨", village=village, school=school)
    return {"village": village, "child": child, **users}


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def form(**over) -> dict:
    police, justice = department("police"), department("justice")
    data = {
        "held_on": "2026-11-19", "place": "镇民政办公室", "departments": [str(police.id), str(justice.id)],
        "attendees": "王芳（镇民政组）\n李强（镇派出所）", "summary": SUMMARY,
        "decisions-0-category": "safety", "decisions-0-action": "在水塘边加装护栏并设警示牌",
        "decisions-0-department_id": str(police.id), "decisions-0-owner_name": "李强", "decisions-0-due_on": "2026-12-05",
        "decisions-1-category": "guardianship", "decisions-1-action": "对祖母开展家庭教育指导",
        "decisions-1-department_id": "", "decisions-1-owner_name": "张秀英", "decisions-1-due_on": "2026-12-20",
    }
    data.update(over)
    return data


def hold(client, child, **over):
    return client.post(f"/children/{child.id}/conferences/new", data=form(**over))


def test_a_conference_is_held_and_its_decisions_become_measures_of_the_plan(client, town):
    child = town["child"]
    login(client, "minzheng_c")
    page = client.get(f"/children/{child.id}/conferences/new")
    assert page.status_code == 200 and "第 5 条决定" in page.get_data(as_text=True) and "镇司法所" in page.get_data(as_text=True)
    response = hold(client, child)
    assert response.status_code == 303
    conference = db.session.scalar(select(Conference))
    assert response.location.endswith(f"/care/conferences/{conference.id}")
    assert conference.held_on == date(2026, 11, 19) and conference.summary == SUMMARY
    assert [d.code for d in conference.departments] == ["police", "justice"]
    needs = db.session.scalars(select(Need).order_by(Need.id)).all()
    assert [(n.category, n.source, n.source_id) for n in needs] == [("safety", "conference", conference.id),
                                                                     ("guardianship", "conference", conference.id)]
    measures = db.session.scalars(select(Measure).order_by(Measure.id)).all()
    assert [(m.action, m.owner_name, m.due_on, m.state, m.department.code if m.department else None)
            for m in measures] == [("在水塘边加装护栏并设警示牌", "李强", date(2026, 12, 5), "open", "police"),
                                   ("对祖母开展家庭教育指导", "张秀英", date(2026, 12, 20), "open", None)]
    assert all(m.child_id == child.id and m.created_by_id == town["civil"].id for m in measures)
    assert count(AuditEvent, AuditEvent.action == "conference_held") == 1

    detail = client.get(response.location).get_data(as_text=True)
    assert SUMMARY in detail and "在水塘边加装护栏并设警示牌" in detail and "镇派出所、镇司法所" in detail
    record = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="conferences"' in record and "2026-11-19 个案会商" in record and "决定措施 2 项" in record
    listing = client.get("/care/conferences").get_data(as_text=True)
    assert "王小雨" in listing and 'id="conference-total">1<' in listing


def test_two_decisions_of_one_category_are_two_measures_of_one_need(client, town):
    login(client, "minzheng_c")
    response = hold(client, town["child"], **{"decisions-1-category": "safety"})
    assert response.status_code == 303
    need = db.session.scalar(select(Need))
    assert count(Need) == 1 and len(need.measures) == 2
    assert need.description == "在水塘边加装护栏并设警示牌；对祖母开展家庭教育指导"


@pytest.mark.parametrize("over, messages", [
    ({"decisions-1-owner_name": "", "decisions-1-due_on": ""},
     ["第 2 条决定：请填写责任人", "第 2 条决定：请选择完成期限"]),
    ({"decisions-2-action": "联系卫健组体检"}, ["第 3 条决定：请选择需求类别", "第 3 条决定：请填写责任人"]),
    ({"decisions-0-due_on": "2026-11-19"}, ["第 1 条决定：完成期限不能早于今天（2026-11-20）"]),
    ({"decisions-0-department_id": "99999"}, ["第 1 条决定：责任部门请从列表中选择"]),
    ({"held_on": "2026-11-21"}, ["会商日期不能晚于今天"]),
    ({"summary": "", "decisions-1-owner_name": ""}, ["请填写会商情况", "第 2 条决定：请填写责任人"]),
    ({"summary": "\n".join(["一段"] * 9)}, ["会商情况最多 8 段"]),
])
def test_bad_input_names_the_row_and_field_and_keeps_what_was_typed(client, town, over, messages):
    login(client, "minzheng_c")
    response = hold(client, town["child"], **over)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    for message in messages:
        assert message in body
    assert "在水塘边加装护栏并设警示牌" in body and "对祖母开展家庭教育指导" in body and "镇民政办公室" in body
    assert 'value="2026-12-20"' in body or over.get("decisions-1-due_on") == ""
    assert count(Conference) == 0 and count(Need) == 0 and count(Measure) == 0


def test_a_conference_without_decisions_is_kept(client, town):
    login(client, "minzheng_c")
    blank = {f"decisions-{i}-{f}": "" for i in (0, 1) for f in ("category", "action", "department_id", "owner_name",
                                                                   "due_on")}
    assert hold(client, town["child"], **blank).status_code == 303
    assert count(Conference) == 1 and count(Measure) == 0


def test_an_exited_child_gets_no_conference(client, town):
    child = town["child"]
    child.status, child.exit_date, child.exit_reason = "exited", date(2026, 11, 1), "moved_away"
    db.session.commit()
    login(client, "minzheng_c")
    assert hold(client, child).status_code == 409
    assert count(Conference) == 0


def test_the_minutes_are_one_page_with_the_child_the_decisions_and_a_line_for_each_department(client, town):
    login(client, "minzheng_c")
    location = hold(client, town["child"]).location
    response = client.get(location + "/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    pages = pdf_pages(response.data)
    assert len(pages) == 1
    text = "".join(pages[0].split())
    for shown in ("个案会商记录", "王小雨", "前王庄村", "在水塘边加装护栏并设警示牌", "对祖母开展家庭教育指导", "李强", "2026-12-05",
                  "镇派出所", "镇司法所", "签字确认", "记录人", "王芳(镇民政组);李强(镇派出所)"):
        assert shown in text, shown
    assert count(AuditEvent, AuditEvent.action == "conference_printed") == 1


def test_the_longest_minutes_the_form_allows_still_fit_one_page(client, town):
    login(client, "minzheng_c")
    every = [str(department(code).id) for code in ("civil_affairs", "education", "police", "justice", "health",
                                                    "disability", "women", "youth", "publicity", "culture", "hr",
                                                    "emergency", "market")]
    rows = {}
    for i in range(5):
        rows |= {f"decisions-{i}-category": "employment", f"decisions-{i}-action": "落" * 50,
                 f"decisions-{i}-department_id": every[i], f"decisions-{i}-owner_name": "名" * 20,
                 f"decisions-{i}-due_on": "2026-12-31"}
    summary = "\n".join(["情" * 60] * 8)  # each paragraph a little over one printed line: two lines each
    response = hold(client, town["child"], departments=every, place="地" * 30, attendees="人" * 120,
                    summary=summary, **rows)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    pages = pdf_pages(client.get(response.location + "/pdf").data)
    assert len(pages) == 1
    assert "镇市场监管所" in pages[0] and "落" * 20 in "".join(pages[0].split())


def test_the_archive_prints_the_conferences(client, town):
    child = town["child"]
    login(client, "minzheng_c")
    hold(client, child)
    text = "".join("".join(pdf_pages(client.get(f"/children/{child.id}/archive.pdf").data)).split())
    assert "个案会商" in text and unicodedata.normalize("NFKC", SUMMARY[:20]) in text and "在水塘边加装护栏并设警示牌" in text and "待办" in text
    # a child who never had one: no section at all (most never do)
    other = create_child("李小花", village=town["village"])
    assert "个案会商" not in "".join(pdf_pages(client.get(f"/children/{other.id}/archive.pdf").data))


def test_who_reaches_conferences(client, town):
    child = town["child"]
    login(client, "minzheng_c")
    location = hold(client, child).location
    conference_id = int(location.rsplit("/", 1)[1])
    detail, pdf, new = location, location + "/pdf", f"/children/{child.id}/conferences/new"
    expected = {
        # user: (list, detail, pdf, new form)
        "dudao_c": (200, 200, 200, 200),
        "zhuren_c": (200, 200, 200, 403),     # her village's child: reads, does not hold conferences
        "zhuren_d": (200, 404, 404, 403),     # another village: as if there were none
        "xuexiao_c": (403, 403, 403, 403),
        "paichusuo_c": (403, 403, 403, 403),  # a department that sat at the table signs on paper
        "zhiyuan_c": (403, 403, 403, 403),
    }
    for username, codes in expected.items():
        login(client, username)
        got = tuple(client.get(url).status_code for url in ("/care/conferences", detail, pdf, new))
        assert got == codes, username
    login(client, "zhuren_d")
    assert "王小雨" not in client.get("/care/conferences").get_data(as_text=True)
    assert client.post(f"/children/{child.id}/conferences/new", data=form()).status_code == 403
    login(client, "dudao_c")
    assert client.get(f"/care/conferences/{conference_id + 1}").status_code == 404
