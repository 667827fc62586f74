"""Views in the audit trail (item 12): the visit page, the child's edit form, the family forms and the
due-list download each leave one compact event (action, the child, a short detail), shown on the
audit page with its Chinese label; a failure to record never fails the page."""
import uuid

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError

from blueprints.children.services import FamilyInput
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from extensions import db
from tests.factories import create_child, create_user, create_village

LABELS = {
    "visit_viewed": "查看走访记录",
    "child_edit_opened": "打开儿童档案修改页",
    "family_form_opened": "打开家庭成员表单",
    "due_list_downloaded": "下载走访名单",
}


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


@pytest.fixture
def town(app):
    a, b = create_village("甲村"), create_village("乙村")
    create_user("director", username="zhuren_a", villages=[a])
    create_user("director", username="zhuren_b", villages=[b])
    create_user("civil_affairs", username="minzheng")
    create_user("admin", username="guanli")
    child = create_child("张三", village=a, family=[FamilyInput("父亲", "张伟", "13900001111", works_away=True)])
    return {"a": a, "child": child}


def a_visit(client, auth, child) -> int:
    auth.login("zhuren_a")
    response = client.post("/api/v1/visits", json={
        "client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
        "kind": "home"})
    return response.get_json()["id"]


def test_viewing_a_visit_is_recorded(town, client, auth):
    child = town["child"]
    visit_id = a_visit(client, auth, child)
    response = client.get(f"/visits/{visit_id}")
    assert response.status_code == 200 and "张三" in response.get_data(as_text=True)
    [seen] = events("visit_viewed")
    assert (seen.username, seen.object_type, seen.object_id) == ("zhuren_a", "children", str(child.id))
    assert seen.detail == f"张三：走访 #{visit_id}"
    client.get(f"/visits/{visit_id}")
    assert len(events("visit_viewed")) == 2  # every view, not the first only
    auth.logout()
    auth.login("zhuren_b")  # outside the reach: 404 and nothing recorded
    assert client.get(f"/visits/{visit_id}").status_code == 404
    assert len(events("visit_viewed")) == 2


def test_opening_the_edit_and_family_forms_is_recorded(town, client, auth):
    child = town["child"]
    father = child.family[0]
    auth.login("minzheng")
    assert client.get(f"/children/{child.id}/edit").status_code == 200
    [opened] = events("child_edit_opened")
    assert (opened.username, opened.object_type, opened.object_id, opened.detail) == (
        "minzheng", "children", str(child.id), "张三")
    assert client.get(f"/children/{child.id}/family/new").status_code == 200
    assert client.get(f"/children/{child.id}/family/{father.id}/edit").status_code == 200
    assert [(e.object_id, e.detail) for e in events("family_form_opened")] == [
        (str(child.id), "张三：新增成员"), (str(child.id), "张三：父亲张伟")]
    # a POST is the change (audited as such), not another view
    client.post(f"/children/{child.id}/family/{father.id}/edit", data={
        "relation": "父亲", "name": "张伟", "phone": "13911112222", "guardianship_capacity": "full",
        "id_number": ""})
    assert len(events("family_form_opened")) == 2 and len(events("child_updated")) == 1
    auth.logout()
    auth.login("zhuren_b")
    assert client.get(f"/children/{child.id}/edit").status_code == 404
    assert len(events("child_edit_opened")) == 1


def test_downloading_the_due_list_is_recorded(town, client, auth):
    auth.login("zhuren_a")
    response = client.get("/api/v1/due-list")
    assert response.status_code == 200 and [c["name"] for c in response.get_json()["children"]] == ["张三"]
    [download] = events("due_list_downloaded")
    assert download.username == "zhuren_a" and download.detail == "1 名儿童"
    auth.logout()
    auth.login("guanli")  # no visits:write: refused, and nothing recorded
    assert client.get("/api/v1/due-list").status_code == 403
    assert len(events("due_list_downloaded")) == 1


def test_the_audit_page_shows_views_with_chinese_labels(town, client, auth):
    child = town["child"]
    visit_id = a_visit(client, auth, child)
    client.get(f"/visits/{visit_id}")
    client.get("/api/v1/due-list")
    auth.logout()
    auth.login("minzheng")
    client.get(f"/children/{child.id}/edit")
    client.get(f"/children/{child.id}/family/new")
    auth.logout()
    auth.login("guanli")
    page = client.get("/admin/audit").get_data(as_text=True)
    for action, label in LABELS.items():
        assert f'<span class="tag">{label}</span>' in page, action
    only = client.get("/admin/audit?action=visit_viewed")
    assert only.status_code == 200
    assert "查看走访记录" in only.get_data(as_text=True) and "共 1 条" in only.get_data(as_text=True)


def test_a_failure_to_record_a_view_does_not_fail_the_page(town, client, auth):
    child = town["child"]
    visit_id = a_visit(client, auth, child)

    def refuse(mapper, connection, target):
        raise SQLAlchemyError("the audit table is not writable")

    event.listen(AuditEvent, "before_insert", refuse)
    try:
        response = client.get(f"/visits/{visit_id}")
        due = client.get("/api/v1/due-list")
    finally:
        event.remove(AuditEvent, "before_insert", refuse)
    assert response.status_code == 200 and "张三" in response.get_data(as_text=True)
    assert due.status_code == 200 and due.get_json()["children"][0]["name"] == "张三"
    assert events("visit_viewed") == [] and events("due_list_downloaded") == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) > 0  # the visit's own events stand
