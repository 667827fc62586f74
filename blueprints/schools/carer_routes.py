"""The carer pages: the key pupils and their carers, naming or changing a pupil's carer, the
after-school fee waiver per term, a pupil's weekend and holiday care, and the school's staff
with their duties. Every pupil is reached through children.access (404 outside reach, 403
without the grant); a write to a pupil off the roll is refused (409, children/routes.py)."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.auth.models import User
from blueprints.children.access import get_child_or_404, reachable_children
from blueprints.children.models import Child
from blueprints.children.services import ensure_open
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.core.clock import local_today
from blueprints.core.forms import add_errors, choices
from blueprints.core.htmx import redirect_after_post
from blueprints.core.inputs import as_id, id_arg, page_arg, text_arg
from blueprints.core.vocabulary import CURRENT_STATUSES, SCHOOL_DUTIES
from blueprints.places.access import reachable_schools
from blueprints.places.models import School
from blueprints.schools import bp
from blueprints.schools.access import get_staff_or_404, reachable_carers, reachable_holiday_care, reachable_school_staff
from blueprints.schools.carer_forms import (CarerCorrectionForm, CarerForm, ClassForm, DutyForm, HolidayCareEndForm,
                                           HolidayCareForm, WaiverForm)
from blueprints.schools.carers import (CarerError, add_holiday_care, correct_carer, current_carer, end_holiday_care,
                                       key_pupils, name_carer, pending_waivers, qualifies, school_accounts, set_fee_waiver,
                                       set_school_duty, waived_in, waiver_reasons, waiver_terms, without_carer)
from blueprints.schools.classes import (ClassError, chosen_value, class_label, classes_of, set_teacher_class,
                                        with_her_class)
from blueprints.schools.enrolment import at_school
from blueprints.schools.models import HolidayCare, ResponsibleCarer
from blueprints.schools.terms import term_label, term_of
from extensions import db

PAGE_SIZE = 50
CARER_STATES = {"all": "全部重点学生", "without": "未指定关爱责任人", "with": "已指定"}
WAIVER_STATES = {"pending": "符合条件未减免", "waived": "已减免", "all": "符合条件或已减免"}


def _page(query, order):
    """The page of `query` the request asks for: (rows, total, page, pages)."""
    total = db.session.scalar(query.with_only_columns(func.count(Child.id)).order_by(None)) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(page_arg(request.args), pages)
    rows = db.session.scalars(query.options(joinedload(Child.school), selectinload(Child.categories))
                              .order_by(*order, Child.id).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return list(rows), total, page, pages


def _school_filter(query):
    """?school= for those who reach more than one school: (query, the schools, the one chosen)."""
    schools = db.session.scalars(reachable_schools(current_user)).all()
    chosen = id_arg(request.args, "school") if len(schools) > 1 else None
    if chosen is not None:
        query = query.where(Child.school_id == chosen)
    return query, schools if len(schools) > 1 else [], chosen


# --- the key pupils and their carers -------------------------------------------------------------

@bp.route("/schools/carers")
@require("carers:read")
def carer_list():
    state = request.args.get("state", "all")
    state = state if state in CARER_STATES else "all"
    q = text_arg(request.args, "q", 40)
    query, schools, school = _school_filter(key_pupils(current_user))
    if state == "without":
        query = without_carer(query)
    elif state == "with":
        query = query.where(Child.id.in_(reachable_carers(current_user).where(ResponsibleCarer.ended_on.is_(None))
                                         .with_only_columns(ResponsibleCarer.child_id)))
    if q:
        query = query.where(Child.name.contains(q, autoescape=True))
    children, total, page, pages = _page(query, (Child.school_id, Child.grade, Child.name_pinyin))
    carers = {c.child_id: c for c in db.session.scalars(reachable_carers(current_user).where(
        ResponsibleCarer.child_id.in_([c.id for c in children]), ResponsibleCarer.ended_on.is_(None)))}
    return render_template("schools/carers/list.html", children=children, carers=carers, total=total, page=page,
                           pages=pages, state=state, states=CARER_STATES, q=q, schools=schools, school=school,
                           may_manage=can(current_user, "carers:manage"))


@bp.route("/schools/pupils/<int:child_id>/carer", methods=["GET", "POST"])
@require("carers:manage")
def carer_edit(child_id: int):
    child = get_child_or_404(child_id, "carers:manage",
                             options=(joinedload(Child.school), joinedload(Child.residence_village)))
    if child.school_id is None:
        abort(404)  # not a pupil: no school names her carer
    ensure_open(child)  # off the roll: the form is refused with the reason (409)
    accounts = school_accounts(child.school_id)
    form, fix_form = CarerForm(formdata=None), None
    current = current_carer(child.id)
    if current is not None:
        fix_form = CarerCorrectionForm(formdata=None, prefix="fix", phone=current.phone, since=current.since,
                                       note=current.note)
    if request.method == "POST" and request.form.get("intent") == "correct" and current is not None:
        fix_form = CarerCorrectionForm(prefix="fix")
        if fix_form.validate():
            try:
                correct_carer(child, phone=fix_form.phone.data, since=fix_form.since.data, note=fix_form.note.data,
                              actor=current_user)
            except CarerError as error:
                add_errors(fix_form, error.errors)
            else:
                db.session.commit()
                flash(f"已修改 {child.name} 的关爱责任人 {current.name} 的信息。", "success")
                return redirect_after_post(url_for("children.detail", child_id=child.id) + "#school-carer")
    elif request.method == "POST":
        form = CarerForm()
        if form.validate():
            account_id = as_id(form.user_id.data)
            account = next((a for a in accounts if a.id == account_id), None)
            try:
                if form.user_id.data and account is None:
                    raise CarerError({"user_id": "本校老师：请从列表中选择"})
                carer = name_carer(child, account=account, name=form.name.data, phone=form.phone.data,
                                   since=form.since.data, note=form.note.data, actor=current_user)
            except CarerError as error:
                add_errors(form, error.errors)
            else:
                db.session.commit()
                flash(f"已指定 {carer.name} 为 {child.name} 的关爱责任人。", "success")
                return redirect_after_post(url_for("children.detail", child_id=child.id) + "#school-carer")
    else:
        form.since.data = local_today()
    form.user_id.choices = choices([("", "不是本校账号，填写姓名"),
                                    *((str(a.id), a.display_name + (f" · {a.phone}" if a.phone else ""))
                                      for a in accounts)])
    history = db.session.scalars(reachable_carers(current_user).where(
        ResponsibleCarer.child_id == child.id, ResponsibleCarer.ended_on.is_not(None))
        .order_by(ResponsibleCarer.since.desc(), ResponsibleCarer.id.desc())).all()
    page = render_template("schools/carers/edit.html", child=child, form=form, fix_form=fix_form, current=current,
                           history=history, today=local_today())
    if request.method == "GET":
        audit.record_view("carer_form_opened", child, detail=child.name)
    return page, 422 if request.method == "POST" else 200


# --- the after-school fee waiver ---------------------------------------------------------------

@bp.route("/schools/waivers")
@require("fee_waivers:read")
def fee_waivers():
    today = local_today()
    terms = waiver_terms(today)
    term = request.args.get("term", "")
    term = term if term in terms else term_of(today)
    state = request.args.get("state", "pending")
    state = state if state in WAIVER_STATES else "pending"
    q = text_arg(request.args, "q", 40)
    return _waiver_page(term, terms, state, q)


def _waiver_page(term, terms, state, q, status=200):
    pupils = reachable_children(current_user).where(Child.school_id.is_not(None))
    if state == "pending":
        query = pending_waivers(current_user, term)
    elif state == "waived":
        query = pupils.where(waived_in(term))
    else:
        query = pupils.where(or_(waived_in(term), Child.status.in_(CURRENT_STATUSES) & at_school() & qualifies(term)))
    query, schools, school = _school_filter(query)
    if q:
        query = query.where(Child.name.contains(q, autoescape=True))
    children, total, page, pages = _page(query, (Child.school_id, Child.grade, Child.name_pinyin))
    waived = set(db.session.scalars(pupils.where(Child.id.in_([c.id for c in children]), waived_in(term))
                                    .with_only_columns(Child.id)))
    return render_template("schools/carers/waivers.html", children=children, reasons=waiver_reasons(children, term),
                           waived=waived, term=term, terms=terms, term_label=term_label, state=state,
                           states=WAIVER_STATES, q=q, schools=schools, school=school, total=total, page=page,
                           pages=pages, may_manage=can(current_user, "fee_waivers:manage")), status


@bp.route("/schools/waivers/<int:child_id>", methods=["POST"])
@require("fee_waivers:manage")
def fee_waiver_set(child_id: int):
    child = get_child_or_404(child_id, "fee_waivers:manage")
    if child.school_id is None:
        abort(404)
    form = WaiverForm()
    waived = form.waived.data == "1"
    try:
        if not form.validate():
            raise CarerError({"term": "学期：请从列表中选择"})
        changed = set_fee_waiver(child, form.term.data, waived, actor=current_user)
    except CarerError as error:
        db.session.rollback()
        flash(f"{child.name}：{error.errors['term']}", "error")
        return _waiver_page(term_of(local_today()), waiver_terms(local_today()), "pending", "", status=422)
    db.session.commit()
    term = form.term.data
    if changed:
        flash(f"{child.name}：{term_label(term)}课后服务费" + ("已减免。" if waived else "已取消减免。"), "success")
    if form.back.data == "home":
        return redirect_after_post(url_for("dashboard.home") + "#school-waivers")
    return redirect_after_post(url_for("schools.fee_waivers", term=term))  # the next pupil to decide


# --- weekend and holiday care --------------------------------------------------------------------

def _pupil_for_holiday_care(child_id: int) -> Child:
    child = get_child_or_404(child_id, "fee_waivers:manage",
                             options=(joinedload(Child.school), joinedload(Child.residence_village)))
    if child.school_id is None:
        abort(404)
    return child


@bp.route("/schools/pupils/<int:child_id>/holiday-care", methods=["GET", "POST"])
@require("fee_waivers:manage")
def holiday_care(child_id: int):
    child = _pupil_for_holiday_care(child_id)
    ensure_open(child)
    form = HolidayCareForm(formdata=None, starts_on=local_today())
    if request.method == "POST":
        form = HolidayCareForm()
        if form.validate():
            if repeat := once.claim(form):
                return repeat
            try:
                add_holiday_care(child, kind=form.kind.data, place=form.place.data, starts_on=form.starts_on.data,
                                 ends_on=form.ends_on.data, note=form.note.data, actor=current_user)
            except CarerError as error:
                add_errors(form, error.errors)
            else:
                location = once.created(form, url_for("schools.holiday_care", child_id=child.id))
                db.session.commit()
                flash(f"已登记 {child.name} 的周末或假期关爱。", "success")
                return redirect_after_post(location)
    page = _holiday_care_page(child, form)
    if request.method == "GET":
        audit.record_view("holiday_care_viewed", child, detail=child.name)
    return page, 422 if request.method == "POST" else 200


@bp.route("/schools/pupils/<int:child_id>/holiday-care/<int:care_id>/end", methods=["POST"])
@require("fee_waivers:manage")
def holiday_care_end(child_id: int, care_id: int):
    child = _pupil_for_holiday_care(child_id)
    care = db.session.scalar(reachable_holiday_care(current_user, "fee_waivers:manage")
                             .where(HolidayCare.id == care_id, HolidayCare.child_id == child.id))
    if care is None:
        abort(404)
    ensure_open(child)
    form = HolidayCareEndForm(prefix=f"end-{care.id}")
    if form.validate():
        try:
            end_holiday_care(care, form.ends_on.data, actor=current_user)
        except CarerError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            flash(f"{child.name} 在{care.place}的关爱已于 {care.ends_on:%Y-%m-%d} 结束。", "success")
            return redirect_after_post(url_for("schools.holiday_care", child_id=child.id) + f"#holiday-care-{care.id}")
    db.session.rollback()
    return _holiday_care_page(child, HolidayCareForm(formdata=None, starts_on=local_today()), {care.id: form}), 422


def _holiday_care_page(child: Child, form: HolidayCareForm, failed: dict | None = None) -> str:
    """The pupil's places, each open one with its end form (`failed`: the one posted, as typed)."""
    places = db.session.scalars(reachable_holiday_care(current_user).where(HolidayCare.child_id == child.id)
                                .order_by(HolidayCare.starts_on.desc(), HolidayCare.id.desc())).all()
    today = local_today()
    end_forms = {h.id: HolidayCareEndForm(formdata=None, prefix=f"end-{h.id}", ends_on=today)
                 for h in places if h.ends_on is None} | (failed or {})
    return render_template("schools/carers/holiday_care.html", child=child, form=form, places=places,
                           end_forms=end_forms, today=today)


