"""Pairings (结对帮扶): the rules, the pages and who reaches them, the matching on a built case whose
right order is known, the figures per programme, and a volunteer's word on the director's due list."""
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.auth.models import User
from blueprints.children.services import ChildExited, exit_child
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit, VisitNeed
from blueprints.volunteers.matching import children_for, volunteers_for
from blueprints.volunteers.models import Pairing, PairingActivity
from blueprints.volunteers.oversight import programme_figures
from blueprints.volunteers.pairings import PairingError, create_pairing, end_pairing
from extensions import db
from tests.factories import (create_child, create_pairing as make_pairing, create_school, create_user, create_village,
                             create_volunteer)

def values(**changes):
    base = {"programme": "caring_mother", "started_on": local_today() - timedelta(days=3), "planned_end_on": None,
            "goals": "每月两次陪读", "times_per_month": 2, "needs": ["education"]}
    return base | changes


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def activity(pairing, done_on, minutes=60, pass_on=None, n=[0]):
    n[0] += 1
    row = PairingActivity(client_uuid=f"00000000-0000-4000-8000-{n[0]:012d}", pairing_id=pairing.id,
                          child_id=pairing.child_id, recorded_by_id=pairing.volunteer.user_id, done_on=done_on,
                          minutes=minutes, kind="companionship", note="陪读", pass_on=pass_on)
    db.session.add(row)
    db.session.commit()
    return row


# --- the rules ---------------------------------------------------------------------------------

def test_a_volunteer_takes_no_more_children_than_her_capacity(app):
    village = create_village()
    volunteer = create_volunteer(capacity=2)
    staff = create_user("civil_affairs")
    first, second, third = (create_child(name, village=village) for name in ("王一", "王二", "王三"))
    create_pairing(first, volunteer, values(), actor=staff)
    create_pairing(second, volunteer, values(), actor=staff)
    db.session.commit()
    with pytest.raises(PairingError) as refused:
        create_pairing(third, volunteer, values(), actor=staff)
    assert "最多结对 2 名儿童，现已结对 2 名" in refused.value.errors["volunteer_id"]
    db.session.rollback()
    assert count(Pairing) == 2
    # an ended pairing frees her place
    end_pairing(db.session.scalars(select(Pairing).where(Pairing.child_id == first.id)).one(), local_today(),
                "goals_met", None, actor=staff)
    create_pairing(third, volunteer, values(), actor=staff)
    db.session.commit()
    assert count(Pairing, Pairing.ended_on.is_(None)) == 2


def test_bad_pairings_are_refused_with_the_field_named(app):
    village = create_village()
    volunteer = create_volunteer(capacity=5)
    staff = create_user("civil_affairs")
    child = create_child(village=village)
    start = local_today() - timedelta(days=10)
    with pytest.raises(PairingError) as refused:
        create_pairing(child, volunteer, values(started_on=start, planned_end_on=start - timedelta(days=1),
                                                goals="  ", times_per_month=0, programme="x"), actor=staff)
    errors = refused.value.errors
    assert "不能早于开始日期" in errors["planned_end_on"] and "帮扶目标" in errors["goals"]
    assert "1 到 8 次" in errors["times_per_month"] and "结对项目" in errors["programme"]
    create_pairing(child, volunteer, values(), actor=staff)
    with pytest.raises(PairingError) as twice:
        create_pairing(child, volunteer, values(), actor=staff)
    assert "已有一个进行中的结对" in twice.value.errors["volunteer_id"]
    pairing = db.session.scalars(select(Pairing)).one()
    with pytest.raises(PairingError) as early:
        end_pairing(pairing, pairing.started_on - timedelta(days=1), "other", None, actor=staff)
    assert "不能早于开始日期" in early.value.errors["ended_on"]
    stopped = create_volunteer(active=False)
    with pytest.raises(PairingError) as inactive:
        create_pairing(create_child("李四", village=village), stopped, values(), actor=staff)
    assert "已停用" in inactive.value.errors["volunteer_id"]


def test_a_child_who_left_the_roll_is_not_paired(app):
    staff = create_user("civil_affairs")
    child = create_child(village=create_village())
    exit_child(child, "moved_away", local_today(), "", actor=staff)
    db.session.commit()
    with pytest.raises(ChildExited):
        create_pairing(child, create_volunteer(), values(), actor=staff)


