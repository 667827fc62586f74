"""Enrolment and dropout (plan §12 控辍保学): a dropout reported, followed up, returned (应返尽返) and
watched week by week so that a relapse shows; transfers between the town's schools; who sees and
who writes what."""
from __future__ import annotations

import threading
import unicodedata
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from blueprints.children.models import ChildChange
from blueprints.core import clock
from blueprints.core.audit import AuditEvent
from blueprints.schools.models import AttendanceCheck, DropoutCase, DropoutStep, Enrolment, EnrolmentChange
from extensions import db
from tests.factories import (PASSWORD, create_child, create_dropout, create_school, create_user, create_village)


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def set_today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "local_now", lambda: datetime(day.year, day.month, day.day, 10, tzinfo=clock.LOCAL_TZ))


@pytest.fixture
def town(app):
    village = create_village("东村")
    school = create_school("中心小学", [village])
    other = create_school("第二小学", [village])
    users = {
        "coordinator": create_user("school", "xuexiao_a", school=school),
        "teacher": create_user("school", "banzhuren_a", school=school, school_duty="head_teacher"),
        "other_school": create_user("school", "xuexiao_b", school=other),
        "director": create_user("director", "zhuren_a", villages=[village]),
        "civil": create_user("civil_affairs", "minzheng_a"),
        "jiaoban": create_user("department", "jiaoban_a", department_code="education"),
        "police": create_user("department", "paichusuo_a", department_code="police"),
        "volunteer": create_user("volunteer", "zhiyuan_a"),
    }
    pupil = create_child("李小红", village=village, school=school, grade="五年级")
    return {"village": village, "school": school, "other": other, "pupil": pupil, **users}


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def case_of(child) -> list[DropoutCase]:
    db.session.expire_all()
    return db.session.scalars(select(DropoutCase).where(DropoutCase.child_id == child.id)
                              .order_by(DropoutCase.dropped_on)).all()


def state_of(child) -> str:
    db.session.expire_all()
    row = db.session.get(Enrolment, child.id)
    return row.state if row else "enrolled"


# --- the scenario: dropout → steps → return → weekly checks → relapse ----------------------------

