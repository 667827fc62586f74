"""A creating form sent twice stores one record (blueprints/core/once.py): the form's token is
claimed before anything is created; a repeat goes to the first record, a foreign, missing or
malformed token is refused, two different tokens are two records, and two requests at once with
one token store one record (the same test runs on PostgreSQL)."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.care.models import Measure, Need
from blueprints.children.models import Child
from blueprints.core import once
from blueprints.core.clock import utcnow
from blueprints.core.once import FormSubmission
from extensions import db
from tests.factories import PASSWORD, create_child, create_measure, create_need, create_user, create_village
from tests.test_children_registry import registration

TOKEN = "A" * 32


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def token_in(html: str) -> str:
    return re.search(r'<input name="once" type="hidden" value="([^"]+)"', html).group(1)


@pytest.fixture
def town(app):
    village = create_village("前王庄村")
    director = create_user("director", "zhuren_a", villages=[village])
    create_user("director", "zhuren_b", villages=[village])
    child = create_child("王小花", village=village)
    return {"village": village, "director": director, "child": child}


def test_a_need_sent_twice_is_stored_once_and_the_repeat_goes_to_it(client, town):
    login(client, "zhuren_a")
    child = town["child"]
    page = client.get(f"/children/{child.id}/plan").get_data(as_text=True)
    token = token_in(page.split('id="need-form"', 1)[1])
    data = {"category": "safety", "description": "屋后水塘无护栏", "once": token}
    first = client.post(f"/children/{child.id}/plan/needs", data=data)
    assert first.status_code == 303
    second = client.post(f"/children/{child.id}/plan/needs", data=data)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert "这份表单已经提交过，没有重复保存。" in client.get(second.headers["Location"]).get_data(as_text=True)
    # with htmx (a boosted form): the same, as HX-Redirect
    third = client.post(f"/children/{child.id}/plan/needs", data=data, headers={"HX-Request": "true"})
    assert third.status_code == 200 and third.headers["HX-Redirect"] == first.headers["Location"]
    assert count(Need, Need.child_id == child.id) == 1
    row = db.session.scalar(select(FormSubmission))
    assert (row.token, row.user_id, row.location) == (token, town["director"].id, first.headers["Location"])


def test_two_renderings_are_two_records(client, town):
    login(client, "zhuren_a")
    child = town["child"]
    for _ in range(2):
        page = client.get(f"/children/{child.id}/plan").get_data(as_text=True)
        token = token_in(page.split('id="need-form"', 1)[1])
        assert client.post(f"/children/{child.id}/plan/needs", data={
            "category": "safety", "description": "屋后水塘无护栏", "once": token}).status_code == 303
    assert count(Need, Need.child_id == child.id) == 2


def test_another_users_token_is_refused_and_leads_nowhere(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    first = client.post(f"/children/{child.id}/plan/needs", data={"category": "safety", "description": "水塘", "once": TOKEN})
    assert first.status_code == 303
    login(client, "zhuren_b")
    refused = client.post(f"/children/{child.id}/plan/needs", data={"category": "living", "description": "别的", "once": TOKEN})
    assert refused.status_code == 422 and "Location" not in refused.headers
    assert "请重新打开表单" in refused.get_data(as_text=True)
    assert [n.category for n in db.session.scalars(select(Need))] == ["safety"]


@pytest.mark.parametrize("token", [None, "", "short", "<script>" + "x" * 30, "A" * 65])
def test_a_missing_or_malformed_token_is_refused_with_a_message(client, town, token):
    login(client, "zhuren_a")
    response = client.post(f"/children/{town['child'].id}/plan/needs",
                           data={"category": "safety", "description": "水塘", "once": token})
    assert response.status_code == 422
    assert "重新打开表单" in response.get_data(as_text=True)
    assert count(Need) == 0 and count(FormSubmission) == 0


def test_the_token_survives_a_form_sent_back_with_errors(client, town):
    login(client, "zhuren_a")
    need = create_need(town["child"])
    data = {"action": "", "department_id": "", "owner_name": "张秀英", "due_on": "2026-12-20", "once": TOKEN}
    refused = client.post(f"/care/needs/{need.id}/measures", data=data)
    assert refused.status_code == 422 and f'value="{TOKEN}"' in refused.get_data(as_text=True)
    saved = client.post(f"/care/needs/{need.id}/measures", data={**data, "action": "加装护栏"})
    assert saved.status_code == 303
    again = client.post(f"/care/needs/{need.id}/measures", data={**data, "action": "加装护栏"})
    assert again.headers["Location"] == saved.headers["Location"]
    assert count(Measure, Measure.need_id == need.id) == 1


def test_a_token_whose_first_sending_stored_nothing_may_be_sent_again(client, town):
    """A claim committed without a record (a refusal whose page committed its audit event) does not
    block the corrected form: it is sent with the same token."""
    db.session.add(FormSubmission(token=TOKEN, user_id=town["director"].id, location=None))
    db.session.commit()
    login(client, "zhuren_a")
    saved = client.post(f"/children/{town['child'].id}/plan/needs", data={"category": "safety", "description": "水塘",
                                                                           "once": TOKEN})
    assert saved.status_code == 303
    (need,) = db.session.scalars(select(Need)).all()
    assert db.session.scalar(select(FormSubmission.location)).endswith(f"need-{need.id}")


def test_a_child_registered_twice_is_one_child(client, town):
    login(client, "zhuren_a")
    token = token_in(client.get("/children/new").get_data(as_text=True))
    data = registration(town["village"], once=token)
    first = client.post("/children/new", data=data)
    assert first.status_code == 303
    second = client.post("/children/new", data=data)
    assert second.status_code == 303 and second.headers["Location"] == first.headers["Location"]
    assert count(Child, Child.name == "张三") == 1


def test_a_measure_sent_twice_beside_another_is_stored_once(client, town):
    login(client, "zhuren_a")
    need = create_need(town["child"])
    create_measure(need)
    data = {"action": "入户走访", "department_id": "", "owner_name": "张秀英", "due_on": "2026-12-20", "once": "B" * 40}
    assert client.post(f"/care/needs/{need.id}/measures", data=data).status_code == 303
    assert client.post(f"/care/needs/{need.id}/measures", data=data).status_code == 303
    assert count(Measure, Measure.need_id == need.id, Measure.action == "入户走访") == 1


def test_two_requests_at_once_with_one_token_store_one_record(_app, client, town):
    child_id = town["child"].id
    phones = []
    for _ in range(4):
        phone = _app.test_client()
        phone.post("/login", data={"username": "zhuren_a", "password": PASSWORD})
        phones.append(phone)
    barrier = threading.Barrier(len(phones))
    answers = []

    def send(phone):
        barrier.wait()
        response = phone.post(f"/children/{child_id}/plan/needs",
                              data={"category": "safety", "description": "水塘", "once": TOKEN})
        answers.append((response.status_code, response.headers.get("Location")))

    threads = [threading.Thread(target=send, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == len(phones)
    assert {status for status, _ in answers} == {303} and len({location for _, location in answers}) == 1
    assert count(Need, Need.child_id == child_id) == 1


def test_old_tokens_are_deleted(app, town):
    db.session.add_all([FormSubmission(token="C" * 32, user_id=town["director"].id, created_at=utcnow() - timedelta(days=8)),
                        FormSubmission(token="D" * 32, user_id=town["director"].id, created_at=utcnow() - timedelta(days=1))])
    db.session.commit()
    assert once.delete_old() == 1
    assert db.session.scalars(select(FormSubmission.token)).all() == ["D" * 32]


@pytest.mark.parametrize("path, data", [
    ("/volunteers/new", dict(name="王秋菊", kind="caring_mother", organisation_id="0", village_id="0", phone="13812345678",
                             capacity="3", username="qiuju", password="qiuju-reads-7")),
    ("/volunteers/organisations", dict(name="前王庄村儿童之家", kind="service_site", village_id="0", active="y")),
])
def test_a_repeat_that_its_first_sending_made_invalid_goes_to_the_first_record(client, path, data):
    """The form refuses a login name or an organisation's name already there, as the first sending
    made it: the repeat is told so only if the token is claimed before the form is checked."""
    create_user("civil_affairs", "minzheng_a")
    login(client, "minzheng_a")
    first = client.post(path, data={**data, "once": TOKEN})
    assert first.status_code == 303
    second = client.post(path, data={**data, "once": TOKEN})
    assert (second.status_code, second.headers.get("Location")) == (303, first.headers["Location"])
    assert "这份表单已经提交过，没有重复保存。" in client.get(second.headers["Location"]).get_data(as_text=True)
    # a new rendering with the same name is still refused on the field, and stores nothing
    again = client.post(path, data=data)
    assert again.status_code == 422 and "已" in again.get_data(as_text=True)
    assert count(FormSubmission) == 1



@pytest.mark.parametrize("path, data", [
    ("/admin/users/new", dict(username="zhuren7", display_name="李娟", phone="", role="civil_affairs",
                              volunteer_kind="", school_id="0", department_id="0", active="y",
                              password="first-pass-77")),
    ("/admin/villages/new", dict(name="新庄村", active="y")),
    ("/admin/schools/new", dict(name="新庄小学", kind="primary", active="y")),
])
def test_the_administrators_creating_forms_sent_twice_store_one(client, path, data):
    """A user, a village, a school: the repeat goes where the first went, not to "已被使用"."""
    create_user("admin", "boss_a")
    login(client, "boss_a")
    first = client.post(path, data={**data, "once": TOKEN})
    assert first.status_code == 303, first.get_data(as_text=True)[:2000]
    second = client.post(path, data={**data, "once": TOKEN})
    assert (second.status_code, second.headers.get("Location")) == (303, first.headers["Location"])
    assert "这份表单已经提交过，没有重复保存。" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert client.post(path, data=data).status_code == 422  # a new rendering: the name is taken
    assert count(FormSubmission) == 1

def form_inputs(html: str, form_id: str) -> dict:
    """The hidden inputs of one form of a page: what a tap on its button sends."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.S).group(0)
    return dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))


