"""The child registry: register, find, read, update, exit — with reach, masking, history, audit."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from blueprints.children.models import Child, ChildCategory, ChildChange, FamilyMember, ParentContact
from blueprints.core.audit import AuditEvent
from blueprints.core.disclosure import mask_id_number
from blueprints.core.clock import local_today
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village, valid_id_number

BIRTH = date(2015, 3, 2)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def found(page: str) -> int:
    return int(re.search(r"共 <strong>(\d+)</strong> 名儿童", page).group(1))


@pytest.fixture
def town(app):
    a, b = create_village("甲村"), create_village("乙村")
    school = create_school("甲村小学", [a])
    users = {
        "civil": create_user("civil_affairs", username="minzheng"),
        "dir_a": create_user("director", username="zhuren_a", villages=[a]),
        "dir_b": create_user("director", username="zhuren_b", villages=[b]),
        "school": create_user("school", username="xuexiao", school=school),
        "dept": create_user("department", username="paichusuo"),
        "vol": create_user("volunteer", username="zhiyuan"),
    }
    return {"a": a, "b": b, "school": school, "users": users}


def registration(village, **overrides):
    data = {
        "name": "张三", "id_number": valid_id_number(BIRTH, 7), "gender": "", "ethnicity": "汉族",
        "residence_village_id": village.id, "hukou_village_id": 0, "school_id": 0,
        "categories": ["left_behind"], "attention_level": "key", "state_guardianship": "none",
        "disability_kind": "", "disability_grade": "", "caregiver_relation": "祖母",
        "caregiver_name": "李桂兰", "caregiver_phone": "13812345678", "caregiver_confirmed_on": "2026-01-05",
        "guardian_name": "李桂兰", "guardian_relation": "祖母", "guardian_phone": "13812345678",
        "father_name": "张伟", "father_works_away": "y", "mother_name": "王芳", "mother_works_away": "y",
    }
    data.update(overrides)
    return data


def test_director_registers_a_child(town, client, auth):
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], id_number=" ３７" + valid_id_number(BIRTH, 7)[2:].lower() + " "))
    assert response.status_code == 303, response.get_data(as_text=True)
    child = db.session.scalar(select(Child).where(Child.name == "张三"))
    assert child.id_number == valid_id_number(BIRTH, 7)  # full-width digits and spaces normalised
    assert (child.birth_date, child.gender) == (BIRTH, "male")  # derived from the ID number
    assert child.name_initials == "zs" and child.name_pinyin == "zhangsan"
    assert child.archive_no.endswith(f"{child.id:06d}")
    assert child.category_codes == ["left_behind"]
    family = {(m.relation, m.name): m for m in child.family}
    assert family[("祖母", "李桂兰")].is_guardian
    assert family[("父亲", "张伟")].works_away and family[("母亲", "王芳")].works_away
    assert child.caregiver_confirmed_on == date(2026, 1, 5)
    assert count(ChildChange, ChildChange.child_id == child.id) == 1
    assert count(AuditEvent, AuditEvent.action == "child_created") == 1
    assert response.headers["Location"] == f"/children/{child.id}"


def test_wrong_id_number_is_shown_beside_the_field_and_the_form_kept(town, client, auth):
    auth.login("zhuren_a")
    bad = valid_id_number(BIRTH, 7)[:-1] + ("1" if valid_id_number(BIRTH, 7)[-1] != "1" else "2")
    response = client.post("/children/new", data=registration(town["a"], id_number=bad, name="王小红"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "身份证号校验位不对" in page
    assert 'value="王小红"' in page and 'value="李桂兰"' in page and 'value="13812345678"' in page
    assert count(Child) == 0


def test_birth_date_and_gender_must_agree_with_the_id(town, client, auth):
    auth.login("zhuren_a")
    number = valid_id_number(BIRTH, 7, gender="male")
    response = client.post("/children/new", data=registration(
        town["a"], id_number=number, birth_date="2015-03-03", gender="female"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "出生日期与身份证号不一致：身份证号中的出生日期是 2015-03-02" in page
    assert "性别与身份证号不一致：按身份证号第 17 位应为男" in page


def test_without_id_number_birth_date_and_gender_are_required(town, client, auth):
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], id_number=""))
    page = response.get_data(as_text=True)
    assert "没有身份证号时请填写出生日期" in page and "没有身份证号时请选择性别" in page
    response = client.post("/children/new", data=registration(town["a"], id_number="", birth_date="2016-05-01",
                                                              gender="male"))
    assert response.status_code == 303
    assert db.session.scalar(select(Child.id_number)) is None


def test_required_fields_and_age_rule(town, client, auth):
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], name="", categories=[], guardian_name=""))
    page = response.get_data(as_text=True)
    assert "请填写姓名" in page and "请至少选择一个儿童类别" in page and "请填写监护人姓名" in page
    old = valid_id_number(date(2008, 1, 1), 3)
    response = client.post("/children/new", data=registration(town["a"], id_number=old))
    assert "留守儿童应未满16周岁" in response.get_data(as_text=True)
    assert count(Child) == 0


def test_same_id_number_is_refused_with_a_link_to_the_registered_child(town, client, auth):
    existing = create_child("张三", village=town["a"], id_number=valid_id_number(BIRTH, 7))
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], name="张叁"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'href="/children/{existing.id}"' in page and "请勿重复建档" in page
    assert count(Child) == 1


def test_same_id_number_outside_reach_names_no_link(town, client, auth):
    create_child("张三", village=town["b"], id_number=valid_id_number(BIRTH, 7))
    auth.login("zhuren_a")
    page = client.post("/children/new", data=registration(town["a"])).get_data(as_text=True)
    assert "乙村" not in page and "不在您的工作范围内" in page  # tests/test_duplicate_lookup.py says more
    assert 'href="/children/' not in page.split("身份证号", 1)[1].split("</div>", 1)[0]


def test_probable_duplicate_asks_for_confirmation(town, client, auth):
    create_child("张三", village=town["a"], birth=BIRTH, id_number=None)
    auth.login("zhuren_a")
    data = registration(town["a"], id_number="", birth_date="2015-03-02", gender="male")
    response = client.post("/children/new", data=data)
    assert response.status_code == 409
    assert "可能已经登记过这个孩子" in response.get_data(as_text=True)
    assert count(Child) == 1
    response = client.post("/children/new", data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 303
    assert count(Child) == 2


def test_same_guardian_phone_and_similar_name_is_a_probable_duplicate(town, client, auth):
    from blueprints.children.services import FamilyInput
    create_child("张三丰", village=town["a"], birth=date(2014, 1, 1),
                 family=[FamilyInput(relation="祖母", name="李桂兰", phone="13812345678", is_guardian=True)])
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], name="张三峰"))
    assert response.status_code == 409


def test_search_by_pinyin_initials_name_last4_and_filters(town, client, auth):
    # another county than the factory's numbers, which cycle through the serials and would meet this one
    zs = create_child("张三", village=town["a"], attention="key", id_number=valid_id_number(BIRTH, 11, region="371726"))
    create_child("李四", village=town["a"], categories=["poverty"])
    create_child("张珊珊", village=town["b"])
    auth.login("minzheng")
    assert found(client.get("/children?q=zs").get_data(as_text=True)) == 2  # 张三, 张珊珊
    assert found(client.get("/children?q=ZS").get_data(as_text=True)) == 2
    assert found(client.get("/children?q=zhangs").get_data(as_text=True)) == 2
    assert found(client.get("/children?q=李").get_data(as_text=True)) == 1
    page = client.get(f"/children?q={zs.id_number[-4:]}").get_data(as_text=True)
    assert found(page) == 1 and "张三" in page
    assert found(client.get(f"/children?q=zs&village={town['a'].id}").get_data(as_text=True)) == 1
    assert found(client.get("/children?category=poverty").get_data(as_text=True)) == 1
    assert found(client.get("/children?attention=key").get_data(as_text=True)) == 1
    assert found(client.get("/children?category=nonsense").get_data(as_text=True)) == 3


def test_search_is_limited_to_reach(town, client, auth):
    create_child("张三", village=town["a"], school=town["school"])
    create_child("张四", village=town["a"])
    create_child("张五", village=town["b"])
    for username, expected in [("minzheng", 3), ("zhuren_a", 2), ("zhuren_b", 1), ("xuexiao", 1)]:
        auth.login(username)
        assert found(client.get("/children?q=zh").get_data(as_text=True)) == expected, username
        auth.logout()
    auth.login("paichusuo")  # a department: only the children referred to it, none here
    assert found(client.get("/children?q=zh").get_data(as_text=True)) == 0
    auth.logout()
    auth.login("zhiyuan")
    assert client.get("/children").status_code == 403


def test_list_paging(town, client, auth):
    for i in range(23):
        create_child(f"王{chr(0x4e00 + i)}", village=town["a"], id_number=None, birth=date(2015, 1, 1) + timedelta(days=i))
    auth.login("zhuren_a")
    first = client.get("/children").get_data(as_text=True)
    assert found(first) == 23 and "第 1 / 2 页" in first and first.count('class="row"') == 20
    second = client.get("/children?page=2").get_data(as_text=True)
    assert second.count('class="row"') == 3


def test_list_fragment_for_active_search(town, client, auth):
    create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    response = client.get("/children?q=zs", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "张三" in body and "共 <strong>1</strong>" in body


@pytest.mark.parametrize("username, status", [
    ("minzheng", 200), ("zhuren_a", 200), ("xuexiao", 200), ("zhuren_b", 404), ("paichusuo", 404), ("zhiyuan", 403),
])
def test_record_reach(town, client, auth, username, status):
    child = create_child("张三", village=town["a"], school=town["school"])
    auth.login(username)
    assert client.get(f"/children/{child.id}").status_code == status


def test_signed_out_user_is_sent_to_login(town, client):
    child = create_child("张三", village=town["a"])
    response = client.get(f"/children/{child.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_id_numbers_are_masked_for_roles_that_do_not_need_them(town, client, auth):
    from blueprints.children.services import FamilyInput
    number = valid_id_number(BIRTH, 5)
    parent = valid_id_number(date(2001, 4, 4), 9)
    child = create_child("张三", village=town["a"], school=town["school"], id_number=number,
                         family=[FamilyInput(relation="父亲", name="张伟", id_number=parent)])
    auth.login("xuexiao")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert number not in page and parent not in page
    assert "已登记·号码隐藏" in page
    auth.logout()
    auth.login("zhuren_a")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert number in page and parent in page


def test_reading_a_record_is_audited(town, client, auth):
    child = create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    client.get(f"/children/{child.id}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "child_viewed"))
    assert event.object_id == str(child.id) and event.username == "zhuren_a"


def test_school_cannot_edit_and_director_cannot_edit_another_village(town, client, auth):
    child = create_child("张三", village=town["a"], school=town["school"])
    auth.login("xuexiao")
    assert client.get(f"/children/{child.id}/edit").status_code == 403
    assert client.post(f"/children/{child.id}/contacts", data={}).status_code == 403
    auth.logout()
    auth.login("zhuren_b")
    assert client.post(f"/children/{child.id}/edit", data={"name": "改名"}).status_code == 404
    db.session.refresh(child)
    assert child.name == "张三"


def test_edit_keeps_every_change_in_the_history(town, client, auth):
    child = create_child("张三", village=town["a"], categories=["left_behind"])
    auth.login("zhuren_a")
    data = {
        "name": "张三丰", "id_number": child.id_number, "gender": "", "ethnicity": "汉族",
        "residence_village_id": town["a"].id, "hukou_village_id": 0, "school_id": town["school"].id, "grade": "四年级",
        "categories": ["left_behind", "poverty"], "attention_level": "key", "state_guardianship": "none",
        "disability_kind": "", "disability_grade": "", "caregiver_relation": "",
    }
    response = client.post(f"/children/{child.id}/edit", data=data)
    assert response.status_code == 303
    changes = {c.field: (c.old_value, c.new_value, c.username) for c in
               db.session.scalars(select(ChildChange).where(ChildChange.child_id == child.id).order_by(ChildChange.id))}
    assert changes["姓名"] == ("张三", "张三丰", "zhuren_a")
    assert changes["学校"] == (None, "甲村小学", "zhuren_a")
    assert changes["关注等级"] == ("一般", "重点关注", "zhuren_a")
    assert changes["儿童类别"] == ("留守儿童", "留守儿童、困境儿童（家庭贫困）", "zhuren_a")
    db.session.refresh(child)
    assert child.name_initials == "zsf"
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "张三 → 张三丰" in page


def test_history_masks_id_numbers_for_schools(town, client, auth):
    child = create_child("张三", village=town["a"], school=town["school"], id_number=None)
    new_number = valid_id_number(child.birth_date, 8, gender=child.gender)
    auth.login("zhuren_a")
    client.post(f"/children/{child.id}/edit", data={
        "name": "张三", "id_number": new_number, "gender": "", "ethnicity": "汉族",
        "residence_village_id": town["a"].id, "hukou_village_id": 0, "school_id": town["school"].id,
        "categories": ["left_behind"], "attention_level": "general", "state_guardianship": "none",
        "disability_kind": "", "disability_grade": "", "caregiver_relation": ""})
    auth.logout()
    auth.login("xuexiao")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert new_number not in page


def test_exit_keeps_the_record(town, client, auth):
    child = create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    response = client.post(f"/children/{child.id}/exit", data={"exit_reason": "parents_returned",
                                                               "exit_date": local_today().isoformat()})
    assert response.status_code == 303
    db.session.refresh(child)
    assert (child.status, child.exit_reason) == ("exited", "parents_returned")
    assert count(Child) == 1
    assert found(client.get("/children").get_data(as_text=True)) == 0
    assert found(client.get("/children?status=exited").get_data(as_text=True)) == 1
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "退出名册：父母返乡" in page and "修改档案" not in page


def test_exit_note_is_saved_kept_in_the_history_and_shown(town, client, auth):
    child = create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert 'name="note"' in page  # the exit form asks for it
    response = client.post(f"/children/{child.id}/exit", data={
        "exit_reason": "moved_away", "exit_date": local_today().isoformat(), "note": "  随父母迁往江苏苏州  "})
    assert response.status_code == 303
    db.session.refresh(child)
    assert child.exit_note == "随父母迁往江苏苏州"
    change = db.session.scalar(select(ChildChange).where(ChildChange.child_id == child.id,
                                                         ChildChange.field == "退出说明"))
    assert change is not None and change.new_value == "随父母迁往江苏苏州" and change.section == "状态"
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "退出说明：随父母迁往江苏苏州" in page


def test_exit_without_note_leaves_it_empty(town, client, auth):
    child = create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    client.post(f"/children/{child.id}/exit", data={"exit_reason": "moved_away",
                                                    "exit_date": local_today().isoformat(), "note": "   "})
    db.session.refresh(child)
    assert child.status == "exited" and child.exit_note is None
    assert count(ChildChange, ChildChange.child_id == child.id, ChildChange.field == "退出说明") == 0
    assert "退出说明" not in client.get(f"/children/{child.id}").get_data(as_text=True)


def test_family_member_add_edit_and_guardian_switch(town, client, auth):
    from blueprints.children.services import FamilyInput
    child = create_child("张三", village=town["a"], family=[
        FamilyInput(relation="祖母", name="李桂兰", is_guardian=True)])
    auth.login("zhuren_a")
    response = client.post(f"/children/{child.id}/family/new", data={
        "relation": "父亲", "name": "张伟", "phone": "13900001111", "works_away": "y", "work_place": "江苏苏州",
        "guardianship_capacity": "full", "is_guardian": "y", "id_number": ""})
    assert response.status_code == 303
    members = {m.name: m for m in db.session.scalars(select(FamilyMember).where(FamilyMember.child_id == child.id))}
    assert members["张伟"].is_guardian and not members["李桂兰"].is_guardian
    response = client.post(f"/children/{child.id}/family/{members['张伟'].id}/edit", data={
        "relation": "父亲", "name": "张伟", "phone": "13900002222", "guardianship_capacity": "full",
        "is_guardian": "y", "id_number": "123"})
    assert response.status_code == 422
    assert "身份证号应为 18 位" in response.get_data(as_text=True)
    response = client.post(f"/children/{child.id}/family/{members['张伟'].id}/edit", data={
        "relation": "父亲", "name": "张伟", "phone": "13900002222", "guardianship_capacity": "full",
        "is_guardian": "y", "id_number": ""})
    assert response.status_code == 303
    fields = set(db.session.scalars(select(ChildChange.field).where(ChildChange.child_id == child.id)))
    assert {"新增成员", "父亲张伟·电话", "父亲张伟·外出务工", "祖母李桂兰·监护人"} <= fields


def test_parent_contact_and_benefit(town, client, auth):
    child = create_child("张三", village=town["a"])
    auth.login("zhuren_a")
    today = local_today()
    response = client.post(f"/children/{child.id}/contacts", data={
        "contacted_on": (today + timedelta(days=1)).isoformat(), "who": "母亲", "method": "video"})
    assert response.status_code == 422 and "联系日期不能晚于今天" in response.get_data(as_text=True)
    response = client.post(f"/children/{child.id}/contacts", data={
        "contacted_on": today.isoformat(), "who": "母亲", "method": "video", "note": "问了学习"})
    assert response.status_code == 303
    assert count(ParentContact, ParentContact.child_id == child.id) == 1
    response = client.post(f"/children/{child.id}/benefits", data={
        "kind": "basic_living", "amount": "600", "period": "每月", "start_on": "2026-01-01", "end_on": "2025-01-01"})
    assert "结束日期不能早于开始日期" in response.get_data(as_text=True)
    response = client.post(f"/children/{child.id}/benefits", data={
        "kind": "basic_living", "amount": "600", "period": "每月", "start_on": "2026-01-01", "source": "县民政局"})
    assert response.status_code == 303
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "基本生活保障 · 600.00 元/每月" in page and "母亲 · 视频 · 问了学习" in page


def test_left_behind_rule_suggests_and_staff_accept(town, client, auth):
    from blueprints.children.services import FamilyInput
    child = create_child("张三", village=town["a"], categories=["poverty"], family=[
        FamilyInput(relation="父亲", name="张伟", works_away=True),
        FamilyInput(relation="母亲", name="王芳", works_away=True)])
    auth.login("zhuren_a")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "建议标记为留守儿童" in page
    assert client.post(f"/children/{child.id}/suggestions/left-behind").status_code == 303
    assert count(ChildCategory, ChildCategory.child_id == child.id, ChildCategory.category == "left_behind") == 1
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "建议标记为留守儿童" not in page and "还没有经父母确认的委托照护人" in page


def test_inline_validation_answers_one_field(town, client, auth):
    auth.login("zhuren_a")
    response = client.post("/children/validate/id_number", data={"id_number": "123", "_creating": "1"},
                           headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "身份证号应为 18 位，现在是 3 位" in body and 'value="123"' in body
    assert "<html" not in body and "请填写姓名" not in body
    # without htmx: the whole form, with every error
    body = client.post("/children/validate/id_number", data={"id_number": "123", "_creating": "1"}).get_data(as_text=True)
    assert "<html" in body and "身份证号应为 18 位" in body and "请填写姓名" in body
    assert client.post("/children/validate/password", data={}).status_code == 404


def test_list_and_record_use_a_fixed_number_of_queries(town, client, auth, app):
    """No query per row: 3 children or 30 cost the same number of statements."""
    from blueprints.children.services import FamilyInput
    auth.login("minzheng")

    def statements(path):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    for i in range(3):
        create_child(f"张{i}", village=town["a"], school=town["school"], categories=["left_behind", "poverty"])
    few = statements("/children")
    for i in range(27):
        create_child(f"李{i}", village=town["b"], school=town["school"], categories=["left_behind", "poverty"])
    assert statements("/children") == few

    child = create_child("王五", village=town["a"], family=[FamilyInput(relation="父亲", name="王一")])
    one = statements(f"/children/{child.id}")
    for i in range(8):
        client.post(f"/children/{child.id}/family/new", data={
            "relation": "其他亲属", "name": f"亲属{i}", "guardianship_capacity": "full", "id_number": ""})
        client.post(f"/children/{child.id}/contacts", data={
            "contacted_on": local_today().isoformat(), "who": "母亲", "method": "phone"})
    assert statements(f"/children/{child.id}") == one


def test_home_counts_department_sees_numbers_without_names(town, client, auth):
    create_child("张三", village=town["a"], attention="key", categories=["left_behind", "poverty"])
    create_child("李四", village=town["b"], categories=["orphan"])
    exited = create_child("王五", village=town["a"])
    exited.status = "exited"
    db.session.commit()
    auth.login("paichusuo")
    page = client.get("/").get_data(as_text=True)
    stats = page.split("全镇在册儿童（统计）", 1)[1].split("</section>", 1)[0]
    assert "<dt>在册儿童</dt><dd>2</dd>" in stats and "<dt>重点关注</dt><dd>1</dd>" in stats
    assert "<dt>孤儿</dt><dd>1</dd>" in stats
    assert "张三" not in page and "李四" not in page and 'href="/children/' not in page
    auth.logout()
    auth.login("zhuren_a")
    stats = client.get("/").get_data(as_text=True).split("本村在册儿童", 1)[1].split("</section>", 1)[0]
    assert "<dt>在册儿童</dt><dd>1</dd>" in stats and "<dt>孤儿</dt><dd>0</dd>" in stats


def test_family_id_changes_in_the_history_are_masked_for_schools(town, client, auth):
    from blueprints.children.services import FamilyInput
    child = create_child("张三", village=town["a"], school=town["school"],
                         family=[FamilyInput(relation="父亲", name="张伟")])
    parent = valid_id_number(date(2001, 4, 4), 9)
    member = child.family[0]
    auth.login("zhuren_a")
    client.post(f"/children/{child.id}/family/{member.id}/edit", data={
        "relation": "父亲", "name": "张伟", "guardianship_capacity": "full", "id_number": parent})
    assert parent in client.get(f"/children/{child.id}").get_data(as_text=True)
    auth.logout()
    auth.login("xuexiao")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "父亲张伟·身份证号" in page and parent not in page and mask_id_number(parent) in page


def test_services_record_the_actor_they_are_given(app, runner, tmp_path):
    """Whoever the caller names — a route's user, a job's user, the command line's --user — is
    the author in the history, the audit trail and created_by, with no patching afterwards."""
    from blueprints.children.excel import Reach, template_workbook
    from blueprints.children.models import ChildChange
    from blueprints.children.services import update_child
    from blueprints.core.audit import AuditEvent

    village = create_village("前王庄村")
    clerk = create_user("civil_affairs", username="clerk")
    child = create_child("张三", village=village)  # the factory registers as the system
    update_child(child, {"address": "东街1号"}, actor=clerk)
    db.session.commit()
    change = db.session.scalar(select(ChildChange).where(ChildChange.field == "住址"))
    assert (change.user_id, change.username) == (clerk.id, "clerk")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "child_updated")).username == "clerk"
    assert child.created_by_id is None

    path = tmp_path / "template.xlsx"
    path.write_bytes(template_workbook(Reach.town()))
    missing = runner.invoke(args=["import-children", str(path), "--commit", "--user", "nobody"])
    assert missing.exit_code == 1 and "没有启用中的账号" in missing.output
