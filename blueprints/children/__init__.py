"""The child registry and archive (一人一档, plan §10): list and search, the record, registration
and edits with history, family, caregiver, contacts, benefits, Excel import and export, printing."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem, Section

bp = Blueprint("children", __name__, url_prefix="/children")

READ = frozenset({"children:read", "children:export", "children:print"})
WRITE = frozenset({"children:write"})
SEE_IDS = frozenset({"children:read_ids"})  # ID numbers unmasked (the child's own and the family's)


def _record(key, title, order, permission="children:read", load=None, empty=None):
    return Section(key, title, order, permission, f"children/sections/{key}.html", load, empty)


def _archive(key, title, order):
    return Section(key, title, order, "children:print", f"print/sections/{key}.html")


area = Area(
    name="children",
    blueprint=bp,
    route_modules=("routes", "excel_routes", "print_routes"),
    model_modules=("models",),
    nav=(
        NavItem("儿童", ("children.index", "children.detail", "children.new", "children.edit",
                       "children.family_member"), "children:read", order=10),
    ),
    grants={
        "admin": READ | WRITE | SEE_IDS | {"children:import", "children:reinstate"},
        "civil_affairs": READ | WRITE | SEE_IDS | {"children:import", "children:reinstate"},
        "supervisor": READ | WRITE | SEE_IDS,
        "director": READ | WRITE | SEE_IDS,
        "school": READ,
        "department": {"children:count"},  # town-wide figures without names
    },
    audit_labels={
        "child_created": "儿童建档",
        "child_updated": "修改儿童档案",
        "child_viewed": "查看儿童档案",
        "child_edit_opened": "打开儿童档案修改页",
        "family_form_opened": "打开家庭成员表单",
        "child_exited": "退出名册",
        "child_reinstated": "恢复在册",
        "children_exported": "导出儿童名单",
        "children_imported": "导入儿童名单",
        "archive_printed": "打印儿童档案",
        "id_search": "按身份证号查找",
        "duplicate_outside_reach": "登记时查到范围外的档案",
    },
    cli="cli:register_cli",
    demo_seeder="demo:seed",
    seed_order=20,
    home_panels=(HomePanel("child_counts", 10, None, "children/_home_counts.html", "panels:child_counts"),),
    record_sections=(
        _record("suggestions", "需要留意", 5),
        _record("basic", "基本信息", 20),
        _record("family", "家庭成员", 30),
        _record("caregiver", "委托照护", 40),
        _record("contacts", "亲情联系", 50, load="sections:recent_contacts", empty=()),
        _record("benefits", "救助保障", 60),
        _record("history", "变更记录", 80, load="sections:recent_changes", empty=()),
        _record("exit", "退出名册", 90, permission="children:write"),
    ),
    archive_sections=(
        _archive("basic", "基本信息", 10),
        _archive("health", "健康与残疾", 20),
        _archive("family", "家庭成员", 30),
        _archive("caregiver", "委托照护", 40),
        _archive("contacts", "亲情联系", 50),
        _archive("benefits", "救助保障", 70),
        _archive("history", "变更记录", 90),
    ),
    setup="access:setup",
)
