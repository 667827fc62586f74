"""Review of the school staff's parts (issue 10): what a pupil's leaving her school does to her
responsible carer and to the coordinator's lists, and what the psychological file shows after a
transfer."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from blueprints.core.clock import local_today
from blueprints.schools.models import ResponsibleCarer
from extensions import db
from tests.conftest import AuthActions
from tests.factories import create_carer, create_child, create_school, create_user, create_village

TODAY = local_today()


def sign_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code in (302, 303)
    return client


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def home_card(client, card_id: str) -> str:
    """The text of one home card (its <section id=…> … </section>), '' when absent."""
    page = client.get("/").get_data(as_text=True)
    found = re.search(rf'id="{card_id}".*?</section>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


@pytest.fixture
def town(app):
    village = create_village("东洼村")
    school, other = create_school("中心小学", villages=[village]), create_school("二中", villages=[village])
    teacher = create_user("school", username="laoshi", school=school, school_duty="head_teacher", display_name="黄志刚")
    teacher.phone = "13900001111"
    users = {
        "coordinator": create_user("school", username="xuexiao", school=school, display_name="陈静"),
        "other_coordinator": create_user("school", username="xuexiao2", school=other, display_name="周老师"),
        "teacher": teacher,
    }
    db.session.commit()
    pupil = create_child("王小明", village=village, school=school, categories=["poverty"], grade="三年级")
    carer = create_carer(pupil, name="黄志刚", phone="13900001111", user=teacher, since=TODAY - timedelta(days=60))
    return {"users": users, "pupil": pupil, "carer": carer, "school": school, "other": other}


def test_a_transfer_ends_the_old_school_s_carer_and_the_new_school_is_asked_for_one(app, town):
    pupil, other = town["pupil"], town["other"]
    client = sign_in(app, town["users"]["coordinator"])
    assert "她的关爱责任人同日卸任" in text_of(client.get(f"/schools/pupils/{pupil.id}/enrolment"))
    response = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={
        "state": "transferred", "changed_on": TODAY.isoformat(), "to_school_id": str(other.id), "note": ""})
    assert response.status_code == 303
    db.session.expire_all()
    carer = db.session.get(ResponsibleCarer, town["carer"].id)
    assert (carer.ended_on, carer.end_note, carer.ended_by_id) == (TODAY, "转学到二中", town["users"]["coordinator"].id)
    assert db.session.scalar(select(ResponsibleCarer).where(ResponsibleCarer.child_id == pupil.id,
                                                            ResponsibleCarer.ended_on.is_(None))) is None
    # the new school's coordinator is asked to name one: her card, her list, the record page
    new = sign_in(app, town["users"]["other_coordinator"])
    assert "王小明" in home_card(new, "school-carers")
    assert "王小明" in text_of(new.get("/schools/carers?state=without"))
    record = text_of(new.get(f"/children/{pupil.id}"))
    assert "还没有指定关爱责任人" in record and "转学到二中" in record
    # and may name her own teacher
    named = new.post(f"/schools/pupils/{pupil.id}/carer", data={
        "intent": "name", "user_id": "", "name": "周老师", "phone": "13800002222", "since": TODAY.isoformat(),
        "note": ""})
    assert named.status_code == 303


def test_a_pupil_moved_by_an_edit_of_her_record_is_the_new_school_s_to_name_a_carer_for(app, town):
    """The registry's edit form may change her school without a transfer here: the carer the old
    school named does not cover her at the new one."""
    from blueprints.children.services import update_child

    pupil, other = town["pupil"], town["other"]
    update_child(pupil, {"school_id": other.id}, actor=None)
    db.session.commit()
    new = sign_in(app, town["users"]["other_coordinator"])
    assert "王小明" in home_card(new, "school-carers")
    assert "王小明" in text_of(new.get("/schools/carers?state=without"))
    named = new.post(f"/schools/pupils/{pupil.id}/carer", data={
        "intent": "name", "user_id": "", "name": "周老师", "phone": "13800002222", "since": TODAY.isoformat(),
        "note": ""})
    assert named.status_code == 303
    assert "王小明" not in home_card(new, "school-carers")


@pytest.mark.parametrize("state", ["graduated", "transferred"])
def test_a_pupil_who_left_the_school_leaves_the_carer_and_waiver_lists(app, town, state):
    """毕业, or 转学 out of the town (she stays on the old school's roll): no carer is asked for her,
    no waiver; her carer's naming ended that day. Back at school (在读), she is asked for again."""
    pupil, coordinator = town["pupil"], town["users"]["coordinator"]
    client = sign_in(app, coordinator)
    assert "王小明" in text_of(client.get("/schools/waivers"))
    day = TODAY - timedelta(days=3)
    response = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={
        "state": state, "changed_on": day.isoformat(), "to_school_id": "", "note": "转到外县某小学"})
    assert response.status_code == 303
    db.session.expire_all()
    carer = db.session.get(ResponsibleCarer, town["carer"].id)
    assert (carer.ended_on, carer.end_note) == (day, {"graduated": "毕业", "transferred": "转学"}[state])
    assert "王小明" not in home_card(client, "school-carers")
    assert "王小明" not in text_of(client.get("/schools/carers"))
    assert "王小明" not in home_card(client, "school-waivers")
    assert "王小明" not in text_of(client.get("/schools/waivers"))
    refused = client.post(f"/schools/pupils/{pupil.id}/carer", data={
        "intent": "name", "user_id": str(town["users"]["teacher"].id), "name": "", "phone": "",
        "since": TODAY.isoformat(), "note": ""})
    assert refused.status_code == 422
    assert f"本校老师：王小明已{ {'graduated': '毕业', 'transferred': '转学'}[state]}，不再由本校指定关爱责任人" in text_of(refused)
    assert "王小明" not in text_of(client.get("/schools/waivers?state=all"))
    from blueprints.schools.terms import term_of
    waive = client.post(f"/schools/waivers/{pupil.id}", data={"term": term_of(TODAY), "waived": "1"})
    assert waive.status_code == 422 and "不在本校参加课后服务，不用减免" in text_of(waive)
    back = client.post(f"/schools/pupils/{pupil.id}/enrolment", data={
        "state": "enrolled", "changed_on": TODAY.isoformat(), "to_school_id": "", "note": ""})
    assert back.status_code == 303
    assert "王小明" in home_card(client, "school-carers")
    assert "王小明" in text_of(client.get("/schools/waivers"))