def test_dropout_return_and_relapse_with_known_dates(client, town, monkeypatch):
    pupil = town["pupil"]
    login(client, "xuexiao_a")

    # Thursday 8 October: reported
    set_today(monkeypatch, date(2026, 10, 8))
    page = client.get(f"/schools/pupils/{pupil.id}/dropout")
    assert page.status_code == 200 and 'id="dropout-form"' in page.text
    response = client.post(f"/schools/pupils/{pupil.id}/dropout",
                           data={"dropped_on": "2026-10-08", "reason": "weariness", "reason_note": "不愿上学"})
    assert response.status_code == 303
    [case] = case_of(pupil)
    assert (case.dropped_on, case.reason, case.reason_note, case.school_id) == (
        date(2026, 10, 8), "weariness", "不愿上学", town["school"].id)
    assert case.reported_by_id == town["coordinator"].id and case.returned_on is None
    assert response.headers["Location"].endswith(f"/schools/dropouts/{case.id}")
    assert state_of(pupil) == "dropped_out"
    change = db.session.scalar(select(EnrolmentChange).where(EnrolmentChange.child_id == pupil.id))
    assert (change.state_from, change.state_to, change.changed_on) == ("enrolled", "dropped_out", date(2026, 10, 8))
    assert count(AuditEvent, AuditEvent.action == "dropout_reported") == 1

    # The school's home names her; so do civil affairs' and 镇教办's
    home = client.get("/")
    assert "未返校 1 人" in home.text and "李小红" in home.text and f"/schools/dropouts/{case.id}" in home.text

    # Friday 9 October: a home visit; a step dated before the dropout is refused, naming the field
    set_today(monkeypatch, date(2026, 10, 9))
    refused = client.post(f"/schools/dropouts/{case.id}/steps",
                          data={"kind": "home_visit", "done_on": "2026-10-01", "note": "奶奶说孩子不想去"})
    assert refused.status_code == 422
    assert "日期：不能早于辍学日期 2026-10-08" in refused.text and "奶奶说孩子不想去" in refused.text
    assert client.post(f"/schools/dropouts/{case.id}/steps",
                       data={"kind": "home_visit", "done_on": "2026-10-09", "note": "奶奶说孩子不想去"}).status_code == 303
    set_today(monkeypatch, date(2026, 10, 14))
    assert client.post(f"/schools/dropouts/{case.id}/steps",
                       data={"kind": "persuade", "done_on": "2026-10-14", "note": "班主任和孩子谈心，答应下周回校"}).status_code == 303
    assert [s.kind for s in db.session.scalars(select(DropoutStep).where(DropoutStep.case_id == case.id)
                                               .order_by(DropoutStep.done_on))] == ["home_visit", "persuade"]

    # Monday 19 October: back. A return before the dropout is refused: the field named, nothing typed lost
    set_today(monkeypatch, date(2026, 10, 19))
    refused = client.post(f"/schools/dropouts/{case.id}/return",
                          data={"returned_on": "2026-10-01", "return_note": "家长送回学校"})
    assert refused.status_code == 422
    assert "返校日期：不能早于辍学日期 2026-10-08" in refused.text
    assert 'value="2026-10-01"' in refused.text and 'value="家长送回学校"' in refused.text
    assert case_of(pupil)[0].returned_on is None and state_of(pupil) == "dropped_out"
    response = client.post(f"/schools/dropouts/{case.id}/return",
                           data={"returned_on": "2026-10-19", "return_note": "家长送回学校"})
    assert response.status_code == 303
    [case] = case_of(pupil)
    assert case.returned_on == date(2026, 10, 19) and case.watch_until == date(2027, 2, 22)  # 18 weeks
    assert state_of(pupil) == "enrolled"
    assert "未返校 0 人" in client.get("/").text

    # Monday 26 October: last week's check is due, on the home card; 正常 with one tap
    set_today(monkeypatch, date(2026, 10, 26))
    home = client.get("/")
    assert "待记考勤 1 人" in home.text and f"/schools/dropouts/{case.id}#attendance" in home.text
    detail = client.get(f"/schools/dropouts/{case.id}")
    assert 'id="attendance-normal"' in detail.text and 'value="2026-10-19"' in detail.text
    assert client.post(f"/schools/dropouts/{case.id}/attendance",
                       data={"week_of": "2026-10-19", "absent_days": "0"}).status_code == 303
    assert "待记考勤 0 人" in client.get("/").text
    assert "李小红" not in client.get("/schools/dropouts?state=relapsed").text

    # Monday 9 November: the week of 26 October went unchecked a full week: a missed week, a relapse
    set_today(monkeypatch, date(2026, 11, 9))
    relapsed = client.get("/schools/dropouts?state=relapsed")
    assert "李小红" in relapsed.text and "漏记 1 周考勤" in relapsed.text
    # filled in late, with two days absent: no longer missed, but the absences show
    assert client.post(f"/schools/dropouts/{case.id}/attendance",
                       data={"week_of": "2026-10-28", "absent_days": "2", "note": "周三周四没来"}).status_code == 303
    check = db.session.scalar(select(AttendanceCheck).where(AttendanceCheck.week_of == date(2026, 10, 26)))
    assert check.absent_days == 2 and check.note == "周三周四没来"  # any day of the week: its Monday
    relapsed = client.get("/schools/dropouts?state=relapsed")
    assert "1 周缺勤共 2 天" in relapsed.text and "漏记" not in relapsed.text
    # checks outside the watch are refused, naming the field
    for week, message in (("2026-10-12", "周次：不能早于返校那一周（2026-10-19 起）"),
                          ("2026-11-16", "周次：不能是以后的周")):
        refused = client.post(f"/schools/dropouts/{case.id}/attendance", data={"week_of": week, "absent_days": "0"})
        assert refused.status_code == 422 and message in refused.text
    refused = client.post(f"/schools/dropouts/{case.id}/attendance", data={"week_of": "2026-11-02", "absent_days": "9"})
    assert refused.status_code == 422 and "缺勤天数：请填 0 到 7 天" in refused.text
    assert count(AttendanceCheck) == 2

    # civil affairs sees the relapse in the town's list, and the returned pupil watched on her home
    login(client, "minzheng_a")
    assert "李小红" in client.get("/schools/dropouts?state=relapsed").text
    home = client.get("/")
    assert 'id="home-town-dropouts"' in home.text and "其中有反复" in home.text

    # Monday 16 November: she is out again (Friday 13th). A date before her return is refused
    login(client, "xuexiao_a")
    set_today(monkeypatch, date(2026, 11, 16))
    refused = client.post(f"/schools/pupils/{pupil.id}/dropout", data={"dropped_on": "2026-10-18", "reason": "work"})
    assert refused.status_code == 422 and "辍学日期：不能早于上次返校日期 2026-10-19" in refused.text
    assert client.post(f"/schools/pupils/{pupil.id}/dropout",
                       data={"dropped_on": "2026-11-13", "reason": "work"}).status_code == 303
    first, second = case_of(pupil)
    assert first.closed_on == date(2026, 11, 13) and second.returned_on is None and state_of(pupil) == "dropped_out"
    # a third report while she is out names the open case, and adds nothing
    refused = client.post(f"/schools/pupils/{pupil.id}/dropout", data={"dropped_on": "2026-11-16", "reason": "work"})
    assert refused.status_code == 422 and "该生 2026-11-13 起的辍学还没有登记返校" in refused.text
    assert len(case_of(pupil)) == 2
    # the first case shows the second dropout as its relapse; the second is open
    relapsed = client.get("/schools/dropouts?state=relapsed")
    assert "2026-11-13 再次辍学" in relapsed.text
    opened = client.get("/schools/dropouts?state=open")
    assert f'data-case-id="{second.id}"' in opened.text and f'data-case-id="{first.id}"' not in opened.text
    # the town sees her, named with her school, on its list and its home
    for username in ("minzheng_a", "jiaoban_a"):
        login(client, username)
        listed = client.get("/schools/dropouts")
        assert listed.status_code == 200 and "李小红" in listed.text and "中心小学" in listed.text
        home = client.get("/")
        assert "李小红" in home.text and f"/schools/dropouts/{second.id}" in home.text


