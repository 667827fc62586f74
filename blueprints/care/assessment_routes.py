"""The pages of guardianship assessment (a new one, one assessment with its suggestions, the scale an
administrator edits) and of urgent flags (raising one, the list, one flag and its action taken)."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func
from sqlalchemy.orm import joinedload, selectinload

from blueprints.care import bp
from blueprints.care.access import get_assessment_or_404, get_urgent_flag_or_404, reachable_urgent_flags
from blueprints.care.assessment_forms import ActionForm, InterventionsForm, UrgentForm, assessment_form, scale_form
from blueprints.care.assessments import (SUGGESTED_INTERVENTIONS, AssessmentError, active_items, add_suggested_need,
                                         all_items, item_field, record_assessment, save_scale, set_interventions,
                                         suggested_needs, thresholds, unanswered)
from blueprints.care.models import GuardianshipAssessment, UrgentFlag
from blueprints.care.urgent import FlagClosed, UrgentError, audit_read, flag_child, open_flag, record_action
from blueprints.children.access import get_child_or_404, reachable_children
from blueprints.children.models import Child
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.disclosure import current_disclosure
from blueprints.core.forms import add_errors
from blueprints.core.htmx import redirect_after_post, wants_fragment
from blueprints.core.inputs import as_id, page_arg
from blueprints.core.vocabulary import ASSESSMENT_ANSWERS, NEED_CATEGORIES
from extensions import db

PAGE_SIZE = 30
CHILD = (joinedload(Child.residence_village), joinedload(Child.school))


def _record_url(child_id: int, anchor: str) -> str:
    return url_for("children.detail", child_id=child_id) + anchor


# --- assessments ------------------------------------------------------------------------------------

@bp.route("/children/<int:child_id>/assessments/new", methods=["GET", "POST"])
@require("assessments:write")
def assessment_new(child_id: int):
    child = get_child_or_404(child_id, "assessments:write", CHILD)
    items = active_items()
    form = assessment_form(items, None if request.method == "GET" else request.form)
    if request.method == "GET":
        form.assessed_on.data = local_today()
    elif not form.validate():
        add_errors(form, unanswered(items, form.answers(items)))  # every mistake at once, not in two rounds
    elif repeat := once.claim(form):
        return repeat
    else:
        try:
            assessment = record_assessment(child, {"items": items, "answers": form.answers(items),
                                                   "assessed_on": form.assessed_on.data, "note": form.note.data},
                                           actor=current_user)
        except AssessmentError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("care.assessment_detail", assessment_id=assessment.id))
            db.session.commit()
            flash(f"已保存 {child.name} 的监护评估。请勾选要采取的干预措施，把建议的需求加入帮扶方案。", "success")
            return redirect_after_post(location)
    return render_template("care/assessments/new.html", form=form, child=child, items=items, item_field=item_field,
                           limits=thresholds()), 422 if request.method == "POST" else 200


def _detail_page(assessment: GuardianshipAssessment, status: int = 200, form: InterventionsForm | None = None):
    if form is None:
        ticked = assessment.intervention_codes if assessment.interventions is not None \
            else list(SUGGESTED_INTERVENTIONS[assessment.level])
        form = InterventionsForm(formdata=None, interventions=ticked)
    may_write = can(current_user, "assessments:write") and assessment.child.status != "exited"
    page = render_template(
        "care/assessments/detail.html", assessment=assessment, child=assessment.child, form=form,
        suggested=SUGGESTED_INTERVENTIONS[assessment.level], answer_names=ASSESSMENT_ANSWERS, needs=suggested_needs(assessment), may_write=may_write,
        may_plan=may_write and can(current_user, "care_plans:write"),
        urgent=open_flag(assessment.child_id), may_flag=can(current_user, "urgent:flag"))
    return page, status


ASSESSMENT = (joinedload(GuardianshipAssessment.child).joinedload(Child.residence_village),
              joinedload(GuardianshipAssessment.assessor), selectinload(GuardianshipAssessment.answers))


@bp.route("/care/assessments/<int:assessment_id>")
@require("assessments:read")
def assessment_detail(assessment_id: int):
    assessment = get_assessment_or_404(assessment_id, options=ASSESSMENT)
    if not current_disclosure().shows("care.assessment"):
        abort(404)
    response = _detail_page(assessment)
    audit.record_view("assessment_viewed", assessment, detail=assessment.child.name)
    return response


@bp.route("/care/assessments/<int:assessment_id>/interventions", methods=["POST"])
@require("assessments:write")
def assessment_interventions(assessment_id: int):
    assessment = get_assessment_or_404(assessment_id, "assessments:write", options=ASSESSMENT)
    form = InterventionsForm()
    if form.validate():
        try:
            set_interventions(assessment, form.interventions.data or [], actor=current_user)
        except AssessmentError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash("干预措施已保存。", "success")
            return redirect_after_post(url_for("care.assessment_detail", assessment_id=assessment.id))
    return _detail_page(assessment, 422, form)


@bp.route("/care/assessments/<int:assessment_id>/needs/<category>", methods=["POST"])
@require("assessments:write")
def assessment_need(assessment_id: int, category: str):
    """One tap: the suggested need into the care plan (htmx: the suggestion's row, now 已加入)."""
    if not can(current_user, "care_plans:write"):
        abort(403)
    assessment = get_assessment_or_404(assessment_id, "assessments:write", options=ASSESSMENT)
    if category not in NEED_CATEGORIES:
        abort(404)
    need = add_suggested_need(assessment, category, actor=current_user)
    if need is None:
        abort(404)
    db.session.commit()
    if wants_fragment():
        suggestion = next(s for s in suggested_needs(assessment) if s.category == category)
        return render_template("care/assessments/_need.html", assessment=assessment, s=suggestion, may_plan=True)
    flash(f"已把“{NEED_CATEGORIES[category]}”加入{assessment.child.name}的帮扶方案。", "success")
    return redirect_after_post(url_for("care.assessment_detail", assessment_id=assessment.id) + "#needs")


@bp.route("/care/assessment-scale", methods=["GET", "POST"])
@require("assessments:scale")
def assessment_scale():
    items = all_items()
    if request.method == "GET":
        form = scale_form(items)
        for item in items:
            for name in ("text", "weight", "position", "active"):
                form[item_field(item.id, name)].data = getattr(item, name)
            form[item_field(item.id, "need_category")].data = item.need_category or ""
        limits = thresholds()
        form.capable.data, form.partial.data = limits["capable"], limits["partial"]
        form[item_field("new", "weight")].data = 2
        form[item_field("new", "position")].data = max((i.position for i in items), default=0) + 1
    else:
        form = scale_form(items, request.form)
        if form.validate():
            def row(key):
                return {name: form[item_field(key, name)].data for name in ("text", "weight", "need_category", "position")}
            values = {"items": {item.id: row(item.id) | {"active": form[item_field(item.id, "active")].data}
                                for item in items},
                      "new": row("new") if (form[item_field("new", "text")].data or "").strip() else None,
                      "capable": form.capable.data, "partial": form.partial.data}
            try:
                save_scale(items, values, actor=current_user)
            except AssessmentError as error:
                add_errors(form, error.errors)
            else:
                db.session.commit()
                flash("监护评估量表已保存。已做过的评估保留当时的项目和权重。", "success")
                return redirect_after_post(url_for("care.assessment_scale"))
    return render_template("care/assessments/scale.html", form=form, items=items, item_field=item_field), \
        422 if request.method == "POST" else 200


# --- urgent flags ------------------------------------------------------------------------------------

@bp.route("/children/<int:child_id>/urgent", methods=["GET", "POST"])
@require("urgent:flag")
def urgent_new(child_id: int):
    child = get_child_or_404(child_id, "urgent:flag", CHILD)
    form = UrgentForm(formdata=None if request.method == "GET" else request.form)
    if request.method == "GET":
        form.assessment_id.data = request.args.get("assessment", "")
    elif form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            flag = flag_child(child, {"situation": form.situation.data, "assessment_id": as_id(form.assessment_id.data)},
                              actor=current_user)
        except UrgentError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, _record_url(child.id, f"#urgent-{flag.id}"))
            db.session.commit()
            flash(f"已标记 {child.name} 为紧急情况，镇民政组和派出所已收到通知。", "success")
            return redirect_after_post(location)
    return render_template("care/urgent/new.html", form=form, child=child, waiting=open_flag(child.id)), \
        422 if request.method == "POST" else 200


