"""The care plan (帮扶方案): a visit's findings joined with one tap, needs and measures with an owner
and a due date, a measure done or closed, a need met only once its measures are done; who sees and
who writes what; the keeper's card of measures due; the record page and the archive."""
from __future__ import annotations

import threading
import unicodedata
import uuid
from datetime import date, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import event, func, select

from blueprints.care.models import Measure, Need
from blueprints.care.plan import due_panel
from blueprints.children.services import exit_child
from blueprints.core import clock
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core.audit import AuditEvent
from blueprints.visits.models import Visit, VisitNeed
from extensions import db
from tests.factories import (PASSWORD, create_child, create_measure, create_need, create_referral, create_school,
                             create_user, create_village, department)

TODAY = date(2026, 11, 20)


def set_today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "local_now", lambda: datetime(day.year, day.month, day.day, 10, tzinfo=clock.LOCAL_TZ))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


@pytest.fixture
def town(app, monkeypatch):
    set_today(monkeypatch, TODAY)
    village, other_village = create_village("前王庄村"), create_village("后李村")
    school = create_school("中心小学", [village])
    users = {
        "director": create_user("director", "zhuren_a", villages=[village], display_name="张秀英"),
        "other_director": create_user("director", "zhuren_b", villages=[other_village]),
        "supervisor": create_user("supervisor", "dudao_a"),
        "civil": create_user("civil_affairs", "minzheng_a"),
        "school": create_user("school", "xuexiao_a", school=school),
        "police": create_user("department", "paichusuo_a", department_code="police"),
        "volunteer": create_user("volunteer", "zhiyuan_a"),
        "admin": create_user("admin", "admin_a"),
    }
    child = create_child("王小花", village=village, school=school)
    return {"village": village, "other_village": other_village, "school": school, "child": child, **users}


def post_visit(client, child, **overrides) -> int:
    body = {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": TODAY.isoformat(), "kind": "home",
            "hazard_waters": True, "hazard_note": "屋后水塘无护栏", "mental_state": "concern",
            "needs": ["safety", "education"], "needs_note": "奶奶年迈", "follow_up_needed": True,
            "follow_up_note": "请村里看看水塘", "recorded_at": "2026-11-20T01:30:00.000Z"}
    body.update(overrides)
    response = client.post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["id"]


def needs_of(child) -> list[Need]:
    db.session.expire_all()
    return db.session.scalars(select(Need).where(Need.child_id == child.id).order_by(Need.id)).all()


# --- a visit's findings join the plan ------------------------------------------------------------

