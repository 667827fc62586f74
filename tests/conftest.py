"""Fixtures after flaskr's: `app`, `client`, `runner`, `auth`, plus factories (tests/factories.py).

The database is SQLite in a temporary file, or the PostgreSQL server named by
GUANAI_TEST_DATABASE_URL (set by `make test`). The schema is built once per run by the real
migrations; after each test every table is emptied.
"""
from __future__ import annotations

import contextvars
import os
import secrets

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from extensions import db

TEST_DATABASE_URL = os.environ.get("GUANAI_TEST_DATABASE_URL")


def pytest_report_header(config):
    return f"database: {TEST_DATABASE_URL or 'SQLite (temporary file)'}"


def pytest_sessionfinish(session, exitstatus):
    """A skipped test fails the run: `make test` must not pass for lack of a tool."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and reporter.stats.get("skipped") and exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if TEST_DATABASE_URL:
        return TEST_DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'guanai-test.db'}"


def make_app(database_url: str, tmp_dir, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "DEMO_MODE": False,
        "ASSETS_AUTO_BUILD": True,
        "INSTANCE_PATH": str(tmp_dir),  # jobs' files and uploads go to the test's own folder
        "HUEY_IMMEDIATE": True,  # background tasks run in the request (tests/test_jobs.py starts real consumers)
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _app(database_url, tmp_path_factory):
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        if TEST_DATABASE_URL:
            # Start from an empty schema, whatever an earlier run left behind.
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled connections before the interpreter ends


class IsolatedClient(FlaskClient):
    """Each request runs outside the test's own app context, as in production: its own `g`
    (Flask-Login caches the user there) and its own database session, removed at its end.

    A form posted as a dict carries a fresh `once` token, as a freshly opened creating form does
    (blueprints/core/once.py), unless it names its own; `once=None` posts none."""

    def open(self, *args, **kwargs):
        data = kwargs.get("data")
        if isinstance(data, dict) and kwargs.get("method", "GET") == "POST":
            data = data.copy()  # a MultiDict stays one
            if "once" not in data:
                data["once"] = secrets.token_urlsafe(24)
            elif data["once"] is None:
                del data["once"]
            kwargs["data"] = data
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def app(_app):
    _app.test_client_class = IsolatedClient
    with _app.app_context():
        yield _app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = "correct-horse-1"):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)
