"""The home page (made of the areas' panels), and the pages of villages and schools."""
from flask import Blueprint

from blueprints.core.areas import Area, HomePanel, NavItem

bp = Blueprint("dashboard", __name__)

area = Area(
    name="dashboard",
    blueprint=bp,
    route_modules=("routes",),
    nav=(
        NavItem("首页", ("dashboard.home",), None, order=0),
        NavItem("村", ("dashboard.villages", "dashboard.village"), "villages:read", order=60),
        NavItem("学校", ("dashboard.schools", "dashboard.school"), "schools:read", order=65),
    ),
    home_panels=(
        HomePanel("greeting", 0, None, "dashboard/_home_greeting.html"),
        HomePanel("villages", 40, "villages:read", "dashboard/_home_villages.html", "services:villages_panel"),
        HomePanel("schools", 45, "schools:read", "dashboard/_home_schools.html", "services:schools_panel"),
        HomePanel("plan_tasks", 60, None, "dashboard/_home_plan_tasks.html", "services:plan_tasks_panel"),
    ),
)
