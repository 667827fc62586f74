"""关爱通 — the app factory. Run with `flask --app app run`."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_login import current_user

from blueprints import all_blueprints
from blueprints.core import clock, jobs
from blueprints.core.assets import register_bundles
from blueprints.core.database import configure_sqlite
from blueprints.core.errors import register_error_handlers
from blueprints.core.htmx import add_vary_header
from blueprints.core.navigation import nav_for
from config import Config
from extensions import assets, csrf, db, login_manager, migrate


def create_app(config: dict | None = None) -> Flask:
    instance_path = (config or {}).get("INSTANCE_PATH") or str(Config.INSTANCE_DIR)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
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
    csrf.init_app(app)
    login_manager.init_app(app)
    assets.init_app(app)
    register_bundles(assets)

    for blueprint in all_blueprints():
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    app.after_request(add_vary_header)

    app.jinja_env.filters["datetime"] = clock.format_datetime
    app.jinja_env.filters["date"] = clock.format_date

    @app.context_processor
    def shell_context():
        return {
            "org_name": app.config["ORG_NAME"],
            "demo_mode": app.config["DEMO_MODE"],
            "nav_items": nav_for(current_user),
        }

    from blueprints.admin.cli import register_cli
    from blueprints.children.cli import register_print_cli
    from blueprints.children.excel_cli import register_excel_cli

    register_cli(app)
    register_excel_cli(app)
    register_print_cli(app)
    return app
