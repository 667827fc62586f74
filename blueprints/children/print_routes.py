"""Archive PDFs: one child, and batches in the background (routes)."""
from __future__ import annotations

from flask import Response, flash, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from blueprints.children import bp, printing, tasks
from blueprints.places.models import Village
from blueprints.children.models import Child
from blueprints.children.search import ChildFilters, filtered_children, ordered_for_export
from blueprints.core import audit
from blueprints.core.access import require
from blueprints.places.access import reachable_villages
from blueprints.children.access import get_child_or_404
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.jobs import own_job_or_404, pdf_download, start_job
from extensions import db

JOB_KIND = "print_archives"
# ≈ 0.3–0.4 s of one core per archive: 500 archives take a few minutes.
MAX_BATCH = 500


def _pdf_response(pdf: bytes, filename: str, disposition: str = "inline") -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", disposition, filename=filename)
    response.headers["Cache-Control"] = "no-store"  # names and ID numbers: keep it out of caches
    return response


@bp.route("/<int:child_id>/archive.pdf")
@login_required
def archive_pdf(child_id: int):
    child = get_child_or_404(child_id, "children:print")
    printer = printing.Printer.for_user(current_user)
    pdf = printing.render_archive(child.id, printer)
    ids = "含完整身份证号" if printer.shows_full_ids else "身份证号已遮挡"
    audit.record("archive_printed", child, detail=f"{child.name}（档案号 {child.archive_no}，{ids}）")
    db.session.commit()
    return _pdf_response(pdf, f"archive-{child.archive_no}.pdf")


def _village_name(filters: ChildFilters) -> str | None:
    if not filters.village:
        return None
    village = db.session.scalar(reachable_villages(current_user).where(Village.id == filters.village))
    return village.name if village else None


@bp.route("/print")
@require("children:print")
def print_batch():
    """The page that starts a batch: of the list as filtered (its filters come as query
    arguments), or of one village."""
    filters = ChildFilters.from_args(request.args)
    count = db.session.scalar(filtered_children(current_user, filters)
                              .with_only_columns(func.count(Child.id)).order_by(None))
    page = render_template(
        "children/print_batch.html", job=None, filters=filters, count=count, max_batch=MAX_BATCH,
        villages=db.session.scalars(reachable_villages(current_user)).all(),
        village_name=_village_name(filters),
    )
    db.session.commit()  # keeps the audit event of a search by ID number
    return page


@bp.route("/print", methods=["POST"])
@require("children:print")
def print_batch_start():
    filters = ChildFilters.from_args(request.form)
    child_ids = list(db.session.scalars(ordered_for_export(current_user, filters).with_only_columns(Child.id)))
    back = url_for("children.print_batch", **filters.as_args())
    if not child_ids:
        flash("没有符合条件的儿童，未开始打印。", "error")
        return redirect_after_post(back)
    if len(child_ids) > MAX_BATCH:
        flash(f"共 {len(child_ids)} 名儿童，一次最多打印 {MAX_BATCH} 份。请按村、学校或类别缩小范围后分批打印。", "error")
        return redirect_after_post(back)

    village = _village_name(filters)
    what = f"{village}，{len(child_ids)} 名儿童" if village else f"{len(child_ids)} 名儿童"
    job = start_job(JOB_KIND, f"打印儿童档案（{what}）", current_user.id, tasks.PRINT_TASK,
                    child_ids=child_ids, user_id=current_user.id, what=village or "按筛选条件")
    return redirect_after_post(url_for("children.print_job", job_id=job.id))


@bp.route("/print/<int:job_id>")
@require("children:print")
def print_job(job_id: int):
    job = own_job_or_404(job_id, JOB_KIND)
    return render_page("children/print_batch.html", "children/_print_job.html", job=job)


@bp.route("/print/<int:job_id>/download")
@require("children:print")
def print_job_download(job_id: int):
    return pdf_download(own_job_or_404(job_id, JOB_KIND), f"archives-{job_id}.pdf")
