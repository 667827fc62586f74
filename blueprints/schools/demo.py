"""Demo data of the schools area, at xuexiao1's school (中心小学): responsible carers for some of its
key pupils (the others show on the coordinator's home as without one), an open dropout with its
follow-up steps, a pupil back at school whose attendance checks show a relapse, contacts with parents
this month and a school home visit that found a hazard, this term's screenings (one 高风险 without
follow-up for ten days: it shows on civil affairs' home too), a fee waiver and a holiday care place.

Deterministic and idempotent: it adds nothing once the school has any carer or screening; the
contacts carry fixed client_uuids (uuid5)."""
from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from blueprints.auth.models import User
from blueprints.children.models import Child, ChildCategory
from blueprints.core.clock import local_today, utcnow
from blueprints.core.vocabulary import CURRENT_STATUSES
from blueprints.schools.models import (AttendanceCheck, DropoutCase, DropoutStep, Enrolment, EnrolmentChange,
                                       FeeWaiver, HolidayCare, ResponsibleCarer, SchoolContact, Screening,
                                       ScreeningInstrument)
from blueprints.schools.terms import term_of
from extensions import db

NAMESPACE = uuid.UUID("0c6f1d7e-2b4a-4f0e-8d5c-3a9b7e21f4d6")
DIFFICULTY = ("poverty", "disability", "guardianship", "orphan", "unsupported")


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def seed_demo_schools(today: date | None = None) -> dict[str, int]:
    today = today or local_today()
    created = {"关爱责任人": 0, "辍学记录": 0, "家校联系": 0, "心理筛查": 0}
    staff = {u.username: u for u in db.session.scalars(
        select(User).where(User.username.in_(("xuexiao1", "banzhuren1", "xinli1")), User.is_demo.is_(True)))}
    coordinator, teacher, counsellor = (staff.get(n) for n in ("xuexiao1", "banzhuren1", "xinli1"))
    if coordinator is None or coordinator.school_id is None:
        return created
    school_id = coordinator.school_id
    done = db.session.scalar(select(func.count()).select_from(ResponsibleCarer)
                             .where(ResponsibleCarer.school_id == school_id))
    if done:
        return created
    pupils = db.session.scalars(
        select(Child).where(Child.school_id == school_id, Child.status.in_(CURRENT_STATUSES)).order_by(Child.id)).all()
    if len(pupils) < 6:
        return created
    ids = [p.id for p in pupils]
    difficulty = set(db.session.scalars(select(ChildCategory.child_id).where(
        ChildCategory.child_id.in_(ids), ChildCategory.category.in_(DIFFICULTY))))
    left_behind = [c for c in db.session.scalars(select(ChildCategory.child_id).where(
        ChildCategory.child_id.in_(ids), ChildCategory.category == "left_behind").order_by(ChildCategory.child_id))]
    key = [p for p in pupils if p.attention_level == "key" or p.id in difficulty]
    now = utcnow()

    # Carers for every other key pupil: the rest show as without one.
    for i, pupil in enumerate(key):
        if i % 2 == 0:
            carer = teacher if i % 4 == 0 and teacher else None
            db.session.add(ResponsibleCarer(
                child_id=pupil.id, school_id=school_id, user_id=carer.id if carer else None,
                name=carer.display_name.split("（")[0] if carer else ["王红梅", "李建军", "赵丽", "孙伟"][i // 2 % 4],
                phone=(carer.phone if carer and carer.phone else f"1395370{2100 + i:04d}"),
                since=today - timedelta(days=80 + i), note="每周谈心一次，关注学习和情绪" if i % 4 == 0 else None,
                created_by_id=coordinator.id))
            created["关爱责任人"] += 1

    # An open dropout with two steps; a pupil back at school, watched, with a week of absences.
    out, back = pupils[-1], pupils[-2]
    dropped = today - timedelta(days=24)
    case = DropoutCase(child_id=out.id, school_id=school_id, dropped_on=dropped, reason="weariness",
                       reason_note="连续一周未到校，家中只有奶奶", reported_by_id=coordinator.id)
    db.session.add(case)
    db.session.flush()
    db.session.add_all([
        DropoutStep(case_id=case.id, kind="home_visit", done_on=dropped + timedelta(days=3),
                    note="班主任家访，孩子说不想上学，奶奶管不住", done_by_id=(teacher or coordinator).id),
        DropoutStep(case_id=case.id, kind="persuade", done_on=dropped + timedelta(days=10),
                    note="电话联系在外务工的父亲，父亲答应月底回来一趟", done_by_id=coordinator.id)])
    db.session.merge(Enrolment(child_id=out.id, state="dropped_out", since=dropped, updated_by_id=coordinator.id))
    db.session.add(EnrolmentChange(child_id=out.id, school_id=school_id, state_from="enrolled",
                                   state_to="dropped_out", changed_on=dropped, changed_by_id=coordinator.id))
    left, returned = today - timedelta(days=110), today - timedelta(days=84)
    earlier = DropoutCase(child_id=back.id, school_id=school_id, dropped_on=left, reason="work",
                          reason_note="跟着亲戚去外地打零工", reported_by_id=coordinator.id, returned_on=returned,
                          return_note="劝返成功，父母同意送回", returned_by_id=coordinator.id,
                          watch_until=returned + timedelta(weeks=18))
    db.session.add(earlier)
    db.session.flush()
    db.session.add(DropoutStep(case_id=earlier.id, kind="department", done_on=left + timedelta(days=7),
                               note="联系镇教办和派出所，找到孩子的去处", done_by_id=coordinator.id))
    monday = _monday(returned) + timedelta(weeks=1)
    week = 0
    while monday + timedelta(days=4) < today:
        db.session.add(AttendanceCheck(case_id=earlier.id, week_of=monday, absent_days=3 if week == 8 else 0,
                                       note="周三至周五未到校" if week == 8 else None, checked_by_id=coordinator.id))
        monday += timedelta(weeks=1)
        week += 1
    created["辍学记录"] += 2

    # This month's contacts with parents, and a school home visit that found dangerous waters.
    month_start = today.replace(day=1)
    for i, child_id in enumerate(left_behind[: max(len(left_behind) // 2, 1)]):
        home_visit = i == 0
        db.session.add(SchoolContact(
            client_uuid=str(uuid.uuid5(NAMESPACE, f"contact-{child_id}")), child_id=child_id, school_id=school_id,
            contacted_on=min(month_start + timedelta(days=i % 20), today), contact_with="mother" if i % 3 else "caregiver",
            method="home_visit" if home_visit else ("video" if i % 2 else "phone"),
            topics="safety,life" if home_visit else "study,health",
            note=("家访：孩子和爷爷奶奶住，屋后有鱼塘，已提醒看护" if home_visit else
                  "和妈妈视频，说了期中考试情况，提醒多和孩子通话"),
            hazard_waters=home_visit, hazard_note="屋后鱼塘没有护栏" if home_visit else None,
            recorded_by_id=(teacher or coordinator).id, received_at=now))
        created["家校联系"] += 1

    # This term's screenings: one 高风险 ten days ago without follow-up, one followed up.
    instrument = db.session.scalar(select(ScreeningInstrument).where(ScreeningInstrument.active.is_(True))
                                   .order_by(ScreeningInstrument.id))
    if instrument is not None and counsellor is not None:
        term = term_of(today)
        for i, pupil in enumerate(pupils[:12]):
            score, band = [(28, "high"), (31, "high"), (18, "watch")][i] if i < 3 else (5 + i, "normal")
            followed = i == 1
            db.session.add(Screening(
                child_id=pupil.id, school_id=school_id, term=term, instrument_id=instrument.id,
                screened_on=today - timedelta(days=10), score=score, band=band,
                followup="talk" if followed else None, followup_on=today - timedelta(days=8) if followed else None,
                followup_note="谈心两次，孩子愿意说出心事，下月复查" if followed else None,
                recorded_by_id=counsellor.id))
            created["心理筛查"] += 1

    # A waiver this term for one qualifying pupil (the others show as not yet waived), a holiday place.
    qualifying = [p for p in pupils if p.id in difficulty]
    if qualifying:
        db.session.add(FeeWaiver(child_id=qualifying[0].id, school_id=school_id, term=term_of(today),
                                 decided_on=today - timedelta(days=60), note="家庭困难，减免课后服务费",
                                 decided_by_id=coordinator.id))
        db.session.add(HolidayCare(child_id=qualifying[0].id, school_id=school_id, kind="weekend",
                                   place="前王庄村儿童之家", starts_on=today - timedelta(days=60),
                                   note="周六上午作业辅导", recorded_by_id=coordinator.id))
    db.session.flush()
    return created


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py)."""
    return seed_demo_schools()
