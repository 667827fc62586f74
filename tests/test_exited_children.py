"""Exited children (item 10): every write refused with 409 and the reason, in one guard
(children.services.ensure_open); 恢复在册 as an explicit action with a required reason, kept in the
history and the audit; the exit note kept, shown on the record page and printed in the archive."""
import unicodedata
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.children import services
from blueprints.children.models import Benefit, Child, ChildCategory, ChildChange, FamilyMember, ParentContact
from blueprints.children.services import ChildExited, FamilyInput
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from blueprints.visits.services import record_contact, record_visit
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village
from tests.test_children_print import get_archive, pdf_text

EXITED = "该儿童已退出关爱服务"
NOTE = "随父母迁往江苏苏州，已转交当地民政"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def town(app):
    village = create_village("甲村")
    school = create_school("甲村小学", [village])
    users = {
        "civil": create_user("civil_affairs", username="minzheng"),
        "admin": create_user("admin", username="guanli"),
        "supervisor": create_user("supervisor", username="dudao"),
        "director": create_user("director", username="zhuren_a", villages=[village]),
        "school": create_user("school", username="xuexiao", school=school),
        "volunteer": create_user("volunteer", username="zhiyuan"),
    }
    # both parents away, not yet marked 留守: the rule would suggest it (and its button writes categories)
    child = create_child("张三", village=village, school=school, categories=["poverty"], family=[
        FamilyInput("父亲", "张伟", "13900001111", works_away=True),
        FamilyInput("母亲", "王芳", "13900002222", works_away=True, is_guardian=True),
    ])
    return {"village": village, "users": users, "child": child}


def exit_now(child, note=NOTE, on=None):
    services.exit_child(child, "moved_away", on or local_today() - timedelta(days=3), note, actor=None)
    db.session.commit()


def snapshot(child_id: int) -> dict:
    """Every kind of row a write to a child could add or change."""
    db.session.expire_all()
    child = db.session.get(Child, child_id)
    return {
        "rows": [count(m, m.child_id == child_id)
                 for m in (Visit, ParentContact, Benefit, FamilyMember, ChildChange, ChildCategory)],
        "audit": count(AuditEvent),
        "child": (child.name, child.address, child.status, child.exit_note, child.last_visit_on),
        "family": sorted((m.relation, m.name, m.phone, m.is_guardian) for m in child.family),
    }


def visit_body(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
            "kind": "home", "health": "发烧咳嗽，已就医", "needs": ["education"], **overrides}


def contact_body(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "contacted_on": local_today().isoformat(),
            "method": "video", "who": "母亲", "note": "问了学习情况", **overrides}


def edit_body(child):
    return {"name": "张三改", "id_number": child.id_number, "gender": "", "ethnicity": "汉族",
            "residence_village_id": child.residence_village_id, "hukou_village_id": 0, "school_id": 0,
            "categories": ["poverty"], "attention_level": "general", "state_guardianship": "none",
            "disability_kind": "", "disability_grade": "", "caregiver_relation": "", "address": "东街1号"}


