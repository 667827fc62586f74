"""The pairing pages (staff): the list, one pairing, making and ending one, the matching both
ways, the director's remarks and her "seen" on a volunteer's word, the figures per programme."""
from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.children.models import Child
from blueprints.core import audit, once
from blueprints.core.access import require
from blueprints.core.clock import local_today, utcnow
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import as_id, id_arg, page_arg, text_arg
from blueprints.core.vocabulary import PROGRAMMES
from blueprints.volunteers import bp
from blueprints.volunteers.access import (children_to_pair, get_child_to_pair_or_404, get_pairing_or_404,
                                          get_volunteer_or_404, reachable_activities, reachable_pairings)
from blueprints.volunteers.matching import child_needs, children_for, volunteers_for
from blueprints.volunteers.models import Pairing, PairingActivity, Volunteer
from blueprints.volunteers.oversight import programme_figures
from blueprints.volunteers.pairing_forms import EndPairingForm, PairingForm, RemarksForm
from blueprints.volunteers.pairings import (PairingError, create_pairing, end_pairing, last_activities, month_bounds,
                                            open_count, promise_due, tallies)
from extensions import db

PAGE_SIZE = 50
STATES = {"open": "进行中", "ended": "已结束", "all": "全部"}


@bp.route("/pairings")
@require("pairings:read")
def pairing_list():
    programme = request.args.get("programme", "")
    state = request.args.get("state", "open")
    state = state if state in STATES else "open"
    q = text_arg(request.args, "q", 40)
    query = reachable_pairings(current_user).join(Child, Child.id == Pairing.child_id) \
        .join(Volunteer, Volunteer.id == Pairing.volunteer_id)
    if programme in PROGRAMMES:
        query = query.where(Pairing.programme == programme)
    if state == "open":
        query = query.where(Pairing.ended_on.is_(None))
    elif state == "ended":
        query = query.where(Pairing.ended_on.is_not(None))
    if q:
        query = query.where(or_(Child.name.contains(q, autoescape=True), Volunteer.name.contains(q, autoescape=True)))
    total = db.session.scalar(query.with_only_columns(func.count(Pairing.id)).order_by(None))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_arg(request.args), pages)
    pairings = db.session.scalars(
        query.options(joinedload(Pairing.child).joinedload(Child.residence_village), joinedload(Pairing.volunteer))
        .order_by(Pairing.ended_on.is_not(None), Pairing.started_on.desc(), Pairing.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    today = local_today()
    start, end = month_bounds(today)
    ids = [p.id for p in pairings]
    return render_template("volunteers/pairings/list.html", pairings=pairings, total=total, page=page, pages=pages,
                           programme=programme, state=state, q=q, states=STATES, programmes=PROGRAMMES,
                           month=tallies(ids, start, end), last=last_activities(ids), month_start=start, month_end=end,
                           promise_due=promise_due, today=today)


def months_of(pairing: Pairing, activities: list[PairingActivity], today: date, most: int = 12) -> list[dict]:
    """The pairing's last `most` months (newest first): activities and minutes done, and promised."""
    rows = []
    day = min(today, pairing.ended_on) if pairing.ended_on else today
    while len(rows) < most:
        start, end = month_bounds(day)
        if end < pairing.started_on:
            break
        done = [a for a in activities if start <= a.done_on <= end]
        rows.append({"start": start, "count": len(done), "minutes": sum(a.minutes for a in done),
                     "due": promise_due(pairing, start, end), "current": end >= today})
        day = start - timedelta(days=1)
    return rows


@bp.route("/pairings/<int:pairing_id>")
@require("pairings:read")
def pairing_detail(pairing_id: int):
    pairing = get_pairing_or_404(pairing_id, options=(
        joinedload(Pairing.child).joinedload(Child.residence_village), joinedload(Pairing.child).joinedload(Child.school),
        joinedload(Pairing.volunteer).joinedload(Volunteer.organisation), selectinload(Pairing.need_rows)))
    return _detail_page(pairing)


def _detail_page(pairing: Pairing, end_form: EndPairingForm | None = None, remarks_form: RemarksForm | None = None,
                 status: int = 200):
    today = local_today()
    activities = db.session.scalars(
        select(PairingActivity).where(PairingActivity.pairing_id == pairing.id)
        .options(joinedload(PairingActivity.photo))
        .order_by(PairingActivity.done_on.desc(), PairingActivity.id.desc())).all()
    end_form = end_form or EndPairingForm(formdata=None, ended_on=today)
    remarks_form = remarks_form or RemarksForm(formdata=None, director_remarks=pairing.director_remarks)
    page = render_template("volunteers/pairings/detail.html", pairing=pairing, activities=activities,
                           months=months_of(pairing, activities, today), today=today,
                           end_form=end_form, remarks_form=remarks_form,
                           hours=round(sum(a.minutes for a in activities) / 60, 1))
    audit.record_view("pairing_viewed", pairing, detail=f"{pairing.volunteer.name} — {pairing.child.name}")
    return page, status


@bp.route("/pairings/<int:pairing_id>/end", methods=["POST"])
@require("pairings:manage")
def pairing_end(pairing_id: int):
    pairing = get_pairing_or_404(pairing_id, "pairings:manage")
    if pairing.ended_on is not None:  # ended meanwhile (another tab, the child's exit): nothing to do
        flash(f"这个结对已于 {pairing.ended_on:%Y-%m-%d} 结束。", "info")
        return redirect_after_post(url_for("volunteers.pairing_detail", pairing_id=pairing.id))
    form = EndPairingForm()
    if form.validate():
        try:
            end_pairing(pairing, form.ended_on.data, form.end_reason.data, form.end_note.data, actor=current_user)
        except PairingError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"结对已结束：{pairing.volunteer.name} — {pairing.child.name}", "success")
            return redirect_after_post(url_for("volunteers.pairing_detail", pairing_id=pairing.id))
    return _detail_page(pairing, end_form=form, status=422)


@bp.route("/pairings/<int:pairing_id>/remarks", methods=["POST"])
@require("pairings:remark")
def pairing_remarks(pairing_id: int):
    pairing = get_pairing_or_404(pairing_id, "pairings:remark")
    form = RemarksForm()
    if not form.validate():
        return _detail_page(pairing, remarks_form=form, status=422)
    pairing.director_remarks = (form.director_remarks.data or "").strip() or None
    audit.record("pairing_remarked", pairing)
    db.session.commit()
    flash("意见已保存，会打印在结对帮扶记录表上。", "success")
    return redirect_after_post(url_for("volunteers.pairing_detail", pairing_id=pairing.id))


@bp.route("/pairings/activities/<int:activity_id>/seen", methods=["POST"])
@require("pairings:pass_on")
def pass_on_seen(activity_id: int):
    """The director has read what the volunteer passed on: it leaves her due list."""
    activity = db.session.scalar(reachable_activities(current_user, "pairings:pass_on")
                                 .where(PairingActivity.id == activity_id))
    if activity is None or not activity.pass_on:
        abort(404)
    if activity.pass_on_seen_at is None:
        activity.pass_on_seen_at, activity.pass_on_seen_by_id = utcnow(), current_user.id
        audit.record("pass_on_seen", activity.pairing)
        db.session.commit()
    return redirect_after_post(url_for("volunteers.pairing_detail", pairing_id=activity.pairing_id) + "#activities")


# --- making a pairing, and the matching both ways ------------------------------------------------

@bp.route("/pairings/new", methods=["GET", "POST"])
@require("pairings:manage")
def pairing_new():
    child_id = id_arg(request.values, "child")
    if child_id is None:
        return _choose_child()
    child = get_child_to_pair_or_404(child_id)
    wanted = id_arg(request.values, "volunteer")
    # one chosen from her own page comes first, whatever her rank (the rules still apply on save)
    matches = volunteers_for(child, current_user, first=wanted)
    needs = child_needs([child.id]).get(child.id, {})
    form = PairingForm(formdata=None if request.method == "GET" else request.form)
    form.volunteer_id.choices = choices((str(m.volunteer.id), m.volunteer.name) for m in matches)
    if request.method == "GET":
        form.started_on.data = local_today()
        form.needs.data = list(needs)
        form.programme.data = "caring_mother" if matches and matches[0].volunteer.kind == "caring_mother" else ""
        if wanted:
            form.volunteer_id.data = str(wanted)
    elif form.validate():
        if repeat := once.claim(form):
            return repeat
        volunteer_id = as_id(form.volunteer_id.data)
        volunteer = get_volunteer_or_404(volunteer_id, "pairings:manage") if volunteer_id else None
        if volunteer is None:
            form.volunteer_id.errors.append("志愿者：请从列表中选择")
        else:
            try:
                pairing = create_pairing(child, volunteer, {
                    "programme": form.programme.data, "started_on": form.started_on.data,
                    "planned_end_on": form.planned_end_on.data, "goals": form.goals.data or "",
                    "times_per_month": form.times_per_month.data, "needs": form.needs.data or []},
                    actor=current_user)
            except PairingError as error:
                add_errors(form, error.errors)
            else:
                location = once.created(form, url_for("volunteers.pairing_detail", pairing_id=pairing.id))
                db.session.commit()
                flash(f"已建立结对：{volunteer.name} — {child.name}", "success")
                return redirect_after_post(location)
    status = 422 if request.method == "POST" else 200
    return render_template("volunteers/pairings/new.html", form=form, child=child, matches=matches,
                           needs=needs, today=local_today()), status


def _choose_child():
    q = text_arg(request.args, "q", 40)
    children = []
    if q:
        children = db.session.scalars(
            children_to_pair(current_user).where(Child.name.contains(q, autoescape=True))
            .options(joinedload(Child.residence_village)).order_by(Child.name_pinyin).limit(30)).all()
    return render_template("volunteers/pairings/choose_child.html", q=q, children=children, today=local_today())


@bp.route("/pairings/match/child/<int:child_id>")
@require("pairings:manage")
def match_child(child_id: int):
    child = get_child_to_pair_or_404(child_id)
    matches = volunteers_for(child, current_user)
    open_pairings = db.session.scalars(reachable_pairings(current_user).where(
        Pairing.child_id == child.id, Pairing.ended_on.is_(None)).options(joinedload(Pairing.volunteer))).all()
    page = render_template("volunteers/pairings/match_child.html", child=child, matches=matches,
                           needs=child_needs([child.id]).get(child.id, {}), open_pairings=open_pairings,
                           today=local_today())
    audit.record_view("pairing_matched", child, detail=f"为 {child.name} 找志愿者")
    return page


@bp.route("/pairings/match/volunteer/<int:volunteer_id>")
@require("pairings:manage")
def match_volunteer(volunteer_id: int):
    volunteer = get_volunteer_or_404(volunteer_id, "pairings:manage",
                                     options=(selectinload(Volunteer.skill_rows), joinedload(Volunteer.village)))
    matches = children_for(volunteer, current_user)
    page = render_template("volunteers/pairings/match_volunteer.html", volunteer=volunteer, matches=matches,
                           room=volunteer.capacity - open_count(volunteer.id))
    audit.record_view("pairing_matched", volunteer, detail=f"为 {volunteer.name} 找结对儿童")
    return page


@bp.route("/pairings/oversight")
@require("pairings:oversight")
def oversight():
    figures = programme_figures(current_user, local_today())
    page = render_template("volunteers/pairings/oversight.html", figures=figures)
    audit.record_view("pairing_oversight_viewed")
    return page