FLAG = (joinedload(UrgentFlag.child).joinedload(Child.residence_village), joinedload(UrgentFlag.flagged_by),
        joinedload(UrgentFlag.action_by))


@bp.route("/care/urgent")
@require("urgent:read")
def urgent_list():
    query = reachable_urgent_flags(current_user)
    total = db.session.scalar(query.with_only_columns(func.count(UrgentFlag.id)).order_by(None)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_arg(request.args), pages)
    flags = db.session.scalars(query.options(*FLAG).order_by(
        UrgentFlag.action_at.is_not(None), UrgentFlag.action_at.desc(), UrgentFlag.flagged_at, UrgentFlag.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    if flags:
        audit_read(f"紧急情况列表：{total} 条，第 {page} 页")
    return render_template("care/urgent/list.html", flags=flags, total=total, page=page, pages=pages)


def _flag_page(flag: UrgentFlag, status: int = 200, form: ActionForm | None = None):
    disclosure = current_disclosure()
    return render_template("care/urgent/detail.html", flag=flag, child=flag.child, form=form or ActionForm(formdata=None),
                           may_act=can(current_user, "urgent:act") and flag.action_at is None,
                           address=disclosure.show("child.address", flag.child.address),
                           guardian=flag.child.guardian if disclosure.shows("family.member") else None,
                           may_open_child=_reaches_child(flag.child_id), today=local_today()), status


def _reaches_child(child_id: int) -> bool:
    """Whether the child's record opens for the viewer: the police read every flag but a child's
    record only while a referral to them is open (children/access.py), else the link would 404."""
    return db.session.scalar(reachable_children(current_user).where(Child.id == child_id)
                             .with_only_columns(Child.id)) is not None


@bp.route("/care/urgent/<int:flag_id>")
@require("urgent:read")
def urgent_detail(flag_id: int):
    flag = get_urgent_flag_or_404(flag_id, "urgent:read", options=FLAG)
    response = _flag_page(flag)
    audit.record_view("urgent_viewed", flag, detail=flag.child.name)
    return response


@bp.route("/care/urgent/<int:flag_id>/action", methods=["POST"])
@require("urgent:act")
def urgent_act(flag_id: int):
    flag = get_urgent_flag_or_404(flag_id, "urgent:act", options=FLAG)
    form = ActionForm()
    if form.validate():
        try:
            record_action(flag, {"action_taken": form.action_taken.data}, actor=current_user)
        except FlagClosed as closed:
            db.session.rollback()
            flash(closed.message, "error")
            return _flag_page(get_urgent_flag_or_404(flag_id, "urgent:act", options=FLAG), 409)
        except UrgentError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"已记录对 {flag.child.name} 的处置，这条紧急情况已关闭。", "success")
            return redirect_after_post(url_for("care.urgent_detail", flag_id=flag.id))
    return _flag_page(flag, 422, form)
