"""The registry pages: list and search, the record, register and edit, family, contacts, benefits."""
from __future__ import annotations

from flask import abort, flash, jsonify, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from blueprints.children import bp
from blueprints.children.forms import (
    BenefitForm,
    ChildCreateForm,
    ChildForm,
    ExitForm,
    FamilyMemberForm,
    ParentContactForm,
    ReinstateForm,
)
from blueprints.children.models import Child, ChildChange, FamilyMember
from blueprints.children.rules import suggest_left_behind, suggestions
from blueprints.children.search import ChildFilters, search_children
from blueprints.children.services import (
    ChildExited,
    FamilyInput,
    add_benefit,
    add_parent_contact,
    create_child,
    disclosed_as,
    ensure_open,
    exit_child,
    find_duplicates,
    reinstate_child,
    save_family_member,
    update_child,
)
from blueprints.core import audit, once
from blueprints.core.access import can, require
from blueprints.places.access import reachable_schools, reachable_villages
from blueprints.children.access import get_child_or_404
from blueprints.core.areas import sections_for
from blueprints.core.clock import local_today
from blueprints.core.disclosure import current_disclosure
from blueprints.core.errors import render_error
from blueprints.core.htmx import redirect_after_post, render_page
from blueprints.core.inputs import id_arg, page_arg
from blueprints.core.vocabulary import ATTENTION_LEVELS, CATEGORIES, EXIT_REASONS, STATUSES
from extensions import db

# the search filters' options; codes shown on a page go through the `label` filter
LABELS = dict(categories=CATEGORIES, attention_levels=ATTENTION_LEVELS, statuses=STATUSES)


@bp.route("")
@require("children:read")
def index():
    filters = ChildFilters.from_args(request.args)
    page = search_children(current_user, filters, page_arg(request.args))
    response = render_page(
        "children/index.html", "children/_results.html",
        page=page, filters=filters, today=local_today(),
        villages=db.session.scalars(reachable_villages(current_user)).all(),
        schools=db.session.scalars(reachable_schools(current_user)).all(),
        may_write=can(current_user, "children:write"), may_export=can(current_user, "children:export"),
        may_import=can(current_user, "children:import"), may_print=can(current_user, "children:print"),
        **LABELS,
    )
    db.session.commit()  # keeps the audit event of a search by ID number
    return response


# What a user is told of a matching child outside their reach: that there is one, and whom to ask.
ELSEWHERE = "系统中已有与此相符的儿童档案，不在您的工作范围内。请联系镇民政组核实，不要重复登记。"


def _duplicate_notice(form, exclude_id=None):
    """Refuse a second child with the same ID number; ask to confirm a probable duplicate.
    Returns None when refused, the Duplicates still to be confirmed, or [] when the form may be saved."""
    values = form.child_values()
    phones = form.guardian_phones() if hasattr(form, "guardian_phones") else []
    found = find_duplicates(values["name"], values["birth_date"], values["id_number"], phones, exclude_id,
                            actor=current_user)
    if found.same_id is not None:
        link = url_for("children.detail", child_id=found.same_id.id)
        form.id_number.errors.append(Markup('该身份证号已登记：<a href="{}">{}（档案号 {}）</a>，请勿重复建档').format(
            link, found.same_id.name, found.same_id.archive_no))
    elif found.same_id_elsewhere:
        form.id_number.errors.append(ELSEWHERE)
    if found.refused:
        answer = None
    elif found.to_confirm and not form.confirm_duplicate.data:
        answer = found
    else:
        return []  # their audit events are committed with the child, not before: see core/once.py
    if found.same_id_elsewhere or found.probable_elsewhere:
        db.session.commit()  # their audit events, whatever the user does next
    return answer


def _form_page(form, child=None, duplicates=None, status=200):
    return render_template("children/form.html", form=form, child=child, duplicates=duplicates or [],
                           elsewhere=ELSEWHERE, **LABELS), status


