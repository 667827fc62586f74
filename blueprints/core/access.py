"""Who may reach what: the one access gate.

A role is a set of grants ("resource:action") plus a reach, as in Primero:
  town        every village, school and child of the town
  village     the villages assigned to the user (child directors)
  school      the user's school and the villages it serves
  department  what is referred to the user's department, and town-wide figures without names
  own         only what is paired with the user (volunteers)

The core keeps the roles, `can`, `require` and the 404 loader. The areas supply the rest: the
grants each role gets (their manifests) and, for each resource they own, one clause per reach
(`register_reach`). Every list, search, count and export starts from `reachable()` — through the
area's own `reachable_children`, `reachable_villages`… — and every object page loads its object
through `get_reachable_or_404`. Templates never look at roles.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import wraps
from typing import Any, Callable

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, false

from blueprints.core.vocabulary import SCHOOL_DUTIES
from extensions import db

REACHES = {"town": "全镇", "village": "本村", "school": "本校", "department": "本部门", "own": "本人结对"}


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    reach: str
    duty: str = ""  # one line under the greeting on the home page
    plan_tasks: tuple[int, ...] = ()  # the plan's tasks this role carries out, when not by department
    plan_department: str | None = None  # else the tasks of this department (or of the user's own)
    plan_title: str = "牵头或参与的重点任务"

    @property
    def grants(self) -> frozenset[str]:
        return frozenset(_grants[self.code])


ROLES: dict[str, Role] = {
    role.code: role
    for role in [
        Role("admin", "系统管理员", "town", duty="账号、村、学校和部门的设置。"),
        Role("civil_affairs", "镇民政组", "town", duty="全镇留守和困境儿童的登记、档案、打印和督促落实。",
             plan_department="civil_affairs"),
        Role("supervisor", "儿童督导员", "town", duty="督导各村儿童主任的走访和服务。",
             plan_tasks=(2, 6, 10, 11, 17), plan_title="走访中要落实的重点任务"),
        Role("director", "儿童主任", "village", plan_tasks=(2, 6, 10, 11, 17), plan_title="走访中要落实的重点任务"),
        # §2 screening, §6 parent contact, §12 responsible carer and dropout, §16 holiday safety
        # lectures, §17 home visits: what a school carries out itself.
        Role("school", "学校", "school", plan_tasks=(2, 6, 12, 16, 17), plan_title="学校承担的重点任务"),
        # Departments see town-wide figures without names; named children only once referred.
        Role("department", "部门", "department",
             duty="转介到本部门的儿童会列在这里；全镇统计只显示人数，不显示姓名。"),
        Role("volunteer", "志愿者", "own",
             duty="与我结对的儿童会列在这里。结对由镇民政组、团委或妇联安排。为保护儿童隐私，"
                  "志愿者看不到身份证号、详细住址和心理、监护、公安等记录。"),
    ]
}

# The reach each role needs filled in on the account before it can be saved.
REACH_FIELDS = {"village": "villages", "school": "school", "department": "department"}

_grants: dict[str, set[str]] = defaultdict(set)
# resource → reach → clause(user): a WHERE clause, or None for "no restriction"
_reach: dict[str, dict[str, Callable[[Any], Any]]] = defaultdict(dict)


# Grants some users get beyond their role's, by what their account says of them: an area's
# manifest names them "department:<code>" (团委 and 妇联 manage volunteers and pairings, DOMAIN.md)
# or "school:<duty>" (a school's coordinator, class teacher or mental-health teacher,
# users.school_duty: only the last sees the psychological screenings).
DEPARTMENT_PREFIX = "department:"
SCHOOL_DUTY_PREFIX = "school:"


def add_grants(role: str, permissions) -> None:
    """`role` is a role code, "department:<code>" for the users of one department, or
    "school:<duty>" for school staff with that duty."""
    if role not in ROLES and not role.startswith((DEPARTMENT_PREFIX, SCHOOL_DUTY_PREFIX)):
        raise KeyError(f"unknown role {role!r}")
    if role.startswith(SCHOOL_DUTY_PREFIX) and role[len(SCHOOL_DUTY_PREFIX):] not in SCHOOL_DUTIES:
        raise KeyError(f"unknown school duty {role!r}")  # a misspelt duty would grant nobody, silently
    _grants[role].update(permissions)


def _facet(user, role: Role) -> str | None:
    """The key of the grants `user` has beyond `role`'s: her department's, or her school duty's."""
    if role.reach == "department" and user.department is not None:
        return DEPARTMENT_PREFIX + user.department.code
    if role.reach == "school" and user.school_duty:
        return SCHOOL_DUTY_PREFIX + user.school_duty
    return None


