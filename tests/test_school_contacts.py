"""The school's contact with parents and caregivers (§6) and its home visits (§17) on the server:
the contact through the offline contract (POST /api/v1/school-contacts: 201/200/409/422/403/404),
the same form posted without script (/schools/contacts/log), the picker's list (GET
/api/v1/school-pupils), the school's log, the home card of 留守 pupils not contacted this month,
the record and archive sections; who may read and who may write."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.children.models import Child
from blueprints.children.printing import Printer
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.schools.contacts import archive_contacts
from blueprints.schools.models import SchoolContact
from extensions import db
from tests.factories import create_child, create_school, create_school_contact, create_user, create_village

API = "/api/v1/school-contacts"
FORM = "/schools/contacts/log"


def count(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(SchoolContact).where(*where))


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


def words(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def scene(app):
    jia, yi = create_village("甲村"), create_village("乙村")
    school = create_school("中心小学", villages=[jia, yi])
    other_school = create_school("二中", villages=[jia])
    teacher = create_user("school", username="banzhuren_a", school=school, school_duty="head_teacher",
                          display_name="黄老师")
    colleague = create_user("school", username="banzhuren_b", school=school, school_duty="head_teacher")
    stranger = create_user("school", username="xuexiao_b", school=other_school)
    director = create_user("director", username="zhuren_a", villages=[jia])
    volunteer = create_user("volunteer", username="aixin_a")
    pupil = create_child("王小花", village=jia, school=school, birth=date(2015, 6, 1), gender="female",
                         address="甲村东头三排二号", categories=["left_behind"])
    second = create_child("李小军", village=yi, school=school, birth=date(2014, 2, 3), categories=["left_behind"])
    poor = create_child("赵小红", village=jia, school=school, categories=["poverty"])
    theirs = create_child("钱多多", village=jia, school=other_school, categories=["left_behind"])
    return dict(jia=jia, yi=yi, school=school, other_school=other_school, teacher=teacher, colleague=colleague,
                stranger=stranger, director=director, volunteer=volunteer, pupil=pupil, second=second, poor=poor,
                theirs=theirs)


def contact(child, **overrides) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "contacted_on": local_today().isoformat(),
            "contact_with": "mother", "method": "phone", "topics": ["study", "safety"],
            "note": "母亲在浙江务工，电话沟通期中考试和假期安全", **overrides}


# --- the offline contract --------------------------------------------------------------------------

def test_the_same_uuid_three_times_is_one_contact_201_200_200(client, auth, scene):
    auth.login("banzhuren_a")
    body = contact(scene["pupil"], topics=["safety", "study", "safety"], recorded_at="2026-03-02T01:02:03.000Z")
    answers = [client.post(API, json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[0].get_json() == answers[2].get_json() and answers[0].get_json()["client_uuid"] == body["client_uuid"]
    [row] = db.session.scalars(select(SchoolContact)).all()
    assert (row.child_id, row.school_id, row.recorded_by_id) == (scene["pupil"].id, scene["school"].id, scene["teacher"].id)
    assert (row.contacted_on, row.contact_with, row.method, row.topics) == (local_today(), "mother", "phone", "study,safety")
    assert row.note == "母亲在浙江务工，电话沟通期中考试和假期安全" and row.recorded_at == datetime(2026, 3, 2, 1, 2, 3)
    assert row.hazards == [] and row.hazard_note is None
    [event] = events("school_contact_logged")
    assert event.object_id == str(row.id) and event.username == "banzhuren_a" and "王小花" in event.detail


def test_a_uuid_used_otherwise_is_409_and_nothing_is_overwritten(client, auth, scene):
    auth.login("banzhuren_a")
    body = contact(scene["pupil"])
    assert client.post(API, json=body).status_code == 201
    changed = client.post(API, json={**body, "method": "video"})
    assert changed.status_code == 409 and changed.get_json()["error"] == "client_uuid_reused"
    assert "内容不同" in changed.get_json()["message"]
    other_child = client.post(API, json={**body, "child_id": scene["second"].id})
    assert other_child.status_code == 409 and "另一名儿童" in other_child.get_json()["message"]
    auth.logout()
    auth.login("banzhuren_b")
    theirs = client.post(API, json=body)
    assert theirs.status_code == 409 and "其他账号" in theirs.get_json()["message"]
    [row] = db.session.scalars(select(SchoolContact)).all()
    assert row.method == "phone" and row.recorded_by_id == scene["teacher"].id


TOMORROW = (date.today() + timedelta(days=2)).isoformat()
BAD = [
    ({"contacted_on": TOMORROW}, "contacted_on", "联系日期不能晚于今天"),
    ({"contacted_on": "2099-01-01"}, "contacted_on", "联系日期不能晚于今天"),
    ({"contacted_on": "2026-13-01"}, "contacted_on", "联系日期格式不对"),
    ({"contacted_on": 20260302}, "contacted_on", "联系日期格式不对"),
    ({"contacted_on": None}, "contacted_on", "请填写联系日期"),
    ({"contact_with": "uncle"}, "contact_with", "联系对象：请选择父亲、母亲、委托照护人、监护人、其他"),
    ({"contact_with": None}, "contact_with", "联系对象：请选择"),
    ({"method": "letter"}, "method", "联系方式：请选择电话、视频、家长会、家访"),
    ({"method": ["phone"]}, "method", "联系方式：请选择"),
    ({"topics": []}, "topics", "联系内容：请至少选择一项：学习、生活、身心健康、安全"),
    ({"topics": None}, "topics", "联系内容：请至少选择一项"),
    ({"topics": ["study", "games"]}, "topics", "联系内容不认识：games"),
    ({"topics": [1]}, "topics", "联系内容不认识：（不是文字）"),
    ({"topics": {"study": True}}, "topics", "联系内容不认识"),
    ({"note": "很" * 1001}, "note", "情况说明最多 1000 个字"),
    ({"note": ["一", "二"]}, "note", "情况说明应为文字"),
    ({"method": "home_visit", "hazard_note": "长" * 201}, "hazard_note", "隐患说明最多 200 个字"),
    ({"child_id": None}, "child_id", "学生：请选择这次联系的学生"),
    ({"child_id": "abc"}, "child_id", "学生：请选择"),
    ({"child_id": True}, "child_id", "学生：请选择"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid", "缺少记录编号"),
    ({"recorded_at": "昨天"}, "recorded_at", "记录时间格式不对"),
]


@pytest.mark.parametrize("change,field,message", BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_422_with_the_field_named_in_chinese_and_nothing_stored(client, auth, scene, change, field, message):
    auth.login("banzhuren_a")
    body = {k: v for k, v in {**contact(scene["pupil"]), **change}.items() if v is not None}
    response = client.post(API, json=body)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["errors"][field]
    assert count() == 0


def test_the_date_limit_is_today_in_beijing(client, auth, scene):
    """17:00 UTC on 1 March is already 2 March in Beijing: that date is allowed, the 3rd is not."""
    with freeze_time(datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc)):
        auth.login("banzhuren_a")
        assert client.post(API, json=contact(scene["pupil"], contacted_on="2026-03-02")).status_code == 201
        late = client.post(API, json=contact(scene["pupil"], contacted_on="2026-03-03"))
        assert late.status_code == 422 and late.get_json()["errors"] == {"contacted_on": "联系日期不能晚于今天"}


def test_a_home_visit_keeps_the_checklist_another_method_does_not(client, auth, scene):
    auth.login("banzhuren_a")
    checklist = {"hazard_water": True, "hazard_electric": True, "hazard_gas": False, "hazard_waters": True,
                 "hazard_note": "屋后有鱼塘，没有护栏"}
    visit = contact(scene["pupil"], method="home_visit", contact_with="caregiver", topics=["life", "safety"], **checklist)
    assert client.post(API, json=visit).status_code == 201
    by_phone = contact(scene["second"], **checklist)
    assert client.post(API, json=by_phone).status_code == 201
    home = db.session.scalar(select(SchoolContact).where(SchoolContact.client_uuid == visit["client_uuid"]))
    assert home.hazards == ["用水", "用电", "附近有危险水域"] and home.hazard_note == "屋后有鱼塘，没有护栏"
    phone = db.session.scalar(select(SchoolContact).where(SchoolContact.client_uuid == by_phone["client_uuid"]))
    assert phone.hazards == [] and phone.hazard_note is None
    assert client.post(API, json=by_phone).status_code == 200  # the same body again: a replay, not a conflict


def test_who_may_post_director_403_volunteer_403_another_schools_pupil_404(client, auth, scene):
    auth.login("banzhuren_a")
    assert client.post(API, json=contact(scene["theirs"])).status_code == 404
    assert client.post(API, json=contact(scene["pupil"], child_id=2**31 - 1)).status_code == 404
    auth.logout()
    auth.login("xuexiao_b")  # the coordinator of another school
    assert client.post(API, json=contact(scene["pupil"])).status_code == 404
    assert client.get(f"{FORM}?child={scene['pupil'].id}").status_code == 200  # her own form, without the pupil
    auth.logout()
    for username in ("zhuren_a", "aixin_a"):
        auth.login(username)
        refused = client.post(API, json=contact(scene["pupil"]))
        assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden", username
        assert client.get("/api/v1/school-pupils").status_code == 403, username
        assert client.get(FORM).status_code == 403, username
        assert client.post(FORM, data={k: str(v) for k, v in contact(scene["pupil"]).items()}).status_code == 403
        assert client.get("/schools/contacts/due").status_code == 403, username
        auth.logout()
    assert client.post(API, json=contact(scene["pupil"])).status_code == 401
    assert count() == 0


def test_a_pupil_who_left_the_roll_is_409_child_exited_but_a_replay_still_200(client, auth, scene):
    auth.login("banzhuren_a")
    stored = contact(scene["pupil"], contacted_on=(local_today() - timedelta(days=2)).isoformat())
    assert client.post(API, json=stored).status_code == 201
    child = db.session.get(Child, scene["pupil"].id)
    child.status, child.exit_reason, child.exit_date = "exited", "moved_away", local_today() - timedelta(days=1)
    db.session.commit()
    refused = client.post(API, json=contact(scene["pupil"]))
    assert refused.status_code == 409 and refused.get_json()["error"] == "child_exited"
    assert "退出关爱名册" in refused.get_json()["message"]
    assert client.post(API, json=stored).status_code == 200
    # a contact made on the day she left, sent later from the phone, is still taken
    assert client.post(API, json=contact(scene["pupil"], contacted_on=child.exit_date.isoformat())).status_code == 201
    assert count() == 2
    # the form posted without script says so under the pupil, with what was typed
    page = client.post(FORM, data={**{k: str(v) for k, v in contact(scene["pupil"]).items() if k != "topics"},
                                   "topics": "life"})
    assert page.status_code == 409 and "退出关爱名册" in page.get_data(as_text=True)
    assert count() == 2


def test_a_stored_contact_is_a_replay_after_the_pupil_moved_school_anything_new_404(client, auth, scene):
    auth.login("banzhuren_a")
    stored = contact(scene["pupil"])
    assert client.post(API, json=stored).status_code == 201
    child = db.session.get(Child, scene["pupil"].id)
    child.school_id = scene["other_school"].id
    db.session.commit()
    assert client.post(API, json=stored).status_code == 200
    assert client.post(API, json=contact(scene["pupil"])).status_code == 404
    assert client.post(API, json={**stored, "note": "改了"}).status_code == 409
    assert count() == 1


# --- what the phone keeps ----------------------------------------------------------------------------

def test_the_pickers_list_holds_the_schools_pupils_on_the_roll_with_minimal_fields(client, auth, scene):
    gone = create_child("孙退学", village=scene["jia"], school=scene["school"])
    gone.status, gone.exit_reason, gone.exit_date = "exited", "moved_away", local_today()
    db.session.commit()
    create_school_contact(scene["second"], scene["teacher"], contacted_on=local_today())
    auth.login("banzhuren_a")
    response = client.get("/api/v1/school-pupils")
    assert response.status_code == 200
    rows = response.get_json()["children"]
    assert sorted(r["name"] for r in rows) == ["李小军", "王小花", "赵小红"]
    by_name = {r["name"]: r for r in rows}
    assert set(by_name["王小花"]) == {"id", "name", "age", "village", "grade", "categories", "detail"}
    assert by_name["王小花"]["categories"] == ["留守"] and by_name["王小花"]["village"] == "甲村"
    assert by_name["王小花"]["detail"] == "本月待联系"  # 留守, not contacted this month
    assert by_name["李小军"]["detail"] is None and by_name["赵小红"]["detail"] is None
    text = response.get_data(as_text=True)
    assert "王小花" in text  # UTF-8 as it is
    assert "钱多多" not in text and scene["pupil"].id_number not in text and "甲村东头" not in text and "2015-06-01" not in text
    assert [e.detail for e in events("school_pupils_downloaded")] == ["3 名学生"]


def test_the_offline_form_holds_only_minimal_fields_and_preselects_the_pupil(client, auth, scene):
    auth.login("banzhuren_a")
    response = client.get(f"{FORM}?child={scene['pupil'].id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'<option value="{scene["pupil"].id}" selected>王小花 · 甲村</option>' in html
    assert 'data-offline-form="school_contact"' in html and 'data-offline-endpoint="/api/v1/school-contacts"' in html
    assert 'data-offline-picker="/api/v1/school-pupils"' in html and 'id="home-visit-checklist"' in html
    assert "钱多多" not in html and scene["pupil"].id_number not in html and "甲村东头" not in html
    worker = client.get("/sw.js").get_data(as_text=True)
    assert '"/schools/contacts/log"' in worker  # kept by the service worker for offline use


def test_the_form_posts_without_script_with_the_same_checks(client, auth, scene):
    auth.login("banzhuren_a")
    fields = {"client_uuid": str(uuid.uuid4()), "child_id": str(scene["pupil"].id),
              "contacted_on": (local_today() + timedelta(days=1)).isoformat(), "contact_with": "father",
              "method": "home_visit", "topics": ["life", "health"], "note": "家访：爷爷照看，作业按时完成",
              "hazard_fire": "1", "hazard_note": "灶台靠近柴堆"}
    again = client.post(FORM, data=fields)
    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert "联系日期不能晚于今天" in page and "家访：爷爷照看，作业按时完成" in page and "灶台靠近柴堆" in page
    assert 'value="life" checked' in page and 'value="health" checked' in page and 'name="hazard_fire" value="1" checked' in page
    fields["contacted_on"] = local_today().isoformat()
    done = client.post(FORM, data=fields)
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/schools/contacts?child={scene['pupil'].id}")
    assert client.post(FORM, data=fields).status_code == 303  # a second click: one row
    [row] = db.session.scalars(select(SchoolContact)).all()
    assert (row.contact_with, row.method, row.topics, row.hazards, row.hazard_note) == \
        ("father", "home_visit", "life,health", ["用火"], "灶台靠近柴堆")
    other = client.post(FORM, data={**fields, "client_uuid": str(uuid.uuid4()), "child_id": str(scene["theirs"].id)})
    assert other.status_code == 404
    reused = client.post(FORM, data={**fields, "note": "另一次"})
    assert reused.status_code == 409 and "已换用新的记录编号" in reused.get_data(as_text=True)
    assert count() == 1


# --- what the school reads ----------------------------------------------------------------------------

def test_the_home_card_names_the_left_behind_pupils_not_contacted_this_month(client, auth, scene):
    month_start = local_today().replace(day=1)
    create_school_contact(scene["pupil"], scene["teacher"], contacted_on=month_start - timedelta(days=3))
    create_school_contact(scene["theirs"], scene["stranger"], contacted_on=month_start - timedelta(days=40))
    auth.login("banzhuren_a")
    card = client.get("/").get_data(as_text=True)
    section = card[card.index('id="home-contacts-due"'):]
    section = section[:section.index("</section>")]
    shown = words(section)
    assert "本月待联系的留守学生（2 名）" in shown
    assert shown.index("李小军") < shown.index("王小花")  # never contacted first
    assert f"上次联系 {month_start - timedelta(days=3):%Y-%m-%d}" in shown and "还没有学校联系记录" in shown
    assert f'href="/schools/contacts/log?child={scene["pupil"].id}"' in section
    assert "赵小红" not in section and "钱多多" not in section  # not 留守; another school's
    create_school_contact(scene["pupil"], scene["teacher"], contacted_on=month_start)
    section = client.get("/").get_data(as_text=True)
    assert "本月待联系的留守学生（1 名）" in words(section) and "王小花" not in section.split('id="home-contacts-due"')[1].split("</section>")[0]
    auth.logout()
    auth.login("zhuren_a")  # a director reads contacts but logs none: no card
    assert 'id="home-contacts-due"' not in client.get("/").get_data(as_text=True)


def test_the_home_card_is_capped_and_links_to_all_of_them(client, auth, scene):
    for i in range(17):
        create_child(f"留守{i:02d}", village=scene["jia"], school=scene["school"], categories=["left_behind"])
    auth.login("banzhuren_a")
    home = client.get("/").get_data(as_text=True)
    section = home[home.index('id="home-contacts-due"'):]
    section = section[:section.index("</section>")]
    assert "（19 名）" in section and section.count("data-child-id=") == HOME_CARD_NAMES
    assert 'href="/schools/contacts/due"' in section and f"还有 {19 - HOME_CARD_NAMES} 名，查看全部" in section
    due = client.get("/schools/contacts/due").get_data(as_text=True)
    assert due.count("data-child-id=") == 19 and "共 <strong>19</strong> 名" in due
    assert [e.detail for e in events("school_contacts_due_viewed")] == ["19 名"]


def test_the_log_filters_pages_and_reaches_only_what_the_user_may(client, auth, scene):
    today = local_today()
    last_month = today.replace(day=1) - timedelta(days=1)
    create_school_contact(scene["pupil"], scene["teacher"], contacted_on=today, method="home_visit",
                          note="家访记录", hazard_water=True, hazard_note="井口没有盖")
    create_school_contact(scene["second"], scene["teacher"], contacted_on=last_month, method="video", note="视频通话")
    create_school_contact(scene["theirs"], scene["stranger"], contacted_on=today, note="别校的联系")
    for i in range(21):
        create_school_contact(scene["poor"], scene["colleague"], contacted_on=today - timedelta(days=i % 3),
                              note=f"第{i}次")
    auth.login("banzhuren_a")
    page = client.get("/schools/contacts").get_data(as_text=True)
    assert "共 <strong>23</strong> 条" in page and "第 1 / 2 页" in page and "别校的联系" not in page
    assert "井口没有盖" in page and "用水" in page
    second = client.get("/schools/contacts?page=2").get_data(as_text=True)
    assert second.count("data-contact-id=") == 3
    videos = client.get("/schools/contacts?method=video").get_data(as_text=True)
    assert "视频通话" in videos and "家访记录" not in videos and "共 <strong>1</strong> 条" in videos
    month = client.get(f"/schools/contacts?month={last_month:%Y-%m}").get_data(as_text=True)
    assert "视频通话" in month and "家访记录" not in month
    own = client.get(f"/schools/contacts?child={scene['pupil'].id}").get_data(as_text=True)
    assert "共 <strong>1</strong> 条" in own and "<strong>王小花</strong>" in own
    assert client.get(f"/schools/contacts?child={scene['theirs'].id}").get_data(as_text=True).count("data-contact-id=") == 0
    assert len(events("school_contacts_viewed")) == 6
    auth.logout()
    auth.login("zhuren_a")  # 甲村's director reads the contacts of 甲村's children, from any school
    read = client.get("/schools/contacts")
    assert read.status_code == 200
    html = read.get_data(as_text=True)
    assert "家访记录" in html and "别校的联系" in html and "视频通话" not in html  # 李小军 lives in 乙村
    assert "记录家校联系" not in html
    auth.logout()
    auth.login("aixin_a")
    assert client.get("/schools/contacts").status_code == 403


def test_the_record_page_and_the_archive_show_the_contacts(client, auth, scene):
    create_school_contact(scene["pupil"], scene["teacher"], contacted_on=date(2026, 10, 12), method="home_visit",
                          contact_with="caregiver", topics="life,safety", note="奶奶照看，家里整洁",
                          hazard_waters=True, hazard_note="屋后鱼塘")
    auth.login("banzhuren_a")
    record = client.get(f"/children/{scene['pupil'].id}").get_data(as_text=True)
    section = record[record.index('id="school_contacts"'):]
    section = words(section[:section.index("</details>")])
    assert "家校联系（最近 1 次）" in section and "2026-10-12 · 家访 · 与委托照护人" in section
    assert "生活、安全" in section and "居家隐患 1" in section and "奶奶照看，家里整洁" in section
    assert "黄老师 · 中心小学" in section and "记录家校联系" in section
    auth.logout()
    auth.login("zhuren_a")
    record = client.get(f"/children/{scene['pupil'].id}").get_data(as_text=True)
    section = record[record.index('id="school_contacts"'):]
    section = section[:section.index("</details>")]
    assert "奶奶照看，家里整洁" in section and "记录家校联系" not in section  # she reads, she does not log
    rows = archive_contacts([scene["pupil"].id, scene["second"].id], Printer.for_user(scene["director"]))
    assert rows[scene["pupil"].id] == [{"on": "2026-10-12", "with": "委托照护人", "method": "家访", "topics": "生活、安全",
                                       "note": "奶奶照看，家里整洁；居家隐患：附近有危险水域（屋后鱼塘）",
                                       "by": "黄老师（中心小学）"}]
    assert scene["second"].id not in rows  # a pupil without a contact: the section prints 暂无
    toddler = create_child("小不点", village=scene["jia"], birth=date(2022, 1, 1))  # at no school
    assert archive_contacts([toddler.id], Printer.for_user(scene["director"])) == {toddler.id: None}
    assert 'id="school_contacts"' not in client.get(f"/children/{toddler.id}").get_data(as_text=True)
    volunteer = archive_contacts([scene["pupil"].id], Printer.for_user(scene["volunteer"]))
    assert volunteer == {scene["pupil"].id: None}  # hidden from a volunteer's policy: the section is left out


def test_the_archive_pdf_prints_the_section(client, auth, scene):
    from tests.test_children_print import pdf_text

    create_school_contact(scene["pupil"], scene["teacher"], contacted_on=date(2026, 10, 12), method="video",
                          contact_with="father", topics="study", note="父亲视频询问成绩")
    auth.login("banzhuren_a")
    response = client.get(f"/children/{scene['pupil'].id}/archive.pdf")
    assert response.status_code == 200
    text = pdf_text(response.data)
    for expected in ["家校联系", "2026-10-12", "父亲", "视频", "学习", "父亲视频询问成绩", "黄老师(中心"]:
        assert expected in text, expected


# --- no input gives a 500 ----------------------------------------------------------------------------

FIELDS = ["client_uuid", "child_id", "contacted_on", "contact_with", "method", "topics", "note", "hazard_water",
          "hazard_note", "recorded_at"]
def _containers(inner):
    # a named function: hypothesis reads a lambda's source to check it recurses, and can misread it
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3))


VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20),
              st.sampled_from(["", "\x00", "0001-01-01", "9999-12-31", "2026-02-30", "home_visit", "study",
                               "2026-03-02T08:00:00Z", "好" * 1200])),
    _containers, max_leaves=8)


def test_no_contact_post_answers_500(client, auth, scene):
    auth.login("banzhuren_a")
    valid = st.fixed_dictionaries({"client_uuid": st.uuids().map(str), "child_id": st.just(scene["pupil"].id),
                                   "contacted_on": st.just(local_today().isoformat()), "contact_with": st.just("mother"),
                                   "method": st.just("home_visit"), "topics": st.just(["study"])})
    mixed = st.dictionaries(st.one_of(st.sampled_from(FIELDS), st.text(max_size=8)), VALUE, max_size=8)
    body = st.one_of(st.builds(lambda base, over: {**base, **over}, valid, mixed), mixed, VALUE)

    @settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=body)
    def check(body):
        response = client.post(API, json=body)
        assert response.status_code in (200, 201, 404, 409, 422), (response.status_code, str(body)[:300])

    check()
    for raw in (b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe", b"{"):
        assert client.post(API, data=raw, content_type="application/json").status_code in (400, 413, 422)
    for query in ("?child=-1&method=x&month=9999-99&page=0", "?month=0001-01&page=999999", "?child=99999999999"):
        assert client.get("/schools/contacts" + query).status_code == 200, query
    assert client.get(f"{FORM}?child=abc").status_code == 200
