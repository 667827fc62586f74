"""What each role's home page shows. Every query starts from the access gate."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.places.models import School, Village
from blueprints.auth.staff import directors_by_village
from blueprints.places.access import reachable_schools, reachable_villages
from blueprints.auth.models import User
from blueprints.core.access import can, role_of
from blueprints.core.areas import HomePanel, house
from blueprints.core.plan import DEPARTMENTS, PLAN_TASKS, tasks_for_department
from extensions import db


def home_panels(user) -> list[tuple[HomePanel, dict]]:
    """The home page's cards for `user`: the areas' panels whose grant the user holds, in order,
    each with what it shows (a panel whose context answers None is left out)."""
    panels = []
    for area, panel in house.home_panels:
        if panel.permission is not None and not can(user, panel.permission):
            continue
        context = area.resolve(panel.context)(user) if panel.context else {}
        if context is not None:
            panels.append((panel, context))
    return panels


def villages_panel(user) -> dict:
    villages = db.session.scalars(reachable_villages(user)).all()
    titles = {"town": "全镇各村", "village": "我负责的村", "school": "本校服务的村"}
    return {"villages": villages, "directors": directors_by_village([v.id for v in villages]),
            "title": titles.get(role_of(user).reach, "村")}


def schools_panel(user) -> dict | None:
    schools = db.session.scalars(reachable_schools(user).options(selectinload(School.villages))).all()
    titles = {"village": "本村孩子就读的学校", "school": "本校"}
    return {"schools": schools, "title": titles.get(role_of(user).reach, "全镇学校")} if schools else None


def plan_tasks_panel(user) -> dict | None:
    """The plan's tasks this user carries out: by role, or by department (the role's or the user's)."""
    role = role_of(user)
    if role.plan_tasks:
        return {"tasks": [t for t in PLAN_TASKS if t.number in role.plan_tasks], "title": role.plan_title}
    department = role.plan_department or (user.department.code if user.department else None)
    if department is None:
        return None
    name = dict(DEPARTMENTS).get(department, "本部门")
    return {"tasks": tasks_for_department(department), "title": name + role.plan_title}


def village_page_context(village: Village) -> dict:
    return {
        "village": village,
        "directors": directors_by_village([village.id])[village.id],
        "schools": village.schools,
    }


def school_page_context(school: School) -> dict:
    staff = db.session.scalars(
        select(User).where(User.school_id == school.id, User.active.is_(True)).order_by(User.display_name)
    ).all()
    return {"school": school, "staff": staff}
