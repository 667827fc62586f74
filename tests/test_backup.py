"""Backups that restore (issue 8 §14): `flask backup` and `flask restore` on the test's database
(SQLite, or PostgreSQL with GUANAI_TEST_DATABASE_URL: pg_dump/pg_restore of the server's
version), every row of every table compared before and after; a restore over data refuses
without --force and changes nothing; the nightly backup keeps the last BACKUP_KEEP, all 0600."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import select, update

from blueprints.children.models import Child
from blueprints.core import backup
from blueprints.visits.models import Visit
from extensions import db
from tests.factories import create_user


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def every_row() -> dict[str, list[tuple]]:
    """Every row of every table of the app, in primary-key order, on a fresh connection."""
    db.session.remove()
    with db.engine.connect() as connection:
        return {table.name: [tuple(row) for row in connection.execute(
                    select(table).order_by(*table.primary_key.columns))]
                for table in db.metadata.sorted_tables}


@pytest.fixture
def demo_data(app, runner):
    app.config["DEMO_MODE"] = True
    result = runner.invoke(args=["seed-demo", "--children", "20"])
    assert result.exit_code == 0, result.output
    rows = every_row()
    assert len(rows["children"]) == 20 and rows["visits"] and rows["users"] and rows["audit_events"]
    return rows


def change_everything_a_little() -> None:
    child = db.session.scalar(select(Child).order_by(Child.id))
    child.name = "改过的名字"
    db.session.execute(update(Visit).values(follow_up_note="改过"))
    db.session.delete(db.session.scalar(select(Child).order_by(Child.id.desc())).family[0])
    db.session.commit()


def test_backup_then_restore_gives_back_every_row(app, runner, demo_data, tmp_path):
    target = tmp_path / "saved" / "guanai.backup"
    result = runner.invoke(args=["backup", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output
    assert mode(target) == 0o600 and mode(target.parent) == 0o700
    assert not [p for p in target.parent.iterdir() if p != target]  # no temporary copy left beside it

    change_everything_a_little()
    changed = every_row()
    assert changed != demo_data

    result = runner.invoke(args=["restore", str(target), "--force"])
    assert result.exit_code == 0, result.output
    assert "已从" in result.output and "恢复数据库" in result.output
    assert every_row() == demo_data

    # Into an empty database (a new server): no --force needed.
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
    result = runner.invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    assert every_row() == demo_data


def test_restore_over_data_without_force_refuses_in_chinese_and_changes_nothing(app, runner, demo_data, tmp_path):
    target = tmp_path / "guanai.backup"
    assert runner.invoke(args=["backup", "-o", str(target)]).exit_code == 0
    change_everything_a_little()
    changed = every_row()

    result = runner.invoke(args=["restore", str(target)])
    assert result.exit_code == 1
    assert "数据库中已有数据" in result.output and "--force" in result.output and "未做任何改动" in result.output
    assert every_row() == changed


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("这不是备份")
    result = runner.invoke(args=["restore", str(junk), "--force"])
    assert result.exit_code == 1 and "不是" in result.output and "未恢复" in result.output
    result = runner.invoke(args=["restore", str(tmp_path / "missing.backup")])
    assert result.exit_code == 1 and "找不到备份文件" in result.output


def test_the_nightly_backup_keeps_the_last_ones_private(app, demo_data, tmp_path):
    folder = tmp_path / "backups"
    app.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP=3)
    suffix = backup.SUFFIX[db.engine.dialect.name]
    folder.mkdir()
    old = [folder / f"guanai-2025010{day}-023000{suffix}" for day in range(1, 5)]
    for path in old:
        path.write_bytes(b"old")
    other = folder / "keep-me.txt"  # not a nightly backup: never pruned
    other.write_text("x")

    newest = backup.backup_daily()
    assert newest.parent == folder and mode(folder) == 0o700 and mode(newest) == 0o600
    assert sorted(p.name for p in folder.iterdir()) == sorted([old[2].name, old[3].name, newest.name, other.name])
    assert newest.stat().st_size > 10_000


def test_the_password_goes_in_the_environment_not_the_command_line(app):
    saved = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://guanai:s3cret-pw@db.example:5433/guanai?sslmode=require"
    try:
        dbname, env = backup._pg_connection()
    finally:
        app.config["SQLALCHEMY_DATABASE_URI"] = saved
    assert "s3cret-pw" not in dbname and env["PGPASSWORD"] == "s3cret-pw"
    assert dbname == "postgresql://guanai@db.example:5433/guanai?sslmode=require"


def test_a_session_open_at_backup_time_does_not_come_back_with_the_restore(app, client, auth, runner, tmp_path):
    create_user("civil_affairs", "minzheng")
    assert auth.login("minzheng").status_code == 303
    assert client.get("/children").status_code == 200
    target = tmp_path / "with-a-session.backup"
    assert runner.invoke(args=["backup", "-o", str(target)]).exit_code == 0
    assert runner.invoke(args=["restore", str(target), "--force"]).exit_code == 0
    answer = client.get("/children")  # the same cookie, its session row restored: ended by the restore
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_the_nightly_backup_copies_the_photos_once_and_privately(app, tmp_path):
    """Activity photos live outside the database (blueprints/volunteers/photos.py): the nightly
    backup copies each new one into BACKUP_DIR/photos, once, 0600; one being written is skipped."""
    from blueprints.core.backup import KEPT_FOLDERS, copy_kept_folders

    photos, backups = tmp_path / "photos", tmp_path / "backups"
    app.config.update(PHOTO_DIR=str(photos), BACKUP_DIR=str(backups))
    assert "photos" in KEPT_FOLDERS
    copy_kept_folders()  # what other folders hold (files earlier tests left in the instance folder)
    (photos / "2026" / "11").mkdir(parents=True)
    (photos / "2026" / "11" / "a.jpg").write_bytes(b"\xff\xd8first")
    (photos / "2026" / "11" / ".b.jpg.partial").write_bytes(b"half")
    assert copy_kept_folders() == 1
    copy = backups / "photos" / "2026" / "11" / "a.jpg"
    assert copy.read_bytes() == b"\xff\xd8first" and mode(copy) == 0o600
    assert not (backups / "photos" / "2026" / "11" / ".b.jpg.partial").exists()
    (photos / "2026" / "11" / "c.jpg").write_bytes(b"\xff\xd8second")
    assert copy_kept_folders() == 1  # only what is new