# --- the pages and who reaches them ---------------------------------------------------------------

def new_pairing_form(volunteer, **changes):
    return {"programme": "caring_mother", "volunteer_id": str(volunteer.id), "started_on": local_today().isoformat(),
            "planned_end_on": "", "times_per_month": "2", "needs": ["education"], "goals": "每月两次陪读"} | changes


def test_civil_affairs_pairs_a_child_and_bad_input_keeps_what_was_typed(app, client, auth):
    village = create_village()
    child = create_child("赵小花", village=village)
    volunteer = create_volunteer(village=village, capacity=1)
    create_user("civil_affairs", username="mz")
    auth.login("mz")
    page = client.get(f"/pairings/new?child={child.id}")
    assert page.status_code == 200 and "赵小花" in page.text and "周桂兰" in page.text and "同村" in page.text
    bad = client.post(f"/pairings/new?child={child.id}",
                      data=new_pairing_form(volunteer, planned_end_on="2000-01-01", goals="陪读并辅导作业"))
    assert bad.status_code == 422
    assert "计划结束日期：不能早于开始日期" in bad.text and "陪读并辅导作业" in bad.text
    assert count(Pairing) == 0
    done = client.post(f"/pairings/new?child={child.id}", data=new_pairing_form(volunteer))
    assert done.status_code == 303
    pairing = db.session.scalars(select(Pairing)).one()
    assert (pairing.child_id, pairing.volunteer_id, pairing.needs) == (child.id, volunteer.id, ["education"])
    assert count(AuditEvent, AuditEvent.action == "pairing_created") == 1
    # she is full now: another child gets a clear refusal, nothing stored
    other = create_child("钱小二", village=village)
    full = client.post(f"/pairings/new?child={other.id}", data=new_pairing_form(volunteer))
    assert full.status_code == 422 and "最多结对 1 名儿童" in full.text
    assert count(Pairing) == 1
    detail = client.get(f"/pairings/{pairing.id}")
    assert detail.status_code == 200 and "每月两次陪读" in detail.text


def test_who_reaches_the_pairing_pages(app, client, auth):
    mine, theirs = create_village(), create_village()
    pairing = make_pairing(create_child("孙小妹", village=mine), create_volunteer(village=mine))
    elsewhere = make_pairing(create_child("周小弟", village=theirs), create_volunteer(name="冯秀梅"))
    create_user("director", username="dir", villages=[mine])
    create_user("school", username="sch", school=create_school(villages=[mine]))
    create_user("department", username="police", department_code="police")
    create_user("department", username="tw", department_code="youth")
    create_user("volunteer", username="vol")
    expected = {
        "dir": {f"/pairings/{pairing.id}": 200, f"/pairings/{elsewhere.id}": 404, "/pairings": 200,
                "/pairings/new": 403, f"/pairings/match/child/{pairing.child_id}": 403, "/pairings/oversight": 403},
        "sch": {f"/pairings/{pairing.id}": 403, "/pairings": 403},
        "police": {f"/pairings/{pairing.id}": 403, "/pairings": 403, "/pairings/oversight": 403},
        "vol": {f"/pairings/{pairing.id}": 403, "/pairings": 403, "/pairings/new": 403},
        "tw": {f"/pairings/{pairing.id}": 200, f"/pairings/{elsewhere.id}": 200, "/pairings/oversight": 200,
               f"/pairings/match/child/{pairing.child_id}": 200},
    }
    for username, urls in expected.items():
        auth.login(username)
        for url, status in urls.items():
            assert client.get(url).status_code == status, (username, url)
        auth.logout()
    auth.login("dir")
    listed = client.get("/pairings?state=all").text
    assert "孙小妹" in listed and "周小弟" not in listed


