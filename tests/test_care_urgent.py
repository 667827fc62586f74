"""Urgent flags (《山东省未成年人保护条例》第六十七条): raised by a child director, a school or civil
affairs; at once at the top of civil affairs' and the police's homes and in their bell, with who
flagged it and when, until someone records the action taken; shown in red on the child's page. Bad
input names its field; a closed flag cannot be acted on again (409); the wrong role gets 403, a
child out of reach 404."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.care.models import GuardianshipAssessment, UrgentFlag
from blueprints.care.urgent import child_slot
from blueprints.core.audit import AuditEvent
from blueprints.notices.models import Notice
from extensions import db
from tests.conftest import AuthActions
from tests.factories import (create_child, create_pairing, create_school, create_urgent_flag, create_user,
                             create_village, create_volunteer)

SITUATION = "孩子独自在家三天，奶奶住院，家中无人照料"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sign_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code in (302, 303)
    return client


@pytest.fixture
def town(app):
    village, other_village = create_village("前王庄村"), create_village("后李村")
    school = create_school("中心小学", villages=[village])
    child = create_child("王小丽", village=village, school=school, gender="female")
    elsewhere = create_child("赵小刚", village=other_village)
    volunteer = create_volunteer(village=village)
    create_pairing(child, volunteer)
    users = {
        "director": create_user("director", username="zhuren", villages=[village], display_name="李主任"),
        "other_director": create_user("director", username="zhuren2", villages=[other_village]),
        "civil_affairs": create_user("civil_affairs", username="minzheng"),
        "civil_affairs_off": create_user("civil_affairs", username="minzheng_old", active=False),
        "supervisor": create_user("supervisor", username="dudao"),
        "school": create_user("school", username="xuexiao", school=school),
        "police": create_user("department", username="paichusuo", department_code="police"),
        "justice": create_user("department", username="sifasuo", department_code="justice"),
        "volunteer": volunteer.user,
        "admin": create_user("admin", username="guanli"),
    }
    return dict(child=child, elsewhere=elsewhere, users=users)


def test_a_flag_goes_to_the_top_of_civil_affairs_and_the_police_at_once(app, town):
    child, users = town["child"], town["users"]
    director = sign_in(app, users["director"])
    assert "标记紧急情况" in director.get(f"/children/{child.id}").text
    response = director.post(f"/children/{child.id}/urgent", data={"situation": SITUATION})
    assert response.status_code == 303
    flag = db.session.scalar(select(UrgentFlag))
    assert (flag.child_id, flag.situation, flag.flagged_by_id, flag.action_at) == (
        child.id, SITUATION, users["director"].id, None)
    # the bell of every active user who acts on flags, and no one else's
    told = db.session.scalars(select(Notice.user_id).where(Notice.kind == "urgent_flag")).all()
    assert sorted(told) == sorted([users["civil_affairs"].id, users["police"].id])
    notice = db.session.scalar(select(Notice).where(Notice.user_id == users["police"].id))
    assert notice.url == f"/care/urgent/{flag.id}" and "王小丽" in notice.text and SITUATION not in notice.text
    for role in ("civil_affairs", "police"):
        home = sign_in(app, users[role]).get("/").text
        assert 'id="home-urgent"' in home and "王小丽" in home and "李主任" in home, role
        # the first card of the page, after the greeting (which is no card)
        assert home.find('<section class="card') == home.find('<section class="card flash-error" id="home-urgent"')
        assert home.find('class="hello"') < home.find('id="home-urgent"'), role
    for role in ("director", "justice", "school"):
        assert 'id="home-urgent"' not in sign_in(app, users[role]).get("/").text, role
    # the child's page: the flag in red for those who reach her
    for role in ("director", "school", "civil_affairs"):
        page = sign_in(app, users[role]).get(f"/children/{child.id}").text
        assert f'id="urgent-{flag.id}"' in page and SITUATION in page, role
    assert count(AuditEvent, AuditEvent.action == "urgent_flagged") == 1


def test_the_police_record_the_action_and_the_flag_leaves_the_homes(app, town):
    child, users = town["child"], town["users"]
    flag = create_urgent_flag(child, by=users["school"], situation=SITUATION)
    police = sign_in(app, users["police"])
    page = police.get(f"/care/urgent/{flag.id}")
    assert page.status_code == 200 and SITUATION in page.text and "王小丽" in page.text
    assert count(AuditEvent, AuditEvent.action == "urgent_viewed", AuditEvent.user_id == users["police"].id) == 1
    empty = police.post(f"/care/urgent/{flag.id}/action", data={"action_taken": "  "})
    assert empty.status_code == 422 and "请填写处置情况" in empty.text
    done = police.post(f"/care/urgent/{flag.id}/action", data={"action_taken": "民警到场，孩子由姑姑接走照料"})
    assert done.status_code == 303
    db.session.expire_all()
    flag = db.session.get(UrgentFlag, flag.id)
    assert flag.action_taken == "民警到场，孩子由姑姑接走照料" and flag.action_by_id == users["police"].id
    assert flag.action_at is not None
    assert 'id="home-urgent"' not in police.get("/").text
    assert 'id="home-urgent"' not in sign_in(app, users["civil_affairs"]).get("/").text
    again = sign_in(app, users["civil_affairs"]).post(f"/care/urgent/{flag.id}/action", data={"action_taken": "再处置"})
    assert again.status_code == 409 and "不能再次处置" in again.text
    db.session.expire_all()
    assert db.session.get(UrgentFlag, flag.id).action_taken == "民警到场，孩子由姑姑接走照料"
    # the child's page no longer shows a flag, but the button to raise a new one
    page = sign_in(app, users["director"]).get(f"/children/{child.id}").text
    assert f'id="urgent-{flag.id}"' not in page and f"/children/{child.id}/urgent" in page
    listed = police.get("/care/urgent").text
    assert "已处置" in listed and "王小丽" in listed


def test_bad_input_names_the_field_and_keeps_what_was_typed(app, town):
    child, users = town["child"], town["users"]
    client = sign_in(app, users["school"])
    response = client.post(f"/children/{child.id}/urgent", data={"situation": ""})
    assert response.status_code == 422 and "请填写情况说明" in response.text
    long = "危" * 1001
    response = client.post(f"/children/{child.id}/urgent", data={"situation": long})
    assert response.status_code == 422 and "情况说明最多 1000 个字" in response.text and long in response.text
    assert count(UrgentFlag) == 0
    create_urgent_flag(child, by=users["director"])
    response = client.post(f"/children/{child.id}/urgent", data={"situation": SITUATION})
    assert response.status_code == 422 and "已有一条紧急情况" in response.text and SITUATION in response.text
    assert count(UrgentFlag) == 1
    assert count(Notice) == 0


def test_a_flag_from_an_assessment_names_it_and_only_one_of_the_child(app, town):
    child, elsewhere, users = town["child"], town["elsewhere"], town["users"]
    own = GuardianshipAssessment(child_id=child.id, assessed_on=child.created_at.date(), percent=10, level="severe")
    foreign = GuardianshipAssessment(child_id=elsewhere.id, assessed_on=child.created_at.date(), percent=10,
                                     level="severe")
    db.session.add_all([own, foreign])
    db.session.commit()
    client = sign_in(app, users["civil_affairs"])
    form = client.get(f"/children/{child.id}/urgent?assessment={own.id}").text
    assert f'value="{own.id}"' in form
    refused = client.post(f"/children/{child.id}/urgent", data={"situation": SITUATION, "assessment_id": foreign.id})
    assert refused.status_code == 422 and "所附的监护评估不属于这名儿童" in refused.text
    assert client.post(f"/children/{child.id}/urgent",
                       data={"situation": SITUATION, "assessment_id": own.id}).status_code == 303
    assert db.session.scalar(select(UrgentFlag.assessment_id)) == own.id


def test_who_may_do_what(app, town):
    child, elsewhere, users = town["child"], town["elsewhere"], town["users"]
    flag = create_urgent_flag(child, by=users["director"], situation=SITUATION)
    # raising: a director outside her villages and a school for a child not its pupil get 404
    assert sign_in(app, users["other_director"]).get(f"/children/{child.id}/urgent").status_code == 404
    assert sign_in(app, users["school"]).post(f"/children/{elsewhere.id}/urgent",
                                              data={"situation": SITUATION}).status_code == 404
    for role in ("police", "justice", "volunteer", "admin"):  # no urgent:flag
        assert sign_in(app, users[role]).post(f"/children/{child.id}/urgent",
                                              data={"situation": SITUATION}).status_code == 403, role
    # reading: civil affairs, the supervisor and the police; not a director, a school, 司法所, a volunteer
    for role in ("director", "school", "justice", "volunteer", "admin"):
        client = sign_in(app, users[role])
        assert client.get(f"/care/urgent/{flag.id}").status_code == 403, role
        assert client.get("/care/urgent").status_code == 403, role
    assert sign_in(app, users["supervisor"]).get(f"/care/urgent/{flag.id}").status_code == 200
    # acting: civil affairs and the police only
    for role in ("supervisor", "director", "justice"):
        assert sign_in(app, users[role]).post(f"/care/urgent/{flag.id}/action",
                                              data={"action_taken": "已处置"}).status_code == 403, role
    assert sign_in(app, users["police"]).get(f"/care/urgent/{flag.id + 999}").status_code == 404
    # the child's slot: nothing for a volunteer (care data is hidden from her) nor for 司法所
    assert child_slot(users["volunteer"], child) is None and child_slot(users["justice"], child) is None
    assert child_slot(users["director"], child)["flag"].id == flag.id
    db.session.expire_all()
    assert db.session.get(UrgentFlag, flag.id).action_at is None


def test_the_police_keep_a_flag_acted_on_30_days_then_lose_it(app, town, monkeypatch):
    """The flag's page shows the child's address and guardian: the police keep it to answer for what
    they did, as a department keeps a returned referral, not for ever. Civil affairs keep it."""
    from datetime import datetime

    from blueprints.core import clock

    child, users = town["child"], town["users"]
    acted = datetime(2026, 11, 1, 2, 0)  # naive UTC: 10:00 in the town
    flag = create_urgent_flag(child, by=users["director"], situation=SITUATION, action_taken="已处置",
                              action_by_id=users["police"].id, action_at=acted)
    police, town_office = sign_in(app, users["police"]), sign_in(app, users["civil_affairs"])
    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 12, 1, 9, tzinfo=clock.LOCAL_TZ))
    assert police.get(f"/care/urgent/{flag.id}").status_code == 200 and "王小丽" in police.get("/care/urgent").text
    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 12, 1, 11, tzinfo=clock.LOCAL_TZ))
    assert police.get(f"/care/urgent/{flag.id}").status_code == 404 and "王小丽" not in police.get("/care/urgent").text
    assert town_office.get(f"/care/urgent/{flag.id}").status_code == 200
