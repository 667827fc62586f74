"""Real rows for tests: no mocks, the same models and services the app uses."""
from __future__ import annotations

import itertools
from datetime import date  # noqa: F401  (type hints below)

from blueprints.auth.demo import ensure_departments
from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from extensions import db
from sqlalchemy import select
from werkzeug.security import generate_password_hash

PASSWORD = "correct-horse-1"
# Cheap scrypt parameters for test accounts: the check reads them from the hash, so logins go
# through the real code while the suite stays fast. The app itself hashes with the defaults.
TEST_HASH_METHOD = "scrypt:1024:8:1"
_counter = itertools.count(1)


def create_village(name: str | None = None) -> Village:
    village = Village(name=name or f"测试{next(_counter)}村")
    db.session.add(village)
    db.session.commit()
    return village


def create_school(name: str | None = None, villages: list[Village] | None = None, kind: str = "primary") -> School:
    school = School(name=name or f"测试{next(_counter)}小学", kind=kind, villages=villages or [])
    db.session.add(school)
    db.session.commit()
    return school


def department(code: str) -> Department:
    ensure_departments()
    db.session.commit()
    return db.session.scalar(select(Department).where(Department.code == code))


def create_user(
    role: str = "admin",
    username: str | None = None,
    password: str = PASSWORD,
    villages: list[Village] | None = None,
    school: School | None = None,
    department_code: str | None = None,
    volunteer_kind: str | None = None,
    active: bool = True,
    display_name: str | None = None,
    school_duty: str | None = None,
) -> User:
    if role == "department" and department_code is None:
        department_code = "police"
    if role == "school" and school_duty is None:
        school_duty = "coordinator"
    if role == "volunteer" and volunteer_kind is None:
        volunteer_kind = "youth"
    user = User(
        username=username or f"{role}{next(_counter)}",
        display_name=display_name or f"测试{role}",
        role=role,
        villages=villages or [],
        school=school,
        department=department(department_code) if department_code else None,
        volunteer_kind=volunteer_kind,
        school_duty=school_duty,
        active=active,
    )
    user.password_hash = generate_password_hash(password, TEST_HASH_METHOD)
    db.session.add(user)
    db.session.commit()
    return user


def valid_id_number(birth: "date", serial: int = 1, region: str = "371724", gender: str = "male") -> str:
    """A well-formed ID number (巨野县 by default) for a birth date; the 17th digit odd for male."""
    from stdnum.cn import ric

    seq = serial * 2 + (1 if gender == "male" else 0)
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def create_child(
    name: str = "张小明",
    village: Village | None = None,
    school: School | None = None,
    birth: "date | None" = None,
    gender: str = "male",
    categories: list[str] | None = None,
    attention: str = "general",
    id_number: str | None = "auto",
    family: list | None = None,
    **values,
):
    """A registered child, through the same service the app uses."""
    from datetime import date

    from blueprints.children.services import create_child as register

    birth = birth or date(2015, 3, 2)
    if id_number == "auto":
        id_number = valid_id_number(birth, next(_counter), gender=gender)
    child = register(
        dict(name=name, residence_village_id=(village or create_village()).id, school_id=school.id if school else None,
             birth_date=birth, gender=gender, id_number=id_number, attention_level=attention, status="active",
             **values),
        categories or ["left_behind"],
        family or [],
        actor=None,
    )
    db.session.commit()
    return child


def create_volunteer(user=None, name: str = "周桂兰", kind: str = "caring_mother", village=None, skills=("reading",),
                     capacity: int = 2, active: bool = True, organisation=None):
    """A volunteer's profile (and her login, unless given)."""
    from blueprints.volunteers.models import Volunteer, VolunteerSkill

    user = user or create_user("volunteer", volunteer_kind=kind, display_name=name)
    volunteer = Volunteer(user_id=user.id, name=name, kind=kind, village_id=village.id if village else None,
                          capacity=capacity, active=active, organisation=organisation,
                          skill_rows=[VolunteerSkill(skill=s) for s in skills])
    db.session.add(volunteer)
    db.session.commit()
    return volunteer


def create_pairing(child, volunteer, programme: str = "caring_mother", started_on=None, times_per_month: int = 2,
                   goals: str = "每月陪伴阅读，帮助孩子建立阅读习惯", needs=("education",), ended_on=None, **values):
    """A pairing row as the service stores it (the rules are tested through the service itself)."""
    from datetime import date

    from blueprints.volunteers.models import Pairing, PairingNeed

    pairing = Pairing(programme=programme, child_id=child.id, volunteer_id=volunteer.id,
                      started_on=started_on or date(2026, 1, 5), goals=goals, times_per_month=times_per_month,
                      ended_on=ended_on, need_rows=[PairingNeed(category=n) for n in needs], **values)
    db.session.add(pairing)
    db.session.commit()
    return pairing


