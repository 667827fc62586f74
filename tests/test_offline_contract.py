"""One offline contract (blueprints/core/offline.py) for every record a phone sends: stored once per
client_uuid, 201/200/409/422 answered the same way for visits and parent contacts, a client_uuid
reused for another child, body or user refused with nothing overwritten, on the API and the plain
form posts alike; corrections never re-link another visit; the outbox page for every role."""
import uuid

import pytest
from sqlalchemy import func, select

from blueprints.children.models import ParentContact
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from blueprints.visits.services import record_visit
from extensions import db
from tests.factories import create_child, create_user, create_village


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def village(app):
    return create_village("甲村")


@pytest.fixture
def director(village):
    return create_user("director", username="zhuren_a", villages=[village])


def visit(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
            "kind": "home", "health": "良好", "needs": ["education", "living"], **overrides}


def contact(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "contacted_on": local_today().isoformat(),
            "method": "video", "who": "母亲", **overrides}


KINDS = {
    "visit": ("/api/v1/visits", visit, Visit, {"health": "发烧"}),
    "contact": ("/api/v1/parent-contacts", contact, ParentContact, {"who": "父亲"}),
}


@pytest.fixture(params=list(KINDS))
def kind(request):
    return KINDS[request.param]


def test_same_uuid_three_times_is_one_row_201_200_200(client, auth, director, village, kind):
    url, body_of, model, _ = kind
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    body = body_of(child)
    answers = [client.post(url, json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[0].get_json() == answers[1].get_json() == answers[2].get_json()
    assert count(model, model.client_uuid == body["client_uuid"]) == 1
    # the order of the needs is not part of the body
    if model is Visit:
        again = client.post(url, json={**body, "needs": ["living", "education"]})
        assert again.status_code == 200


def test_same_uuid_with_another_body_is_409_and_nothing_is_overwritten(client, auth, director, village, kind):
    url, body_of, model, change = kind
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    body = body_of(child)
    assert client.post(url, json=body).status_code == 201
    refused = client.post(url, json={**body, **change})
    assert refused.status_code == 409
    data = refused.get_json()
    assert data["error"] == "client_uuid_reused" and "内容不同" in data["message"] and "没有改动原记录" in data["message"]
    stored = db.session.scalar(select(model).where(model.client_uuid == body["client_uuid"]))
    field, value = next(iter(change.items()))
    assert getattr(stored, field) != value and count(model) == 1


def test_same_uuid_for_another_child_is_409(client, auth, director, village, kind):
    url, body_of, model, _ = kind
    child, other = create_child("张三", village=village), create_child("李四", village=village)
    auth.login("zhuren_a")
    body = body_of(child)
    assert client.post(url, json=body).status_code == 201
    refused = client.post(url, json={**body, "child_id": other.id})
    assert refused.status_code == 409 and "另一名儿童" in refused.get_json()["message"]
    assert db.session.scalar(select(model.child_id).where(model.client_uuid == body["client_uuid"])) == child.id


def test_same_uuid_by_another_user_is_409(client, auth, director, village, kind):
    url, body_of, model, _ = kind
    child = create_child("张三", village=village)
    create_user("director", username="zhuren_b", villages=[village])
    auth.login("zhuren_a")
    body = body_of(child)
    assert client.post(url, json=body).status_code == 201
    auth.logout()
    auth.login("zhuren_b")
    refused = client.post(url, json=body)  # even the very same body
    assert refused.status_code == 409 and "其他账号" in refused.get_json()["message"]
    assert count(model) == 1


def test_bad_input_is_422_for_every_record_type(client, auth, director, village, kind):
    url, body_of, model, _ = kind
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    response = client.post(url, json=body_of(child, client_uuid="nope"))
    assert response.status_code == 422 and "client_uuid" in response.get_json()["errors"]
    assert count(model) == 0


def test_a_row_stored_before_fingerprints_compares_the_child_only(client, auth, director, village):
    child, other = create_child("张三", village=village), create_child("李四", village=village)
    auth.login("zhuren_a")
    body = visit(child)
    assert client.post("/api/v1/visits", json=body).status_code == 201
    db.session.execute(Visit.__table__.update().values(fingerprint=None))
    db.session.commit()
    assert client.post("/api/v1/visits", json={**body, "health": "别的"}).status_code == 200
    assert client.post("/api/v1/visits", json={**body, "child_id": other.id}).status_code == 409


def test_a_lost_race_rolls_back_only_its_own_insert(app, director, village, monkeypatch):
    """The savepoint: a replay that loses the race on the UNIQUE client_uuid keeps the work done
    before it in the same transaction, and answers with the row the winner stored."""
    from flask_login import login_user

    from blueprints.children.models import Child
    from blueprints.core import offline

    child_id = create_child("张三", village=village).id
    taken = str(uuid.uuid4())
    values = {"visited_on": local_today(), "kind": "home"}
    with app.test_request_context():
        login_user(director)
        first_id = record_visit(db.session.get(Child, child_id), values, [], taken, actor=director).record.id
        db.session.commit()
        child = db.session.get(Child, child_id)
        child.attention_level = "key"  # earlier work of this request
        # as in a race: the first look finds nothing, the insert then meets the winner's row
        looks = []
        real = offline.find_by_uuid
        monkeypatch.setattr(offline, "find_by_uuid", lambda model, u: looks.append(u) or (real(model, u) if len(looks) > 1 else None))
        outcome = record_visit(child, values, [], taken, actor=director)
        assert len(looks) == 2
        assert outcome.status == "replay" and outcome.record.id == first_id
        assert child.attention_level == "key"  # not rolled back with the failed insert
        db.session.commit()
        assert db.session.get(Child, child_id).attention_level == "key"
        assert count(Visit, Visit.client_uuid == taken) == 1


def test_a_created_record_is_not_committed_before_the_request_commits(app, director, village):
    from flask_login import login_user

    child = create_child("张三", village=village)
    with app.test_request_context():
        login_user(director)
        outcome = record_visit(child, {"visited_on": local_today(), "kind": "home"}, [], str(uuid.uuid4()),
                               actor=director)
        assert outcome.created
        db.session.rollback()
        assert count(Visit) == 0


# --- the plain form posts (no JavaScript) ----------------------------------------------------------

def test_form_post_refuses_a_reused_uuid_with_a_message(client, auth, director, village):
    child, other = create_child("张三", village=village), create_child("李四", village=village)
    auth.login("zhuren_a")
    body = visit(child)
    assert client.post("/api/v1/visits", json=body).status_code == 201
    form = {**body, "child_id": other.id, "needs": ["living"]}
    response = client.post("/visits/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "另一名儿童" in page and "已换用新的记录编号" in page
    assert f'value="{body["client_uuid"]}"' not in page  # saving again takes a new client_uuid
    assert count(Visit) == 1
    assert db.session.scalar(select(Visit.child_id)) == child.id
    # the same form again (a second click): a replay, the success page
    assert client.post("/visits/new", data={**body, "needs": body["needs"]}).status_code == 303
    assert count(Visit) == 1


def test_contact_form_post_refuses_a_reused_uuid(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    body = contact(child)
    assert client.post("/api/v1/parent-contacts", json=body).status_code == 201
    response = client.post("/visits/contact", data={**body, "who": "父亲"})
    assert response.status_code == 409 and "内容不同" in response.get_data(as_text=True)
    assert db.session.scalar(select(ParentContact.who)) == "母亲"


def test_a_correction_with_the_uuid_of_another_visit_is_refused(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    first = visit(child, health="发烧")
    second = visit(child)
    first_id = client.post("/api/v1/visits", json=first).get_json()["id"]
    second_id = client.post("/api/v1/visits", json=second).get_json()["id"]
    for fingerprint_kept in (True, False):
        if not fingerprint_kept:  # a row stored before fingerprints: same child, so only corrects_id tells
            db.session.execute(Visit.__table__.update().values(fingerprint=None))
            db.session.commit()
        response = client.post(f"/visits/{second_id}/correct", data={
            **first, "correction_reason": "日期记错"})
        assert response.status_code == 409, fingerprint_kept
        assert "没有改动原记录" in response.get_data(as_text=True)
        db.session.expire_all()
        other, original = db.session.get(Visit, first_id), db.session.get(Visit, second_id)
        assert other.corrects_id is None and not other.superseded and other.health == "发烧"
        assert not original.superseded
    assert count(Visit) == 2


def test_a_correction_posted_twice_is_one_correction(client, auth, director, village):
    child = create_child("张三", village=village)
    auth.login("zhuren_a")
    original_id = client.post("/api/v1/visits", json=visit(child)).get_json()["id"]
    form = {**visit(child, health="好转"), "correction_reason": "漏记"}
    assert client.post(f"/visits/{original_id}/correct", data=form).status_code == 303
    assert count(Visit) == 2
    assert client.post(f"/visits/{original_id}/correct", data=form).status_code == 409  # superseded now
    assert count(Visit) == 2


# --- the outbox page, for every role with an offline form ------------------------------------------

def test_a_volunteer_opens_the_outbox_and_the_bar_links_there(client, auth):
    create_user("volunteer", username="zhiyuan_a")
    auth.login("zhiyuan_a")
    response = client.get("/outbox")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "data-outbox-list" in page
    assert '<a href="/outbox">查看</a>' in page
    assert client.get("/visits/outbox").status_code == 301
    assert client.get("/visits/outbox").headers["Location"].endswith("/outbox")


def test_the_outbox_page_needs_a_sign_in(client):
    response = client.get("/outbox")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
