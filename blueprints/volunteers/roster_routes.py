"""The roster pages: the list and its search, a volunteer's page with her pairings and history,
registering and editing her, taking her off the roster and back, the organisations, and the
Excel import (upload and check, confirm, then a background job whose progress the page polls)."""
from __future__ import annotations

import secrets
from io import BytesIO

from flask import abort, current_app, flash, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.files import copy_private
from blueprints.core.forms import add_errors
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.inputs import page_arg
from blueprints.core.jobs import TooManyJobs, own_job_or_404, start_job
from blueprints.core.security import accepts_upload
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import VOLUNTEER_KINDS
from blueprints.core.workbook import WRONG_TYPE, XLSX_MIMETYPE, Report, import_dir
from blueprints.volunteers import bp, roster_tasks
from blueprints.volunteers.access import get_volunteer_or_404, reachable_pairings
from blueprints.volunteers.models import Organisation, Pairing, Volunteer
from blueprints.volunteers.roster import (
    RosterError,
    VolunteerFilters,
    create_volunteer,
    new_login,
    organisations as all_organisations,
    save_organisation,
    search_volunteers,
    set_active,
    update_volunteer,
    villages,
)
from blueprints.volunteers.roster_excel import (
    claimed_name,
    read_roster,
    template_workbook,
    upload_name,
    waiting_uploads,
)
from blueprints.volunteers.roster_forms import OrganisationForm, VolunteerCreateForm, VolunteerForm
from extensions import db

JOB_KIND = "volunteers_import"


def _manage() -> bool:
    return can(current_user, "volunteers:manage")


@bp.route("/volunteers")
@require("volunteers:read")
def volunteer_list():
    filters = VolunteerFilters.from_args(request.args)
    page = search_volunteers(current_user, filters, page_arg(request.args))
    return render_page("volunteers/roster/index.html", "volunteers/roster/_results.html",
                       page=page, filters=filters, kinds=VOLUNTEER_KINDS, organisations=all_organisations(),
                       villages=villages(), may_manage=_manage())


def _form_page(form, volunteer=None, status=200):
    return render_template("volunteers/roster/form.html", form=form, volunteer=volunteer), status


@bp.route("/volunteers/new", methods=["GET", "POST"])
@require("volunteers:manage")
def volunteer_new():
    form = VolunteerCreateForm()
    # before the form's checks, which would refuse a repeat: its login name is the first sending's now
    if form.is_submitted() and (repeat := once.claim(form)):
        return repeat
    if form.validate_on_submit():
        volunteer = create_volunteer(form.values(), form.skills.data,
                                     new_login(form.username.data, form.password.data), actor=current_user)
        location = once.created(form, url_for("volunteers.volunteer_detail", volunteer_id=volunteer.id))
        db.session.commit()
        flash(f"已登记志愿者 {volunteer.name}，登录名 {volunteer.user.username}。请把初始密码当面告诉她：她第一次登录时"
              "要先改成只有她自己知道的密码。", "success")
        return redirect_after_post(location)
    return _form_page(form, status=422 if form.errors else 200)


DETAIL_OPTIONS = (joinedload(Volunteer.user), joinedload(Volunteer.organisation), joinedload(Volunteer.village),
                  selectinload(Volunteer.skill_rows), selectinload(Volunteer.changes))


@bp.route("/volunteers/<int:volunteer_id>")
@require("volunteers:read")
def volunteer_detail(volunteer_id: int):
    volunteer = get_volunteer_or_404(volunteer_id, options=DETAIL_OPTIONS)
    # Her pairings as far as the reader reaches pairings: the child's name, the programme, the dates.
    pairings = db.session.scalars(
        reachable_pairings(current_user).where(Pairing.volunteer_id == volunteer.id)
        .options(joinedload(Pairing.child))
        .order_by(Pairing.ended_on.is_not(None), Pairing.started_on.desc(), Pairing.id.desc())).all()
    page = render_template("volunteers/roster/detail.html", volunteer=volunteer, pairings=pairings,
                           open_pairings=sum(1 for p in pairings if p.is_open), may_manage=_manage())
    audit.record_view("volunteer_viewed", volunteer, detail=volunteer.name)
    return page


