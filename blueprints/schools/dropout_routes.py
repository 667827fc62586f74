"""The pages of enrolment and dropout: a pupil's state changed (or her transfer), a dropout
reported, one case with its steps, return and weekly attendance, and the list of dropouts (the
school's own; the town's for civil affairs, the supervisor and 镇教办)."""
from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from blueprints.children.access import get_child_or_404
from blueprints.children.models import Child
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import as_id, id_arg, page_arg, text_arg
from blueprints.core.vocabulary import ENROLMENT_STATES
from blueprints.places.models import School
from blueprints.schools import bp
from blueprints.schools.access import get_dropout_or_404, reachable_dropouts
from blueprints.schools.classes import scope_of
from blueprints.schools.dropout_forms import AttendanceForm, DropoutForm, EnrolmentForm, ReturnForm, StepForm
from blueprints.schools.dropouts import (CASE_STATES, LIST_FILTERS, WATCH_WEEKS, DropoutError, add_step, case_state,
                                         of_class,
                                         dropout_page, monday_of, record_attendance, record_return, report_dropout,
                                         watches)
from blueprints.schools.enrolment import EnrolmentError, change_enrolment, current_state, transfer_schools, waiting_case
from blueprints.schools.models import DropoutCase
from extensions import db

PAGE_SIZE = 50
PUPIL = (joinedload(Child.school), joinedload(Child.residence_village))


def _record_url(child: Child) -> str:
    return url_for("children.detail", child_id=child.id) + "#enrolment"


@bp.route("/schools/pupils/<int:child_id>/enrolment", methods=["GET", "POST"])
@require("dropouts:write")
def enrolment_edit(child_id: int):
    child = get_child_or_404(child_id, "dropouts:write", PUPIL)
    schools = transfer_schools(child)
    form = EnrolmentForm(formdata=None if request.method == "GET" else request.form)
    form.to_school_id.choices = choices([("", "不转入本镇学校"), *((str(s.id), s.name) for s in schools)])
    state, since = current_state(child)
    if request.method == "GET":
        form.changed_on.data = local_today()
    elif form.validate():
        school_name = child.school.name if child.school else ""
        try:
            change = change_enrolment(child, {"state": form.state.data, "changed_on": form.changed_on.data,
                                              "to_school_id": as_id(form.to_school_id.data), "note": form.note.data},
                                      actor=current_user)
        except EnrolmentError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            if change.to_school_id:  # she has left this school's reach: nothing more of her to show here
                flash(f"{child.name} 已从{school_name}转入{change.to_school.name}，今后由该校跟进。", "success")
                return redirect_after_post(url_for("dashboard.home"))
            flash(f"{child.name} 的在读状态已改为“{ENROLMENT_STATES[change.state_to]}”。", "success")
            return redirect_after_post(_record_url(child))
    status = 422 if request.method == "POST" else 200
    waiting = waiting_case(child.id)
    return render_template("schools/dropouts/enrolment.html", form=form, child=child, state=state, since=since,
                           waiting=waiting, today=local_today()), status


@bp.route("/schools/pupils/<int:child_id>/dropout", methods=["GET", "POST"])
@require("dropouts:write")
def dropout_new(child_id: int):
    child = get_child_or_404(child_id, "dropouts:write", PUPIL)
    form = DropoutForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "GET":
        waiting = waiting_case(child.id)
        if waiting is not None:
            flash(f"{child.name} {waiting.dropped_on:%Y-%m-%d} 起的辍学还没有登记返校，请在这条记录里继续跟进。", "info")
            return redirect(url_for("schools.dropout_detail", case_id=waiting.id))
        form.dropped_on.data = local_today()
    elif form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            case = report_dropout(child, {"dropped_on": form.dropped_on.data, "reason": form.reason.data,
                                          "reason_note": form.reason_note.data}, actor=current_user)
        except DropoutError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("schools.dropout_detail", case_id=case.id))
            db.session.commit()
            flash(f"已报告 {child.name} 辍学。请记录家访、劝返等跟进，直到返校。", "success")
            return redirect_after_post(location)
    status = 422 if request.method == "POST" else 200
    return render_template("schools/dropouts/new.html", form=form, child=child, today=local_today()), status


CASE_OPTIONS = (joinedload(DropoutCase.child).joinedload(Child.school),
                joinedload(DropoutCase.child).joinedload(Child.residence_village),
                joinedload(DropoutCase.school), joinedload(DropoutCase.reported_by))


@bp.route("/schools/dropouts/<int:case_id>")
@require("dropouts:read")
def dropout_detail(case_id: int):
    case = get_dropout_or_404(case_id, options=CASE_OPTIONS)
    page = _detail_page(case)
    audit.record_view("dropout_viewed", case, detail=case.child.name)
    return page


