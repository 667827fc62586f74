"""A child leaving the roll closes her care here (care/exits.py): open needs and unfinished measures
close with the reason, a referral a department holds is withdrawn and the department told; it still
reads the child for 30 days from the exit, as after any return, then loses her."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from blueprints.care.models import Measure, Need, Referral
from blueprints.children import services
from blueprints.core import clock
from blueprints.notices.models import Notice
from extensions import db
from tests.factories import (PASSWORD, create_child, create_measure, create_need, create_referral, create_user,
                             create_village)

TODAY = date(2026, 11, 20)


def test_leaving_the_roll_closes_her_plan_and_withdraws_the_referral(app, client, monkeypatch):
    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 11, 20, 10, tzinfo=clock.LOCAL_TZ))
    village = create_village("前王庄村")
    director = create_user("director", "zhuren_x", villages=[village])
    police = create_user("department", "paichusuo_x", department_code="police")
    child = create_child("龚小雨", village=village)
    need = create_need(child)
    held = create_measure(need, state="in_progress")
    done = create_measure(need, action="已经做完", state="done", outcome="装好了")
    met = create_need(child, category="education", state="met")
    referral = create_referral(held, "police", by=director, state="accepted")
    services.exit_child(child, "moved_away", TODAY, actor=director)
    db.session.commit()
    db.session.expire_all()

    why = "儿童已于 2026-11-20 退出名册（迁出本镇）"
    assert (db.session.get(Need, need.id).state, db.session.get(Need, need.id).resolved_note) == ("closed", why)
    assert db.session.get(Need, met.id).state == "met"  # what was met stays met
    assert (db.session.get(Measure, held.id).state, db.session.get(Measure, held.id).closed_reason) == ("closed", why)
    assert db.session.get(Measure, done.id).state == "done"
    withdrawn = db.session.get(Referral, referral.id)
    assert (withdrawn.state, withdrawn.closed_on, withdrawn.closed_by_id) == ("withdrawn", TODAY, director.id)
    [told] = db.session.scalars(select(Notice).where(Notice.user_id == police.id)).all()
    assert told.kind == "referral_withdrawn" and "龚小雨" in told.text and "迁出本镇" in told.text

    client.post("/login", data={"username": "paichusuo_x", "password": PASSWORD})
    page = client.get(f"/referrals/{referral.id}")
    assert page.status_code == 200 and "已撤回" in page.get_data(as_text=True)
    assert client.get(f"/children/{child.id}").status_code == 200  # 30 days to answer for what it did
    monkeypatch.setattr(clock, "local_now", lambda: datetime(2026, 12, 21, 10, tzinfo=clock.LOCAL_TZ))
    assert client.get(f"/children/{child.id}").status_code == 404
