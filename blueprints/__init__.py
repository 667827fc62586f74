"""Every blueprint of the app, and every models module (so that Alembic sees every table)."""
from blueprints.admin import models as admin_models  # noqa: F401
from blueprints.auth import models as auth_models  # noqa: F401
from blueprints.children import models as children_models  # noqa: F401
from blueprints.core import audit as audit_models  # noqa: F401
from blueprints.core import jobs as job_models  # noqa: F401


def all_blueprints():
    from blueprints.admin import bp as admin_bp
    from blueprints.auth import bp as auth_bp
    from blueprints.children import bp as children_bp
    from blueprints.dashboard import bp as dashboard_bp
    from blueprints.pwa import bp as pwa_bp

    return [auth_bp, dashboard_bp, children_bp, admin_bp, pwa_bp]
