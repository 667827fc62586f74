"""The volunteer's phone on the server: her paired children (/my/pairings, the home card), the
picker's list (GET /api/v1/my-pairings), the activity through the offline contract (POST
/api/v1/pairing-activities: 201/200/409/422/403/404) and the same form posted without script
(/my/log), her history and totals; what she may never reach."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from blueprints.children.models import Child
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.core.disclosure import disclosure_for, shown_age
from blueprints.volunteers.models import Pairing, PairingActivity
from extensions import db
from tests.factories import create_child, create_pairing, create_school, create_user, create_village, create_volunteer

API = "/api/v1/pairing-activities"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()


@pytest.fixture
def scene(app):
    village = create_village("甲村")
    school = create_school("甲村小学", villages=[village])
    her = create_volunteer(create_user("volunteer", username="aixin_a", volunteer_kind="caring_mother"), name="周桂兰")
    other = create_volunteer(create_user("volunteer", username="aixin_b", volunteer_kind="youth"), name="李明", kind="youth")
    child = create_child("王小花", village=village, school=school, birth=date(2015, 6, 1), gender="female")
    second = create_child("赵小虎", village=village, birth=date(2013, 2, 3))
    stranger = create_child("钱多多", village=village)
    pairing = create_pairing(child, her, started_on=date(2026, 1, 5), goals="每周陪伴阅读", needs=("education", "psychological"))
    recent_end = create_pairing(second, her, programme="qianshou", started_on=date(2025, 9, 1),
                                ended_on=local_today() - timedelta(days=10), end_reason="goals_met")
    theirs = create_pairing(stranger, other, started_on=date(2026, 1, 5))
    return dict(village=village, her=her, other=other, child=child, second=second, stranger=stranger,
                pairing=pairing, recent_end=recent_end, theirs=theirs)


def activity(pairing, **overrides) -> dict:
    return {"client_uuid": str(uuid.uuid4()), "pairing_id": pairing.id, "done_on": local_today().isoformat(),
            "minutes": 90, "kind": "tutoring", "note": "检查数学作业，一起读绘本", "mood": "开心", **overrides}


# --- the offline contract --------------------------------------------------------------------------

def test_the_same_uuid_three_times_is_one_activity_201_200_200(client, auth, scene):
    auth.login("aixin_a")
    body = activity(scene["pairing"], pass_on="孩子说奶奶腿疼，想请主任去看看", recorded_at="2026-03-02T01:02:03.000Z")
    answers = [client.post(API, json=body) for _ in range(3)]
    assert [a.status_code for a in answers] == [201, 200, 200]
    assert answers[0].get_json() == answers[2].get_json() and answers[0].get_json()["client_uuid"] == body["client_uuid"]
    [row] = db.session.scalars(select(PairingActivity)).all()
    assert (row.pairing_id, row.child_id, row.recorded_by_id) == (scene["pairing"].id, scene["child"].id, scene["her"].user_id)
    assert (row.done_on, row.minutes, row.kind, row.note, row.mood) == (local_today(), 90, "tutoring", "检查数学作业，一起读绘本", "开心")
    assert row.pass_on == "孩子说奶奶腿疼，想请主任去看看" and row.recorded_at == datetime(2026, 3, 2, 1, 2, 3)
    [event] = events("activity_logged")
    assert event.object_id == str(row.id) and event.username == "aixin_a" and "王小花" in event.detail


def test_a_uuid_used_otherwise_is_409_and_nothing_is_overwritten(client, auth, scene):
    auth.login("aixin_a")
    body = activity(scene["pairing"])
    assert client.post(API, json=body).status_code == 201
    changed = client.post(API, json={**body, "minutes": 30})
    assert changed.status_code == 409 and changed.get_json()["error"] == "client_uuid_reused"
    assert "内容不同" in changed.get_json()["message"]
    auth.logout()
    auth.login("aixin_b")
    theirs = client.post(API, json={**body, "pairing_id": scene["theirs"].id})
    assert theirs.status_code == 409 and "其他账号" in theirs.get_json()["message"]
    [row] = db.session.scalars(select(PairingActivity)).all()
    assert row.minutes == 90 and row.recorded_by_id == scene["her"].user_id


BAD = [
    ({"done_on": "2099-01-01"}, "done_on", "活动日期不能晚于今天"),
    ({"done_on": (date.today() + timedelta(days=2)).isoformat()}, "done_on", "活动日期不能晚于今天"),
    ({"done_on": "2026-01-04"}, "done_on", "活动日期：不能早于结对开始日期 2026-01-05"),
    ({"done_on": "2026-13-01"}, "done_on", "活动日期格式不对"),
    ({"done_on": None}, "done_on", "请填写活动日期"),
    ({"minutes": 0}, "minutes", "活动时长：请填写 1 到 600 之间的分钟数"),
    ({"minutes": 601}, "minutes", "活动时长：请填写 1 到 600 之间的分钟数"),
    ({"minutes": "一小时"}, "minutes", "活动时长"),
    ({"minutes": True}, "minutes", "活动时长"),
    ({"minutes": 1.5}, "minutes", "活动时长"),
    ({"kind": "dancing"}, "kind", "活动方式：请选择陪伴、辅导、生活帮助、情感抚慰、上门、电话"),
    ({"kind": None}, "kind", "活动方式"),
    ({"note": "   "}, "note", "活动内容：请写明这次和孩子一起做了什么"),
    ({"note": ["一", "二"]}, "note", "活动内容应为文字"),
    ({"note": "很" * 1001}, "note", "活动内容最多 1000 个字"),
    ({"mood": "好" * 501}, "mood", "孩子的状态最多 500 个字"),
    ({"pairing_id": None}, "pairing_id", "结对儿童：请选择"),
    ({"pairing_id": "abc"}, "pairing_id", "结对儿童：请选择"),
    ({"client_uuid": "not-a-uuid"}, "client_uuid", "缺少记录编号"),
    ({"recorded_at": "昨天"}, "recorded_at", "记录时间格式不对"),
]


@pytest.mark.parametrize("change,field,message", BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_is_422_with_the_field_named_in_chinese_and_nothing_stored(client, auth, scene, change, field, message):
    auth.login("aixin_a")
    body = {k: v for k, v in {**activity(scene["pairing"]), **change}.items() if v is not None}
    response = client.post(API, json=body)
    assert response.status_code == 422, response.get_json()
    assert message in response.get_json()["errors"][field]
    assert count(PairingActivity) == 0


def test_an_ended_pairing_takes_what_was_missing_before_its_end_and_nothing_after(client, auth, scene):
    auth.login("aixin_a")
    ended = scene["recent_end"]
    after = client.post(API, json=activity(ended, done_on=local_today().isoformat()))
    assert after.status_code == 422
    assert after.get_json()["errors"]["done_on"] == (f"活动日期：这个结对已于 {ended.ended_on:%Y-%m-%d} 结束，只能补记结束之前的活动")
    before = client.post(API, json=activity(ended, done_on=ended.ended_on.isoformat()))
    assert before.status_code == 201
    assert count(PairingActivity) == 1


def test_the_date_limit_is_today_in_beijing(client, auth, scene):
    """17:00 UTC on 1 March is already 2 March in Beijing: that date is allowed, the 3rd is not."""
    with freeze_time(datetime(2026, 3, 1, 17, 0, tzinfo=timezone.utc)):
        auth.login("aixin_a")
        assert client.post(API, json=activity(scene["pairing"], done_on="2026-03-02")).status_code == 201
        late = client.post(API, json=activity(scene["pairing"], done_on="2026-03-03"))
        assert late.status_code == 422 and late.get_json()["errors"]["done_on"] == "活动日期不能晚于今天"


def test_reach_another_volunteers_pairing_404_a_long_ended_one_404_staff_without_the_grant_403(client, auth, scene):
    old = create_pairing(scene["stranger"], scene["her"], started_on=date(2025, 1, 5),
                         ended_on=local_today() - timedelta(days=31), end_reason="goals_met")
    auth.login("aixin_a")
    assert client.post(API, json=activity(scene["theirs"])).status_code == 404
    assert client.post(API, json=activity(old, done_on=old.ended_on.isoformat())).status_code == 404
    assert client.post(API, json=activity(scene["pairing"], pairing_id=2**31 - 1)).status_code == 404
    auth.logout()
    create_user("director", username="zhuren_a", villages=[scene["village"]])
    auth.login("zhuren_a")
    refused = client.post(API, json=activity(scene["pairing"]))
    assert refused.status_code == 403 and refused.get_json()["error"] == "forbidden"
    assert client.get("/api/v1/my-pairings").status_code == 403
    auth.logout()
    create_user("school", username="xuexiao_a", school=create_school())
    auth.login("xuexiao_a")
    for page in ("/my/pairings", "/my/log", "/my/history", "/api/v1/my-pairings"):
        assert client.get(page).status_code == 403, page
    auth.logout()
    assert client.post(API, json=activity(scene["pairing"])).status_code == 401
    assert count(PairingActivity) == 0


def test_a_child_who_left_the_roll_is_409_child_exited_but_a_replay_still_200(client, auth, scene):
    auth.login("aixin_a")
    stored = activity(scene["pairing"])
    assert client.post(API, json=stored).status_code == 201
    child = db.session.get(Child, scene["child"].id)
    # as a child exited before exits ended pairings: the pairing itself is still open
    child.status, child.exit_reason, child.exit_date = "exited", "moved_away", local_today() - timedelta(days=1)
    db.session.commit()
    refused = client.post(API, json=activity(scene["pairing"]))
    assert refused.status_code == 409 and refused.get_json()["error"] == "child_exited"
    message = refused.get_json()["message"]
    assert "不在关爱名册上" in message and "迁出" not in message  # the exit reason is the child's file, not hers
    assert client.post(API, json=stored).status_code == 200
    # what she did before the child left may still be logged
    before = activity(scene["pairing"], done_on=(local_today() - timedelta(days=1)).isoformat())
    assert client.post(API, json=before).status_code == 201
    assert count(PairingActivity) == 2



def test_a_record_stored_already_is_a_replay_even_after_the_pairing_left_her_reach(client, auth, scene):
    """The server kept it but its answer was lost; the pairing ended more than 30 days before the
    phone sent it again: 200 (sent), not 404 (which would mark a saved record as refused)."""
    auth.login("aixin_a")
    stored = activity(scene["pairing"], done_on=(local_today() - timedelta(days=60)).isoformat())
    assert client.post(API, json=stored).status_code == 201
    pairing = db.session.get(Pairing, scene["pairing"].id)
    pairing.ended_on, pairing.end_reason = local_today() - timedelta(days=45), "goals_met"
    db.session.commit()
    assert client.post(API, json=stored).status_code == 200
    late = activity(scene["pairing"], done_on=(local_today() - timedelta(days=50)).isoformat())
    assert client.post(API, json=late).status_code == 404  # anything new: out of reach
    assert client.post(API, json={**stored, "minutes": 30}).status_code == 409  # its number, another body: the contract
    assert count(PairingActivity) == 1

# --- what she reads ----------------------------------------------------------------------------------

def test_the_pickers_list_holds_her_pairings_with_minimal_fields_and_is_audited(client, auth, scene):
    auth.login("aixin_a")
    response = client.get("/api/v1/my-pairings")
    assert response.status_code == 200
    rows = response.get_json()["pairings"]
    assert [r["id"] for r in rows] == [scene["pairing"].id, scene["recent_end"].id]
    first, ended = rows
    assert first["name"] == "王小花" and first["village"] == "甲村" and first["detail"] == "爱心妈妈结对"
    assert ended["ended_on"] == scene["recent_end"].ended_on.isoformat() and "已结束" in ended["detail"]
    assert set(first) == {"id", "name", "age", "village", "school", "detail", "started_on", "ended_on"}
    assert first["school"] == "甲村小学"
    text = response.get_data(as_text=True)
    assert "王小花" in text  # UTF-8 as it is, not \u escapes
    assert "钱多多" not in text and scene["child"].id_number not in text and "2015-06-01" not in text
    assert [e.detail for e in events("pairing_list_downloaded")] == ["2 个结对"]


def test_her_home_shows_each_child_the_goals_the_months_promise_and_her_totals(client, auth, scene):
    today = local_today()
    auth.login("aixin_a")
    client.post(API, json=activity(scene["pairing"], minutes=90, done_on=today.isoformat()))
    last_year = today.replace(year=today.year - 1, month=12, day=20)
    db.session.add(PairingActivity(client_uuid=str(uuid.uuid4()), pairing_id=scene["pairing"].id, child_id=scene["child"].id,
                                   recorded_by_id=scene["her"].user_id, done_on=last_year, minutes=600, kind="visit", note="去年"))
    db.session.commit()
    page = client.get("/my/pairings")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", "", html)  # the words as read: a total's unit is a <small> beside it
    for expected in ["我的结对儿童", "王小花", "甲村", "甲村小学", "每周陪伴阅读", "教育帮扶", "心理疏导",
                     f"上次活动 {today:%Y-%m-%d}", "本月 1/2 次", "赵小虎", "已结束", "补记活动",
                     "1.5 小时"]:
        assert expected in shown, expected
    age = shown_age(date(2015, 6, 1), today, disclosure_for(scene["her"].user))
    assert f"{age}岁 · 甲村 · 甲村小学" in html
    assert "钱多多" not in html and scene["child"].id_number not in html and "2015-06-01" not in html
    assert "10.0 小时" not in shown  # last year's 600 minutes count in neither total
    assert f'href="/my/log?pairing={scene["pairing"].id}"' in html
    assert [e.detail for e in events("volunteer_home_viewed")] == ["2 名结对儿童"]
    home = client.get("/").get_data(as_text=True)
    assert "我的结对儿童" in home and "王小花" in home and "本月 1/2 次" in home
    assert [e.detail for e in events("volunteer_home_viewed")] == ["2 名结对儿童", "首页：2 名结对儿童"]


def test_the_form_lists_her_pairings_and_posts_without_script(client, auth, scene):
    auth.login("aixin_a")
    form = client.get(f"/my/log?pairing={scene['pairing'].id}")
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert f'<option value="{scene["pairing"].id}" selected>王小花 · 甲村</option>' in html
    assert 'data-offline-form="activity"' in html and "钱多多" not in html
    fields = {"client_uuid": str(uuid.uuid4()), "pairing_id": str(scene["pairing"].id), "done_on": local_today().isoformat(),
              "minutes": "45", "kind": "companionship", "note": "", "mood": "有点沉默"}
    again = client.post("/my/log", data=fields)
    assert again.status_code == 422
    page = again.get_data(as_text=True)
    assert "活动内容：请写明这次和孩子一起做了什么" in page and "有点沉默" in page and 'value="45"' in page
    done = client.post("/my/log", data={**fields, "note": "一起做手工"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/my/history")
    assert client.post("/my/log", data={**fields, "note": "一起做手工"}).status_code == 303  # a second click: one row
    [row] = db.session.scalars(select(PairingActivity)).all()
    assert (row.minutes, row.kind, row.note, row.mood) == (45, "companionship", "一起做手工", "有点沉默")
    other = client.post("/my/log", data={**fields, "client_uuid": str(uuid.uuid4()), "pairing_id": str(scene["theirs"].id)})
    assert other.status_code == 404


def test_her_history_newest_first_with_totals_and_pages(client, auth, scene):
    today = local_today()
    for i in range(25):
        day = today - timedelta(days=i)
        if day < scene["pairing"].started_on:
            break
        db.session.add(PairingActivity(client_uuid=str(uuid.uuid4()), pairing_id=scene["pairing"].id,
                                       child_id=scene["child"].id, recorded_by_id=scene["her"].user_id,
                                       done_on=day, minutes=30, kind="phone", note=f"第{i}次电话"))
    db.session.add(PairingActivity(client_uuid=str(uuid.uuid4()), pairing_id=scene["theirs"].id, child_id=scene["stranger"].id,
                                   recorded_by_id=scene["other"].user_id, done_on=today, minutes=30, kind="phone", note="别人的"))
    db.session.commit()
    auth.login("aixin_a")
    first = client.get("/my/history").get_data(as_text=True)
    assert first.index("第0次电话") < first.index("第1次电话") and "别人的" not in first and "钱多多" not in first
    assert "第 1 / 2 页" in first and "第24次电话" not in first
    second = client.get("/my/history?page=2").get_data(as_text=True)
    assert "第24次电话" in second
    month_minutes = 30 * sum(1 for i in range(25) if (today - timedelta(days=i)).month == today.month)
    assert f"{round(month_minutes / 60, 1)} 小时" in re.sub(r"<[^>]+>", "", first)


def test_she_never_reaches_a_childs_record_or_archive(client, auth, scene):
    auth.login("aixin_a")
    for child in (scene["child"], scene["stranger"]):
        assert client.get(f"/children/{child.id}").status_code in (403, 404)
        assert client.get(f"/children/{child.id}/archive.pdf").status_code in (403, 404)
    assert client.get("/children").status_code in (403, 404)


# --- no input gives a 500 (as tests/test_fuzz.py does for the visits' API) ---------------------------

FIELDS = ["client_uuid", "pairing_id", "done_on", "minutes", "kind", "note", "mood", "pass_on", "recorded_at"]
VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20),
              st.sampled_from(["", "\x00", "0001-01-01", "9999-12-31", "2026-02-30", "tutoring", "600", "601",
                               "2026-03-02T08:00:00Z", "好" * 1200])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


def test_no_activity_post_answers_500(client, auth, scene):
    auth.login("aixin_a")
    valid = st.fixed_dictionaries({"client_uuid": st.uuids().map(str), "pairing_id": st.just(scene["pairing"].id),
                                   "done_on": st.just(local_today().isoformat()), "minutes": st.just(30),
                                   "kind": st.just("phone"), "note": st.just("电话")})
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