@bp.route("/volunteers/<int:volunteer_id>/edit", methods=["GET", "POST"])
@require("volunteers:manage")
def volunteer_edit(volunteer_id: int):
    volunteer = get_volunteer_or_404(volunteer_id, "volunteers:manage", DETAIL_OPTIONS)
    form = VolunteerForm(obj=volunteer)
    if request.method == "GET":
        form.organisation_id.data = volunteer.organisation_id or 0
        form.village_id.data = volunteer.village_id or 0
        form.skills.data = volunteer.skills
    if form.validate_on_submit():
        try:
            changed = update_volunteer(volunteer, form.values(), form.skills.data, actor=current_user)
        except RosterError as error:
            db.session.rollback()
            add_errors(form, error.errors)
            return _form_page(form, volunteer, 422)
        db.session.commit()
        flash(f"已保存，修改了 {changed} 项。" if changed else "没有改动。", "success")
        return redirect_after_post(url_for("volunteers.volunteer_detail", volunteer_id=volunteer.id))
    return _form_page(form, volunteer, 422 if form.errors else 200)


@bp.route("/volunteers/<int:volunteer_id>/active", methods=["POST"])
@require("volunteers:manage")
def volunteer_active(volunteer_id: int):
    """停用 or 重新启用: she stays on record with her history; her pairings end, her login follows."""
    volunteer = get_volunteer_or_404(volunteer_id, "volunteers:manage", DETAIL_OPTIONS)
    active = request.form.get("active") == "1"
    ended = set_active(volunteer, active, actor=current_user)
    db.session.commit()
    if active:
        flash(f"{volunteer.name} 已重新启用，可以新建结对。" + (
            "她可以登录了。" if volunteer.user.active else "她的登录是系统管理员停用的，需由系统管理员重新启用。"),
            "success")
    else:
        flash(f"{volunteer.name} 已停用，她的登录也已停用。" + (
            f"她的 {ended} 个结对已结束（志愿者不再参加），这些儿童可以重新匹配志愿者。" if ended else ""), "success")
    return redirect_after_post(url_for("volunteers.volunteer_detail", volunteer_id=volunteer.id))


# --- organisations -------------------------------------------------------------------------------

def _organisations_page(form, status=200):
    return render_template("volunteers/roster/organisations.html", organisations=all_organisations(), form=form,
                           may_manage=_manage()), status


@bp.route("/volunteers/organisations", methods=["GET", "POST"])
@require("volunteers:read")
def organisations():
    if request.method == "POST":
        if not _manage():
            abort(403)
        form = OrganisationForm()
        # before the form's checks, which would refuse a repeat: its name is the first sending's now
        if repeat := once.claim(form):
            return repeat
        if form.validate_on_submit():
            organisation = save_organisation(form.values(), actor=current_user)
            location = once.created(form, url_for("volunteers.organisations"))
            db.session.commit()
            flash(f"已添加 {organisation.name}。", "success")
            return redirect_after_post(location)
        return _organisations_page(form, 422)
    return _organisations_page(OrganisationForm(formdata=None) if _manage() else None)


