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
PLAN_NAV: tuple = ()  # a plan is one child's: reached from her record page (the "child" slot, the section)
PLAN_PANELS: tuple = (  # the keeper's own work, after the urgent flags and the inbox (1–5)
    HomePanel("care_measures_due", 6, "care_plans:write", "care/plan/_home_due.html", "plan:due_panel"),
)
PLAN_RECORD: tuple = (  # after the visits (10), whose findings it follows up
    Section("care_plan", "帮扶方案", 12, "care_plans:read", "care/plan/_record_section.html", "plan:record_plan"),
)
PLAN_ARCHIVE: tuple = (
    Section("care_plan", "帮扶方案", 66, "care_plans:read", "print/sections/care_plan.html", "plan:archive_plan", ()),
)
PLAN_SLOTS: tuple = (
    Slot("visit", "care_findings", 10, "care_plans:read", "care/plan/_visit_slot.html", "plan:visit_slot"),
    Slot("child", "care_plan_link", 20, "care_plans:read", "care/plan/_child_slot.html"),
)
PLAN_AUDIT: dict = {
    "care_plan_viewed": "查看帮扶方案",
    "need_added": "登记帮扶需求",
    "need_confirmed": "走访发现加入帮扶方案",
    "need_met": "确认需求已解决",
    "need_closed": "需求不再需要",
    "measure_added": "添加帮扶措施",
    "measure_updated": "修改帮扶措施",
    "measure_done": "帮扶措施完成",
    "measure_closed": "终止帮扶措施",
    "measure_form_opened": "打开帮扶措施修改页",
}


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
ASSESSMENT_NAV: tuple = (
    NavItem("紧急情况", ("care.urgent_list", "care.urgent_detail"), "urgent:read", order=15),
    NavItem("监护评估量表", ("care.assessment_scale",), "assessments:scale", order=85),
)
ASSESSMENT_PANELS: tuple = (
    # A child in danger without care (§67): before everything but the greeting (0).
    HomePanel("urgent_flags", 1, "urgent:read", "care/urgent/_home_panel.html", "urgent:home_panel"),
)
ASSESSMENT_RECORD: tuple = (
    Section("care_assessments", "监护评估", 47, "assessments:read", "care/assessments/_record_section.html",
            "assessments:record_assessments", ()),
)
ASSESSMENT_ARCHIVE: tuple = (
    Section("care_assessments", "监护评估", 66, "assessments:read", "print/sections/care_assessments.html",
            "assessments:archive_assessments", ()),
)
ASSESSMENT_SLOTS: tuple = (
    Slot("child", "urgent", 1, None, "care/urgent/_child_slot.html", "urgent:child_slot"),
)
ASSESSMENT_AUDIT: dict = {
    "assessment_recorded": "录入监护评估",
    "assessment_viewed": "查看监护评估",
    "assessment_interventions_set": "确定监护干预措施",
    "assessment_need_added": "把评估建议的需求加入帮扶方案",
    "assessment_scale_saved": "修改监护评估量表",
    "urgent_flagged": "标记紧急情况",
    "urgent_acted": "记录紧急情况的处置",
    "urgent_viewed": "查看紧急情况",
}


# --- case conferences (conferences.py, conference_routes.py)
CONFERENCE_NAV: tuple = (
    NavItem("个案会商", ("care.conference_list", "care.conference_detail", "care.conference_new"), "conferences:read",
            order=36),
)
CONFERENCE_PANELS: tuple = ()
CONFERENCE_RECORD: tuple = (
    Section("conferences", "个案会商", 17, "conferences:read", "care/conferences/_record_section.html",
            "conferences:record_conferences", ()),
)
CONFERENCE_ARCHIVE: tuple = (
    Section("conferences", "个案会商", 68, "conferences:read", "print/sections/care_conferences.html",
            "conferences:archive_conferences", ()),
)
CONFERENCE_SLOTS: tuple = ()
CONFERENCE_AUDIT: dict = {
    "conference_held": "记录个案会商",
    "conference_viewed": "查看个案会商",
    "conference_list_viewed": "查看个案会商列表",
    "conference_printed": "打印个案会商记录",
}


area = Area(
    name="care",
    blueprint=bp,
    route_modules=("plan_routes", "referral_routes", "assessment_routes", "conference_routes", "reminders"),
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
    demo_seeder="demo:seed",
    seed_order=50,  # after the children, the visits, the volunteers and the schools
    home_panels=PLAN_PANELS + REFERRAL_PANELS + ASSESSMENT_PANELS + CONFERENCE_PANELS,
    record_sections=PLAN_RECORD + REFERRAL_RECORD + ASSESSMENT_RECORD + CONFERENCE_RECORD,
    archive_sections=PLAN_ARCHIVE + REFERRAL_ARCHIVE + ASSESSMENT_ARCHIVE + CONFERENCE_ARCHIVE,
    slots=PLAN_SLOTS + REFERRAL_SLOTS + ASSESSMENT_SLOTS + CONFERENCE_SLOTS,
    on_child_exit="exits:close_with_child",
    setup="access:setup",
)