def test_the_record_page_and_the_archive_show_the_pairings(app, client, auth):
    village = create_village()
    child = create_child("吴小燕", village=village)
    pairing = make_pairing(child, create_volunteer(village=village), goals="陪伴阅读，期末语文及格")
    activity(pairing, local_today(), minutes=90)
    create_user("director", username="dir", villages=[village])
    create_user("civil_affairs", username="mz")
    auth.login("dir")
    page = client.get(f"/children/{child.id}")
    assert "结对帮扶" in page.text and "周桂兰" in page.text and "累计 1 次" in page.text
    auth.logout()
    auth.login("mz")
    pdf = client.get(f"/children/{child.id}/archive.pdf")
    assert pdf.status_code == 200
    from pypdf import PdfReader
    import io

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "结对帮扶" in text and "周桂兰" in text and "期末语文及格" in text and "1 次，1.5 小时" in text


# --- matching: a built case whose right order is known ----------------------------------------------

def build_town():
    """Villages A, B (one school serves both: neighbours) and C (elsewhere)."""
    a, b, c = create_village("甲村"), create_village("乙村"), create_village("丙村")
    create_school(villages=[a, b])
    create_school(villages=[c])
    return a, b, c


def test_volunteers_for_a_child_come_in_the_issues_order(app):
    a, b, c = build_town()
    child = create_child("需帮扶", village=a, categories=["left_behind"])  # implies psychological, education
    staff = create_user("civil_affairs")
    visit = Visit(client_uuid="11111111-1111-4111-8111-111111111111", child_id=child.id, visitor_id=staff.id,
                  visited_on=local_today(), kind="home", needs=[VisitNeed(category="living")])
    db.session.add(visit)
    db.session.commit()
    # same village beats all; then needs met; then room; then nearer
    same_village = create_volunteer(name="同村无特长", village=a, skills=("safety",), capacity=1)
    far_all_needs = create_volunteer(name="远村全对上", village=c, skills=("tutoring", "psychological", "life_care"))
    near_one_need = create_volunteer(name="邻村一项", village=b, skills=("tutoring",), capacity=1)
    far_one_need_roomy = create_volunteer(name="远村一项空位多", village=c, skills=("reading",), capacity=5)
    near_one_need_roomy = create_volunteer(name="邻村一项空位多", village=b, skills=("reading",), capacity=5)
    full = create_volunteer(name="已满", village=a, skills=("tutoring",), capacity=1)
    make_pairing(create_child("别人", village=a), full)
    create_volunteer(name="停用", village=a, skills=("tutoring",), active=False)
    ranked = volunteers_for(child, staff)
    assert [m.volunteer.name for m in ranked] == [
        "同村无特长", "远村全对上", "邻村一项空位多", "远村一项空位多", "邻村一项"]
    assert ranked[0].reasons[0] == "同村"
    assert "能满足需求：" in ranked[1].reasons[1] and "基本生活（生活照料）" in ranked[1].reasons[1]
    assert ranked[2].reasons[0].startswith("邻村")
    assert same_village.id == ranked[0].volunteer.id and near_one_need.id == ranked[-1].volunteer.id
    assert far_all_needs and far_one_need_roomy and near_one_need_roomy


def test_children_for_a_volunteer_put_key_and_unsupported_first(app):
    a, b, c = build_town()
    staff = create_user("civil_affairs")
    volunteer = create_volunteer(village=a, skills=("tutoring",))
    create_child("同村一般", village=a, categories=["poverty"])  # education: met
    create_child("远村重点", village=c, categories=["poverty"], attention="key")
    create_child("邻村无人抚养", village=b, categories=["unsupported"])  # living, psychological, guardianship: not met
    create_child("同村一般无对应", village=a, categories=["disability"])  # medical, living: not met
    create_child("邻村一般", village=b, categories=["left_behind"])  # education: met
    paired = create_child("已结对", village=a, attention="key")
    make_pairing(paired, create_volunteer(name="别人", village=a))
    ranked = children_for(volunteer, staff)
    # the two "first" children: the one whose needs she meets before the nearer one
    assert [m.name for m in ranked] == ["远村重点", "邻村无人抚养", "同村一般", "同村一般无对应", "邻村一般"]
    assert ranked[0].reasons[0] == "重点关注" and ranked[1].reasons[0] == "事实无人抚养儿童"


def test_a_director_may_not_match_and_matching_stays_in_reach(app, client, auth):
    a, b, c = build_town()
    volunteer = create_volunteer(village=a)
    create_user("department", username="fl", department_code="women")
    create_child("甲村孩子", village=a)
    auth.login("fl")
    page = client.get(f"/pairings/match/volunteer/{volunteer.id}")
    assert page.status_code == 200 and "甲村孩子" in page.text