def test_a_visit_offers_its_needs_and_follow_up_and_one_tap_adds_each_once(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    visit_id = post_visit(client, child)
    page = client.get(f"/visits/{visit_id}").get_data(as_text=True)
    section = page.split('id="care-findings"', 1)[1].split("</section>", 1)[0]
    assert section.count("加入帮扶方案</button>") == 3  # 安全防护, 教育帮扶, 需要跟进
    for category in ("safety", "education", "other"):
        assert f'action="/care/visits/{visit_id}/needs/{category}"' in section
    assert "需要跟进：请村里看看水塘" in section and "附近有危险水域（屋后水塘无护栏）" in section

    # one tap (htmx): the item comes back as 已加入 with the link; a second tap adds nothing
    tapped = client.post(f"/care/visits/{visit_id}/needs/safety", headers={"HX-Request": "true"})
    body = tapped.get_data(as_text=True)
    assert tapped.status_code == 200 and "<html" not in body
    assert "已加入" in body and f"/children/{child.id}/plan#need-" in body and "加入帮扶方案</button>" not in body
    again = client.post(f"/care/visits/{visit_id}/needs/safety", headers={"HX-Request": "true"})
    assert again.status_code == 200 and "已加入" in again.get_data(as_text=True)
    # without JavaScript: a plain post, 303 back to the visit
    plain = client.post(f"/care/visits/{visit_id}/needs/other")
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/visits/{visit_id}#care-findings")

    needs = needs_of(child)
    assert [(n.category, n.source, n.source_id, n.state) for n in needs] == [
        ("safety", "visit", visit_id, "open"), ("other", "visit", visit_id, "open")]
    # the hazards describe the safety need, not the needs note (about the other needs: a safety need
    # referred to the police carries nothing about the grandmother's health)
    assert needs[0].description == "安全隐患：附近有危险水域（屋后水塘无护栏）"
    assert needs[1].description == "需要跟进：请村里看看水塘"
    assert needs[0].created_by_id == town["director"].id
    assert count(AuditEvent, AuditEvent.action == "need_confirmed") == 2

    page = client.get(f"/visits/{visit_id}").get_data(as_text=True)
    section = page.split('id="care-findings"', 1)[1].split("</section>", 1)[0]
    assert section.count("已加入") == 2 and section.count("加入帮扶方案</button>") == 1
    # the plan names where each came from, with the link to the visit
    plan = client.get(f"/children/{child.id}/plan").get_data(as_text=True)
    assert f'href="/visits/{visit_id}">走访 2026-11-20</a>' in plan


def test_taps_from_several_phones_at_once_add_the_need_once(_app, client, town):
    login(client, "zhuren_a")
    visit_id = post_visit(client, town["child"])
    phones = []
    for _ in range(6):
        phone = _app.test_client()
        phone.post("/login", data={"username": "zhuren_a", "password": PASSWORD})
        phones.append(phone)
    barrier = threading.Barrier(len(phones))
    statuses = []

    def tap(phone):
        barrier.wait()
        statuses.append(phone.post(f"/care/visits/{visit_id}/needs/safety", headers={"HX-Request": "true"}).status_code)

    threads = [threading.Thread(target=tap, args=(p,)) for p in phones]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * len(phones)
    assert [n.category for n in needs_of(town["child"])] == ["safety"]


def test_a_visit_with_its_own_other_need_takes_the_follow_up_into_it(client, town):
    login(client, "zhuren_a")
    visit_id = post_visit(client, town["child"], needs=["other"], hazard_waters=False, hazard_note="")
    section = client.get(f"/visits/{visit_id}").get_data(as_text=True).split('id="care-findings"', 1)[1]
    assert section.split("</section>", 1)[0].count("加入帮扶方案</button>") == 1
    assert client.post(f"/care/visits/{visit_id}/needs/other").status_code == 303
    (need,) = needs_of(town["child"])
    assert need.category == "other" and need.description == "奶奶年迈；需要跟进：请村里看看水塘"


def test_a_visit_without_findings_shows_nothing_and_refuses_a_made_up_category(client, town):
    login(client, "zhuren_a")
    visit_id = post_visit(client, town["child"], needs=[], follow_up_needed=False, hazard_waters=False)
    assert 'id="care-findings"' not in client.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert client.post(f"/care/visits/{visit_id}/needs/safety").status_code == 404  # not a finding of it
    assert client.post(f"/care/visits/{visit_id}/needs/nonsense").status_code == 404
    assert client.post("/care/visits/999999/needs/safety").status_code == 404
    assert needs_of(town["child"]) == []


def test_confirming_is_for_the_keepers_of_the_child(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    visit_id = post_visit(client, child)
    login(client, "zhuren_b")  # another village's director
    assert client.post(f"/care/visits/{visit_id}/needs/safety").status_code == 404
    for username in ("xuexiao_a", "paichusuo_a", "zhiyuan_a", "admin_a"):
        login(client, username)
        assert client.post(f"/care/visits/{visit_id}/needs/safety").status_code == 403, username
    login(client, "dudao_a")  # the supervisor keeps the town's plans
    assert client.post(f"/care/visits/{visit_id}/needs/safety").status_code == 303
    assert [n.category for n in needs_of(child)] == ["safety"]


def test_a_corrected_visit_keeps_what_was_confirmed_and_takes_no_more(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    visit_id = post_visit(client, child)
    client.post(f"/care/visits/{visit_id}/needs/safety")
    correction = client.post(f"/visits/{visit_id}/correct", data={
        "client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": TODAY.isoformat(), "kind": "home",
        "needs": ["safety", "education"], "hazard_waters": "1", "correction_reason": "补记需求"})
    assert correction.status_code in (302, 303), correction.get_data(as_text=True)
    new_id = db.session.scalar(select(Visit.id).where(Visit.corrects_id == visit_id))
    # the original: no more buttons, and a tap is refused with the reason
    page = client.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert "这条记录已被更正" in page and "加入帮扶方案</button>" not in page
    refused = client.post(f"/care/visits/{visit_id}/needs/education")
    assert refused.status_code == 409 and "请在更正后的记录上加入" in refused.get_data(as_text=True)
    # the correction: safety is already in the plan (from the original), education may join
    section = client.get(f"/visits/{new_id}").get_data(as_text=True).split('id="care-findings"', 1)[1]
    assert section.split("</section>", 1)[0].count("加入帮扶方案</button>") == 1
    assert client.post(f"/care/visits/{new_id}/needs/safety").status_code == 303
    assert client.post(f"/care/visits/{new_id}/needs/education").status_code == 303
    assert [(n.category, n.source_id) for n in needs_of(child)] == [("safety", visit_id), ("education", new_id)]


def test_an_exited_child_takes_no_new_need(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    visit_id = post_visit(client, child)
    exit_child(child, "moved_away", TODAY, actor=town["civil"])
    db.session.commit()
    assert "加入帮扶方案</button>" not in client.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert client.post(f"/care/visits/{visit_id}/needs/safety").status_code == 409
    assert client.post(f"/children/{child.id}/plan/needs", data={"category": "living", "description": "x"}).status_code == 409
    assert needs_of(child) == []


def test_the_old_need_code_from_a_phone_is_stored_as_the_new_one(client, town):
    """A phone that saved a visit before the one list still sends "assistance" (救助申请)."""
    login(client, "zhuren_a")
    visit_id = post_visit(client, town["child"], needs=["assistance"])
    assert db.session.scalars(select(VisitNeed.category).where(VisitNeed.visit_id == visit_id)).all() == ["living"]
    both = post_visit(client, town["child"], needs=["assistance", "living"])
    assert db.session.scalars(select(VisitNeed.category).where(VisitNeed.visit_id == both)).all() == ["living"]


# --- needs and measures ----------------------------------------------------------------------------

def test_a_need_typed_in_needs_its_category_and_description(client, town):
    child = town["child"]
    login(client, "zhuren_a")
    refused = client.post(f"/children/{child.id}/plan/needs", data={"category": "", "description": "  "})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请填写需求类别" in body and "请填写具体情况" in body
    kept = client.post(f"/children/{child.id}/plan/needs", data={"category": "bogus", "description": "父亲失业在家"})
    assert kept.status_code == 422 and "父亲失业在家" in kept.get_data(as_text=True)  # nothing typed is lost
    added = client.post(f"/children/{child.id}/plan/needs", data={"category": "employment", "description": "父亲失业在家"})
    need = needs_of(child)[0]
    assert added.status_code == 303 and added.headers["Location"].endswith(f"/children/{child.id}/plan#need-{need.id}")
    assert (need.category, need.source, need.description, need.state) == ("employment", "manual", "父亲失业在家", "open")


def test_a_measure_needs_an_owner_and_a_due_date_not_in_the_past(client, town):
    child = town["child"]
    need = create_need(child)
    department("police")  # the departments' list
    login(client, "zhuren_a")
    url = f"/care/needs/{need.id}/measures"
    refused = client.post(url, data={"action": "村委加装护栏", "department_id": "", "owner_name": "", "due_on": ""})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "请填写责任人" in body and "请填写完成期限" in body
    assert "村委加装护栏" in body and f'id="need-{need.id}-measure" open' in body  # kept, and the form open
    past = client.post(url, data={"action": "村委加装护栏", "owner_name": "李主任", "due_on": "2026-11-19"})
    assert past.status_code == 422 and "完成期限：不能早于今天（2026-11-20）" in past.get_data(as_text=True)
    bad_department = client.post(url, data={"action": "村委加装护栏", "owner_name": "李主任", "due_on": "2026-12-01",
                                            "department_id": "999"})
    assert bad_department.status_code == 422 and "责任部门：请从列表中选择" in bad_department.get_data(as_text=True)
    assert count(Measure) == 0

    police = department("police")
    added = client.post(url, data={"action": "村委加装护栏", "owner_name": "李主任", "due_on": "2026-11-20",
                                   "department_id": str(police.id)})
    assert added.status_code == 303
    mine = client.post(url, data={"action": "每周看一次", "owner_name": "张秀英", "due_on": "2026-12-01"})
    assert mine.status_code == 303
    first, second = db.session.scalars(select(Measure).order_by(Measure.id)).all()
    assert (first.action, first.owner_name, first.due_on, first.department_id, first.state, first.child_id) == (
        "村委加装护栏", "李主任", TODAY, police.id, "open", child.id)
    assert first.owner_user_id is None and second.owner_user_id == town["director"].id  # she named herself
    page = client.get(f"/children/{child.id}/plan").get_data(as_text=True)
    row = page.split(f'id="measure-{first.id}"', 1)[1].split("</li>", 1)[0]
    assert "镇派出所" in row and "责任人 李主任" in row and "2026-11-20" in row and "待办" in row


def test_an_overdue_measure_is_marked_on_the_plan(client, town, monkeypatch):
    need = create_need(town["child"])
    overdue = create_measure(need, due_on=date(2026, 11, 15))
    due_today = create_measure(need, action="告知家长", due_on=TODAY)
    finished = create_measure(need, action="早已办完", due_on=date(2026, 11, 1), state="done", outcome="已办",
                              finished_on=date(2026, 11, 1))
    login(client, "zhuren_a")
    page = client.get(f"/children/{town['child'].id}/plan").get_data(as_text=True)

    def row(m):
        return page.split(f'id="measure-{m.id}"', 1)[1].split("</li>", 1)[0]

    assert "已逾期 5 天" in row(overdue)
    assert "已逾期" not in row(due_today) and "已逾期" not in row(finished)


def test_a_measure_goes_on_and_is_done_with_its_outcome_or_closed_with_its_reason(client, town):
    need = create_need(town["child"])
    measure = create_measure(need, due_on=date(2026, 11, 18))  # overdue: its date may stay as it is
    login(client, "zhuren_a")
    url = f"/care/measures/{measure.id}"
    form = client.get(url)
    assert form.status_code == 200 and "协调村委在水塘边加装护栏" in form.get_data(as_text=True)
    base = {"action": measure.action, "department_id": "", "owner_name": "张秀英", "due_on": "2026-11-18"}
    assert client.post(url, data={**base, "state": "in_progress"}).status_code == 303
    db.session.expire_all()
    assert measure.state == "in_progress" and measure.due_on == date(2026, 11, 18)
    moved = client.post(url, data={**base, "due_on": "2026-11-19", "state": "in_progress"})
    assert moved.status_code == 422 and "完成期限：不能早于今天" in moved.get_data(as_text=True)
    no_outcome = client.post(url, data={**base, "state": "done", "outcome": ""})
    assert no_outcome.status_code == 422 and "完成情况：状态选“已完成”时请写明" in no_outcome.get_data(as_text=True)
    no_reason = client.post(url, data={**base, "state": "closed"})
    assert no_reason.status_code == 422 and "终止原因：状态选“已终止”时请写明原因" in no_reason.get_data(as_text=True)
    assert client.post(url, data={**base, "state": "done", "outcome": "护栏已装好"}).status_code == 303
    db.session.expire_all()
    assert (measure.state, measure.outcome, measure.finished_on) == ("done", "护栏已装好", TODAY)
    # done stays done
    again = client.post(url, data={**base, "state": "open"})
    assert again.status_code == 422 and "不能再修改" in again.get_data(as_text=True)
    assert "不能再修改" in client.get(url).get_data(as_text=True)
    db.session.expire_all()
    assert measure.state == "done"
    assert [e.action for e in db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "measures", AuditEvent.action != "measure_form_opened")
        .order_by(AuditEvent.id))] == ["measure_updated", "measure_done"]


def test_a_measure_held_by_a_department_is_the_departments_to_return(client, town):
    need = create_need(town["child"])
    measure = create_measure(need, department_code="police")
    create_referral(measure, "police", by=town["director"], state="accepted")
    justice = department("justice")
    login(client, "zhuren_a")
    url = f"/care/measures/{measure.id}"
    base = {"action": measure.action, "department_id": str(measure.department_id), "owner_name": "张秀英",
            "due_on": "2026-12-20"}
    page = client.get(url).get_data(as_text=True)
    assert "已转介给镇派出所" in page
    done = client.post(url, data={**base, "state": "done", "outcome": "我们自己办了"})
    assert done.status_code == 422 and "已转介给镇派出所，正在办理中" in done.get_data(as_text=True)
    moved = client.post(url, data={**base, "department_id": str(justice.id), "state": "in_progress"})
    assert moved.status_code == 422 and "办理中不能改动责任部门" in moved.get_data(as_text=True)
    assert client.post(url, data={**base, "due_on": "2026-12-24", "state": "in_progress"}).status_code == 303
    db.session.expire_all()
    assert (measure.state, measure.due_on, measure.department_id) == ("in_progress", date(2026, 12, 24),
                                                                       department("police").id)


def test_a_need_is_met_only_when_its_measures_are_done(client, town):
    child = town["child"]
    need = create_need(child)
    login(client, "zhuren_a")
    url = f"/care/needs/{need.id}/resolve"
    none_yet = client.post(url, data={"resolution": "met", "note": "好了"})
    assert none_yet.status_code == 422 and "还没有帮扶措施" in none_yet.get_data(as_text=True)
    done = create_measure(need, action="村委加装护栏", state="done", outcome="已装", finished_on=TODAY)
    still = create_measure(need, action="每周查看水塘", state="in_progress")
    refused = client.post(url, data={"resolution": "met", "note": "护栏装好了"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "还有措施没有完成：“每周查看水塘”（办理中）" in body
    assert "护栏装好了" in body and f'id="need-{need.id}-resolve" open' in body
    no_note = client.post(url, data={"resolution": "met", "note": ""})
    assert no_note.status_code == 422 and "请填写说明" in no_note.get_data(as_text=True)
    db.session.expire_all()
    still.state, still.closed_reason, still.finished_on = "closed", "水塘已填平", TODAY
    db.session.commit()
    only_closed = create_need(child, category="education")
    create_measure(only_closed, state="closed", closed_reason="转学", finished_on=TODAY)
    refused = client.post(f"/care/needs/{only_closed.id}/resolve", data={"resolution": "met", "note": "好了"})
    assert refused.status_code == 422 and "没有一项措施已完成" in refused.get_data(as_text=True)

    met = client.post(url, data={"resolution": "met", "note": "护栏装好了"})
    assert met.status_code == 303
    db.session.expire_all()
    assert (need.state, need.resolved_note, need.resolved_by_id) == ("met", "护栏装好了", town["director"].id)
    assert done.state == "done"
    twice = client.post(url, data={"resolution": "closed", "note": "再试"})
    assert twice.status_code == 422 and "标记为“已解决”" in twice.get_data(as_text=True)
    # the plan: the met need below the open one, with its note; no forms on it
    page = client.get(f"/children/{child.id}/plan").get_data(as_text=True)
    assert page.index(f'id="need-{only_closed.id}"') < page.index(f'id="need-{need.id}"')
    assert "已解决：" in page.split(f'id="need-{need.id}"', 1)[1] and f"/care/needs/{need.id}/resolve" not in page


def test_a_need_no_longer_needed_closes_its_unfinished_measures(client, town):
    need = create_need(town["child"])
    open_measure = create_measure(need, action="每周查看水塘")
    done = create_measure(need, action="加装护栏", state="done", outcome="已装", finished_on=date(2026, 11, 2))
    login(client, "zhuren_a")
    assert client.post(f"/care/needs/{need.id}/resolve",
                       data={"resolution": "closed", "note": "全家搬到县城"}).status_code == 303
    db.session.expire_all()
    assert (need.state, need.resolved_note) == ("closed", "全家搬到县城")
    assert (open_measure.state, open_measure.closed_reason, open_measure.finished_on) == (
        "closed", "需求不再需要：全家搬到县城", TODAY)
    assert (done.state, done.finished_on) == ("done", date(2026, 11, 2))
    # …unless a department holds one
    held = create_need(town["child"], category="legal")
    create_referral(create_measure(held), "justice")
    refused = client.post(f"/care/needs/{held.id}/resolve", data={"resolution": "closed", "note": "不需要了"})
    assert refused.status_code == 422 and "已转介给镇司法所，正在办理中" in refused.get_data(as_text=True)


# --- who sees and who writes -----------------------------------------------------------------------

def test_reach_of_the_plan(client, town):
    child = town["child"]
    need = create_need(child)
    measure = create_measure(need)
    plan = f"/children/{child.id}/plan"
    writes = [(f"/children/{child.id}/plan/needs", {"category": "living", "description": "缺冬衣"}),
              (f"/care/needs/{need.id}/measures", {"action": "送棉衣", "owner_name": "甲", "due_on": "2026-12-01"}),
              (f"/care/needs/{need.id}/resolve", {"resolution": "closed", "note": "x"}),
              (f"/care/measures/{measure.id}", {"action": "x", "owner_name": "甲", "due_on": "2026-12-01",
                                                "state": "in_progress"})]
    for username in ("zhuren_a", "dudao_a", "minzheng_a"):
        login(client, username)
        assert client.get(plan).status_code == 200, username
        assert client.get(f"/care/measures/{measure.id}").status_code == 200, username
    # the school reads its pupil's plan, and writes nothing
    login(client, "xuexiao_a")
    page = client.get(plan).get_data(as_text=True)
    assert "住所旁有水塘，无护栏" in page and "添加帮扶措施" not in page and "登记一项需求" not in page
    assert client.get(f"/care/measures/{measure.id}").status_code == 403
    for url, data in writes:
        assert client.post(url, data=data).status_code == 403, url
    # another village's director: as if it did not exist
    login(client, "zhuren_b")
    assert client.get(plan).status_code == 404
    assert client.get(f"/care/measures/{measure.id}").status_code == 404
    for url, data in writes:
        assert client.post(url, data=data).status_code == 404, url
    # a department (even one holding a referral of hers), a volunteer, the administrator: no plans
    create_referral(measure, "police")
    for username in ("paichusuo_a", "zhiyuan_a", "admin_a"):
        login(client, username)
        assert client.get(plan).status_code == 403, username
        for url, data in writes:
            assert client.post(url, data=data).status_code == 403, (username, url)
    db.session.expire_all()
    assert count(Need) == 1 and count(Measure) == 1 and need.state == "open" and measure.state == "open"
    assert client.get("/children/999999/plan").status_code == 403  # the admin has no care_plans:read
    login(client, "zhuren_a")
    assert client.get("/children/999999/plan").status_code == 404
    assert client.post("/care/needs/999999/resolve", data={}).status_code == 404


def test_reading_the_plan_is_audited(client, town):
    child = town["child"]
    login(client, "xuexiao_a")
    client.get(f"/children/{child.id}/plan")
    event_ = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "care_plan_viewed")).one()
    assert (event_.username, event_.object_id, event_.detail) == ("xuexiao_a", str(child.id), "王小花")


def test_the_plan_page_costs_the_same_queries_for_many_needs(app, client, town):
    child = town["child"]
    login(client, "zhuren_a")
    statements = []

    def seen(*args):
        statements.append(args[2])

    def queries() -> int:
        statements.clear()
        event.listen(db.engine, "before_cursor_execute", seen)
        try:
            assert client.get(f"/children/{child.id}/plan").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", seen)
        return len(statements)

    need = create_need(child)
    create_referral(create_measure(need), "police")
    few = queries()
    for n in range(6):
        more = create_need(child, category="education", description=f"需求{n}")
        for _ in range(3):
            create_referral(create_measure(more, department_code="justice"), "health", state="done")
    assert queries() == few


# --- the keeper's card, the record page, the archive ------------------------------------------------

def test_the_home_card_lists_measures_due_within_a_week_or_overdue(client, town):
    child = town["child"]
    need = create_need(child)
    overdue = create_measure(need, action="送棉衣", due_on=date(2026, 11, 10))
    soon = create_measure(need, action="联系学校", due_on=date(2026, 11, 27))
    create_measure(need, action="告知家长", due_on=TODAY)
    create_measure(need, action="下月再看", due_on=date(2026, 11, 28))  # 8 days: not yet
    create_measure(need, action="已完成的", due_on=date(2026, 11, 10), state="done", outcome="好", finished_on=TODAY)
    elsewhere = create_child("李小军", village=town["other_village"])
    create_measure(create_need(elsewhere), action="别村的", due_on=date(2026, 11, 10))
    login(client, "zhuren_a")
    home = client.get("/").get_data(as_text=True)
    card = home.split('id="home-care-due"', 1)[1].split("</section>", 1)[0]
    assert "（3）" in card and "送棉衣" in card and "已逾期 10 天" in card and "2026-11-27 到期" in card
    assert "告知家长" in card.split("今天到期", 1)[0]
    assert card.index("送棉衣") < card.index("告知家长") < card.index("联系学校")
    assert f"/children/{child.id}/plan#measure-{overdue.id}" in card and f"#measure-{soon.id}" in card
    assert "下月再看" not in card and "已完成的" not in card and "别村的" not in card
    login(client, "minzheng_a")  # the town's keeper sees the town's
    card = client.get("/").get_data(as_text=True).split('id="home-care-due"', 1)[1].split("</section>", 1)[0]
    assert "（4）" in card and "别村的" in card
    login(client, "xuexiao_a")  # a reader has no such card
    assert 'id="home-care-due"' not in client.get("/").get_data(as_text=True)


def test_the_home_card_is_capped_and_costs_two_queries(app, town):
    need = create_need(town["child"])
    for n in range(HOME_CARD_NAMES + 3):
        create_measure(need, action=f"措施{n}", due_on=TODAY)
    director = town["director"]
    assert director.villages  # loaded before counting
    statements = []

    def seen(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        found = due_panel(director)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert len(statements) == 2
    assert found["total"] == HOME_CARD_NAMES + 3 and len(found["rows"]) == HOME_CARD_NAMES


def test_the_record_page_shows_the_open_needs_and_links_to_the_plan(client, town):
    child = town["child"]
    need = create_need(child)
    create_measure(need, action="协调村委加装护栏", due_on=date(2026, 11, 18))
    create_need(child, category="education", state="met", resolved_note="好了")
    for username in ("zhuren_a", "xuexiao_a"):
        login(client, username)
        page = client.get(f"/children/{child.id}").get_data(as_text=True)
        section = page.split('id="care-plan"', 1)[1].split("</details>", 1)[0]
        assert "帮扶方案（待解决 1 项）" in section and "安全防护" in section and "协调村委加装护栏" in section
        assert "已逾期" in section and "另有 1 项已解决或不再需要" in section
        assert f'href="/children/{child.id}/plan"' in page.split("</section>", 1)[0]  # the header's link
    # a department reading the child through its referral sees no plan
    create_referral(create_measure(need), "police")
    login(client, "paichusuo_a")
    page = client.get(f"/children/{child.id}")
    assert page.status_code == 200
    assert 'id="care-plan"' not in page.get_data(as_text=True) and "/plan" not in page.get_data(as_text=True)


def pdf_text(data: bytes) -> str:
    return "".join(unicodedata.normalize("NFKC", "".join(p.extract_text() for p in PdfReader(BytesIO(data)).pages))
                   .split())


def test_the_archive_prints_the_whole_plan(client, town):
    child = town["child"]
    need = create_need(child)
    create_measure(need, action="协调村委加装护栏", owner_name="李主任", department_code="police",
                   state="done", outcome="护栏已装好", finished_on=date(2026, 11, 18))
    need.state, need.resolved_note, need.resolved_at = "met", "水塘安全了", datetime(2026, 11, 19, 2)
    create_need(child, category="employment", description="父亲失业")
    db.session.commit()
    login(client, "minzheng_a")
    text = pdf_text(client.get(f"/children/{child.id}/archive.pdf").data)
    plan = text.split("帮扶方案", 1)[1]  # NFKC: full-width punctuation reads as ASCII
    assert "父母就业:父亲失业直接登记待解决还没有措施" in plan
    assert "安全防护:住所旁有水塘,无护栏直接登记已解决(2026-11-19):水塘安全了" in plan
    assert "协调村委加装护栏镇派出所李主任2026-12-20已完成(2026-11-18):护栏已装好" in plan
    assert plan.index("父母就业") < plan.index("安全防护")  # open first
    login(client, "paichusuo_a")  # a department prints no archive; a school prints the plan
    assert client.get(f"/children/{child.id}/archive.pdf").status_code in (403, 404)
    login(client, "xuexiao_a")
    assert "护栏已装好" in pdf_text(client.get(f"/children/{child.id}/archive.pdf").data)


# --- a referral sent while the keeper finishes the measure or closes the need ----------------------

def _refer_from_another_phone(measure, department_id: int) -> None:
    """A referral committed by another request after this one read the measure and its referrals
    (nothing here commits this session, which would read them afresh)."""
    from sqlalchemy.orm import Session

    from blueprints.care.models import Referral

    with Session(db.engine) as other:
        other.add(Referral(measure_id=measure.id, child_id=measure.child_id, department_id=department_id,
                           note="请协助", state="sent"))
        other.execute(Measure.__table__.update().where(Measure.id == measure.id).values(state="in_progress"))
        other.commit()


def test_a_measure_referred_meanwhile_is_not_finished_by_the_keeper(app, town):
    from blueprints.care.plan import PlanError, update_measure

    need = create_need(town["child"])
    measure = create_measure(need)
    police_id = department("police").id
    measure_id = measure.id
    db.session.expire_all()
    measure = db.session.get(Measure, measure_id)
    assert measure.referrals == []  # read before the department got it
    _refer_from_another_phone(measure, police_id)
    with app.test_request_context():
        with pytest.raises(PlanError) as refused:
            update_measure(measure, {"action": measure.action, "department_id": None, "owner_name": "张秀英",
                                     "due_on": measure.due_on, "state": "closed", "closed_reason": "不用了"},
                           actor=town["director"])
    assert "已转介给镇派出所" in refused.value.errors["state"]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Measure, measure_id).state == "in_progress"


def test_a_need_whose_measure_was_referred_meanwhile_is_not_closed(app, town):
    from blueprints.care.plan import PlanError, resolve_need

    need = create_need(town["child"])
    measure = create_measure(need)
    police_id = department("police").id
    need_id, measure_id = need.id, measure.id
    db.session.expire_all()
    need = db.session.get(Need, need_id)
    assert [m.referrals for m in need.measures] == [[]]  # read before the department got it
    _refer_from_another_phone(need.measures[0], police_id)
    with app.test_request_context():
        with pytest.raises(PlanError) as refused:
            resolve_need(need, {"resolution": "closed", "note": "不需要了"}, actor=town["director"])
    assert "已转介给镇派出所" in refused.value.errors["resolution"]
    db.session.rollback()
    db.session.expire_all()
    assert (db.session.get(Need, need_id).state, db.session.get(Measure, measure_id).state) == ("open", "in_progress")


def test_a_need_whose_measure_was_added_meanwhile_is_not_met(app, town):
    from sqlalchemy.orm import Session

    from blueprints.care.plan import PlanError, resolve_need

    need = create_need(town["child"])
    create_measure(need, state="done", outcome="已装护栏", finished_on=TODAY)
    need_id = need.id
    db.session.expire_all()
    need = db.session.get(Need, need_id)
    assert [m.state for m in need.measures] == ["done"]  # read before another keeper added one
    with Session(db.engine) as other:
        other.add(Measure(need_id=need_id, child_id=need.child_id, action="每周查看水塘", owner_name="李四",
                          due_on=date(2026, 12, 20), state="open"))
        other.commit()
    with app.test_request_context():
        with pytest.raises(PlanError) as refused:
            resolve_need(need, {"resolution": "met", "note": "护栏装好了"}, actor=town["director"])
    assert "“每周查看水塘”（待办）" in refused.value.errors["resolution"]
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(Need, need_id).state == "open"


def test_a_measure_held_by_a_department_is_not_put_back_to_waiting(client, town):
    need = create_need(town["child"])
    measure = create_measure(need, department_code="police", state="in_progress")
    create_referral(measure, "police", by=town["director"], state="accepted")
    login(client, "zhuren_a")
    response = client.post(f"/care/measures/{measure.id}", data={
        "action": measure.action, "department_id": str(measure.department_id), "owner_name": "张秀英",
        "due_on": "2026-12-20", "state": "open"})
    assert response.status_code == 422 and "已转介给镇派出所，正在办理中" in response.get_data(as_text=True)
    db.session.expire_all()
    assert measure.state == "in_progress"
