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


def test_0011_merges_the_old_need_code_and_keeps_the_reviews(empty_database_url, tmp_path):
    """A database at 0010 whose visits and pairings recorded "assistance" (救助申请), one of each also
    "living": after 0011 each has "living" once (the one list of needs), and a visit reviewed before
    the review queue counts as reviewed ("ok")."""
    app = make_app(empty_database_url, tmp_path)
    now = "CURRENT_TIMESTAMP"
    with app.app_context():
        try:
            upgrade(revision="0010_schools")
            with db.engine.begin() as conn:
                conn.execute(text(f"INSERT INTO villages (id, name, is_demo, active, created_at, updated_at) "
                                  f"VALUES (1, '前王庄村', false, true, {now}, {now})"))
                for user_id, username, role in ((1, "zhuren", "director"), (2, "zhiyuan", "volunteer"),
                                                (3, "dudao", "supervisor")):
                    conn.execute(text(f"INSERT INTO users (id, username, display_name, password_hash, role, active, "
                                      f"is_demo, created_at, updated_at) VALUES ({user_id}, '{username}', '{username}', "
                                      f"'x', '{role}', true, false, {now}, {now})"))
                for child_id in (1, 2):  # one pairing per child and volunteer
                    conn.execute(text(
                        "INSERT INTO children (id, archive_no, name, name_initials, name_pinyin, gender, birth_date, "
                        "ethnicity, residence_village_id, attention_level, status, state_guardianship, created_at, "
                        f"updated_at) VALUES ({child_id}, '202600000{child_id}', '王小花', 'wxh', 'wangxiaohua', "
                        f"'female', '2015-03-02', '汉族', 1, 'general', 'active', 'none', {now}, {now})"))
                for visit_id, reviewed in ((1, "NULL"), (2, now), (3, "NULL")):
                    conn.execute(text(
                        "INSERT INTO visits (id, client_uuid, child_id, visitor_id, visited_on, kind, hazard_water, "
                        "hazard_electric, hazard_gas, hazard_fire, hazard_waters, hazard_other, internet_concern, "
                        "social_concern, follow_up_needed, received_at, superseded, reviewed_at, reviewed_by_id) "
                        f"VALUES ({visit_id}, '{uuid.uuid4()}', 1, 1, '2026-11-0{visit_id}', 'home', false, false, "
                        f"false, false, false, false, false, false, false, {now}, false, {reviewed}, "
                        f"{'3' if reviewed != 'NULL' else 'NULL'})"))
                conn.execute(text("INSERT INTO visit_needs (visit_id, category) VALUES (1, 'assistance'), "
                                  "(1, 'living'), (1, 'education'), (2, 'assistance'), (3, 'medical')"))
                conn.execute(text(f"INSERT INTO volunteers (id, user_id, name, kind, capacity, active, login_stopped, "
                                  f"created_at, updated_at) VALUES (1, 2, '孙晓雨', 'youth', 2, true, false, {now}, {now})"))
                for pairing_id in (1, 2):
                    conn.execute(text(
                        "INSERT INTO pairings (id, programme, child_id, volunteer_id, started_on, goals, "
                        f"times_per_month, created_at, updated_at) VALUES ({pairing_id}, 'qianshou', {pairing_id}, 1, "
                        f"'2026-01-0{pairing_id}', '陪伴', 2, {now}, {now})"))
                conn.execute(text("INSERT INTO pairing_needs (pairing_id, category) VALUES (1, 'assistance'), "
                                  "(1, 'living'), (2, 'assistance'), (2, 'education')"))
            upgrade()
            with db.engine.connect() as conn:
                def needs(table: str, owner: str) -> dict[int, list[str]]:
                    found: dict[int, list[str]] = {}
                    for owner_id, category in conn.execute(text(
                            f"SELECT {owner}, category FROM {table} ORDER BY {owner}, category")):
                        found.setdefault(owner_id, []).append(category)
                    return found

                assert needs("visit_needs", "visit_id") == {1: ["education", "living"], 2: ["living"], 3: ["medical"]}
                assert needs("pairing_needs", "pairing_id") == {1: ["living"], 2: ["education", "living"]}
                assert dict(conn.execute(text("SELECT id, review_state FROM visits ORDER BY id")).all()) == {
                    1: None, 2: "ok", 3: None}
        finally:
            db.session.remove()
            db.engine.dispose()
