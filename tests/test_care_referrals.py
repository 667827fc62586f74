"""Referrals (转介) and the department inbox: a measure referred to a department, accepted, acted on
(with files), returned done or declined; who sees what of the child and for how long; the inbox,
the town's and a director's lists, the home card, the record section and the plan's measure row."""
from __future__ import annotations

import os
import secrets
import uuid
from datetime import date, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from blueprints.care.models import Measure, Need, Referral, ReferralAction, ReferralAttachment
from blueprints.core import clock
from blueprints.core.audit import AuditEvent
from blueprints.notices.models import Notice
from extensions import db
from tests.factories import (PASSWORD, create_child, create_measure, create_need, create_referral, create_school,
                             create_user, create_village, department)

TODAY = date(2026, 11, 20)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def set_today(monkeypatch, day: date) -> None:
    monkeypatch.setattr(clock, "local_now", lambda: datetime(day.year, day.month, day.day, 10, tzinfo=clock.LOCAL_TZ))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def post_files(client, path: str, values: dict):
    """A multipart post encoded in memory (the test client would spool a big one into a temporary
    file it leaves open); values["attachments"]: (BytesIO, filename) pairs."""
    data = MultiDict({"once": secrets.token_urlsafe(24)})  # a freshly opened form's token (core/once.py)
    data.update({k: v for k, v in values.items() if k != "attachments"})
    for stream, filename in values.get("attachments", ()):
        data.add("attachments", FileStorage(stream, filename))
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def stored_files(app) -> set[str]:
    folder = os.path.join(app.instance_path, "referrals")
    return set(os.listdir(folder)) if os.path.isdir(folder) else set()


def fresh(model, row_id):
    db.session.expire_all()
    return db.session.get(model, row_id)


@pytest.fixture
def town(app, monkeypatch):
    set_today(monkeypatch, TODAY)
    village = create_village("前王庄村")
    other_village = create_village("后李村")
    school = create_school("中心小学", [village])
    users = {
        "director": create_user("director", "zhuren_r", villages=[village]),
        "other_director": create_user("director", "zhuren_o", villages=[other_village]),
        "civil": create_user("civil_affairs", "minzheng_r"),
        "supervisor": create_user("supervisor", "dudao_r"),
        "police": create_user("department", "paichusuo_r", department_code="police"),
        "police2": create_user("department", "paichusuo_r2", department_code="police"),
        "justice": create_user("department", "sifasuo_r", department_code="justice"),
        "volunteer": create_user("volunteer", "zhiyuan_r"),
        "school": create_user("school", "xuexiao_r", school=school),
        "admin": create_user("admin", "admin_r"),
    }
    child = create_child("龚小雨", village=village, school=school, grade="四年级", address="前王庄村东街18号",
                         disability_kind="肢体", disability_grade="三级")
    need = create_need(child, "safety", "住所旁有水塘，无护栏")
    measure = create_measure(need, due_on=TODAY + timedelta(days=10))
    return {"village": village, "other_village": other_village, "child": child, "need": need,
            "measure": measure, **users}


def refer(client, measure, department_code="police", note="请协助排查水塘安全，联系村委加装护栏"):
    return client.post(f"/care/measures/{measure.id}/refer",
                       data={"department_id": str(department(department_code).id), "note": note})


def referral_of(measure) -> Referral:
    db.session.expire_all()
    return db.session.scalars(select(Referral).where(Referral.measure_id == measure.id).order_by(Referral.id)).all()[-1]


# --- the flow -----------------------------------------------------------------------------------

