"""Referrals (转介, plan §14 §15 §23, 保障一): a measure of a child's care plan sent to one of the town's
departments, which accepts it, records what it did (a dated text with attachments) and returns it
done (the measure is done with that outcome) or declined with a reason (the measure is open again,
the reason shown on the plan). Every step tells the other side in the app (notices).

Rules (each broken one is a message in Chinese naming its field, or a 409 for a closed referral):
- one open referral per measure (the partial unique index ux_referrals_open_measure is the
  backstop); a done or closed measure is not referred;
- a department with no active account cannot be chosen: nobody would read its inbox;
- an action's date is not after today; its text is required; attachments are PDF, JPEG or PNG (by
  their first bytes, not their names), each at most ATTACHMENT_MAX_BYTES, at most
  ATTACHMENTS_PER_ACTION at once (their sum stays within MAX_CONTENT_LENGTH);
- a return says its outcome (done) or its reason (declined).

Attachments are private files under <instance>/referrals (core/files.py), named at random; the row
keeps the name as uploaded, to show and to download under. A file written for a transaction that
is rolled back afterwards is removed (core/files.py belongs_to_transaction)."""
from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path, PurePath

from flask import current_app, url_for
from sqlalchemy import case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from blueprints.auth.models import User
from blueprints.care.access import REFERRAL_GRACE_DAYS, reachable_referrals
from blueprints.care.models import OPEN_REFERRAL_STATES, Measure, Referral, ReferralAction, ReferralAttachment
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit
from blueprints.core.access import can
from blueprints.core.areas import HOME_CARD_NAMES
from blueprints.core.clock import local_today, utcnow
from blueprints.core.files import belongs_to_transaction, private_dir, write_private
from blueprints.core.forms import FieldErrors
from blueprints.core.text import clean_text
from blueprints.core.vocabulary import MEASURE_STATES, NEED_CATEGORIES, REFERRAL_STATES
from blueprints.notices.services import notify
from blueprints.places.models import Department
from extensions import db

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENTS_PER_ACTION = 4
# What a file's first bytes must be, by the type it is kept and served as
ATTACHMENT_KINDS = {
    "application/pdf": (b"%PDF-", ".pdf"),
    "image/jpeg": (b"\xff\xd8\xff", ".jpg"),
    "image/png": (b"\x89PNG\r\n\x1a\n", ".png"),
}
RETURN_OUTCOMES = {code: REFERRAL_STATES[code] for code in ("done", "declined")}  # how a department returns one
LIST_STATES = {"": "全部", "open": "未办结", **REFERRAL_STATES}


class ReferralError(FieldErrors):
    """A referral, action or return the rules refuse: {field: message}."""


