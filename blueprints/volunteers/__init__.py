"""Volunteers and 爱心妈妈 (plan §13 §22): the roster, pairings with children (结对帮扶) and how
they are matched, the volunteer's phone (her paired children, the activity log offline, a photo),
the pairing record printed (结对帮扶记录表), and the figures per programme.

Who reaches what (core/access.py): civil affairs and supervisors the whole town; 团委 and 妇联
(department grants) manage volunteers and pairings town-wide; a child director reads the pairings
of her villages' children; a volunteer (`own`) only her own pairings, and through them only who
the child is and what the pairing is for (core/disclosure.py, reach `own`)."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem, Section

bp = Blueprint("volunteers", __name__)

ROSTER = frozenset({"volunteers:read", "volunteers:manage"})
PAIRINGS = frozenset({"pairings:read", "pairings:manage", "pairings:print", "pairings:oversight"})
MANAGERS = ROSTER | PAIRINGS  # civil affairs, supervisors, 团委, 妇联

area = Area(
    name="volunteers",
    blueprint=bp,
    route_modules=("routes", "roster_routes", "phone_routes", "print_routes"),
    model_modules=("models",),
    nav=(
        NavItem("我的结对", ("volunteers.my_home", "volunteers.log_activity", "volunteers.my_history"),
                "activities:write", order=5),
        NavItem("结对", ("volunteers.pairing_list", "volunteers.pairing_detail", "volunteers.pairing_new",
                       "volunteers.pairing_end", "volunteers.match_child", "volunteers.match_volunteer",
                       "volunteers.oversight", "volunteers.pairing_batch", "volunteers.pairing_batch_job"),
                "pairings:read", order=30),
        NavItem("志愿者", ("volunteers.volunteer_list", "volunteers.volunteer_detail", "volunteers.volunteer_new",
                        "volunteers.volunteer_edit", "volunteers.volunteer_active", "volunteers.volunteer_import",
                        "volunteers.volunteer_import_template", "volunteers.volunteer_import_confirm",
                        "volunteers.volunteer_import_job", "volunteers.organisations", "volunteers.organisation_edit"),
                "volunteers:read", order=35),
    ),
    grants={
        "admin": {"volunteers:read", "pairings:read"},
        # activities:notes: how the child seemed, and what the volunteer passed on (the child's
        # keepers only: not 团委 or 妇联, who manage the programmes); pairings:pass_on: reading it
        # is the child director's, it flags her due list until she has
        "civil_affairs": MANAGERS | {"activities:photos", "activities:notes"},
        "supervisor": MANAGERS | {"activities:photos", "activities:notes", "pairings:remark"},
        "director": {"pairings:read", "pairings:remark", "pairings:print", "activities:notes", "pairings:pass_on"},
        "department:youth": MANAGERS,
        "department:women": MANAGERS,
        # Her own pairings only (reach `own`); her own photos (activities:photos within reach).
        "volunteer": {"activities:write", "activities:photos"},
    },
    audit_labels={
        "volunteer_created": "登记志愿者",
        "volunteer_updated": "修改志愿者信息",
        "volunteer_viewed": "查看志愿者",
        "volunteers_imported": "导入志愿者名单",
        "organisation_saved": "保存组织或站点",
        "pairing_created": "建立结对",
        "pairing_ended": "结束结对",
        "pairing_viewed": "查看结对",
        "pairing_remarked": "填写结对评语",
        "pairing_matched": "查看结对匹配",
        "pairing_record_printed": "打印结对帮扶记录表",
        "activity_logged": "记录结对活动",
        "activity_photo_uploaded": "上传活动照片",
        "activity_photo_viewed": "查看活动照片",
        "pass_on_seen": "儿童主任已阅志愿者反映",
        "volunteer_home_viewed": "志愿者查看结对儿童",
        "pairing_list_downloaded": "志愿者下载结对名单",
        "pairing_oversight_viewed": "查看结对统计",
    },
    cli="cli:register_cli",
    demo_seeder="demo:seed",
    seed_order=40,  # after the children and the visits
    home_panels=(
        HomePanel("my_pairings", 8, "activities:write", "volunteers/_home_pairings.html", "phone:home_panel"),
        HomePanel("pairing_figures", 35, "pairings:oversight", "volunteers/_home_oversight.html",
                  "oversight:home_panel"),
    ),
    # The volunteer's phone: her paired children (minimal fields) and the activity form.
    offline_pages=("volunteers.my_home", "volunteers.log_activity"),
    record_sections=(
        Section("pairings", "结对帮扶", 15, "pairings:read", "volunteers/_record_section.html",
                "sections:record_pairings", ()),
    ),
    archive_sections=(
        Section("pairings", "结对帮扶", 65, "pairings:read", "print/sections/pairings.html",
                "sections:archive_pairings", ()),
    ),
    child_notices="sections:pass_on_notices",
    on_child_exit="pairings:end_with_child",
    setup="access:setup",
)