def test_refer_accept_act_and_return_done(client, town):
    measure, child = town["measure"], town["child"]
    login(client, "zhuren_r")
    form = client.get(f"/care/measures/{measure.id}/refer")
    assert form.status_code == 200 and "镇派出所" in form.get_data(as_text=True)
    sent = refer(client, measure)
    assert sent.status_code == 303
    referral = referral_of(measure)
    assert sent.headers["Location"].endswith(f"/referrals/{referral.id}")
    assert (referral.state, referral.department.code, referral.referred_by_id) == ("sent", "police", town["director"].id)
    m = fresh(Measure, measure.id)
    assert (m.state, m.department.code) == ("in_progress", "police")  # the department set, as it had none
    # every active police account is told, nobody else
    told = db.session.scalars(select(Notice).where(Notice.kind == "referral_received")).all()
    assert sorted(n.user_id for n in told) == sorted([town["police"].id, town["police2"].id])
    assert all(n.key == f"referral_received:{referral.id}" and n.url == f"/referrals/{referral.id}"
               and "龚小雨" in n.text and n.child_id == child.id for n in told)

    login(client, "paichusuo_r")
    inbox = client.get("/referrals").get_data(as_text=True)
    assert "龚小雨" in inbox and "待接收" in inbox
    assert client.post(f"/referrals/{referral.id}/accept").status_code == 303
    r = fresh(Referral, referral.id)
    assert (r.state, r.accepted_by_id) == ("accepted", town["police"].id) and r.accepted_at is not None
    acted = post_files(client, f"/referrals/{referral.id}/actions", {
        "acted_on": "2026-11-19", "text": "民警上门查看，已联系村委", "attachments": [(BytesIO(PDF), "现场记录.pdf"),
                                                                             (BytesIO(PNG), "photo.png")]})
    assert acted.status_code == 303, acted.get_data(as_text=True)
    action = db.session.scalar(select(ReferralAction).where(ReferralAction.referral_id == referral.id))
    assert (action.acted_on, action.text, action.by_id) == (date(2026, 11, 19), "民警上门查看，已联系村委", town["police"].id)
    files = sorted(action.attachments, key=lambda a: a.id)
    assert [(a.filename, a.content_type, a.size) for a in files] == [
        ("现场记录.pdf", "application/pdf", len(PDF)), ("photo.png", "image/png", len(PNG))]
    returned = client.post(f"/referrals/{referral.id}/return", data={"outcome": "done", "note": "护栏已装好"})
    assert returned.status_code == 303
    r = fresh(Referral, referral.id)
    assert (r.state, r.closed_on, r.return_note, r.closed_by_id) == ("done", TODAY, "护栏已装好", town["police"].id)
    m = fresh(Measure, measure.id)
    assert (m.state, m.outcome, m.finished_on) == ("done", "护栏已装好", TODAY)
    back = db.session.scalars(select(Notice).where(Notice.kind == "referral_returned")).all()
    assert [(n.user_id, n.key) for n in back] == [(town["director"].id, f"referral_returned:{referral.id}")]
    assert "镇派出所已办结" in back[0].text
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    for expected in ("referral_form_opened", "referral_sent", "referral_inbox_viewed", "referral_accepted",
                     "referral_action_added", "referral_returned"):
        assert expected in actions, expected


def test_an_action_accepts_a_referral_sent_and_a_decline_opens_the_measure_again(client, town):
    measure = town["measure"]
    login(client, "zhuren_r")
    refer(client, measure)
    referral = referral_of(measure)
    login(client, "paichusuo_r")
    assert client.post(f"/referrals/{referral.id}/actions", data={"acted_on": "2026-11-20", "text": "电话联系了监护人"}
                       ).status_code == 303
    assert fresh(Referral, referral.id).state == "accepted"
    assert client.post(f"/referrals/{referral.id}/return",
                       data={"outcome": "declined", "note": "不属于派出所职责，建议转村委"}).status_code == 303
    r = fresh(Referral, referral.id)
    assert (r.state, r.return_note) == ("declined", "不属于派出所职责，建议转村委")
    m = fresh(Measure, measure.id)
    assert (m.state, m.outcome) == ("open", None)
    # the measure may be referred again (the first is closed), to another department
    login(client, "zhuren_r")
    assert refer(client, measure, "justice").status_code == 303
    assert referral_of(measure).department.code == "justice"


# --- bad input ----------------------------------------------------------------------------------