# --- schools (rows as the services store them; the rules are tested through the services)

def create_instrument(name: str = "心理健康初筛（测试）", min_score: int = 0, max_score: int = 40,
                      bands=(("normal", 0, 14), ("watch", 15, 24), ("high", 25, 40))):
    from blueprints.schools.models import ScreeningBand, ScreeningInstrument

    instrument = ScreeningInstrument(name=name, min_score=min_score, max_score=max_score,
                                     bands=[ScreeningBand(band=b, low=lo, high=hi) for b, lo, hi in bands])
    db.session.add(instrument)
    db.session.commit()
    return instrument


def create_screening(child, instrument=None, score: int = 30, band: str = "high", term: str = "2026-autumn",
                     screened_on=None, **values):
    from datetime import date

    from blueprints.schools.models import Screening

    screening = Screening(child_id=child.id, school_id=child.school_id, term=term,
                          instrument_id=(instrument or create_instrument()).id,
                          screened_on=screened_on or date(2026, 10, 12), score=score, band=band, **values)
    db.session.add(screening)
    db.session.commit()
    return screening


def create_carer(child, name: str = "王老师", phone: str | None = "13800000001", since=None, user=None, **values):
    from datetime import date

    from blueprints.schools.models import ResponsibleCarer

    carer = ResponsibleCarer(child_id=child.id, school_id=child.school_id, name=name, phone=phone,
                             since=since or date(2026, 9, 1), user_id=user.id if user else None, **values)
    db.session.add(carer)
    db.session.commit()
    return carer


def create_dropout(child, dropped_on=None, reason: str = "weariness", **values):
    from datetime import date

    from blueprints.schools.models import DropoutCase

    case = DropoutCase(child_id=child.id, school_id=child.school_id, dropped_on=dropped_on or date(2026, 10, 8),
                       reason=reason, **values)
    db.session.add(case)
    db.session.commit()
    return case


def create_school_contact(child, user, contacted_on=None, contact_with: str = "mother", method: str = "phone",
                          topics: str = "study", note: str = "电话沟通孩子近期学习情况", **values):
    import uuid
    from datetime import date

    from blueprints.schools.models import SchoolContact

    contact = SchoolContact(client_uuid=str(uuid.uuid4()), child_id=child.id, school_id=child.school_id,
                            contacted_on=contacted_on or date(2026, 11, 2), contact_with=contact_with,
                            method=method, topics=topics, note=note, recorded_by_id=user.id, **values)
    db.session.add(contact)
    db.session.commit()
    return contact


# --- care (issue 11): needs, measures, referrals, urgent flags. Rows as the services leave them,
# without their checks or notices: a test of a service calls the service.
def create_need(child, category: str = "safety", description: str = "住所旁有水塘，无护栏", source: str = "manual",
                source_id: int | None = None, **values):
    from blueprints.care.models import Need

    need = Need(child_id=child.id, category=category, description=description, source=source,
                source_id=source_id, **values)
    db.session.add(need)
    db.session.commit()
    return need


def create_measure(need, action: str = "协调村委在水塘边加装护栏", owner_name: str = "张秀英", due_on=None,
                   department_code: str | None = None, **values):
    from datetime import date

    from blueprints.care.models import Measure

    measure = Measure(need_id=need.id, child_id=need.child_id, action=action, owner_name=owner_name,
                      due_on=due_on or date(2026, 12, 20),
                      department_id=department(department_code).id if department_code else None, **values)
    db.session.add(measure)
    db.session.commit()
    return measure


def create_referral(measure, department_code: str = "police", by=None, state: str = "sent",
                    note: str = "请协助排查水塘安全", **values):
    from blueprints.care.models import Referral

    referral = Referral(measure_id=measure.id, child_id=measure.child_id,
                        department_id=department(department_code).id, note=note,
                        referred_by_id=by.id if by else None, state=state, **values)
    db.session.add(referral)
    db.session.commit()
    return referral


def create_urgent_flag(child, by=None, situation: str = "孩子独自在家三天，无人照料", **values):
    from blueprints.care.models import UrgentFlag

    flag = UrgentFlag(child_id=child.id, situation=situation, flagged_by_id=by.id if by else None, **values)
    db.session.add(flag)
    db.session.commit()
    return flag
