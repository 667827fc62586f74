import re

from sqlalchemy import func, select

from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from blueprints.core.audit import AuditEvent
from extensions import db
from tests.factories import create_school, create_user, create_village, department


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def user_form(**overrides):
    data = {
        "username": "zhuren7", "display_name": "李娟", "phone": "13812345678", "role": "director",
        "volunteer_kind": "", "school_id": 0, "department_id": 0, "active": "y",
        "password": "first-pass-77",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_director(client, auth):
    create_user("admin", username="boss")
    village = create_village("东村")
    auth.login("boss")
    response = client.post("/admin/users/new", data=user_form(villages=[village.id]))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "zhuren7"))
    assert user.display_name == "李娟"
    assert [v.name for v in user.villages] == ["东村"]
    assert user.check_password("first-pass-77")
    assert user.password_hash.startswith("scrypt:")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_created"))
    assert event.object_id == str(user.id) and "东村" in event.detail and event.username == "boss"
    # the new director signs in, sets her own password (the one the administrator set is
    # temporary) and sees the village
    client.post("/logout")
    auth.login("zhuren7", "first-pass-77")
    assert client.get("/").headers["Location"] == "/account/password"
    client.post("/account/password", data={"current_password": "first-pass-77", "new_password": "her-own-pass-88",
                                            "confirm_password": "her-own-pass-88"})
    assert "东村" in client.get("/").get_data(as_text=True)


def test_a_school_account_has_a_duty_and_only_a_school_account(client, auth):
    """Only the mental-health teacher of a school sees its screenings: the duty is on the account."""
    create_user("admin", username="boss")
    school = create_school("东村小学")
    auth.login("boss")
    response = client.post("/admin/users/new", data=user_form(role="school", school_id=school.id,
                                                              school_duty="mental_health"))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "zhuren7"))
    assert (user.school_id, user.school_duty) == (school.id, "mental_health")
    assert user.role_label == "学校·心理老师"
    # made a director, the account keeps no school and no duty
    response = client.post(f"/admin/users/{user.id}/edit", data=user_form(role="director", school_duty="mental_health",
                                                                    villages=[create_village("东村").id]))
    assert response.status_code == 303
    db.session.refresh(user)
    assert (user.school_id, user.school_duty) == (None, None)


def test_duplicate_username_is_refused_and_nothing_changes(client, auth):
    create_user("admin", username="boss")
    create_user("director", username="zhuren7", villages=[create_village("东村")])
    village = create_village("西村")
    auth.login("boss")
    before = count(User)
    response = client.post("/admin/users/new", data=user_form(username="ZHUREN7", display_name="新人",
                                                              villages=[village.id]))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "用户名“ZHUREN7”已被使用，请换一个" in page
    assert 'value="新人"' in page  # the rest of the form is kept
    assert count(User) == before
    assert count(AuditEvent) == 1  # only boss's login


def test_empty_and_overlong_fields_are_named(client, auth):
    create_user("admin", username="boss")
    auth.login("boss")
    before = count(User)
    response = client.post("/admin/users/new", data=user_form(display_name="", username="x" * 41, password=""))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请填写姓名" in page
    assert "用户名应为 3–40 个字符" in page
    assert "请填写初始密码" in page
    assert count(User) == before


def test_bad_username_characters_and_phone(client, auth):
    create_user("admin", username="boss")
    village = create_village()
    auth.login("boss")
    response = client.post("/admin/users/new", data=user_form(username="张 三", phone="12345",
                                                              villages=[village.id]))
    page = response.get_data(as_text=True)
    assert "用户名只能用字母、数字" in page
    assert "电话应为 11 位手机号" in page


