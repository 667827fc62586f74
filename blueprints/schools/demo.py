"""Demo data of the schools area, at xuexiao1's school (中心小学), made through the area's own
services (their rules hold for it): responsible carers for some of its key pupils (the others show
on the coordinator's home as without one), an open dropout with its follow-up steps, a pupil back
at school whose weekly checks show a relapse, contacts with parents this month and a school home
visit that found a hazard, this term's screenings (one 高风险 without follow-up for ten days: it
shows on civil affairs' home too), a fee waiver and a weekend care place.

Idempotent: it adds nothing once the school has a carer."""
from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date, timedelta

from sqlalchemy import exists, func, or_, select

from blueprints.auth.models import User
from blueprints.children.models import Child, ChildCategory
from blueprints.core.clock import local_today
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.schools.classes import class_choices, set_teacher_class
from blueprints.schools.carers import DIFFICULT, add_holiday_care, name_carer, set_fee_waiver
from blueprints.schools.contacts import parse_contact, record_contact
from blueprints.schools.dropouts import add_step, monday_of, record_attendance, record_return, report_dropout
from blueprints.schools.models import ResponsibleCarer
from blueprints.schools.screenings import active_instruments, record_followup, record_screening
from blueprints.schools.terms import term_of
from extensions import db

NAMESPACE = uuid.UUID("0c6f1d7e-2b4a-4f0e-8d5c-3a9b7e21f4d6")
CARER_NAMES = ["王红梅", "李建军", "赵丽", "孙伟"]