# (who signs in, method, url, how the body is sent, body)
WRITES = {
    "visit form": ("director", "post", "/visits/new", "form", lambda c: visit_body(c)),
    "visit API": ("director", "post", "/api/v1/visits", "json", lambda c: visit_body(c)),
    "contact form": ("director", "post", "/visits/contact", "form", lambda c: contact_body(c)),
    "contact API": ("director", "post", "/api/v1/parent-contacts", "json", lambda c: contact_body(c)),
    "record page contact": ("civil", "post", "/children/{id}/contacts", "form",
                            lambda c: {"contacted_on": local_today().isoformat(), "who": "母亲", "method": "phone"}),
    "benefit": ("civil", "post", "/children/{id}/benefits", "form",
                lambda c: {"kind": "basic_living", "amount": "600", "period": "每月", "start_on": "2026-01-01"}),
    "edit": ("civil", "post", "/children/{id}/edit", "form", edit_body),
    "edit form": ("civil", "get", "/children/{id}/edit", None, None),
    "family add": ("civil", "post", "/children/{id}/family/new", "form",
                   lambda c: {"relation": "祖母", "name": "李桂兰", "guardianship_capacity": "full",
                              "is_guardian": "y", "id_number": ""}),
    "family add form": ("civil", "get", "/children/{id}/family/new", None, None),
    "family edit": ("civil", "post", "/children/{id}/family/{member}/edit", "form",
                    lambda c: {"relation": "父亲", "name": "张伟", "phone": "13911112222",
                               "guardianship_capacity": "full", "is_guardian": "y", "id_number": ""}),
    "categories (留守 suggestion)": ("civil", "post", "/children/{id}/suggestions/left-behind", "form", lambda c: {}),
    "exit again": ("civil", "post", "/children/{id}/exit", "form",
                   lambda c: {"exit_reason": "age_18", "exit_date": local_today().isoformat()}),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_every_write_to_an_exited_child_is_refused_with_the_reason(town, client, auth, write):
    who, method, url, sent_as, body_of = WRITES[write]
    child = town["child"]
    father = next(m for m in child.family if m.relation == "父亲")
    exit_now(child)
    auth.login(town["users"][who].username)
    before = snapshot(child.id)
    url = url.format(id=child.id, member=father.id)
    if method == "get":
        response = client.get(url)
    elif sent_as == "json":
        response = client.post(url, json=body_of(child))
    else:
        response = client.post(url, data=body_of(child))
    assert response.status_code == 409, (write, response.status_code)
    if sent_as == "json":
        data = response.get_json()
        assert data["error"] == "child_exited"
        text = data["message"]
    else:
        text = response.get_data(as_text=True)
    assert EXITED in text and "迁出本镇" in text and "恢复在册" in text
    assert (local_today() - timedelta(days=3)).isoformat() in text
    assert snapshot(child.id) == before  # nothing written: no row, no history, no audit, no field


def test_the_visit_form_keeps_what_was_typed_when_the_child_has_exited(town, client, auth):
    child = town["child"]
    exit_now(child)
    auth.login("zhuren_a")
    page = client.post("/visits/new", data=visit_body(child)).get_data(as_text=True)
    assert "发烧咳嗽，已就医" in page and EXITED in page
    assert count(Visit) == 0


def test_a_replay_of_a_visit_stored_before_the_exit_is_still_answered_200(town, client, auth):
    """The phone resends what the server already has: the outbox must be able to clear it."""
    child = town["child"]
    auth.login("zhuren_a")
    body = visit_body(child, visited_on=(local_today() - timedelta(days=5)).isoformat())
    assert client.post("/api/v1/visits", json=body).status_code == 201
    exit_now(child)
    again = client.post("/api/v1/visits", json=body)
    assert again.status_code == 200 and again.get_json()["client_uuid"] == body["client_uuid"]
    assert count(Visit) == 1
    assert client.post("/api/v1/visits", json={**body, "client_uuid": str(uuid.uuid4())}).status_code == 409


def test_every_write_service_calls_the_guard(app, town):
    child = town["child"]
    director = town["users"]["director"]
    exit_now(child)
    today = local_today()
    writes = [
        lambda: services.update_child(child, {"address": "东街1号"}, actor=None),
        lambda: services.update_child(child, {}, ["poverty", "disability"], actor=None),
        lambda: services.save_family_member(child, FamilyInput("祖父", "张大山"), actor=None),
        lambda: services.add_parent_contact(child, today, "母亲", "phone", actor=None),
        lambda: services.add_benefit(child, "basic_living", today, actor=None),
        lambda: services.exit_child(child, "age_18", today, actor=None),
        lambda: record_visit(child, {"visited_on": today, "kind": "home"}, [], str(uuid.uuid4()), actor=director),
        lambda: record_contact(child, today, "母亲", "phone", None, str(uuid.uuid4()), actor=director),
    ]
    before = snapshot(child.id)
    for write in writes:
        with pytest.raises(ChildExited):
            write()
    db.session.commit()
    assert snapshot(child.id) == before


# --- 恢复在册 --------------------------------------------------------------------------------------

def test_the_record_page_offers_reinstating_only_to_those_who_may(town, client, auth):
    child = town["child"]
    exit_now(child)
    action = f'action="/children/{child.id}/reinstate"'
    auth.login("minzheng")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert action in page and "恢复原因" in page and "修改档案" not in page
    auth.logout()
    auth.login("zhuren_a")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert action not in page and "已退出" in page


def test_reinstating_needs_a_reason_and_keeps_what_was_typed(town, client, auth):
    child = town["child"]
    exit_now(child)
    auth.login("minzheng")
    response = client.post(f"/children/{child.id}/reinstate", data={"reason": "   "})
    assert response.status_code == 422 and "请填写恢复原因" in response.get_data(as_text=True)
    too_long = "父母再次外出务工" * 30
    response = client.post(f"/children/{child.id}/reinstate", data={"reason": too_long})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "恢复原因最多 200 个字" in page and too_long in page
    db.session.expire_all()
    assert db.session.get(Child, child.id).status == "exited"
    assert count(AuditEvent, AuditEvent.action == "child_reinstated") == 0


def test_reinstating_with_a_reason_reopens_the_record_and_keeps_the_exit_in_the_history(town, client, auth):
    child = town["child"]
    exit_on = local_today() - timedelta(days=3)
    exit_now(child, on=exit_on)
    auth.login("minzheng")
    response = client.post(f"/children/{child.id}/reinstate", data={"reason": "父母再次外出务工，孩子回村居住"})
    assert response.status_code == 303
    db.session.expire_all()
    child = db.session.get(Child, child.id)
    assert (child.status, child.exit_reason, child.exit_date, child.exit_note) == ("active", None, None, None)
    changes = select(ChildChange).where(ChildChange.child_id == child.id).order_by(ChildChange.id)
    history = {c.field: (c.old_value, c.new_value, c.username)  # the latest change of each field
               for c in db.session.scalars(changes)}
    assert history["恢复在册"] == (None, "父母再次外出务工，孩子回村居住", "minzheng")
    assert history["退出原因"] == ("迁出本镇", None, "minzheng")
    assert history["退出日期"] == (exit_on.isoformat(), None, "minzheng")
    assert history["退出说明"] == (NOTE, None, "minzheng")
    assert history["状态"] == ("已退出", "在册", "minzheng")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "child_reinstated"))
    assert event.username == "minzheng" and event.object_id == str(child.id) and "父母再次外出务工" in event.detail
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "父母再次外出务工，孩子回村居住" in page and NOTE in page  # both in the history
    assert "修改档案" in page and f'action="/children/{child.id}/reinstate"' not in page
    # writes are accepted again, from the record page and from the phone
    assert client.get(f"/children/{child.id}/edit").status_code == 200
    assert client.post(f"/children/{child.id}/benefits", data={
        "kind": "basic_living", "amount": "600", "period": "每月", "start_on": "2026-01-01"}).status_code == 303
    auth.logout()
    auth.login("zhuren_a")
    assert client.post("/api/v1/visits", json=visit_body(child)).status_code == 201
    assert client.post("/visits/contact", data=contact_body(child)).status_code == 303
    assert (count(Visit), count(ParentContact), count(Benefit)) == (1, 1, 1)
    # and a second reinstatement has nothing to do
    auth.logout()
    auth.login("minzheng")
    assert client.post(f"/children/{child.id}/reinstate", data={"reason": "再次"}).status_code == 409


