"""Home visits (走访, plan §10 §17): cadence and due lists, the visit and parent-contact forms
(offline), the supervisors' review queue and corrections, monthly compliance."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem, Section

bp = Blueprint("visits", __name__, url_prefix="/visits")

WRITE = frozenset({"visits:read", "visits:write"})  # recording visits (directors, supervisors)
REVIEW = frozenset({"visits:read", "visits:review", "visits:compliance"})  # supervision

area = Area(
    name="visits",
    blueprint=bp,
    route_modules=("routes", "review_routes"),
    model_modules=("models",),
    nav=(
        NavItem("走访", ("visits.due", "visits.new", "visits.contact", "visits.detail", "visits.correct",
                       "pwa.outbox"), "visits:write", order=20),
        NavItem("评阅", ("visits.review_queue",), "visits:review", order=22),
        NavItem("走访统计", ("visits.compliance_page",), "visits:compliance", order=25),
    ),
    grants={
        "admin": {"visits:read"},
        "civil_affairs": REVIEW,
        "supervisor": WRITE | REVIEW,
        "director": WRITE,
    },
    audit_labels={
        "visit_recorded": "记录走访",
        "visit_corrected": "更正走访",
        "visit_reviewed": "督导评阅走访",
        "visit_returned": "督导退回走访",
        "visit_answered": "答复督导提问",
        "visit_review_queue_viewed": "查看走访评阅队列",
        "visit_viewed": "查看走访记录",
        "due_list_downloaded": "下载走访名单",
    },
    demo_seeder="demo:seed",
    seed_order=30,  # after the children
    home_panels=(HomePanel("visit_rules", 30, "visits:write", "visits/_home_rules.html"),),
    # The only pages kept on the phone: the due list (minimal fields) and the offline forms.
    offline_pages=("visits.due", "visits.new", "visits.contact"),
    record_sections=(
        Section("visits", "走访记录", 10, "visits:read", "visits/_record_section.html",
                "sections:recent_visits", ()),
    ),
    archive_sections=(
        Section("visits", "走访记录", 60, "visits:read", "print/sections/visits.html",
                "sections:archive_visits", ()),
    ),
)
