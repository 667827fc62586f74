"""JSON for the phones' offline outbox."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("api", __name__, url_prefix="/api/v1")

area = Area(name="api", blueprint=bp, route_modules=("routes",))