# --- the school's staff and their duties ---------------------------------------------------------

@bp.route("/schools/staff")
@require("school_staff:manage")
def staff():
    return _staff_page()


def _staff_page(failed: User | None = None, form: DutyForm | ClassForm | None = None, status: int = 200):
    query, schools, school = _staff_filter()
    people = db.session.scalars(query.options(joinedload(User.school))
                                .outerjoin(School, School.id == User.school_id)
                                .order_by(School.name, User.active.desc(), User.display_name, User.id)).all()
    forms = {u.id: DutyForm(formdata=None, duty=u.school_duty or "") for u in people}
    classes = classes_of({u.school_id for u in people})
    class_forms = {u.id: ClassForm(formdata=None, class_pair=chosen_value(u)) for u in people}
    for u in people:
        class_forms[u.id].class_pair.choices = [("", "不带班"), *with_her_class(u, classes.get(u.school_id, []))]
    if failed is not None:
        if isinstance(form, ClassForm):
            form.class_pair.choices = class_forms[failed.id].class_pair.choices
            class_forms[failed.id] = form
        else:
            forms[failed.id] = form
    return render_template("schools/carers/staff.html", people=people, forms=forms, class_forms=class_forms,
                           schools=schools, school=school, duties=SCHOOL_DUTIES), status


