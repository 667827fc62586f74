"""In-app notices (the bell in the top bar, plan 保障一 information sharing): a referral received or
returned, a measure due within MEASURE_DUE_DAYS or overdue (care/reminders.py), a visit sent back,
an urgent flag. Other areas call `services.notify`; e-mail or SMS would be one more channel
(services.register_channel). Every signed-in user has her own notices and nobody else's."""
from flask import Blueprint

from blueprints.core.areas import Area, Slot

bp = Blueprint("notices", __name__, url_prefix="/notices")

area = Area(
    name="notices",
    blueprint=bp,
    route_modules=("routes",),
    model_modules=("models",),
    audit_labels={},
    slots=(Slot("topbar", "bell", 10, None, "notices/_bell.html", "services:bell"),),
)