# --- the figures per programme --------------------------------------------------------------------

def test_oversight_names_pairings_behind_and_key_children_without_a_pairing(app, client, auth):
    village = create_village()
    today = local_today()
    first_of_month = today.replace(day=1)
    last_month = (first_of_month - timedelta(days=1)).replace(day=1)
    long_ago = last_month - timedelta(days=60)
    kept = make_pairing(create_child("守约", village=village), create_volunteer(name="守约志愿者"),
                        started_on=long_ago, times_per_month=2)
    behind = make_pairing(create_child("落后", village=village), create_volunteer(name="落后志愿者"),
                          started_on=long_ago, times_per_month=2, programme="qianshou")
    new = make_pairing(create_child("新结对", village=village), create_volunteer(name="新志愿者"),
                       started_on=last_month + timedelta(days=10), times_per_month=4)
    activity(kept, last_month + timedelta(days=1))
    activity(kept, last_month + timedelta(days=5), minutes=30)
    activity(behind, last_month + timedelta(days=2))
    activity(kept, today, minutes=90)
    create_child("没人结对的重点", village=village, attention="key")
    create_child("没人结对的一般", village=village)
    staff = create_user("civil_affairs", username="mz")
    figures = programme_figures(staff, today)
    by_code = {f.code: f for f in figures.programmes}
    assert (by_code["caring_mother"].open, by_code["caring_mother"].activities, by_code["caring_mother"].minutes) == (2, 1, 90)
    assert [s.pairing.id for s in by_code["qianshou"].behind] == [behind.id]
    assert (by_code["qianshou"].behind[0].done, by_code["qianshou"].behind[0].due) == (1, 2)
    assert by_code["caring_mother"].behind == []  # kept its promise; the new one's first month is not held against it
    assert [c.name for c in figures.unpaired] == ["没人结对的重点"]
    assert new.id
    auth.login("mz")
    page = client.get("/pairings/oversight")
    assert "落后 ⟷ 落后志愿者" in page.text and "完成 1 / 约定 2 次" in page.text and "没人结对的重点" in page.text


# --- a volunteer's word on the director's due list -------------------------------------------------

def test_what_a_volunteer_passes_on_flags_the_child_on_the_due_list_until_read(app, client, auth):
    mine, theirs = create_village(), create_village()
    child = create_child("卫小明", village=mine)
    pairing = make_pairing(child, create_volunteer(village=mine))
    word = activity(pairing, local_today(), pass_on="奶奶腿疼，做饭有困难")
    make_pairing_other = make_pairing(create_child("外村孩子", village=theirs), create_volunteer(name="外村志愿者"))
    activity(make_pairing_other, local_today(), pass_on="外村的事")
    create_user("director", username="dir", villages=[mine])
    create_user("director", username="dir2", villages=[create_village()])
    auth.login("dir")
    due = client.get("/visits/due").text
    assert "有反映待阅" in due and "有情况反映，请查看" in due
    assert "奶奶腿疼" not in due  # the text stays behind the link: the due list is kept on the phone
    assert "外村" not in due
    detail = client.get(f"/pairings/{pairing.id}")
    assert "奶奶腿疼，做饭有困难" in detail.text
    assert client.post(f"/pairings/activities/{word.id}/seen").status_code == 303
    db.session.refresh(word)
    assert word.pass_on_seen_at is not None
    assert "有反映待阅" not in client.get("/visits/due").text
    auth.logout()
    auth.login("dir2")
    assert client.post(f"/pairings/activities/{word.id}/seen").status_code == 404


def test_ending_a_pairing_from_its_page(app, client, auth):
    village = create_village()
    pairing = make_pairing(create_child(village=village), create_volunteer(village=village),
                           started_on=local_today() - timedelta(days=30))
    create_user("supervisor", username="dd")
    auth.login("dd")
    bad = client.post(f"/pairings/{pairing.id}/end", data={"ended_on": "", "end_reason": "", "end_note": "孩子随父母外出"})
    assert bad.status_code == 422 and "请填写结束日期" in bad.text and "孩子随父母外出" in bad.text
    done = client.post(f"/pairings/{pairing.id}/end", data={"ended_on": local_today().isoformat(), "end_reason": "moved",
                                                           "end_note": "孩子随父母外出"})
    assert done.status_code == 303
    db.session.refresh(pairing)
    assert (pairing.ended_on, pairing.end_reason, pairing.end_note) == (local_today(), "moved", "孩子随父母外出")
    remarks = client.post(f"/pairings/{pairing.id}/remarks", data={"director_remarks": "志愿者很用心"})
    assert remarks.status_code == 303
    db.session.refresh(pairing)
    assert pairing.director_remarks == "志愿者很用心"