def test_the_record_and_the_archive_show_the_schooling(client, town, monkeypatch):
    pupil = town["pupil"]
    set_today(monkeypatch, date(2026, 11, 9))
    case = create_dropout(pupil, dropped_on=date(2026, 10, 8), returned_on=date(2026, 10, 19),
                          watch_until=date(2027, 2, 22))
    db.session.add(DropoutStep(case_id=case.id, kind="persuade", done_on=date(2026, 10, 12), note="劝返成功"))
    db.session.add(AttendanceCheck(case_id=case.id, week_of=date(2026, 10, 19), absent_days=3))
    db.session.commit()
    login(client, "zhuren_a")  # the child director reads it
    record = client.get(f"/children/{pupil.id}")
    assert 'id="enrolment"' in record.text and "在读与辍学" in record.text
    assert "2026-10-08 辍学" in record.text and "1 周缺勤共 3 天" in record.text and "漏记 1 周考勤" in record.text
    assert 'id="report-dropout"' not in record.text  # reads, does not write
    login(client, "xuexiao_a")  # the archive PDF: the same section, as text
    printed = client.get(f"/children/{pupil.id}/archive.pdf")
    assert printed.status_code == 200
    text = "".join(pdf_text(printed.data).split())  # table cells wrap
    for words in ("在读与辍学", "辍学与返校", "2026-10-08(中心小学)", "厌学", "2026-10-12劝返:劝返成功", "观察至2027-02-22",
                  "1周缺勤共3天", "漏记1周考勤"):
        assert words in text, words


