"""The pages of referrals: a measure referred to a department, the inbox (a department's) or the
list of referrals (the town's, a director's), one referral with the child as the department may see
her, the department's accept, actions (with files) and return, and an attachment's download."""
from __future__ import annotations

from io import BytesIO

from flask import abort, flash, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.datastructures import FileStorage

from blueprints.care import bp
from blueprints.care.access import get_measure_or_404, get_referral_or_404
from blueprints.care.models import Measure, Referral, ReferralAction, ReferralAttachment
from blueprints.care.referral_forms import ActionForm, ReferralForm, ReturnForm
from blueprints.care.referrals import (LIST_STATES, ReferralClosed, ReferralError, Upload, accept_referral,
                                       attachment_path, departments_for_referral, inbox_query, is_overdue,
                                       oversight_query, record_action, referral_page, refer_measure, return_referral)
from blueprints.children.access import reachable_children
from blueprints.children.models import Child
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.errors import render_error
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import as_id, id_arg, page_arg, text_arg
from blueprints.core.security import accepts_upload
from extensions import db

PAGE_SIZE = 50
MEASURE_OPTIONS = (joinedload(Measure.need), joinedload(Measure.department),
                   joinedload(Measure.child).joinedload(Child.residence_village),
                   joinedload(Measure.child).joinedload(Child.school))
DETAIL_OPTIONS = (joinedload(Referral.department), joinedload(Referral.referred_by),
                  joinedload(Referral.accepted_by), joinedload(Referral.closed_by),
                  joinedload(Referral.measure).joinedload(Measure.need),
                  selectinload(Referral.actions).selectinload(ReferralAction.attachments),
                  selectinload(Referral.actions).joinedload(ReferralAction.by))


@bp.errorhandler(ReferralClosed)
def referral_closed(error: ReferralClosed):
    db.session.rollback()
    return render_error(409, message=error.message)


@bp.route("/care/measures/<int:measure_id>/refer", methods=["GET", "POST"])
@require("referrals:send")
def referral_new(measure_id: int):
    measure = get_measure_or_404(measure_id, "referrals:send", MEASURE_OPTIONS)
    form = ReferralForm(formdata=None if request.method == "GET" else request.form)
    form.department_id.choices = choices([("", "请选择"), *((str(d.id), d.name) for d in departments_for_referral())])
    if request.method == "GET":
        if measure.department_id:
            form.department_id.data = str(measure.department_id)
    elif form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            referral = refer_measure(measure, {"department_id": as_id(form.department_id.data), "note": form.note.data},
                                     actor=current_user)
        except ReferralError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("care.referral_detail", referral_id=referral.id))
            db.session.commit()
            flash(f"已转介给{referral.department.name}，部门会在收件箱里看到。", "success")
            return redirect_after_post(location)
    status = 422 if request.method == "POST" else 200
    response = render_template("care/referrals/new.html", form=form, measure=measure, child=measure.child), status
    if request.method == "GET":
        audit.record_view("referral_form_opened", measure, detail=measure.child.name)
    return response


