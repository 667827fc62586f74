"""Writes to the child registry. Every change is kept as history (who, which field, from what to
what, when) and as an audit event; the route commits. Nothing is deleted."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from blueprints.places.models import School, Village
from blueprints.children.models import Benefit, Child, ChildCategory, ChildChange, FamilyMember, ParentContact
from blueprints.children.search import name_keys
from blueprints.children.validation import class_text
from blueprints.core import audit
from blueprints.core.areas import house
from blueprints.children.access import reachable_children
from blueprints.core.clock import local_today
from blueprints.core.vocabulary import (
    ATTENTION_LEVELS,
    BENEFIT_KINDS,
    CATEGORIES,
    CONTACT_METHODS,
    CURRENT_STATUSES,
    EXIT_REASONS,
    GENDERS,
    GUARDIANSHIP_CAPACITY,
    STATE_GUARDIANSHIP,
    STATUSES,
)
from extensions import db


def _village_name(village_id):
    return db.session.get(Village, village_id).name if village_id else ""


def _school_name(school_id):
    return db.session.get(School, school_id).name if school_id else ""


def _label(mapping):
    return lambda value: mapping.get(value, value or "")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


# field → (section, label, how to show its value in the history)
CHILD_FIELDS: dict[str, tuple[str, str, object]] = {
    "name": ("基本信息", "姓名", _text),
    "id_number": ("基本信息", "身份证号", _text),
    "gender": ("基本信息", "性别", _label(GENDERS)),
    "birth_date": ("基本信息", "出生日期", _text),
    "ethnicity": ("基本信息", "民族", _text),
    "hukou_village_id": ("基本信息", "户籍村", _village_name),
    "residence_village_id": ("基本信息", "居住村", _village_name),
    "address": ("基本信息", "住址", _text),
    "school_id": ("就学", "学校", _school_name),
    "grade": ("就学", "年级", _text),
    "class_name": ("就学", "班级", _text),
    "health": ("健康与残疾", "健康状况", _text),
    "disability_kind": ("健康与残疾", "残疾类别", _text),
    "disability_grade": ("健康与残疾", "残疾等级", _text),
    "disability_certificate": ("健康与残疾", "残疾证号", _text),
    "attention_level": ("类别与关注", "关注等级", _label(ATTENTION_LEVELS)),
    "state_guardianship": ("类别与关注", "兜底监护", _label(STATE_GUARDIANSHIP)),
    "guardianship_unit": ("类别与关注", "监护责任单位", _text),
    "caregiver_name": ("委托照护", "委托照护人", _text),
    "caregiver_relation": ("委托照护", "照护人关系", _text),
    "caregiver_phone": ("委托照护", "照护人电话", _text),
    "caregiver_confirmed_on": ("委托照护", "父母确认日期", _text),
    "status": ("状态", "状态", _label(STATUSES)),
    "exit_reason": ("状态", "退出原因", _label(EXIT_REASONS)),
    "exit_date": ("状态", "退出日期", _text),
    "exit_note": ("状态", "退出说明", _text),
}
FAMILY_FIELDS: dict[str, tuple[str, object]] = {
    "relation": ("关系", _text),
    "name": ("姓名", _text),
    "id_number": ("身份证号", _text),
    "phone": ("电话", _text),
    "work": ("工作", _text),
    "work_place": ("工作地点", _text),
    "works_away": ("外出务工", lambda v: "是" if v else "否"),
    "guardianship_capacity": ("监护能力", _label(GUARDIANSHIP_CAPACITY)),
    "is_guardian": ("监护人", lambda v: "是" if v else "否"),
}
# History values shown as the fields themselves are: the ID numbers, the disability certificate
# number (it begins with the holder's ID number) and the birth date, masked for roles that may not
# see ID numbers.
ID_FIELDS = {"身份证号", "残疾证号"}


def disclosed_as(label: str) -> str | None:
    """The disclosure field whose level a history entry's values take, by the entry's label:
    "身份证号", for family members "父亲张三·身份证号" (see save_family_member), "出生日期"."""
    if any(label == f or label.endswith("·" + f) for f in ID_FIELDS):
        return "child.id_number"
    if label == CHILD_FIELDS["birth_date"][1]:
        return "child.birth_date"
    return None


def _change(child: Child, section: str, label: str, old: str, new: str, actor) -> None:
    db.session.add(ChildChange(
        child=child, section=section, field=label, old_value=old or None, new_value=new or None,
        user_id=actor.id if actor else None, username=actor.username if actor else None,
    ))


def _categories_text(codes) -> str:
    return "、".join(label for code, label in CATEGORIES.items() if code in codes)  # in the plan's order


def set_categories(child: Child, codes: list[str], actor) -> None:
    old = set(child.category_codes)
    new = set(codes)
    if old == new:
        return
    child.categories = [c for c in child.categories if c.category in new] + [
        ChildCategory(category=code) for code in sorted(new - old)
    ]
    if child.id is not None:
        _change(child, "类别与关注", "儿童类别", _categories_text(old), _categories_text(new), actor)


def next_archive_no(child: Child) -> str:
    """The archive number printed on every page: year of registration and a serial."""
    return f"{local_today().year}{child.id:06d}"


@dataclass
class FamilyInput:
    relation: str
    name: str
    phone: str | None = None
    id_number: str | None = None
    work: str | None = None
    work_place: str | None = None
    works_away: bool = False
    guardianship_capacity: str = "full"
    is_guardian: bool = False


def create_child(values: dict, categories: list[str], family: list[FamilyInput], *, actor,
                 source: str = "登记") -> Child:
    """Register a child. `values` holds Child columns (already validated). `actor` is who does it
    (the signed-in user, a job's user, the user a command names; None for the system itself)."""
    child = Child(**_spelled(values))
    child.name_initials, child.name_pinyin = name_keys(child.name)
    child.id_last4 = child.id_number[-4:] if child.id_number else None
    child.archive_no = f"tmp-{id(child)}"[:20]
    child.created_by_id = actor.id if actor else None
    child.categories = [ChildCategory(category=code) for code in sorted(set(categories))]
    for member in family:
        child.family.append(FamilyMember(**member.__dict__))
    db.session.add(child)
    db.session.flush()
    child.archive_no = next_archive_no(child)
    _change(child, "登记", "建档", "", f"{source}：{child.name}（档案号 {child.archive_no}）", actor)
    audit.record("child_created", child, detail=f"{child.name}（档案号 {child.archive_no}，{source}）", user=actor)
    return child


class ChildExited(Exception):
    """A write to a child who has left the care: refused (routes answer 409, routes.py). Reinstating
    is its own explicit action (reinstate_child)."""

    def __init__(self, child: Child, on: date | None = None):
        when = "，".join(part for part in (_text(child.exit_date), EXIT_REASONS.get(child.exit_reason, "")) if part)
        if on is None:
            self.message = (f"该儿童已退出关爱服务（{when}），不能再记录。"
                            "如需恢复，请由有权限的人员办理“恢复在册”。")
        else:
            self.message = (f"该儿童已退出关爱服务（{when}），更正后的日期 {on:%Y-%m-%d} 不能晚于退出日期。"
                            "请核对日期；如需恢复，请由有权限的人员办理“恢复在册”。")
        super().__init__(self.message)


def ensure_open(child: Child, *, on: date | None = None) -> None:
    """The one guard every write to a child passes. `on`: the date of a correction to the child's
    history, allowed when it falls on or before the exit date (the archive stays correct)."""
    if child.status != "exited":
        return
    if on is not None and (child.exit_date is None or on <= child.exit_date):
        return
    raise ChildExited(child, on)


def lock_child(child: Child) -> None:
    """Hold the child's row until the transaction ends and read it afresh, so that two writes that
    depend on what she has (two reports of one pupil, two namings of her carer) are decided one
    after the other, the second seeing the first's (PostgreSQL; SQLite writes one at a time)."""
    db.session.execute(select(Child).where(Child.id == child.id).with_for_update(of=Child)
                       .execution_options(populate_existing=True))


def _spelled(values: dict) -> dict:
    """`values` with the class in its one spelling, whoever calls (the form, the import, a service)."""
    return values | {"class_name": class_text(values["class_name"])} if "class_name" in values else values


def _apply(child: Child, values: dict, categories: list[str] | None, actor) -> int:
    """Set changed fields, keeping each change in the history; returns how many changed."""
    changed = 0
    for field, new in _spelled(values).items():
        old = getattr(child, field)
        if old == new or (old in (None, "") and new in (None, "")):
            continue
        section, label, show = CHILD_FIELDS[field]
        _change(child, section, label, show(old), show(new), actor)
        setattr(child, field, new)
        changed += 1
    if "name" in values:
        child.name_initials, child.name_pinyin = name_keys(child.name)
    if "id_number" in values:
        child.id_last4 = child.id_number[-4:] if child.id_number else None
    if categories is not None and set(categories) != set(child.category_codes):
        set_categories(child, categories, actor)
        changed += 1
    return changed


def update_child(child: Child, values: dict, categories: list[str] | None = None, *, actor) -> int:
    """Apply changed fields, keeping each change in the history; returns how many changed."""
    ensure_open(child)
    changed = _apply(child, values, categories, actor)
    if changed:
        audit.record("child_updated", child, detail=f"{child.name}：修改 {changed} 项", user=actor)
    return changed


def exit_child(child: Child, reason: str, on: date, note: str | None = None, *, actor) -> None:
    ensure_open(child)
    _apply(child, {"status": "exited", "exit_reason": reason, "exit_date": on,
                   "exit_note": (note or "").strip() or None}, None, actor)
    audit.record("child_exited", child, detail=f"{child.name}：{EXIT_REASONS.get(reason, reason)}", user=actor)
    for close in house.exit_hooks:  # what other areas keep open for the child (a pairing) ends with her
        close(child, on, actor)


def _status_before_exit(child: Child) -> str:
    """What the history says the status was when the child exited ("active" when it cannot tell)."""
    before = db.session.scalar(
        select(ChildChange.old_value)
        .where(ChildChange.child_id == child.id, ChildChange.field == CHILD_FIELDS["status"][1],
               ChildChange.new_value == STATUSES["exited"])
        .order_by(ChildChange.id.desc()).limit(1))
    code = next((code for code, label in STATUSES.items() if label == before), None)
    return code if code in CURRENT_STATUSES else "active"


def reinstate_child(child: Child, reason: str, *, actor) -> None:
    """Back in the care, for a stated reason. The exit's reason, date and note leave the record and
    stay in the history (the exit itself was recorded there, and so is this clearing)."""
    _change(child, "状态", "恢复在册", "", reason, actor)
    _apply(child, {"status": _status_before_exit(child), "exit_reason": None, "exit_date": None,
                   "exit_note": None}, None, actor)
    audit.record("child_reinstated", child, detail=f"{child.name}：{reason}", user=actor)


def save_family_member(child: Child, data: FamilyInput, member: FamilyMember | None = None, *,
                       actor) -> FamilyMember:
    ensure_open(child)
    if data.is_guardian:  # one guardian at a time
        for other in child.family:
            if other is not member and other.is_guardian:
                other.is_guardian = False
                _change(child, "家庭成员", f"{other.relation}{other.name}·监护人", "是", "否", actor)
    if member is None:
        member = FamilyMember(**data.__dict__)
        child.family.append(member)
        _change(child, "家庭成员", "新增成员", "", f"{data.relation} {data.name}", actor)
    else:
        for field, (label, show) in FAMILY_FIELDS.items():
            old, new = getattr(member, field), getattr(data, field)
            if old != new and not (old in (None, "") and new in (None, "")):
                _change(child, "家庭成员", f"{member.relation}{member.name}·{label}", show(old), show(new), actor)
                setattr(member, field, new)
    audit.record("child_updated", child, detail=f"{child.name}：家庭成员 {data.relation} {data.name}", user=actor)
    return member


def add_parent_contact(child: Child, contacted_on: date, who: str, method: str, note: str | None = None,
                       client_uuid: str | None = None, *, actor) -> ParentContact:
    ensure_open(child)
    contact = ParentContact(child=child, contacted_on=contacted_on, who=who, method=method, note=note,
                            client_uuid=client_uuid, recorded_by_id=actor.id if actor else None)
    db.session.add(contact)
    _change(child, "亲情联系", "联系记录", "", f"{contacted_on:%Y-%m-%d} {who} {CONTACT_METHODS[method]}", actor)
    return contact


def add_benefit(child: Child, kind: str, start_on: date, amount: Decimal | None = None, period: str | None = None,
                end_on: date | None = None, source: str | None = None, *, actor) -> Benefit:
    ensure_open(child)
    benefit = Benefit(child=child, kind=kind, start_on=start_on, amount=amount, period=period,
                      end_on=end_on, source=source)
    db.session.add(benefit)
    amount_text = f" {amount} 元/{period}" if amount is not None else ""
    _change(child, "救助保障", "新增保障", "", f"{BENEFIT_KINDS[kind]}{amount_text}，自 {start_on:%Y-%m-%d}", actor)
    return benefit


@dataclass
class Duplicates:
    """What registering a child found already on record, as far as the actor may be told: of the
    children outside the actor's reach only that there are some (who they are goes to the audit
    trail, for civil affairs to follow up)."""
    same_id: Child | None = None  # the same ID number, within reach: refused, with a link
    same_id_elsewhere: bool = False  # the same ID number outside reach: refused, nothing named
    probable: list[Child] = field(default_factory=list)  # within reach: same name and birth date,
    # or the same guardian phone and a similar name
    probable_elsewhere: bool = False  # such a child outside reach

    @property
    def refused(self) -> bool:
        return self.same_id is not None or self.same_id_elsewhere

    @property
    def to_confirm(self) -> bool:
        return bool(self.probable) or self.probable_elsewhere


def _similar(a: str, b: str) -> bool:
    """Names one character apart (a typo, a homophone typed wrong) or with the same pinyin."""
    if name_keys(a)[1] == name_keys(b)[1]:
        return True
    if len(a) != len(b):
        return False
    return sum(x != y for x, y in zip(a, b)) <= 1


def find_duplicates(name: str, birth_date: date | None, id_number: str | None, guardian_phones: list[str],
                    exclude_id: int | None = None, *, actor) -> Duplicates:
    """Looks across the whole town, not just the actor's reach: a child registered in another
    village is still the same child. But a match outside the reach is not described — no name,
    birth date, village or archive number — or the check would be a lookup of anyone in the
    town by ID number, name and birth date, or phone; it is audited instead."""
    base = select(Child)
    if exclude_id is not None:
        base = base.where(Child.id != exclude_id)
    same_id = db.session.scalar(base.where(Child.id_number == id_number)) if id_number else None
    conditions = []
    if birth_date is not None:
        conditions.append(and_(Child.name == name, Child.birth_date == birth_date))
    phones = [p for p in guardian_phones if p]
    if phones:
        conditions.append(Child.family.any(and_(FamilyMember.phone.in_(phones), FamilyMember.is_guardian.is_(True))))
    probable = []
    if conditions:
        for other in db.session.scalars(base.where(or_(*conditions)).limit(20)):
            if other is same_id:
                continue
            if other.name == name and other.birth_date == birth_date:
                probable.append(other)
            elif _similar(other.name, name):
                probable.append(other)

    found = Duplicates()
    elsewhere = []
    if same_id is not None:
        if may_open(actor, same_id):
            found.same_id = same_id
        else:
            found.same_id_elsewhere = True
            elsewhere.append(("同一身份证号", same_id))
    for other in probable:
        if may_open(actor, other):
            found.probable.append(other)
        else:
            found.probable_elsewhere = True
            how = "同名同出生日期" if other.name == name and other.birth_date == birth_date else "监护人电话相同、姓名相近"
            elsewhere.append((how, other))
    for how, other in elsewhere:
        audit.record("duplicate_outside_reach", other, user=actor,
                     detail=f"核对“{name}”是否重复登记：{how}，查到范围外的儿童 {other.id}（未向操作人显示）")
    return found


def may_open(user, child: Child) -> bool:
    return db.session.scalar(
        reachable_children(user).with_only_columns(func.count(Child.id)).where(Child.id == child.id)
    ) > 0
