"""Demo data of the care area, in zhuren1's village (前王庄村), made through the area's own services
(their rules and notices hold for it):
- a recent visit of zhuren1's whose findings (two needs and 需要跟进) wait on its page to be confirmed;
- a care plan whose safety measure is referred to 派出所 (new in paichusuo's inbox, on its bell);
- a legal-aid measure 司法所 has accepted and acted on, and a parents' job measure 人社所 returned
  done, its need met;
- a measure of zhuren1's own already overdue (her home card and the bell);
- a guardianship assessment found 部分缺失, and a child flagged 紧急 (at the top of civil affairs'
  and the police's homes);
- a case conference with its decisions; a visit the supervisor sent back with a question.

Idempotent: it adds nothing once any care plan exists."""
from __future__ import annotations

import uuid
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from blueprints.auth.models import User
from blueprints.care.assessments import active_items, record_assessment
from blueprints.care.conferences import hold_conference
from blueprints.care.models import Need
from blueprints.care.plan import add_measure, add_need, confirm_visit_need, resolve_need, update_measure
from blueprints.care.referrals import accept_referral, record_action, refer_measure, return_referral
from blueprints.care.urgent import flag_child
from blueprints.children.models import Child
from blueprints.core.clock import local_today
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.places.models import Department, Village
from blueprints.visits.models import Visit
from blueprints.visits.review import return_visit
from blueprints.visits.services import record_visit
from extensions import db

NAMESPACE = uuid.UUID("5b0e4c1a-8f3d-4e27-9a61-2d7c3b9e0f14")
VILLAGE = "前王庄村"