def _staff_filter():
    """?school= for those who set the duties of more than one school's staff."""
    query = reachable_school_staff(current_user)
    schools = db.session.scalars(select(School).where(School.id.in_(query.with_only_columns(User.school_id)))
                                 .order_by(School.name)).all()
    schools = schools if len(schools) > 1 else []
    chosen = id_arg(request.args, "school") if schools else None
    if chosen is not None:
        query = query.where(User.school_id == chosen)
    return query, schools, chosen


@bp.route("/schools/staff/<int:user_id>", methods=["POST"])
@require("school_staff:manage")
def staff_duty(user_id: int):
    person = get_staff_or_404(user_id)
    form = DutyForm()
    if form.validate():
        try:
            changed = set_school_duty(person, form.duty.data, actor=current_user)
        except CarerError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            if changed:
                flash(f"{person.display_name} 的职责已改为{SCHOOL_DUTIES[person.school_duty]}。", "success")
            if not can(current_user, "school_staff:manage"):  # she gave up her own duty
                return redirect_after_post(url_for("dashboard.home"))
            return redirect_after_post(url_for("schools.staff") + f"#staff-{person.id}")
    db.session.rollback()
    return _staff_page(person, form, 422)


@bp.route("/schools/staff/<int:user_id>/class", methods=["POST"])
@require("school_staff:manage")
def staff_class(user_id: int):
    """The class a 班主任 teaches: what her home and her phone show first."""
    person = get_staff_or_404(user_id)
    form = ClassForm()
    if form.validate():
        try:
            changed = set_teacher_class(person, form.class_pair.data or "", actor=current_user)
        except ClassError as error:
            add_errors(form, error.errors)
        else:
            db.session.commit()
            if changed:
                label = class_label(person.class_grade, person.class_name)
                flash(f"{person.display_name} " + (f"带 {label}。" if label else "不再带班。"), "success")
            return redirect_after_post(url_for("schools.staff") + f"#staff-{person.id}")
    db.session.rollback()
    return _staff_page(person, form, 422)
