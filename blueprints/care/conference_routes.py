"""The pages of case conferences: the list, a conference held (its decisions become measures), one
conference, and its minutes as a one-page PDF (会商记录)."""
from __future__ import annotations

from flask import Response, current_app, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload

from blueprints.care import bp
from blueprints.care.access import get_conference_or_404, reachable_conferences
from blueprints.care.conference_forms import ConferenceForm
from blueprints.care.conferences import (active_departments, conference_page, decision_errors, decisions_of,
                                         hold_conference, minutes_context)
from blueprints.care.models import Conference
from blueprints.children.access import get_child_or_404
from blueprints.children.models import Child
from blueprints.children.printing import Printer
from blueprints.core import audit, once
from blueprints.core.access import require
from blueprints.core.clock import local_today
from blueprints.core.forms import FieldErrors
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import as_id, page_arg, text_arg
from blueprints.core.pdf import render_pdf
from extensions import db

PAGE_SIZE = 30
CHILD = (joinedload(Child.residence_village), joinedload(Child.school))
DETAIL = (joinedload(Conference.child).joinedload(Child.residence_village),
          joinedload(Conference.child).joinedload(Child.school), selectinload(Conference.departments),
          joinedload(Conference.created_by))


@bp.route("/care/conferences")
@require("conferences:read")
def conference_list():
    q = text_arg(request.args, "q", 40)
    query = reachable_conferences(current_user).join(Child, Child.id == Conference.child_id)
    if q:
        query = query.where(Child.name.contains(q, autoescape=True))
    page = page_arg(request.args)
    rows, total = conference_page(query, page, PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        page = pages
        rows, total = conference_page(query, page, PAGE_SIZE)
    html = render_template("care/conferences/list.html", rows=rows, total=total, page=page, pages=pages, q=q)
    audit.record_view("conference_list_viewed", detail=f"{total} 次会商")
    return html


def _decisions(form: ConferenceForm) -> list[dict]:
    rows = []
    for entry in form.decisions:
        row = entry.form
        raw = (row.department_id.data or "").strip()
        rows.append({"category": row.category.data or None, "action": (row.action.data or "").strip(),
                     "department_id": as_id(raw) or (-1 if raw else None),  # -1: not a department, refused
                     "owner_name": (row.owner_name.data or "").strip(), "due_on": row.due_on.data})
    return rows


def _add_errors(form: ConferenceForm, errors: dict[str, str]) -> None:
    """A service message beside its field: "summary", or a decision's "decisions-2-due_on" (a field
    the form already refused keeps its own message)."""
    for name, message in errors.items():
        if name.startswith("decisions-"):
            _, index, field = name.split("-", 2)
            field = form.decisions[int(index)].form[field]
        else:
            field = form[name]
        if not field.errors:
            field.errors = [message]


def _messages(form: ConferenceForm) -> list[str]:
    """Every error once, each naming its field (and a decision's, its row), for the top of the form."""
    messages = []
    for field in form:
        if field.name == "decisions":
            for number, entry in enumerate(field, 1):
                for sub in entry.form:
                    if sub.errors:
                        text = sub.errors[0]
                        messages.append(text if "条决定" in text else f"第 {number} 条决定：{sub.label.text}：{text}")
        elif field.errors:
            text = field.errors[0]
            messages.append(text if field.label.text in text else f"{field.label.text}：{text}")
    return messages


@bp.route("/children/<int:child_id>/conferences/new", methods=["GET", "POST"])
@require("conferences:write")
def conference_new(child_id: int):
    child = get_child_or_404(child_id, "conferences:write", CHILD)
    form = ConferenceForm(formdata=None if request.method == "GET" else request.form)
    form.set_departments(active_departments())
    if request.method == "GET":
        form.held_on.data = local_today()
    elif form.validate():
        if repeat := once.claim(form):
            return repeat
        try:
            conference = hold_conference(child, {
                "held_on": form.held_on.data, "place": form.place.data, "attendees": form.attendees.data,
                "summary": form.summary.data, "department_ids": [as_id(v) or -1 for v in form.departments.data or []]},
                _decisions(form), actor=current_user)
        except FieldErrors as error:
            _add_errors(form, error.errors)
        else:
            location = once.created(form, url_for("care.conference_detail", conference_id=conference.id))
            db.session.commit()
            flash(f"已记录 {child.name} 的个案会商。决定的措施已加入帮扶方案。", "success")
            return redirect_after_post(location)
    else:  # every half-filled row named at once, with the form's own messages
        _add_errors(form, decision_errors(_decisions(form)))
    status = 422 if request.method == "POST" else 200
    return render_template("care/conferences/new.html", form=form, child=child, today=local_today(),
                           messages=_messages(form)), status


@bp.route("/care/conferences/<int:conference_id>")
@require("conferences:read")
def conference_detail(conference_id: int):
    conference = get_conference_or_404(conference_id, options=DETAIL)
    html = render_template("care/conferences/detail.html", conference=conference, child=conference.child,
                           decisions=decisions_of([conference.id]).get(conference.id, []))
    audit.record_view("conference_viewed", conference, detail=conference.child.name)
    return html


@bp.route("/care/conferences/<int:conference_id>/pdf")
@require("conferences:read")
def conference_pdf(conference_id: int):
    conference = get_conference_or_404(conference_id, options=DETAIL)
    pdf = render_pdf("print/conference.html",
                     **minutes_context(conference, Printer.for_user(current_user), current_app.config["ORG_NAME"]))
    audit.record("conference_printed", conference,
                 detail=f"{conference.child.name}：{conference.held_on:%Y-%m-%d} 个案会商记录")
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "inline", filename=f"conference-{conference.id}.pdf")
    response.headers["Cache-Control"] = "no-store"  # a child's name and her family's troubles
    return response
