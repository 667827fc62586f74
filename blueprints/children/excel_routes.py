"""Excel: survey import, list export, template workbook (routes).

Import is two steps: upload (every row checked, the report shown, the file kept under the
instance folder) and confirm (checked again, then all rows or none). A big file is imported by a
background job whose progress the page polls."""
from __future__ import annotations

from io import BytesIO

from flask import abort, current_app, flash, render_template, request, send_file, url_for
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from blueprints.children import bp, tasks
from blueprints.children.excel import (
    BACKGROUND_ROWS,
    RACE,
    Reach,
    Report,
    batch_report,
    describe_filters,
    export_workbook,
    import_dir,
    import_survey,
    new_upload_name,
    read_survey,
    record_report,
    reject_batch,
    remove_upload,
    template_workbook,
    upload_path,
)
from blueprints.children.models import ImportBatch
from blueprints.children.search import ChildFilters
from blueprints.core import audit
from blueprints.core.access import require
from blueprints.core.clock import local_today
from blueprints.core.files import copy_private
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.jobs import Job, start_job
from blueprints.core.security import accepts_upload
from blueprints.core.text import clean_text
from blueprints.core.workbook import WRONG_TYPE, XLSX_MIMETYPE
from extensions import db

JOB_KIND = "children_import"


def _xlsx(data: bytes, filename: str):
    return send_file(BytesIO(data), mimetype=XLSX_MIMETYPE, as_attachment=True, download_name=filename,
                     max_age=0)


@bp.route("/import/template.xlsx")
@require("children:import")
def import_template():
    return _xlsx(template_workbook(Reach.of(current_user)), "儿童摸底排查表（模板）.xlsx")


@bp.route("/import", methods=["GET", "POST"])
@accepts_upload
@require("children:import")
def import_upload():
    if request.method == "GET":
        return render_template("children/import.html")
    upload = request.files.get("file")
    # The file's name is the browser's (or anyone's) to send: control characters and NUL out (PostgreSQL
    # refuses NUL in the batch's filename).
    filename = clean_text(upload.filename or "").strip() if upload is not None else ""
    if not filename:
        return render_template("children/import.html", problem="请选择要上传的 Excel 文件（.xlsx）。"), 422
    # The body is already parsed (the CSRF check reads the form first): cap the size here, and
    # in front of the app (nginx client_max_body_size) for the bytes themselves.
    size = upload.stream.seek(0, 2)
    upload.stream.seek(0)
    limit = current_app.config["IMPORT_MAX_UPLOAD_BYTES"]
    if size > limit:
        problem = f"文件太大（超过 {limit / 1024 / 1024:g}MB）。请分成几个文件上传。"
        return render_template("children/import.html", problem=problem), 413

    # Checked straight from the request's spooled upload, before anything is written: nothing is
    # left behind when the check fails (or the worker is killed), and no write transaction is open
    # meanwhile (on SQLite it would lock every other user's writes out).
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        report = Report(problem=WRONG_TYPE.format(name=filename))
    else:
        report = read_survey(upload.stream, Reach.of(current_user)).report
    batch = ImportBatch(user_id=current_user.id, filename=filename[-200:], status="rejected")
    db.session.add(batch)
    db.session.flush()
    if report.ok:
        _keep_upload(upload, batch, report)
    else:
        record_report(batch, report)
        db.session.commit()
    return render_template("children/import.html", batch=batch, report=report), 200 if report.ok else 422


def _keep_upload(upload, batch: ImportBatch, report: Report) -> None:
    """Save a file that can be confirmed (mode 0600) and commit the batch naming it. Whatever fails
    (the disk, the commit), the file does not stay behind."""
    name = new_upload_name(batch)
    path = import_dir() / name
    upload.stream.seek(0)
    try:
        copy_private(upload.stream, path)
        record_report(batch, report, upload=name)
        db.session.commit()
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _own_batch_or_404(batch_id: int) -> ImportBatch:
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.user_id != current_user.id:
        abort(404)
    return batch


@bp.route("/import/<int:batch_id>")
@require("children:import")
def import_batch(batch_id: int):
    batch = _own_batch_or_404(batch_id)
    return render_template("children/import.html", batch=batch, report=batch_report(batch))


@bp.route("/import/<int:batch_id>/confirm", methods=["POST"])
@require("children:import")
def import_confirm(batch_id: int):
    batch = _own_batch_or_404(batch_id)
    path = upload_path(batch)
    present = path is not None and path.exists()
    background = batch.total_rows > BACKGROUND_ROWS
    # Checked again before the batch is claimed: the claim opens the write transaction, which on
    # SQLite keeps every other user from writing. A big file is checked by the job.
    result = read_survey(path, Reach.of(current_user)) if present and not background else None
    # Claim the batch: a second click (or a second tab) finds it taken and imports nothing.
    claimed = db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch.id, ImportBatch.status == "previewed")
        .values(status="importing")
    ).rowcount
    if not claimed:
        db.session.rollback()
        flash("这批数据正在导入或已经处理过，不能再次确认导入。", "error")
        return redirect_after_post(url_for("children.import_batch", batch_id=batch_id))
    if not present:
        reject_batch(batch, Report(total=batch.total_rows, problem="上传的文件已不在服务器上，请重新上传。"))
        db.session.commit()
        return redirect_after_post(url_for("children.import_batch", batch_id=batch_id))

    if background:
        job = start_job(JOB_KIND, _job_title(batch), current_user.id, tasks.IMPORT_TASK,
                        batch_id=batch.id, user_id=current_user.id)
        return redirect_after_post(url_for("children.import_job", batch_id=batch_id, job_id=job.id))

    if not result.report.ok:
        reject_batch(batch, result.report)
        db.session.commit()
        return redirect_after_post(url_for("children.import_batch", batch_id=batch_id))
    try:
        count = import_survey(result, batch, actor=current_user)
        db.session.commit()
    except IntegrityError:  # registered by someone else between the check and the write
        db.session.rollback()
        batch = db.session.get(ImportBatch, batch_id)
        reject_batch(batch, Report(total=batch.total_rows, problem=RACE))
        db.session.commit()
        return redirect_after_post(url_for("children.import_batch", batch_id=batch_id))
    remove_upload(batch)
    flash(f"已导入 {count} 名儿童。", "success")
    return redirect_after_post(url_for("children.import_batch", batch_id=batch_id))


def _job_title(batch: ImportBatch) -> str:
    return f"导入儿童名单（第 {batch.id} 批）"


@bp.route("/import/<int:batch_id>/job/<int:job_id>")
@require("children:import")
def import_job(batch_id: int, job_id: int):
    batch = _own_batch_or_404(batch_id)
    job = db.session.get(Job, job_id)
    if job is None or job.user_id != current_user.id or job.kind != JOB_KIND or job.title != _job_title(batch):
        abort(404)
    return render_page("children/import.html", "children/_import_job.html", batch=batch, job=job,
                       report=batch_report(batch))


@bp.route("/export.xlsx")
@require("children:export")
def export_xlsx():
    filters = ChildFilters.from_args(request.args)
    data, count = export_workbook(current_user, filters)
    audit.record("children_exported", detail=f"导出 {count} 名儿童（{describe_filters(filters)}）")
    db.session.commit()
    return _xlsx(data, f"儿童名单-{local_today():%Y%m%d}.xlsx")
