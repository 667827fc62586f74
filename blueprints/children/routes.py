"""The registry pages: list and search, the record, register and edit, family, contacts, benefits."""
from __future__ import annotations

from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup, escape
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
)
from blueprints.children.models import Child, ChildChange, FamilyMember
from blueprints.children.rules import suggest_left_behind, suggestions
from blueprints.children.search import ChildFilters, search_children
from blueprints.children.services import (
    FamilyInput,
    add_benefit,
    add_parent_contact,
    create_child,
    exit_child,
    find_duplicates,
    is_id_field,
    may_open,
    save_family_member,
    update_child,
)
from blueprints.core import audit
from blueprints.core.access import can, require
from blueprints.places.access import reachable_schools, reachable_villages
from blueprints.children.access import get_child_or_404
from blueprints.core.areas import sections_for
from blueprints.core.clock import local_today
from blueprints.core.disclosure import current_disclosure
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
    return render_page(
        "children/index.html", "children/_results.html",
        page=page, filters=filters, today=local_today(),
        villages=db.session.scalars(reachable_villages(current_user)).all(),
        schools=db.session.scalars(reachable_schools(current_user)).all(),
        may_write=can(current_user, "children:write"), may_export=can(current_user, "children:export"),
        may_import=can(current_user, "children:import"), may_print=can(current_user, "children:print"),
        **LABELS,
    )


def _duplicate_notice(form, exclude_id=None):
    """Refuse a second child with the same ID number; ask to confirm a probable duplicate.
    Returns the probable duplicates still to be confirmed (empty when the form may be saved)."""
    values = form.child_values()
    phones = form.guardian_phones() if hasattr(form, "guardian_phones") else []
    found = find_duplicates(values["name"], values["birth_date"], values["id_number"], phones, exclude_id)
    if found.same_id is not None:
        other = found.same_id
        if may_open(current_user, other):
            link = url_for("children.detail", child_id=other.id)
            message = Markup('该身份证号已登记：<a href="{}">{}（档案号 {}）</a>，请勿重复建档').format(
                link, other.name, other.archive_no)
        else:
            message = Markup("该身份证号已在{}登记（档案号 {}），不在您的工作范围内，请联系镇民政组").format(
                escape(other.residence_village.name), other.archive_no)
        form.id_number.errors.append(message)
        return None
    if found.probable and not form.confirm_duplicate.data:
        return [(c, may_open(current_user, c)) for c in found.probable]
    return []


def _form_page(form, child=None, duplicates=None, status=200):
    return render_template("children/form.html", form=form, child=child, duplicates=duplicates or [],
                           **LABELS), status


