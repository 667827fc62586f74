"""Schools (plan §12 §6 §2 §17 §10): each key pupil's responsible carer (关爱责任人), enrolment and
dropout followed until the pupil is back (应返尽返) and watched a term after, the school's contact
with parents and caregivers (offline, on a teacher's phone), school home visits, psychological
screening and its follow-up, the after-school fee waiver and weekend or holiday care.

Who does what (core/access.py): every school account reads its own pupils' school file, reports
dropouts and logs contacts; its duty (users.school_duty) adds the rest: the coordinator names the
carers, decides the waivers and sets her colleagues' duties; the mental-health teacher alone of the
school records and reads the screenings, which civil affairs and the supervisor also read. A child
director reads her villages' children's carers, dropouts and contacts; 镇教办 (a department grant)
and civil affairs see the town's dropouts, named."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem, Section

bp = Blueprint("schools", __name__)

# Every school account, whatever its duty
SCHOOL_STAFF = frozenset({"carers:read", "dropouts:read", "dropouts:write", "dropouts:list",
                          "school_contacts:read", "school_contacts:write", "fee_waivers:read"})
# Those who keep the town's or a village's files
KEEPERS = frozenset({"carers:read", "dropouts:read", "school_contacts:read", "fee_waivers:read"})
TOWN = KEEPERS | {"dropouts:list", "screenings:read", "screenings:oversight"}

# Each part of the area declares its menu items, home cards, sections, audit labels and offline
# pages in its own block below: one block per part, so that parts grow without touching each other.

# --- responsible carers, school staff duties, fee waivers and holiday care (carers.py, carer_routes.py)
CARER_NAV: tuple = (
    NavItem("关爱责任人", ("schools.carer_list", "schools.carer_edit", "schools.fee_waivers", "schools.fee_waiver_set",
                        "schools.holiday_care", "schools.holiday_care_end"), "carers:read", order=40),
    NavItem("学校人员", ("schools.staff", "schools.staff_duty", "schools.staff_class"), "school_staff:manage", order=85),
)
CARER_PANELS: tuple = (  # today's work first (3–8), before the counts (10)
    HomePanel("school_carers", 3, "carers:manage", "schools/carers/_home_carers.html", "carers:carer_panel"),
    HomePanel("school_waivers", 8, "fee_waivers:manage", "schools/carers/_home_waivers.html", "carers:waiver_panel"),
)
CARER_RECORD: tuple = (
    Section("school_carer", "关爱责任人", 42, "carers:read", "schools/carers/_record_section.html",
            "carers:record_carers"),
)
CARER_ARCHIVE: tuple = (
    Section("school_carer", "关爱责任人", 61, "carers:read", "print/sections/school_carer.html",
            "carers:archive_carers"),
)
CARER_AUDIT: dict = {
    "carer_named": "指定关爱责任人",
    "carer_updated": "修改关爱责任人信息",
    "carer_form_opened": "打开关爱责任人表单",
    "fee_waiver_granted": "减免课后服务费",
    "fee_waiver_withdrawn": "取消课后服务费减免",
    "holiday_care_added": "登记周末或假期关爱",
    "holiday_care_ended": "结束周末或假期关爱",
    "holiday_care_viewed": "查看周末和假期关爱",
}


# --- enrolment, dropout, return and attendance (dropouts.py, dropout_routes.py)
DROPOUT_NAV: tuple = (
    NavItem("辍学", ("schools.dropout_list", "schools.dropout_detail", "schools.dropout_new", "schools.enrolment_edit"),
            "dropouts:list", order=40),
)
DROPOUT_PANELS: tuple = (
    HomePanel("school_dropouts", 4, "dropouts:write", "schools/dropouts/_home_school.html", "dropouts:school_panel"),
    HomePanel("town_dropouts", 32, "dropouts:list", "schools/dropouts/_home_town.html", "dropouts:town_panel"),
)
DROPOUT_RECORD: tuple = (
    Section("enrolment", "在读与辍学", 43, "dropouts:read", "schools/dropouts/_record_section.html",
            "dropouts:record_schooling"),
)
DROPOUT_ARCHIVE: tuple = (
    Section("enrolment", "在读与辍学", 62, "dropouts:read", "print/sections/school_enrolment.html",
            "dropouts:archive_schooling"),
)
DROPOUT_AUDIT: dict = {
    "enrolment_changed": "变更在读状态",
    "pupil_transferred": "办理转学",
    "dropout_reported": "报告辍学",
    "dropout_step_added": "记录辍学劝返跟进",
    "dropout_returned": "登记辍学学生返校",
    "attendance_checked": "记录复学考勤",
    "dropout_viewed": "查看辍学记录",
    "dropout_list_viewed": "查看辍学名单",
}


# --- contact with parents and caregivers, school home visits (contacts.py, contact_routes.py)
CONTACT_NAV = (NavItem("家校联系", ("schools.contact_list", "schools.contact_log", "schools.contacts_due"),
                       "school_contacts:write", order=22),)
CONTACT_PANELS = (HomePanel("contacts_due", 5, "school_contacts:write", "schools/contacts/_home_panel.html",
                            "contacts:home_panel"),)
CONTACT_RECORD = (Section("school_contacts", "家校联系", 44, "school_contacts:read",
                          "schools/contacts/_record_section.html", "contacts:record_contacts", ()),)
CONTACT_ARCHIVE = (Section("school_contacts", "家校联系", 63, "school_contacts:read",
                           "print/sections/school_contacts.html", "contacts:archive_contacts", ()),)
CONTACT_AUDIT = {
    "school_contact_logged": "记录家校联系",
    "school_contact_form_opened": "打开家校联系记录表",
    "school_contacts_viewed": "查看家校联系记录",
    "school_pupils_downloaded": "下载学生名单（家校联系）",
    "school_contacts_due_viewed": "查看本月待联系的留守学生",
}
CONTACT_OFFLINE = ("schools.contact_log",)  # the phone form; its picker's list is kept in IndexedDB


# --- psychological screening (screenings.py, screening_routes.py)
SCREENING_NAV = (
    NavItem("心理筛查", ("schools.screening_list", "schools.screening_new", "schools.screening_followup"),
            "screenings:read", order=45),
    NavItem("筛查量表", ("schools.instruments", "schools.instrument_edit"), "screenings:instruments", order=85),
)
SCREENING_PANELS = (
    # The mental-health teacher's work first: every 高风险 of her pupils waiting for a follow-up.
    HomePanel("screenings_waiting", 2, "screenings:write", "schools/screenings/_home_waiting.html",
              "screenings:teacher_panel"),
    HomePanel("screenings_overdue", 32, "screenings:oversight", "schools/screenings/_home_overdue.html",
              "screenings:oversight_panel"),
)
SCREENING_RECORD = (
    Section("screenings", "心理筛查", 45, "screenings:read", "schools/screenings/_record_section.html",
            "screenings:record_screenings", ()),
)
SCREENING_ARCHIVE = (
    Section("screenings", "心理筛查", 64, "screenings:read", "print/sections/screenings.html",
            "screenings:archive_screenings", ()),
)
SCREENING_AUDIT = {
    "instrument_saved": "保存筛查量表",
    "screening_recorded": "录入心理筛查",
    "screening_followed_up": "记录筛查跟进",
    "screenings_viewed": "查看心理筛查",
}


area = Area(
    name="schools",
    blueprint=bp,
    route_modules=("carer_routes", "dropout_routes", "contact_routes", "screening_routes"),
    model_modules=("models",),
    nav=CARER_NAV + DROPOUT_NAV + CONTACT_NAV + SCREENING_NAV,
    grants={
        "admin": {"screenings:instruments", "school_staff:manage"},
        "civil_affairs": TOWN | {"school_staff:manage"},
        "supervisor": TOWN,
        "director": KEEPERS,
        "school": SCHOOL_STAFF,
        "school:coordinator": {"carers:manage", "fee_waivers:manage", "school_staff:manage"},
        "school:mental_health": {"screenings:read", "screenings:write"},
        "department:education": {"dropouts:read", "dropouts:list"},  # 镇教办: the town's dropouts, named
    },
    audit_labels={"school_duty_set": "设置学校人员职责", "teacher_class_set": "设置班主任带的班级"} | CARER_AUDIT | DROPOUT_AUDIT | CONTACT_AUDIT
    | SCREENING_AUDIT,
    demo_seeder="demo:seed",
    seed_order=45,  # after the children, the visits and the volunteers
    home_panels=CARER_PANELS + DROPOUT_PANELS + CONTACT_PANELS + SCREENING_PANELS,
    offline_pages=CONTACT_OFFLINE,
    record_sections=CARER_RECORD + DROPOUT_RECORD + CONTACT_RECORD + SCREENING_RECORD,
    archive_sections=CARER_ARCHIVE + DROPOUT_ARCHIVE + CONTACT_ARCHIVE + SCREENING_ARCHIVE,
    on_child_exit="exits:close_with_child",
    setup="access:setup",
)
