"""One offline contract for every record a phone sends with its own client_uuid (visits, parent
contacts, and the next record types): stored once, answered the same way, never overwritten.

- `store_once` inserts inside a savepoint: a concurrent replay that loses the race on the UNIQUE
  client_uuid rolls back only its own insert, and the request's other work stays.
- A client_uuid already stored is a replay (same user, same child, same body: the stored record,
  200) or a conflict (another user, another child or another body: nothing written, 409).
- The body is compared through a fingerprint, the sha256 of the canonical JSON of the validated
  values with the child id. Rows stored before fingerprints existed (NULL) compare the child only.

The core knows no area: models come in as arguments. Each model has `client_uuid`, `child_id` and
`fingerprint` columns; its owner column is named by the caller."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from flask import Response, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from extensions import db

CONFLICT_MESSAGES = {
    "owner": "这个记录编号已被其他账号的记录使用，服务器没有保存这条记录，也没有改动原记录。",
    "child": "这个记录编号已用于另一名儿童的记录，服务器没有保存这条记录，也没有改动原记录。",
    "body": "这个记录编号已用于内容不同的另一条记录，服务器没有保存这条记录，也没有改动原记录。",
}


@dataclass
class Outcome:
    status: str  # "created" | "replay" | "conflict"
    record: Any = None
    message: str | None = None  # for a conflict, in Chinese

    @property
    def created(self) -> bool:
        return self.status == "created"

    @property
    def conflict(self) -> bool:
        return self.status == "conflict"


def _plain(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def json_body() -> dict:
    """What the phone posted: a JSON object, or {} for anything else (each field is then missing
    and named in the 422); 400 for JSON nested deeper than the parser goes."""
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # json raises this, not a ValueError
        abort(400)
    return data if isinstance(data, dict) else {}


def picker_list(key: str, rows: list[dict]) -> Response:
    """A phone's picker list as JSON, {key: rows}, UTF-8 as it is: half the bytes of \\u escapes
    for Chinese, on a poor signal."""
    return Response(json.dumps({key: rows}, ensure_ascii=False), mimetype="application/json")


def fingerprint(child_id: int | None, values: dict) -> str:
    """The same validated values give the same fingerprint, whatever the order they came in."""
    canonical = json.dumps({"child_id": child_id, **values}, sort_keys=True, ensure_ascii=False,
                           separators=(",", ":"), default=_plain)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def conflict(message: str) -> Outcome:
    return Outcome("conflict", None, message)


def _compare(existing, owner_field: str, owner_id, child_id, print_: str) -> Outcome:
    if getattr(existing, owner_field) != owner_id:
        return conflict(CONFLICT_MESSAGES["owner"])
    if existing.child_id != child_id:
        return conflict(CONFLICT_MESSAGES["child"])
    if existing.fingerprint is not None and existing.fingerprint != print_:
        return conflict(CONFLICT_MESSAGES["body"])
    return Outcome("replay", existing)


def find_by_uuid(model, client_uuid: str):
    return db.session.scalar(select(model).where(model.client_uuid == client_uuid))


def store_once(model, client_uuid: str, *, owner_field: str, owner_id, child_id: int, fingerprint: str,
               build: Callable[[], Any]) -> Outcome:
    """Insert what `build()` adds to the session (it returns the new record) once per client_uuid.
    `build` runs inside the savepoint, so whatever else it adds (history rows) goes with the record."""
    existing = find_by_uuid(model, client_uuid)
    if existing is not None:
        return _compare(existing, owner_field, owner_id, child_id, fingerprint)
    try:
        with db.session.begin_nested():
            record = build()
            record.client_uuid = client_uuid
            record.fingerprint = fingerprint
            db.session.flush()
    except IntegrityError:
        # A concurrent request stored this client_uuid first (the UNIQUE constraint decides): only
        # this savepoint is rolled back. Compare with what it stored.
        existing = find_by_uuid(model, client_uuid)
        if existing is None:  # another constraint failed: not ours to hide
            raise
        return _compare(existing, owner_field, owner_id, child_id, fingerprint)
    return Outcome("created", record)


# --- the JSON answers, the same for every record type ---------------------------------------------

def answer(outcome: Outcome):
    """201 {"id", "client_uuid"} stored now, 200 the same for a replay, 409 {"error", "message"}."""
    if outcome.conflict:
        return jsonify({"error": "client_uuid_reused", "message": outcome.message}), 409
    record = outcome.record
    return jsonify({"id": record.id, "client_uuid": record.client_uuid}), 201 if outcome.created else 200


def invalid(errors: dict):
    """422 {"errors": {field: message}}: the phone keeps the record and shows what to fix."""
    return jsonify({"errors": errors}), 422


def forbidden():
    return jsonify({"error": "forbidden", "message": "您的账号无权执行此操作"}), 403