class ReferralClosed(Exception):
    """Work on a referral already returned (done or declined), or on a measure that is over: a 409."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- who works a department's inbox ------------------------------------------------------------

def department_users(department_id: int) -> list[User]:
    """The active accounts of a department that work its inbox."""
    return db.session.scalars(select(User).where(User.department_id == department_id, User.role == "department",
                                                 User.active.is_(True)).order_by(User.id)).all()


def departments_for_referral() -> list[Department]:
    return db.session.scalars(select(Department).where(Department.active.is_(True)).order_by(Department.id)).all()


def open_referral(measure: Measure) -> Referral | None:
    return db.session.scalar(select(Referral).where(Referral.measure_id == measure.id,
                                                    Referral.state.in_(OPEN_REFERRAL_STATES)))


def _lock(model, row_id: int) -> None:
    """Read the row afresh under a lock (two people acting at once are decided one after the other)."""
    db.session.execute(select(model).where(model.id == row_id).with_for_update(of=model)
                       .execution_options(populate_existing=True))


def _text(values: dict, name: str) -> str:
    return (values.get(name) or "").strip()


def _detail_url(referral: Referral) -> str:
    return url_for("care.referral_detail", referral_id=referral.id)


def _what(measure: Measure) -> str:
    return f"{NEED_CATEGORIES.get(measure.need.category, measure.need.category)}：{measure.action[:40]}"


# --- referring a measure --------------------------------------------------------------------------

def refer_measure(measure: Measure, values: dict, *, actor) -> Referral:
    """values: department_id, note. The measure gets the department when it has none and is in
    progress; every active account of the department is told."""
    child = measure.child
    ensure_open(child)
    _lock(Measure, measure.id)
    if measure.state not in ("open", "in_progress"):
        raise ReferralClosed(f"这项措施{MEASURE_STATES[measure.state]}，不能再转介。")
    errors: dict[str, str] = {}
    pending = open_referral(measure)
    department = db.session.get(Department, values.get("department_id") or 0)
    users: list[User] = []
    if pending is not None:
        errors["department_id"] = (f"转介部门：这项措施已转介给{pending.department.name}"
                                   f"（{REFERRAL_STATES[pending.state]}），办结或退回后才能再转介")
    elif department is None or not department.active:
        errors["department_id"] = "转介部门：请从列表中选择"
    else:
        users = department_users(department.id)
        if not users:
            errors["department_id"] = f"转介部门：{department.name}目前没有账号，请先联系系统管理员"
    note = _text(values, "note")
    if not note:
        errors["note"] = "转介事项：请写明需要部门做什么"
    elif len(note) > 1000:
        errors["note"] = "转介事项：最多 1000 个字，请删减"
    if errors:
        raise ReferralError(errors)
    referral = Referral(measure_id=measure.id, child_id=measure.child_id, department_id=department.id, note=note,
                        referred_by_id=actor.id if actor is not None else None, state="sent")
    try:
        with db.session.begin_nested():
            db.session.add(referral)
    except IntegrityError:  # another referral of this measure at the same moment: the index kept one
        raise ReferralError({"department_id": "转介部门：这项措施刚刚已由别人转介，请刷新页面查看"}) from None
    if measure.department_id is None:
        measure.department_id = department.id
    if measure.state == "open":
        measure.state = "in_progress"
    # The department reaches the child from now on (access.referred_children): it may read her name.
    notify(users, "referral_received", f"收到转介：{child.name}，{_what(measure)}",
           key=f"referral_received:{referral.id}", url=_detail_url(referral), child_id=child.id)
    audit.record("referral_sent", referral, detail=f"{child.name}：{department.name}", user=actor)
    return referral


# --- the department's work ------------------------------------------------------------------------

def _ensure_open_referral(referral: Referral) -> None:
    _lock(Referral, referral.id)
    if not referral.is_open:
        raise ReferralClosed(f"这条转介已于 {referral.closed_on:%Y-%m-%d} {REFERRAL_STATES[referral.state]}，"
                             "不能再办理。如需继续，请转介单位重新转介。")


def _accept(referral: Referral, actor) -> None:
    referral.state = "accepted"
    referral.accepted_by_id = actor.id if actor is not None else None
    referral.accepted_at = utcnow()


def accept_referral(referral: Referral, *, actor) -> bool:
    """Whether it was accepted now (False: it already was)."""
    _ensure_open_referral(referral)
    if referral.state == "accepted":
        return False
    _accept(referral, actor)
    audit.record("referral_accepted", referral, detail=f"{referral.child.name}：{referral.department.name}", user=actor)
    return True


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def _kind_of(data: bytes) -> str | None:
    return next((kind for kind, (magic, _) in ATTACHMENT_KINDS.items() if data.startswith(magic)), None)


def _clean_filename(name: str) -> str:
    name = clean_text(PurePath(name.replace("\\", "/")).name) or "附件"
    return name[-120:]


def check_uploads(uploads: list[Upload]) -> tuple[list[tuple[Upload, str]], str | None]:
    """Each upload with its content type, or the message (naming the file) refusing them."""
    if len(uploads) > ATTACHMENTS_PER_ACTION:
        return [], f"附件：一次最多 {ATTACHMENTS_PER_ACTION} 个文件，请分几次上传"
    checked = []
    for upload in uploads:
        name = _clean_filename(upload.filename)
        if not upload.data:
            return [], f"附件：“{name}”是空文件，请重新选择"
        if len(upload.data) > ATTACHMENT_MAX_BYTES:
            return [], f"附件：“{name}”超过 {ATTACHMENT_MAX_BYTES // 1024 // 1024} MB，请压缩或换一个较小的文件"
        kind = _kind_of(upload.data)
        if kind is None:
            return [], f"附件：“{name}”不是 PDF、JPEG 或 PNG 文件，请另存为这几种格式后上传"
        checked.append((Upload(name, upload.data), kind))
    return checked, None


def attachment_dir() -> Path:
    return private_dir(Path(current_app.instance_path) / "referrals")


def attachment_path(attachment: ReferralAttachment) -> Path:
    return attachment_dir() / attachment.stored_name




def record_action(referral: Referral, values: dict, uploads: list[Upload], *, actor) -> ReferralAction:
    """values: acted_on, text. What the department did, with its files. Acting on a referral not
    yet accepted accepts it."""
    _ensure_open_referral(referral)
    ensure_open(referral.child)
    acted_on, text = values.get("acted_on"), _text(values, "text")
    errors: dict[str, str] = {}
    if not isinstance(acted_on, date):
        errors["acted_on"] = "日期：请填写日期"
    elif acted_on > local_today():
        errors["acted_on"] = "日期：不能晚于今天"
    if not text:
        errors["text"] = "办理情况：请写明做了什么、结果如何"
    elif len(text) > 2000:
        errors["text"] = "办理情况：最多 2000 个字，请删减"
    checked, refused = check_uploads(uploads)
    if refused:
        errors["attachments"] = refused
    if errors:
        raise ReferralError(errors)
    if referral.state == "sent":
        _accept(referral, actor)
    action = ReferralAction(referral_id=referral.id, acted_on=acted_on, text=text,
                            by_id=actor.id if actor is not None else None)
    db.session.add(action)
    db.session.flush()
    for upload, kind in checked:
        stored_name = uuid.uuid4().hex + ATTACHMENT_KINDS[kind][1]
        belongs_to_transaction(db.session, [write_private(attachment_dir() / stored_name, upload.data)])
        db.session.add(ReferralAttachment(action_id=action.id, filename=upload.filename, stored_name=stored_name,
                                          content_type=kind, size=len(upload.data)))
    audit.record("referral_action_added", referral,
                 detail=f"{referral.child.name}：{acted_on:%Y-%m-%d}，附件 {len(checked)} 个", user=actor)
    return action


def return_referral(referral: Referral, values: dict, *, actor) -> Referral:
    """values: outcome ("done" or "declined"), note. Done: the measure is done with the note as its
    outcome. Declined: the measure is open again (the plan shows the reason). The referrer is told."""
    _ensure_open_referral(referral)
    ensure_open(referral.child)
    outcome, note = values.get("outcome"), _text(values, "note")
    errors: dict[str, str] = {}
    if outcome not in RETURN_OUTCOMES:
        errors["outcome"] = "办理结果：请选择“已办结”或“已退回”"
    elif not note:
        errors["note"] = ("办理结果说明：请写明办了什么、结果如何" if outcome == "done"
                          else "办理结果说明：请写明退回的原因")
    if len(note) > 1000:
        errors["note"] = "办理结果说明：最多 1000 个字，请删减"
    if errors:
        raise ReferralError(errors)
    today = local_today()
    referral.state, referral.closed_on, referral.return_note = outcome, today, note
    referral.closed_by_id = actor.id if actor is not None else None
    measure = referral.measure
    _lock(Measure, measure.id)
    if measure.state in ("open", "in_progress"):  # the plan may have closed it meanwhile: that stands
        if outcome == "done":
            measure.state, measure.outcome, measure.finished_on = "done", note, today
        else:
            measure.state = "open"
    child, department = referral.child, referral.department
    words = "已办结" if outcome == "done" else "已退回"
    if referral.referred_by is not None and referral.referred_by.active:
        notify([referral.referred_by], "referral_returned", f"{department.name}{words}转介：{child.name}，{_what(measure)}",
               key=f"referral_returned:{referral.id}", url=_detail_url(referral), child_id=child.id)
    audit.record("referral_returned", referral, detail=f"{child.name}：{department.name}{words}", user=actor)
    return referral



# --- the lists ---------------------------------------------------------------------------------

ROW_OPTIONS = (joinedload(Referral.child).joinedload(Child.residence_village),
               joinedload(Referral.child).joinedload(Child.school),
               joinedload(Referral.measure).joinedload(Measure.need),
               joinedload(Referral.department))


def _is_open():
    return Referral.state.in_(OPEN_REFERRAL_STATES)


def inbox_query(user):
    """A department's inbox: its open referrals, and those returned within REFERRAL_GRACE_DAYS (it
    still reaches those children)."""
    since = local_today() - timedelta(days=REFERRAL_GRACE_DAYS)
    return reachable_referrals(user, "referrals:act").where(or_(_is_open(), Referral.closed_on >= since))


def oversight_query(user, state: str = "", department_id: int | None = None, q: str = ""):
    """Every referral `user` reaches (the town's, or a director's villages'), filtered."""
    query = reachable_referrals(user)
    if state == "open":
        query = query.where(_is_open())
    elif state in REFERRAL_STATES:
        query = query.where(Referral.state == state)
    if department_id:
        query = query.where(Referral.department_id == department_id)
    if q:
        query = query.where(Referral.child_id.in_(select(Child.id).where(Child.name.contains(q, autoescape=True))))
    return query


def referral_page(query, page: int, size: int) -> tuple[list[Referral], int]:
    """One page of `query`: open first, the earliest due (so the overdue) first; then the newest
    returned. Two queries: the count, and the rows with child, village, school, measure, need and
    department joined."""
    total = db.session.scalar(query.with_only_columns(func.count(Referral.id)).order_by(None)) or 0
    rows = db.session.scalars(
        query.join(Measure, Measure.id == Referral.measure_id)
        .options(*ROW_OPTIONS)
        .order_by(case((_is_open(), 0), else_=1), case((_is_open(), Measure.due_on)), Referral.closed_on.desc(),
                  Referral.id.desc())
        .limit(size).offset((page - 1) * size)).unique().all()
    return rows, total


def is_overdue(referral: Referral, today: date) -> bool:
    return referral.is_open and referral.measure.due_on < today


def department_panel(user) -> dict:
    """A department's card: the open referrals of its inbox, overdue first, named (capped)."""
    today = local_today()
    query = reachable_referrals(user, "referrals:act").where(_is_open()).join(Measure, Measure.id == Referral.measure_id)
    count, overdue = db.session.execute(query.with_only_columns(
        func.count(Referral.id), func.count(case((Measure.due_on < today, 1)))).order_by(None)).one()
    names = db.session.execute(
        query.join(Child, Child.id == Referral.child_id)
        .with_only_columns(Referral.id, Child.name, Measure.action, Measure.due_on, Referral.state)
        .order_by(Measure.due_on, Referral.id).limit(HOME_CARD_NAMES)).all() if count else []
    return {"count": count, "overdue": overdue, "rows": names, "today": today}


# --- the record section and the plan's measure row ----------------------------------------------

def record_referrals(child_ids: list[int], viewer) -> dict[int, list[Referral]]:
    """Each child's referrals the viewer reaches (a department: its own), newest first: one query."""
    found: dict[int, list[Referral]] = defaultdict(list)
    if not child_ids:
        return found
    for referral in db.session.scalars(
            reachable_referrals(viewer).where(Referral.child_id.in_(child_ids))
            .options(joinedload(Referral.department), joinedload(Referral.measure).joinedload(Measure.need))
            .order_by(Referral.referred_at.desc(), Referral.id.desc())):
        found[referral.child_id].append(referral)
    return found


def measure_slot(viewer, measure: Measure) -> dict:
    """The measure row's referral: the open one (or the last returned), and whether the viewer may
    refer it now. Reads measure.referrals, which the plan loads with the measures (no query)."""
    referrals = measure.referrals
    current = next((r for r in referrals if r.is_open), referrals[-1] if referrals else None)
    may_send = (can(viewer, "referrals:send") and measure.state in ("open", "in_progress")
                and (current is None or not current.is_open) and measure.child.status != "exited")
    return {"measure": measure, "referral": current, "may_send": may_send}

