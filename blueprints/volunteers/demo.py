"""Demo volunteers and 爱心妈妈 (is_demo accounts, password as every demo account's), the
organisations they come from, pairings with the demo children (key children first) and months of
activity logs — some pairings behind their promise, a few words passed on to the director unread.

Deterministic and idempotent: a volunteer who has a profile is left as she is; activities carry
fixed client_uuids (uuid5), so running it again adds nothing."""
from __future__ import annotations

import random
import uuid
from datetime import date, timedelta

from sqlalchemy import select

from blueprints.auth.demo import DEMO_PASSWORD
from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import local_today
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.places.models import Village
from blueprints.volunteers.models import (Organisation, Pairing, PairingActivity, PairingNeed, Volunteer,
                                          VolunteerSkill)
from blueprints.volunteers.pairings import month_bounds
from extensions import db

NAMESPACE = uuid.UUID("5b0f3a52-8d1e-4c7e-9a53-6f1c2b7d9e10")

# (username, name, kind, organisation index, village index, skills, capacity, programme, pairings)
VOLUNTEERS = [
    ("aixinmama1", "周桂兰", "caring_mother", 1, 0, ("life_care", "psychological", "reading"), 3, "caring_mother", 2),
    ("zhiyuan1", "孙晓雨", "youth", 0, 0, ("tutoring", "reading", "recreation"), 2, "qianshou", 1),
    ("aixinmama2", "冯秀梅", "caring_mother", 1, 1, ("life_care", "psychological"), 2, "caring_mother", 1),
    ("jiaoshi1", "何志刚", "teacher", 3, 2, ("tutoring", "safety"), 3, "red_scarf", 2),
    ("shegong1", "梁晓静", "social_org", 2, 5, ("psychological", "medical"), 2, "hope_room", 1),
    ("zhiyuan2", "罗一帆", "youth", 0, 3, ("recreation", "safety", "reading"), 2, "qianshou", 1),
]


def organisations(org_name: str) -> list[tuple[str, str, int | None]]:
    """(name, kind, village index)."""
    return [
        (f"{org_name}青年志愿者服务队", "social_org", None),
        (f"{org_name}妇联爱心妈妈服务队", "social_org", None),
        ("阳光社会工作服务中心", "social_org", None),
        (f"{org_name}中心小学教师志愿服务队", "unit", 0),
        ("前王庄村儿童之家", "service_site", 0),
    ]


NOTES = {
    "companionship": ["陪孩子写完作业，一起读了绘本", "周末陪孩子去镇上图书室", "陪孩子包饺子，聊了学校里的事"],
    "tutoring": ["辅导数学应用题，错题订正了一遍", "检查语文背诵，讲了作文开头怎么写", "复习英语单词，听写全对"],
    "life_help": ["帮孩子整理书包和衣物，换了冬被", "带孩子理发，买了棉鞋", "帮奶奶给孩子的房间换了灯泡"],
    "comfort": ["孩子想妈妈，陪她给妈妈打了视频电话", "聊了和同学闹别扭的事，孩子情绪好多了"],
    "visit": ["上门看望，和奶奶聊了孩子最近的情况", "上门送了学习用品"],
    "phone": ["电话问孩子期中考试情况", "电话提醒孩子放学路上注意安全"],
}
MOODS = ["情绪不错，话比上次多", "有点没精神，说晚上睡得晚", "很开心，主动讲学校的事", "想爸爸妈妈，哭了一会儿"]
PASS_ON = ["孩子说奶奶最近腿疼，做饭有困难，请儿童主任上门看看", "孩子的棉衣太小了，需要冬衣",
           "孩子说有同学欺负他，请和学校沟通一下"]


def _months(start: date, today: date):
    """(first, last) of each month from `start`'s to `today`'s."""
    first = start.replace(day=1)
    while first <= today:
        yield month_bounds(first)
        first = (first + timedelta(days=32)).replace(day=1)