@bp.route("/referrals")
@require("referrals:read")
def referral_inbox():
    """A department's inbox; for the town and a director, every referral they reach, filtered."""
    page = page_arg(request.args)
    inbox = can(current_user, "referrals:act")
    state = request.args.get("state", "")
    state = state if state in LIST_STATES else ""
    department_id = id_arg(request.args, "department")
    q = text_arg(request.args, "q", 40)
    query = inbox_query(current_user) if inbox else oversight_query(current_user, state, department_id, q)
    rows, total = referral_page(query, page, PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        page = pages
        rows, total = referral_page(query, page, PAGE_SIZE)
    today = local_today()
    html = render_template("care/referrals/inbox.html", rows=rows, total=total, page=page, pages=pages, inbox=inbox,
                           state=state, states=LIST_STATES, department_id=department_id, q=q,
                           departments=[] if inbox else departments_for_referral(), today=today,
                           overdue={r.id for r in rows if is_overdue(r, today)})
    audit.record_view("referral_inbox_viewed" if inbox else "referral_list_viewed", detail=f"第 {page} 页，共 {total} 条")
    return html


def _child_reached(referral: Referral) -> Child | None:
    """The child, with what the page shows of her, if the viewer reaches her now (a department:
    while the referral is open and REFERRAL_GRACE_DAYS after)."""
    return db.session.scalar(reachable_children(current_user).where(Child.id == referral.child_id).options(
        joinedload(Child.residence_village), joinedload(Child.school), selectinload(Child.family),
        selectinload(Child.categories)))


def _detail_page(referral: Referral, status: int = 200, **forms):
    today = local_today()
    may_act = can(current_user, "referrals:act") and referral.is_open and referral.child.status != "exited"
    return render_template(
        "care/referrals/detail.html", referral=referral, measure=referral.measure, child=_child_reached(referral),
        today=today, may_act=may_act, overdue=is_overdue(referral, today),
        action_form=forms.get("action_form") or ActionForm(formdata=None, acted_on=today),
        return_form=forms.get("return_form") or ReturnForm(formdata=None),
        open_form=forms.get("open_form"),
    ), status


@bp.route("/referrals/<int:referral_id>")
@require("referrals:read")
def referral_detail(referral_id: int):
    referral = get_referral_or_404(referral_id, options=DETAIL_OPTIONS)
    page = _detail_page(referral)
    audit.record_view("referral_viewed", referral, detail=referral.child.name)
    return page


def _for_work(referral_id: int) -> Referral:
    """A referral of the user's department: 404 for another department's (or any other user's)."""
    return get_referral_or_404(referral_id, "referrals:act", DETAIL_OPTIONS)


@bp.route("/referrals/<int:referral_id>/accept", methods=["POST"])
@require("referrals:act")
def referral_accept(referral_id: int):
    referral = _for_work(referral_id)
    if accept_referral(referral, actor=current_user):
        db.session.commit()
        flash("已接收。办理后请记录办理情况，办完后选择“已办结”。", "success")
    else:
        flash("这条转介已经接收过了。", "info")
    return redirect_after_post(url_for("care.referral_detail", referral_id=referral.id))


def _uploads(form: ActionForm) -> list[Upload]:
    # a field of that name posted as text (not a file) is no attachment
    return [Upload(f.filename, f.read()) for f in form.attachments.data or []
            if isinstance(f, FileStorage) and f.filename]


@bp.route("/referrals/<int:referral_id>/actions", methods=["POST"])
@accepts_upload
@require("referrals:act")
def referral_action(referral_id: int):
    referral = _for_work(referral_id)
    form = ActionForm()
    if form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            action = record_action(referral, {"acted_on": form.acted_on.data, "text": form.text.data},
                                   _uploads(form), actor=current_user)
        except ReferralError as error:
            add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("care.referral_detail", referral_id=referral.id) + "#actions")
            db.session.commit()
            flash(f"办理情况已记录（{action.acted_on:%Y-%m-%d}）。", "success")
            return redirect_after_post(location)
    return _detail_page(referral, 422, action_form=form, open_form="action")


@bp.route("/referrals/<int:referral_id>/return", methods=["POST"])
@require("referrals:act")
def referral_return(referral_id: int):
    referral = _for_work(referral_id)
    form = ReturnForm()
    if form.validate():
        try:
            return_referral(referral, {"outcome": form.outcome.data, "note": form.note.data}, actor=current_user)
        except ReferralError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash("已办结，转介单位会收到通知。" if referral.state == "done" else "已退回，转介单位会收到通知。", "success")
            return redirect_after_post(url_for("care.referral_inbox"))
    return _detail_page(referral, 422, return_form=form, open_form="return")


@bp.route("/referrals/<int:referral_id>/attachments/<int:attachment_id>")
@require("referrals:read")
def referral_attachment(referral_id: int, attachment_id: int):
    """To whoever reaches the referral; downloaded, never shown inline (a PDF may carry script)."""
    referral = get_referral_or_404(referral_id)
    attachment = db.session.scalar(select(ReferralAttachment).join(ReferralAction).where(
        ReferralAttachment.id == attachment_id, ReferralAction.referral_id == referral.id))
    if attachment is None:
        abort(404)
    path = attachment_path(attachment)
    if not path.is_file():
        abort(404)
    audit.record("referral_attachment_viewed", referral, detail=f"{referral.child.name}：{attachment.filename}")
    filename, content_type = attachment.filename, attachment.content_type
    db.session.commit()
    # 5 MB at most: read whole, no file left open
    return send_file(BytesIO(path.read_bytes()), mimetype=content_type, as_attachment=True, download_name=filename)