def test_each_role_needs_its_reach(client, auth):
    create_user("admin", username="boss")
    auth.login("boss")
    cases = [
        (user_form(role="director"), "儿童主任至少要负责一个村"),
        (user_form(role="school"), "学校账号要选择所在学校"),
        (user_form(role="school", school_duty=""), "学校账号要选择职责"),
        (user_form(role="department"), "部门账号要选择所在部门"),
        (user_form(role="volunteer", volunteer_kind=""), "请选择志愿者类别"),
    ]
    for data, message in cases:
        response = client.post("/admin/users/new", data=data)
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert count(User) == 1


def test_caring_mother_is_a_volunteer_of_that_kind(client, auth):
    create_user("admin", username="boss")
    auth.login("boss")
    response = client.post("/admin/users/new", data=user_form(username="mama2", role="volunteer",
                                                              volunteer_kind="caring_mother"))
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.username == "mama2"))
    assert (user.role, user.volunteer_kind, user.role_label) == ("volunteer", "caring_mother", "爱心妈妈")


def test_changing_role_drops_the_old_reach(client, auth):
    create_user("admin", username="boss")
    village = create_village("东村")
    school = create_school("东村小学", [village])
    director = create_user("director", username="zhuren7", villages=[village])
    auth.login("boss")
    response = client.post(f"/admin/users/{director.id}/edit", data=user_form(
        role="school", school_id=school.id, school_duty="head_teacher", villages=[village.id], password=""))
    assert response.status_code == 303
    db.session.refresh(director)
    assert director.role == "school"
    assert director.villages == []
    assert director.school_id == school.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user_updated"))
    assert "角色：儿童主任 → 学校" in event.detail


def test_admin_resets_a_password(client, auth, app):
    create_user("admin", username="boss")
    village = create_village()
    user = create_user("director", username="zhuren7", villages=[village])
    auth.login("boss")
    response = client.post(f"/admin/users/{user.id}/edit", data=user_form(
        villages=[village.id], password="reset-pass-99"))
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.check_password("reset-pass-99")
    actions = list(db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_id == str(user.id))))
    assert "password_reset" in actions


def test_user_list_search(client, auth):
    create_user("admin", username="boss")
    create_user("director", username="zhuren7", display_name="李娟", villages=[create_village()])
    create_user("volunteer", username="mama2", display_name="周桂兰")
    auth.login("boss")
    page = client.get("/admin/users?q=李").get_data(as_text=True)
    assert "李娟" in page and "周桂兰" not in page
    page = client.get("/admin/users?role=volunteer").get_data(as_text=True)
    assert "周桂兰" in page and "李娟" not in page


def test_reference_data_editing(client, auth):
    create_user("admin", username="boss")
    auth.login("boss")
    assert client.post("/admin/villages/new", data={"name": " 北村 ", "active": "y"}).status_code == 303
    north = db.session.scalar(select(Village).where(Village.name == "北村"))
    assert north is not None

    response = client.post("/admin/villages/new", data={"name": "北村", "active": "y"})
    assert response.status_code == 422
    assert "已有名为“北村”的村" in response.get_data(as_text=True)
    assert count(Village) == 1

    response = client.post("/admin/villages/new", data={"name": "", "active": "y"})
    assert "请填写村名" in response.get_data(as_text=True)

    response = client.post("/admin/schools/new", data={"name": "北村小学", "kind": "primary",
                                                       "villages": [north.id], "active": "y"})
    assert response.status_code == 303
    school = db.session.scalar(select(School).where(School.name == "北村小学"))
    assert [v.name for v in school.villages] == ["北村"]

    police = department("police")
    response = client.post(f"/admin/departments/{police.id}/edit", data={"name": "拳铺派出所", "active": "y"})
    assert response.status_code == 303
    db.session.refresh(police)
    assert (police.code, police.name) == ("police", "拳铺派出所")
    assert count(Department) == 13

    page = client.get("/admin/reference").get_data(as_text=True)
    assert "北村小学" in page and "拳铺派出所" in page
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"village_saved", "school_saved", "department_saved"} <= actions


