"""Visit pages: the due list, the visit and parent-contact forms (they work offline: see
static/js/outbox/), a visit with its review and corrections, and monthly compliance."""
from __future__ import annotations

import uuid
from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from blueprints.core import audit
from blueprints.core.access import can, require
from blueprints.core.areas import notices_for
from blueprints.children.access import get_child_or_404
from blueprints.children.services import ChildExited
from blueprints.core.clock import local_today
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import id_arg, month_arg
from blueprints.core.payload import check_uuid
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import (
    CONTACT_METHODS,
    HAZARDS,
    MENTAL_STATES,
    NEED_CATEGORIES,
    VISIT_KINDS,
)
from blueprints.visits import bp
from blueprints.visits.cadence import BUCKETS
from blueprints.visits.models import Visit
from blueprints.visits.review import ReviewRefused, approve_visit, returned_to
from blueprints.visits.services import compliance, correct_visit, due_list, record_contact, record_visit
from blueprints.visits.validation import check_child_id, check_reason, parse_contact, parse_visit
from extensions import db

# the forms' options; codes shown on a page go through the `label` filter
LABELS = dict(kinds=VISIT_KINDS, hazards=HAZARDS, mental_states=MENTAL_STATES, need_categories=NEED_CATEGORIES,
              contact_methods=CONTACT_METHODS, buckets=BUCKETS)


DUE_GROUP_SHOWN = 50  # rows per group before "显示全部": a phone page stays light


@bp.route("/due")
@require("visits:write")
def due():
    today = local_today()
    show_all = request.args.get("show", "")
    rows, counts = due_list(current_user, today, categories_for=None if show_all else DUE_GROUP_SHOWN)
    groups = {bucket: [r for r in rows if r.bucket == bucket] for bucket in BUCKETS}
    listed = {r.child_id: r.name for r in rows}
    # what other areas ask the visitor to see to (a volunteer's word): flags here, the text behind the link
    notices = {child_id: found for child_id, found in notices_for(current_user).items() if child_id in listed}
    return render_template("visits/due.html", groups=groups, counts=counts, today=today, show_all=show_all,
                           limit=DUE_GROUP_SHOWN, notices=notices, names=listed, returned=returned_to(current_user),
                           **LABELS)


def _form_child():
    """The child named in ?child= (or the posted child_id), if the user may reach it."""
    child_id = id_arg(request.values, "child_id") or id_arg(request.args, "child")
    return get_child_or_404(child_id) if child_id else None


def _form_payload() -> dict:
    payload = request.form.to_dict()
    payload["needs"] = request.form.getlist("needs")
    return payload


@bp.route("/new", methods=["GET", "POST"])
@require("visits:write")
def new():
    """The visit form. With JavaScript the outbox sends it to the API (online or later);
    without, it posts here and gets the same checks."""
    child = _form_child()
    errors, payload, status = {}, {}, 422
    if request.method == "POST":
        payload = _form_payload()
        client_uuid = check_uuid(payload, errors)
        if check_child_id(payload, errors) is None or child is None:
            errors.setdefault("child_id", "请选择走访的儿童")
        values, needs, value_errors = parse_visit(payload)
        errors.update(value_errors)
        if not errors:
            try:
                outcome = record_visit(child, values, needs, client_uuid, actor=current_user)
            except ChildExited as exited:  # the form comes back with what was typed
                errors["child_id"], status = exited.message, 409
            else:
                db.session.commit()
                if not outcome.conflict:  # stored now, or a second click on 保存
                    flash(f"已记录对 {child.name} 的走访。", "success")
                    return redirect_after_post(url_for("children.detail", child_id=child.id) + "#visits")
                status = _refuse_reused_uuid(payload, errors, outcome)
    return render_template("visits/form.html", child=child, errors=errors, values=payload,
                           client_uuid=payload.get("client_uuid") or str(uuid.uuid4()), today=local_today(),
                           correcting=None, **LABELS), status if errors else 200


@bp.route("/contact", methods=["GET", "POST"])
@require("children:write")
def contact():
    """The parent–child contact form (§6), offline like the visit form."""
    child = _form_child()
    errors, payload, status = {}, {}, 422
    if request.method == "POST":
        payload = request.form.to_dict()
        client_uuid = check_uuid(payload, errors)
        if check_child_id(payload, errors) is None or child is None:
            errors.setdefault("child_id", "请选择儿童")
        values, value_errors = parse_contact(payload)
        errors.update(value_errors)
        if not errors:
            try:
                outcome = record_contact(child, client_uuid=client_uuid, actor=current_user, **values)
            except ChildExited as exited:
                errors["child_id"], status = exited.message, 409
            else:
                db.session.commit()
                if not outcome.conflict:
                    flash(f"已记录 {child.name} 的亲情联系。", "success")
                    return redirect_after_post(url_for("children.detail", child_id=child.id) + "#contacts")
                status = _refuse_reused_uuid(payload, errors, outcome)
    return render_template("visits/contact_form.html", child=child, errors=errors, values=payload,
                           client_uuid=payload.get("client_uuid") or str(uuid.uuid4()), today=local_today(),
                           **LABELS), status if errors else 200


