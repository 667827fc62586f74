"""The installable shell: manifest, service worker, offline page, health check."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("pwa", __name__)

# The outbox page: what is waiting on this phone, for every role with an offline form.
area = Area(name="pwa", blueprint=bp, route_modules=("routes",), offline_pages=("pwa.outbox",))
