"""Visits: cadence and due lists, the idempotent API (also under concurrent replays), reach,
review and corrections, monthly compliance."""
import threading
import uuid
from datetime import date, datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from blueprints.children.models import ParentContact
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.visits.cadence import add_months, classify, due_on
from blueprints.visits.models import Visit, VisitNeed
from extensions import db
from tests.factories import PASSWORD, create_child, create_user, create_village


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- cadence --------------------------------------------------------------------------------

def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 3, 2), 12) == date(2027, 3, 2)


def test_due_dates_by_attention_level(app):
    assert due_on(date(2026, 3, 2), date(2025, 1, 1), "key") == date(2026, 4, 2)
    assert due_on(date(2026, 3, 2), date(2025, 1, 1), "general") == date(2026, 6, 2)
    assert due_on(None, date(2026, 5, 1), "general") == date(2026, 5, 1)  # never visited: due at once


def test_cadence_is_configurable(app):
    app.config["VISIT_CADENCE_MONTHS"] = {"key": 2, "general": 6}
    try:
        assert due_on(date(2026, 3, 2), date(2025, 1, 1), "key") == date(2026, 5, 2)
    finally:
        app.config["VISIT_CADENCE_MONTHS"] = {"key": 1, "general": 3}


@pytest.mark.parametrize("last, attention, today, bucket", [
    (date(2026, 2, 1), "key", date(2026, 3, 4), "overdue"),            # due 03-01
    (date(2026, 2, 6), "key", date(2026, 3, 4), "due_this_week"),      # due 03-06, Friday of that week
    (date(2026, 3, 2), "key", date(2026, 3, 4), "done_this_month"),    # due 04-02, visited this month
    (date(2026, 2, 20), "general", date(2026, 3, 4), "later"),         # due 05-20
    (None, "general", date(2026, 3, 4), "overdue"),                    # registered 03-01, never visited
])
def test_buckets(app, last, attention, today, bucket):
    assert classify(last, date(2026, 3, 1), attention, today).bucket == bucket


# --- the API --------------------------------------------------------------------------------

@pytest.fixture
def village(app):
    return create_village("甲村")


@pytest.fixture
def director(village):
    return create_user("director", username="zhuren_a", villages=[village])


def visit_body(child, **overrides):
    body = {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
            "kind": "home", "hazard_water": True, "mental_state": "concern", "needs": ["psychological", "education"],
            "parents_contacted": False, "follow_up_needed": True, "follow_up_note": "联系学校",
            "recorded_at": "2026-03-02T01:30:00.000Z"}
    body.update(overrides)
    return body


