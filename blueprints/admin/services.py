"""Writes to accounts and reference data. Each writes its audit event; the route commits."""
from __future__ import annotations

from sqlalchemy import or_, select

from blueprints.admin.forms import DepartmentForm, SchoolForm, UserForm, VillageForm
from blueprints.places.models import Department, School, Village
from blueprints.auth.models import User
from blueprints.auth.services import change_password, end_sessions
from blueprints.core import audit
from blueprints.core.access import REACH_FIELDS, ROLES
from blueprints.core.clock import utcnow
from blueprints.schools.classes import HEAD_TEACHER, class_label, clear_class
from extensions import db


def search_users(text: str = "", role: str = "") -> list[User]:
    query = select(User).order_by(User.active.desc(), User.role, User.username)
    if text:
        like = f"%{text.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like), User.phone.ilike(like)))
    if role:
        query = query.where(User.role == role)
    return list(db.session.scalars(query))


def _describe(user: User) -> dict[str, str]:
    return {
        "姓名": user.display_name,
        "电话": user.phone or "",
        "角色": user.role_label,
        "范围": user.reach_label,
        "状态": "启用" if user.active else "停用",
    } | ({"带班": class_label(user.class_grade, user.class_name)} if user.class_name else {})


def save_user(form: UserForm, user: User | None = None, *, actor=None) -> User:
    creating = user is None
    before = {} if creating else _describe(user)
    if creating:
        user = User(username=form.username.data)
    else:
        user.username = form.username.data
    user.display_name = form.display_name.data.strip()
    user.phone = (form.phone.data or "").strip() or None
    user.role = form.role.data
    reach = REACH_FIELDS.get(ROLES[user.role].reach)
    # Keep only the reach the role uses, so a changed role never keeps a stale village or school.
    user.volunteer_kind = form.volunteer_kind.data if user.role == "volunteer" else None
    user.villages = (
        list(db.session.scalars(select(Village).where(Village.id.in_(form.villages.data))))
        if reach == "villages" else []
    )
    school_id, duty = (form.school_id.data, form.school_duty.data) if reach == "school" else (None, None)
    if school_id != user.school_id or duty != HEAD_TEACHER:
        clear_class(user)  # her class was one of that school's, and a 班主任's
    user.school_id, user.school_duty = school_id, duty
    user.department_id = form.department_id.data if reach == "department" else None
    was_active = user.active if not creating else True
    user.active = form.active.data
    if not user.active and was_active and not creating:
        end_sessions(user, "disabled")  # on the server: a copied cookie dies with them
    if form.password.data and actor is not None and user.id == actor.id:
        # her own, chosen by her: as on /account/password, her other devices sign out, this one goes on
        change_password(user, form.password.data, current=actor.current_session)
    elif form.password.data:
        user.set_password(form.password.data)
        user.password_changed_at = utcnow()
        user.password_is_temporary = True  # known to the administrator: hers to choose at sign-in
        if not creating:
            end_sessions(user, "password_reset")
            audit.record("password_reset", user)
    db.session.add(user)  # only now: an earlier autoflush would insert it without a password
    db.session.flush()
    db.session.refresh(user)
    after = _describe(user)
    if creating:
        detail = "；".join(f"{k}：{v}" for k, v in after.items())
        audit.record("user_created", user, detail=f"{user.username}（{detail}）")
    else:
        changes = [f"{k}：{before.get(k, '无')} → {after.get(k, '无')}" for k in dict.fromkeys([*after, *before])
                   if before.get(k) != after.get(k)]  # 带班 only while she has one
        audit.record("user_updated", user, detail=f"{user.username}：" + ("；".join(changes) or "未改动"))
    return user


def save_village(form: VillageForm, village: Village | None = None) -> Village:
    if village is None:
        village = Village()
        db.session.add(village)
    village.name = form.name.data
    village.active = form.active.data
    audit.record("village_saved", village, detail=village.name)
    return village


def save_school(form: SchoolForm, school: School | None = None) -> School:
    if school is None:
        school = School()
        db.session.add(school)
    school.name = form.name.data
    school.kind = form.kind.data
    school.active = form.active.data
    school.villages = list(db.session.scalars(select(Village).where(Village.id.in_(form.villages.data))))
    audit.record("school_saved", school, detail=f"{school.name}（服务：{'、'.join(v.name for v in school.villages)}）")
    return school


def save_department(form: DepartmentForm, department: Department) -> Department:
    before = department.name
    department.name = form.name.data
    department.active = form.active.data
    audit.record("department_saved", department, detail=f"{before} → {department.name}")
    return department