# --- a transfer between the town's schools -------------------------------------------------------

def test_a_transfer_moves_the_pupil_and_her_file_into_the_new_school(client, town, monkeypatch):
    pupil, other = town["pupil"], town["other"]
    set_today(monkeypatch, date(2026, 11, 16))
    case = create_dropout(pupil, dropped_on=date(2026, 10, 8), returned_on=date(2026, 10, 19),
                          watch_until=date(2027, 2, 22))
    login(client, "xuexiao_a")
    form = client.get(f"/schools/pupils/{pupil.id}/enrolment")
    assert form.status_code == 200 and "第二小学" in form.text and ">中心小学</option>" not in form.text
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment",
                          data={"state": "transferred", "changed_on": "2026-11-16", "to_school_id": str(town["school"].id)})
    assert refused.status_code == 422 and "转入学校：请选择本镇的另一所学校" in refused.text
    response = client.post(f"/schools/pupils/{pupil.id}/enrolment",
                           data={"state": "transferred", "changed_on": "2026-11-16", "to_school_id": str(other.id),
                                 "note": "随父母搬家"})
    assert response.status_code == 303
    db.session.expire_all()
    assert pupil.school_id == other.id and state_of(pupil) == "enrolled"
    change = db.session.scalar(select(EnrolmentChange).where(EnrolmentChange.child_id == pupil.id))
    assert (change.school_id, change.to_school_id, change.state_to, change.note) == (
        town["school"].id, other.id, "transferred", "随父母搬家")
    history = db.session.scalar(select(ChildChange).where(ChildChange.child_id == pupil.id, ChildChange.field == "学校"))
    assert (history.old_value, history.new_value, history.username) == ("中心小学", "第二小学", "xuexiao_a")
    # the old school reaches her no more; the new one does, with her dropout case
    assert client.get(f"/children/{pupil.id}").status_code == 404
    assert client.get(f"/schools/dropouts/{case.id}").status_code == 404
    assert client.get(f"/schools/pupils/{pupil.id}/enrolment").status_code == 404
    login(client, "xuexiao_b")
    assert client.get(f"/schools/dropouts/{case.id}").status_code == 200
    assert "李小红" in client.get("/schools/dropouts?state=watched").text
    record = client.get(f"/children/{pupil.id}")
    assert "转学：中心小学 → 第二小学" in record.text


def test_state_changes_follow_the_rules(client, town, monkeypatch):
    pupil = town["pupil"]
    set_today(monkeypatch, date(2026, 11, 16))
    login(client, "banzhuren_a")  # a class teacher writes too
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={"state": "enrolled", "changed_on": "2026-11-16"})
    assert refused.status_code == 422 and "在读状态：目前已是“在读”，不用变更" in refused.text
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={"state": "dropped_out", "changed_on": "2026-11-16"})
    assert refused.status_code == 422 and count(Enrolment) == 0
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={"state": "transferred", "changed_on": "2026-11-16"})
    assert refused.status_code == 422 and "说明：转出本镇时请写明转入的学校" in refused.text
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment",
                          data={"state": "suspended", "changed_on": "2026-11-17", "note": "住院治疗"})
    assert refused.status_code == 422 and "变更日期不能晚于今天" in refused.text and 'value="住院治疗"' in refused.text
    assert client.post(f"/schools/pupils/{pupil.id}/enrolment",
                       data={"state": "suspended", "changed_on": "2026-11-10", "note": "住院治疗"}).status_code == 303
    assert state_of(pupil) == "suspended"
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={"state": "enrolled", "changed_on": "2026-11-09"})
    assert refused.status_code == 422 and "变更日期：不能早于目前状态的开始日期 2026-11-10" in refused.text
    # while a dropout waits for her return, only the return brings her back
    client.post(f"/schools/pupils/{pupil.id}/dropout", data={"dropped_on": "2026-11-12", "reason": "illness"})
    assert state_of(pupil) == "dropped_out"
    refused = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={"state": "enrolled", "changed_on": "2026-11-16"})
    assert refused.status_code == 422 and "请先在辍学记录里登记返校" in refused.text
    assert state_of(pupil) == "dropped_out"
    assert [(c.state_from, c.state_to) for c in db.session.scalars(
        select(EnrolmentChange).order_by(EnrolmentChange.id))] == [("enrolled", "suspended"), ("suspended", "dropped_out")]


