"""In-app notices: the bell in the top bar counts the unread ones and changes as notices come and are
read; the list (unread first), one read by htmx or on the way to what it is about, all read; nobody
reads another's; and the daily reminder of measures due within 3 days or overdue, told once to
the measure's owner, naming the child only to one who reaches her plan."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from blueprints.care import reminders
from blueprints.core.jobs import huey
from blueprints.notices.models import Notice
from blueprints.notices.services import notify
from extensions import db
from tests.factories import PASSWORD, create_child, create_measure, create_need, create_user, create_village

TODAY = date(2026, 11, 20)


def login(client, username: str):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def bell(client, url: str = "/") -> str | None:
    """The unread count the bell shows on a page (None: no count shown)."""
    body = client.get(url).get_data(as_text=True)
    assert 'id="notice-bell"' in body
    found = re.search(r'class="bell-count" data-unread="(\d+)"', body)
    return found[1] if found else None


def notices_of(user) -> list[Notice]:
    db.session.expire_all()
    return db.session.scalars(select(Notice).where(Notice.user_id == user.id).order_by(Notice.id)).all()


@pytest.fixture
def people(app):
    village = create_village("前王庄村")
    return {"village": village,
            "director": create_user("director", "zhuren_n", villages=[village]),
            "other": create_user("director", "zhuren_m", villages=[create_village("后王庄村")]),
            "police": create_user("department", "paichusuo_n", department_code="police"),
            "child": create_child("王小雨", village=village)}


def test_the_bell_counts_unread_notices_and_changes_after_notify_and_after_reading(client, people):
    director = people["director"]
    login(client, "zhuren_n")
    assert bell(client) is None  # none: the bell without a count
    notify([director], "referral_returned", "王小雨 的转介已办结", key="referral_returned:1", url="/notices")
    notify([director], "measure_due", "王小雨 的帮扶措施将于 2026-11-22 到期", key="measure_due:1", url="/notices")
    db.session.commit()
    assert bell(client) == "2" and bell(client, "/notices") == "2"

    first = notices_of(director)[0]
    response = client.post(f"/notices/{first.id}/read", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert f'id="notice-{first.id}"' in body and "已读" in body and "标为已读" not in body
    assert 'hx-swap-oob="true"' in body and 'data-unread="1"' in body  # the bell, replaced where it stands
    assert notices_of(director)[0].read_at is not None
    assert bell(client) == "1"

    response = client.post("/notices/read-all")
    assert response.status_code == 303 and response.location.endswith("/notices")
    assert bell(client) is None and all(n.read_at for n in notices_of(director))


def test_notify_tells_each_user_once_per_key(app, people):
    director = people["director"]
    assert len(notify([director, director], "urgent_flag", "紧急情况", key="urgent_flag:1")) == 1
    db.session.commit()
    assert notify([director], "urgent_flag", "紧急情况", key="urgent_flag:1") == []
    assert len(notices_of(director)) == 1


def test_the_list_shows_unread_first_then_newest_and_opens_a_notice_on_the_way(client, people):
    director = people["director"]
    old, new, read = (notify([director], "measure_due", text, key=key, url=url)[0]
                      for text, key, url in (("旧的未读", "a", "/children/"), ("新的未读", "b", None),
                                             ("已读的", "c", "https://example.com/")))
    old.created_at, new.created_at, read.created_at = (datetime(2026, 11, day, 8) for day in (1, 3, 5))
    read.read_at = datetime(2026, 11, 6, 8)
    db.session.commit()
    login(client, "zhuren_n")
    body = client.get("/notices").get_data(as_text=True)
    assert body.index("新的未读") < body.index("旧的未读") < body.index("已读的")
    assert "未读 <strong id=\"notices-unread\">2</strong>" in body

    response = client.post(f"/notices/{old.id}/read", data={"open": "1"})
    assert response.status_code == 303 and response.location == "/children/"
    assert notices_of(director)[0].read_at is not None
    # a link that is not a path of this site is never followed
    response = client.post(f"/notices/{read.id}/read", data={"open": "1"})
    assert response.status_code == 303 and response.location.endswith("/notices")


def test_nobody_reads_or_marks_another_users_notices(client, people):
    mine = notify([people["director"]], "urgent_flag", "王小雨：紧急情况", key="urgent_flag:9")[0]
    db.session.commit()
    login(client, "zhuren_m")
    assert "王小雨" not in client.get("/notices").get_data(as_text=True)
    assert client.post(f"/notices/{mine.id}/read").status_code == 404
    assert client.post("/notices/read-all").status_code == 303
    assert notices_of(people["director"])[0].read_at is None
    client.post("/logout")
    assert client.get("/notices").status_code in (302, 303, 401)


# --- the daily reminder of measures due --------------------------------------------------------


def test_measures_due_within_3_days_or_overdue_are_told_once_to_their_owner(app, people):
    director, child = people["director"], people["child"]
    need = create_need(child)
    due = create_measure(need, action="加装护栏", due_on=TODAY + timedelta(days=3), created_by_id=director.id)
    overdue = create_measure(need, action="走访祖母", due_on=TODAY - timedelta(days=1), state="in_progress",
                             created_by_id=director.id)
    later = create_measure(need, action="以后再说", due_on=TODAY + timedelta(days=4), created_by_id=director.id)
    create_measure(need, action="已经做完", due_on=TODAY - timedelta(days=5), state="done", created_by_id=director.id)
    create_measure(need, action="没人记下", due_on=TODAY)  # no owner account, no creator: nobody to tell
    assert reminders.measures_due(TODAY) == 2
    db.session.commit()
    told = {(n.kind, n.key, n.text, n.url, n.child_id) for n in notices_of(director)}
    assert told == {
        ("measure_due", f"measure_due:{due.id}", "王小雨 的帮扶措施“加装护栏”将于 2026-11-23 到期",
         f"/children/{child.id}/plan", child.id),
        ("measure_overdue", f"measure_overdue:{overdue.id}", "王小雨 的帮扶措施“走访祖母”已于 2026-11-19 到期",
         f"/children/{child.id}/plan", child.id),
    }
    assert reminders.measures_due(TODAY) == 0  # the next day's run tells nothing twice
    # four days on: the due one is overdue (told once more, as such), the later one comes due
    assert reminders.measures_due(TODAY + timedelta(days=4)) == 2
    db.session.commit()
    assert sorted(n.key for n in notices_of(director)) == sorted([
        f"measure_due:{due.id}", f"measure_overdue:{overdue.id}", f"measure_overdue:{due.id}", f"measure_due:{later.id}"])


def test_the_owner_account_is_told_and_one_who_does_not_reach_the_plan_reads_no_name(app, people):
    director, police, child = people["director"], people["police"], people["child"]
    need = create_need(child)
    create_measure(need, action="排查水塘", due_on=TODAY, owner_user_id=police.id, created_by_id=director.id)
    moved = create_measure(need, action="家访", due_on=TODAY, created_by_id=people["other"].id)
    assert reminders.measures_due(TODAY) == 2
    db.session.commit()
    assert notices_of(director) == []  # the owner's account is told, not the writer's
    [to_police] = notices_of(police)
    assert to_police.text == "您负责的一项帮扶措施将于 2026-11-20 到期，请向交办人了解"
    assert to_police.url is None and to_police.child_id is None and "王小雨" not in to_police.text
    [to_other] = notices_of(people["other"])  # a director of another village since
    assert "王小雨" not in to_other.text and to_other.key == f"measure_due:{moved.id}"


def test_an_inactive_owner_falls_back_to_the_measures_writer(app, people):
    director = people["director"]
    gone = create_user("director", "zhuren_gone", villages=[people["village"]], active=False)
    create_measure(create_need(people["child"]), due_on=TODAY, owner_user_id=gone.id, created_by_id=director.id)
    assert reminders.measures_due(TODAY) == 1
    assert notices_of(gone) == [] and len(notices_of(director)) == 1


def test_a_child_who_has_left_the_roll_brings_no_reminder(app, people):
    director = people["director"]
    create_measure(create_need(people["child"]), due_on=TODAY, created_by_id=director.id)
    people["child"].status = "exited"
    db.session.commit()
    assert reminders.measures_due(TODAY) == 0 and notices_of(director) == []


def test_the_reminder_runs_daily_in_the_background(app, people, monkeypatch):
    from blueprints.core import clock

    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 11, 20, 0, 10, tzinfo=clock.LOCAL_TZ))
    create_measure(create_need(people["child"]), due_on=TODAY + timedelta(days=1),
                   created_by_id=people["director"].id)
    task = next(t for t in huey._registry._periodic_tasks if t.__name__ == "notices.measures_due")()
    assert task.validate_datetime(datetime(2026, 11, 19, 16, 10))  # 00:10 in Beijing, in huey's UTC
    assert not task.validate_datetime(datetime(2026, 11, 19, 0, 10))
    reminders.measures_due_daily.call_local()  # the periodic task's body: commits
    db.session.remove()
    assert db.session.scalar(select(func.count(Notice.id))) == 1


def test_a_notice_no_longer_names_a_child_the_user_has_stopped_reaching(client, people, monkeypatch):
    """A department reaches a referred child for 30 days after returning the referral: after that its
    notices about her say what they were, not whom (the row and the htmx answer alike)."""
    from blueprints.core import clock
    from tests.factories import create_referral

    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 11, 20, 10, tzinfo=clock.LOCAL_TZ))
    child = people["child"]
    referral = create_referral(create_measure(create_need(child)), "police", by=people["director"], state="done",
                               closed_on=date(2026, 10, 25), return_note="已办")
    received = notify([people["police"]], "referral_received", f"收到转介：{child.name}，安全：看水塘",
                      key=f"referral_received:{referral.id}", url=f"/referrals/{referral.id}", child_id=child.id)[0]
    db.session.commit()
    login(client, "paichusuo_n")
    assert "王小雨" in client.get("/notices").get_data(as_text=True)  # 26 days after: still hers to answer about

    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 11, 25, 10, tzinfo=clock.LOCAL_TZ))
    assert client.get(f"/children/{child.id}").status_code == 404
    body = client.get("/notices").get_data(as_text=True)
    assert "王小雨" not in body and "看水塘" not in body and "收到转介" in body
    row = client.post(f"/notices/{received.id}/read", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "王小雨" not in row and "收到转介" in row
    # the link still opens the department's own record of the referral (which no longer shows her)
    opened = client.post(f"/notices/{received.id}/read", data={"open": "1"})
    assert opened.status_code == 303 and opened.location == f"/referrals/{referral.id}"
    # a notice about no child, or one she still reaches, reads as written
    login(client, "zhuren_n")
    notify([people["director"]], "referral_returned", f"镇派出所已办结转介：{child.name}", key="referral_returned:x",
           child_id=child.id)
    db.session.commit()
    assert "镇派出所已办结转介：王小雨" in client.get("/notices").get_data(as_text=True)


def test_the_police_read_the_child_an_urgent_flag_names(client, people):
    """The police read every urgent flag's page (its child's name and village) without reaching her
    record: the flag's notice keeps her name for them."""
    from tests.factories import create_urgent_flag

    child = people["child"]
    flag = create_urgent_flag(child, by=people["director"])
    notify([people["police"]], "urgent_flag", f"紧急情况：{child.name}（前王庄村），请立即处置",
           key=f"urgent_flag:{flag.id}", url=f"/care/urgent/{flag.id}", child_id=child.id)
    db.session.commit()
    login(client, "paichusuo_n")
    assert client.get(f"/children/{child.id}").status_code == 404
    assert "王小雨" in client.get(f"/care/urgent/{flag.id}").get_data(as_text=True)
    assert "紧急情况：王小雨（前王庄村）" in client.get("/notices").get_data(as_text=True)
    # acted on 31 days ago, the flag is no longer theirs (care/access.py): nor her name
    flag.action_at, flag.action_taken = datetime(2026, 10, 1), "已送回祖母家"
    db.session.commit()
    assert client.get(f"/care/urgent/{flag.id}").status_code == 404
    body = client.get("/notices").get_data(as_text=True)
    assert "王小雨" not in body and "紧急情况" in body
