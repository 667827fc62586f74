"""Bulk synthetic data for benchmarks: the demo generator's children, written with executemany
(20,000 children with their families in seconds, where one-by-one registration takes minutes)."""
from __future__ import annotations

import random
import secrets
import uuid
from datetime import date, timedelta

from sqlalchemy import insert, select, update
from werkzeug.security import generate_password_hash

from blueprints.auth.demo import seed_demo
from blueprints.auth.models import User
from blueprints.children.demo import demo_child
from blueprints.children.models import Child, ChildCategory, FamilyMember, ParentContact
from blueprints.children.search import name_keys
from blueprints.core.clock import local_today, utcnow
from blueprints.core.vocabulary import ACTIVITY_KINDS, CURRENT_STATUSES, PROGRAMMES, VOLUNTEER_KINDS
from blueprints.places.models import School, Village
from blueprints.schools.models import (AttendanceCheck, DropoutCase, ResponsibleCarer, SchoolContact, Screening,
                                       ScreeningInstrument)
from blueprints.schools.terms import term_of
from blueprints.visits.models import Visit, VisitNeed
from blueprints.volunteers.models import Organisation, Pairing, PairingActivity, PairingNeed, Volunteer, VolunteerSkill
from extensions import db

BATCH = 2000
CLASS_SIZE = 45
PRIMARY_GRADES = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"]


def seed_bench_visits(visits: int) -> None:
    """`visits` home visits spread over the children and the last two years, by the demo director."""
    rng = random.Random("guanai-bench-visits")
    child_ids = list(db.session.scalars(select(Child.id)))
    visitor = db.session.scalar(select(User.id).where(User.username == "zhuren1"))
    today, now = local_today(), utcnow()
    for start in range(0, visits, BATCH * 5):
        rows = []
        for _ in range(start, min(start + BATCH * 5, visits)):
            rows.append(dict(client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                             child_id=rng.choice(child_ids), visitor_id=visitor,
                             visited_on=today - timedelta(days=rng.randrange(0, 730)), kind="home",
                             hazard_water=rng.random() < 0.05, mental_state=rng.choice(["good", "fair", "concern"]),
                             received_at=now, superseded=False, review_state="ok", reviewed_at=now))
        db.session.execute(insert(Visit), rows)
        db.session.commit()
    db.session.execute(db.text(
        "UPDATE children SET last_visit_on = (SELECT max(visited_on) FROM visits "
        "WHERE visits.child_id = children.id AND NOT visits.superseded)"))
    db.session.commit()


