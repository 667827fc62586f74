"""The care plan's pages: a child's plan with its needs and measures (and the forms to add and
resolve them), a measure changed, and a visit's finding added to the plan with one tap (htmx)."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blueprints.care import bp
from blueprints.care.access import get_measure_or_404, get_need_or_404
from blueprints.care.models import Measure, Need, Referral
from blueprints.care.plan import (UNFINISHED, PlanError, add_measure, add_need, confirm_visit_need, department_choices,
                                  is_overdue, plan_needs, plan_url, resolve_need, source_label, update_measure,
                                  visit_dates, visit_offers)
from blueprints.care.plan_forms import MeasureEditForm, MeasureForm, NeedForm, ResolveForm
from blueprints.children.access import get_child_or_404
from blueprints.children.models import Child
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.errors import render_error
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post, wants_fragment
from blueprints.core.vocabulary import MEASURE_STATES, NEED_CATEGORIES
from blueprints.visits.models import Visit
from extensions import db

CHILD_LOAD = (joinedload(Child.residence_village), joinedload(Child.school))
NEED_LOAD = (joinedload(Need.child), selectinload(Need.measures).selectinload(Measure.referrals)
             .joinedload(Referral.department))


def _unique_ids(form, key: str):
    """Each need on the plan has its own forms: their fields' ids (not their names) carry the need."""
    for f in form:
        if f.name != "csrf_token":
            f.id = f"{key}-{f.name}"
            f.label.field_id = f.id
    return form


def _department_field(form, departments):
    form.department_id.choices = choices([("", "不指定部门"), *departments])
    return form


def _plan_page(child: Child, status: int = 200, need_form=None, failed=None):
    """The plan; `failed` = (need id, "measure" or "resolve", the form as posted) comes back open with
    its messages beside the fields."""
    needs = plan_needs(child, current_user)
    may_write = can(current_user, "care_plans:write") and child.status != "exited"
    departments = department_choices() if may_write else []
    forms = {}
    if may_write:
        for need in needs:
            if need.state == "open":
                forms[need.id] = {
                    "measure": _department_field(MeasureForm(formdata=None, owner_name=current_user.display_name),
                                                 departments),
                    "resolve": ResolveForm(formdata=None)}
    if failed is not None:
        need_id, kind, form = failed
        if need_id in forms:
            forms[need_id][kind] = form
        else:  # the need was resolved meanwhile: no form of it is on the page, its message is
            for errors in form.errors.values():
                flash(errors[0], "error")
    for need_id, pair in forms.items():
        _unique_ids(pair["measure"], f"m{need_id}")
        _unique_ids(pair["resolve"], f"r{need_id}")
    open_needs = [n for n in needs if n.state == "open"]
    return render_template(
        "care/plan/plan.html", child=child, open_needs=open_needs,
        resolved_needs=[n for n in needs if n.state != "open"], visits=visit_dates(needs), forms=forms,
        need_form=need_form or NeedForm(formdata=None), may_write=may_write, failed=failed,
        today=local_today(), is_overdue=is_overdue, source_label=source_label,
        may_visits=can(current_user, "visits:read")), status


@bp.route("/children/<int:child_id>/plan")
@require("care_plans:read")
def plan(child_id: int):
    child = get_child_or_404(child_id, "care_plans:read", CHILD_LOAD)
    page = _plan_page(child)
    audit.record_view("care_plan_viewed", child, detail=child.name)
    return page


@bp.route("/children/<int:child_id>/plan/needs", methods=["POST"])
@require("care_plans:write")
def need_new(child_id: int):
    child = get_child_or_404(child_id, "care_plans:write", CHILD_LOAD)
    form = NeedForm()
    if form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            need = add_need(child, {"category": form.category.data, "description": form.description.data},
                            actor=current_user)
        except PlanError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, plan_url(child.id, f"need-{need.id}"))
            db.session.commit()
            flash(f"已登记需求“{NEED_CATEGORIES[need.category]}”。请为它添加帮扶措施：做什么、谁负责、何时完成。", "success")
            return redirect_after_post(location)
    return _plan_page(child, 422, need_form=form)


