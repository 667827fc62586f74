"""关爱通 — the app factory. Run with `flask --app app run`."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import current_user

from blueprints import all_areas
from blueprints.core import audit, backup, clock, jobs, once  # noqa: F401 (the core's own tables, for Alembic)
from blueprints.core import security
from blueprints.core.areas import install
from blueprints.core.assets import register_bundles
from blueprints.core.database import configure_sqlite
from blueprints.core.disclosure import register_template_globals
from blueprints.core.errors import register_error_handlers
from blueprints.core.htmx import add_vary_header
from blueprints.core.inputs import IdConverter
from blueprints.core.navigation import nav_for
from blueprints.core.vocabulary import register_template_filters
from config import Config
from extensions import assets, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or str(Config.INSTANCE_DIR)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.url_map.converters["int"] = IdConverter  # every <int:…> in a URL is a database id
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = Config.secret_key()
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    jobs.init_app(app)  # the huey queue: SQLite, Redis or immediate, from the config
    with app.app_context():
        configure_sqlite(db.engine)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    security.init_app(app)  # headers, request sizes, the proxy; its size check runs before CSRF's
    csrf.init_app(app)
    login_manager.init_app(app)
    assets.init_app(app)
    register_bundles(assets)

    install(app, all_areas())
    backup.register_cli(app)  # flask backup, flask restore
    register_error_handlers(app)
    app.after_request(add_vary_header)

    app.jinja_env.filters["datetime"] = clock.format_datetime
    app.jinja_env.filters["date"] = clock.format_date
    register_template_globals(app)
    register_template_filters(app)  # {{ code|label('gender') }}

    @app.context_processor
    def shell_context():
        return {
            "org_name": app.config["ORG_NAME"],
            "demo_mode": app.config["DEMO_MODE"],
            "nav_items": nav_for(current_user),
        }
    return app