@bp.route("/new", methods=["GET", "POST"])
@require("children:write")
def new():
    form = ChildCreateForm()
    if request.method == "GET":
        village = id_arg(request.args, "village")
        if village:
            form.residence_village_id.data = village
    if form.validate_on_submit():
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
        db.session.commit()
        flash(f"已为 {child.name} 建档，档案号 {child.archive_no}。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
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
        """History values of ID fields are shown as the fields themselves are."""
        return disclosure.show("child.id_number", value) if is_id_field(change.field) else (value or "")

    return render_template(
        "children/detail.html", child=child, today=today,
        sections=sections_for("record", current_user, [child.id], lambda p: can(current_user, p)),
        suggestions=suggestions(child, today), show_change=show_change,
        may_write=can(current_user, "children:write") and child.status != "exited",
        may_print=can(current_user, "children:print"),
        contact_form=forms.get("contact_form") or ParentContactForm(formdata=None, contacted_on=today),
        benefit_form=forms.get("benefit_form") or BenefitForm(formdata=None, start_on=today),
        exit_form=forms.get("exit_form") or ExitForm(formdata=None, exit_date=today),
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


@bp.route("/<int:child_id>/edit", methods=["GET", "POST"])
@require("children:write")
def edit(child_id: int):
    child = load_record(child_id, "children:write")
    form = ChildForm(obj=child)
    if request.method == "GET":
        form.categories.data = child.category_codes
        form.hukou_village_id.data = child.hukou_village_id or 0
        form.school_id.data = child.school_id or 0
        form.gender.data = "" if child.id_number else child.gender
        form.birth_date.data = None if child.id_number else child.birth_date
        form.disability_kind.data = child.disability_kind or ""
        form.disability_grade.data = child.disability_grade or ""
        form.caregiver_relation.data = child.caregiver_relation or ""
    if form.validate_on_submit():
        duplicates = _duplicate_notice(form, exclude_id=child.id)
        if duplicates is None:
            return _form_page(form, child, status=422)
        if duplicates:
            return _form_page(form, child, duplicates=duplicates, status=409)
        changed = update_child(child, form.child_values(), form.categories.data, actor=current_user)
        db.session.commit()
        flash(f"已保存，修改了 {changed} 项。" if changed else "没有改动。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
    return _form_page(form, child, status=422 if form.errors else 200)


@bp.route("/<int:child_id>/exit", methods=["POST"])
@require("children:write")
def exit_record(child_id: int):
    child = load_record(child_id, "children:write")
    form = ExitForm()
    if child.status == "exited":
        abort(409)
    if form.validate_on_submit():
        exit_child(child, form.exit_reason.data, form.exit_date.data, form.note.data, actor=current_user)
        db.session.commit()
        flash(f"{child.name} 已退出关爱名册（{EXIT_REASONS[form.exit_reason.data]}）。档案保留，可随时查阅。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id))
    return _detail_page(child, 422, exit_form=form, open_section="exit")


@bp.route("/<int:child_id>/suggestions/left-behind", methods=["POST"])
@require("children:write")
def accept_left_behind(child_id: int):
    """Staff accept the rule's suggestion: add 留守儿童 to the categories (kept in the history)."""
    child = load_record(child_id, "children:write")
    if suggest_left_behind(child, local_today()):
        update_child(child, {}, [*child.category_codes, "left_behind"], actor=current_user)
        db.session.commit()
        flash("已标记为留守儿童。请补充委托照护人。", "success")
    return redirect_after_post(url_for("children.detail", child_id=child.id))


@bp.route("/<int:child_id>/family/new", methods=["GET", "POST"])
@bp.route("/<int:child_id>/family/<int:member_id>/edit", methods=["GET", "POST"])
@require("children:write")
def family_member(child_id: int, member_id: int | None = None):
    child = load_record(child_id, "children:write")
    member = None
    if member_id is not None:
        member = db.session.scalar(select(FamilyMember).where(FamilyMember.id == member_id,
                                                             FamilyMember.child_id == child.id))
        if member is None:
            abort(404)
    form = FamilyMemberForm(obj=member)
    if form.validate_on_submit():
        data = FamilyInput(
            relation=form.relation.data, name=form.name.data.strip(), id_number=form.id_number.data or None,
            phone=form.phone.data or None, work=form.work.data or None, work_place=form.work_place.data or None,
            works_away=form.works_away.data, guardianship_capacity=form.guardianship_capacity.data,
            is_guardian=form.is_guardian.data,
        )
        save_family_member(child, data, member, actor=current_user)
        db.session.commit()
        flash(f"已保存家庭成员 {data.relation} {data.name}。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id) + "#family")
    if request.method == "GET" and member is not None and not current_disclosure().full("family.id_number"):
        form.id_number.data = ""  # never send a masked value back as if it were the number
    title = f"修改家庭成员 {member.relation} {member.name}" if member else "新增家庭成员"
    return render_template("form_page.html", form=form, title=title,
                           subtitle=f"{child.name} · 档案号 {child.archive_no}",
                           back=url_for("children.detail", child_id=child.id) + "#family"), \
        422 if form.errors else 200


@bp.route("/<int:child_id>/contacts", methods=["POST"])
@require("children:write")
def add_contact(child_id: int):
    child = load_record(child_id, "children:write")
    form = ParentContactForm()
    if form.validate_on_submit():
        add_parent_contact(child, form.contacted_on.data, form.who.data.strip(), form.method.data,
                           form.note.data or None, actor=current_user)
        db.session.commit()
        flash("已记录亲情联系。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id) + "#contacts")
    return _detail_page(child, 422, contact_form=form, open_section="contacts")


@bp.route("/<int:child_id>/benefits", methods=["POST"])
@require("children:write")
def add_benefit_record(child_id: int):
    child = load_record(child_id, "children:write")
    form = BenefitForm()
    if form.validate_on_submit():
        add_benefit(child, form.kind.data, form.start_on.data, form.amount.data, form.period.data,
                    form.end_on.data, form.source.data or None, actor=current_user)
        db.session.commit()
        flash("已记录救助保障。", "success")
        return redirect_after_post(url_for("children.detail", child_id=child.id) + "#benefits")
    return _detail_page(child, 422, benefit_form=form, open_section="benefits")