@bp.route("/care/needs/<int:need_id>/resolve", methods=["POST"])
@require("care_plans:write")
def need_resolve(need_id: int):
    need = get_need_or_404(need_id, options=NEED_LOAD)
    form = ResolveForm()
    if form.validate():
        try:
            resolve_need(need, {"resolution": form.resolution.data, "note": form.note.data}, actor=current_user)
        except PlanError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"需求“{NEED_CATEGORIES.get(need.category, need.category)}”已标记为"
                  + ("已解决。" if need.state == "met" else "不再需要。"), "success")
            return redirect_after_post(plan_url(need.child_id, f"need-{need.id}"))
    db.session.rollback()  # the lock's fresh read stays unchanged
    return _plan_page(need.child, 422, failed=(need.id, "resolve", form))


def _measure_values(form) -> dict:
    return {"action": form.action.data, "department_id": form.department_id.data, "owner_name": form.owner_name.data,
            "due_on": form.due_on.data}


@bp.route("/care/needs/<int:need_id>/measures", methods=["POST"])
@require("care_plans:write")
def measure_new(need_id: int):
    need = get_need_or_404(need_id, options=NEED_LOAD)
    form = _department_field(MeasureForm(), department_choices())
    if form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            measure = add_measure(need, _measure_values(form), actor=current_user)
        except PlanError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, plan_url(need.child_id, f"measure-{measure.id}"))
            db.session.commit()
            flash(f"已添加帮扶措施，期限 {measure.due_on:%Y-%m-%d}，责任人 {measure.owner_name}。", "success")
            return redirect_after_post(location)
    return _plan_page(need.child, 422, failed=(need.id, "measure", form))


MEASURE_LOAD = (joinedload(Measure.need), joinedload(Measure.child), joinedload(Measure.department),
                selectinload(Measure.referrals).joinedload(Referral.department))


@bp.route("/care/measures/<int:measure_id>", methods=["GET", "POST"])
@require("care_plans:write")
def measure_edit(measure_id: int):
    measure = get_measure_or_404(measure_id, options=MEASURE_LOAD)
    child = measure.child
    may_edit = measure.state in UNFINISHED and child.status != "exited"
    if request.method == "GET":
        form = MeasureEditForm(formdata=None, obj=measure)
        form.department_id.data = str(measure.department_id or "")
    else:
        form = MeasureEditForm()
    _department_field(form, department_choices())
    if request.method == "POST" and form.validate():
        try:
            update_measure(measure, {**_measure_values(form), "state": form.state.data, "outcome": form.outcome.data,
                                     "closed_reason": form.closed_reason.data}, actor=current_user)
        except PlanError as error:
            db.session.rollback()
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"帮扶措施已保存：{MEASURE_STATES[measure.state]}。", "success")
            return redirect_after_post(plan_url(measure.child_id, f"measure-{measure.id}"))
    page = render_template("care/plan/measure_edit.html", form=form, measure=measure, child=child, may_edit=may_edit,
                           overdue=is_overdue(measure, local_today())), 422 if request.method == "POST" else 200
    if request.method == "GET":
        audit.record_view("measure_form_opened", measure, detail=child.name)
    return page


@bp.route("/care/visits/<int:visit_id>/needs/<category>", methods=["POST"])
@require("care_plans:write")
def need_confirm(visit_id: int, category: str):
    """One tap on the visit page: the finding joins the plan (htmx swaps the item for 已加入)."""
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    get_child_or_404(visit.child_id, "care_plans:write")  # the visit is reached exactly when its child is
    try:
        need, added = confirm_visit_need(visit, category, actor=current_user)
    except LookupError:
        abort(404)  # not a finding of this visit
    except PlanError as error:
        return render_error(409, "不能加入帮扶方案", error.errors["category"])
    db.session.commit()
    offer = next(o for o in visit_offers(visit) if o.category == category)
    if wants_fragment():
        return render_template("care/plan/_visit_item.html", visit=visit, offer=offer, need=need, may_confirm=True)
    flash(f"“{offer.title}”" + ("已加入帮扶方案。" if added else "已在帮扶方案中。"), "success")
    return redirect_after_post(url_for("visits.detail", visit_id=visit.id) + "#care-findings")
