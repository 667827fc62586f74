"""Care that follows up (精准帮扶, plan §5 §8 §10 §14 §15 §23, 保障一): each child's care plan (帮扶方案)
of needs and measures with an owner and a due date; measures referred to a department's inbox (转介);
guardianship assessments (监护评估) and urgent flags (《山东省未成年人保护条例》第六十七条); case
conferences (个案会商) whose decisions become measures.

Who does what (core/access.py): child directors, the supervisor and civil affairs keep the plans of
the children they reach and refer measures; a department works the referrals sent to it and reads a
referred child only while the referral is open and REFERRAL_GRACE_DAYS after (access.py); the police
(a department grant) and civil affairs act on urgent flags; civil affairs and the supervisor hold
the conferences; an administrator edits the assessment's items and thresholds."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem, Section, Slot

bp = Blueprint("care", __name__)

KEEPERS = frozenset({"care_plans:read", "care_plans:write", "referrals:read", "referrals:send",
                     "assessments:read", "assessments:write", "urgent:flag", "conferences:read"})
TOWN = KEEPERS | {"urgent:read", "urgent:act", "conferences:write", "referrals:oversight"}

# Each part of the area declares its menu items, home cards, sections, slots and audit labels in its
# own block below: one block per part, so that parts grow without touching each other.

# --- the care plan: needs and measures (plan.py, plan_routes.py)
PLAN_NAV: tuple = ()
PLAN_PANELS: tuple = ()
PLAN_RECORD: tuple = ()
PLAN_ARCHIVE: tuple = ()
PLAN_SLOTS: tuple = ()
PLAN_AUDIT: dict = {}


# --- referrals and the department inbox (referrals.py, referral_routes.py)
REFERRAL_NAV: tuple = (
    NavItem("转介", ("care.referral_inbox", "care.referral_detail", "care.referral_new"), "referrals:read", order=24),
)
REFERRAL_PANELS: tuple = (  # a department's work first, after the greeting
    HomePanel("referral_inbox", 2, "referrals:act", "care/referrals/_home_inbox.html", "referrals:department_panel"),
)
REFERRAL_RECORD: tuple = (
    Section("referrals", "转介", 51, "referrals:read", "care/referrals/_record_section.html",
            "referrals:record_referrals", ()),
)
REFERRAL_ARCHIVE: tuple = ()
REFERRAL_SLOTS: tuple = (
    Slot("measure", "referral", 10, "referrals:read", "care/referrals/_measure_slot.html", "referrals:measure_slot"),
)
REFERRAL_AUDIT: dict = {
    "referral_sent": "转介帮扶措施",
    "referral_form_opened": "打开转介表",
    "referral_accepted": "接收转介",
    "referral_action_added": "记录转介办理情况",
    "referral_returned": "办结或退回转介",
    "referral_viewed": "查看转介",
    "referral_inbox_viewed": "查看转介收件箱",
    "referral_list_viewed": "查看转介名单",
    "referral_attachment_viewed": "下载转介附件",
}


# --- guardianship assessment and urgent flags (assessments.py, assessment_routes.py, urgent.py)
ASSESSMENT_NAV: tuple = ()
ASSESSMENT_PANELS: tuple = ()
ASSESSMENT_RECORD: tuple = ()
ASSESSMENT_ARCHIVE: tuple = ()
ASSESSMENT_SLOTS: tuple = ()
ASSESSMENT_AUDIT: dict = {}


# --- case conferences (conferences.py, conference_routes.py)
CONFERENCE_NAV: tuple = ()
CONFERENCE_PANELS: tuple = ()
CONFERENCE_RECORD: tuple = ()
CONFERENCE_ARCHIVE: tuple = ()
CONFERENCE_SLOTS: tuple = ()
CONFERENCE_AUDIT: dict = {}


area = Area(
    name="care",
    blueprint=bp,
    route_modules=("referral_routes",),
    model_modules=("models",),
    nav=PLAN_NAV + REFERRAL_NAV + ASSESSMENT_NAV + CONFERENCE_NAV,
    grants={
        "admin": {"assessments:scale"},
        "civil_affairs": TOWN,
        "supervisor": TOWN - {"urgent:act"},
        "director": KEEPERS,
        "school": {"care_plans:read", "urgent:flag"},
        # A department reads the children referred to it (access.py) and works its inbox.
        "department": {"children:read", "referrals:read", "referrals:act"},
        "department:police": {"urgent:read", "urgent:act"},  # §67: a child in danger, at once
    },
    audit_labels=PLAN_AUDIT | REFERRAL_AUDIT | ASSESSMENT_AUDIT | CONFERENCE_AUDIT,
    demo_seeder=None,
    seed_order=50,  # after the children, the visits, the volunteers and the schools
    home_panels=PLAN_PANELS + REFERRAL_PANELS + ASSESSMENT_PANELS + CONFERENCE_PANELS,
    record_sections=PLAN_RECORD + REFERRAL_RECORD + ASSESSMENT_RECORD + CONFERENCE_RECORD,
    archive_sections=PLAN_ARCHIVE + REFERRAL_ARCHIVE + ASSESSMENT_ARCHIVE + CONFERENCE_ARCHIVE,
    slots=PLAN_SLOTS + REFERRAL_SLOTS + ASSESSMENT_SLOTS + CONFERENCE_SLOTS,
    setup="access:setup",
)
