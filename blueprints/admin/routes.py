from __future__ import annotations

from flask import abort, current_app, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.admin import bp
from blueprints.admin.forms import (DepartmentForm, SchoolCreateForm, SchoolForm, UserCreateForm, UserForm,
                                    VillageCreateForm, VillageForm)
from blueprints.places.models import Department, School, Village
from blueprints.admin.services import save_department, save_school, save_user, save_village, search_users
from blueprints.auth.models import User
from blueprints.auth.services import address_pauses, recent_failures, unlock_user
from blueprints.core import once
from blueprints.core.access import ROLES, require
from blueprints.core.forms import OnceForm
from blueprints.core.audit import ACTION_LABELS, AuditEvent
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.inputs import page_arg, text_arg
from extensions import db

AUDIT_PAGE_SIZE = 100


def _claim(form):
    """A creating form's token claimed before the form's checks, which would refuse a repeat as a
    name already taken (by its first sending): the repeat goes where the first went. None: go on."""
    if isinstance(form, OnceForm) and form.is_submitted():
        return once.claim(form)
    return None


def _form_page(form, title: str, action: str, back: str):
    status = 422 if form.errors else 200
    return render_template("form_page.html", form=form, title=title, action=action, back=back), status


@bp.route("/users")
@require("users:manage")
def users():
    q = text_arg(request.args, "q")
    role = request.args.get("role", "")
    role = role if role in ROLES else ""  # an unknown role filters nothing
    return render_page(
        "admin/users.html", "admin/_user_rows.html",
        users=search_users(q, role), q=q, role=role, roles=ROLES,
    )


@bp.route("/users/new", methods=["GET", "POST"])
@require("users:manage")
def user_new():
    form = UserCreateForm()
    if repeat := _claim(form):
        return repeat
    if form.validate_on_submit():
        user = save_user(form, actor=current_user)
        location = once.created(form, url_for("admin.users"))
        db.session.commit()
        flash(f"已新建用户 {user.username}（{user.display_name}）。", "success")
        return redirect_after_post(location)
    return _form_page(form, "新建用户", url_for("admin.user_new"), url_for("admin.users"))


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@require("users:manage")
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, editing=user)
    if request.method == "GET":
        form.villages.data = [v.id for v in user.villages]
        form.school_id.data = user.school_id or 0
        form.department_id.data = user.department_id or 0
        form.volunteer_kind.data = user.volunteer_kind or ""
    form.password.label.text = "重置密码（不改请留空）"
    if form.validate_on_submit():
        save_user(form, user, actor=current_user)
        db.session.commit()
        flash(f"已保存用户 {user.username}。", "success")
        return redirect_after_post(url_for("admin.users"))
    return render_template(
        "admin/user_edit.html", form=form, title=f"修改用户 {user.username}",
        action=url_for("admin.user_edit", user_id=user.id), back=url_for("admin.users"),
        user=user, failures=recent_failures(user), max_failures=current_app.config["LOGIN_MAX_FAILURES"],
        address_pauses=address_pauses(user),
    ), 422 if form.errors else 200


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@require("users:manage")
def user_unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    cleared = unlock_user(user, actor=current_user)
    db.session.commit()
    flash(f"已解除 {user.username} 的登录限制，清除了 {cleared} 条登录失败记录。", "success")
    return redirect_after_post(url_for("admin.user_edit", user_id=user.id))


@bp.route("/reference")
@require("reference:manage")
def reference():
    return render_template(
        "admin/reference.html",
        villages=db.session.scalars(select(Village).order_by(Village.name)).all(),
        schools=db.session.scalars(select(School).order_by(School.name)).all(),
        departments=db.session.scalars(select(Department).order_by(Department.id)).all(),
    )


@bp.route("/villages/new", methods=["GET", "POST"])
@bp.route("/villages/<int:village_id>/edit", methods=["GET", "POST"])
@require("reference:manage")
def village_form(village_id: int | None = None):
    village = db.get_or_404(Village, village_id) if village_id else None
    form = (VillageForm if village else VillageCreateForm)(obj=village, editing=village)
    if repeat := _claim(form):
        return repeat
    if form.validate_on_submit():
        save_village(form, village)
        if village is None:
            once.created(form, url_for("admin.reference"))
        db.session.commit()
        flash(f"已保存村：{form.name.data}。", "success")
        return redirect_after_post(url_for("admin.reference"))
    title = f"修改村 {village.name}" if village else "新增村"
    return _form_page(form, title, request.path, url_for("admin.reference"))


@bp.route("/schools/new", methods=["GET", "POST"])
@bp.route("/schools/<int:school_id>/edit", methods=["GET", "POST"])
@require("reference:manage")
def school_form(school_id: int | None = None):
    school = db.get_or_404(School, school_id) if school_id else None
    form = (SchoolForm if school else SchoolCreateForm)(obj=school, editing=school)
    if request.method == "GET" and school is not None:
        form.villages.data = [v.id for v in school.villages]
    if repeat := _claim(form):
        return repeat
    if form.validate_on_submit():
        save_school(form, school)
        if school is None:
            once.created(form, url_for("admin.reference"))
        db.session.commit()
        flash(f"已保存学校：{form.name.data}。", "success")
        return redirect_after_post(url_for("admin.reference"))
    title = f"修改学校 {school.name}" if school else "新增学校"
    return _form_page(form, title, request.path, url_for("admin.reference"))


@bp.route("/departments/<int:department_id>/edit", methods=["GET", "POST"])
@require("reference:manage")
def department_form(department_id: int):
    department = db.get_or_404(Department, department_id)
    form = DepartmentForm(obj=department, editing=department)
    if form.validate_on_submit():
        save_department(form, department)
        db.session.commit()
        flash(f"已保存部门：{department.name}。", "success")
        return redirect_after_post(url_for("admin.reference"))
    return _form_page(form, f"修改部门 {department.name}", request.path, url_for("admin.reference"))


@bp.route("/audit")
@require("audit:read")
def audit():
    action = request.args.get("action", "")
    username = text_arg(request.args, "user", 40)
    page = page_arg(request.args)
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if action:
        if action not in ACTION_LABELS:
            abort(404)
        query = query.where(AuditEvent.action == action)
    if username:
        query = query.where(AuditEvent.username == username)
    events = db.paginate(query, page=page, per_page=AUDIT_PAGE_SIZE, error_out=False)
    return render_page(
        "admin/audit.html", "admin/_audit_rows.html",
        events=events, action=action, username=username, actions=ACTION_LABELS,
    )
