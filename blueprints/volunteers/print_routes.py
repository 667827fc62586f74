"""The pairing record (结对帮扶记录表) as PDF: one pairing, and batches for a programme and a year
in the background (routes)."""
from __future__ import annotations

from flask import Response, flash, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func

from blueprints.children.printing import Printer
from blueprints.core import audit
from blueprints.core.access import require
from blueprints.core.clock import local_today
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.jobs import own_job_or_404, pdf_download, start_job
from blueprints.core.vocabulary import PROGRAMMES
from blueprints.volunteers import bp, printing, tasks
from blueprints.volunteers.access import get_pairing_or_404, reachable_pairings
from blueprints.volunteers.models import Pairing
from extensions import db

JOB_KIND = "print_pairings"
# A record is a page or two: 500 take a few minutes in the background.
MAX_BATCH = 500


@bp.route("/pairings/<int:pairing_id>/record.pdf")
@login_required
def pairing_record(pairing_id: int):
    pairing = get_pairing_or_404(pairing_id, "pairings:print")
    pdf = printing.render_record(pairing.id, Printer.for_user(current_user))
    audit.record("pairing_record_printed", pairing,
                 detail=f"{PROGRAMMES.get(pairing.programme, pairing.programme)}：{pairing.volunteer.name} — "
                        f"{pairing.child.name}")
    db.session.commit()
    response = Response(pdf, mimetype="application/pdf")
    response.headers.set("Content-Disposition", "inline", filename=f"pairing-{pairing.id}.pdf")
    response.headers["Cache-Control"] = "no-store"  # names of a child and her volunteer
    return response


def _choice(values) -> tuple[str | None, printing.Year | None, dict[str, str]]:
    """The programme and the year asked for (None when not given yet), and what is wrong with them."""
    errors: dict[str, str] = {}
    programme = (values.get("programme") or "").strip() or None
    if programme is not None and programme not in PROGRAMMES:
        errors["programme"] = "结对项目：请从列表中选择"
        programme = None
    raw, year = (values.get("year") or "").strip(), None
    if raw:
        this_year = local_today().year
        if raw.isascii() and raw.isdigit() and len(raw) == 4 and 2000 <= int(raw) <= this_year:
            year = printing.Year(int(raw))
        else:
            errors["year"] = f"年度：请填写 2000 到 {this_year} 之间的年份，例如 {this_year}"
    return programme, year, errors


def _years() -> list[int]:
    """From the first year of a pairing the user reaches to this year, newest first."""
    this_year = local_today().year
    first = db.session.scalar(reachable_pairings(current_user, "pairings:print")
                              .with_only_columns(func.min(Pairing.started_on)))
    return list(range(this_year, min(first.year, this_year) - 1, -1)) if first else [this_year]


def _form(programme: str | None, year: printing.Year | None, errors: dict[str, str], status: int = 200):
    count = None
    if programme and year:
        count = len(printing.batch_ids(reachable_pairings(current_user, "pairings:print"), programme, year))
    return render_template(
        "volunteers/print/batch.html", job=None, programmes=PROGRAMMES, years=_years(), programme=programme,
        year=year.year if year else None, errors=errors, count=count, max_batch=MAX_BATCH,
    ), status


@bp.route("/pairings/print")
@require("pairings:print")
def pairing_batch():
    """Choose a programme and a year; once both are chosen, how many records that is, and start."""
    programme, year, errors = _choice(request.args)
    return _form(programme, year, errors, 422 if errors else 200)


@bp.route("/pairings/print", methods=["POST"])
@require("pairings:print")
def pairing_batch_start():
    programme, year, errors = _choice(request.form)
    if not programme:
        errors.setdefault("programme", "结对项目：请选择要打印的项目")
    if not year:
        errors.setdefault("year", "年度：请选择年份")
    if errors:
        return _form(programme, year, errors, 422)
    pairing_ids = printing.batch_ids(reachable_pairings(current_user, "pairings:print"), programme, year)
    label = PROGRAMMES[programme]
    back = url_for("volunteers.pairing_batch", programme=programme, year=year.year)
    if not pairing_ids:
        flash(f"{label}在 {year.year} 年没有我可打印的结对，未开始打印。", "error")
        return redirect_after_post(back)
    if len(pairing_ids) > MAX_BATCH:
        flash(f"共 {len(pairing_ids)} 个结对，一次最多打印 {MAX_BATCH} 份。请联系管理员在服务器上用命令行打印。", "error")
        return redirect_after_post(back)
    job = start_job(JOB_KIND, f"打印结对帮扶记录表（{label} {year.year} 年，{len(pairing_ids)} 份）", current_user.id,
                    tasks.PRINT_TASK, pairing_ids=pairing_ids, programme=programme, year=year.year,
                    user_id=current_user.id)
    return redirect_after_post(url_for("volunteers.pairing_batch_job", job_id=job.id))


@bp.route("/pairings/print/<int:job_id>")
@require("pairings:print")
def pairing_batch_job(job_id: int):
    job = own_job_or_404(job_id, JOB_KIND)
    return render_page("volunteers/print/batch.html", "volunteers/print/_job.html", job=job)


@bp.route("/pairings/print/<int:job_id>/download")
@require("pairings:print")
def pairing_batch_download(job_id: int):
    return pdf_download(own_job_or_404(job_id, JOB_KIND), f"pairings-{job_id}.pdf")