def test_a_department_without_an_account_a_second_referral_and_no_note_are_refused(client, town):
    measure = town["measure"]
    login(client, "zhuren_r")
    page = refer(client, measure, note="")
    assert page.status_code == 422 and "请填写转介事项" in page.get_data(as_text=True)
    page = refer(client, measure, "culture", note="请帮忙联系")
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "转介部门：镇文化办目前没有账号，请先联系系统管理员" in text
    assert count(Referral) == 0 and fresh(Measure, measure.id).state == "open"
    # what was typed comes back
    assert "请帮忙联系" in text and f'selected value="{department("culture").id}"' in text
    # an inactive account does not count
    create_user("department", "wenhua_off", department_code="culture", active=False)
    assert refer(client, measure, "culture").status_code == 422
    assert refer(client, measure).status_code == 303
    second = refer(client, measure, "justice")
    assert second.status_code == 422
    assert "这项措施已转介给镇派出所（待接收），办结或退回后才能再转介" in second.get_data(as_text=True)
    assert count(Referral) == 1


def test_a_measure_that_is_over_is_not_referred(client, town):
    done = create_measure(town["need"], state="done", outcome="已完成")
    login(client, "zhuren_r")
    response = refer(client, done)
    assert response.status_code == 409 and "这项措施已完成，不能再转介" in response.get_data(as_text=True)
    assert count(Referral) == 0


def test_action_and_return_refusals_name_their_fields(client, town):
    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    login(client, "paichusuo_r")
    page = client.post(f"/referrals/{referral.id}/actions", data={"acted_on": "2026-11-21", "text": ""})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "日期不能晚于今天" in text and "请填写办理情况" in text
    page = client.post(f"/referrals/{referral.id}/return", data={"outcome": "done", "note": ""})
    assert page.status_code == 422 and "办理结果说明：请写明办了什么、结果如何" in page.get_data(as_text=True)
    page = client.post(f"/referrals/{referral.id}/return", data={"outcome": "declined", "note": " "})
    assert page.status_code == 422 and "办理结果说明：请写明退回的原因" in page.get_data(as_text=True)
    page = client.post(f"/referrals/{referral.id}/return", data={"note": "好了"})
    assert page.status_code == 422 and "请填写办理结果" in page.get_data(as_text=True)
    assert "好了" in page.get_data(as_text=True)  # nothing typed is lost
    assert fresh(Referral, referral.id).state == "accepted" and count(ReferralAction) == 0


