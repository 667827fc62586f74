"""The supervisors' review queue (/visits/review): what waits, in which order, filtered; reviewed in
the row (htmx) or sent back with a question that the visitor sees on her due list and answers; who
may do what; a fixed number of queries whatever the queue's length."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.notices.models import Notice
from blueprints.visits.models import Visit
from extensions import db
from tests.factories import create_child, create_user, create_village

HX = {"HX-Request": "true"}


def make_visit(child, visitor, days_ago: int = 10, **values) -> Visit:
    visit = Visit(client_uuid=str(uuid.uuid4()), child_id=child.id, visitor_id=visitor.id,
                  visited_on=local_today() - timedelta(days=days_ago), kind="home", **values)
    db.session.add(visit)
    db.session.commit()
    return visit


def fresh(visit_id: int) -> Visit:
    db.session.expire_all()
    return db.session.get(Visit, visit_id)


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.fixture
def town(app):
    east, west = create_village("东村"), create_village("西村")
    people = dict(
        director=create_user("director", username="zhuren_e", display_name="王主任", villages=[east]),
        other=create_user("director", username="zhuren_w", display_name="李主任", villages=[west]),
        colleague=create_user("director", username="zhuren_e2", display_name="赵主任", villages=[east]),
        supervisor=create_user("supervisor", username="dudao", display_name="孙督导"),
        civil=create_user("civil_affairs", username="minzheng"),
    )
    children = dict(east=create_child("张小东", village=east), west=create_child("刘小西", village=west))
    return dict(east=east, west=west, children=children, **people)


def names_in_order(page: str, names) -> list[str]:
    return sorted((n for n in names if n in page), key=page.index)


# --- the queue: what waits, in which order ----------------------------------------------------

def test_queue_holds_unreviewed_and_answered_visits_concerns_first_then_oldest(client, auth, town):
    d, e = town["director"], town["children"]["east"]
    kids = {name: create_child(name, village=town["east"]) for name in
            ("甲清", "乙老", "丙心", "丁险", "戊网", "己跟", "庚过", "辛退", "壬答", "癸改")}
    make_visit(kids["甲清"], d, days_ago=5)
    make_visit(kids["乙老"], d, days_ago=40)  # no concern, older: first of the clean ones
    make_visit(kids["丙心"], d, days_ago=3, mental_state="concern")
    make_visit(kids["丁险"], d, days_ago=20, hazard_waters=True)
    make_visit(kids["戊网"], d, days_ago=30, internet_concern=True)
    make_visit(kids["己跟"], d, days_ago=2, follow_up_needed=True, follow_up_note="联系学校")
    make_visit(kids["庚过"], d, days_ago=50, review_state="ok")
    make_visit(kids["辛退"], d, days_ago=50, review_state="returned", review_question="问一下")
    make_visit(kids["壬答"], d, days_ago=8, review_state="answered", review_question="水塘有护栏吗？",
               answer="还没有，已告知村委")
    make_visit(kids["癸改"], d, days_ago=60, mental_state="concern", superseded=True)
    assert e  # the fixture's child has no visit: not in the queue
    auth.login("dudao")
    response = client.get("/visits/review")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert names_in_order(page, kids) == ["戊网", "丁险", "丙心", "己跟", "乙老", "壬答", "甲清"]
    assert "共 <strong>7</strong> 条待评阅" in page
    assert "水塘有护栏吗？" in page and "还没有，已告知村委" in page and "已答复待复核" in page
    assert "隐患：附近有危险水域" in page and "心理需要关注" in page and "联系学校" in page and "王主任" in page
    assert count(AuditEvent, AuditEvent.action == "visit_review_queue_viewed") == 1


def test_queue_filters_by_village_director_finding_and_state(client, auth, town):
    d, o, east, west = town["director"], town["other"], town["children"]["east"], town["children"]["west"]
    mental = make_visit(east, d, days_ago=3, mental_state="concern")
    hazard = make_visit(west, o, days_ago=4, hazard_gas=True)
    online = make_visit(east, d, days_ago=5, social_concern=True)
    follow = make_visit(west, o, days_ago=6, follow_up_needed=True)
    clean = make_visit(east, d, days_ago=7)
    answered = make_visit(west, o, days_ago=8, review_state="answered", review_question="？", answer="好")
    auth.login("dudao")

    def listed(query: str) -> set[int]:
        page = client.get("/visits/review?" + query).get_data(as_text=True)
        return {v.id for v in (mental, hazard, online, follow, clean, answered) if f'id="review-{v.id}"' in page}

    assert listed("") == {mental.id, hazard.id, online.id, follow.id, clean.id, answered.id}
    assert listed(f"village={town['east'].id}") == {mental.id, online.id, clean.id}
    assert listed(f"director={o.id}") == {hazard.id, follow.id, answered.id}
    assert listed("finding=concern") == {mental.id, hazard.id, online.id, follow.id}
    assert listed("finding=mental") == {mental.id}
    assert listed("finding=hazard") == {hazard.id}
    assert listed("finding=online") == {online.id}
    assert listed("finding=follow_up") == {follow.id}
    assert listed("finding=none") == {clean.id, answered.id}
    assert listed("state=answered") == {answered.id}
    assert listed("state=new") == {mental.id, hazard.id, online.id, follow.id, clean.id}
    assert listed(f"village={town['west'].id}&finding=hazard") == {hazard.id}
    # nonsense filters are ignored, not a 500
    assert listed("village=abc&director=-1&finding=x&state=y&page=zz") == listed("")


def test_queue_pages_keep_the_filters_and_the_htmx_filter_gets_rows_only(client, auth, town):
    d = town["director"]
    for i in range(35):
        make_visit(town["children"]["east"], d, days_ago=100 - i)
    auth.login("dudao")
    page = client.get("/visits/review?finding=none").get_data(as_text=True)
    assert "第 1 / 2 页" in page and page.count('class="row review-row"') == 30
    assert "/visits/review?page=2" in page and "finding=none" in page.split("下一页")[0].rsplit("href=", 1)[1]
    second = client.get("/visits/review?finding=none&page=2").get_data(as_text=True)
    assert second.count('class="row review-row"') == 5
    fragment = client.get("/visits/review?finding=none", headers=HX)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "review-filters" not in body and "共 <strong>35</strong> 条待评阅" in body
    assert "HX-Request" in fragment.headers["Vary"]


def test_queue_and_its_actions_are_for_reviewers_only(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"])
    create_user("school", username="xuexiao")
    create_user("volunteer", username="zhiyuan")
    create_user("department", username="paichusuo", department_code="police")
    for username in ("zhuren_e", "xuexiao", "zhiyuan", "paichusuo"):
        auth.login(username)
        assert client.get("/visits/review").status_code == 403, username
        assert client.post(f"/visits/{visit.id}/review/ok").status_code == 403, username
        assert client.post(f"/visits/{visit.id}/review/return", data={"question": "？"}).status_code == 403, username
        assert "/visits/review" not in client.get("/").get_data(as_text=True), username  # no menu item
        auth.logout()
    assert fresh(visit.id).review_state is None
    auth.login("minzheng")  # civil affairs reviews too
    page = client.get("/").get_data(as_text=True)
    assert 'href="/visits/review"' in page and "评阅" in page
    assert client.get("/visits/review").status_code == 200
    assert client.post("/visits/99999/review/ok", headers=HX).status_code == 404


# --- reviewing in the row ---------------------------------------------------------------------

def test_one_tap_review_swaps_the_row_and_the_visit_leaves_the_queue(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"], mental_state="concern")
    auth.login("dudao")
    response = client.post(f"/visits/{visit.id}/review/ok", headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and f'id="review-{visit.id}"' in body and "已评阅" in body and "张小东" in body
    saved = fresh(visit.id)
    assert saved.review_state == "ok" and saved.reviewed_by_id == town["supervisor"].id and saved.reviewed_at
    assert count(AuditEvent, AuditEvent.action == "visit_reviewed", AuditEvent.object_id == str(visit.id)) == 1
    assert "张小东" not in client.get("/visits/review").get_data(as_text=True)
    # without JavaScript: back to the queue
    other = make_visit(town["children"]["west"], town["other"])
    plain = client.post(f"/visits/{other.id}/review/ok")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/visits/review")
    assert fresh(other.id).review_state == "ok"


def test_the_old_review_form_marks_the_visit_reviewed(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"])
    auth.login("dudao")
    assert client.post(f"/visits/{visit.id}/review", data={"comment": "记录完整"}).status_code == 303
    saved = fresh(visit.id)
    assert saved.review_state == "ok" and saved.review_comment == "记录完整"
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "已评阅" in page and "记录完整" in page and "孙督导" in page
    # a visit corrected since: the correction is the one to review; the form says so
    corrected = make_visit(town["children"]["east"], town["director"], superseded=True)
    answer = client.post(f"/visits/{corrected.id}/review", data={"comment": "记录完整"}, follow_redirects=True)
    assert "这条走访记录已被更正" in answer.get_data(as_text=True) and fresh(corrected.id).review_state is None


def test_return_without_a_question_keeps_the_row_and_says_which_field(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"])
    auth.login("dudao")
    response = client.post(f"/visits/{visit.id}/review/return", data={"question": "  \n "}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "<html" not in body
    assert "请填写督导提问" in body and f'id="review-{visit.id}"' in body and "<details open" in body
    too_long = "问" * 501
    response = client.post(f"/visits/{visit.id}/review/return", data={"question": too_long}, headers=HX)
    assert response.status_code == 422 and too_long in response.get_data(as_text=True)  # what was typed is kept
    assert "督导提问最多 500 个字" in response.get_data(as_text=True)
    # without JavaScript: a page with the one form, as typed
    page = client.post(f"/visits/{visit.id}/review/return", data={"question": too_long, "back": "detail"})
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "<html" in text.lower() and too_long in text and 'value="detail"' in text
    assert fresh(visit.id).review_state is None and count(Notice) == 0


def test_return_answer_and_back_in_the_queue(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"], hazard_water=True)
    auth.login("dudao")
    response = client.post(f"/visits/{visit.id}/review/return", data={"question": "用水隐患具体是什么？"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "已退回" in body and "<html" not in body
    saved = fresh(visit.id)
    assert saved.review_state == "returned" and saved.review_question == "用水隐患具体是什么？"
    assert saved.returned_at and saved.reviewed_by_id == town["supervisor"].id and saved.reviewed_at is None
    assert "张小东" not in client.get("/visits/review").get_data(as_text=True)  # waiting for her answer
    notice = db.session.scalar(select(Notice))
    assert notice.user_id == town["director"].id and notice.kind == "visit_returned"
    assert notice.url == f"/visits/{visit.id}" and "张小东" in notice.text and notice.child_id == visit.child_id
    auth.logout()

    # the visitor: the question at the top of her due list, above the children due
    auth.login("zhuren_e")
    due = client.get("/visits/due").get_data(as_text=True)
    assert "督导退回、请答复的走访（1）" in due and "用水隐患具体是什么？" in due
    assert due.index("用水隐患具体是什么？") < due.index('class="card fold due-group')
    empty = client.post(f"/visits/{visit.id}/answer", data={"answer": ""}, headers=HX)
    assert empty.status_code == 422 and "请填写答复" in empty.get_data(as_text=True)
    answered = client.post(f"/visits/{visit.id}/answer", data={"answer": "厨房水管漏电，已请电工"}, headers=HX)
    assert answered.status_code == 200 and "已答复待复核" in answered.get_data(as_text=True)
    saved = fresh(visit.id)
    assert saved.review_state == "answered" and saved.answer == "厨房水管漏电，已请电工" and saved.answered_at
    assert "督导退回" not in client.get("/visits/due").get_data(as_text=True)
    again = client.post(f"/visits/{visit.id}/answer", data={"answer": "再说一次"}, headers=HX)
    assert again.status_code == 409 and "没有待答复的提问" in again.get_data(as_text=True)
    assert fresh(visit.id).answer == "厨房水管漏电，已请电工"
    assert count(AuditEvent, AuditEvent.action == "visit_answered") == 1
    auth.logout()

    # back in the queue, with the question and the answer; then reviewed
    auth.login("dudao")
    queue = client.get("/visits/review").get_data(as_text=True)
    assert "张小东" in queue and "用水隐患具体是什么？" in queue and "厨房水管漏电，已请电工" in queue
    assert client.post(f"/visits/{visit.id}/review/ok", headers=HX).status_code == 200
    assert fresh(visit.id).review_state == "ok"
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "用水隐患具体是什么？" in page and "厨房水管漏电，已请电工" in page


def test_only_the_visitor_answers(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"], review_state="returned", review_question="？")
    auth.login("zhuren_e2")  # the same village, not her visit
    assert client.post(f"/visits/{visit.id}/answer", data={"answer": "我来答"}).status_code == 403
    assert "督导退回" not in client.get("/visits/due").get_data(as_text=True)
    auth.logout()
    auth.login("zhuren_w")  # another village: the visit is out of reach
    assert client.post(f"/visits/{visit.id}/answer", data={"answer": "我来答"}).status_code == 404
    auth.logout()
    auth.login("dudao")  # a reviewer answers nothing she did not record
    assert client.post(f"/visits/{visit.id}/answer", data={"answer": "我来答"}).status_code == 403
    assert fresh(visit.id).review_state == "returned" and fresh(visit.id).answer is None


def test_answer_on_the_visit_page_without_javascript(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"], review_state="returned",
                       review_question="孩子的情绪怎么样？")
    auth.login("zhuren_e")
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "孩子的情绪怎么样？" in page and "答复督导提问" in page
    long_answer = "好" * 1001
    refused = client.post(f"/visits/{visit.id}/answer", data={"answer": long_answer, "back": "detail"})
    assert refused.status_code == 422 and long_answer in refused.get_data(as_text=True)
    assert "答复最多 1000 个字" in refused.get_data(as_text=True)
    done = client.post(f"/visits/{visit.id}/answer", data={"answer": "情绪稳定", "back": "detail"})
    assert done.status_code == 303 and done.headers["Location"].endswith(f"/visits/{visit.id}")
    page = client.get(f"/visits/{visit.id}").get_data(as_text=True)
    assert "情绪稳定" in page and "已答复待复核" in page and "答复督导提问" not in page


def test_return_from_the_visit_page_and_a_second_question_is_a_new_notice(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"])
    auth.login("dudao")
    assert "退回给走访人" in client.get(f"/visits/{visit.id}").get_data(as_text=True)
    sent = client.post(f"/visits/{visit.id}/review/return", data={"question": "第一问", "back": "detail"})
    assert sent.status_code == 303 and sent.headers["Location"].endswith(f"/visits/{visit.id}")
    visit = fresh(visit.id)
    visit.review_state, visit.answer = "answered", "第一答"
    db.session.commit()
    assert client.post(f"/visits/{visit.id}/review/return", data={"question": "第二问"}, headers=HX).status_code == 200
    saved = fresh(visit.id)
    assert saved.review_question == "第二问" and saved.answer is None and saved.review_state == "returned"
    assert count(Notice, Notice.user_id == town["director"].id, Notice.kind == "visit_returned") == 2
    assert count(AuditEvent, AuditEvent.action == "visit_returned") == 2


def test_a_corrected_visit_is_not_returned(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"], superseded=True)
    auth.login("dudao")
    response = client.post(f"/visits/{visit.id}/review/return", data={"question": "？"}, headers=HX)
    assert response.status_code == 409 and "已被更正" in response.get_data(as_text=True)
    assert fresh(visit.id).review_state is None and count(Notice) == 0


def test_the_notice_names_the_child_only_to_a_visitor_who_still_reaches_her(client, auth, town):
    visit = make_visit(town["children"]["east"], town["director"])
    director = town["director"]
    director.villages = [town["west"]]  # moved to another village since
    db.session.commit()
    auth.login("dudao")
    assert client.post(f"/visits/{visit.id}/review/return", data={"question": "？"}, headers=HX).status_code == 200
    notice = db.session.scalar(select(Notice))
    assert notice.user_id == director.id and "张小东" not in notice.text and notice.child_id is None


# --- cost ---------------------------------------------------------------------------------------

def test_queue_costs_the_same_queries_for_3_or_40_visits(client, auth, town):
    d = town["director"]
    auth.login("dudao")
    client.get("/visits/review")  # warm: the session's user, templates

    def statements() -> int:
        seen = []

        def count_one(*args):
            seen.append(args[2])

        event.listen(db.engine, "before_cursor_execute", count_one)
        try:
            assert client.get("/visits/review").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count_one)
        return len(seen)

    for i in range(3):
        make_visit(town["children"]["east"], d, days_ago=i, hazard_fire=True)
    few = statements()
    for i in range(37):
        make_visit(town["children"]["west"], town["other"], days_ago=i, mental_state="concern")
    assert statements() == few


def test_nobody_reviews_her_own_visit_civil_affairs_reviews_the_supervisors(client, auth, town):
    """The supervisor visits the villages that have no director: those visits wait in civil affairs'
    queue, not hers, and a review of her own visit is refused from the queue and the visit page."""
    supervisor = town["supervisor"]
    own = make_visit(town["children"]["west"], supervisor, days_ago=4, hazard_waters=True)
    theirs = make_visit(town["children"]["east"], town["director"], days_ago=4)
    auth.login("dudao")
    page = client.get("/visits/review").get_data(as_text=True)
    assert "张小东" in page and "刘小西" not in page
    response = client.post(f"/visits/{own.id}/review/ok", headers=HX)
    assert response.status_code == 409 and "不能自己评阅" in response.get_data(as_text=True)
    response = client.post(f"/visits/{own.id}/review/return", data={"question": "？"}, headers=HX)
    assert response.status_code == 409
    client.post(f"/visits/{own.id}/review", data={"comment": "自评"})  # the visit page's old form
    assert fresh(own.id).review_state is None and fresh(own.id).reviewed_by_id is None
    detail = client.get(f"/visits/{own.id}").get_data(as_text=True)
    assert "评阅通过" not in detail and f'action="/visits/{own.id}/review/return"' not in detail
    assert count(AuditEvent, AuditEvent.action.in_(("visit_reviewed", "visit_returned"))) == 0
    auth.logout()
    auth.login("minzheng")
    page = client.get("/visits/review").get_data(as_text=True)
    assert "刘小西" in page and "孙督导" in page and "张小东" in page
    assert client.post(f"/visits/{own.id}/review/ok", headers=HX).status_code == 200
    assert fresh(own.id).review_state == "ok" and fresh(own.id).reviewed_by_id == town["civil"].id
    assert fresh(theirs.id).review_state is None


def test_civil_affairs_returning_the_supervisors_visit_is_named_in_her_notice(client, auth, town):
    """Her notice says who sent the visit back: 镇民政组, not a 督导 (she is the supervisor)."""
    own = make_visit(town["children"]["west"], town["supervisor"], days_ago=4)
    auth.login("minzheng")
    assert client.post(f"/visits/{own.id}/review/return", data={"question": "隐患怎么处理的？"},
                       headers=HX).status_code == 200
    notice = db.session.scalar(select(Notice))
    assert notice.user_id == town["supervisor"].id
    assert notice.text.startswith("镇民政组退回了您"), notice.text
    auth.logout()
    theirs = make_visit(town["children"]["east"], town["director"], days_ago=4)
    auth.login("dudao")
    client.post(f"/visits/{theirs.id}/review/return", data={"question": "？？"}, headers=HX)
    notice = db.session.scalar(select(Notice).where(Notice.user_id == town["director"].id))
    assert notice.text.startswith("督导退回了您"), notice.text
