"""Real rows for tests: no mocks, the same models and services the app uses."""
from __future__ import annotations

import itertools

from blueprints.admin.demo import ensure_departments
from blueprints.admin.models import Department, School, Village
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
) -> User:
    if role == "department" and department_code is None:
        department_code = "police"
    if role == "volunteer" and volunteer_kind is None:
        volunteer_kind = "volunteer"
    user = User(
        username=username or f"{role}{next(_counter)}",
        display_name=display_name or f"测试{role}",
        role=role,
        villages=villages or [],
        school=school,
        department=department(department_code) if department_code else None,
        volunteer_kind=volunteer_kind,
        active=active,
    )
    user.password_hash = generate_password_hash(password, TEST_HASH_METHOD)
    db.session.add(user)
    db.session.commit()
    return user
