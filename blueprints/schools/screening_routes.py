"""The pages of psychological screening: the list, recording a screening and its follow-up, and the
instruments an administrator edits. Every page that shows a screening records the read."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from blueprints.children.access import get_child_or_404, reachable_children
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.inputs import as_id, id_arg, page_arg, text_arg
from blueprints.core.vocabulary import CURRENT_STATUSES, SCREENING_BANDS
from blueprints.places.access import reachable_schools
from blueprints.places.models import School
from blueprints.schools import bp
from blueprints.schools.access import get_screening_or_404
from blueprints.schools.models import Screening, ScreeningInstrument
from blueprints.schools.screening_forms import FollowupForm, InstrumentForm, ScreeningForm
from blueprints.schools.screenings import (BANDS_WORST_FIRST, FOLLOWUP_DAYS, FOLLOWUP_STATES, HIGH, ScreeningError, active_instruments,
                                          audit_read, band_field, bands_text, due_on, listed, record_followup,
                                          record_screening, save_instrument)
from blueprints.schools.terms import is_term, recent_terms, term_label, term_of
from extensions import db

PAGE_SIZE = 50
FORM_TERMS = 2  # a screening is recorded for this term or the last


@bp.route("/schools/screenings")
@require("screenings:read")
def screening_list():
    today = local_today()
    term = request.args.get("term", term_of(today))
    term = term if term == "" or is_term(term) else term_of(today)  # "": every term
    band = request.args.get("band", "")
    band = band if band in SCREENING_BANDS else ""
    followup = request.args.get("followup", "")
    followup = followup if followup in FOLLOWUP_STATES else ""
    schools = db.session.scalars(reachable_schools(current_user).order_by(School.name)).all()
    school_id = id_arg(request.args, "school") if len(schools) > 1 else None
    query = listed(current_user, term, band, followup, school_id, today)
    total = db.session.scalar(query.with_only_columns(func.count(Screening.id)).order_by(None))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_arg(request.args), pages)
    screenings = db.session.scalars(query.options(
        joinedload(Screening.child).joinedload(Child.school), joinedload(Screening.instrument))
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    terms = recent_terms(today, 6)
    if term and term not in terms:
        terms.append(term)
    response = render_page(
        "schools/screenings/list.html", "schools/screenings/_rows.html",
        screenings=screenings, total=total, page=page, pages=pages, term=term, band=band, followup=followup,
        school_id=school_id, schools=schools if len(schools) > 1 else [], terms=terms, term_label=term_label,
        followup_states=FOLLOWUP_STATES, bands_worst_first=BANDS_WORST_FIRST, due_on=due_on, today=today, high=HIGH)
    if screenings:
        audit_read(f"筛查列表：{total} 条，第 {page} 页")
    return response


# --- recording a screening -------------------------------------------------------------------------

@bp.route("/schools/screenings/new", methods=["GET", "POST"])
@require("screenings:write")
def screening_new():
    child_id = id_arg(request.values, "child_id")
    if child_id is None:
        return _choose_pupil()
    child = get_child_or_404(child_id, "screenings:write", (joinedload(Child.school),))
    ensure_open(child)
    today = local_today()
    instruments = active_instruments()
    form = ScreeningForm(formdata=None if request.method == "GET" else request.form)
    form.term.choices = choices((code, term_label(code)) for code in recent_terms(today, FORM_TERMS))
    form.instrument_id.choices = choices((str(i.id), i.name) for i in instruments)
    if request.method == "GET":
        form.term.data, form.screened_on.data = term_of(today), today
    elif form.validate():
        chosen = as_id(form.instrument_id.data)
        try:
            screening = record_screening(child, {
                "term": form.term.data, "instrument": next((i for i in instruments if i.id == chosen), None),
                "screened_on": form.screened_on.data, "score": form.score.data}, actor=current_user)
        except ScreeningError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            # The flash lives in the session cookie: it names no band. The screening's page shows it.
            flash(f"已录入 {child.name} 的筛查。", "success")
            return redirect_after_post(url_for("schools.screening_followup", screening_id=screening.id))
    status = 422 if request.method == "POST" else 200
    return render_template("schools/screenings/new.html", form=form, child=child, instruments=instruments,
                           bands_text=bands_text), status


def _choose_pupil():
    q = text_arg(request.args, "q", 40)
    pupils = []
    if q:
        pupils = db.session.scalars(
            reachable_children(current_user).where(Child.status.in_(CURRENT_STATUSES),
                                                   Child.name.contains(q, autoescape=True))
            .options(joinedload(Child.residence_village)).order_by(Child.name_pinyin).limit(30)).all()
    return render_template("schools/screenings/choose_pupil.html", q=q, pupils=pupils)


# --- the follow-up --------------------------------------------------------------------------------

@bp.route("/schools/screenings/<int:screening_id>/followup", methods=["GET", "POST"])
@require("screenings:read")
def screening_followup(screening_id: int):
    """The screening, and its follow-up: read by every holder of screenings:read, written by the
    mental-health teacher."""
    writing = request.method == "POST"
    if writing and not can(current_user, "screenings:write"):
        abort(403)
    screening = get_screening_or_404(screening_id, "screenings:write" if writing else "screenings:read", options=(
        joinedload(Screening.child).joinedload(Child.school), joinedload(Screening.instrument),
        joinedload(Screening.recorded_by)))
    may_write = can(current_user, "screenings:write") and screening.child.status in CURRENT_STATUSES
    form = None
    if writing:
        ensure_open(screening.child)
        form = FollowupForm()
        if form.validate():
            try:
                record_followup(screening, {"followup": form.followup.data, "followup_on": form.followup_on.data,
                                            "followup_note": form.followup_note.data}, actor=current_user)
            except ScreeningError as error:
                add_errors(form, error.errors)
            else:
                db.session.commit()
                flash(f"已记下对 {screening.child.name} 的跟进。", "success")
                return redirect_after_post(url_for("schools.screening_followup", screening_id=screening.id))
    elif may_write:
        form = FollowupForm(formdata=None, followup=screening.followup, followup_on=screening.followup_on or local_today(),
                            followup_note=screening.followup_note)
    page = render_template("schools/screenings/followup.html", screening=screening, form=form if may_write else None,
                           due_on=due_on(screening), followup_days=FOLLOWUP_DAYS, today=local_today(),
                           term_label=term_label, high=HIGH)
    audit_read(f"{screening.child.name}：筛查 #{screening.id}")
    return page, 422 if writing else 200


# --- the instruments (an administrator's) ----------------------------------------------------------

@bp.route("/schools/instruments")
@require("screenings:instruments")
def instruments():
    rows = db.session.scalars(select(ScreeningInstrument).options(joinedload(ScreeningInstrument.bands))
                              .order_by(ScreeningInstrument.active.desc(), ScreeningInstrument.id)).unique().all()
    used = dict(db.session.execute(select(Screening.instrument_id, func.count(Screening.id))
                                   .group_by(Screening.instrument_id)).all())
    return render_template("schools/screenings/instruments.html", instruments=rows, used=used, bands_text=bands_text)


@bp.route("/schools/instruments/new", methods=["GET", "POST"], defaults={"instrument_id": None})
@bp.route("/schools/instruments/<int:instrument_id>", methods=["GET", "POST"])
@require("screenings:instruments")
def instrument_edit(instrument_id: int | None):
    instrument = None
    if instrument_id is not None:
        instrument = db.session.get(ScreeningInstrument, instrument_id) or abort(404)
    if request.method == "GET":
        form = InstrumentForm(formdata=None, obj=instrument)
        for row in instrument.bands if instrument else ():
            form[band_field(row.band, "low")].data, form[band_field(row.band, "high")].data = row.low, row.high
    else:
        form = InstrumentForm()
        if form.validate():
            try:
                saved = save_instrument(instrument, {
                    "name": form.name.data, "min_score": form.min_score.data, "max_score": form.max_score.data,
                    "note": form.note.data, "active": form.active.data, "bands": form.band_values()},
                    actor=current_user)
            except ScreeningError as error:
                add_errors(form, error.errors)
            else:
                db.session.commit()
                flash(f"量表已保存：{saved.name}（{bands_text(saved.bands)}）", "success")
                return redirect_after_post(url_for("schools.instruments"))
    return render_template("schools/screenings/instrument_form.html", form=form, instrument=instrument,
                           bands=SCREENING_BANDS, band_field=band_field), 422 if request.method == "POST" else 200