# --- who reaches what ---------------------------------------------------------------------------

def test_each_role_reaches_what_it_may(client, town, monkeypatch):
    pupil = town["pupil"]
    set_today(monkeypatch, date(2026, 11, 16))
    case = create_dropout(pupil, dropped_on=date(2026, 11, 2))
    step = {"kind": "home_visit", "done_on": "2026-11-16", "note": "家访"}
    writes = [(f"/schools/pupils/{pupil.id}/dropout", {"dropped_on": "2026-11-16", "reason": "work"}),
              (f"/schools/pupils/{pupil.id}/enrolment", {"state": "suspended", "changed_on": "2026-11-16"}),
              (f"/schools/dropouts/{case.id}/steps", step),
              (f"/schools/dropouts/{case.id}/return", {"returned_on": "2026-11-16"}),
              (f"/schools/dropouts/{case.id}/attendance", {"week_of": "2026-11-09", "absent_days": "0"})]

    # another school: as if she did not exist
    login(client, "xuexiao_b")
    assert client.get(f"/schools/dropouts/{case.id}").status_code == 404
    assert client.get(f"/schools/pupils/{pupil.id}/dropout").status_code == 404
    for url, data in writes:
        assert client.post(url, data=data).status_code == 404, url
    assert "李小红" not in client.get("/schools/dropouts?state=all").text
    assert "未返校 0 人" in client.get("/").text

    # the child director reads (the case, the record's section) but writes nothing
    login(client, "zhuren_a")
    assert client.get(f"/schools/dropouts/{case.id}").status_code == 200
    assert 'id="step-form"' not in client.get(f"/schools/dropouts/{case.id}").text
    for url, data in writes:
        assert client.post(url, data=data).status_code == 403, url
    assert client.get("/schools/dropouts").status_code == 403

    # 镇教办 lists the town's dropouts, named, and opens a case; writes nothing; no child record
    login(client, "jiaoban_a")
    assert "李小红" in client.get("/schools/dropouts").text
    assert "李小红" in client.get(f"/schools/dropouts?school={town['school'].id}").text
    assert "李小红" not in client.get(f"/schools/dropouts?school={town['other'].id}").text
    assert client.get(f"/schools/dropouts/{case.id}").status_code == 200
    for url, data in writes:
        assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/children/{pupil.id}").status_code == 404  # a department reads only a referred child

    # another department and a volunteer: nothing
    for username in ("paichusuo_a", "zhiyuan_a"):
        login(client, username)
        assert client.get("/schools/dropouts").status_code == 403
        assert client.get(f"/schools/dropouts/{case.id}").status_code == 403
        assert client.post(f"/schools/dropouts/{case.id}/steps", data=step).status_code == 403
        assert "全镇辍学" not in client.get("/").text

    assert count(DropoutStep) == 0 and count(DropoutCase) == 1 and count(Enrolment) == 0


