"""Accounts, reference data (villages, schools, departments), the audit log, demo data."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin")

PLACES = frozenset({"villages:read", "schools:read"})

area = Area(
    name="admin",
    blueprint=bp,
    route_modules=("routes",),
    model_modules=("models",),
    nav=(
        NavItem("用户", ("admin.users", "admin.user_new", "admin.user_edit"), "users:manage", order=80),
        NavItem("基础数据", ("admin.reference", "admin.village_form", "admin.school_form", "admin.department_form"),
                "reference:manage", order=85),
        NavItem("操作日志", ("admin.audit",), "audit:read", order=90),
    ),
    grants={
        "admin": PLACES | {"users:manage", "reference:manage", "audit:read"},
        "civil_affairs": PLACES | {"audit:read"},
        "supervisor": PLACES,
        "director": PLACES,
        "school": PLACES,
    },
    audit_labels={
        "user_created": "新建用户",
        "user_updated": "修改用户",
        "password_reset": "重置密码",
        "village_saved": "保存村",
        "school_saved": "保存学校",
        "department_saved": "保存部门",
        "demo_seeded": "生成演示数据",
    },
    cli="cli:register_cli",
    demo_seeder="demo:seed",
    seed_order=10,
    home_panels=(
        HomePanel("accounts", 20, "users:manage", "admin/_home_accounts.html", "panels:accounts"),
        HomePanel("recent_events", 90, "audit:read", "admin/_home_recent_events.html", "panels:recent_events"),
    ),
    setup="places:setup",
)
