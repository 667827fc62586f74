"""The volunteer's phone: her paired children (/my/pairings), the activity form (/my/log: offline,
through the outbox in static/js/outbox/, and posted as a plain form without script), her history
(/my/history), an activity's photo, and the JSON her phone's outbox talks to:

  GET  /api/v1/my-pairings          her pairings for the form's picker (minimal fields), kept on the phone
  POST /api/v1/pairing-activities   an activity: 201/200/409/422/403/404 as every offline record
                                    (blueprints/core/offline.py; 409 child_exited for a child off the roll)
  POST /api/v1/activity-photos      its photo, multipart, sent after the activity: 201/200/409/422/404

Every page she reads is audited. She reaches her own pairings only (access.py), never a child's
record page or archive."""
from __future__ import annotations

import uuid

from flask import Response, abort, flash, jsonify, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from blueprints.children.services import ChildExited
from blueprints.core import audit
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import id_arg, page_arg
from blueprints.core.offline import answer, find_by_uuid, forbidden, invalid, json_body, picker_list
from blueprints.core.payload import check_uuid
from blueprints.core.security import accepts_upload
from blueprints.core.vocabulary import ACTIVITY_KINDS
from blueprints.volunteers import bp
from blueprints.volunteers.access import get_pairing_or_404, get_photo_or_404, reachable_activities
from blueprints.volunteers.activities import check_dates, check_pairing_id, parse_activity, record_activity
from blueprints.volunteers.models import ActivityPhoto, PairingActivity
from blueprints.volunteers.phone import cards, history, my_pairings, picker_rows, totals
from blueprints.volunteers.photos import PhotoError, decode, photo_path, store_photo
from extensions import db

WRITE = "activities:write"


@bp.route("/my/pairings")
@require(WRITE)
def my_home():
    """我的结对儿童: kept by the service worker for offline use (minimal fields only)."""
    found = cards(current_user)
    response = render_template("volunteers/phone/home.html", cards=found, totals=totals(current_user),
                               today=local_today())
    audit.record_view("volunteer_home_viewed", detail=f"{len(found)} 名结对儿童")
    return response


def _form_page(pairings, values: dict, errors: dict, status: int = 200):
    return render_template("volunteers/phone/log.html", pairings=pairings, values=values, errors=errors,
                           kinds=ACTIVITY_KINDS, today=local_today(),
                           client_uuid=values.get("client_uuid") or str(uuid.uuid4()),
                           photo_uuid=values.get("photo_uuid") or str(uuid.uuid4())), status


def _posted_photo() -> bytes | None:
    upload = request.files.get("photo")
    if upload is None or not upload.filename:
        return None
    return upload.read()


def _checked(payload: dict):
    """The one sequence of checks for an activity, from the API or the form: (client_uuid, pairing,
    values, errors); 404 for a pairing outside her reach."""
    errors: dict = {}
    client_uuid = check_uuid(payload, errors)
    pairing_id = check_pairing_id(payload, errors)
    stored = find_by_uuid(PairingActivity, client_uuid) if client_uuid else None
    if stored is not None and stored.recorded_by_id == current_user.id and stored.pairing_id == pairing_id:
        # A record the server already keeps, sent again (its answer was lost): answered as a replay
        # even if the pairing has since left her reach (ended more than 30 days ago)
        pairing = stored.pairing
    else:
        pairing = get_pairing_or_404(pairing_id, WRITE) if pairing_id else None  # 404 outside her reach
    values, value_errors = parse_activity(payload)
    errors.update(value_errors)
    if pairing is not None:
        check_dates(pairing, values, errors)
    return client_uuid, pairing, values, errors


