"""What each role's home page shows. Every query starts from the access gate."""
from __future__ import annotations

from sqlalchemy import func, select

from blueprints.admin.models import Department, School, Village
from blueprints.auth.models import User, user_villages
from blueprints.children.models import CATEGORIES, Child, ChildCategory
from blueprints.core.access import ROLES, can, reachable_children, reachable_schools, reachable_villages
from blueprints.core.audit import AuditEvent
from blueprints.core.plan import PLAN_TASKS, tasks_for_department
from extensions import db

# The plan tasks a school carries out itself (§2 screening, §6 parent contact, §12 responsible
# carer and dropout, §16 holiday safety lectures, §17 home visits).
SCHOOL_TASKS = (2, 6, 12, 16, 17)
# The plan tasks a child director works on in the village.
DIRECTOR_TASKS = (2, 6, 10, 11, 17)


def directors_by_village(village_ids: list[int]) -> dict[int, list[User]]:
    """One query for every village's directors (no query per village)."""
    rows = db.session.execute(
        select(user_villages.c.village_id, User)
        .join(User, User.id == user_villages.c.user_id)
        .where(user_villages.c.village_id.in_(village_ids), User.active.is_(True), User.role == "director")
        .order_by(User.display_name)
    ).all()
    result: dict[int, list[User]] = {vid: [] for vid in village_ids}
    for village_id, user in rows:
        result[village_id].append(user)
    return result


def child_counts(user) -> dict | None:
    """How many current children, in all and by category: within reach for those who read
    records, town-wide without names for departments (children:count). Two queries."""
    if can(user, "children:read"):
        current = reachable_children(user)
    elif can(user, "children:count"):
        current = select(Child)
    else:
        return None
    current = current.where(Child.status.in_(("registered", "active")))
    ids = current.with_only_columns(Child.id).scalar_subquery()
    total = db.session.scalar(current.with_only_columns(func.count(Child.id)).order_by(None))
    key = db.session.scalar(
        current.with_only_columns(func.count(Child.id)).where(Child.attention_level == "key").order_by(None))
    by_category = dict(db.session.execute(
        select(ChildCategory.category, func.count()).where(ChildCategory.child_id.in_(ids))
        .group_by(ChildCategory.category)
    ).all())
    return {
        "total": total,
        "key": key,
        "by_category": [(label, by_category.get(code, 0)) for code, label in CATEGORIES.items()],
        "named": can(user, "children:read"),
    }


def home_context(user) -> dict:
    context: dict = {"plan_tasks": [], "child_counts": child_counts(user)}
    role = user.role
    if role in ("admin", "civil_affairs", "supervisor", "director", "school"):
        villages = db.session.scalars(reachable_villages(user)).all()
        context["villages"] = villages
        context["directors"] = directors_by_village([v.id for v in villages])
        context["schools"] = db.session.scalars(reachable_schools(user)).all()
    if role == "admin":
        counts = dict(db.session.execute(
            select(User.role, func.count()).where(User.active.is_(True)).group_by(User.role)
        ).all())
        context["user_counts"] = [(r.label, counts.get(code, 0)) for code, r in ROLES.items()]
        context["department_count"] = db.session.scalar(select(func.count()).select_from(Department))
    if role in ("admin", "civil_affairs"):
        context["recent_events"] = db.session.scalars(
            select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(8)
        ).all()
    if role == "civil_affairs":
        context["plan_tasks"] = tasks_for_department("civil_affairs")
    elif role == "department" and user.department is not None:
        context["plan_tasks"] = tasks_for_department(user.department.code)
    elif role == "school":
        context["plan_tasks"] = [t for t in PLAN_TASKS if t.number in SCHOOL_TASKS]
    elif role in ("director", "supervisor"):
        context["plan_tasks"] = [t for t in PLAN_TASKS if t.number in DIRECTOR_TASKS]
    return context


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
