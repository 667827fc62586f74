from flask import Blueprint

bp = Blueprint("pwa", __name__)

from blueprints.pwa import routes  # noqa: E402,F401
