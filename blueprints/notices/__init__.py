"""In-app notices (the bell in the top bar, plan 保障一 information sharing): a referral received or
returned, a measure due within MEASURE_DUE_DAYS or overdue, a visit sent back, an urgent flag.
Other areas call `services.notify`; e-mail or SMS would be one more channel (services.register_channel)."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("notices", __name__, url_prefix="/notices")

area = Area(
    name="notices",
    blueprint=bp,
    route_modules=(),
    model_modules=("models",),
    audit_labels={},
)