@bp.route("/my/log", methods=["GET", "POST"])
@accepts_upload  # the form posted without script carries the photo
@require(WRITE)
def log_activity():
    """The activity form. With JavaScript the outbox sends it to the API (online or later);
    without, it posts here and gets the same checks. Offline page: the pairings it lists are hers."""
    pairings = my_pairings(current_user)
    if request.method == "GET":
        wanted = id_arg(request.args, "pairing")
        response = _form_page(pairings, {"pairing_id": str(wanted) if wanted else ""}, {})
        audit.record_view("volunteer_home_viewed", detail="活动记录表")
        return response
    payload = request.form.to_dict()
    client_uuid, pairing, values, errors = _checked(payload)
    data, photo_uuid, photo = _posted_photo(), check_uuid({"client_uuid": payload.get("photo_uuid")}, {}), None
    if data is not None:
        try:
            photo = decode(data)  # refused before anything is stored: the form comes back whole
        except PhotoError as error:
            errors["photo"] = error.message
    if errors:
        return _form_page(pairings, payload, errors, 422)
    try:
        outcome = record_activity(pairing, values, client_uuid, actor=current_user)
    except ChildExited as exited:
        errors["pairing_id"] = exited.message
        return _form_page(pairings, payload, errors, 409)
    if outcome.conflict:  # new record numbers: saving again stores a new record (and its photo)
        errors["client_uuid"] = outcome.message + "请核对后再点保存（已换用新的记录编号）。"
        payload.pop("client_uuid", None)
        payload.pop("photo_uuid", None)
        return _form_page(pairings, payload, errors, 409)
    kept = None
    if data is not None:
        kept = store_photo(outcome.record, data, photo_uuid or str(uuid.uuid4()), actor=current_user, decoded=photo)
    db.session.commit()
    flash(f"已记录与 {pairing.child.name} 的活动（{values['done_on']:%Y-%m-%d}，{values['minutes']} 分钟）。", "success")
    if kept is not None and kept.conflict:
        flash("照片没有保存：" + kept.message, "error")
    return redirect_after_post(url_for("volunteers.my_history"))


@bp.route("/my/history")
@require(WRITE)
def my_history():
    activities, rows = history(current_user, page_arg(request.args))
    response = render_template("volunteers/phone/history.html", activities=activities, rows=rows,
                               totals=totals(current_user), kinds=ACTIVITY_KINDS)
    audit.record_view("volunteer_home_viewed", detail=f"活动记录第 {activities.page} 页")
    return response


@bp.route("/pairings/activities/<int:activity_id>/photo")
@require("activities:photos")
def activity_photo(activity_id: int):
    """Only for civil affairs, the supervisor and the volunteer herself (get_photo_or_404)."""
    photo_id = db.session.scalar(select(ActivityPhoto.id).where(ActivityPhoto.activity_id == activity_id))
    if photo_id is None:
        abort(404)
    photo = get_photo_or_404(photo_id)
    path = photo_path(photo)
    if not path.is_file():
        abort(404)
    audit.record("activity_photo_viewed", photo, detail=f"活动 {activity_id}")
    db.session.commit()
    # a few hundred KB at most: read whole, no file left open; never cached (core/security.py: no-store)
    return Response(path.read_bytes(), mimetype="image/jpeg")


# --- the phone's JSON -------------------------------------------------------------------------------



@bp.route("/api/v1/my-pairings")
@login_required
def my_pairings_json():
    if not can(current_user, WRITE):
        return forbidden()
    rows = picker_rows(current_user)
    response = picker_list("pairings", rows)
    audit.record_view("pairing_list_downloaded", detail=f"{len(rows)} 个结对")
    return response


@bp.route("/api/v1/pairing-activities", methods=["POST"])
@login_required
def create_activity():
    if not can(current_user, WRITE):
        return forbidden()
    payload = json_body()
    client_uuid, pairing, values, errors = _checked(payload)
    if errors:
        return invalid(errors)
    outcome = record_activity(pairing, values, client_uuid, actor=current_user)  # ChildExited: 409 (children/routes.py)
    db.session.commit()
    return answer(outcome)


@bp.route("/api/v1/activity-photos", methods=["POST"])
@accepts_upload
@login_required
def create_activity_photo():
    """multipart: client_uuid (the photo's), activity_uuid (its activity's), photo (the file)."""
    if not can(current_user, WRITE):
        return forbidden()
    errors = {}
    client_uuid = check_uuid(request.form, errors)
    activity_uuid = check_uuid({"client_uuid": request.form.get("activity_uuid")}, {})
    if activity_uuid is None:
        errors["activity_uuid"] = "缺少活动记录编号（activity_uuid），请删除这张照片后重新添加"
    data = _posted_photo()
    if data is None:
        errors["photo"] = "照片：没有收到照片文件，请重新选择照片，或删除这张照片"
    if errors:
        return invalid(errors)
    activity = db.session.scalar(reachable_activities(current_user, WRITE)
                                 .where(PairingActivity.client_uuid == activity_uuid))
    if activity is None and (own := find_by_uuid(PairingActivity, activity_uuid)) is not None \
            and own.recorded_by_id == current_user.id and own.photo is not None and own.photo.client_uuid == client_uuid:
        activity = own  # her photo, stored already and sent again after the pairing left her reach: a replay
    if activity is None:  # not (yet) stored, or not hers: the photo waits for its record
        return jsonify({"error": "not_found", "message": "找不到这张照片所属的活动记录，或它不在您的结对范围内"}), 404
    try:
        outcome = store_photo(activity, data, client_uuid, actor=current_user)
    except PhotoError as error:
        return invalid({"photo": error.message})
    db.session.commit()
    return answer(outcome)
