"""JSON for the phones' offline outbox. Session cookie plus the CSRF token in X-CSRFToken.

POST answers 201 {"id", "client_uuid"} when stored, 200 with the same body for a replay of a
client_uuid already stored, 422 {"errors": {field: message}} for bad input, 404 for a child outside
the user's reach (or none), 403 without the grant, 401 JSON when the session has ended."""
from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from blueprints.api import bp
from blueprints.children.models import CATEGORY_SHORT, ParentContact
from blueprints.core.access import can
from blueprints.children.access import get_child_or_404
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from blueprints.visits.services import due_list, find_by_uuid, record_contact, record_visit
from blueprints.visits.validation import check_child_id, check_uuid, parse_contact, parse_visit
from extensions import db


def _payload() -> dict:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _forbidden():
    return jsonify({"error": "forbidden", "message": "您的账号无权执行此操作"}), 403


def _stored(obj, created: bool):
    return jsonify({"id": obj.id, "client_uuid": obj.client_uuid}), 201 if created else 200


def _child_or_errors(payload: dict, errors: dict):
    child_id = check_child_id(payload, errors)
    if child_id is None:
        return None
    return get_child_or_404(child_id, "children:read")  # 404 outside reach: tells nothing of others


@bp.route("/csrf")
@login_required
def csrf_token():
    """A fresh token for the outbox, fetched just before it sends what it holds."""
    return jsonify({"token": generate_csrf()})


@bp.route("/visits", methods=["POST"])
@login_required
def create_visit():
    if not can(current_user, "visits:write"):
        return _forbidden()
    payload, errors = _payload(), {}
    client_uuid = check_uuid(payload, errors)
    if client_uuid and (existing := find_by_uuid(Visit, client_uuid)) is not None:
        if existing.visitor_id != current_user.id:
            return jsonify({"errors": {"client_uuid": "记录编号已被使用，请刷新页面后重新提交"}}), 422
        return _stored(existing, False)  # a replay: answer before re-checking anything
    child = _child_or_errors(payload, errors)
    values, needs, value_errors = parse_visit(payload)
    errors.update(value_errors)
    if errors:
        return jsonify({"errors": errors}), 422
    visit, created = record_visit(child, values, needs, client_uuid)
    db.session.commit()
    return _stored(visit, created)


@bp.route("/parent-contacts", methods=["POST"])
@login_required
def create_parent_contact():
    if not can(current_user, "children:write"):
        return _forbidden()
    payload, errors = _payload(), {}
    client_uuid = check_uuid(payload, errors)
    if client_uuid and (existing := find_by_uuid(ParentContact, client_uuid)) is not None:
        if existing.recorded_by_id != current_user.id:
            return jsonify({"errors": {"client_uuid": "记录编号已被使用，请刷新页面后重新提交"}}), 422
        return _stored(existing, False)
    child = _child_or_errors(payload, errors)
    values, value_errors = parse_contact(payload)
    errors.update(value_errors)
    if errors:
        return jsonify({"errors": errors}), 422
    contact, created = record_contact(child, client_uuid=client_uuid, **values)
    db.session.commit()
    return _stored(contact, created)


@bp.route("/due-list")
@login_required
def due_list_json():
    """The signed-in visitor's children with minimal fields only, for the offline forms' picker:
    never an ID number, an address or anything of the archive."""
    if not can(current_user, "visits:write"):
        return _forbidden()
    rows, _ = due_list(current_user, local_today())
    return jsonify({"children": [
        {"id": r.child_id, "name": r.name, "age": r.age, "village": r.village,
         "categories": [CATEGORY_SHORT[c] for c in r.categories],
         "attention": "重点关注" if r.attention == "key" else "一般",
         "last_visit": r.last_visit.isoformat() if r.last_visit else None,
         "due": r.due.isoformat(), "bucket": r.bucket}
        for r in rows
    ]})