@bp.route("/new", methods=["GET", "POST"])
@require("children:write")
def new():
    form = ChildCreateForm()
    if request.method == "GET":
        village = id_arg(request.args, "village")
        if village:
            form.residence_village_id.data = village
    if form.validate_on_submit():
        if repeat := once.claim(form):  # before the duplicate check, which would refuse the repeat as a duplicate
            return repeat
        duplicates = _duplicate_notice(form)
        if duplicates is None:
            return _form_page(form, status=422)
        if duplicates:
            return _form_page(form, duplicates=duplicates, status=409)
        family = [FamilyInput(relation=form.guardian_relation.data, name=form.guardian_name.data.strip(),
                              phone=form.guardian_phone.data or None, is_guardian=True)]
        for relation, name, phone, away in (
            ("父亲", form.father_name.data, form.father_phone.data, form.father_works_away.data),
            ("母亲", form.mother_name.data, form.mother_phone.data, form.mother_works_away.data),
        ):
            if not name:
                continue
            if relation == form.guardian_relation.data and name.strip() == form.guardian_name.data.strip():
                guardian = family[0]  # the guardian is this parent: one row, not two
                guardian.phone = guardian.phone or phone or None
                guardian.works_away = away
            else:
                family.append(FamilyInput(relation=relation, name=name.strip(), phone=phone or None, works_away=away))
        child = create_child(form.child_values(), form.categories.data, family, actor=current_user)
        location = once.created(form, url_for("children.detail", child_id=child.id))
        db.session.commit()
        flash(f"已为 {child.name} 建档，档案号 {child.archive_no}。", "success")
        return redirect_after_post(location)
    return _form_page(form, status=422 if form.errors else 200)


@bp.route("/validate/<field>", methods=["POST"])
@require("children:write")
def validate_field(field: str):
    """Inline validation: the same form and validators, answered for one field, always with 200 and
    the field (its value kept, its error beside it); without htmx, the whole form with its errors."""
    form = ChildCreateForm() if request.form.get("_creating") else ChildForm()
    if field not in form or field == "csrf_token":
        abort(404)
    form.validate()
    return render_page("children/form.html", "children/_field.html", field=form[field], form=form,
                       child=None, duplicates=[], **LABELS)


RECORD_OPTIONS = (
    selectinload(Child.categories), selectinload(Child.family), selectinload(Child.benefits),
    selectinload(Child.residence_village), selectinload(Child.hukou_village), selectinload(Child.school),
)


def load_record(child_id: int, permission: str = "children:read") -> Child:
    """The child with everything the record page shows, in a fixed number of queries."""
    return get_child_or_404(child_id, permission, RECORD_OPTIONS)


def _detail_page(child, status=200, **forms):
    today = local_today()
    disclosure = current_disclosure()

    def show_change(change: ChildChange, value: str | None) -> str:
        """History values of ID fields and the birth date are shown as the fields themselves are."""
        name = disclosed_as(change.field)
        return disclosure.show(name, value) if name else (value or "")

    return render_template(
        "children/detail.html", child=child, today=today,
        sections=sections_for("record", current_user, [child.id], lambda p: can(current_user, p)),
        suggestions=suggestions(child, today, disclosure), show_change=show_change,
        may_write=can(current_user, "children:write") and child.status != "exited",
        may_print=can(current_user, "children:print"),
        contact_form=forms.get("contact_form") or ParentContactForm(formdata=None, contacted_on=today),
        benefit_form=forms.get("benefit_form") or BenefitForm(formdata=None, start_on=today),
        exit_form=forms.get("exit_form") or ExitForm(formdata=None, exit_date=today),
        may_reinstate=can(current_user, "children:reinstate") and child.status == "exited",
        reinstate_form=forms.get("reinstate_form") or ReinstateForm(formdata=None),
        open_section=forms.get("open_section"),
        **LABELS,
    ), status


@bp.route("/<int:child_id>")
@require("children:read")
def detail(child_id: int):
    child = load_record(child_id)
    page = _detail_page(child)  # rendered before the commit, which would expire what it loaded
    audit.record("child_viewed", child, detail=child.name)
    db.session.commit()
    return page


# Form field → its disclosed name: what a viewer without children:read_ids sees masked. Such a value
# is never sent back as an input's value; left blank, the field keeps what is stored.
MASKED_INPUTS = {"id_number": "child.id_number", "disability_certificate": "child.disability_certificate",
                 "birth_date": "child.birth_date"}