def test_a_carer_named_after_the_day_of_a_late_recorded_leaving_ends_the_day_she_began(app, town):
    """The leaving is recorded with an earlier date than the carer's start: her row never ends
    before it began."""
    pupil = town["pupil"]
    client = sign_in(app, town["users"]["coordinator"])
    day = TODAY - timedelta(days=90)  # before the carer's start (60 days ago)
    assert client.post(f"/schools/pupils/{pupil.id}/enrolment", data={
        "state": "graduated", "changed_on": day.isoformat(), "to_school_id": "", "note": ""}).status_code == 303
    db.session.expire_all()
    carer = db.session.get(ResponsibleCarer, town["carer"].id)
    assert carer.ended_on == carer.since == TODAY - timedelta(days=60)


def test_a_corrected_start_moves_the_end_of_the_carer_she_replaced(app, town):
    """A change ends the carer before on the new one's first day: when that day is corrected, the
    history keeps one carer at a time (no two at once, no days with none)."""
    pupil = town["pupil"]
    client = sign_in(app, town["users"]["coordinator"])
    changed_on = TODAY - timedelta(days=10)
    assert client.post(f"/schools/pupils/{pupil.id}/carer", data={
        "intent": "name", "user_id": "", "name": "周老师", "phone": "13800002222",
        "since": changed_on.isoformat(), "note": ""}).status_code == 303
    for corrected in (TODAY - timedelta(days=30), TODAY - timedelta(days=5)):  # earlier, then later
        assert client.post(f"/schools/pupils/{pupil.id}/carer", data={
            "intent": "correct", "fix-phone": "13800002222", "fix-since": corrected.isoformat(),
            "fix-note": ""}).status_code == 303
        db.session.expire_all()
        before, now = db.session.scalars(select(ResponsibleCarer).where(ResponsibleCarer.child_id == pupil.id)
                                         .order_by(ResponsibleCarer.id)).all()
        assert (before.name, before.ended_on, now.name, now.since, now.ended_on) == (
            "黄志刚", corrected, "周老师", corrected, None)


def test_the_follow_up_kinds_are_pills_to_tap_and_a_missing_one_is_named(app, town):
    from tests.factories import create_instrument, create_screening
    from blueprints.schools.terms import term_of
    pupil = town["pupil"]
    teacher = create_user("school", username="xinli", school=town["school"], school_duty="mental_health")
    screening = create_screening(pupil, create_instrument(), score=30, band="high", term=term_of(TODAY),
                                 screened_on=TODAY)
    client = sign_in(app, teacher)
    page = client.get(f"/schools/screenings/{screening.id}/followup").get_data(as_text=True)
    assert re.search(r'<label class="pill"><input[^>]*name="followup"[^>]*value="talk"[^>]*> 谈心</label>', page)
    assert "<li>" not in page.split('id="followup-kind"')[1].split("</fieldset>")[0]
    response = client.post(f"/schools/screenings/{screening.id}/followup", data={
        "followup_on": TODAY.isoformat(), "followup_note": "已约家长面谈"})
    assert response.status_code == 422
    kinds = response.get_data(as_text=True).split('id="followup-kind"')[1].split("</fieldset>")[0]
    assert 'id="followup-error">请填写跟进方式<' in kinds and 'aria-invalid="true"' in kinds
    assert "已约家长面谈" in response.get_data(as_text=True)


