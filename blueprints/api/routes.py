"""JSON for the phones' offline outbox. Session cookie plus the CSRF token in X-CSRFToken.

POST answers as every offline record does (blueprints/core/offline.py): 201 {"id", "client_uuid"}
when stored, 200 with the same body for a replay (same user, child and body), 409 {"error",
"message"} for a client_uuid already used otherwise (nothing overwritten), 422 {"errors": {field:
message}} for bad input (a value of the wrong type or out of range included), 400 for JSON nested too
deep to parse, 404 for a child outside the user's reach (or none), 403 without the grant, 401 JSON
when the session has ended."""
from __future__ import annotations

from flask import jsonify
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from blueprints.api import bp
from blueprints.children.access import get_child_or_404
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.clock import local_today
from blueprints.core.offline import answer, forbidden, invalid, json_body, picker_list
from blueprints.core.payload import check_uuid
from blueprints.core.vocabulary import CATEGORY_SHORT
from blueprints.visits.services import due_list, record_contact, record_visit
from blueprints.visits.validation import check_child_id, parse_contact, parse_visit
from extensions import db




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
        return forbidden()
    payload, errors = json_body(), {}
    client_uuid = check_uuid(payload, errors)
    child = _child_or_errors(payload, errors)
    values, needs, value_errors = parse_visit(payload)
    errors.update(value_errors)
    if errors:
        return invalid(errors)
    outcome = record_visit(child, values, needs, client_uuid, actor=current_user)
    db.session.commit()
    return answer(outcome)


@bp.route("/parent-contacts", methods=["POST"])
@login_required
def create_parent_contact():
    if not can(current_user, "children:write"):
        return forbidden()
    payload, errors = json_body(), {}
    client_uuid = check_uuid(payload, errors)
    child = _child_or_errors(payload, errors)
    values, value_errors = parse_contact(payload)
    errors.update(value_errors)
    if errors:
        return invalid(errors)
    outcome = record_contact(child, client_uuid=client_uuid, actor=current_user, **values)
    db.session.commit()
    return answer(outcome)


@bp.route("/due-list")
@login_required
def due_list_json():
    """The signed-in visitor's children with minimal fields only, for the offline forms' picker:
    never an ID number, an address or anything of the archive; a supervisor's only those she is
    due to visit (due_list's `offline`)."""
    if not can(current_user, "visits:write"):
        return forbidden()
    rows, _ = due_list(current_user, local_today(), offline=True)
    response = picker_list("children", [
        {"id": r.child_id, "name": r.name, "age": r.age, "village": r.village,
         "categories": [CATEGORY_SHORT[c] for c in r.categories],
         "attention": "重点关注" if r.attention == "key" else "一般",
         "last_visit": r.last_visit.isoformat() if r.last_visit else None,
         "due": r.due.isoformat(), "bucket": r.bucket}
        for r in rows
    ])
    audit.record_view("due_list_downloaded", detail=f"{len(rows)} 名儿童")
    return response