def test_a_volunteer_reaches_her_own_pairings_and_an_ended_one_for_30_days(app):
    from blueprints.volunteers.access import reachable_pairings

    village = create_village()
    her = create_volunteer(village=village, capacity=5)
    other = create_volunteer(name="冯秀梅", village=village)
    today = local_today()
    open_one = make_pairing(create_child("一", village=village), her)
    lately = make_pairing(create_child("二", village=village), her, started_on=today - timedelta(days=90),
                          ended_on=today - timedelta(days=30))
    long_ago = make_pairing(create_child("三", village=village), her, started_on=today - timedelta(days=90),
                            ended_on=today - timedelta(days=31))
    make_pairing(create_child("四", village=village), other)
    reached = set(db.session.scalars(reachable_pairings(her.user, "activities:write").with_only_columns(Pairing.id)))
    assert reached == {open_one.id, lately.id}
    assert long_ago.id not in reached
    # without the grant, nothing: a volunteer's reach is for logging, not for the staff pages
    assert not db.session.scalars(reachable_pairings(her.user, "pairings:read")).all()


def test_department_grants_go_to_their_department_only(app):
    from blueprints.core.access import can, grants_of

    youth = create_user("department", department_code="youth")
    women = create_user("department", department_code="women")
    police = create_user("department", department_code="police")
    for user in (youth, women):
        assert can(user, "pairings:manage") and can(user, "volunteers:manage") and can(user, "children:count")
        assert not can(user, "activities:photos")
    assert not can(police, "pairings:read") and can(police, "children:count")
    assert "pairings:manage" not in grants_of(police)


def test_a_child_leaving_the_roll_ends_her_pairings_and_frees_the_place(app):
    village = create_village()
    volunteer = create_volunteer(village=village, capacity=1)
    child = create_child("王小", village=village)
    pairing = make_pairing(child, volunteer, started_on=local_today() - timedelta(days=20))
    staff = create_user("civil_affairs")
    exit_child(child, "moved_away", local_today(), "", actor=staff)
    db.session.commit()
    db.session.refresh(pairing)
    assert (pairing.ended_on, pairing.end_reason) == (local_today(), "child_exited")
    create_pairing(create_child("李小", village=village), volunteer, values(), actor=staff)  # her place is free
    db.session.commit()


def test_stopping_a_volunteer_ends_her_pairings_and_the_roster_leaves_an_admins_disabling_alone(app, client, auth):
    from blueprints.volunteers.roster import set_active

    village = create_village()
    volunteer = create_volunteer(village=village, capacity=3)
    child = create_child("待重新匹配", village=village, attention="key")
    pairing = make_pairing(child, volunteer, started_on=local_today() - timedelta(days=60))
    staff = create_user("civil_affairs")
    assert set_active(volunteer, False, actor=staff) == 1
    db.session.commit()
    db.session.refresh(pairing)
    assert (pairing.ended_on, pairing.end_reason) == (local_today(), "volunteer_left")
    assert [c.name for c in programme_figures(staff, local_today()).unpaired] == ["待重新匹配"]
    set_active(volunteer, True, actor=staff)
    db.session.commit()
    assert volunteer.user.active  # the roster stopped her login: it starts it again
    # the administrator disables her login; the roster's 停用 and 重新启用 leave it as the admin left it
    volunteer.user.active = False
    db.session.commit()
    set_active(volunteer, False, actor=staff)
    set_active(volunteer, True, actor=staff)
    db.session.commit()
    assert volunteer.active and not volunteer.user.active


