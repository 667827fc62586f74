"""Synthetic demo data: villages, schools, the departments and one account per role.

Every village and school made here is marked is_demo. Running it again adds only what is missing,
and changes nothing that is already there.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from blueprints.core import audit
from blueprints.core.plan import DEPARTMENTS
from extensions import db

DEMO_PASSWORD = "guanai-demo"
DEMO_VILLAGES = ["前王庄村", "后李楼村", "张集村", "刘堂村", "郭庄村", "马楼村", "孙庄村", "杨店村"]


def demo_schools(org_name: str) -> list[tuple[str, str, list[str]]]:
    """(name, kind, villages served)."""
    return [
        (f"{org_name}中心小学", "primary", ["前王庄村", "后李楼村", "张集村"]),
        ("张集小学", "primary", ["张集村", "刘堂村"]),
        ("马楼小学", "primary", ["马楼村", "孙庄村", "郭庄村", "杨店村"]),
        (f"{org_name}初级中学", "middle", list(DEMO_VILLAGES)),
        (f"{org_name}中心幼儿园", "kindergarten", ["前王庄村", "后李楼村", "郭庄村", "马楼村"]),
    ]


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    villages: list[str] = field(default_factory=list)
    school_index: int | None = None
    department_code: str | None = None
    volunteer_kind: str | None = None
    school_duty: str | None = None


DEMO_USERS = [
    DemoUser("admin", "系统管理员", "admin"),
    DemoUser("minzheng", "王丽（民政组）", "civil_affairs"),
    DemoUser("dudao", "李明（督导员）", "supervisor"),
    DemoUser("zhuren1", "张秀英", "director", villages=[DEMO_VILLAGES[0]]),
    DemoUser("zhuren2", "刘建国", "director", villages=[DEMO_VILLAGES[1]]),
    DemoUser("xuexiao1", "陈静（中心小学）", "school", school_index=0, school_duty="coordinator"),
    DemoUser("banzhuren1", "黄志刚", "school", school_index=0, school_duty="head_teacher"),
    DemoUser("xinli1", "林晓梅", "school", school_index=0, school_duty="mental_health"),
    DemoUser("jiaoban", "钱勇（教办）", "department", department_code="education"),
    DemoUser("paichusuo", "赵强（派出所）", "department", department_code="police"),
    DemoUser("sifasuo", "孙丽（司法所）", "department", department_code="justice"),
    DemoUser("weijian", "周敏（卫健组）", "department", department_code="health"),
    DemoUser("canlian", "冯刚（残联）", "department", department_code="disability"),
    DemoUser("renshe", "何平（人社所）", "department", department_code="hr"),
    DemoUser("tuanwei", "吴磊（团委）", "department", department_code="youth"),
    DemoUser("fulian", "郑芳（妇联）", "department", department_code="women"),
    DemoUser("zhiyuan1", "孙晓雨", "volunteer", volunteer_kind="youth"),
    DemoUser("aixinmama1", "周桂兰", "volunteer", volunteer_kind="caring_mother"),
]


def ensure_departments() -> int:
    """The 13 departments the plan names; the admin may rename them later (matched by code)."""
    existing = set(db.session.scalars(select(Department.code)))
    created = 0
    for code, name in DEPARTMENTS:
        if code not in existing:
            db.session.add(Department(code=code, name=name))
            created += 1
    db.session.flush()
    return created


def seed_demo(org_name: str) -> dict[str, int]:
    """Create what is missing; return how many of each kind were created."""
    created = {"村": 0, "学校": 0, "部门": ensure_departments(), "用户": 0}

    villages = {v.name: v for v in db.session.scalars(select(Village))}
    for name in DEMO_VILLAGES:
        if name not in villages:
            villages[name] = Village(name=name, is_demo=True)
            db.session.add(villages[name])
            created["村"] += 1

    schools = {s.name: s for s in db.session.scalars(select(School))}
    school_list = []
    for name, kind, served in demo_schools(org_name):
        if name not in schools:
            schools[name] = School(name=name, kind=kind, is_demo=True,
                                   villages=[villages[v] for v in served])
            db.session.add(schools[name])
            created["学校"] += 1
        school_list.append(schools[name])
    db.session.flush()

    departments = {d.code: d for d in db.session.scalars(select(Department))}
    existing_users = set(db.session.scalars(select(User.username)))
    for spec in DEMO_USERS:
        if spec.username in existing_users:
            continue
        user = User(
            username=spec.username,
            display_name=spec.display_name,
            role=spec.role,
            is_demo=True,
            villages=[villages[v] for v in spec.villages],
            school=school_list[spec.school_index] if spec.school_index is not None else None,
            department=departments[spec.department_code] if spec.department_code else None,
            volunteer_kind=spec.volunteer_kind,
            school_duty=spec.school_duty,
        )
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        created["用户"] += 1

    if any(created.values()):
        db.session.flush()
        audit.record("demo_seeded", detail="；".join(f"{k} {v}" for k, v in created.items()))
    return created


def seed(options: dict) -> dict[str, int]:
    """The area's demo seeder (see core/areas.py): places, departments and one account per role."""
    return seed_demo(options["org_name"])