@bp.route("/volunteers/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
@require("volunteers:manage")
def organisation_edit(organisation_id: int):
    organisation = db.session.get(Organisation, organisation_id)  # reference data: every manager reaches it all
    if organisation is None:
        abort(404)
    form = OrganisationForm(obj=organisation, editing=organisation)
    if request.method == "GET":
        form.village_id.data = organisation.village_id or 0
    if form.validate_on_submit():
        save_organisation(form.values(), organisation, actor=current_user)
        db.session.commit()
        flash(f"已保存 {organisation.name}。", "success")
        return redirect_after_post(url_for("volunteers.organisations"))
    return render_template("form_page.html", form=form, title=f"修改 {organisation.name}", subtitle="组织和站点",
                           back=url_for("volunteers.organisations")), 422 if form.errors else 200


# --- the Excel import ----------------------------------------------------------------------------

@bp.route("/volunteers/import/template.xlsx")
@require("volunteers:manage")
def volunteer_import_template():
    return send_file(BytesIO(template_workbook()), mimetype=XLSX_MIMETYPE, as_attachment=True,
                     download_name="志愿者名单（模板）.xlsx", max_age=0)


def _import_page(status=200, **context):
    return render_template("volunteers/roster/import.html", **context), status


@bp.route("/volunteers/import", methods=["GET", "POST"])
@accepts_upload
@require("volunteers:manage")
def volunteer_import():
    if request.method == "GET":
        return _import_page()
    upload = request.files.get("file")
    filename = clean_text(upload.filename or "").strip()[-200:] if upload is not None else ""
    if not filename:
        return _import_page(422, problem="请选择要上传的 Excel 文件（.xlsx）。")
    size = upload.stream.seek(0, 2)  # the body is parsed already: capped here, and in front of the app
    upload.stream.seek(0)
    limit = current_app.config["IMPORT_MAX_UPLOAD_BYTES"]
    if size > limit:
        return _import_page(413, problem=f"文件太大（超过 {limit / 1024 / 1024:g}MB）。请分成几个文件上传。")
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        report = Report(problem=WRONG_TYPE.format(name=filename))
    else:
        report = read_roster(upload.stream).report  # checked before anything is written
    # One file waits per user, the last one checked: an earlier one (it holds passwords) goes now,
    # not days later with the daily clean-up.
    for earlier in import_dir().glob(waiting_uploads(current_user.id)):
        earlier.unlink(missing_ok=True)
    token = None
    if report.ok:
        token = secrets.token_hex(8)
        upload.stream.seek(0)
        copy_private(upload.stream, import_dir() / upload_name(current_user.id, token))
    return _import_page(200 if report.ok else 422, report=report, filename=filename, token=token)


@bp.route("/volunteers/import/confirm", methods=["POST"])
@require("volunteers:manage")
def volunteer_import_confirm():
    name = upload_name(current_user.id, request.form.get("token", ""))
    filename = clean_text(request.form.get("filename", "")).strip()[-200:] or "志愿者名单.xlsx"
    rows = request.form.get("rows", "")
    if name is None:
        abort(404)
    try:  # claim the file: a second click finds it gone
        (import_dir() / name).rename(import_dir() / claimed_name(name))
    except FileNotFoundError:
        flash("这份文件已经导入或已处理过（或已过期），不能再次确认。请重新上传。", "error")
        return redirect_after_post(url_for("volunteers.volunteer_import"))
    try:
        job = start_job(JOB_KIND, f"导入志愿者名单（{filename[:80]}）", current_user.id, roster_tasks.IMPORT_TASK,
                        upload=name, filename=filename, user_id=current_user.id,
                        rows=int(rows) if rows.isascii() and rows.isdigit() and len(rows) < 7 else 0)
    except TooManyJobs:
        (import_dir() / claimed_name(name)).rename(import_dir() / name)  # may be confirmed later
        raise
    return redirect_after_post(url_for("volunteers.volunteer_import_job", job_id=job.id))


@bp.route("/volunteers/import/job/<int:job_id>")
@require("volunteers:manage")
def volunteer_import_job(job_id: int):
    job = own_job_or_404(job_id, JOB_KIND)
    report, imported = roster_tasks.read_report(job.result_path) if job.finished else (None, 0)
    return render_page("volunteers/roster/import.html", "volunteers/roster/_import_job.html",
                       job=job, report=report, imported=imported)
