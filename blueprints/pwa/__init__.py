"""The installable shell: manifest, service worker, offline page, health check."""
from flask import Blueprint

from blueprints.core.areas import Area

bp = Blueprint("pwa", __name__)

area = Area(name="pwa", blueprint=bp, route_modules=("routes",))
