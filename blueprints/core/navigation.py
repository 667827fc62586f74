"""The menu, decided in Python from the user's grants: templates just loop over it."""
from __future__ import annotations

from dataclasses import dataclass

from blueprints.core.access import can


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoints: tuple[str, ...]  # the first is the link; the others light the item up too
    permission: str | None  # None: every signed-in user

    @property
    def endpoint(self) -> str:
        return self.endpoints[0]


NAV_ITEMS = [
    NavItem("首页", ("dashboard.home",), None),
    NavItem("儿童", ("children.index", "children.detail", "children.new", "children.edit", "children.family_member"),
            "children:read"),
    NavItem("走访", ("visits.due", "visits.new", "visits.contact", "visits.detail", "visits.correct", "visits.outbox"),
            "visits:write"),
    NavItem("走访统计", ("visits.compliance_page",), "visits:compliance"),
    NavItem("村", ("dashboard.villages", "dashboard.village"), "villages:read"),
    NavItem("学校", ("dashboard.schools", "dashboard.school"), "schools:read"),
    NavItem("用户", ("admin.users", "admin.user_new", "admin.user_edit"), "users:manage"),
    NavItem("基础数据", ("admin.reference", "admin.village_form", "admin.school_form", "admin.department_form"),
            "reference:manage"),
    NavItem("操作日志", ("admin.audit",), "audit:read"),
]


def nav_for(user) -> list[NavItem]:
    if not user.is_authenticated:
        return []
    return [item for item in NAV_ITEMS if item.permission is None or can(user, item.permission)]
