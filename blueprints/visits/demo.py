"""A year of demo history: home visits by each village's demo director (or the supervisor where a
village has none), the supervisor's reviews, and the weekly parent contacts of 留守 children — with
gaps (overdue key children, missed weeks), so every due list, figure and record has something to show.

Deterministic (each child's history comes from a random seeded by its ID number) and idempotent:
every row carries a client_uuid derived from that seed, and rows already stored are not added again.
Inserted in bulk (a few statements for hundreds of children); children.last_visit_on is kept right."""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, time, timedelta

from sqlalchemy import insert, select, update

from blueprints.places.models import Village
from blueprints.auth.models import User
from blueprints.children.models import Child, ChildCategory, ParentContact
from blueprints.core.clock import local_today, to_local
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.auth.staff import directors_by_village
from blueprints.visits.cadence import add_months, end_of_week
from blueprints.visits.models import Visit, VisitNeed
from extensions import db

DEMO_NAMESPACE = uuid.UUID("6f1d3a52-7c1e-4a8e-9a55-2b1f0c3d9e71")
HISTORY_DAYS = 365
CONTACT_WEEKS = range(9, 53)  # the children seeder already logs the last 8 weeks (children/demo.py)

LIVING = ["居住环境整洁，生活用品齐全", "房屋较旧但安全，冬季取暖已落实", "祖辈照料，饮食起居正常",
          "家中较为杂乱，已提醒照护人整理", "新修了厨房，用火用电规范"]
STUDY = ["按时上学，成绩中等", "数学偏弱，已联系老师辅导", "学习积极，作业能按时完成", "注意力不集中，需家校配合"]
HEALTH = ["身体健康", "近期感冒已痊愈", "视力下降，建议到镇卫生院检查", "按时服药，情况稳定"]
MENTAL_NOTES = {"good": "性格开朗，与同学相处融洽", "fair": "话不多，想念在外务工的父母",
                "concern": "情绪低落，近期与照护人有冲突，建议学校心理老师关注"}
REVIEWS = ["记录完整，请继续按月走访", "隐患已记录，请下次走访时核实整改情况", "情况属实，同意跟进措施",
           "请补充与学校沟通的情况", "已阅，注意孩子的情绪变化"]
FOLLOW_UPS = ["联系学校关爱责任人了解在校情况", "协助申请临时救助", "督促照护人整改用电隐患", "联系镇卫健组安排体检"]


def _uuid(*parts) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, ":".join(str(p) for p in parts)))


def _last_visit(rng: random.Random, key: bool, today: date) -> date | None:
    """Where a child's visits stand today: overdue, due this week, visited this month, or later."""
    months = 1 if key else 3
    roll = rng.random()
    if not key and roll < 0.05:
        return None  # registered a year ago and never visited: overdue
    if roll < (0.22 if key else 0.18):
        return today - timedelta(days=months * 31 + rng.randrange(4, 40))  # overdue
    if roll < (0.37 if key else 0.28):
        return add_months(today, -months) + timedelta(days=rng.randrange(0, (end_of_week(today) - today).days + 1))
    if roll < (0.80 if key else 0.55):
        return today - timedelta(days=rng.randrange(0, today.day))  # this month
    return today - timedelta(days=rng.randrange(today.day, today.day + (20 if key else 70)))


def _visit_dates(rng: random.Random, key: bool, today: date) -> list[date]:
    """Oldest first, about a year back from the last visit, on the cadence with some missed turns."""
    last = _last_visit(rng, key, today)
    if last is None:
        return []
    step = 30 if key else 88
    dates = [last]
    while True:
        gap = step + rng.randrange(-6, 7)
        if rng.random() < 0.12:
            gap += step  # a missed turn: the history has gaps too
        day = dates[-1] - timedelta(days=gap)
        if (today - day).days > HISTORY_DAYS:
            break
        dates.append(day)
    return dates[::-1]


def _visit_row(rng: random.Random, child: Child, on: date, visitor_id: int, left_behind: bool,
               reviewer_id: int | None, today: date, client_uuid: str) -> tuple[dict, list[str]]:
    at = datetime.combine(on, time(1 + rng.randrange(0, 8), rng.randrange(0, 60)))  # 9:00–17:00 in 拳铺镇
    mental = rng.choices(["good", "fair", "concern"], weights=[6, 3, 1])[0]
    hazard = rng.random() < 0.08
    follow_up = mental == "concern" or hazard or rng.random() < 0.1
    row = dict(
        client_uuid=client_uuid, child_id=child.id, visitor_id=visitor_id, visited_on=on,
        kind=rng.choices(["home", "phone", "school"], weights=[7, 2, 1])[0],
        living_conditions=rng.choice(LIVING), study=rng.choice(STUDY), health=rng.choice(HEALTH),
        mental_state=mental, mental_note=MENTAL_NOTES[mental],
        hazard_electric=hazard and rng.random() < 0.6, hazard_waters=hazard and rng.random() < 0.4,
        hazard_note="院内电线裸露，靠近坑塘" if hazard else None,
        parents_contacted=(rng.random() < 0.85) if left_behind else None,
        follow_up_needed=follow_up, follow_up_note=rng.choice(FOLLOW_UPS) if follow_up else None,
        recorded_at=at, received_at=at + timedelta(minutes=rng.randrange(1, 600)),
        reviewed_by_id=None, reviewed_at=None, review_comment=None, review_state=None,
    )
    if left_behind and row["parents_contacted"]:
        row["parents_contacted_on"] = on - timedelta(days=rng.randrange(0, 6))
        row["parents_contact_method"] = rng.choice(["phone", "video"])
    else:
        row["parents_contacted_on"] = None
        row["parents_contact_method"] = None
    # The supervisor keeps up: most visits of past months reviewed, a third of this month's
    days = (today - on).days
    if reviewer_id is not None and days > 5 and rng.random() < (0.95 if days > 30 else 0.35):
        row.update(reviewed_by_id=reviewer_id, reviewed_at=at + timedelta(days=rng.randrange(1, 5)),
                   review_comment=rng.choice(REVIEWS), review_state="ok")
    needs = []
    if follow_up or rng.random() < 0.15:
        needs = rng.sample(["living", "education", "psychological", "safety", "medical"], rng.randrange(1, 3))
    return row, needs


