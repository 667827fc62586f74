"""The user's notices: the list (unread first), one marked read (in the row, by htmx, or on the way
to what it is about), all marked read."""
from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_login import current_user, login_required

from blueprints.core.htmx import redirect_after_post, wants_fragment
from blueprints.core.inputs import page_arg
from blueprints.notices import bp
from blueprints.notices.services import (mark_all_read, mark_read, notices_page, out_of_reach, own_notice_or_404,
                                        unread_count)
from extensions import db

PAGE_SIZE = 30


@bp.route("")
@login_required
def notices_index():
    page = page_arg(request.args)
    rows, total = notices_page(current_user, page, PAGE_SIZE)
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    if page > pages:
        page = pages
        rows, total = notices_page(current_user, page, PAGE_SIZE)
    return render_template("notices/index.html", rows=rows, total=total, page=page, pages=pages,
                           unread=unread_count(current_user), hidden=out_of_reach(current_user, rows))


def _local(url: str | None) -> bool:
    """A notice's own link is a path of this site (notify's callers write it); anything else is not followed."""
    return bool(url) and url.startswith("/") and not url.startswith("//") and "\\" not in url


@bp.route("/<int:notice_id>/read", methods=["POST"])
@login_required
def notice_read(notice_id: int):
    notice = own_notice_or_404(notice_id, current_user)
    mark_read(notice)
    db.session.commit()
    if wants_fragment():  # the row, read, and the bell's new count (out of band)
        return render_template("notices/_read.html", notice=notice, unread=unread_count(current_user),
                               hidden=out_of_reach(current_user, [notice]))
    if request.form.get("open") and _local(notice.url):
        return redirect(notice.url, code=303)
    return redirect_after_post(url_for("notices.notices_index"))


@bp.route("/read-all", methods=["POST"])
@login_required
def notices_read_all():
    mark_all_read(current_user)
    db.session.commit()
    return redirect_after_post(url_for("notices.notices_index"))
