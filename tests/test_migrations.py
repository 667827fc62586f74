"""The migrations build the whole schema from an empty database, on SQLite and on PostgreSQL
(the same test runs on both), match the models exactly, and go back down cleanly."""
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from extensions import db
from tests.conftest import TEST_DATABASE_URL, make_app


@pytest.fixture
def empty_database_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"guanai_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(TEST_DATABASE_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_the_models_and_downgrades(empty_database_url, tmp_path):
    app = make_app(empty_database_url, tmp_path)
    with app.app_context():
        try:
            assert inspect(db.engine).get_table_names() == []
            upgrade()
            tables = set(inspect(db.engine).get_table_names())
            assert {"users", "villages", "schools", "departments", "audit_events",
                    "school_villages", "user_villages", "alembic_version"} <= tables
            with db.engine.connect() as conn:
                diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
            assert diff == [], f"models and migrations differ: {diff}"

            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        finally:
            db.session.remove()
            db.engine.dispose()


def test_upgrade_keeps_the_rows_of_a_database_in_use(empty_database_url, tmp_path):
    """A database at 0007 with a director, her village and an audit event upgrades with every row
    kept: SQLite rebuilds `users` to drop columns, which with foreign keys on used to delete her
    villages (ON DELETE CASCADE) or fail half-way on the audit event."""
    app = make_app(empty_database_url, tmp_path)
    with app.app_context():
        try:
            upgrade(revision="0007")
            with db.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO villages (id, name, is_demo, active, created_at, updated_at) "
                    "VALUES (1, '前王庄村', false, true, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                conn.execute(text(
                    "INSERT INTO users (id, username, display_name, password_hash, role, active, is_demo, "
                    "failed_login_count, session_version, created_at, updated_at) "
                    "VALUES (1, 'zhuren', '张秀英', 'x', 'director', true, false, 0, 1, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                conn.execute(text("INSERT INTO user_villages (user_id, village_id) VALUES (1, 1)"))
                conn.execute(text(
                    "INSERT INTO audit_events (user_id, action, detail, at) VALUES (1, 'login', '', CURRENT_TIMESTAMP)"))
            upgrade()
            with db.engine.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM user_villages")).scalar() == 1
                assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == 1
                assert conn.execute(text("SELECT username FROM users")).scalar() == "zhuren"
                if conn.dialect.name == "sqlite":  # and the app's connections enforce foreign keys again
                    assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        finally:
            db.session.remove()
            db.engine.dispose()
