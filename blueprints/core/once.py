"""A form sent twice stores one record.

Two taps on a slow network, or the back button and 提交 again, send a creating form twice. Each
rendering of such a form carries a random token (OnceField, core/forms.py); the route claims the
token before it creates anything, in the same transaction as what it creates. A second request with
the token finds it claimed (PostgreSQL's unique index makes a concurrent second wait for the first's
commit; SQLite serialises writes) and is sent to what the first created. The offline records have
their client_uuid instead.

Routes:  if (repeat := once.claim(form)): return repeat
         ... create ...;  location = once.created(form, url_of_the_record);  commit;  redirect
Nothing commits between the claim and the record: a claim committed without a location reads as a
sending that stored nothing, and a repeat may go on. A form whose own checks a repeat would fail (a
name the first sending took) claims before them; refused, it commits nothing, so stores no claim.

Old tokens are deleted by a daily periodic task (FORM_TOKENS_DAYS): by then nobody posts that page again.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, current_app, flash
from flask_login import current_user
from huey import crontab
from sqlalchemy import ForeignKey, String, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from blueprints.core.clock import utcnow
from blueprints.core.errors import render_error
from blueprints.core.htmx import client_redirect
from blueprints.core.jobs import periodic
from extensions import db

REPEATED = "这份表单已经提交过，没有重复保存。"
EXPIRED = "这份表单缺少提交凭据或已失效，没有保存。请重新打开表单（刷新页面），填写后再提交。"


class FormSubmission(db.Model):
    """A creating form's token, claimed by the request that saved it, and where its record is."""

    __tablename__ = "form_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # the page of what was created; none while the claiming request runs (or if it created nothing)
    location: Mapped[str | None] = mapped_column(String(300))


def claim(form) -> Response | None:
    """Claim the form's token for the current user before creating. None: go on and create. Else
    the answer to send: the record the first sending created, or a refusal of a missing, malformed
    or foreign token (never a redirect to another user's record)."""
    token = form.once.token
    if token is None:
        return render_error(422, "请重新打开表单", EXPIRED)
    try:
        with db.session.begin_nested():
            row = FormSubmission(token=token, user_id=current_user.id)
            db.session.add(row)
    except IntegrityError:
        row = db.session.scalar(select(FormSubmission).where(FormSubmission.token == token).with_for_update())
        if row is None or row.user_id != current_user.id:
            return render_error(422, "请重新打开表单", EXPIRED)
        if row.location is not None:
            flash(REPEATED, "info")
            return client_redirect(row.location)
        row.created_at = utcnow()  # its first sending stored nothing (refused by a service): this one may
    form.once.claimed = row
    return None


def created(form, location: str) -> str:
    """Note where the claimed form's record is (before the commit that stores both); returns it."""
    form.once.claimed.location = location
    return location


def delete_old(now: datetime | None = None) -> int:
    """Delete tokens older than FORM_TOKENS_DAYS; returns how many went."""
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["FORM_TOKENS_DAYS"])
    removed = db.session.execute(delete(FormSubmission).where(FormSubmission.created_at < cutoff)).rowcount
    db.session.commit()
    return removed


@periodic("core.delete_old_form_tokens", crontab(hour="19", minute="27"))  # huey's clock is UTC: 03:27 in Beijing
def delete_old_form_tokens() -> None:
    delete_old()