KEPT_HINT = "已登记，不显示；留空则保持不变"
MISMATCH_MASKED = "出生日期与已登记的身份证号不一致：有身份证号时出生日期请留空"


@bp.route("/<int:child_id>/edit", methods=["GET", "POST"])
@require("children:write")
def edit(child_id: int):
    child = load_record(child_id, "children:write")
    ensure_open(child)
    form = ChildForm(obj=child)
    disclosure = current_disclosure()
    masked = [name for name, shown in MASKED_INPUTS.items() if not disclosure.full(shown) and getattr(child, name)
              and not (name == "birth_date" and child.id_number)]  # that one the ID number gives
    kept = []  # masked fields sent back blank, filled with the stored value to be checked and saved

    def page(status=200, duplicates=None):
        if "id_number" in kept:  # the mismatch message would tell the day of birth the number holds
            form.birth_date.errors = [MISMATCH_MASKED if e.startswith("出生日期与身份证号不一致") else e
                                      for e in form.birth_date.errors]
        for name in masked:
            if request.method == "GET" or name in kept:
                form[name].data, form[name].raw_data = None, []
                form[name].render_kw = {**(form[name].render_kw or {}), "placeholder": KEPT_HINT}
        return _form_page(form, child, duplicates=duplicates, status=status)

    if request.method == "GET":
        form.categories.data = child.category_codes
        form.hukou_village_id.data = child.hukou_village_id or 0
        form.school_id.data = child.school_id or 0
        form.gender.data = "" if child.id_number else child.gender
        form.birth_date.data = None if child.id_number else child.birth_date
        form.disability_kind.data = child.disability_kind or ""
        form.disability_grade.data = child.disability_grade or ""
        form.caregiver_relation.data = child.caregiver_relation or ""
    else:
        for name in masked:
            if not form[name].data:
                form[name].data = getattr(child, name)
                kept.append(name)
    if form.validate_on_submit():
        duplicates = _duplicate_notice(form, exclude_id=child.id)
        if duplicates is None:
            return page(422)
        if duplicates:
            return page(409, duplicates)
        changed = update_child(child, form.child_values(), form.categories.data, actor=current_user)
        db.session.commit()
        flash(f"已保存，修改了 {changed} 项。" if changed else "没有改动。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
    response = page(422 if form.errors else 200)
    if request.method == "GET":
        audit.record_view("child_edit_opened", child, detail=child.name)
    return response


@bp.route("/<int:child_id>/exit", methods=["POST"])
@require("children:write")
def exit_record(child_id: int):
    child = load_record(child_id, "children:write")
    ensure_open(child)
    form = ExitForm()
    if form.validate_on_submit():
        exit_child(child, form.exit_reason.data, form.exit_date.data, form.note.data, actor=current_user)
        db.session.commit()
        flash(f"{child.name} 已退出关爱名册（{EXIT_REASONS[form.exit_reason.data]}）。档案保留，可随时查阅。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
    return _detail_page(child, 422, exit_form=form, open_section="exit")


@bp.route("/<int:child_id>/reinstate", methods=["POST"])
@require("children:reinstate")
def reinstate(child_id: int):
    """恢复在册: the explicit way back for an exited child, with the reason kept in the history."""
    child = load_record(child_id, "children:reinstate")
    if child.status != "exited":
        abort(409)
    form = ReinstateForm()
    if form.validate_on_submit():
        reinstate_child(child, form.reason.data.strip(), actor=current_user)
        db.session.commit()
        flash(f"{child.name} 已恢复在册，可以继续记录走访和服务。原退出情况保留在变更记录中。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
    return _detail_page(child, 422, reinstate_form=form, open_section="exit")


@bp.app_errorhandler(ChildExited)
def child_exited(error: ChildExited):
    """Every refused write to an exited child, from any page or the API: 409 with the reason."""
    if request.path.startswith("/api/"):  # the offline contract's shape (core/offline.py)
        return jsonify({"error": "child_exited", "message": error.message}), 409
    return render_error(409, "该儿童已退出关爱服务", error.message)


@bp.route("/<int:child_id>/suggestions/left-behind", methods=["POST"])
@require("children:write")
def accept_left_behind(child_id: int):
    """Staff accept the rule's suggestion: add 留守儿童 to the categories (kept in the history)."""
    child = load_record(child_id, "children:write")
    if suggest_left_behind(child, child.age_on(local_today())):
        update_child(child, {}, [*child.category_codes, "left_behind"], actor=current_user)
        db.session.commit()
        flash("已标记为留守儿童。请补充委托照护人。", "success")
    return redirect_after_post(url_for("children.detail", child_id=child.id))


@bp.route("/<int:child_id>/family/new", methods=["GET", "POST"])
@bp.route("/<int:child_id>/family/<int:member_id>/edit", methods=["GET", "POST"])
@require("children:write")
def family_member(child_id: int, member_id: int | None = None):
    child = load_record(child_id, "children:write")
    ensure_open(child)
    member = None
    if member_id is not None:
        member = db.session.scalar(select(FamilyMember).where(FamilyMember.id == member_id,
                                                             FamilyMember.child_id == child.id))
        if member is None:
            abort(404)
    form = FamilyMemberForm(obj=member)
    masked = member is not None and not current_disclosure().full("family.id_number")
    id_kept = member.id_number if masked else None  # a masked number left blank stays as it is
    if form.validate_on_submit():
        data = FamilyInput(
            relation=form.relation.data, name=form.name.data.strip(), id_number=form.id_number.data or id_kept,
            phone=form.phone.data or None, work=form.work.data or None, work_place=form.work_place.data or None,
            works_away=form.works_away.data, guardianship_capacity=form.guardianship_capacity.data,
            is_guardian=form.is_guardian.data,
        )
        if member is None and (repeat := once.claim(form)):
            return repeat
        save_family_member(child, data, member, actor=current_user)
        location = url_for("children.detail", child_id=child.id) + "#family"
        if member is None:
            once.created(form, location)
        db.session.commit()
        flash(f"已保存家庭成员 {data.relation} {data.name}。", "success")
        return redirect_after_post(location)
    if request.method == "GET" and masked:
        form.id_number.data = ""  # never send a masked value back as if it were the number
    title = f"修改家庭成员 {member.relation} {member.name}" if member else "新增家庭成员"
    page = render_template("form_page.html", form=form, title=title,
                           subtitle=f"{child.name} · 档案号 {child.archive_no}",
                           back=url_for("children.detail", child_id=child.id) + "#family")
    if request.method == "GET":
        audit.record_view("family_form_opened", child,
                          detail=f"{child.name}：{member.relation}{member.name}" if member else f"{child.name}：新增成员")
    return page, 422 if form.errors else 200


@bp.route("/<int:child_id>/contacts", methods=["POST"])
@require("children:write")
def add_contact(child_id: int):
    child = load_record(child_id, "children:write")
    form = ParentContactForm()
    if form.validate_on_submit():
        if repeat := once.claim(form):
            return repeat
        add_parent_contact(child, form.contacted_on.data, form.who.data.strip(), form.method.data,
                           form.note.data or None, actor=current_user)
        location = once.created(form, url_for("children.detail", child_id=child.id) + "#contacts")
        db.session.commit()
        flash("已记录亲情联系。", "success")
        return redirect_after_post(location)
    return _detail_page(child, 422, contact_form=form, open_section="contacts")


@bp.route("/<int:child_id>/benefits", methods=["POST"])
@require("children:write")
def add_benefit_record(child_id: int):
    child = load_record(child_id, "children:write")
    form = BenefitForm()
    if form.validate_on_submit():
        if repeat := once.claim(form):
            return repeat
        add_benefit(child, form.kind.data, form.start_on.data, form.amount.data, form.period.data,
                    form.end_on.data, form.source.data or None, actor=current_user)
        location = once.created(form, url_for("children.detail", child_id=child.id) + "#benefits")
        db.session.commit()
        flash("已记录救助保障。", "success")
        return redirect_after_post(location)
    return _detail_page(child, 422, benefit_form=form, open_section="benefits")
