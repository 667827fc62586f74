"""The volunteer roster: registering a volunteer with her login, editing her profile, taking her
off the roster and back, the organisations volunteers come from, and the list's search.

Every change of a profile is kept field by field in volunteer_changes and audited. The login
follows the profile: users.display_name and users.volunteer_kind are her name and kind, and a
volunteer taken off the roster cannot sign in (users.active, her sessions ended)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from blueprints.auth.models import User
from blueprints.auth.services import end_sessions
from blueprints.core import audit
from blueprints.core.clock import utcnow
from blueprints.core.forms import FieldErrors
from blueprints.core.inputs import id_arg, text_arg
from blueprints.core.vocabulary import ORGANISATION_KINDS, SKILLS, VOLUNTEER_KINDS
from blueprints.places.models import Village
from blueprints.volunteers.access import reachable_volunteers
from blueprints.volunteers.models import Organisation, Volunteer, VolunteerChange, VolunteerSkill
from blueprints.volunteers.pairings import end_open_pairings, lock_volunteer, open_count, open_counts
from extensions import db

CAPACITY_MIN, CAPACITY_MAX = 1, 10
PAGE_SIZE = 50
# A login name, as the admin's user form allows it (blueprints/admin/forms.py UserForm.username).
USERNAME_PATTERN = r"^[A-Za-z0-9_.-]{3,40}$"
USERNAME_RULE = "登录名只能用字母、数字、下划线、点或短横线，3–40 个字符，例如 zhiyuan7"


class RosterError(FieldErrors):
    """A roster change the rules refuse (a capacity below her open pairings): {field: message}."""


def _name_of(model):
    def show(value):
        return db.session.scalar(select(model.name).where(model.id == value)) if value else ""
    return show


def _label(vocabulary):
    return lambda value: vocabulary.get(value, value or "")


def _text(value) -> str:
    return "" if value is None else str(value)


# Profile field → (label in the history, how its value reads there).
FIELDS = {
    "name": ("姓名", _text),
    "kind": ("类别", _label(VOLUNTEER_KINDS)),
    "organisation_id": ("所属组织", _name_of(Organisation)),
    "village_id": ("所在村", _name_of(Village)),
    "phone": ("电话", _text),
    "capacity": ("可结对人数", _text),
    "note": ("备注", _text),
}
SKILLS_LABEL = "特长"
ACTIVE_LABEL = "状态"


def _skills_text(codes) -> str:
    return "、".join(label for code, label in SKILLS.items() if code in codes)  # in the vocabulary's order


def _change(volunteer: Volunteer, label: str, old: str, new: str, actor) -> None:
    db.session.add(VolunteerChange(
        volunteer=volunteer, field=label, old_value=old or None, new_value=new or None,
        user_id=actor.id if actor is not None else None, username=actor.username if actor is not None else None,
    ))


def username_taken(username: str) -> bool:
    """Whether a login of that name exists, whatever its case (as the admin's form checks it)."""
    return bool(db.session.scalar(select(func.count(User.id)).where(func.lower(User.username) == username.lower())))


def new_login(username: str, password: str) -> User:
    """Her login, not yet saved: hashing the password is the slow part (scrypt), done before the
    import's write transaction opens."""
    login = User(username=username.strip(), role="volunteer")
    login.set_password(password)
    login.password_is_temporary = True  # the roster's keeper knows it: she sets her own at sign-in
    return login


def _follow(volunteer: Volunteer) -> None:
    """The login follows the profile: her name, her kind, her phone."""
    user = volunteer.user
    user.display_name, user.volunteer_kind, user.phone = volunteer.name, volunteer.kind, volunteer.phone


def create_volunteer(values: dict, skills: list[str], login: User, *, actor) -> Volunteer:
    """values: name, kind, organisation_id, village_id, phone, capacity, note. `login` from new_login."""
    now = utcnow()
    login.password_changed_at = now
    db.session.add(login)
    volunteer = Volunteer(user=login, created_by_id=actor.id if actor is not None else None,
                          skill_rows=[VolunteerSkill(skill=s) for s in dict.fromkeys(skills)], **values)
    _follow(volunteer)
    db.session.add(volunteer)
    db.session.flush()
    registered = [(label, show(getattr(volunteer, name))) for name, (label, show) in FIELDS.items()]
    registered += [(SKILLS_LABEL, _skills_text(skills)), ("登录名", login.username)]
    for label, shown in registered:
        if shown:  # what she was registered with, as the first lines of her history
            _change(volunteer, label, "", shown, actor)
    audit.record("volunteer_created", volunteer, user=actor,
                 detail=f"{volunteer.name}（{VOLUNTEER_KINDS[volunteer.kind]}，登录名 {login.username}）")
    return volunteer


def update_volunteer(volunteer: Volunteer, values: dict, skills: list[str], *, actor) -> int:
    """Apply what changed, each change in the history; returns how many fields changed. Raises
    RosterError when the capacity would fall below her open pairings."""
    if "capacity" in values:
        # A pairing made meanwhile waits, then counts (create_pairing locks the same row; SQLite ignores it).
        lock_volunteer(volunteer)
        taken = open_count(volunteer.id)
        if values["capacity"] < taken:
            raise RosterError({"capacity": f"可结对人数：{volunteer.name} 现有 {taken} 个进行中的结对，不能少于 {taken}。"
                                           f"请填写 {taken} 或以上，或先结束她的结对"})
    changed = 0
    for name, value in values.items():
        label, show = FIELDS[name]
        old = getattr(volunteer, name)
        if old != value:
            _change(volunteer, label, show(old), show(value), actor)
            setattr(volunteer, name, value)
            changed += 1
    old_skills = set(volunteer.skills)
    if set(skills) != old_skills:
        _change(volunteer, SKILLS_LABEL, _skills_text(old_skills), _skills_text(skills), actor)
        volunteer.skill_rows = [row for row in volunteer.skill_rows if row.skill in skills] + [
            VolunteerSkill(skill=s) for s in dict.fromkeys(skills) if s not in old_skills]
        changed += 1
    if changed:
        _follow(volunteer)
        audit.record("volunteer_updated", volunteer, user=actor, detail=f"{volunteer.name}：修改 {changed} 项")
    return changed


def set_active(volunteer: Volunteer, active: bool, *, actor) -> int:
    """Take her off the roster (kept, with her history) or back on; returns how many of her
    pairings ended. Off: her open pairings end today ("志愿者不再参加": the children count as
    unpaired again and the matching offers them to others), her login is disabled and her sessions
    end, as the admin disabling a user does. Back on: her login again, unless the administrator
    had disabled it (login_stopped tells which)."""
    if volunteer.active == active:
        return 0
    words = {True: "在册", False: "已停用"}
    _change(volunteer, ACTIVE_LABEL, words[volunteer.active], words[active], actor)
    volunteer.active = active
    ended = 0
    if not active:
        ended = end_open_pairings(volunteer, "volunteer_left", actor=actor)
        volunteer.login_stopped = volunteer.user.active
        volunteer.user.active = False
        end_sessions(volunteer.user, "disabled")
    elif volunteer.login_stopped:
        volunteer.user.active, volunteer.login_stopped = True, False
    audit.record("volunteer_updated", volunteer, user=actor,
                 detail=f"{volunteer.name}：{'重新启用' if active else f'停用（登录同时停用，结束结对 {ended} 个）'}")
    return ended


# --- the list ----------------------------------------------------------------------------------

@dataclass
class VolunteerFilters:
    q: str = ""
    kind: str = ""
    organisation: int | None = None
    village: int | None = None
    status: str = "active"  # active, inactive, all

    @classmethod
    def from_args(cls, args) -> "VolunteerFilters":
        kind = args.get("kind", "")
        status = args.get("status", "active")
        return cls(q=text_arg(args, "q", 40), kind=kind if kind in VOLUNTEER_KINDS else "",
                   organisation=id_arg(args, "organisation"), village=id_arg(args, "village"),
                   status=status if status in ("active", "inactive", "all") else "active")

    def as_args(self) -> dict:
        args = dict(q=self.q, kind=self.kind, organisation=self.organisation, village=self.village,
                    status=self.status if self.status != "active" else None)
        return {key: value for key, value in args.items() if value}


@dataclass
class Page:
    items: list[Volunteer]
    open: dict[int, int]  # volunteer id → her open pairings
    total: int
    page: int
    pages: int


def filtered_volunteers(user, filters: VolunteerFilters) -> Select:
    query = reachable_volunteers(user)
    if filters.q:
        query = query.where(Volunteer.name.contains(filters.q, autoescape=True))
    if filters.kind:
        query = query.where(Volunteer.kind == filters.kind)
    if filters.organisation:
        query = query.where(Volunteer.organisation_id == filters.organisation)
    if filters.village:
        query = query.where(Volunteer.village_id == filters.village)
    if filters.status != "all":
        query = query.where(Volunteer.active.is_(filters.status == "active"))
    return query


def search_volunteers(user, filters: VolunteerFilters, page: int = 1) -> Page:
    """One page of the roster with what each row shows (a fixed number of queries)."""
    query = filtered_volunteers(user, filters)
    total = db.session.scalar(query.with_only_columns(func.count(Volunteer.id)).order_by(None))
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(page, 1), pages)
    items = list(db.session.scalars(
        query.options(joinedload(Volunteer.organisation), joinedload(Volunteer.village),
                      selectinload(Volunteer.skill_rows))
        .order_by(Volunteer.active.desc(), Volunteer.name, Volunteer.id)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(items=items, open=open_counts(v.id for v in items), total=total, page=page, pages=pages)


# --- organisations -----------------------------------------------------------------------------

def organisations(active_only: bool = False) -> list[Organisation]:
    """The reference list (not personal data: every roster user sees all of it)."""
    query = select(Organisation).options(joinedload(Organisation.village)).order_by(
        Organisation.active.desc(), Organisation.name)
    if active_only:
        query = query.where(Organisation.active.is_(True))
    return list(db.session.scalars(query))


def villages(keep: int | None = None) -> list[Village]:
    """Where a volunteer lives or an organisation sits: the active villages (and `keep`, the one
    already chosen). Reference data for every roster user: 团委 and 妇联 reach no village's
    children, yet place their volunteers."""
    query = select(Village).where(or_(Village.active.is_(True), Village.id == keep)).order_by(Village.name)
    return list(db.session.scalars(query))


def save_organisation(values: dict, organisation: Organisation | None = None, *, actor) -> Organisation:
    """values: name, kind, village_id, contact, phone, active."""
    creating = organisation is None
    if creating:
        organisation = Organisation()
        db.session.add(organisation)
    for name, value in values.items():
        setattr(organisation, name, value)
    db.session.flush()
    audit.record("organisation_saved", organisation, user=actor,
                 detail=f"{'新增' if creating else '修改'}：{organisation.name}（{ORGANISATION_KINDS[organisation.kind]}，"
                        f"{'启用' if organisation.active else '停用'}）")
    return organisation
