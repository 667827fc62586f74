"""Corrections and reused record numbers (item 10): a correction whose client_uuid belongs to another
visit is refused (409, in Chinese) and that visit is left as it was; the form comes back with what was
typed and a fresh client_uuid, so saving again keeps the correction (the same for the plain visit
form). Corrections to an exited child's history are allowed up to the exit date."""
import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.children import services
from blueprints.children.models import Child
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from extensions import db
from tests.factories import create_child, create_user, create_village


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def page_uuid(page: str) -> str:
    return re.search(r'name="client_uuid" value="([^"]*)"', page).group(1)


@pytest.fixture
def village(app):
    return create_village("甲村")


@pytest.fixture
def people(village):
    return {
        "a": create_user("director", username="zhuren_a", villages=[village]),
        "b": create_user("director", username="zhuren_b", villages=[village]),
        "supervisor": create_user("supervisor", username="dudao"),
    }


def visit(child, days_ago=2, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id,
            "visited_on": (local_today() - timedelta(days=days_ago)).isoformat(),
            "kind": "home", "health": "良好", "needs": ["education"], **overrides}


def stored(client, body) -> int:
    response = client.post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def state(visit_id: int) -> tuple:
    db.session.expire_all()
    v = db.session.get(Visit, visit_id)
    return (v.child_id, v.visitor_id, v.visited_on, v.health, v.corrects_id, v.superseded, v.client_uuid)


CORRECTION = {"health": "更正后：感冒已好转", "correction_reason": "健康情况记错了", "hazard_note": "院墙有裂缝"}


@pytest.mark.parametrize("whose", ["own", "another user's", "another child's"])
def test_a_correction_with_a_uuid_of_another_visit_is_refused_and_not_lost(village, people, client, auth, whose):
    child, other_child = create_child("张三", village=village), create_child("李四", village=village)
    auth.login("zhuren_a")
    original_id = stored(client, visit(child, health="发烧"))
    if whose == "another user's":
        auth.logout()
        auth.login("zhuren_b")
    foreign = visit(other_child if whose == "another child's" else child, days_ago=5, health="很好")
    foreign_id = stored(client, foreign)
    if whose == "another user's":
        auth.logout()
        auth.login("dudao")  # a supervisor may correct any visit
    foreign_before, original_before = state(foreign_id), state(original_id)

    form = {**visit(child, days_ago=3), **CORRECTION, "client_uuid": foreign["client_uuid"]}
    response = client.post(f"/visits/{original_id}/correct", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    expected = {"own": "内容不同", "another user's": "其他账号", "another child's": "另一名儿童"}[whose]
    assert expected in page and "没有改动原记录" in page and "已换用新的记录编号" in page
    # the other visit and the original are exactly as they were; nothing new
    assert state(foreign_id) == foreign_before and state(original_id) == original_before
    assert count(Visit) == 2
    # what was typed is still there, under a fresh client_uuid
    assert all(value in page for value in CORRECTION.values())
    fresh = page_uuid(page)
    assert fresh and fresh != foreign["client_uuid"]
    # saving again keeps the correction
    response = client.post(f"/visits/{original_id}/correct", data={**form, "client_uuid": fresh})
    assert response.status_code == 303
    correction = db.session.scalar(select(Visit).where(Visit.client_uuid == fresh))
    assert correction.corrects_id == original_id and correction.health == CORRECTION["health"]
    assert state(original_id)[5] is True  # superseded now
    assert state(foreign_id) == foreign_before


def test_the_visit_form_with_someone_elses_uuid_keeps_the_visit(village, people, client, auth):
    child = create_child("张三", village=village)
    auth.login("zhuren_b")
    theirs = visit(child, health="很好")
    theirs_id = stored(client, theirs)
    before = state(theirs_id)
    auth.logout()
    auth.login("zhuren_a")
    mine = {**visit(child, days_ago=1), "health": "咳嗽两天", "living_conditions": "屋顶漏雨",
            "client_uuid": theirs["client_uuid"]}
    response = client.post("/visits/new", data=mine)
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "其他账号" in page
    assert "咳嗽两天" in page and "屋顶漏雨" in page
    fresh = page_uuid(page)
    assert fresh != theirs["client_uuid"]
    assert state(theirs_id) == before and count(Visit) == 1
    assert client.post("/visits/new", data={**mine, "client_uuid": fresh}).status_code == 303
    mine_stored = db.session.scalar(select(Visit).where(Visit.client_uuid == fresh))
    assert (mine_stored.health, mine_stored.visitor_id) == ("咳嗽两天", people["a"].id)
    assert state(theirs_id) == before


def test_the_api_refuses_the_uuid_of_a_correction(village, people, client, auth):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    original_id = stored(client, visit(child))
    correction = {**visit(child, days_ago=1), **CORRECTION}
    assert client.post(f"/visits/{original_id}/correct", data=correction).status_code == 303
    correction_id = db.session.scalar(select(Visit.id).where(Visit.client_uuid == correction["client_uuid"]))
    before = state(correction_id)
    response = client.post("/api/v1/visits", json={**visit(child), "client_uuid": correction["client_uuid"]})
    assert response.status_code == 409
    assert response.get_json()["error"] == "client_uuid_reused" and "没有改动原记录" in response.get_json()["message"]
    assert state(correction_id) == before and count(Visit) == 2


def test_an_exited_childs_history_may_be_corrected_up_to_the_exit_date(village, people, client, auth):
    """A correction fixes what happened while the child was in care; it adds no new service."""
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    original_id = stored(client, visit(child, days_ago=10))
    exit_on = local_today() - timedelta(days=4)
    services.exit_child(db.session.get(Child, child.id), "moved_away", exit_on, "迁往苏州", actor=None)
    db.session.commit()

    late = {**visit(child, days_ago=2), **CORRECTION}
    response = client.post(f"/visits/{original_id}/correct", data=late)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "该儿童已退出关爱服务" in page and "不能晚于退出日期" in page and exit_on.isoformat() in page
    assert CORRECTION["health"] in page  # kept to fix the date
    assert count(Visit) == 1 and not state(original_id)[5]

    fixed = {**late, "visited_on": (local_today() - timedelta(days=6)).isoformat()}
    assert client.post(f"/visits/{original_id}/correct", data=fixed).status_code == 303
    assert count(Visit) == 2 and state(original_id)[5] is True
    db.session.expire_all()
    child = db.session.get(Child, child.id)
    assert child.status == "exited" and child.last_visit_on == local_today() - timedelta(days=6)