def _detail_page(case: DropoutCase, status: int = 200, **forms):
    today = local_today()
    last_week = monday_of(today) - timedelta(days=7)
    step_form = forms.get("step_form") or StepForm(formdata=None, done_on=today)
    return_form = forms.get("return_form") or ReturnForm(formdata=None, returned_on=today)
    attendance_form = forms.get("attendance_form") or AttendanceForm(formdata=None, week_of=last_week, absent_days=0)
    watch = watches([case], today).get(case.id)
    return render_template(
        "schools/dropouts/detail.html", case=case, child=case.child, state=case_state(case, today),
        states=CASE_STATES, watch=watch, today=today, may_write=can(current_user, "dropouts:write")
        and case.child.status != "exited", step_form=step_form, return_form=return_form,
        attendance_form=attendance_form, open_form=forms.get("open_form"),
        normal_form=AttendanceForm(formdata=None),  # 这一周：正常, beside the full form: a token of its own
        other_cases=db.session.scalars(reachable_dropouts(current_user).where(
            DropoutCase.child_id == case.child_id, DropoutCase.id != case.id).order_by(DropoutCase.dropped_on.desc())).all(),
    ), status


def _case_for_write(case_id: int) -> DropoutCase:
    return get_dropout_or_404(case_id, "dropouts:write", options=CASE_OPTIONS)


@bp.route("/schools/dropouts/<int:case_id>/steps", methods=["POST"])
@require("dropouts:write")
def dropout_step(case_id: int):
    case = _case_for_write(case_id)
    form = StepForm()
    if form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            add_step(case, {"kind": form.kind.data, "done_on": form.done_on.data, "note": form.note.data},
                     actor=current_user)
        except DropoutError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("schools.dropout_detail", case_id=case.id) + "#steps")
            db.session.commit()
            flash("跟进情况已记录。", "success")
            return redirect_after_post(location)
    return _detail_page(case, 422, step_form=form, open_form="step")


@bp.route("/schools/dropouts/<int:case_id>/return", methods=["POST"])
@require("dropouts:write")
def dropout_return(case_id: int):
    case = _case_for_write(case_id)
    form = ReturnForm()
    if form.validate():
        try:
            record_return(case, {"returned_on": form.returned_on.data, "return_note": form.return_note.data},
                          actor=current_user)
        except DropoutError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"{case.child.name} 已返校（应返尽返）。今后 {WATCH_WEEKS} 周请每周记录一次考勤。", "success")
            return redirect_after_post(url_for("schools.dropout_detail", case_id=case.id) + "#attendance")
    return _detail_page(case, 422, return_form=form, open_form="return")


@bp.route("/schools/dropouts/<int:case_id>/attendance", methods=["POST"])
@require("dropouts:write")
def attendance_check(case_id: int):
    case = _case_for_write(case_id)
    form = AttendanceForm()
    if form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            check = record_attendance(case, {"week_of": form.week_of.data, "absent_days": form.absent_days.data,
                                             "note": form.note.data}, actor=current_user)
        except DropoutError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("schools.dropout_detail", case_id=case.id) + "#attendance")
            db.session.commit()
            flash(f"{check.week_of:%Y-%m-%d} 这一周：" + (f"缺勤 {check.absent_days} 天" if check.absent_days else "正常")
                  + "，已记录。", "success")
            return redirect_after_post(location)
    return _detail_page(case, 422, attendance_form=form, open_form="attendance")


@bp.route("/schools/dropouts")
@require("dropouts:list")
def dropout_list():
    which = request.args.get("state", "open")
    which = which if which in LIST_FILTERS else "open"
    q = text_arg(request.args, "q", 40)
    school_id = id_arg(request.args, "school")
    scope = scope_of(current_user, request.args.get("scope"))
    query = of_class(reachable_dropouts(current_user, "dropouts:list"), scope.pair).join(Child, Child.id == DropoutCase.child_id)
    if school_id:
        query = query.where(Child.school_id == school_id)
    if q:
        query = query.where(Child.name.contains(q, autoescape=True))
    today = local_today()
    page = page_arg(request.args)
    rows, total = dropout_page(query, which, today, page, PAGE_SIZE, CASE_OPTIONS)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        page = pages
        rows, total = dropout_page(query, which, today, page, PAGE_SIZE, CASE_OPTIONS)
    # A school sees its own pupils only: the town's lists may be narrowed to one school.
    schools = [] if can(current_user, "dropouts:write") else db.session.scalars(
        select(School).where(or_(School.active.is_(True), School.id == school_id)).order_by(School.name)).all()
    html = render_template("schools/dropouts/list.html", rows=rows, total=total, page=page, pages=pages, which=which,
                           filters=LIST_FILTERS, states=CASE_STATES, q=q, school_id=school_id, schools=schools,
                           today=today, scope=scope)
    audit.record_view("dropout_list_viewed", detail=f"{LIST_FILTERS[which]}，{total} 人")
    return html