def seed_demo_visits(today: date | None = None) -> int:
    """Add the demo history that is missing; return how many visits and parent contacts were added."""
    today = today or local_today()
    villages = list(db.session.scalars(select(Village.id).where(Village.is_demo.is_(True))))
    supervisor = db.session.scalar(select(User).where(User.is_demo.is_(True), User.role == "supervisor",
                                                      User.active.is_(True)).order_by(User.id))
    civil_affairs = db.session.scalar(select(User.id).where(User.is_demo.is_(True), User.role == "civil_affairs",
                                                            User.active.is_(True)).order_by(User.id))
    directors = directors_by_village(villages)
    if not villages or (supervisor is None and not any(directors.values())):
        return 0
    children = list(db.session.scalars(
        select(Child).where(Child.residence_village_id.in_(villages), Child.status.in_(CURRENT_STATUSES))
        .order_by(Child.id)))
    left_behind = set(db.session.scalars(select(ChildCategory.child_id).where(ChildCategory.category == "left_behind")))
    stored_visits = set(db.session.scalars(select(Visit.client_uuid)))
    stored_contacts = set(db.session.scalars(select(ParentContact.client_uuid)
                                             .where(ParentContact.client_uuid.is_not(None))))

    visits, visit_needs, contacts, children_rows = [], [], [], []
    for child in children:
        seed = child.id_number or child.archive_no
        rng = random.Random(f"guanai-demo-visits-{seed}")
        key = child.attention_level == "key"
        is_left_behind = child.id in left_behind
        staff = [u.id for u in directors.get(child.residence_village_id, [])]
        if not staff and supervisor is None:
            continue  # nobody to have visited this village
        dates = _visit_dates(rng, key, today)
        last = child.last_visit_on
        for n, on in enumerate(dates):
            visitor = rng.choice(staff) if staff and (supervisor is None or rng.random() < 0.85) else supervisor.id
            client_uuid = _uuid("visit", seed, n)
            # nobody reviews her own visit: civil affairs reviews the supervisor's
            reviewer = civil_affairs if supervisor and visitor == supervisor.id else (supervisor and supervisor.id)
            row, needs = _visit_row(rng, child, on, visitor, is_left_behind, reviewer, today, client_uuid)
            if client_uuid in stored_visits:
                continue
            visits.append(row)
            visit_needs.append(needs)
            last = on if last is None or on > last else last
        for week in CONTACT_WEEKS if is_left_behind else ():
            # a few children lose touch for weeks on end; most miss a week now and then
            if rng.random() < (0.35 if seed[-1] in "05" else 0.12):
                continue
            client_uuid = _uuid("contact", seed, week)
            on = today - timedelta(days=7 * week + rng.randrange(0, 3))
            who, method = rng.choice(["父亲", "母亲"]), rng.choice(["phone", "video", "video"])
            if client_uuid not in stored_contacts:
                contacts.append(dict(client_uuid=client_uuid, child_id=child.id, contacted_on=on, who=who,
                                     method=method, recorded_at=datetime.combine(on, time(12))))
        # Registered before the history began (the survey of a year ago), so that past months count it.
        registered = datetime.combine(today - timedelta(days=HISTORY_DAYS + 20 + rng.randrange(0, 30)), time(2))
        created_at = registered if to_local(child.created_at).date() > registered.date() else child.created_at
        if last != child.last_visit_on or created_at != child.created_at:
            children_rows.append({"id": child.id, "last_visit_on": last, "created_at": created_at})

    if visits:
        ids = db.session.scalars(insert(Visit).returning(Visit.id, sort_by_parameter_order=True), visits).all()
        needs_rows = [dict(visit_id=visit_id, category=code) for visit_id, codes in zip(ids, visit_needs)
                      for code in codes]
        if needs_rows:
            db.session.execute(insert(VisitNeed), needs_rows)
    if contacts:
        db.session.execute(insert(ParentContact), contacts)
    if children_rows:  # a bulk UPDATE by primary key: one executemany
        db.session.execute(update(Child), children_rows)
    db.session.expire_all()  # the ORM objects loaded above do not see the bulk writes
    return len(visits) + len(contacts)


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py): a year of visits, reviews and parent contacts."""
    return {"走访和亲情联系": seed_demo_visits()}
