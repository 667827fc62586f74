"""Responsible carers (关爱责任人), the after-school fee waiver, weekend and holiday care and the
school staff's duties: the rules with the field named, the history of carers, who reaches what
(403 without the grant, 404 outside reach), the coordinator's home cards, the record and archive."""
import re
import unicodedata
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select, update

from blueprints.auth.models import User
from blueprints.children.models import Benefit
from blueprints.children.services import exit_child
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.schools.carers import CarerError, carer_panel, end_holiday_care, record_carers, waiver_panel
from blueprints.schools.models import FeeWaiver, HolidayCare, ResponsibleCarer
from blueprints.schools.terms import recent_terms, term_bounds, term_label, term_of
from extensions import db
from tests.factories import create_carer, create_child, create_school, create_user, create_village

TODAY = local_today()
TERM = term_of(TODAY)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def text_of(response) -> str:
    """The page's visible text, tags removed (names and messages as a reader sees them)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


@pytest.fixture
def town(app):
    east, west = create_village("东洼村"), create_village("西岭村")
    school = create_school("中心小学", villages=[east])
    other = create_school("二中", villages=[west])
    users = {
        "coordinator": create_user("school", school=school, display_name="陈静"),
        "head_teacher": create_user("school", school=school, school_duty="head_teacher", display_name="黄志刚"),
        "mental_health": create_user("school", school=school, school_duty="mental_health", display_name="林晓梅"),
        "other_coordinator": create_user("school", school=other, display_name="周老师"),
        "director": create_user("director", villages=[east]),
        "civil_affairs": create_user("civil_affairs"),
        "education": create_user("department", department_code="education"),
        "volunteer": create_user("volunteer"),
    }
    users["head_teacher"].phone = "13900001111"
    db.session.commit()
    pupils = {
        "key": create_child("王小明", village=east, school=school, attention="key", grade="三年级"),
        "poor": create_child("李小红", village=east, school=school, categories=["poverty"], grade="五年级"),
        "orphan": create_child("赵小兰", village=east, school=school, categories=["orphan"]),
        "left_behind": create_child("钱小军", village=east, school=school, categories=["left_behind"]),
        "other": create_child("孙小强", village=west, school=other, attention="key"),
    }
    return {"users": users, "pupils": pupils, "school": school, "other": other}


def login(client, auth, user):
    auth.logout()
    assert auth.login(user.username).status_code in (302, 303)


def carer_url(child) -> str:
    return f"/schools/pupils/{child.id}/carer"


def name_form(**values) -> dict:
    return {"intent": "name", "user_id": "", "name": "", "phone": "", "since": TODAY.isoformat(), "note": ""} | values


# --- naming a carer --------------------------------------------------------------------------------

def test_a_carer_chosen_from_the_school_accounts_brings_her_name_and_phone(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    teacher, pupil = town["users"]["head_teacher"], town["pupils"]["key"]
    page = client.get(carer_url(pupil))
    assert page.status_code == 200 and "指定关爱责任人" in text_of(page) and "黄志刚 · 13900001111" in text_of(page)
    assert "周老师" not in text_of(page)  # another school's staff are not offered
    response = client.post(carer_url(pupil), data=name_form(user_id=str(teacher.id), note="每周谈心一次"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/children/{pupil.id}#school-carer")
    carer = db.session.scalars(select(ResponsibleCarer)).one()
    assert (carer.child_id, carer.user_id, carer.name, carer.phone, carer.since, carer.note, carer.ended_on) == \
        (pupil.id, teacher.id, "黄志刚", "13900001111", TODAY, "每周谈心一次", None)
    assert carer.school_id == town["school"].id
    record = text_of(client.get(f"/children/{pupil.id}"))
    assert "关爱责任人 黄志刚" in record and "13900001111" in record and "更换关爱责任人" in record
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "carer_named")).one()
    assert event_.detail == "王小明：黄志刚" and event_.user_id == town["users"]["coordinator"].id


def test_a_typed_name_needs_a_phone_and_every_bad_field_is_named_with_the_input_kept(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["poor"]
    cases = [
        (name_form(name="李老师"), "电话：填写姓名时请同时填写关爱责任人的电话"),
        (name_form(name="李老师", phone="12345"), "电话应为 11 位手机号或带区号的固定电话"),
        (name_form(), "姓名：请从本校老师中选择，或填写关爱责任人的姓名"),
        (name_form(user_id=str(town["users"]["other_coordinator"].id)), "本校老师：请从列表中选择"),
        (name_form(user_id="abc"), "本校老师：请从列表中选择"),
        (name_form(name="李老师", phone="13812345678", since=(TODAY + timedelta(days=1)).isoformat()),
         "开始负责日期不能晚于今天"),
        (name_form(name="李老师", phone="13812345678", since="2026-13-45"), "开始负责日期"),
        (name_form(name="李老师", phone="13812345678", note="长" * 201), "备注最多 200 个字"),
        # an account without a phone: one must be typed
        (name_form(user_id=str(town["users"]["coordinator"].id)), "电话：这位老师的账号没有登记电话"),
    ]
    for data, message in cases:
        response = client.post(carer_url(pupil), data=data)
        assert response.status_code == 422, data
        assert message in text_of(response), (data, text_of(response)[:2000])
        if data["name"]:
            assert f'value="{data["name"]}"' in response.get_data(as_text=True)  # what was typed stays
    assert count(ResponsibleCarer) == 0
    response = client.post(carer_url(pupil), data=name_form(name="李老师", phone="13812345678"))
    assert response.status_code == 303
    carer = db.session.scalars(select(ResponsibleCarer)).one()
    assert (carer.name, carer.phone, carer.user_id) == ("李老师", "13812345678", None)


def test_a_change_ends_the_current_carer_and_keeps_her_in_the_history(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil, teacher = town["pupils"]["key"], town["users"]["head_teacher"]
    first = create_carer(pupil, name="张老师", phone="13800000001", since=TODAY - timedelta(days=60))
    # before the current carer began: refused, the field named
    response = client.post(carer_url(pupil), data=name_form(user_id=str(teacher.id),
                                                          since=(TODAY - timedelta(days=61)).isoformat()))
    assert response.status_code == 422
    assert (f"开始负责日期：不能早于前一位关爱责任人 张老师 的开始日期 {TODAY - timedelta(days=60):%Y-%m-%d}"
            in text_of(response))
    # the same person again is no change: her details are corrected in their own form
    response = client.post(carer_url(pupil), data=name_form(name="张老师", phone="13800000009"))
    assert response.status_code == 422 and "姓名：张老师 已经是王小明的关爱责任人" in text_of(response)
    change_on = TODAY - timedelta(days=5)
    response = client.post(carer_url(pupil), data=name_form(user_id=str(teacher.id), since=change_on.isoformat()))
    assert response.status_code == 303
    rows = db.session.scalars(select(ResponsibleCarer).order_by(ResponsibleCarer.id)).all()
    assert [(r.name, r.since, r.ended_on) for r in rows] == [
        ("张老师", first.since, change_on), ("黄志刚", change_on, None)]
    assert rows[0].end_note == "更换为 黄志刚" and rows[0].ended_by_id == town["users"]["coordinator"].id
    record = text_of(client.get(f"/children/{pupil.id}"))
    assert "以前的关爱责任人" in record and f"张老师 · 13800000001 · {first.since:%Y-%m-%d} 至 {change_on:%Y-%m-%d}" in record
    assert "（更换为 黄志刚）" in record
    page = text_of(client.get(carer_url(pupil)))
    assert "更换关爱责任人" in page and "现任 黄志刚" in page and "以前的关爱责任人" in page
    detail = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "carer_named")).one()
    assert detail == "王小明：张老师 → 黄志刚"


def test_the_current_carer_s_details_are_corrected_in_place(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["key"]
    create_carer(pupil, name="张老师", phone="13800000001", since=TODAY - timedelta(days=30))
    response = client.post(carer_url(pupil), data={"intent": "correct", "fix-phone": "", "fix-since": "",
                                                   "fix-note": ""})
    assert response.status_code == 422
    page = text_of(response)
    assert "请填写电话" in page and "请填写开始负责日期" in page
    response = client.post(carer_url(pupil), data={"intent": "correct", "fix-phone": "0530-1234567",
                                                   "fix-since": (TODAY - timedelta(days=40)).isoformat(),
                                                   "fix-note": "改用办公室电话"})
    assert response.status_code == 303
    carer = db.session.scalars(select(ResponsibleCarer)).one()  # no new row: the same carer
    assert (carer.phone, carer.since, carer.note, carer.ended_on) == (
        "0530-1234567", TODAY - timedelta(days=40), "改用办公室电话", None)
    assert count(AuditEvent, AuditEvent.action == "carer_updated") == 1


def test_a_pupil_off_the_roll_gets_no_carer_and_her_exit_ends_the_one_she_had(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["key"]
    create_carer(pupil, since=TODAY - timedelta(days=10))
    exit_child(pupil, "moved_away", TODAY, actor=None)
    db.session.commit()
    assert db.session.scalars(select(ResponsibleCarer.ended_on)).one() == TODAY  # the exit hook
    for response in (client.get(carer_url(pupil)),
                     client.post(carer_url(pupil), data=name_form(name="李老师", phone="13812345678"))):
        assert response.status_code == 409 and "已退出关爱服务" in text_of(response)
    assert count(ResponsibleCarer) == 1
    record = client.get(f"/children/{pupil.id}").get_data(as_text=True)
    assert "（儿童退出名册）" in record and carer_url(pupil) not in record


def test_who_may_name_a_carer(town, client, auth):
    users, pupil = town["users"], town["pupils"]["key"]
    data = name_form(name="李老师", phone="13812345678")
    expected = {"head_teacher": 403, "mental_health": 403, "director": 403, "civil_affairs": 403,
                "education": 403, "volunteer": 403, "other_coordinator": 404}
    for role, status in expected.items():
        login(client, auth, users[role])
        assert client.get(carer_url(pupil)).status_code == status, role
        assert client.post(carer_url(pupil), data=data).status_code == status, role
    login(client, auth, users["coordinator"])
    assert client.get(carer_url(town["pupils"]["other"])).status_code == 404  # a pupil of another school
    assert client.get("/schools/pupils/2147483647/carer").status_code == 404
    assert count(ResponsibleCarer) == 0


def test_a_director_and_a_class_teacher_see_the_carer_but_cannot_change_her(town, client, auth):
    pupil = town["pupils"]["key"]
    create_carer(pupil, name="张老师", phone="13800000001")
    for role in ("director", "head_teacher", "civil_affairs"):
        login(client, auth, town["users"][role])
        record = text_of(client.get(f"/children/{pupil.id}"))
        assert "关爱责任人 张老师" in record and "13800000001" in record, role
        assert "更换关爱责任人" not in record and "登记假期关爱" not in record, role
        listing = client.get("/schools/carers")
        assert listing.status_code == 200 and "张老师" in text_of(listing), role
        assert f'href="/schools/pupils/{pupil.id}/carer"' not in listing.get_data(as_text=True), role
    for role in ("volunteer", "education"):
        login(client, auth, town["users"][role])
        for url in ("/schools/carers", "/schools/waivers", "/schools/staff"):
            assert client.get(url).status_code == 403, (role, url)
        # a volunteer reads no record; a department only a child referred to it (issue 11)
        assert client.get(f"/children/{pupil.id}").status_code == (403 if role == "volunteer" else 404), role
        assert "张老师" not in text_of(client.get("/"))


# --- the list of key pupils and the home card -----------------------------------------------------

def test_the_key_pupils_are_listed_with_their_carers_and_the_ones_without(town, client, auth):
    pupils = town["pupils"]
    create_carer(pupils["poor"], name="张老师", phone="13800000001")
    exited = create_child("吴小花", village=pupils["key"].residence_village, school=town["school"], attention="key")
    exit_child(exited, "moved_away", TODAY, actor=None)
    db.session.commit()
    login(client, auth, town["users"]["coordinator"])
    page = text_of(client.get("/schools/carers"))
    assert "共 3 名重点学生" in page
    for name in ("王小明", "李小红", "赵小兰"):
        assert name in page
    for name in ("钱小军", "吴小花", "孙小强"):  # 留守 only, off the roll, another school's
        assert name not in page
    assert "关爱责任人：张老师 · 13800000001" in page
    page = text_of(client.get("/schools/carers?state=without"))
    assert "共 2 名未指定关爱责任人" in page and "李小红" not in page and "王小明" in page
    page = text_of(client.get("/schools/carers?state=with"))
    assert "李小红" in page and "王小明" not in page
    assert "王小明" not in text_of(client.get("/schools/carers?q=李"))
    # the town sees every school's key pupils, and may pick one school
    login(client, auth, town["users"]["civil_affairs"])
    page = text_of(client.get("/schools/carers"))
    assert "孙小强" in page and "王小明" in page
    page = text_of(client.get(f"/schools/carers?school={town['other'].id}"))
    assert "孙小强" in page and "王小明" not in page


def test_the_coordinator_s_home_names_the_key_pupils_without_a_carer(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    home = client.get("/")
    page, html = text_of(home), home.get_data(as_text=True)
    assert "未指定关爱责任人的重点学生（3）" in page
    for pupil in ("key", "poor", "orphan"):
        assert f'href="/schools/pupils/{town["pupils"][pupil].id}/carer"' in html
    assert "钱小军" not in html.split('id="school-carers"')[1].split("</section>")[0]  # 留守 only: not a key pupil
    client.post(carer_url(town["pupils"]["key"]), data=name_form(name="李老师", phone="13812345678"))
    assert "未指定关爱责任人的重点学生（2）" in text_of(client.get("/"))
    login(client, auth, town["users"]["head_teacher"])
    assert "未指定关爱责任人的重点学生" not in text_of(client.get("/"))


def test_the_home_cards_cost_two_queries_each_and_name_a_few(town, app):
    school, village = town["school"], town["pupils"]["key"].residence_village
    for n in range(HOME_CARD_NAMES + 5):
        create_child(f"重点{n:02d}", village=village, school=school, categories=["poverty"], id_number=None)
    coordinator = db.session.get(User, town["users"]["coordinator"].id)
    assert coordinator.school_id == school.id  # loaded before counting
    statements = []

    def seen(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        carers, waivers = carer_panel(coordinator), waiver_panel(coordinator)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 4
    assert carers["total"] == HOME_CARD_NAMES + 5 + 3 and len(carers["children"]) == HOME_CARD_NAMES
    assert waivers["total"] == HOME_CARD_NAMES + 5 + 2 and len(waivers["children"]) == HOME_CARD_NAMES


# --- the fee waiver ---------------------------------------------------------------------------------

def waive(client, child, term=TERM, waived="1", back=""):
    return client.post(f"/schools/waivers/{child.id}", data={"term": term, "waived": waived, "back": back})


def test_who_qualifies_for_the_waiver_and_waiving_one_with_a_tap(town, client, auth):
    pupils, start = town["pupils"], term_bounds(TERM)[0]
    # a general pupil with 基本生活保障 running this term qualifies; one whose benefit ended before it does not
    db.session.add_all([
        Benefit(child_id=pupils["left_behind"].id, kind="basic_living", start_on=start - timedelta(days=400)),
        Benefit(child_id=pupils["key"].id, kind="basic_living", start_on=start - timedelta(days=400),
                end_on=start - timedelta(days=1)),
    ])
    db.session.commit()
    login(client, auth, town["users"]["coordinator"])
    page = text_of(client.get("/schools/waivers"))
    assert f"{term_label(TERM)} · 符合条件未减免 3 名" in page
    assert "李小红" in page and "困境·贫困" in page and "赵小兰" in page and "孤儿" in page
    assert "钱小军" in page and "基本生活保障" in page
    assert "王小明" not in page and "孙小强" not in page
    home = text_of(client.get("/"))
    assert "课后服务费待减免（3）" in home
    response = waive(client, pupils["poor"], back="home")
    assert response.status_code == 303 and response.headers["Location"].endswith("/#school-waivers")
    row = db.session.scalars(select(FeeWaiver)).one()
    assert (row.child_id, row.term, row.school_id, row.decided_on, row.decided_by_id) == (
        pupils["poor"].id, TERM, town["school"].id, TODAY, town["users"]["coordinator"].id)
    response = waive(client, pupils["poor"])  # a second tap: nothing new, back to the pupils still to decide
    assert response.status_code == 303 and response.headers["Location"] == f"/schools/waivers?term={TERM}"
    assert count(FeeWaiver) == 1
    assert "课后服务费待减免（2）" in text_of(client.get("/"))
    assert "李小红" not in text_of(client.get("/schools/waivers"))
    waived = text_of(client.get(f"/schools/waivers?term={TERM}&state=waived"))
    assert "李小红" in waived and "已减免" in waived and "赵小兰" not in waived
    record = text_of(client.get(f"/children/{pupils['poor'].id}"))
    assert f"课后服务费减免： {term_label(TERM)}" in record
    # a pupil outside the suggestion may be waived too, and a waiver withdrawn
    assert waive(client, pupils["key"]).status_code == 303
    assert "不在建议范围" in text_of(client.get(f"/schools/waivers?term={TERM}&state=waived"))
    assert waive(client, pupils["poor"], waived="0").status_code == 303
    assert db.session.scalars(select(FeeWaiver.child_id)).all() == [pupils["key"].id]
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("fee_waiver%"))
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["fee_waiver_granted", "fee_waiver_granted", "fee_waiver_withdrawn"]


def test_a_waiver_s_bad_term_and_the_wrong_roles(town, client, auth):
    pupils = town["pupils"]
    login(client, auth, town["users"]["coordinator"])
    for term in ("2019-autumn", "2026-winter", ""):
        response = waive(client, pupils["poor"], term=term)
        assert response.status_code == 422 and "学期：请从列表中选择" in text_of(response), term
    assert waive(client, pupils["other"]).status_code == 404
    exit_child(pupils["orphan"], "moved_away", TODAY, actor=None)
    db.session.commit()
    assert waive(client, pupils["orphan"]).status_code == 409
    for role, status in (("head_teacher", 403), ("director", 403), ("civil_affairs", 403), ("volunteer", 403),
                         ("other_coordinator", 404)):
        login(client, auth, town["users"][role])
        assert waive(client, pupils["poor"]).status_code == status, role
    assert count(FeeWaiver) == 0
    login(client, auth, town["users"]["head_teacher"])  # reads who is waived, without the buttons
    page = client.get("/schools/waivers")
    assert page.status_code == 200 and "李小红" in text_of(page) and "减免 李小红" not in page.get_data(as_text=True)
    assert "课后服务费待减免" not in text_of(client.get("/"))


# --- weekend and holiday care -------------------------------------------------------------------

def test_a_holiday_care_place_is_recorded_and_shown_in_the_record(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["orphan"]
    url = f"/schools/pupils/{pupil.id}/holiday-care"
    assert client.get(url).status_code == 200
    starts = TODAY + timedelta(days=30)
    response = client.post(url, data={"kind": "", "place": "", "starts_on": starts.isoformat(),
                                      "ends_on": (starts - timedelta(days=1)).isoformat(), "note": ""})
    page = text_of(response)
    assert response.status_code == 422
    assert "请填写时段" in page and "请填写关爱地点" in page
    response = client.post(url, data={"kind": "winter", "place": "村儿童之家", "starts_on": starts.isoformat(),
                                      "ends_on": (starts - timedelta(days=1)).isoformat(), "note": "由李阿姨照看"})
    assert response.status_code == 422 and f"结束日期：不能早于开始日期 {starts:%Y-%m-%d}" in text_of(response)
    assert 'value="村儿童之家"' in response.get_data(as_text=True)
    response = client.post(url, data={"kind": "winter", "place": "村儿童之家", "starts_on": starts.isoformat(),
                                      "ends_on": (starts + timedelta(days=20)).isoformat(), "note": "由李阿姨照看"})
    assert response.status_code == 303
    care = db.session.scalars(select(HolidayCare)).one()
    assert (care.child_id, care.kind, care.place, care.starts_on, care.school_id) == (
        pupil.id, "winter", "村儿童之家", starts, town["school"].id)
    assert "寒假 · 村儿童之家" in text_of(client.get(url))
    login(client, auth, town["users"]["director"])
    assert "寒假 · 村儿童之家" in text_of(client.get(f"/children/{pupil.id}"))
    for role, status in (("head_teacher", 403), ("director", 403), ("other_coordinator", 404)):
        login(client, auth, town["users"][role])
        assert client.get(url).status_code == status, role
        assert client.post(url, data={"kind": "weekend", "place": "家", "starts_on": TODAY.isoformat()}).status_code \
            == status, role
    assert count(HolidayCare) == 1


def open_place(pupil, school, starts_on, place="村儿童之家") -> HolidayCare:
    care = HolidayCare(child_id=pupil.id, school_id=school.id, kind="weekend", place=place, starts_on=starts_on)
    db.session.add(care)
    db.session.commit()
    return care


def end_url(pupil, care) -> str:
    return f"/schools/pupils/{pupil.id}/holiday-care/{care.id}/end"


def ends_on_of(care):
    return db.session.scalar(select(HolidayCare.ends_on).where(HolidayCare.id == care.id))


def test_an_open_holiday_care_place_is_ended_on_a_day_from_its_start_to_today(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["orphan"]
    starts = TODAY - timedelta(days=40)
    care = open_place(pupil, town["school"], starts)
    other = open_place(pupil, town["school"], TODAY - timedelta(days=5), place="外婆家")
    page_url = f"/schools/pupils/{pupil.id}/holiday-care"
    page = client.get(page_url).get_data(as_text=True)
    assert f'action="{end_url(pupil, care)}"' in page and f'action="{end_url(pupil, other)}"' in page
    assert f'name="end-{care.id}-ends_on"' in page and f'value="{TODAY.isoformat()}"' in page  # today by default
    field = f"end-{care.id}-ends_on"
    before = starts - timedelta(days=1)
    cases = ((before.isoformat(), f"结束日期：不能早于开始日期 {starts:%Y-%m-%d}"),
             ((TODAY + timedelta(days=1)).isoformat(), "结束日期不能晚于今天"),
             ("", "请填写结束日期"))
    for typed, message in cases:
        response = client.post(end_url(pupil, care), data={field: typed})
        assert response.status_code == 422 and message in text_of(response), typed
        html = response.get_data(as_text=True)
        start = html.index(f'id="holiday-care-{care.id}"')
        row = html[start:html.index("</li>", start)]
        assert message in row, typed  # beside the place it is about, not the other one
        if typed:
            assert f'value="{typed}"' in row, typed
    assert ends_on_of(care) is None and ends_on_of(other) is None
    assert count(AuditEvent, AuditEvent.action == "holiday_care_ended") == 0

    ends = TODAY - timedelta(days=2)
    response = client.post(end_url(pupil, care), data={field: ends.isoformat()})
    assert response.status_code == 303
    assert ends_on_of(care) == ends and ends_on_of(other) is None
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "holiday_care_ended")).one()
    assert (event.object_type, event.object_id, event.user_id) == (
        "holiday_care", str(care.id), town["users"]["coordinator"].id)
    assert "赵小兰" in event.detail and "村儿童之家" in event.detail
    page = client.get(page_url)
    assert f"村儿童之家 · {starts:%Y-%m-%d} 至 {ends:%Y-%m-%d}" in text_of(page)
    assert f'action="{end_url(pupil, care)}"' not in page.get_data(as_text=True)  # no form for an ended place
    assert f'action="{end_url(pupil, other)}"' in page.get_data(as_text=True)
    assert f"村儿童之家 · {starts:%Y-%m-%d} 至 {ends:%Y-%m-%d}" in text_of(client.get(f"/children/{pupil.id}"))

    # ended already (another tab): refused, the day it ended named, nothing changed
    response = client.post(end_url(pupil, care), data={field: TODAY.isoformat()})
    assert response.status_code == 422
    assert f"结束日期：这处关爱已于 {ends:%Y-%m-%d} 结束" in text_of(response)
    assert ends_on_of(care) == ends
    assert count(AuditEvent, AuditEvent.action == "holiday_care_ended") == 1


def test_of_two_ends_at_the_same_moment_the_first_stands(town):
    care = open_place(town["pupils"]["orphan"], town["school"], TODAY - timedelta(days=10))
    first = TODAY - timedelta(days=3)
    # another request ends it after this one loaded the place (still open in this session's copy)
    db.session.execute(update(HolidayCare).where(HolidayCare.id == care.id).values(ends_on=first)
                       .execution_options(synchronize_session=False))
    assert care.ends_on is None
    with pytest.raises(CarerError) as refused:
        end_holiday_care(care, TODAY, actor=None)
    assert refused.value.errors == {"ends_on": f"结束日期：这处关爱已于 {first:%Y-%m-%d} 结束，不用再结束"}
    assert ends_on_of(care) == first and count(AuditEvent, AuditEvent.action == "holiday_care_ended") == 0


def test_a_place_of_a_pupil_off_the_roll_is_not_ended(town, client, auth):
    login(client, auth, town["users"]["coordinator"])
    pupil = town["pupils"]["orphan"]
    care = open_place(pupil, town["school"], TODAY - timedelta(days=10))
    exit_child(pupil, "moved_away", TODAY, actor=None)
    db.session.commit()
    response = client.post(end_url(pupil, care), data={f"end-{care.id}-ends_on": TODAY.isoformat()})
    assert response.status_code == 409 and "已退出关爱服务" in text_of(response)
    assert ends_on_of(care) is None


def test_who_may_end_a_holiday_care_place(town, client, auth):
    pupil, other_pupil = town["pupils"]["orphan"], town["pupils"]["key"]
    care = open_place(pupil, town["school"], TODAY - timedelta(days=10))
    elsewhere = open_place(town["pupils"]["other"], town["other"], TODAY - timedelta(days=10), place="二中宿舍")
    data = {f"end-{care.id}-ends_on": TODAY.isoformat()}
    for role, status in (("head_teacher", 403), ("director", 403), ("volunteer", 403), ("other_coordinator", 404)):
        login(client, auth, town["users"][role])
        assert client.post(end_url(pupil, care), data=data).status_code == status, role
    login(client, auth, town["users"]["coordinator"])
    # a place of another child (of her school, or of another school) under this child's address
    assert client.post(end_url(other_pupil, care), data=data).status_code == 404
    assert client.post(end_url(pupil, elsewhere), data={f"end-{elsewhere.id}-ends_on": TODAY.isoformat()}) \
        .status_code == 404
    assert client.post(f"/schools/pupils/{pupil.id}/holiday-care/2147483647/end", data=data).status_code == 404
    assert ends_on_of(care) is None and ends_on_of(elsewhere) is None
    assert count(AuditEvent, AuditEvent.action == "holiday_care_ended") == 0


# --- the school's staff and their duties ------------------------------------------------------------

def duty_of(user) -> str:
    return db.session.scalar(select(User.school_duty).where(User.id == user.id))


def set_duty(client, user, duty):
    return client.post(f"/schools/staff/{user.id}", data={"duty": duty})


def test_the_coordinator_sets_her_colleagues_duties(town, client, auth):
    users = town["users"]
    login(client, auth, users["coordinator"])
    page = text_of(client.get("/schools/staff"))
    assert "黄志刚" in page and "林晓梅" in page and "周老师" not in page
    response = set_duty(client, users["head_teacher"], "mental_health")
    assert response.status_code == 303
    assert duty_of(users["head_teacher"]) == "mental_health"
    detail = db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "school_duty_set")).one()
    assert detail.endswith("班主任 → 心理老师")
    response = set_duty(client, users["head_teacher"], "principal")
    assert response.status_code == 422 and "职责" in text_of(response)
    assert set_duty(client, users["other_coordinator"], "head_teacher").status_code == 404
    assert duty_of(users["other_coordinator"]) == "coordinator"
    assert set_duty(client, users["director"], "head_teacher").status_code == 404  # not a school account


def test_the_last_coordinator_cannot_give_up_her_duty(town, client, auth):
    users = town["users"]
    login(client, auth, users["coordinator"])
    response = set_duty(client, users["coordinator"], "head_teacher")
    assert response.status_code == 422
    assert "职责：陈静 是本校唯一的关爱工作负责人，请先把另一位老师设为关爱工作负责人" in text_of(response)
    assert duty_of(users["coordinator"]) == "coordinator"
    assert set_duty(client, users["head_teacher"], "coordinator").status_code == 303
    response = set_duty(client, users["coordinator"], "head_teacher")  # now she may, and loses the page
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert duty_of(users["coordinator"]) == "head_teacher"
    assert client.get("/schools/staff").status_code == 403


def test_who_may_set_duties(town, client, auth):
    users = town["users"]
    for role in ("head_teacher", "mental_health", "director", "volunteer", "education"):
        login(client, auth, users[role])
        assert client.get("/schools/staff").status_code == 403, role
        assert set_duty(client, users["mental_health"], "head_teacher").status_code == 403, role
    login(client, auth, users["civil_affairs"])  # the town: every school's staff
    page = text_of(client.get("/schools/staff"))
    assert "黄志刚" in page and "周老师" in page and "中心小学" in page and "二中" in page
    assert "周老师" not in text_of(client.get(f"/schools/staff?school={town['school'].id}"))
    assert set_duty(client, users["mental_health"], "head_teacher").status_code == 303
    assert duty_of(users["mental_health"]) == "head_teacher"


# --- the record section's loader and the archive -----------------------------------------------------

def test_the_section_loads_any_number_of_pupils_in_three_queries(town):
    pupils = list(town["pupils"].values())
    for pupil in pupils:
        create_carer(pupil, since=TODAY - timedelta(days=9))
    ids = [p.id for p in pupils]
    coordinator = db.session.get(User, town["users"]["coordinator"].id)
    assert coordinator.school_id == town["school"].id  # loaded before counting
    statements = []

    def seen(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        files = record_carers(ids, coordinator)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 3
    # within the coordinator's reach only: another school's pupil's carer is not hers to see
    assert files[town["pupils"]["other"].id].current is None
    assert files[town["pupils"]["key"].id].current.name == "王老师"


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages))


def test_the_archive_prints_the_carers_the_waivers_and_the_holiday_care(town, client, auth):
    pupil = town["pupils"]["poor"]
    create_carer(pupil, name="张老师", phone="13800000001", since=TODAY - timedelta(days=90),
                 ended_on=TODAY - timedelta(days=9), end_note="更换为 黄志刚")
    create_carer(pupil, name="黄志刚", phone="13900001111", since=TODAY - timedelta(days=9))
    earlier = recent_terms(TODAY, 2)[1]
    db.session.add_all([FeeWaiver(child_id=pupil.id, school_id=pupil.school_id, term=earlier, decided_on=TODAY),
                        FeeWaiver(child_id=pupil.id, school_id=pupil.school_id, term=TERM, decided_on=TODAY),
                        HolidayCare(child_id=pupil.id, school_id=pupil.school_id, kind="summer", place="镇关爱中心",
                                    starts_on=TODAY - timedelta(days=100))])
    db.session.commit()
    for role in ("coordinator", "director"):
        login(client, auth, town["users"][role])
        response = client.get(f"/children/{pupil.id}/archive.pdf")
        assert response.status_code == 200
        text = re.sub(r"\s+", "", pdf_text(response.data))
        assert "关爱责任人" in text and "黄志刚" in text and "13900001111" in text, role
        assert f"张老师13800000001{TODAY - timedelta(days=90):%Y-%m-%d}至{TODAY - timedelta(days=9):%Y-%m-%d}" in text
        assert "更换为黄志刚" in text
        assert re.sub(r"\s+", "", f"{term_label(TERM)}、{term_label(earlier)}") in text  # newest first
        assert "暑假镇关爱中心" in text


def test_a_child_never_at_a_school_has_no_carer_section(town, client, auth):
    child = create_child("田甜", village=town["pupils"]["key"].residence_village)
    login(client, auth, town["users"]["director"])
    assert "关爱责任人" not in pdf_text(client.get(f"/children/{child.id}/archive.pdf").data)
    assert 'id="school-carer"' not in client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "关爱责任人" in pdf_text(client.get(f"/children/{town['pupils']['key'].id}/archive.pdf").data)
