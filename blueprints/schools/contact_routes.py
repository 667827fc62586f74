"""The school's contact log (§6) and home visits (§17) on a class teacher's phone: the form
(/schools/contacts/log: offline, through the outbox in static/js/outbox/, and posted as a plain form
without script), the school's log (/schools/contacts), and the JSON the phone's outbox talks to:

  GET  /api/v1/school-pupils    the school's pupils on the roll for the form's picker (minimal fields)
  POST /api/v1/school-contacts  a contact: 201/200/409/422/403/404 as every offline record
                                (blueprints/core/offline.py; 409 child_exited for a pupil off the roll)

Every page that names pupils is audited. A child director reads her villages' pupils' contacts
(school_contacts:read) but logs none."""
from __future__ import annotations

import uuid

from flask import flash, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from blueprints.children.access import get_child_or_404, reachable_children
from blueprints.children.models import Child
from blueprints.children.services import ChildExited
from blueprints.core import audit
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import id_arg, month_arg, page_arg
from blueprints.core.offline import answer, find_by_uuid, forbidden, invalid, json_body, picker_list
from blueprints.core.payload import check_uuid
from blueprints.core.vocabulary import CONTACT_TOPICS, CONTACT_WITH, HAZARDS, SCHOOL_CONTACT_METHODS
from blueprints.schools import bp
from blueprints.schools.contacts import (DUE_SHOWN, WRITE, check_child_id, due_pupils, form_pupils, log_query, parse_contact, picker_rows,
                                         record_contact, topic_labels, with_rows)
from blueprints.schools.classes import scope_of
from blueprints.schools.models import SchoolContact
from extensions import db

READ = "school_contacts:read"
PAGE_SIZE = 20
LABELS = dict(contact_with=CONTACT_WITH, methods=SCHOOL_CONTACT_METHODS, topics=CONTACT_TOPICS, hazards=HAZARDS)


def _checked(payload: dict):
    """The one sequence of checks for a contact, from the API or the form: (client_uuid, pupil,
    values, errors); 403 without the grant, 404 for a pupil outside the school."""
    errors: dict = {}
    client_uuid = check_uuid(payload, errors)
    child_id = check_child_id(payload, errors)
    stored = find_by_uuid(SchoolContact, client_uuid) if client_uuid else None
    if stored is not None and stored.recorded_by_id == current_user.id and stored.child_id == child_id:
        # Kept already, sent again (its answer was lost): a replay, even if the pupil has since
        # moved to another school
        child = stored.child
    else:
        child = get_child_or_404(child_id, WRITE) if child_id else None
    values, value_errors = parse_contact(payload)
    errors.update(value_errors)
    return client_uuid, child, values, errors


def _form_page(values: dict, errors: dict, status: int = 200):
    return render_template("schools/contacts/log.html", pupils=form_pupils(current_user), values=values,
                           errors=errors, today=local_today(),
                           client_uuid=values.get("client_uuid") or str(uuid.uuid4()), **LABELS), status


def _form_payload() -> dict:
    payload = request.form.to_dict()
    payload["topics"] = request.form.getlist("topics")
    return payload


@bp.route("/schools/contacts/log", methods=["GET", "POST"])
@require(WRITE)
def contact_log():
    """The contact form. With JavaScript the outbox sends it to the API (online or later); without,
    it posts here and gets the same checks. Offline page: the pupils it lists are the school's."""
    if request.method == "GET":
        wanted = id_arg(request.args, "child")
        response = _form_page({"child_id": str(wanted) if wanted else ""}, {})
        audit.record_view("school_contact_form_opened", detail="家校联系记录表")
        return response
    payload = _form_payload()
    client_uuid, child, values, errors = _checked(payload)
    if errors:
        return _form_page(payload, errors, 422)
    try:
        outcome = record_contact(child, values, client_uuid, actor=current_user)
    except ChildExited as exited:  # the form comes back with what was typed
        errors["child_id"] = exited.message
        return _form_page(payload, errors, 409)
    if outcome.conflict:  # a new record number: saving again stores a new contact
        errors["client_uuid"] = outcome.message + "请核对后再点保存（已换用新的记录编号）。"
        payload.pop("client_uuid", None)
        return _form_page(payload, errors, 409)
    db.session.commit()
    flash(f"已记录与 {child.name} 家长的联系（{values['contacted_on']:%Y-%m-%d}，"
          f"{SCHOOL_CONTACT_METHODS[values['method']]}）。", "success")
    return redirect_after_post(url_for("schools.contact_list", child=child.id))


@bp.route("/schools/contacts")
@require(READ)
def contact_list():
    """The log of the contacts the user reaches (her school's pupils', or her villages'), newest
    first, by pupil, method and month."""
    child_id = id_arg(request.args, "child")
    method = request.args.get("method", "")
    method = method if method in SCHOOL_CONTACT_METHODS else ""
    month = month_arg(request.args, "month", local_today()) if request.args.get("month") else None
    query = log_query(current_user, child_id=child_id, method=method or None, month=month)
    total = db.session.scalar(query.with_only_columns(func.count(SchoolContact.id)).order_by(None))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_arg(request.args), pages)
    contacts = db.session.scalars(with_rows(query).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    pupil = db.session.scalar(reachable_children(current_user).with_only_columns(Child.name)
                              .where(Child.id == child_id)) if child_id else None
    response = render_template(
        "schools/contacts/list.html", contacts=contacts, total=total, page=page, pages=pages, child_id=child_id,
        pupil=pupil, method=method, month=f"{month[0]:04d}-{month[1]:02d}" if month else "",
        topic_labels=topic_labels, **LABELS)
    audit.record_view("school_contacts_viewed", detail=f"第 {page} 页，{len(contacts)} 条")
    return response


@bp.route("/schools/contacts/due")
@require(WRITE)
def contacts_due():
    """Every 留守 pupil still waiting for this month's contact (the home card shows the first)."""
    scope = scope_of(current_user, request.args.get("scope"))
    pupils, total = due_pupils(current_user, DUE_SHOWN, within=scope.pair)
    response = render_template("schools/contacts/due.html", pupils=pupils, total=total, month=local_today(),
                               scope=scope)
    audit.record_view("school_contacts_due_viewed", detail=f"{total} 名")
    return response


# --- the phone's JSON -------------------------------------------------------------------------------



@bp.route("/api/v1/school-pupils")
@login_required
def school_pupils_json():
    if not can(current_user, WRITE):
        return forbidden()
    rows = picker_rows(current_user)
    response = picker_list("children", rows)
    audit.record_view("school_pupils_downloaded", detail=f"{len(rows)} 名学生")
    return response


@bp.route("/api/v1/school-contacts", methods=["POST"])
@login_required
def create_contact():
    if not can(current_user, WRITE):
        return forbidden()
    client_uuid, child, values, errors = _checked(json_body())
    if errors:
        return invalid(errors)
    outcome = record_contact(child, values, client_uuid, actor=current_user)  # ChildExited: 409 (children/routes.py)
    db.session.commit()
    return answer(outcome)