def test_the_one_tap_attendance_form_carries_its_own_token(client, monkeypatch):
    """"这一周：正常" beside the full attendance form posts to the same claiming route: it must carry
    a token (it carried none: every tap was refused), and not the full form's (sent after it, that one
    would be taken for its repeat)."""
    from datetime import date, datetime

    from blueprints.core import clock
    from blueprints.schools.models import AttendanceCheck
    from tests.factories import create_dropout, create_school

    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 10, 26, 10, tzinfo=clock.LOCAL_TZ))
    village = create_village("东村")
    school = create_school("中心小学", [village])
    create_user("school", "xuexiao_a", school=school)
    pupil = create_child("李小红", village=village, school=school, grade="五年级")
    case = create_dropout(pupil, returned_on=date(2026, 10, 19), watch_until=date(2027, 2, 22))
    login(client, "xuexiao_a")
    page = client.get(f"/schools/dropouts/{case.id}").get_data(as_text=True)
    tap = form_inputs(page, "attendance-normal")
    assert tap.get("once") and tap["once"] != form_inputs(page, "attendance-form")["once"]
    answer = client.post(f"/schools/dropouts/{case.id}/attendance", data={"once": None, **tap})  # no token added
    assert answer.status_code == 303
    assert count(AttendanceCheck, AttendanceCheck.case_id == case.id) == 1


