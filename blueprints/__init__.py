"""Every blueprint of the app, and every models module (so that Alembic sees every table).

An area's package defines only its Blueprint; its routes modules are imported here, when the app
is built, so that importing a model never drags in routes (and never makes an import cycle)."""
from importlib import import_module

from blueprints.admin import models as admin_models  # noqa: F401
from blueprints.auth import models as auth_models  # noqa: F401
from blueprints.children import models as children_models  # noqa: F401
from blueprints.core import audit as audit_models  # noqa: F401
from blueprints.core import jobs as job_models  # noqa: F401
from blueprints.visits import models as visit_models  # noqa: F401

# area → its modules that add routes to the area's blueprint
ROUTE_MODULES = {
    "auth": ["routes"],
    "dashboard": ["routes"],
    "children": ["routes", "excel_routes", "print_routes"],
    "visits": ["routes"],
    "api": ["routes"],
    "admin": ["routes"],
    "pwa": ["routes"],
}


def all_blueprints():
    blueprints = []
    for area, modules in ROUTE_MODULES.items():
        for module in modules:
            import_module(f"blueprints.{area}.{module}")
        blueprints.append(import_module(f"blueprints.{area}").bp)
    return blueprints