def seed_demo_volunteers(org_name: str, today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    created = {"组织": 0, "志愿者": 0, "结对": 0, "活动记录": 0}
    villages = list(db.session.scalars(select(Village).where(Village.is_demo.is_(True)).order_by(Village.id)))
    if not villages:
        return created
    orgs = {o.name: o for o in db.session.scalars(select(Organisation))}
    org_list = []
    for name, kind, village_index in organisations(org_name):
        if name not in orgs:
            orgs[name] = Organisation(name=name, kind=kind, is_demo=True,
                                      village=villages[village_index] if village_index is not None else None)
            db.session.add(orgs[name])
            created["组织"] += 1
        org_list.append(orgs[name])
    db.session.flush()

    users = {u.username: u for u in db.session.scalars(select(User).where(User.role == "volunteer"))}
    paired = set(db.session.scalars(select(Pairing.child_id).where(Pairing.ended_on.is_(None))))
    stored = set(db.session.scalars(select(PairingActivity.client_uuid)))
    school_age = today - timedelta(days=6 * 365)  # the goals speak of homework
    for username, name, kind, org_index, village_index, skills, capacity, programme, count in VOLUNTEERS:
        user = users.get(username)
        if user is None:
            user = User(username=username, display_name=name, role="volunteer", volunteer_kind=kind, is_demo=True)
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        if not user.is_demo:
            continue  # a real account: left as it is
        volunteer = db.session.scalar(select(Volunteer).where(Volunteer.user_id == user.id))
        if volunteer is not None and (volunteer.village_id is not None or volunteer.skill_rows):
            continue  # already set up
        # new, or the bare profile migration 0009 gave a demo account that existed before it
        village = villages[village_index % len(villages)]
        volunteer = volunteer or Volunteer(user_id=user.id, name=user.display_name, kind=kind)
        volunteer.kind, volunteer.organisation, volunteer.village, volunteer.capacity = \
            kind, org_list[org_index], village, capacity
        volunteer.phone = f"1390530{1000 + village_index * 7:04d}"
        volunteer.skill_rows = [VolunteerSkill(skill=s) for s in skills]
        user.volunteer_kind = kind
        db.session.add(volunteer)
        db.session.flush()
        created["志愿者"] += 1
        children = db.session.scalars(
            select(Child).where(Child.residence_village_id == village.id, Child.status.in_(CURRENT_STATUSES),
                                Child.birth_date <= school_age, Child.id.not_in(paired) if paired else True)
            .order_by(Child.attention_level != "key", Child.id).limit(count)).all()
        for index, child in enumerate(children):
            rng = random.Random(f"guanai-demo-pairing-{username}-{child.id}")
            started = (today - timedelta(days=rng.randrange(100, 200)))
            pairing = Pairing(programme=programme, child_id=child.id, volunteer_id=volunteer.id, started_on=started,
                              planned_end_on=date(started.year + 1, started.month, 1),
                              goals=("每月上门陪伴，帮孩子养成按时完成作业的习惯；多和孩子聊天，"
                                     "让孩子感到有人关心" if kind == "caring_mother" else
                                     "每月辅导功课，期末主科成绩提高；带孩子参加文体活动，开朗起来"),
                              times_per_month=2, need_rows=[PairingNeed(category=n) for n in ("education", "psychological")])
            db.session.add(pairing)
            db.session.flush()
            paired.add(child.id)
            created["结对"] += 1
            behind = index == 1 or username == "zhiyuan2"  # some pairings fall short of their promise
            for first, last in _months(started, today):
                if first < started:
                    first = started
                last = min(last, today)
                times = rng.choice([0, 1]) if behind else rng.choice([2, 2, 3])
                span = (last - first).days
                for n in range(times):
                    done_on = first + timedelta(days=rng.randrange(0, span + 1))
                    client_uuid = str(uuid.uuid5(NAMESPACE, f"{username}-{child.id}-{done_on}-{n}"))
                    if client_uuid in stored:
                        continue
                    stored.add(client_uuid)
                    activity_kind = rng.choice(list(NOTES))
                    recent = (today - done_on).days < 20
                    db.session.add(PairingActivity(
                        client_uuid=client_uuid, pairing_id=pairing.id, child_id=child.id, recorded_by_id=user.id,
                        done_on=done_on, minutes=rng.choice([30, 45, 60, 90, 120]), kind=activity_kind,
                        note=rng.choice(NOTES[activity_kind]), mood=rng.choice(MOODS),
                        pass_on=rng.choice(PASS_ON) if recent and rng.random() < 0.5 else None))
                    created["活动记录"] += 1
    db.session.flush()
    return created


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py)."""
    return seed_demo_volunteers(options["org_name"])