def test_visit_is_stored_once_and_replays_answer_200(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    body = visit_body(child)
    first = client.post("/api/v1/visits", json=body)
    assert first.status_code == 201
    assert first.get_json() == {"id": first.get_json()["id"], "client_uuid": body["client_uuid"]}
    for _ in range(2):
        again = client.post("/api/v1/visits", json=body)
        assert again.status_code == 200 and again.get_json() == first.get_json()
    assert count(Visit) == 1
    visit = db.session.scalar(select(Visit))
    assert visit.hazard_water and not visit.hazard_gas and visit.mental_state == "concern"
    assert sorted(visit.need_codes) == ["education", "psychological"]
    assert visit.recorded_at == datetime(2026, 3, 2, 1, 30) and visit.received_at is not None
    assert visit.visitor_id == director.id
    assert count(AuditEvent, AuditEvent.action == "visit_recorded") == 1


def test_ten_concurrent_replays_store_one_row(_app, app, director, village):
    child = create_child("张三", village=village)
    body = visit_body(child)
    clients = []
    for _ in range(10):
        c = _app.test_client()
        c.post("/login", data={"username": "zhuren_a", "password": PASSWORD})
        clients.append(c)
    barrier = threading.Barrier(10)
    statuses = []

    def send(c):
        barrier.wait()
        statuses.append(c.post("/api/v1/visits", json=body).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200] * 9 + [201] or (statuses.count(201) == 1 and len(statuses) == 10), statuses
    assert count(Visit, Visit.client_uuid == body["client_uuid"]) == 1
    assert count(VisitNeed) == 2


@pytest.mark.parametrize("overrides, field, message", [
    ({"child_id": None}, "child_id", "请选择走访的儿童"),
    ({"visited_on": "2999-01-01"}, "visited_on", "走访日期不能晚于今天"),
    ({"visited_on": "03/02/2026"}, "visited_on", "格式不对"),
    ({"kind": "drive-by"}, "kind", "请选择走访方式"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid", "缺少记录编号"),
    ({"needs": ["wishes"]}, "needs", "需求类别不认识"),
    ({"mental_state": "sad"}, "mental_state", "心理状况请选择"),
    ({"next_visit_on": "2000-01-02"}, "next_visit_on", "不能早于这次走访"),
])
def test_bad_visits_get_422_with_the_field_named(client, auth, director, village, overrides, field, message):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    response = client.post("/api/v1/visits", json=visit_body(child, **overrides))
    assert response.status_code == 422
    assert message in response.get_json()["errors"][field]
    assert count(Visit) == 0


def test_visit_outside_reach_is_404_and_without_grant_403(client, auth, director, village):
    other = create_child("李四", village=create_village("乙村"))
    create_user("school", username="xuexiao", school=None)
    auth.login("zhuren_a")
    assert client.post("/api/v1/visits", json=visit_body(other)).status_code == 404
    assert client.post("/api/v1/visits", json=visit_body(other, child_id=999999)).status_code == 404
    auth.logout()
    create_user("volunteer", username="zhiyuan")
    auth.login("zhiyuan")
    response = client.post("/api/v1/visits", json=visit_body(other))
    assert response.status_code == 403 and response.is_json
    assert count(Visit) == 0


def test_signed_out_api_answers_401_json(client, village):
    child = create_child("张三", village=village)
    response = client.post("/api/v1/visits", json=visit_body(child))
    assert response.status_code == 401 and response.get_json()["error"] == "login_required"


def test_api_needs_the_csrf_token(_app, app, director, village):
    child = create_child("张三", village=village)
    _app.config["WTF_CSRF_ENABLED"] = True
    try:
        c = _app.test_client()
        page = c.get("/login").get_data(as_text=True)
        token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        c.post("/login", data={"username": "zhuren_a", "password": PASSWORD, "csrf_token": token})
        refused = c.post("/api/v1/visits", json=visit_body(child))
        assert refused.status_code == 400 and refused.is_json
        fresh = c.get("/api/v1/csrf").get_json()["token"]
        assert c.post("/api/v1/visits", json=visit_body(child), headers={"X-CSRFToken": fresh}).status_code == 201
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False


def test_parent_contact_api(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    body = {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "contacted_on": local_today().isoformat(),
            "method": "video", "who": "母亲"}
    assert client.post("/api/v1/parent-contacts", json=body).status_code == 201
    assert client.post("/api/v1/parent-contacts", json=body).status_code == 200
    assert count(ParentContact) == 1
    bad = client.post("/api/v1/parent-contacts", json={**body, "client_uuid": str(uuid.uuid4()), "method": "letter",
                                                       "contacted_on": "2999-01-01"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"method", "contacted_on"}


def test_due_list_json_has_minimal_fields_only(client, auth, director, village):
    create_child("张三", village=village, address="甲村3组5号", attention="key", categories=["left_behind", "poverty"])
    create_child("李四", village=village, categories=["disability"])
    create_child("王五", village=create_village(), categories=["orphan"])  # another village: not listed
    auth.login("zhuren_a")
    data = client.get("/api/v1/due-list").get_json()
    assert len(data["children"]) == 2
    row = data["children"][0]
    assert set(row) == {"id", "name", "age", "village", "categories", "attention", "last_visit", "due", "bucket"}
    assert "甲村3组5号" not in str(data)
    # each child's own categories (looked up by the list's query, not by its ids)
    assert {r["name"]: sorted(r["categories"]) for r in data["children"]} == {
        "张三": sorted(["留守", "困境·贫困"]), "李四": ["困境·残疾"]}


# --- due list page --------------------------------------------------------------------------

def test_due_list_orders_by_urgency_with_counts(client, auth, director, village):
    today = local_today()
    overdue = create_child("逾期", village=village, attention="key")
    fresh = create_child("刚走访", village=village, attention="key")
    auth.login("zhuren_a")
    client.post("/api/v1/visits", json=visit_body(overdue, visited_on=(today - timedelta(days=45)).isoformat()))
    client.post("/api/v1/visits", json=visit_body(fresh, visited_on=today.isoformat()))
    page = client.get("/visits/due").get_data(as_text=True)
    assert page.index("逾期") < page.index("刚走访")
    assert 'data-count="overdue">1<' in page
    assert "逾期 " in page and "天" in page
    assert "甲村3组" not in page


def test_due_list_only_within_reach(client, auth, director, village):
    create_child("张三", village=village)
    create_child("李四", village=create_village("乙村"))
    auth.login("zhuren_a")
    page = client.get("/visits/due").get_data(as_text=True)
    assert "张三" in page and "李四" not in page


# --- review and corrections -----------------------------------------------------------------

def test_supervisor_reviews_and_a_correction_keeps_the_original(client, auth, director, village):
    child = create_child("张三", village=village)
    create_user("supervisor", username="dudao")
    auth.login("zhuren_a")
    original_id = client.post("/api/v1/visits", json=visit_body(child, hazard_water=False)).get_json()["id"]
    auth.logout()
    auth.login("dudao")
    assert client.post(f"/visits/{original_id}/review", data={"comment": "隐患要跟进"}).status_code == 303
    auth.logout()
    auth.login("zhuren_a")
    assert client.post(f"/visits/{original_id}/review", data={"comment": "自己评"}).status_code == 403
    response = client.post(f"/visits/{original_id}/correct", data={
        "client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
        "kind": "home", "hazard_water": "1", "correction_reason": "漏记了水的隐患"})
    assert response.status_code == 303
    visits = {v.id: v for v in db.session.scalars(select(Visit))}
    assert len(visits) == 2
    original = visits[original_id]
    correction = next(v for v in visits.values() if v.id != original_id)
    assert original.superseded and not original.hazard_water and original.review_comment == "隐患要跟进"
    assert correction.corrects_id == original_id and correction.hazard_water
    page = client.get(f"/visits/{original_id}").get_data(as_text=True)
    assert "此记录已被更正" in page
    assert client.get(f"/visits/{original_id}/correct").status_code == 409  # correct the correction instead


def test_visit_page_reach(client, auth, director, village):
    child = create_child("张三", village=village)
    create_user("director", username="zhuren_b", villages=[create_village("乙村")])
    auth.login("zhuren_a")
    visit_id = client.post("/api/v1/visits", json=visit_body(child)).get_json()["id"]
    auth.logout()
    auth.login("zhuren_b")
    assert client.get(f"/visits/{visit_id}").status_code == 404
    assert client.get(f"/visits/{visit_id}/correct").status_code == 404


def test_plain_form_post_without_javascript(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    form = {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": "2999-01-01", "kind": "home",
            "needs": ["living"], "living_conditions": "房屋漏雨"}
    response = client.post(f"/visits/new?child={child.id}", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "走访日期不能晚于今天" in page and "房屋漏雨" in page
    response = client.post(f"/visits/new?child={child.id}", data={**form, "visited_on": local_today().isoformat()})
    assert response.status_code == 303
    assert db.session.scalar(select(Visit)).need_codes == ["living"]


def test_record_page_shows_visits(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    client.post("/api/v1/visits", json=visit_body(child))
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "走访记录（最近 1 次）" in page and "隐患 1" in page and "需跟进" in page


# --- compliance -----------------------------------------------------------------------------

def test_compliance_by_village_and_director(client, auth, director, village):
    b = create_village("乙村")
    create_user("director", username="zhuren_b", villages=[b], display_name="刘主任")
    create_user("civil_affairs", username="minzheng")
    with freeze_time("2026-01-10"):
        done = create_child("甲一", village=village, attention="key")
        create_child("甲二", village=village, attention="key")
        create_child("乙一", village=b, attention="general")
    with freeze_time("2026-03-20"):
        auth.login("zhuren_a")
        client.post("/api/v1/visits", json=visit_body(done, visited_on="2026-03-05"))
        auth.logout()
        auth.login("minzheng")
        page = client.get("/visits/compliance?month=2026-03").get_data(as_text=True)
    assert "应走访 3 人，已走访 1 人，逾期 2 人" in page
    assert "<td>甲村</td><td>2</td><td>1</td><td>1</td><td>50%</td>" in page
    assert "<td>刘主任</td><td>1</td><td>0</td><td>1</td><td>0%</td>" in page


def test_compliance_is_for_supervision_only(client, auth, director):
    auth.login("zhuren_a")
    assert client.get("/visits/compliance").status_code == 403


def test_latest_before_turns_cadence_into_a_date():
    from blueprints.visits.services import latest_before
    assert latest_before(date(2026, 4, 1), 1) == date(2026, 2, 28)   # +1 month → 03-28 < 04-01; 03-01 → 04-01 not <
    assert latest_before(date(2026, 7, 1), 3) == date(2026, 3, 31)
    for cutoff in (date(2026, 3, 31), date(2026, 5, 1), date(2027, 1, 15)):
        for months in (1, 3):
            day = latest_before(cutoff, months)
            assert add_months(day, months) < cutoff <= add_months(day + timedelta(days=1), months)


def test_compliance_counts_a_general_child_only_when_due(client, auth, director, village):
    create_user("civil_affairs", username="minzheng")
    with freeze_time("2026-01-05"):
        recent = create_child("二月走访", village=village, attention="general")
        stale = create_child("去年走访", village=village, attention="general")
    with freeze_time("2026-03-20"):
        auth.login("zhuren_a")
        client.post("/api/v1/visits", json=visit_body(recent, visited_on="2026-02-10"))  # due 05-10: not in March
        client.post("/api/v1/visits", json=visit_body(stale, visited_on="2026-01-06"))  # due 04-06: not in March
        auth.logout()
        auth.login("minzheng")
        page = client.get("/visits/compliance?month=2026-04").get_data(as_text=True)
        assert "应走访 1 人，已走访 0 人，逾期 0 人" in page  # April: only the January one; not overdue yet
        page = client.get("/visits/compliance?month=2026-03").get_data(as_text=True)
        assert "应走访 0 人" in page


def test_last_visit_is_kept_on_the_child_and_recounted_after_a_correction(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    today = local_today()
    visit_id = client.post("/api/v1/visits", json=visit_body(child, visited_on=today.isoformat())).get_json()["id"]
    client.post("/api/v1/visits", json=visit_body(child, visited_on=(today - timedelta(days=40)).isoformat()))
    db.session.refresh(child)
    assert child.last_visit_on == today
    client.post(f"/visits/{visit_id}/correct", data={
        "client_uuid": str(uuid.uuid4()), "child_id": child.id, "kind": "home", "correction_reason": "日期记错",
        "visited_on": (today - timedelta(days=10)).isoformat()})
    db.session.refresh(child)
    assert child.last_visit_on == today - timedelta(days=10)


def test_visit_form_names_the_child_from_the_query(client, auth, director, village):
    child = create_child("张三", village=village)
    other = create_child("李四", village=create_village("乙村"))
    auth.login("zhuren_a")
    page = client.get(f"/visits/new?child={child.id}").get_data(as_text=True)
    assert f'<option value="{child.id}" selected>张三 · 甲村</option>' in page
    assert client.get(f"/visits/new?child={other.id}").status_code == 404
    assert client.get(f"/visits/contact?child={child.id}").status_code == 200