def test_reinstating_returns_to_the_status_before_the_exit(town, client, auth):
    child = town["child"]
    services.update_child(child, {"status": "registered"}, actor=None)
    exit_now(child)
    auth.login("guanli")  # admin may too
    assert client.post(f"/children/{child.id}/reinstate", data={"reason": "误办退出"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Child, child.id).status == "registered"


@pytest.mark.parametrize("who", ["director", "supervisor", "school", "volunteer"])
def test_reinstating_is_refused_to_other_roles(town, client, auth, who):
    child = town["child"]
    exit_now(child)
    auth.login(town["users"][who].username)
    response = client.post(f"/children/{child.id}/reinstate", data={"reason": "父母再次外出务工"})
    assert response.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Child, child.id).status == "exited"


def test_reinstating_needs_a_sign_in_and_the_csrf_token(_app, town):
    child = town["child"]
    exit_now(child)
    anonymous = _app.test_client().post(f"/children/{child.id}/reinstate", data={"reason": "x"})
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    _app.config["WTF_CSRF_ENABLED"] = True
    try:
        c = _app.test_client()
        page = c.get("/login").get_data(as_text=True)
        token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        c.post("/login", data={"username": "minzheng", "password": "correct-horse-1", "csrf_token": token})
        response = c.post(f"/children/{child.id}/reinstate", data={"reason": "父母再次外出务工"})
        assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False
    db.session.expire_all()
    assert db.session.get(Child, child.id).status == "exited"


# --- the exit note -------------------------------------------------------------------------------

def test_the_exit_note_round_trips_to_the_record_page_and_the_archive(town, client, auth):
    child = town["child"]
    auth.login("minzheng")
    exit_on = local_today() - timedelta(days=1)
    response = client.post(f"/children/{child.id}/exit", data={
        "exit_reason": "moved_away", "exit_date": exit_on.isoformat(), "note": f"  {NOTE}  "})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Child, child.id).exit_note == NOTE
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert f"退出说明：{NOTE}" in page
    text = pdf_text(get_archive(client, child))  # NFKC: the PDF's text has the ASCII comma
    assert "退出说明" in text and unicodedata.normalize("NFKC", NOTE) in text and exit_on.isoformat() in text
    assert count(AuditEvent, AuditEvent.action == "child_exited") == 1


def test_exited_children_are_not_offered_for_visits(town, client, auth):
    child = town["child"]
    exit_now(child, on=date(2026, 1, 1))
    auth.login("zhuren_a")
    assert all(c["id"] != child.id for c in client.get("/api/v1/due-list").get_json()["children"])
