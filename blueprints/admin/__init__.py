"""Managing accounts and reference data (villages, schools, departments), the audit log, the
set-up commands."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin")

area = Area(
    name="admin",
    blueprint=bp,
    route_modules=("routes",),
    nav=(
        NavItem("用户", ("admin.users", "admin.user_new", "admin.user_edit"), "users:manage", order=80),
        NavItem("基础数据", ("admin.reference", "admin.village_form", "admin.school_form", "admin.department_form"),
                "reference:manage", order=85),
        NavItem("操作日志", ("admin.audit",), "audit:read", order=90),
    ),
    grants={
        "admin": {"users:manage", "reference:manage", "audit:read"},
        "civil_affairs": {"audit:read"},
    },
    audit_labels={
        "user_created": "新建用户",
        "user_updated": "修改用户",
        "password_reset": "重置密码",
        "village_saved": "保存村",
        "school_saved": "保存学校",
        "department_saved": "保存部门",
    },
    cli="cli:register_cli",
    home_panels=(
        HomePanel("accounts", 20, "users:manage", "admin/_home_accounts.html", "panels:accounts"),
        HomePanel("recent_events", 90, "audit:read", "admin/_home_recent_events.html", "panels:recent_events"),
    ),
)
