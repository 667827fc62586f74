"""The volunteer roster: register, edit, take off and back (her login follows), the history of
every change, bad input named field by field, capacity against her open pairings, the
organisations, and who may see or change any of it."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.auth.models import User, UserSession
from blueprints.core.audit import AuditEvent
from blueprints.volunteers.models import Organisation, Pairing, Volunteer, VolunteerChange
from extensions import db
from tests.factories import PASSWORD, create_child, create_pairing, create_user, create_village, create_volunteer

GOOD_PASSWORD = "qiuju-reads-7"


def sign_in(auth, role: str = "civil_affairs", **reach):
    user = create_user(role, **reach)
    assert auth.login(user.username).status_code == 303
    return user


def fresh(model, id_):
    db.session.rollback()  # the request committed on its own connection
    return db.session.get(model, id_)


def changes(volunteer_id: int) -> list[tuple]:
    db.session.rollback()
    return db.session.execute(select(VolunteerChange.field, VolunteerChange.old_value, VolunteerChange.new_value,
                                     VolunteerChange.username)
                              .where(VolunteerChange.volunteer_id == volunteer_id).order_by(VolunteerChange.id)).all()


def actions(action: str) -> list[str]:
    db.session.rollback()
    query = select(AuditEvent.detail).where(AuditEvent.action == action).order_by(AuditEvent.id)
    return db.session.scalars(query).all()


def form_data(**overrides) -> dict:
    data = dict(name="王秋菊", kind="caring_mother", organisation_id="0", village_id="0", phone="13812345678",
                skills=["reading", "psychological"], capacity="3", note="周末有空", username="qiuju",
                password=GOOD_PASSWORD)
    data.update(overrides)
    return data


@pytest.fixture
def place(app):
    village = create_village("前王庄村")
    organisation = Organisation(name="拳铺镇青年志愿者协会", kind="social_org", village_id=village.id)
    db.session.add(organisation)
    db.session.commit()
    return village, organisation


# --- register, edit, deactivate ------------------------------------------------------------------


def test_register_makes_her_profile_her_login_and_the_first_history(client, auth, place):
    village, organisation = place
    staff = sign_in(auth)
    response = client.post("/volunteers/new", data=form_data(organisation_id=str(organisation.id),
                                                             village_id=str(village.id)))
    assert response.status_code == 303
    volunteer = db.session.scalar(select(Volunteer))
    assert response.headers["Location"].endswith(f"/volunteers/{volunteer.id}")
    # the app, not the keeper's reminder, has her set her own at her first sign-in
    assert "她第一次登录时要先改成只有她自己知道的密码" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert (volunteer.name, volunteer.kind, volunteer.capacity, volunteer.phone, volunteer.note) == (
        "王秋菊", "caring_mother", 3, "13812345678", "周末有空")
    assert volunteer.organisation_id == organisation.id and volunteer.village_id == village.id
    assert sorted(volunteer.skills) == ["psychological", "reading"]
    login = volunteer.user
    assert (login.username, login.role, login.volunteer_kind, login.display_name, login.active) == (
        "qiuju", "volunteer", "caring_mother", "王秋菊", True)
    assert login.check_password(GOOD_PASSWORD) and volunteer.created_by_id == staff.id
    assert login.password_is_temporary  # the roster's keeper knows it: she sets her own at sign-in
    history = {field: (old, new, who) for field, old, new, who in changes(volunteer.id)}
    assert history["姓名"] == (None, "王秋菊", staff.username)
    assert history["所属组织"] == (None, "拳铺镇青年志愿者协会", staff.username)
    assert history["特长"] == (None, "阅读陪伴、心理陪伴", staff.username)
    assert history["登录名"] == (None, "qiuju", staff.username)
    assert actions("volunteer_created") == ["王秋菊（爱心妈妈，登录名 qiuju）"]

    auth.logout()
    assert auth.login("qiuju", GOOD_PASSWORD).status_code == 303  # she can sign in with it


def test_edit_keeps_each_change_and_her_login_follows(client, auth, place):
    village, organisation = place
    staff = sign_in(auth)
    volunteer = create_volunteer(name="周桂兰", kind="caring_mother", skills=("reading",), capacity=2)
    response = client.post(f"/volunteers/{volunteer.id}/edit", data=form_data(
        name="周桂芳", kind="teacher", village_id=str(village.id), organisation_id=str(organisation.id),
        skills=["tutoring", "reading"], capacity="4", phone="", note=""))
    assert response.status_code == 303
    rows = changes(volunteer.id)
    assert ("姓名", "周桂兰", "周桂芳", staff.username) in rows
    assert ("类别", "爱心妈妈", "教师志愿者", staff.username) in rows
    assert ("所在村", None, "前王庄村", staff.username) in rows
    assert ("可结对人数", "2", "4", staff.username) in rows
    assert ("特长", "阅读陪伴", "课业辅导、阅读陪伴", staff.username) in rows
    volunteer = fresh(Volunteer, volunteer.id)
    assert sorted(volunteer.skills) == ["reading", "tutoring"]
    assert (volunteer.user.display_name, volunteer.user.volunteer_kind) == ("周桂芳", "teacher")
    assert actions("volunteer_updated") == ["周桂芳：修改 6 项"]

    page = client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
    assert "周桂兰 → 周桂芳" in page and "爱心妈妈 → 教师志愿者" in page

    # Saving the same again changes nothing and writes no history.
    before = len(changes(volunteer.id))
    client.post(f"/volunteers/{volunteer.id}/edit", data=form_data(
        name="周桂芳", kind="teacher", village_id=str(village.id), organisation_id=str(organisation.id),
        skills=["tutoring", "reading"], capacity="4", phone="", note=""))
    assert len(changes(volunteer.id)) == before


def test_deactivate_disables_her_login_and_ends_her_sessions_reactivate_restores(app, client, auth):
    volunteer = create_volunteer(name="李春燕")
    her = app.test_client()
    assert her.post("/login", data={"username": volunteer.user.username, "password": PASSWORD}).status_code == 303
    assert her.get("/").status_code == 200

    staff = sign_in(auth)
    response = client.post(f"/volunteers/{volunteer.id}/active", data={"active": "0"}, follow_redirects=True)
    assert "李春燕 已停用，她的登录也已停用" in response.get_data(as_text=True)
    volunteer = fresh(Volunteer, volunteer.id)
    assert volunteer.active is False and volunteer.user.active is False
    assert db.session.scalar(select(func.count(UserSession.id)).where(
        UserSession.user_id == volunteer.user_id, UserSession.ended_at.is_(None))) == 0
    assert her.get("/").status_code in (302, 303)  # signed out: her session ended
    assert ("状态", "在册", "已停用", staff.username) in changes(volunteer.id)
    assert db.session.get(Volunteer, volunteer.id) is not None  # kept, not deleted

    listed = client.get("/volunteers").get_data(as_text=True)
    assert "李春燕" not in listed  # the list shows the active roster by default
    assert "李春燕" in client.get("/volunteers?status=inactive").get_data(as_text=True)

    client.post(f"/volunteers/{volunteer.id}/active", data={"active": "1"})
    volunteer = fresh(Volunteer, volunteer.id)
    assert volunteer.active is True and volunteer.user.active is True
    assert ("状态", "已停用", "在册", staff.username) in changes(volunteer.id)
    assert her.post("/login", data={"username": volunteer.user.username, "password": PASSWORD}).status_code == 303


# --- bad input --------------------------------------------------------------------------------

BAD_FIELDS = [
    (dict(name=""), "请填写姓名"),
    (dict(name="王" * 41), "姓名最多 40 个字"),
    (dict(kind="alien"), "请从列表中选择类别"),
    (dict(organisation_id="999999"), "请从列表中选择所属组织"),
    (dict(village_id="999999"), "请从列表中选择所在村"),
    (dict(village_id="东村"), "请从列表中选择所在村"),
    (dict(phone="12345"), "电话应为 11 位手机号"),
    (dict(capacity="0"), "可结对人数应在 1 到 10 之间"),
    (dict(capacity="11"), "可结对人数应在 1 到 10 之间"),
    (dict(capacity="两个"), "可结对人数请填写整数"),
    (dict(capacity=""), "请填写可结对人数"),
    (dict(skills=["flying"]), "请从列表中选择特长"),
    (dict(note="备" * 201), "备注最多 200 个字"),
    (dict(username=""), "请填写登录名"),
    (dict(username="王秋菊"), "登录名只能用字母、数字"),
    (dict(username="ab"), "登录名只能用字母、数字"),
    (dict(password=""), "请填写初始密码"),
    (dict(password="short1"), "初始密码至少 10 个字符"),
    (dict(password="1234567890123"), "初始密码不能全是数字"),
    (dict(username="qiujuqiuju", password="QiujuQiuju"), "初始密码不能与用户名相同"),
]


@pytest.mark.parametrize("bad, message", BAD_FIELDS)
def test_bad_input_is_named_in_chinese_and_the_form_keeps_what_was_typed(client, auth, place, bad, message):
    sign_in(auth)
    data = form_data(**{"name": "赵小兰", "note": "只在周末", "phone": "13912345678", **bad})
    response = client.post("/volunteers/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    for key in ("name", "note", "phone", "username", "capacity"):
        if data[key] and key not in bad:
            assert str(data[key]) in page  # typed values come back
    if "capacity" in bad and bad["capacity"]:
        assert f'value="{bad["capacity"]}"' in page
    if bad.get("capacity") == "两个":
        assert "应在 1 到 10 之间" not in page  # one reason: not a number
    if "skills" not in bad:
        assert re.search(r'<input checked[^>]*value="reading"', page)  # ticked boxes stay ticked
    assert db.session.scalar(select(func.count(Volunteer.id))) == 0
    assert db.session.scalar(select(func.count(User.id)).where(User.role == "volunteer")) == 0


def test_a_login_name_taken_whatever_its_case_is_refused(client, auth):
    create_user("director", username="QiuJu")
    sign_in(auth)
    response = client.post("/volunteers/new", data=form_data(username="qiuju"))
    assert response.status_code == 422
    assert "登录名“qiuju”已被使用，请换一个" in response.get_data(as_text=True)


def test_capacity_below_her_open_pairings_is_refused_on_the_field(client, auth):
    sign_in(auth)
    volunteer = create_volunteer(name="孙丽", capacity=3)
    for name in ("甲", "乙"):
        create_pairing(create_child(name=f"张{name}"), volunteer)
    create_pairing(create_child(name="张丙"), volunteer, ended_on=date(2026, 3, 1))
    response = client.post(f"/volunteers/{volunteer.id}/edit", data=form_data(name="孙丽", capacity="1"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "可结对人数：孙丽 现有 2 个进行中的结对，不能少于 2" in page
    assert 'value="1"' in page
    assert fresh(Volunteer, volunteer.id).capacity == 3 and changes(volunteer.id) == []

    assert client.post(f"/volunteers/{volunteer.id}/edit", data=form_data(name="孙丽", capacity="2")).status_code == 303
    assert fresh(Volunteer, volunteer.id).capacity == 2  # her two open pairings fit; the ended one does not count


# --- list and detail ---------------------------------------------------------------------------


def test_the_list_filters_and_shows_open_pairings_against_capacity(client, auth, place):
    village, organisation = place
    sign_in(auth)
    mother = create_volunteer(name="周桂兰", kind="caring_mother", village=village, capacity=2, organisation=organisation)
    create_volunteer(name="刘强", kind="youth")
    create_pairing(create_child(name="张小明"), mother)
    page = client.get("/volunteers").get_data(as_text=True)
    assert "周桂兰" in page and "刘强" in page and "结对 1 / 2" in page
    page = client.get("/volunteers?kind=youth").get_data(as_text=True)
    assert "刘强" in page and "周桂兰" not in page
    page = client.get(f"/volunteers?village={village.id}").get_data(as_text=True)
    assert "周桂兰" in page and "刘强" not in page
    page = client.get(f"/volunteers?organisation={organisation.id}").get_data(as_text=True)
    assert "周桂兰" in page and "刘强" not in page
    page = client.get("/volunteers?q=桂").get_data(as_text=True)
    assert "周桂兰" in page and "刘强" not in page
    fragment = client.get("/volunteers?q=刘", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "刘强" in fragment and "<html" not in fragment  # htmx gets the results only


def test_the_detail_lists_her_pairings_with_the_child_name_only_and_is_audited(client, auth):
    sign_in(auth)
    volunteer = create_volunteer(name="周桂兰")
    child = create_child(name="张小明", address="前王庄村东街 8 号")
    create_pairing(child, volunteer, programme="qianshou")
    page = client.get(f"/volunteers/{volunteer.id}").get_data(as_text=True)
    assert "张小明" in page and "牵手关爱行动" in page and "2026-01-05" in page
    assert f"/pairings/{db.session.scalar(select(Pairing.id))}\"" in page
    assert f"/pairings/match/volunteer/{volunteer.id}" in page  # one place left of her two
    assert child.id_number not in page and "东街" not in page
    assert actions("volunteer_viewed") == ["周桂兰"]


# --- organisations -----------------------------------------------------------------------------


def test_organisations_are_added_edited_and_audited(client, auth, place):
    village, _ = place
    sign_in(auth)
    response = client.post("/volunteers/organisations", data=dict(
        name="前王庄村儿童之家", kind="service_site", village_id=str(village.id), contact="王红", phone="13800001111",
        active="y"))
    assert response.status_code == 303
    organisation = db.session.scalar(select(Organisation).where(Organisation.name == "前王庄村儿童之家"))
    assert (organisation.kind, organisation.village_id, organisation.contact, organisation.active) == (
        "service_site", village.id, "王红", True)
    response = client.post(f"/volunteers/organisations/{organisation.id}/edit", data=dict(
        name="前王庄村儿童之家", kind="service_site", village_id="0", contact="王红", phone=""))
    assert response.status_code == 303
    organisation = fresh(Organisation, organisation.id)
    assert organisation.active is False and organisation.village_id is None
    assert actions("organisation_saved") == ["新增：前王庄村儿童之家（服务站点，启用）", "修改：前王庄村儿童之家（服务站点，停用）"]

    bad = client.post("/volunteers/organisations", data=dict(name="拳铺镇青年志愿者协会", kind="social_org",
                                                            village_id="0", phone="110"))
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert "已有名为“拳铺镇青年志愿者协会”的组织或站点" in page and "联系电话应为 11 位手机号" in page
    assert "前王庄村儿童之家" in client.get("/volunteers/organisations").get_data(as_text=True)


# --- who may -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role, reach", [
    ("director", {}), ("school", {}), ("volunteer", {}), ("department", {"department_code": "police"}),
])
def test_wrong_roles_get_403_everywhere(client, auth, role, reach):
    volunteer = create_volunteer(name="周桂兰")
    if role == "director":
        reach = {"villages": [create_village()]}
    sign_in(auth, role, **reach)
    for url in ("/volunteers", f"/volunteers/{volunteer.id}", "/volunteers/new", f"/volunteers/{volunteer.id}/edit",
                "/volunteers/organisations", "/volunteers/import", "/volunteers/import/template.xlsx"):
        assert client.get(url).status_code == 403, url
    assert client.post("/volunteers/new", data=form_data()).status_code == 403
    assert client.post(f"/volunteers/{volunteer.id}/active", data={"active": "0"}).status_code == 403
    assert client.post("/volunteers/organisations", data={"name": "某协会", "kind": "social_org"}).status_code == 403
    assert fresh(Volunteer, volunteer.id).active is True


def test_admin_reads_but_may_not_change(client, auth):
    volunteer = create_volunteer(name="周桂兰")
    sign_in(auth, "admin")
    assert "周桂兰" in client.get("/volunteers").get_data(as_text=True)
    assert client.get(f"/volunteers/{volunteer.id}").status_code == 200
    assert client.get("/volunteers/organisations").status_code == 200
    assert client.get("/volunteers/new").status_code == 403
    assert client.post(f"/volunteers/{volunteer.id}/active", data={"active": "0"}).status_code == 403
    assert client.post("/volunteers/organisations", data={"name": "某协会", "kind": "social_org"}).status_code == 403


@pytest.mark.parametrize("code", ["youth", "women"])
def test_youth_league_and_women_federation_users_may_manage(client, auth, code):
    sign_in(auth, "department", department_code=code)
    assert client.get("/volunteers").status_code == 200
    response = client.post("/volunteers/new", data=form_data(username=f"tw_{code}"))
    assert response.status_code == 303
    volunteer = db.session.scalar(select(Volunteer))
    assert volunteer.user.username == f"tw_{code}"
    assert client.post(f"/volunteers/{volunteer.id}/edit", data=form_data(capacity="5")).status_code == 303
    assert fresh(Volunteer, volunteer.id).capacity == 5


def test_a_missing_volunteer_is_404(client, auth):
    sign_in(auth)
    assert client.get("/volunteers/99999").status_code == 404
    assert client.post("/volunteers/99999/edit", data=form_data()).status_code == 404