def test_dates_a_pairing_cannot_take(app):
    village = create_village()
    staff = create_user("civil_affairs")
    volunteer = create_volunteer(village=village, capacity=5)
    with pytest.raises(PairingError) as ahead:
        create_pairing(create_child(village=village), volunteer,
                       values(started_on=local_today() + timedelta(days=1)), actor=staff)
    assert "不能晚于今天" in ahead.value.errors["started_on"]
    pairing = make_pairing(create_child("有活动", village=village), volunteer, started_on=local_today() - timedelta(days=40))
    activity(pairing, local_today() - timedelta(days=5))
    with pytest.raises(PairingError) as early:
        end_pairing(pairing, local_today() - timedelta(days=10), "other", None, actor=staff)
    assert f"不能早于最后一次活动 {local_today() - timedelta(days=5):%Y-%m-%d}" in early.value.errors["ended_on"]


def test_only_the_childs_keepers_read_the_volunteers_notes_and_only_the_director_clears_the_flag(app, client, auth):
    village = create_village()
    pairing = make_pairing(create_child(village=village), create_volunteer(village=village))
    word = activity(pairing, local_today(), pass_on="孩子的棉衣小了")
    create_user("department", username="tw", department_code="youth")
    create_user("supervisor", username="dd")
    auth.login("tw")
    page = client.get(f"/pairings/{pairing.id}").text
    assert "陪读" in page and "孩子的棉衣小了" not in page
    auth.logout()
    auth.login("dd")
    assert "孩子的棉衣小了" in client.get(f"/pairings/{pairing.id}").text
    assert client.post(f"/pairings/activities/{word.id}/seen").status_code == 403
    db.session.refresh(word)
    assert word.pass_on_seen_at is None


def test_odd_volunteer_ids_are_a_message_not_a_500(app, client, auth):
    village = create_village()
    child = create_child(village=village)
    volunteer = create_volunteer(village=village)
    create_user("civil_affairs", username="mz")
    auth.login("mz")
    for odd in ("²", "9" * 30, "-1", "1.0"):
        response = client.post(f"/pairings/new?child={child.id}", data=new_pairing_form(volunteer, volunteer_id=odd))
        assert response.status_code in (404, 422), odd
    assert count(Pairing) == 0


def test_the_month_in_progress_is_not_shown_as_missed(app, client, auth):
    village = create_village()
    pairing = make_pairing(create_child(village=village), create_volunteer(village=village),
                           started_on=local_today().replace(day=1) - timedelta(days=70))
    create_user("director", username="dir", villages=[village])
    auth.login("dir")
    page = client.get(f"/pairings/{pairing.id}").text
    assert "本月还差 2 次" in page
    last_month = (local_today().replace(day=1) - timedelta(days=1))
    assert f"<td>{last_month.year}年{last_month.month}月</td>" in page.split('class="row-warn"')[1]


def test_the_demo_completes_the_bare_profile_an_upgrade_gave_a_demo_volunteer(app):
    """Migration 0009 gives every volunteer account a bare profile; on a demo database that existed
    before it, the seeder still makes aixinmama1 the 爱心妈妈 with two paired children."""
    from blueprints.auth.demo import seed_demo
    from blueprints.children.demo import seed_demo_children
    from blueprints.volunteers.demo import seed_demo_volunteers
    from blueprints.volunteers.models import Volunteer

    seed_demo("拳铺镇")
    seed_demo_children(60)
    user = db.session.scalar(select(User).where(User.username == "aixinmama1"))
    db.session.add(Volunteer(user_id=user.id, name=user.display_name, kind="caring_mother", capacity=2))
    db.session.commit()
    seed_demo_volunteers("拳铺镇")
    db.session.commit()
    volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
    assert volunteer.village is not None and volunteer.skills
    assert count(Pairing, Pairing.volunteer_id == volunteer.id) == 2


def test_the_home_page_of_those_who_oversee_shows_the_pairing_figures(app, client, auth):
    village = create_village()
    make_pairing(create_child("有结对", village=village), create_volunteer(village=village))
    create_child("没结对的重点", village=village, attention="key")
    create_user("department", username="fl", department_code="women")
    create_user("director", username="dir", villages=[village])
    auth.login("fl")
    home = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", client.get("/").text))
    assert "进行中的结对 1" in home and "未结对的重点儿童 1" in home
    auth.logout()
    auth.login("dir")
    assert "进行中的结对" not in client.get("/").text
