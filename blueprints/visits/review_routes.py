"""The review queue (/visits/review): a supervisor reviews visits in the list, one tap each (htmx
swaps the row), or sends one back with a question; the visitor answers on her due list or on the
visit page. Without JavaScript the same forms post and come back to the page they were sent from."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from wtforms import HiddenField, TextAreaField

from blueprints.core import audit
from blueprints.core.access import require
from blueprints.core.forms import BaseForm, max_length, required
from blueprints.core.htmx import redirect_after_post, render_page, wants_fragment
from blueprints.core.inputs import id_arg, page_arg
from blueprints.places.access import reachable_villages
from blueprints.visits import bp
from blueprints.visits.review import (FINDINGS, QUEUE_STATES, ReviewRefused, answer_visit, approve_visit, queue,
                                      queue_page, return_visit, visit_row, visitors)
from blueprints.visits.routes import _visit_or_404
from extensions import db

# Where a form sent from another page goes back to (the queue otherwise).
BACK = {"detail": "visits.detail", "due": "visits.due"}


class ReturnForm(BaseForm):
    question = TextAreaField("督导提问", validators=[required("督导提问"), max_length("督导提问", 500)])
    back = HiddenField()


class AnswerForm(BaseForm):
    answer = TextAreaField("答复", validators=[required("答复"), max_length("答复", 1000)])
    back = HiddenField()


def _back(visit_id: int, back: str | None, default: str = "visits.review_queue"):
    endpoint = BACK.get(back or "", default)
    return redirect_after_post(url_for(endpoint, visit_id=visit_id) if endpoint == "visits.detail"
                               else url_for(endpoint))


@bp.route("/review")
@require("visits:review")
def review_queue():
    village_id = id_arg(request.args, "village")
    visitor_id = id_arg(request.args, "director")
    finding = request.args.get("finding", "")
    finding = finding if finding in FINDINGS else ""
    state = request.args.get("state", "")
    state = state if state in QUEUE_STATES else ""
    rows, total, page, pages = queue_page(queue(current_user, village_id, visitor_id, finding, state),
                                          page_arg(request.args))
    filters = dict(village=village_id or "", director=visitor_id or "", finding=finding, state=state)
    response = render_page("visits/review/queue.html", "visits/review/_rows.html",
                           rows=rows, total=total, page=page, pages=pages, filters=filters,
                           villages=db.session.scalars(reachable_villages(current_user)).all(),
                           visitors=visitors(), findings=FINDINGS, states=QUEUE_STATES)
    if rows:
        audit.record_view("visit_review_queue_viewed", detail=f"评阅队列：{total} 条，第 {page} 页")
    return response


@bp.route("/<int:visit_id>/review/ok", methods=["POST"])
@require("visits:review")
def review_ok(visit_id: int):
    visit = _visit_or_404(visit_id, "visits:review")
    try:
        approve_visit(visit, actor=current_user)
    except ReviewRefused as refused:
        db.session.rollback()
        if wants_fragment():
            return render_template("visits/review/_row.html", row=visit_row(current_user, visit.id), form=None,
                                   message=refused.message), 409
        flash(refused.message, "error")
        return _back(visit.id, request.form.get("back"))
    db.session.commit()
    if wants_fragment():
        return render_template("visits/review/_done.html", visit=visit)
    flash(f"已评阅 {visit.child.name} {visit.visited_on:%Y-%m-%d} 的走访。", "success")
    return _back(visit.id, request.form.get("back"))


@bp.route("/<int:visit_id>/review/return", methods=["POST"])
@require("visits:review")
def review_return(visit_id: int):
    visit = _visit_or_404(visit_id, "visits:review")
    form = ReturnForm()
    message, status = None, 422
    if form.validate():
        try:
            return_visit(visit, form.question.data.strip(), actor=current_user)
        except ReviewRefused as refused:
            db.session.rollback()
            message, status = refused.message, 409
        else:
            db.session.commit()
            if wants_fragment():
                return render_template("visits/review/_done.html", visit=visit)
            flash(f"已退回 {visit.child.name} {visit.visited_on:%Y-%m-%d} 的走访，等待答复。", "success")
            return _back(visit.id, form.back.data)
    if wants_fragment():
        return render_template("visits/review/_row.html", row=visit_row(current_user, visit.id), form=form,
                               message=message), status
    return render_template("visits/review/form_page.html", visit=visit, form=form, message=message,
                           action=url_for("visits.review_return", visit_id=visit.id)), status


@bp.route("/<int:visit_id>/answer", methods=["POST"])
@require("visits:write")
def visit_answer(visit_id: int):
    visit = _visit_or_404(visit_id, "visits:write")
    if visit.visitor_id != current_user.id:
        abort(403)  # only the visitor answers for her visit
    form = AnswerForm()
    message, status = None, 422
    if form.validate():
        try:
            answer_visit(visit, form.answer.data.strip(), actor=current_user)
        except ReviewRefused as refused:
            db.session.rollback()
            message, status = refused.message, 409
        else:
            db.session.commit()
            if wants_fragment():
                return render_template("visits/review/_done.html", visit=visit)
            flash("已答复，等待督导复核。", "success")
            return _back(visit.id, form.back.data, default="visits.due")
    if wants_fragment():
        return render_template("visits/review/_returned.html", row=visit_row(current_user, visit.id), form=form,
                               message=message), status
    return render_template("visits/review/form_page.html", visit=visit, form=form, message=message,
                           action=url_for("visits.visit_answer", visit_id=visit.id)), status
