from flask import Blueprint

bp = Blueprint("children", __name__, url_prefix="/children")

from blueprints.children import routes  # noqa: E402,F401
from blueprints.children import excel_routes  # noqa: E402,F401  (import, export, template)
from blueprints.children import print_routes  # noqa: E402,F401  (archive PDFs)
