"""Review of issue 11 (assessments, urgent flags, conferences, the visit review queue): the holes a
second look found, each with the input that showed it."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blueprints.care.models import AssessmentItem, AssessmentThreshold, Conference
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from extensions import db
from tests.conftest import AuthActions
from tests.factories import create_child, create_urgent_flag, create_user, create_village, department


def sign_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code in (302, 303)
    return client


@pytest.fixture
def town(app):
    village = create_village("前王庄村")
    child = create_child("王小丽", village=village, gender="female")
    db.session.execute(AssessmentItem.__table__.delete())
    db.session.execute(AssessmentThreshold.__table__.delete())
    items = [AssessmentItem(text="监护人能保证孩子吃饱穿暖", weight=3, position=1, need_category="living"),
             AssessmentItem(text="孩子生病时能及时就医", weight=2, position=2, need_category="medical")]
    db.session.add_all(items + [AssessmentThreshold(level="capable", min_percent=75),
                                AssessmentThreshold(level="partial", min_percent=45)])
    db.session.commit()
    users = {
        "director": create_user("director", username="zhuren", villages=[village]),
        "police": create_user("department", username="paichusuo", department_code="police"),
        "civil_affairs": create_user("civil_affairs", username="minzheng"),
        "admin": create_user("admin", username="guanli"),
    }
    return dict(child=child, items=items, users=users)


def scale_data(items, **changes):
    data = {"capable": "75", "partial": "45", "item_new_text": "", "item_new_weight": "2", "item_new_position": "9",
            "item_new_need_category": ""}
    for item in items:
        data |= {f"item_{item.id}_text": item.text, f"item_{item.id}_weight": str(item.weight),
                 f"item_{item.id}_need_category": item.need_category or "", f"item_{item.id}_position": str(item.position),
                 f"item_{item.id}_active": "y"}
    return data | changes


def test_the_scale_refuses_an_order_the_database_cannot_hold_naming_the_field(app, town):
    """A position of 20 digits was a 500 (an integer too large for the column); now a message."""
    items = town["items"]
    client = sign_in(app, town["users"]["admin"])
    for changes, message in [
        ({f"item_{items[0].id}_position": "99999999999999999999"}, "第 1 项的顺序：请填 0 到 9999 的整数"),
        ({f"item_{items[1].id}_position": "-5"}, "第 2 项的顺序：请填 0 到 9999 的整数"),
        ({"item_new_text": "孩子有安全的住处", "item_new_position": "10000"}, "新增项目的顺序：请填 0 到 9999 的整数"),
    ]:
        response = client.post("/care/assessment-scale", data=scale_data(items, **changes))
        assert response.status_code == 422, changes
        assert message in response.text, changes
        assert "孩子有安全的住处" in response.text or "item_new_text" not in changes  # what was typed stays
    assert [i.position for i in db.session.scalars(select(AssessmentItem).order_by(AssessmentItem.id))] == [1, 2]
    assert db.session.scalar(select(func.count(AssessmentItem.id))) == 2


def test_the_police_read_a_flag_without_a_link_to_a_record_they_cannot_open(app, town):
    """The police read every flag, but a child's record only through a referral: the flag's page
    linked her name to a record that answered 404."""
    child = town["child"]
    flag = create_urgent_flag(child, by=town["users"]["director"])
    police = sign_in(app, town["users"]["police"])
    assert police.get(f"/children/{child.id}").status_code == 404
    page = police.get(f"/care/urgent/{flag.id}")
    assert page.status_code == 200 and "王小丽" in page.text
    assert f'href="/children/{child.id}"' not in page.text
    civil = sign_in(app, town["users"]["civil_affairs"])  # who reaches her still has the link
    assert f'href="/children/{child.id}"' in civil.get(f"/care/urgent/{flag.id}").text


def make_visit(child, visitor, **values):
    visit = Visit(client_uuid=str(uuid.uuid4()), child_id=child.id, visitor_id=visitor.id,
                  visited_on=local_today() - timedelta(days=3), kind="home", **values)
    db.session.add(visit)
    db.session.commit()
    return visit


def test_a_visit_corrected_since_the_queue_was_shown_is_not_passed_in_its_place(app, town):
    """The queue open on a phone, the director corrects the visit, the supervisor taps 评阅通过 on the
    stale row: the old visit was marked reviewed and the row said 已评阅, while the correction still
    waited. Now refused as a return is (409), the row saying why; the correction stays in the queue."""
    director = town["users"]["director"]
    old = make_visit(town["child"], director, superseded=True)
    correction = make_visit(town["child"], director)
    supervisor = sign_in(app, create_user("supervisor", username="dudao"))
    response = supervisor.post(f"/visits/{old.id}/review/ok", headers={"HX-Request": "true"})
    assert response.status_code == 409
    assert "这条走访记录已被更正，请评阅更正后的记录。" in response.text and "已评阅" not in response.text
    response = supervisor.post(f"/visits/{old.id}/review/ok")  # without JavaScript: back with the message
    assert response.status_code == 303
    assert "这条走访记录已被更正" in supervisor.get(response.location).text
    db.session.expire_all()
    assert db.session.get(Visit, old.id).review_state is None
    assert db.session.get(Visit, old.id).reviewed_at is None
    assert f'id="review-{correction.id}"' in supervisor.get("/visits/review").text
    assert supervisor.post(f"/visits/{correction.id}/review/ok", headers={"HX-Request": "true"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(Visit, correction.id).review_state == "ok"


def test_an_answer_to_a_visit_passed_meanwhile_says_so(app, town):
    """Sent back, then passed by the supervisor before the director answered: her answer was told
    "没有待答复的提问（可能已答复过）", which she had not."""
    director = town["users"]["director"]
    visit = make_visit(town["child"], director)
    supervisor = sign_in(app, create_user("supervisor", username="dudao"))
    assert supervisor.post(f"/visits/{visit.id}/review/return", data={"question": "水塘有护栏吗？"}).status_code == 303
    assert supervisor.post(f"/visits/{visit.id}/review/ok").status_code == 303
    response = sign_in(app, director).post(f"/visits/{visit.id}/answer", data={"answer": "已加装护栏"},
                                          headers={"HX-Request": "true"})
    assert response.status_code == 409 and "督导已评阅通过这条走访记录，不需要再答复。" in response.text
    db.session.expire_all()
    assert db.session.get(Visit, visit.id).review_state == "ok" and db.session.get(Visit, visit.id).answer is None


def test_a_department_present_not_on_the_list_is_refused_in_chinese_naming_the_field(app, town):
    """参会部门 posted as 20 digits answered "'99999999999999999999' is not a valid choice for this
    field." (English), and as letters a message that did not name the field."""
    police = department("police")
    civil = sign_in(app, town["users"]["civil_affairs"])
    child = town["child"]
    data = {"held_on": local_today().isoformat(), "place": "镇政府", "attendees": "王芳", "summary": "祖母住院，孩子无人照料"}
    for bad in ("99999999999999999999", "abc", "²", "0"):
        response = civil.post(f"/children/{child.id}/conferences/new", data=data | {"departments": [str(police.id), bad]})
        assert response.status_code == 422, bad
        assert "参会部门请从列表中选择" in response.text and "valid choice" not in response.text, bad
        assert "祖母住院，孩子无人照料" in response.text  # nothing typed lost
        assert re.search(rf'value="{police.id}"[^>]*checked|checked[^>]*value="{police.id}"', response.text), bad
    assert db.session.scalar(select(func.count(Conference.id))) == 0
    response = civil.post(f"/children/{child.id}/conferences/new", data=data | {"departments": [str(police.id)]})
    assert response.status_code == 303
    assert [d.code for d in db.session.scalar(select(Conference)).departments] == ["police"]


def test_the_list_of_mistakes_names_each_unanswered_item_once(app, town):
    """The list at the top of the assessment said "1. 监护人能保证孩子吃饱穿暖：第 1 项“监护人能保证孩子
    吃饱穿暖”：请选择…": each item's words twice, nine long items filling a phone's screen twice over."""
    items = town["items"]
    client = sign_in(app, town["users"]["director"])
    response = client.post(f"/children/{town['child'].id}/assessments/new",
                           data={"assessed_on": local_today().isoformat(), f"item_{items[0].id}_answer": "2"})
    assert response.status_code == 422
    summary = response.text.split('class="flash flash-error" role="alert"', 1)[1].split("</div>", 1)[0]
    assert "有 1 处需要修改" in summary
    assert summary.count("孩子生病时能及时就医") == 1
    assert "2. 孩子生病时能及时就医：请选择具备、部分具备或缺失" in summary