def seed_visit_history(child_id: int, visitor_ids: list[int], visits: int = 3000, years: int = 10) -> None:
    """One child visited `visits` times, evenly over the last `years` years, by the visitors in
    turn; every 7th visit found a need for psychological help, every 11th one for study."""
    today, now = local_today(), utcnow()
    span = years * 365
    rows = [dict(client_uuid=str(uuid.UUID(int=(child_id << 32) + i, version=4)), child_id=child_id,
                 visitor_id=visitor_ids[i % len(visitor_ids)], visited_on=today - timedelta(days=span * i // visits),
                 kind="home", mental_state="good", received_at=now, superseded=False)
            for i in range(visits)]
    db.session.execute(insert(Visit), rows)
    ids = dict(db.session.execute(select(Visit.client_uuid, Visit.id).where(Visit.child_id == child_id)).all())
    needs = [dict(visit_id=ids[r["client_uuid"]], category=category) for i, r in enumerate(rows)
             for category, every in (("psychological", 7), ("education", 11)) if i % every == 0]
    db.session.execute(insert(VisitNeed), needs)
    db.session.execute(db.text("UPDATE children SET last_visit_on = :on WHERE id = :id"),
                       {"on": today, "id": child_id})
    db.session.commit()


def seed_bench_data(children: int, org_name: str = "拳铺镇", visits: int = 0, pairings: int = 0,
                    school_pupils: int = 0) -> None:
    seed_demo(org_name)
    db.session.commit()
    villages = list(db.session.scalars(select(Village).where(Village.is_demo.is_(True)).order_by(Village.id)))
    schools = list(db.session.scalars(select(School).where(School.is_demo.is_(True))))
    today, now = local_today(), utcnow()
    seen: set[str] = set()
    next_id = 1
    for start in range(0, children, BATCH):
        rows, categories, family, contacts = [], [], [], []
        for i in range(start, min(start + BATCH, children)):
            spec = demo_child(i, villages, schools, today)
            values = dict(spec["values"])
            if values["id_number"] in seen:  # the generator may repeat a number across 20,000
                values["id_number"] = None
            else:
                seen.add(values["id_number"])
            initials, pinyin = name_keys(values["name"])
            child_id = next_id
            next_id += 1
            rows.append(dict(values, id=child_id, archive_no=f"{today.year}{child_id:06d}", name_initials=initials,
                             name_pinyin=pinyin, id_last4=values["id_number"][-4:] if values["id_number"] else None,
                             ethnicity="汉族", created_at=now, updated_at=now))
            categories += [dict(child_id=child_id, category=c) for c in spec["categories"]]
            family += [dict(m.__dict__, child_id=child_id, created_at=now, updated_at=now) for m in spec["family"]]
            contacts += [dict(child_id=child_id, contacted_on=on, who=who, method=method, recorded_at=now)
                         for on, who, method in spec["contacts"]]
        columns = set(rows[0])
        db.session.execute(insert(Child), [{k: r.get(k) for k in columns} for r in rows])
        db.session.execute(insert(ChildCategory), categories)
        db.session.execute(insert(FamilyMember), family)
        if contacts:
            db.session.execute(insert(ParentContact), contacts)
        db.session.commit()
    if visits:
        seed_bench_visits(visits)
    if pairings:
        seed_bench_pairings(pairings)
    if school_pupils:
        seed_bench_schools(school_pupils)
    if visits:
        seed_bench_care()
    if db.engine.dialect.name == "postgresql":
        # ids were given explicitly: move the sequence past them. Then what autovacuum does to a
        # live database after a bulk load (hint bits, the visibility map, planner statistics): the
        # pages are measured as a town's server runs, not in the minute after a 200,000-row import.
        db.session.execute(db.text("SELECT setval('children_id_seq', (SELECT max(id) FROM children))"))
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(db.text("VACUUM ANALYZE"))
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


BENCH_PROGRAMME = "caring_mother"  # the programme whose year the bench prints: most pairings are in it
VOLUNTEER_PAIRINGS = 3  # the demo volunteer aixinmama1's paired children


def seed_bench_pairings(pairings: int, per_volunteer: int = 5) -> None:
    """`pairings` pairings of distinct children with volunteers of every kind (each with a login,
    `per_volunteer` children each), two thirds of them in BENCH_PROGRAMME and open this year, some
    ended last year; 2 to 6 activities each over the last year. The demo volunteer aixinmama1 gets
    a profile and VOLUNTEER_PAIRINGS of them (her phone's pages are measured)."""
    rng = random.Random("guanai-bench-pairings")
    today = local_today()
    children = list(db.session.scalars(select(Child.id).order_by(Child.id).limit(pairings)))
    villages = list(db.session.scalars(select(Village.id).where(Village.is_demo.is_(True)).order_by(Village.id)))
    organisations = [Organisation(name=f"拳铺镇志愿服务站{i + 1}", kind="service_site", is_demo=True) for i in range(4)]
    db.session.add_all(organisations)
    password = generate_password_hash(secrets.token_urlsafe(16))  # nobody signs in as them
    kinds = list(VOLUNTEER_KINDS)
    users = [User(username=f"bench_zhiyuan{i + 1}", display_name=f"志愿者{i + 1}", role="volunteer",
                  volunteer_kind=kinds[i % len(kinds)], password_hash=password, is_demo=True)
             for i in range(-(-(len(children) - VOLUNTEER_PAIRINGS) // per_volunteer))]
    users.insert(0, db.session.scalar(select(User).where(User.username == "aixinmama1")))
    db.session.add_all(users)
    db.session.flush()
    volunteers = [Volunteer(user_id=user.id, name=user.display_name, kind=user.volunteer_kind or "caring_mother",
                            organisation=organisations[i % len(organisations)], village_id=villages[i % len(villages)],
                            capacity=per_volunteer, skill_rows=[VolunteerSkill(skill="reading")])
                  for i, user in enumerate(users)]
    db.session.add_all(volunteers)
    db.session.flush()
    others = [code for code in PROGRAMMES if code != BENCH_PROGRAMME]
    rows = []
    for i, child_id in enumerate(children):
        volunteer = volunteers[0 if i < VOLUNTEER_PAIRINGS else 1 + (i - VOLUNTEER_PAIRINGS) // per_volunteer]
        started = today - timedelta(days=rng.randrange(30, 700))
        ended = None
        if i >= VOLUNTEER_PAIRINGS and rng.random() < 0.1:  # ended last year
            ended = min(date(today.year - 1, 12, 31), started + timedelta(days=rng.randrange(30, 300)))
            started = min(started, ended - timedelta(days=30))
        rows.append(Pairing(
            programme=BENCH_PROGRAMME if i % 3 != 2 else others[i % len(others)], child_id=child_id,
            volunteer_id=volunteer.id, started_on=started, planned_end_on=started + timedelta(days=365),
            goals="每月陪伴阅读和课业辅导，帮助孩子养成学习习惯，遇事愿意说出来", times_per_month=rng.choice((1, 2, 4)),
            ended_on=ended, end_reason="goals_met" if ended else None,
            director_remarks="孩子进步明显，继续保持。" if rng.random() < 0.5 else None,
            need_rows=[PairingNeed(category="education"), PairingNeed(category="psychological")]))
    db.session.add_all(rows)
    db.session.flush()
    activities, now, kinds = [], utcnow(), list(ACTIVITY_KINDS)
    logged_by = {volunteer.id: volunteer.user_id for volunteer in volunteers}
    for pairing in rows:
        last = pairing.ended_on or today
        span = max((last - max(pairing.started_on, today - timedelta(days=365))).days, 1)
        for _ in range(rng.randrange(2, 7)):
            activities.append(dict(
                client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), pairing_id=pairing.id,
                child_id=pairing.child_id, recorded_by_id=logged_by[pairing.volunteer_id],
                done_on=last - timedelta(days=rng.randrange(span)),
                minutes=rng.choice((30, 45, 60, 90)), kind=rng.choice(kinds),
                note="一起读绘本，辅导数学作业，聊了聊学校里的事和最近的心情", mood="开心", received_at=now))
    db.session.execute(insert(PairingActivity), activities)
    db.session.commit()


SCHOOL_DROPOUTS = 300  # dropout cases across the town, a third still out


def seed_bench_schools(pupils: int) -> None:
    """xuexiao1's school with exactly `pupils` pupils on the roll (its own moved to another school,
    the first `pupils` children moved to it, in classes of CLASS_SIZE, banzhuren1 teaching one), as its staff's
    home pages see it: carers for half its key pupils, a school contact this month for half its
    留守 pupils, a screening this term for every pupil (one in twenty 高风险, half of those without
    follow-up); and SCHOOL_DROPOUTS dropout cases across the town's schools, a third open, the rest
    returned and watched with weekly attendance checks."""
    rng = random.Random("guanai-bench-schools")
    today, now = local_today(), utcnow()
    coordinator = db.session.scalar(select(User).where(User.username == "xuexiao1"))
    school_id = coordinator.school_id
    ids = list(db.session.scalars(select(Child.id).where(Child.status.in_(CURRENT_STATUSES))
                                  .order_by(Child.id).limit(pupils)))
    other = db.session.scalar(select(School.id).where(School.id != school_id).order_by(School.id))
    db.session.execute(update(Child).where(Child.school_id == school_id).values(school_id=other))
    db.session.execute(update(Child).where(Child.id.in_(ids)).values(school_id=school_id))
    # Classes of CLASS_SIZE, grade by grade; banzhuren1 teaches the first (一年级 1班).
    db.session.execute(update(Child), [
        dict(id=child_id, grade=PRIMARY_GRADES[(i // CLASS_SIZE) % 6], class_name=f"{i // CLASS_SIZE // 6 + 1}班")
        for i, child_id in enumerate(ids)])
    db.session.execute(update(User).where(User.username == "banzhuren1")
                       .values(class_grade=PRIMARY_GRADES[0], class_name="1班"))
    key = set(db.session.scalars(select(Child.id).where(Child.id.in_(ids), Child.attention_level == "key")))
    left_behind = set(db.session.scalars(select(ChildCategory.child_id).where(
        ChildCategory.child_id.in_(ids), ChildCategory.category == "left_behind")))
    db.session.execute(insert(ResponsibleCarer), [
        dict(child_id=child_id, school_id=school_id, name=f"教师{i % 40 + 1}", phone="13900000000",
             since=today - timedelta(days=200), created_at=now, updated_at=now)
        for i, child_id in enumerate(sorted(key)) if i % 2 == 0])
    month_start = today.replace(day=1)
    db.session.execute(insert(SchoolContact), [
        dict(client_uuid=str(uuid.UUID(int=rng.getrandbits(128), version=4)), child_id=child_id,
             school_id=school_id, contacted_on=month_start + timedelta(days=rng.randrange(today.day)),
             contact_with="mother", method="phone", topics="study,life", note="电话沟通孩子学习和生活情况",
             recorded_by_id=coordinator.id, received_at=now)
        for i, child_id in enumerate(sorted(left_behind)) if i % 2 == 0])
    instrument = db.session.scalar(select(ScreeningInstrument).order_by(ScreeningInstrument.id))
    term = term_of(today)
    screenings = []
    for i, child_id in enumerate(ids):
        high = i % 20 == 0
        score = rng.randrange(25, 41) if high else rng.randrange(0, 25)
        band = "high" if high else ("watch" if score >= 15 else "normal")
        followed = high and i % 40 == 0
        screenings.append(dict(child_id=child_id, school_id=school_id, term=term, instrument_id=instrument.id,
                               screened_on=today - timedelta(days=rng.randrange(1, 30)), score=score, band=band,
                               followup="talk" if followed else None,
                               followup_on=today - timedelta(days=1) if followed else None,
                               created_at=now, updated_at=now))
    db.session.execute(insert(Screening), screenings)
    schools = list(db.session.scalars(select(School.id).order_by(School.id)))
    others = list(db.session.scalars(select(Child.id).where(Child.id.not_in(ids)).order_by(Child.id)
                                     .limit(SCHOOL_DROPOUTS)))
    cases = []
    for i, child_id in enumerate((ids[:SCHOOL_DROPOUTS // 3] + others)[:SCHOOL_DROPOUTS]):
        dropped = today - timedelta(days=rng.randrange(20, 200))
        returned = None if i % 3 == 0 else dropped + timedelta(days=rng.randrange(5, 18))
        cases.append(DropoutCase(
            child_id=child_id, school_id=school_id if i < SCHOOL_DROPOUTS // 3 else schools[i % len(schools)],
            dropped_on=dropped, reason=rng.choice(("poverty", "weariness", "work", "illness")),
            reason_note="家长外出，孩子不愿上学", reported_by_id=coordinator.id, returned_on=returned,
            watch_until=returned + timedelta(weeks=18) if returned else None))
    db.session.add_all(cases)
    db.session.flush()
    checks = []
    for case in cases:
        if case.returned_on is None:
            continue
        monday = case.returned_on - timedelta(days=case.returned_on.weekday()) + timedelta(weeks=1)
        while monday + timedelta(days=6) < today and monday <= case.watch_until:
            checks.append(dict(case_id=case.id, week_of=monday, absent_days=rng.choice((0, 0, 0, 0, 1, 2)),
                               checked_by_id=coordinator.id, created_at=now))
            monday += timedelta(weeks=1)
    db.session.execute(insert(AttendanceCheck), checks)
    db.session.commit()


BENCH_REFERRALS = 500  # referred to the police (paichusuo's inbox)
BENCH_UNREVIEWED = 2000  # visits waiting in the supervisor's review queue
BENCH_PLAN_NEEDS = 6  # needs in the care plan of the child whose page is measured


def plan_child_id() -> int:
    """The child whose page and care plan the bench measures: the first of the first village."""
    village = db.session.scalar(select(Village.id).order_by(Village.id))
    return db.session.scalar(select(Child.id).where(Child.residence_village_id == village).order_by(Child.id))


def seed_bench_care() -> None:
    """The care area as its busiest users see it: every visit reviewed (seed_bench_visits) but the
    BENCH_UNREVIEWED most recent (a fifth of them with concerns); BENCH_REFERRALS measures referred
    to the police, most open (a third overdue), some returned within the last 30 days; and a care
    plan of BENCH_PLAN_NEEDS needs with two measures each (one referred) for plan_child_id().
    Before the statistics are gathered (seed_bench_data)."""
    from blueprints.care.models import Measure, Need, Referral
    from blueprints.places.models import Department

    rng = random.Random("guanai-bench-care")
    today, now = local_today(), utcnow()
    recent = list(db.session.scalars(select(Visit.id).order_by(Visit.visited_on.desc(), Visit.id.desc())
                                     .limit(BENCH_UNREVIEWED)))
    db.session.execute(update(Visit).where(Visit.id.in_(recent))
                       .values(review_state=None, reviewed_at=None))
    db.session.execute(update(Visit).where(Visit.id.in_(recent[::5])).values(follow_up_needed=True,
                                                                              follow_up_note="家中水塘无护栏"))
    director = db.session.scalar(select(User.id).where(User.username == "zhuren1"))
    police = db.session.scalar(select(Department.id).where(Department.code == "police"))
    justice = db.session.scalar(select(Department.id).where(Department.code == "justice"))
    child_ids = list(db.session.scalars(select(Child.id).where(Child.status.in_(CURRENT_STATUSES))
                                        .order_by(Child.id).offset(5000).limit(BENCH_REFERRALS)))

    def plan(child_id: int, needs: int, department_id: int, referred_state) -> None:
        for n in range(needs):
            need = Need(child_id=child_id, category=("safety", "legal", "guardianship", "living")[n % 4],
                        description="走访发现住所旁水塘无护栏，孩子常去玩水", source="manual", created_by_id=director)
            db.session.add(need)
            db.session.flush()
            for m in range(2 if needs > 1 else 1):
                measure = Measure(need_id=need.id, child_id=child_id, action="排查水塘安全并督促加装护栏",
                                  owner_name="赵强", department_id=department_id,
                                  due_on=today + timedelta(days=rng.randrange(-30, 60)), state="in_progress",
                                  created_by_id=director)
                db.session.add(measure)
                db.session.flush()
                if m == 0:
                    state = referred_state()
                    closed = today - timedelta(days=rng.randrange(0, 30)) if state in ("done", "declined") else None
                    db.session.add(Referral(measure_id=measure.id, child_id=child_id, department_id=department_id,
                                            note="请协助排查", referred_by_id=director,
                                            referred_at=now - timedelta(days=rng.randrange(1, 90)), state=state,
                                            closed_on=closed, return_note="已处理" if closed else None))

    for child_id in child_ids:
        plan(child_id, 1, police, lambda: rng.choice(("sent", "sent", "accepted", "accepted", "accepted", "done")))
    plan(plan_child_id(), BENCH_PLAN_NEEDS, justice, lambda: rng.choice(("sent", "accepted", "done")))
    db.session.commit()