def _refuse_reused_uuid(payload: dict, errors: dict, outcome) -> int:
    """The form comes back with the message and a new client_uuid: saving again stores a new record
    (the one already stored under the old client_uuid is left as it is)."""
    errors["client_uuid"] = outcome.message + "请核对后再点保存（已换用新的记录编号）。"
    payload.pop("client_uuid", None)
    return 409


def _visit_or_404(visit_id: int, permission: str = "visits:read") -> Visit:
    if not can(current_user, permission):
        abort(403)
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        abort(404)
    get_child_or_404(visit.child_id)  # the visit is reachable exactly when its child is
    return visit


@bp.route("/<int:visit_id>")
@require("visits:read")
def detail(visit_id: int):
    visit = _visit_or_404(visit_id)
    corrections = db.session.scalars(select(Visit).where(Visit.corrects_id == visit.id)).all()
    original = db.session.get(Visit, visit.corrects_id) if visit.corrects_id else None
    page = render_template("visits/detail.html", visit=visit, corrections=corrections, original=original,
                           may_review=can(current_user, "visits:review") and visit.visitor_id != current_user.id,
                           may_correct=can(current_user, "visits:write") and not visit.superseded
                           and (visit.visitor_id == current_user.id or can(current_user, "visits:review")),
                           **LABELS)
    audit.record_view("visit_viewed", visit.child, detail=f"{visit.child.name}：走访 #{visit.id}")
    return page


@bp.route("/<int:visit_id>/review", methods=["POST"])
@require("visits:review")
def review(visit_id: int):
    visit = _visit_or_404(visit_id, "visits:review")
    comment = clean_text(request.form.get("comment", ""), multiline=True).strip()
    if not comment or len(comment) > 1000:
        flash("请填写评阅意见（最多 1000 字）。", "error")
        return redirect_after_post(url_for("visits.detail", visit_id=visit.id))
    try:
        approve_visit(visit, comment, actor=current_user)
    except ReviewRefused as refused:
        flash(refused.message, "error")
        return redirect_after_post(url_for("visits.detail", visit_id=visit.id))
    db.session.commit()
    flash("已保存评阅意见。", "success")
    return redirect_after_post(url_for("visits.detail", visit_id=visit.id))


@bp.route("/<int:visit_id>/correct", methods=["GET", "POST"])
@require("visits:write")
def correct(visit_id: int):
    """A correction: a new visit that replaces this one in due lists; the original is kept."""
    original = _visit_or_404(visit_id, "visits:write")
    if original.superseded:
        abort(409)
    if original.visitor_id != current_user.id and not can(current_user, "visits:review"):
        abort(403)
    errors, status = {}, 422
    if request.method == "POST":
        payload = _form_payload()
        client_uuid = check_uuid(payload, errors)
        reason = check_reason(payload, errors)
        values, needs, value_errors = parse_visit(payload)
        errors.update(value_errors)
        if not errors:
            try:
                outcome = correct_visit(original, values, needs, client_uuid, reason, actor=current_user)
            except ChildExited as exited:  # a corrected date after the child's exit
                errors["visited_on"], status = exited.message, 409
            else:
                db.session.commit()
                if not outcome.conflict:
                    flash("已保存更正，原记录保留。", "success")
                    return redirect_after_post(url_for("visits.detail", visit_id=outcome.record.id))
                status = _refuse_reused_uuid(payload, errors, outcome)
    else:
        payload = {c.key: getattr(original, c.key) for c in Visit.__table__.columns}
        payload = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in payload.items()}
        payload["needs"] = original.need_codes
        payload.pop("client_uuid")
    return render_template("visits/form.html", child=original.child, errors=errors, values=payload,
                           client_uuid=payload.get("client_uuid") or str(uuid.uuid4()), today=local_today(),
                           correcting=original, **LABELS), status if errors else 200


@bp.route("/outbox")
def outbox():
    """Moved to /outbox (every role with an offline form): old bookmarks and stored pages follow."""
    return redirect(url_for("pwa.outbox"), 301)


@bp.route("/compliance")
@require("visits:compliance")
def compliance_page():
    today = local_today()
    year, month = month_arg(request.args, "month", today)
    by_village, by_director, total = compliance(current_user, year, month, today)
    return render_template("visits/compliance.html", by_village=by_village, by_director=by_director, total=total,
                           month=f"{year:04d}-{month:02d}", today=today)