def seed_demo_care() -> dict[str, int]:
    created = {"帮扶需求": 0, "转介": 0, "个案会商": 0}
    if db.session.scalar(select(func.count(Need.id))):
        return created
    users = {u.username: u for u in db.session.scalars(select(User).where(
        User.username.in_(("zhuren1", "dudao", "minzheng", "paichusuo", "sifasuo", "renshe")),
        User.is_demo.is_(True)))}
    director, supervisor, office = users.get("zhuren1"), users.get("dudao"), users.get("minzheng")
    police, justice, jobs = users.get("paichusuo"), users.get("sifasuo"), users.get("renshe")
    if None in (director, supervisor, office, police, justice, jobs):
        return created
    children = db.session.scalars(
        select(Child).join(Village, Child.residence_village_id == Village.id)
        .where(Village.name == VILLAGE, Child.status.in_(CURRENT_STATUSES)).order_by(Child.id)).all()
    if len(children) < 6:
        return created
    today = local_today()
    departments = {d.code: d.id for d in db.session.scalars(select(Department))}
    # the services name pages in their notices: build those links as the web app would
    with current_app.test_request_context():
        a, b, c, d, e, f = children[:6]

        # a. last week's visit: a pond by the house; safety confirmed and referred to the police
        # (sent: new in paichusuo's inbox); education and the follow-up still wait on the visit page
        visit = _visit(a, director, today - timedelta(days=6), needs=["safety", "education"],
                       hazard_waters=True, follow_up_needed=True, follow_up_note="屋后水塘无护栏，孩子常去玩水",
                       needs_note="成绩下滑，作业常不完成")
        need, _ = confirm_visit_need(visit, "safety", actor=director)
        db.session.flush()
        measure = add_measure(need, {"action": "督促监护人在水塘边加装护栏并设警示牌", "department_id": None,
                                     "owner_name": director.display_name, "due_on": today + timedelta(days=10)},
                              actor=director)
        db.session.flush()
        refer_measure(measure, {"department_id": departments["police"],
                                "note": "请派出所协助督促监护人加装护栏，并在暑期巡查水塘"}, actor=director)
        created["帮扶需求"] += 1
        created["转介"] += 1

        # b. a legal need: 司法所 accepted and has acted
        need = add_need(b, {"category": "legal", "description": "父亲拖欠抚养费，母亲不知如何申请法律援助"},
                        actor=director)
        db.session.flush()
        measure = add_measure(need, {"action": "协助母亲申请法律援助，追讨抚养费", "department_id": None,
                                     "owner_name": "孙丽", "due_on": today + timedelta(days=20)}, actor=director)
        db.session.flush()
        referral = refer_measure(measure, {"department_id": departments["justice"], "note": "请司法所提供法律援助"},
                                 actor=director)
        accept_referral(referral, actor=justice)
        record_action(referral, {"acted_on": today - timedelta(days=1),
                                 "text": "已电话联系孩子母亲，约定下周三到司法所办理法律援助申请"}, [], actor=justice)
        created["帮扶需求"] += 1
        created["转介"] += 1

        # c. the parents' jobs (§14): 人社所 returned it done, the need met
        need = add_need(c, {"category": "employment",
                            "description": "父亲返乡后一直没有工作，家里只靠母亲打零工"}, actor=director)
        db.session.flush()
        measure = add_measure(need, {"action": "推荐父亲参加镇里的电工技能培训", "department_id": None,
                                     "owner_name": "何平", "due_on": today + timedelta(days=30)}, actor=director)
        db.session.flush()
        referral = refer_measure(measure, {"department_id": departments["hr"], "note": "请人社所推荐技能培训和岗位"},
                                 actor=director)
        accept_referral(referral, actor=jobs)
        return_referral(referral, {"outcome": "done", "note": "父亲已报名电工培训，结业后推荐到镇工业园就业"},
                        actor=jobs)
        db.session.flush()
        resolve_need(need, {"resolution": "met", "note": "父亲已参加培训，家庭收入有望稳定"}, actor=director)
        created["帮扶需求"] += 1
        created["转介"] += 1

        # d. zhuren1's own measure, past its date (her home card, the reminder)
        need = add_need(d, {"category": "living", "description": "冬天没有厚棉被，床铺潮湿"}, actor=director)
        db.session.flush()
        measure = add_measure(need, {"action": "联系慈善超市送棉被和褥子", "department_id": None,
                                     "owner_name": director.display_name, "due_on": today}, actor=director)
        db.session.flush()
        update_measure(measure, {"action": measure.action, "department_id": None, "owner_name": measure.owner_name,
                                 "due_on": today, "state": "in_progress"}, actor=director)
        measure.due_on = today - timedelta(days=3)  # written down in time, now overdue
        created["帮扶需求"] += 1

        # e. a guardianship assessment (部分缺失) and, for f, an urgent flag
        items = active_items()  # the migration's defaults (none in a database made without migrations)
        if items:
            answers = {item.id: (0 if i in (1, 6) else 1 if i % 3 == 0 else 2) for i, item in enumerate(items)}
            record_assessment(e, {"items": items, "answers": answers, "assessed_on": today - timedelta(days=2),
                                  "note": "祖父母年迈，对孩子的学习和情绪照顾不到"}, actor=director)
        flag_child(f, {"situation": "孩子父母外出，祖母住院，孩子独自在家已两天，无人照料"}, actor=director)

        # b again: a conference on the legal case, its decisions measures with owners
        hold_conference(b, {"held_on": today - timedelta(days=1), "place": "镇民政办公室",
                            "attendees": "镇民政组 王丽；镇司法所 孙丽；儿童主任 张秀英",
                            "summary": "父亲长期拖欠抚养费，母亲收入低。司法所已受理法律援助；学校关注孩子情绪。",
                            "department_ids": [departments["civil_affairs"], departments["justice"]]},
                        [{"category": "psychological", "action": "每两周与孩子谈心一次", "department_id": None,
                          "owner_name": director.display_name, "due_on": today + timedelta(days=14)}],
                        actor=office)
        created["个案会商"] += 1

        # a visit the supervisor sent back with a question (on zhuren1's due list and bell)
        asked = db.session.scalar(select(Visit).where(Visit.visitor_id == director.id, Visit.review_state.is_(None),
                                                      Visit.superseded.is_(False), Visit.id != visit.id)
                                  .order_by(Visit.visited_on.desc()))
        if asked is not None:
            return_visit(asked, "记录里写孩子情绪低落，具体表现是什么？和监护人谈过吗？", actor=supervisor)
    db.session.commit()
    return created


def _visit(child: Child, director: User, on, needs: list[str], **values) -> Visit:
    values = {"visited_on": on, "kind": "home", "living_conditions": "住房较旧，屋后有水塘",
              "mental_state": "fair", **values}
    client_uuid = str(uuid.uuid5(NAMESPACE, f"visit-{child.id}"))
    visit = record_visit(child, values, needs, client_uuid, actor=director).record
    db.session.flush()
    return visit


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py)."""
    return seed_demo_care()