def test_audit_log_page_filters(client, auth):
    create_user("admin", username="boss")
    create_user("civil_affairs", username="minzheng")
    auth.login("boss")
    client.post("/admin/villages/new", data={"name": "北村", "active": "y"})
    client.post("/logout")
    auth.login("minzheng")
    page = client.get("/admin/audit?action=village_saved").get_data(as_text=True)
    assert "北村" in page and "共 1 条" in page
    assert client.get("/admin/audit?action=nonsense").status_code == 404
    # civil affairs may read the log but not manage users
    assert client.get("/admin/users").status_code == 403


def test_phone_rule_is_the_one_the_import_uses(client, auth):
    """12x numbers are no Chinese mobile: the form refuses them as the Excel import does."""
    from blueprints.core.workbook import phone_number

    create_user("admin", username="boss")
    auth.login("boss")
    response = client.post("/admin/users/new", data=user_form(role="volunteer", volunteer_kind="youth",
                                                              phone="12812345678"))
    assert response.status_code == 422 and "电话应为 11 位手机号" in response.get_data(as_text=True)
    assert phone_number("12812345678") is None and phone_number("13812345678") == "13812345678"
    assert phone_number("0530-1234567") == "0530-1234567"


def test_the_administrators_form_keeps_a_school_coordinator(client, auth):
    """As /schools/staff does: the school's only active coordinator is not made something else,
    moved to another school or disabled until another coordinator is named."""
    create_user("admin", username="boss")
    school, other = create_school("东村小学"), create_school("西村小学")
    coordinator = create_user("school", username="xuexiao7", school=school, display_name="陈静")
    auth.login("boss")

    def edit(**overrides):
        data = user_form(username="xuexiao7", display_name="陈静", role="school", school_id=school.id,
                         school_duty="coordinator", password="")
        data.update(overrides)
        if data.get("active") is None:
            data.pop("active")
        return client.post(f"/admin/users/{coordinator.id}/edit", data=data)

    for change in ({"school_duty": "head_teacher"}, {"school_id": other.id}, {"active": None},
                   {"role": "director", "villages": [create_village("东村").id]}):
        response = edit(**change)
        assert response.status_code == 422, change
        assert "陈静 是本校唯一的关爱工作负责人" in response.get_data(as_text=True), change
        assert 'value="xuexiao7"' in response.get_data(as_text=True)  # what was typed is kept
        db.session.refresh(coordinator)
        assert (coordinator.role, coordinator.school_id, coordinator.school_duty, coordinator.active) == \
            ("school", school.id, "coordinator", True), change
    assert edit(phone="13900002222").status_code == 303  # what keeps her the coordinator is saved
    create_user("school", username="xuexiao8", school=school)  # a second coordinator
    assert edit(school_duty="head_teacher").status_code == 303
    db.session.refresh(coordinator)
    assert coordinator.school_duty == "head_teacher"


def test_the_coordinators_message_stands_beside_the_field_changed(client, auth):
    """The refusal is shown under what the administrator changed: the school under 所在学校, the
    role under 角色, the duty under 学校职责, the switch under 启用."""
    create_user("admin", username="boss")
    school, other = create_school("东村小学"), create_school("西村小学")
    coordinator = create_user("school", username="xuexiao7", school=school, display_name="陈静")
    auth.login("boss")
    base = user_form(username="xuexiao7", display_name="陈静", role="school", school_id=school.id,
                     school_duty="coordinator", password="")
    for change, field in (({"school_id": other.id}, "school_id"), ({"role": "civil_affairs"}, "role"),
                          ({"school_duty": "head_teacher"}, "school_duty"), ({"active": None}, "active")):
        data = {k: v for k, v in (base | change).items() if v is not None}
        page = client.post(f"/admin/users/{coordinator.id}/edit", data=data).get_data(as_text=True)
        [shown] = re.findall(r'<p class="error" id="([a-z_]+)-error">陈静 是本校唯一的关爱工作负责人', page)
        assert shown == field, change