def test_a_confirmed_registration_commits_its_claim_only_with_the_child(client, town, monkeypatch):
    """A probable duplicate outside her reach is audited whatever she does next; committed between
    the claim and the child, that audit committed the claim with no record and let go of it: a
    repeat sent meanwhile found it empty, took it for a first sending that stored nothing, and
    registered the child again."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from blueprints.children import routes
    from tests.test_children_registry import BIRTH

    create_child("张三", village=create_village("后王庄村"), birth=BIRTH)  # hers to find, not to open
    steps = []
    claim, create = once.claim, routes.create_child
    monkeypatch.setattr(once, "claim", lambda form: steps.append("claim") or claim(form))
    monkeypatch.setattr(routes, "create_child", lambda *a, **kw: steps.append("create") or create(*a, **kw))
    login(client, "zhuren_a")
    data = registration(town["village"], id_number="", gender="male", birth_date=BIRTH.isoformat(), once=TOKEN)
    asked = client.post("/children/new", data=data)
    assert asked.status_code == 409 and "我已核对" in asked.get_data(as_text=True)
    steps.clear()

    def committed(_session):
        steps.append("commit")

    event.listen(Session, "after_commit", committed)
    try:
        saved = client.post("/children/new", data={**data, "confirm_duplicate": "y"})
    finally:
        event.remove(Session, "after_commit", committed)
    assert saved.status_code == 303
    assert steps[steps.index("claim"):] == ["claim", "create", "commit"]
    assert db.session.scalar(select(FormSubmission.location)) == saved.headers["Location"]
    assert count(Child, Child.name == "张三") == 2


def test_every_form_sent_to_a_claiming_route_carries_a_token(app):
    """The tests' client adds a token to every post, so a form whose template leaves it out passes
    them while every tap on it is refused: each <form> whose action is a route that claims renders
    its form's `once` (or all its fields, which include it)."""
    import inspect
    from pathlib import Path

    claiming = {endpoint for endpoint, view in app.view_functions.items()
                if "once.claim(" in inspect.getsource(inspect.unwrap(view))}
    assert {"children.new", "care.need_new", "schools.attendance_check", "volunteers.organisations"} <= claiming
    checked = 0
    for template in Path(app.root_path, "templates").rglob("*.html"):
        for form in re.findall(r"<form\b.*?</form>", template.read_text(encoding="utf-8"), re.S):
            head = form.split(">", 1)[0]
            if 'method="post"' in head and any(f"url_for('{endpoint}'" in head for endpoint in claiming):
                checked += 1
                assert ".once }}" in form or "for f in" in form, f"{template.name}: {head}"
    assert checked >= 15