def test_two_withdrawals_of_one_waiver_at_once_both_stand(_app, app, town):
    """A double tap on 取消减免 (or two coordinators at once): both requests read the waiver, the
    first deletes it; the second finds nothing to delete and says so, without an error page.
    Interleaved on PostgreSQL; SQLite lets one writer at a time, so there the two come one after
    the other (the second still finds nothing to delete)."""
    import threading

    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from blueprints.schools.models import FeeWaiver
    from blueprints.schools.terms import term_of
    from tests.factories import PASSWORD

    pupil, term = town["pupil"], term_of(TODAY)
    db.session.add(FeeWaiver(child_id=pupil.id, school_id=pupil.school_id, term=term, decided_on=TODAY))
    second = create_user("school", username="xuexiao3", school=town["school"], display_name="李红")
    db.session.commit()
    barrier = threading.Barrier(2)

    def both_read_first(state):  # each request waits after reading the waiver until the other has read it too
        if state.is_select and "fee_waivers" in str(state.statement) and "EXISTS" not in str(state.statement):
            result = state.invoke_statement()
            barrier.wait(10)
            return result

    clients = []
    for user in (town["users"]["coordinator"], second):
        c = _app.test_client()
        c.post("/login", data={"username": user.username, "password": PASSWORD})
        clients.append(c)
    answers, url = [], f"/schools/waivers/{pupil.id}"

    def withdraw(c):
        answers.append(c.post(url, data={"term": term, "waived": "0"}).status_code)

    if db.engine.dialect.name != "postgresql":
        for c in clients:
            withdraw(c)
    else:
        event.listen(Session, "do_orm_execute", both_read_first)
        try:
            threads = [threading.Thread(target=withdraw, args=(c,)) for c in clients]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
        finally:
            event.remove(Session, "do_orm_execute", both_read_first)
    assert answers == [303, 303]
    assert db.session.scalar(select(FeeWaiver).where(FeeWaiver.child_id == pupil.id)) is None
    from blueprints.core.audit import AuditEvent
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "fee_waiver_withdrawn")).all()) == 1


def test_a_dropout_is_not_dated_before_the_pupil_s_present_state_began(app, town):
    """She came into this school by a transfer on a day: the new school cannot report her dropout
    before it (her enrolment history would run backwards); the field is named, what was typed kept."""
    pupil, other = town["pupil"], town["other"]
    moved_on = TODAY - timedelta(days=5)
    client = sign_in(app, town["users"]["coordinator"])
    assert client.post(f"/schools/pupils/{pupil.id}/enrolment", data={
        "state": "transferred", "changed_on": moved_on.isoformat(), "to_school_id": str(other.id),
        "note": ""}).status_code == 303
    new = sign_in(app, town["users"]["other_coordinator"])
    early = (moved_on - timedelta(days=1)).isoformat()
    refused = new.post(f"/schools/pupils/{pupil.id}/dropout", data={
        "dropped_on": early, "reason": "other", "reason_note": "随父母外出"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f"辍学日期：不能早于目前状态“在读”的开始日期 {moved_on:%Y-%m-%d}" in page
    assert early in page and "随父母外出" in page
    assert new.post(f"/schools/pupils/{pupil.id}/dropout", data={
        "dropped_on": moved_on.isoformat(), "reason": "other", "reason_note": "随父母外出"}).status_code == 303


def test_the_summary_of_errors_names_each_field_once(app, town):
    """A service's message names its field already ("电话：…"): the summary above the form does not
    name it a second time; a message that does not is given its field's name."""
    client = sign_in(app, town["users"]["coordinator"])
    pupil = create_child("李小红", school=town["school"], categories=["poverty"])
    response = client.post(f"/schools/pupils/{pupil.id}/carer", data={
        "intent": "name", "user_id": "", "name": "周老师", "phone": "", "since": TODAY.isoformat(), "note": ""})
    page = text_of(response)
    assert response.status_code == 422 and "电话：填写姓名时请同时填写关爱责任人的电话" in page
    assert "电话：电话" not in page