def grants_of(user) -> frozenset[str]:
    """What `user` may do: the role's grants, and those of her department or school duty."""
    role = role_of(user)
    if role is None:
        return frozenset()
    grants = _grants[role.code]
    facet = _facet(user, role)
    extra = _grants.get(facet) if facet else None
    return frozenset(grants | extra) if extra else frozenset(grants)


def register_reach(resource: str, reach: str, clause: Callable[[Any], Any]) -> None:
    """How far `reach` goes for `resource`: `clause(user)` is a WHERE clause (None: all of it).
    A reach that registers nothing for a resource reaches none of it."""
    if reach not in REACHES:
        raise KeyError(f"unknown reach {reach!r}")
    _reach[resource][reach] = clause


def role_of(user) -> Role | None:
    if user is None or not user.is_authenticated:
        return None
    return ROLES.get(user.role)


def can(user, permission: str) -> bool:
    role = role_of(user)
    if role is None:
        return False
    if permission in _grants[role.code]:
        return True
    facet = _facet(user, role)
    return facet is not None and permission in _grants.get(facet, ())


def require(permission: str):
    """View decorator: signed in (else the login page) and granted `permission` (else 403)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def reachable(query: Select, resource: str, user, permission: str) -> Select:
    """`query` limited to what `user` reaches of `resource`, and to nothing without `permission`."""
    role = role_of(user)
    if role is None or not can(user, permission):
        return query.where(false())
    clause = _reach[resource].get(role.reach)
    if clause is None:
        return query.where(false())
    condition = clause(user)
    return query if condition is None else query.where(condition)


def get_reachable_or_404(query: Select, model, object_id: int, permission: str, options=()):
    """The object of `query` (already limited by `reachable`) with this id: 403 without the
    grant, 404 when missing or outside reach."""
    if not can(current_user, permission):
        abort(403)
    obj = db.session.scalar(query.where(model.id == object_id).options(*options))
    if obj is None:
        abort(404)  # outside reach looks the same as missing: it tells nothing of what exists
    return obj


def access_matrix() -> str:
    """The role × resource × action table (Markdown), as docs/access-matrix.md holds it."""
    roles = list(ROLES.values())
    permissions = sorted(set().union(*(_grants[r.code] for r in roles)))
    lines = [
        "# 权限表 · access matrix",
        "",
        "Generated by `flask --app app access-matrix` from the areas' manifests; a test compares it with this file.",
        "",
        "| 资源 | 操作 | " + " | ".join(f"{r.label} `{r.code}`" for r in roles) + " |",
        "|---|---|" + "---|" * len(roles),
        "| | 范围 reach | " + " | ".join(f"{REACHES[r.reach]} `{r.reach}`" for r in roles) + " |",
    ]
    for permission in permissions:
        resource, _, action = permission.partition(":")
        cells = ["✓" if permission in _grants[r.code] else "" for r in roles]
        lines.append(f"| {resource} | {action} | " + " | ".join(cells) + " |")
    for prefix, title, intro in (
        (DEPARTMENT_PREFIX, "## 部门另有的权限 · grants of single departments",
         "Department users get the `department` role's grants above, and their own department's:"),
        (SCHOOL_DUTY_PREFIX, "## 学校职责另有的权限 · grants of school duties",
         "School staff get the `school` role's grants above, and those of their duty (`users.school_duty`):"),
    ):
        facets = sorted(key for key in _grants if key.startswith(prefix))
        if facets:
            lines += ["", title, "", intro, ""]
            for key in facets:
                lines.append(f"- `{key[len(prefix):]}`: " + ", ".join(f"`{p}`" for p in sorted(_grants[key])))
    lines += ["", "## 范围 · what each reach covers, by resource", "",
              "| 资源 | " + " | ".join(f"`{reach}`" for reach in REACHES) + " |",
              "|---|" + "---|" * len(REACHES)]
    for resource in sorted(_reach):
        cells = ["✓" if reach in _reach[resource] else "—" for reach in REACHES]
        lines.append(f"| {resource} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