@pytest.mark.parametrize("name,data,message", [
    ("说明.docx", b"PK\x03\x04 a word file", "附件：“说明.docx”不是 PDF、JPEG 或 PNG 文件"),
    ("fake.pdf", b"<html>not a pdf</html>", "附件：“fake.pdf”不是 PDF、JPEG 或 PNG 文件"),
    ("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "附件：“big.pdf”超过 5 MB"),
    ("empty.png", b"", "附件：“empty.png”是空文件"),
])
def test_attachments_that_are_not_pdf_jpeg_or_png_or_too_big_are_refused(client, town, app, name, data, message):
    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    login(client, "paichusuo_r")
    before = stored_files(app)
    page = post_files(client, f"/referrals/{referral.id}/actions", {
        "acted_on": "2026-11-20", "text": "上门查看", "attachments": [(BytesIO(PNG), "ok.png"), (BytesIO(data), name)]})
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert message in text and "上门查看" in text
    assert count(ReferralAction) == 0 and count(ReferralAttachment) == 0
    assert stored_files(app) == before  # not even the good one


def test_more_than_four_files_at_once_are_refused(client, town):
    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    login(client, "paichusuo_r")
    page = post_files(client, f"/referrals/{referral.id}/actions", {
        "acted_on": "2026-11-20", "text": "上门查看", "attachments": [(BytesIO(PNG), f"{i}.png") for i in range(5)]})
    assert page.status_code == 422 and "附件：一次最多 4 个文件" in page.get_data(as_text=True)


# --- reach: who may act, who may read -----------------------------------------------------------

def test_a_department_acting_on_a_referral_it_does_not_hold_gets_404_and_on_a_closed_one_409(client, town):
    referral = create_referral(town["measure"], by=town["director"])
    login(client, "sifasuo_r")
    for path, data in ((f"/referrals/{referral.id}/accept", {}),
                       (f"/referrals/{referral.id}/actions", {"acted_on": "2026-11-20", "text": "看了"}),
                       (f"/referrals/{referral.id}/return", {"outcome": "done", "note": "好了"}),
                       (f"/referrals/{referral.id}", None)):
        response = client.post(path, data=data) if data is not None else client.get(path)
        assert response.status_code == 404, path
    assert client.get(f"/children/{town['child'].id}").status_code == 404
    # the town and the director read it but do not act on it: 403
    for username in ("minzheng_r", "zhuren_r"):
        login(client, username)
        assert client.post(f"/referrals/{referral.id}/accept").status_code == 403
        assert client.get(f"/referrals/{referral.id}").status_code == 200
    login(client, "paichusuo_r")
    assert client.post(f"/referrals/{referral.id}/return", data={"outcome": "done", "note": "办好了"}).status_code == 303
    for path, data in ((f"/referrals/{referral.id}/accept", {}),
                       (f"/referrals/{referral.id}/actions", {"acted_on": "2026-11-20", "text": "又看了"}),
                       (f"/referrals/{referral.id}/return", {"outcome": "declined", "note": "再退"})):
        response = client.post(path, data=data)
        assert response.status_code == 409, path
        assert f"这条转介已于 {TODAY:%Y-%m-%d} 已办结，不能再办理" in response.get_data(as_text=True)
    assert fresh(Referral, referral.id).state == "done" and count(ReferralAction) == 0


def test_who_may_refer_and_read(client, town):
    referral = create_referral(town["measure"], by=town["director"])
    measure = town["measure"]
    expected = {  # username → (refer form, referral page, list)
        "zhuren_o": (404, 404, 200), "xuexiao_r": (403, 403, 403), "zhiyuan_r": (403, 403, 403),
        "admin_r": (403, 403, 403), "paichusuo_r": (403, 200, 200), "sifasuo_r": (403, 404, 200),
        "minzheng_r": (200, 200, 200), "dudao_r": (200, 200, 200), "zhuren_r": (200, 200, 200),
    }
    for username, codes in expected.items():
        login(client, username)
        got = (client.get(f"/care/measures/{measure.id}/refer").status_code,
               client.get(f"/referrals/{referral.id}").status_code, client.get("/referrals").status_code)
        assert got == codes, username
        listed = client.get("/referrals").get_data(as_text=True)
        assert ("龚小雨" in listed) == (username in ("paichusuo_r", "minzheng_r", "dudao_r", "zhuren_r")), username


def test_the_department_reaches_the_child_until_30_days_after_the_return(client, town, monkeypatch):
    child = town["child"]
    login(client, "paichusuo_r")
    assert client.get(f"/children/{child.id}").status_code == 404  # not referred yet
    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    assert client.get(f"/children/{child.id}").status_code == 200
    assert client.post(f"/referrals/{referral.id}/return", data={"outcome": "done", "note": "办好了"}).status_code == 303
    for day, reached in ((TODAY + timedelta(days=29), True), (TODAY + timedelta(days=30), True),
                         (TODAY + timedelta(days=31), False)):
        set_today(monkeypatch, day)
        assert client.get(f"/children/{child.id}").status_code == (200 if reached else 404), day
        page = client.get(f"/referrals/{referral.id}")
        assert page.status_code == 200  # its own record of what it did
        text = page.get_data(as_text=True)
        assert ("龚小雨" in text) == reached and ("前王庄村东街18号" in text) == reached, day
        assert ("不再显示儿童信息" in text) == (not reached)
        assert ("龚小雨" in client.get("/referrals").get_data(as_text=True)) == reached
        assert ("龚小雨" in client.get("/").get_data(as_text=True)) is False  # the card lists open ones only
    # the attachment's download still works for the department's own record; the child's page does not
    assert client.get(f"/children/{child.id}/archive.pdf").status_code in (403, 404)


def test_the_referral_page_shows_the_department_the_child_as_the_policy_allows(client, town):
    from blueprints.children.services import FamilyInput, add_benefit, save_family_member

    child = town["child"]
    save_family_member(child, FamilyInput(relation="父亲", name="龚大山", phone="13912345678", works_away=True,
                                          is_guardian=True), actor=None)
    add_benefit(child, "basic_living", date(2026, 1, 1), actor=None)
    child.health = "先天性心脏病"
    db.session.commit()
    referral = create_referral(town["measure"], by=town["director"])
    login(client, "paichusuo_r")
    text = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    for shown in ("龚小雨", "前王庄村", "中心小学", "四年级", "前王庄村东街18号", "父亲 龚大山", "13912345678",
                  "住所旁有水塘，无护栏", "协调村委在水塘边加装护栏", "请协助排查水塘安全"):
        assert shown in text, shown
    for hidden in ("先天性心脏病", "肢体", "三级", child.id_number, "2015-03-02", "基本生活保障"):
        assert hidden not in text, hidden
    assert count(AuditEvent, AuditEvent.action == "referral_viewed", AuditEvent.user_id == town["police"].id) == 1
    client.get(f"/children/{child.id}")
    assert count(AuditEvent, AuditEvent.action == "child_viewed", AuditEvent.user_id == town["police"].id) == 1


def test_attachments_are_private_files_served_to_those_who_reach_the_referral(client, town, app):
    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    login(client, "paichusuo_r")
    post_files(client, f"/referrals/{referral.id}/actions", {
        "acted_on": "2026-11-20", "text": "调解记录", "attachments": [(BytesIO(PDF), "调解记录.pdf")]})
    attachment = db.session.scalar(select(ReferralAttachment))
    path = os.path.join(app.instance_path, "referrals", attachment.stored_name)
    assert Path(path).read_bytes() == PDF and os.stat(path).st_mode & 0o777 == 0o600
    assert "调解记录" not in attachment.stored_name
    url = f"/referrals/{referral.id}/attachments/{attachment.id}"
    for username, code in (("paichusuo_r", 200), ("zhuren_r", 200), ("minzheng_r", 200), ("sifasuo_r", 404),
                           ("zhuren_o", 404), ("xuexiao_r", 403)):
        login(client, username)
        response = client.get(url)
        assert response.status_code == code, username
        if code == 200:
            assert response.data == PDF and response.mimetype == "application/pdf"
            assert response.headers["Content-Disposition"].startswith("attachment")
    # an attachment id under another referral's path is not found
    other = create_referral(create_measure(town["need"], action="另一项"), by=town["director"])
    login(client, "paichusuo_r")
    assert client.get(f"/referrals/{other.id}/attachments/{attachment.id}").status_code == 404
    assert count(AuditEvent, AuditEvent.action == "referral_attachment_viewed") == 3


def test_an_attachment_file_goes_when_its_transaction_is_rolled_back(app, town):
    from flask_login import login_user

    from blueprints.care.referrals import Upload, record_action

    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    before = stored_files(app)
    with app.test_request_context():
        login_user(town["police"])
        record_action(referral, {"acted_on": TODAY, "text": "记录"}, [Upload("a.pdf", PDF)], actor=town["police"])
        assert len(stored_files(app) - before) == 1  # written before the commit
        db.session.rollback()  # a failure later in the request
    assert stored_files(app) == before and count(ReferralAttachment) == 0
    with app.test_request_context():
        login_user(town["police"])
        record_action(db.session.get(Referral, referral.id), {"acted_on": TODAY, "text": "记录"},
                      [Upload("a.pdf", PDF)], actor=town["police"])
        db.session.commit()
    kept = db.session.scalars(select(ReferralAttachment)).all()
    assert len(kept) == 1 and stored_files(app) - before == {kept[0].stored_name}


# --- the lists, the home card, the record, the plan's row ---------------------------------------

def test_the_inbox_lists_open_first_overdue_first_then_returned_within_30_days(client, town):
    child = town["child"]
    other = create_child("王小军", village=town["village"])
    need = create_need(other, "legal")
    rows = {
        "later": create_referral(create_measure(town["need"], action="措施甲", due_on=TODAY + timedelta(days=20))),
        "overdue": create_referral(create_measure(need, action="措施乙", due_on=TODAY - timedelta(days=3))),
        "soon": create_referral(create_measure(town["need"], action="措施丙", due_on=TODAY + timedelta(days=2)),
                                state="accepted"),
        "returned": create_referral(create_measure(town["need"], action="措施丁"), state="done",
                                    closed_on=TODAY - timedelta(days=5)),
        "old": create_referral(create_measure(town["need"], action="措施戊"), state="declined",
                               closed_on=TODAY - timedelta(days=31)),
        "justice": create_referral(create_measure(town["need"], action="措施己"), "justice"),
    }
    login(client, "paichusuo_r")
    text = client.get("/referrals").get_data(as_text=True)
    order = [name for name in ("overdue", "soon", "later", "returned")]
    positions = [text.index(f'data-referral-id="{rows[name].id}"') for name in order]
    assert positions == sorted(positions)
    assert f'data-referral-id="{rows["old"].id}"' not in text and "措施己" not in text
    assert text.count("data-overdue") == 1 and "共 <strong id=\"referral-total\">4</strong> 条" in text
    # the home card: the open ones, overdue first, with the counts
    home = client.get("/").get_data(as_text=True)
    card = home[home.index('id="home-referrals"'):]
    assert "未办结 3 条" in card and "已逾期 1 条" in card
    assert card.index("王小军") < card.index("龚小雨") and "措施丁" not in card
    assert child.name in card


def test_the_inbox_pages_by_50(client, town):
    for i in range(53):
        create_referral(create_measure(town["need"], action=f"措施{i:02d}", due_on=TODAY + timedelta(days=i)))
    login(client, "paichusuo_r")
    first = client.get("/referrals").get_data(as_text=True)
    assert first.count('data-referral-id="') == 50 and "第 1 / 2 页" in first and "措施00" in first
    second = client.get("/referrals?page=2").get_data(as_text=True)
    assert second.count('data-referral-id="') == 3 and "措施52" in second
    assert client.get("/referrals?page=9").status_code == 200  # past the end: the last page


def test_the_town_and_a_director_see_every_referral_they_reach_with_filters(client, town):
    far = create_child("赵小兰", village=town["other_village"])
    mine = create_referral(town["measure"], by=town["director"])
    theirs = create_referral(create_measure(create_need(far, "legal"), action="法律援助"), "justice", state="done",
                             closed_on=TODAY - timedelta(days=60))
    login(client, "minzheng_r")
    everything = client.get("/referrals").get_data(as_text=True)
    assert "龚小雨" in everything and "赵小兰" in everything  # returned long ago: still in the town's list
    justice = client.get(f"/referrals?department={department('justice').id}").get_data(as_text=True)
    assert "赵小兰" in justice and "龚小雨" not in justice
    done = client.get("/referrals?state=done").get_data(as_text=True)
    assert f'data-referral-id="{theirs.id}"' in done and f'data-referral-id="{mine.id}"' not in done
    open_ = client.get("/referrals?state=open&q=龚").get_data(as_text=True)
    assert f'data-referral-id="{mine.id}"' in open_ and "赵小兰" not in open_
    login(client, "zhuren_r")
    hers = client.get("/referrals").get_data(as_text=True)
    assert "龚小雨" in hers and "赵小兰" not in hers
    assert client.get(f"/referrals/{theirs.id}").status_code == 404
    assert count(AuditEvent, AuditEvent.action == "referral_list_viewed") == 5


def test_the_record_section_shows_each_referral_to_those_who_read_referrals(client, town):
    child = town["child"]
    create_referral(town["measure"], by=town["director"], state="declined", closed_on=TODAY,
                    return_note="不属于本所职责")
    create_referral(create_measure(town["need"], action="法律咨询"), "justice")
    login(client, "zhuren_r")
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    section = page[page.index('id="referrals"'):]
    assert "镇派出所" in section and "已退回" in section and "不属于本所职责" in section and "镇司法所" in section
    login(client, "sifasuo_r")  # a department: its own referral only
    section = client.get(f"/children/{child.id}").get_data(as_text=True)
    section = section[section.index('id="referrals"'):]
    assert "镇司法所" in section and "镇派出所" not in section
    login(client, "xuexiao_r")  # a school reads the child, not her referrals
    assert 'id="referrals"' not in client.get(f"/children/{child.id}").get_data(as_text=True)


def test_the_measure_slot_shows_the_referral_and_the_button(app, town):
    from flask_login import login_user
    from sqlalchemy.orm import joinedload, selectinload

    from blueprints.core.areas import render_slots

    measure, director = town["measure"], town["director"]

    def slot(user) -> str:
        db.session.expire_all()
        m = db.session.scalar(select(Measure).where(Measure.id == measure.id).options(
            selectinload(Measure.referrals).joinedload(Referral.department)))
        with app.test_request_context():
            login_user(user)
            return str(render_slots("measure", measure=m))

    html = slot(director)
    assert f'href="/care/measures/{measure.id}/refer"' in html and ">转介<" in html
    referral = create_referral(measure, by=director)
    html = slot(director)
    assert "转介镇派出所" in html and "待接收" in html and f"measures/{measure.id}/refer" not in html  # one open referral at a time
    referral.state, referral.closed_on, referral.return_note = "declined", TODAY, "不属于派出所职责"
    db.session.commit()
    html = slot(director)
    assert "已退回" in html and "退回原因：不属于派出所职责" in html and "重新转介" in html
    assert slot(town["school"]) == ""  # a school reads the plan, not its referrals
    civil = slot(town["civil"])
    assert "重新转介" in civil


# --- the whole story ----------------------------------------------------------------------------

def test_the_full_scenario_and_who_sees_what_at_each_step(client, town):
    child = town["child"]
    volunteer = town["volunteer"]
    from tests.factories import create_pairing, create_volunteer

    create_pairing(child, create_volunteer(volunteer, name="孙晓雨", kind="youth"), started_on=date(2026, 1, 5))
    login(client, "zhuren_r")
    visit = client.post("/api/v1/visits", json={
        "client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": TODAY.isoformat(), "kind": "home",
        "mental_state": "concern", "hazard_waters": True, "needs": ["safety", "education"],
        "follow_up_needed": True, "follow_up_note": "水塘无护栏，需尽快处理"})
    assert visit.status_code == 201
    visit_id = visit.get_json()["id"]
    # the director confirms the two needs the visit found, one tap each on the visit page
    page = client.get(f"/visits/{visit_id}").get_data(as_text=True)
    assert "加入帮扶方案" in page
    for category in ("safety", "education"):
        assert client.post(f"/care/visits/{visit_id}/needs/{category}", headers={"HX-Request": "true"}).status_code == 200
    confirmed = db.session.scalars(select(Need).where(Need.source == "visit", Need.source_id == visit_id)
                                   .order_by(Need.category)).all()
    assert [n.category for n in confirmed] == ["education", "safety"]
    need = confirmed[1]
    assert client.post(f"/care/needs/{need.id}/measures", data={
        "action": "加装护栏并警示", "department_id": "", "owner_name": "张秀英",
        "due_on": (TODAY + timedelta(days=14)).isoformat()}).status_code == 303
    measure = db.session.scalar(select(Measure).where(Measure.need_id == need.id))
    plan = f"/children/{child.id}/plan"

    def sees(username: str, path: str) -> int:
        login(client, username)
        return client.get(path).status_code

    assert refer(client, measure, note="请派出所协助督促加装护栏").status_code == 303
    referral = referral_of(measure)
    detail = f"/referrals/{referral.id}"
    # sent: the director, civil affairs and the police read it; 司法所 does not find it; no volunteer, no school
    who = {"zhuren_r": 200, "minzheng_r": 200, "paichusuo_r": 200, "sifasuo_r": 404, "zhiyuan_r": 403,
           "xuexiao_r": 403}
    assert {u: sees(u, detail) for u in who} == who
    assert sees("paichusuo_r", f"/children/{child.id}") == 200 and sees("sifasuo_r", f"/children/{child.id}") == 404
    login(client, "paichusuo_r")
    assert "龚小雨" in client.get("/").get_data(as_text=True)  # on the police's home card
    assert client.post(f"{detail}/accept").status_code == 303
    login(client, "minzheng_r")
    assert "办理中" in client.get("/referrals").get_data(as_text=True)
    login(client, "paichusuo_r")
    assert client.post(f"{detail}/actions", data={"acted_on": TODAY.isoformat(), "text": "已督促监护人加装护栏"}
                       ).status_code == 303
    login(client, "zhuren_r")
    assert "已督促监护人加装护栏" in client.get(detail).get_data(as_text=True)
    login(client, "paichusuo_r")
    assert client.post(f"{detail}/return", data={"outcome": "done", "note": "护栏已装好，已拍照存档"}).status_code == 303
    assert fresh(Measure, measure.id).state == "done"
    # returned done: the director and civil affairs read the outcome; the police still for 30 days
    for username in ("zhuren_r", "minzheng_r", "paichusuo_r"):
        login(client, username)
        text = client.get(detail).get_data(as_text=True)
        assert "已办结" in text and "护栏已装好，已拍照存档" in text, username
    assert sees("sifasuo_r", detail) == 404 and sees("zhiyuan_r", detail) == 403 and sees("xuexiao_r", detail) == 403
    login(client, "zhuren_r")
    assert db.session.scalar(select(Notice.text).where(Notice.kind == "referral_returned",
                                                        Notice.user_id == town["director"].id))
    assert "已办结" in client.get(plan).get_data(as_text=True)  # the plan shows the referral's state
    assert client.post(f"/care/needs/{need.id}/resolve", data={"resolution": "met",
                                                               "note": "护栏已装好，已拍照存档"}).status_code == 303
    assert fresh(Need, need.id).state == "met"
    # the plan: the director and civil affairs read it; the police never (not even while it holds the
    # referral: it reads the referral), nor a volunteer
    assert {u: sees(u, plan) for u in ("zhuren_r", "minzheng_r", "paichusuo_r", "zhiyuan_r", "sifasuo_r")} == {
        "zhuren_r": 200, "minzheng_r": 200, "paichusuo_r": 403, "zhiyuan_r": 403, "sifasuo_r": 403}


def test_the_inbox_the_list_and_the_home_card_use_a_fixed_number_of_queries(client, town):
    """No query per row (the inbox of 500 referrals is on the bench): 3 referrals or 30 cost the same."""
    from sqlalchemy import event

    def statements(path):
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    def add(n):
        for i in range(n):
            child = create_child(f"孩子{i}", village=town["village"], school=town["child"].school)
            create_referral(create_measure(create_need(child, "legal"), due_on=TODAY + timedelta(days=i - 5)),
                            state="sent" if i % 3 else "done", closed_on=None if i % 3 else TODAY)

    add(3)
    cost = {}
    for username, path in (("paichusuo_r", "/referrals"), ("paichusuo_r", "/"), ("minzheng_r", "/referrals")):
        login(client, username)
        cost[username, path] = statements(path)
    add(27)
    for (username, path), few in cost.items():
        login(client, username)
        assert statements(path) == few, (username, path)


def test_the_plan_says_why_a_referral_was_withdrawn_not_what_it_achieved(client, town, monkeypatch):
    """A child leaving the roll withdraws the referral (care/exits.py): the measure's row calls the
    note the withdrawal's reason, and the referral's page no longer says it was 办结."""
    from blueprints.children.services import exit_child

    referral = create_referral(town["measure"], by=town["director"], state="accepted")
    exit_child(town["child"], "moved", TODAY, actor=town["director"])
    db.session.commit()
    login(client, "zhuren_r")
    plan = client.get(f"/children/{town['child'].id}/plan").get_data(as_text=True)
    assert "撤回原因：儿童已于 2026-11-20 退出名册" in plan and "办理结果：儿童已于" not in plan
    login(client, "paichusuo_r")
    set_today(monkeypatch, TODAY + timedelta(days=31))
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "这条转介已撤回超过 30 天，不再显示儿童信息" in page


def test_the_referral_pages_lead_back_to_the_measure_on_the_plan(client, town):
    measure = town["measure"]
    plan_link = f'href="/children/{town["child"].id}/plan#measure-{measure.id}"'
    login(client, "zhuren_r")
    form = client.get(f"/care/measures/{measure.id}/refer").get_data(as_text=True)
    assert plan_link + ">取消" in form  # cancelled: back where the 转介 button was
    referral = create_referral(measure, by=town["director"])
    assert plan_link in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    login(client, "paichusuo_r")  # a department reads no plan: no way there
    assert "/plan" not in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