def seed_demo_schools(today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    created = {"关爱责任人": 0, "辍学记录": 0, "家校联系": 0, "心理筛查": 0}
    staff = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(("xuexiao1", "banzhuren1", "xinli1")), User.is_demo.is_(True)))}
    coordinator, teacher, counsellor = (staff.get(n) for n in ("xuexiao1", "banzhuren1", "xinli1"))
    if coordinator is None or coordinator.school_id is None:
        return created
    school_id = coordinator.school_id
    if db.session.scalar(select(func.count()).select_from(ResponsibleCarer)
                         .where(ResponsibleCarer.school_id == school_id)):
        return created
    pupils = db.session.scalars(
        select(Child).where(Child.school_id == school_id, Child.status.in_(CURRENT_STATUSES)).order_by(Child.id)).all()
    if len(pupils) < 6:
        return created
    difficult = exists().where(ChildCategory.child_id == Child.id, ChildCategory.category.in_(DIFFICULT))
    key = db.session.scalars(select(Child).where(Child.id.in_([p.id for p in pupils]),
                                                 or_(Child.attention_level == "key", difficult))
                             .order_by(Child.id)).all()
    left_behind = db.session.scalars(select(Child).where(
        Child.id.in_([p.id for p in pupils]),
        exists().where(ChildCategory.child_id == Child.id, ChildCategory.category == "left_behind"))
        .order_by(Child.id)).all()

    # banzhuren1 teaches the school's largest class: her home lists its 留守 pupils still due this month.
    classes = class_choices(school_id)
    if teacher is not None and classes:
        sizes = Counter(json.dumps([p.grade, p.class_name], ensure_ascii=False) for p in pupils)
        set_teacher_class(teacher, max(classes, key=lambda choice: sizes[choice[0]])[0], actor=coordinator)

    # Carers for every other key pupil (the class teacher for some): the rest show as without one.
    for i, pupil in enumerate(key[::2]):
        account = teacher if teacher is not None and i % 2 == 0 else None
        name_carer(pupil, account=account, name=None if account else CARER_NAMES[i % len(CARER_NAMES)],
                   phone=f"1395370{2100 + i:04d}", since=today - timedelta(days=80 + i),
                   note="每周谈心一次，关注学习和情绪" if i % 2 == 0 else None, actor=coordinator)
        created["关爱责任人"] += 1

    # A pupil back at school after three weeks out, watched: the ninth week after her return she
    # missed three days. Another out for 24 days now, followed up twice.
    back, out = pupils[-2], pupils[-1]
    left = today - timedelta(days=110)
    case = report_dropout(back, {"dropped_on": left, "reason": "work", "reason_note": "跟着亲戚去外地打零工"},
                          actor=coordinator)
    add_step(case, {"kind": "department", "done_on": left + timedelta(days=7),
                    "note": "联系镇教办和派出所，找到孩子的去处"}, actor=coordinator)
    returned = left + timedelta(days=26)
    record_return(case, {"returned_on": returned, "return_note": "劝返成功，父母同意送回"}, actor=coordinator)
    week = monday_of(returned) + timedelta(weeks=1)
    for n in range(30):
        if week + timedelta(days=4) >= today or week >= case.watch_until:
            break
        record_attendance(case, {"week_of": week, "absent_days": 3 if n == 8 else 0,
                                 "note": "周三至周五未到校" if n == 8 else None}, actor=coordinator)
        week += timedelta(weeks=1)
    dropped = today - timedelta(days=24)
    case = report_dropout(out, {"dropped_on": dropped, "reason": "weariness",
                                "reason_note": "连续一周未到校，家中只有奶奶"}, actor=coordinator)
    add_step(case, {"kind": "home_visit", "done_on": dropped + timedelta(days=3),
                    "note": "班主任家访，孩子说不想上学，奶奶管不住"}, actor=teacher or coordinator)
    add_step(case, {"kind": "persuade", "done_on": dropped + timedelta(days=10),
                    "note": "电话联系在外务工的父亲，父亲答应月底回来一趟"}, actor=coordinator)
    created["辍学记录"] += 2

    # This month's contacts with half the 留守 pupils' families; the first a home visit that found a pond.
    if teacher is not None:
        for i, pupil in enumerate(left_behind[: max(len(left_behind) // 2, 1)]):
            home_visit = i == 0
            values, errors = parse_contact({
                "contacted_on": min(today.replace(day=1) + timedelta(days=i % 20), today).isoformat(),
                "contact_with": "caregiver" if i % 3 == 0 else "mother",
                "method": "home_visit" if home_visit else ("video" if i % 2 else "phone"),
                "topics": ["safety", "life"] if home_visit else ["study", "health"],
                "note": ("家访：孩子和爷爷奶奶住，屋后有鱼塘，已提醒看护" if home_visit else
                         "和妈妈视频，说了期中考试情况，提醒多和孩子通话"),
                "hazard_waters": home_visit, "hazard_note": "屋后鱼塘没有护栏" if home_visit else ""}, today)
            assert not errors, errors
            record_contact(pupil, values, str(uuid.uuid5(NAMESPACE, f"contact-{pupil.id}")), actor=teacher)
            created["家校联系"] += 1

    # Screenings ten days ago: two 高风险 (one followed up two days later), one 关注, the rest 正常.
    instruments = active_instruments()
    if instruments and counsellor is not None:
        screened = today - timedelta(days=10)
        for i, pupil in enumerate(pupils[:12]):
            score = [28, 31, 18][i] if i < 3 else 3 + i
            screening = record_screening(pupil, {"term": term_of(screened), "instrument": instruments[0],
                                                 "screened_on": screened, "score": score}, actor=counsellor)
            if i == 1:
                record_followup(screening, {"followup": "talk", "followup_on": screened + timedelta(days=2),
                                            "followup_note": "谈心两次，孩子愿意说出心事，下月复查"}, actor=counsellor)
            created["心理筛查"] += 1

    # A waiver this term for the first qualifying pupil (the others show as not yet waived), and a
    # weekend place for her.
    qualifying = db.session.scalars(select(Child).where(Child.id.in_([p.id for p in pupils]), difficult)
                                    .order_by(Child.id).limit(1)).first()
    if qualifying is not None:
        set_fee_waiver(qualifying, term_of(today), True, actor=coordinator)
        add_holiday_care(qualifying, kind="weekend", place="前王庄村儿童之家",
                         starts_on=today - timedelta(days=60), ends_on=None, note="周六上午作业辅导",
                         actor=coordinator)
    db.session.flush()
    return created


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py)."""
    return seed_demo_schools()