def test_an_exited_child_gets_no_dropout_written_until_she_is_back(client, town, monkeypatch):
    from blueprints.children.services import exit_child, reinstate_child

    pupil = town["pupil"]
    set_today(monkeypatch, date(2026, 11, 16))
    case = create_dropout(pupil, dropped_on=date(2026, 11, 2))
    exit_child(pupil, "moved_away", date(2026, 11, 12), actor=None)
    db.session.commit()
    assert case_of(pupil)[0].closed_on == date(2026, 11, 12)  # the exit hook closed it
    login(client, "xuexiao_a")
    assert client.post(f"/schools/dropouts/{case.id}/return", data={"returned_on": "2026-11-16"}).status_code == 409
    assert client.post(f"/schools/pupils/{pupil.id}/dropout",
                       data={"dropped_on": "2026-11-16", "reason": "work"}).status_code == 409
    assert case_of(pupil)[0].returned_on is None and count(DropoutCase) == 1
    # back on the roll: the case closed with her exit waits for her return again
    reinstate_child(db.session.get(type(pupil), pupil.id), "登记有误", actor=None)
    db.session.commit()
    refused = client.post(f"/schools/pupils/{pupil.id}/dropout", data={"dropped_on": "2026-11-16", "reason": "work"})
    assert refused.status_code == 422 and "该生 2026-11-02 起的辍学还没有登记返校" in refused.text
    assert 'id="return-form"' in client.get(f"/schools/dropouts/{case.id}").text
    assert client.post(f"/schools/dropouts/{case.id}/return", data={"returned_on": "2026-11-16"}).status_code == 303
    [case] = case_of(pupil)
    assert case.returned_on == date(2026, 11, 16) and case.closed_on is None and state_of(pupil) == "enrolled"


def test_two_reports_at_once_keep_one_case(_app, app, town, monkeypatch):
    """Two teachers report the same pupil at the same moment: one case, the other told in words
    (PostgreSQL: the second waits on the child's row lock; SQLite: the partial unique index)."""
    pupil = town["pupil"]
    url = f"/schools/pupils/{pupil.id}/dropout"
    clients = []
    for username in ("xuexiao_a", "banzhuren_a"):
        c = _app.test_client()
        c.post("/login", data={"username": username, "password": PASSWORD})
        clients.append(c)
    barrier = threading.Barrier(2)
    answers = []

    def report(c):
        barrier.wait()
        answers.append(c.post(url, data={"dropped_on": "2026-11-16", "reason": "work"}))

    set_today(monkeypatch, date(2026, 11, 16))
    threads = [threading.Thread(target=report, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(a.status_code for a in answers) == [303, 422]
    refused = next(a for a in answers if a.status_code == 422)
    assert "辍学日期：该生" in refused.text
    if db.engine.dialect.name == "postgresql":  # the lock: the second reads the first's case, and names it
        assert "该生 2026-11-16 起的辍学还没有登记返校" in refused.text
    assert count(DropoutCase, DropoutCase.child_id == pupil.id) == 1
    assert count(EnrolmentChange) == 1


def test_the_watch_lasts_eighteen_weeks_and_its_last_week_is_checked_after_it(client, town, monkeypatch):
    pupil = town["pupil"]
    case = create_dropout(pupil, dropped_on=date(2026, 10, 8), returned_on=date(2026, 10, 19),
                          watch_until=date(2027, 2, 22))
    for week in range(17):  # 19 October to 8 February, every week but the last
        db.session.add(AttendanceCheck(case_id=case.id, week_of=date(2026, 10, 19) + timedelta(weeks=week)))
    db.session.commit()
    set_today(monkeypatch, date(2027, 2, 24))  # the Wednesday after the watch ended
    login(client, "xuexiao_a")
    home = client.get("/")
    assert "待记考勤 1 人" in home.text and "2027-02-15 这一周" in home.text
    page = client.get(f"/schools/dropouts/{case.id}")
    assert 'data-case-state="done"' in page.text and 'value="2027-02-15"' in page.text
    assert page.text.count('<tr data-week=') == 18
    refused = client.post(f"/schools/dropouts/{case.id}/attendance", data={"week_of": "2027-02-22", "absent_days": "0"})
    assert refused.status_code == 422 and "周次：复学观察到 2027-02-22 为止" in refused.text
    assert client.post(f"/schools/dropouts/{case.id}/attendance",
                       data={"week_of": "2027-02-15", "absent_days": "0"}).status_code == 303
    assert count(AttendanceCheck) == 18 and "待记考勤 0 人" in client.get("/").text
    assert "李小红" not in client.get("/schools/dropouts?state=relapsed").text
    assert "李小红" not in client.get("/schools/dropouts?state=watched").text
    assert "李小红" in client.get("/schools/dropouts?state=all").text
