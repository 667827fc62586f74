"""Backups that restore: `flask --app app backup -o FILE`, `flask --app app restore FILE`, and one
every night by the huey consumer, keeping the last BACKUP_KEEP in BACKUP_DIR.

SQLite is copied with its online backup API (a consistent copy while the app writes);
PostgreSQL with pg_dump's custom format, restored by pg_restore. The PostgreSQL programs must be
of the server's major version: they are looked for in PG_BIN_DIR, then
/usr/lib/postgresql/<major>/bin (Debian's layout), then PATH. The password of DATABASE_URL goes
to them in PGPASSWORD, never on the command line (which every user of the machine can read).

Backup files hold names and full ID numbers: written 0600 into a folder only the server's user
may list (core/files.py). Job files and uploads are temporary (deleted after JOB_FILES_DAYS), and
the queue (instance/huey.db) holds nothing that lasts. Files that do last outside the database
(activity photos) are folders an area registers (`keep_folder`): the nightly backup copies what is
new in each into BACKUP_DIR/<name>/ (such files are never changed once written, so a copy is
enough); `flask backup` writes the database only.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

import click
from flask import Flask, current_app
from huey import crontab
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import URL, make_url

from blueprints.core.clock import to_local, utcnow
from blueprints.core.files import copy_private, private_dir, private_file
from blueprints.core.jobs import periodic
from extensions import db

log = logging.getLogger(__name__)

PG_DUMP_MAGIC = b"PGDMP"  # the first bytes of pg_dump's custom format
SQLITE_MAGIC = b"SQLite format 3\x00"
SUFFIX = {"sqlite": ".sqlite3", "postgresql": ".pgdump"}
NAMED = re.compile(r"guanai-\d{8}-\d{6}\.(sqlite3|pgdump)")  # the daily backups, pruned to BACKUP_KEEP


class BackupError(Exception):
    """Why a backup or a restore could not be done, in Chinese for whoever runs it."""


def _url() -> URL:
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _dialect() -> str:
    name = _url().get_backend_name()
    if name not in SUFFIX:
        raise BackupError(f"不支持备份这种数据库：{name}（只支持 SQLite 和 PostgreSQL）。")
    return name


def backup_dir() -> Path:
    return private_dir(current_app.config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")


# ---------------------------------------------------------------------------------------------
# SQLite


def _sqlite_path() -> Path:
    database = _url().database
    if not database or database == ":memory:":
        raise BackupError("内存中的 SQLite 数据库无法备份。")
    return Path(database)


def _sqlite_backup(target: Path) -> None:
    # The copy is made in a temporary folder only we may enter (mkdtemp: 0700), then streamed
    # into the 0600 target: SQLite would create a file of its own with the umask's rights.
    with tempfile.TemporaryDirectory(dir=target.parent) as work:
        copy = Path(work) / "copy.sqlite3"
        source = sqlite3.connect(f"file:{_sqlite_path()}?mode=ro", uri=True)
        destination = sqlite3.connect(copy)
        try:
            source.backup(destination)
        finally:
            destination.close()
            source.close()
        with copy.open("rb") as fh:
            copy_private(fh, target)


def _sqlite_restore(source: Path) -> None:
    _check_sqlite_file(source)
    db.session.remove()
    db.engine.dispose()  # no connection of ours holds the old database
    live = sqlite3.connect(_sqlite_path(), timeout=30)
    backup = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        backup.backup(live)  # page by page into the live file, in one transaction
    finally:
        backup.close()
        live.close()


def _check_sqlite_file(path: Path) -> None:
    with path.open("rb") as fh:
        if fh.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise BackupError(f"{path} 不是 SQLite 数据库的备份文件，未恢复。")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = connection.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        ours = connection.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone()
    except sqlite3.DatabaseError:
        ok = False
    finally:
        connection.close()
    if not ok:
        raise BackupError(f"备份文件 {path} 已损坏，未恢复。请换一份备份。")
    if not ours:
        raise BackupError(f"{path} 不是关爱通的数据库备份（没有版本表），未恢复。")


# ---------------------------------------------------------------------------------------------
# PostgreSQL


def _server_major() -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SHOW server_version_num")).scalar()) // 10000


def _program_major(program: Path) -> int | None:
    try:
        out = subprocess.run([str(program), "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)\.", out)
    return int(match.group(1)) if match else None


def pg_program(name: str) -> Path:
    """pg_dump or pg_restore of the server's major version."""
    major = _server_major()
    places = [current_app.config.get("PG_BIN_DIR"), f"/usr/lib/postgresql/{major}/bin"]
    candidates = [Path(p) / name for p in places if p]
    if shutil.which(name):
        candidates.append(Path(shutil.which(name)))
    for candidate in candidates:
        if candidate.is_file() and _program_major(candidate) == major:
            return candidate
    raise BackupError(f"找不到与数据库服务器同版本（PostgreSQL {major}）的 {name}。"
                      f"请安装 postgresql-client-{major}，或用 PG_BIN_DIR 指明它所在的文件夹。")


def _pg_connection() -> tuple[str, dict]:
    """The libpq URL without the password, and the environment carrying it."""
    url = _url()
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = URL.create("postgresql", username=url.username, host=url.host, port=url.port, database=url.database,
                       query=url.query)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict, **kwargs) -> None:
    done = subprocess.run(args, env=env, stderr=subprocess.PIPE, **kwargs)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip()[-2000:]
        raise BackupError(f"{Path(args[0]).name} 出错（退出码 {done.returncode}）：{message}")


def _pg_backup(target: Path) -> None:
    program = pg_program("pg_dump")
    dbname, env = _pg_connection()
    with private_file(target) as fh:  # pg_dump writes into our 0600 file, not one of its own
        _run([str(program), "--format=custom", f"--dbname={dbname}"], env, stdout=fh)


def _pg_restore(source: Path) -> None:
    with source.open("rb") as fh:
        if fh.read(len(PG_DUMP_MAGIC)) != PG_DUMP_MAGIC:
            raise BackupError(f"{source} 不是 pg_dump 的备份文件（custom 格式），未恢复。")
    program = pg_program("pg_restore")
    dbname, env = _pg_connection()
    db.session.remove()
    db.engine.dispose()  # our pooled connections would hold locks pg_restore waits for
    _run([str(program), "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
          f"--dbname={dbname}", str(source)], env, stdout=subprocess.DEVNULL)


# ---------------------------------------------------------------------------------------------
# What the commands and the nightly task call


def backup_to(target: Path | str) -> Path:
    """Back the database up into `target` (0600; its folder is made 0700 when new)."""
    target = Path(target).resolve()
    dialect = _dialect()
    if not target.parent.exists():
        private_dir(target.parent)
    if dialect == "sqlite":
        _sqlite_backup(target)
    else:
        _pg_backup(target)
    return target


def rows_in_database() -> dict[str, int]:
    """The app's tables that hold rows, with how many: a database with any is not overwritten
    without --force."""
    existing = set(inspect(db.engine).get_table_names())
    counts = {}
    for table in db.metadata.sorted_tables:
        if table.name in existing:
            count = db.session.scalar(select(func.count()).select_from(table))
            if count:
                counts[table.name] = count
    db.session.rollback()
    return counts


def restore_from(source: Path | str, force: bool = False) -> None:
    source = Path(source).resolve()
    if not source.is_file():
        raise BackupError(f"找不到备份文件 {source}。")
    dialect = _dialect()
    counts = rows_in_database()
    if counts and not force:
        held = "、".join(f"{name} {count} 行" for name, count in list(counts.items())[:5])
        raise BackupError(f"数据库中已有数据（{held}……），恢复会把它们全部换成备份中的内容，未做任何改动。"
                          "确认要覆盖，请先另做一份备份，再加 --force 重新运行。")
    if dialect == "sqlite":
        _sqlite_restore(source)
    else:
        _pg_restore(source)
    _end_restored_sessions()


def _end_restored_sessions() -> None:
    """Sessions open when the backup was made must not come back to life with it: whoever held
    one signs in again. (By table name: the core knows no area; auth keeps its sessions there.)"""
    engine = db.engine
    if not inspect(engine).has_table("user_sessions"):
        return  # a backup from before server-side sessions
    with engine.begin() as conn:
        conn.execute(text("UPDATE user_sessions SET ended_at = :now, ended_reason = 'restore' "
                          "WHERE ended_at IS NULL"), {"now": utcnow()})


# name → the folder (a function: it depends on the app's config)
KEPT_FOLDERS: dict[str, Callable[[], Path]] = {}


def keep_folder(name: str, folder: Callable[[], Path]) -> None:
    """Files an area keeps outside the database, written once and never changed: copied nightly."""
    KEPT_FOLDERS[name] = folder


def copy_kept_folders() -> int:
    """Copy into BACKUP_DIR/<name>/ what each kept folder has that the backup has not; returns how many."""
    copied = 0
    for name, folder in KEPT_FOLDERS.items():
        source, target = folder(), private_dir(backup_dir() / name)
        for path in source.rglob("*"):
            if path.name.startswith("."):  # a file still being written (core/files.py private_file)
                continue
            if path.is_file() and not (copy := target / path.relative_to(source)).exists():
                private_dir(copy.parent)
                with open(path, "rb") as data:
                    copy_private(data, copy)
                copied += 1
    return copied


def daily_name() -> str:
    return f"guanai-{to_local(utcnow()):%Y%m%d-%H%M%S}{SUFFIX[_dialect()]}"


def backup_daily() -> Path:
    """Tonight's backup into BACKUP_DIR; the oldest beyond BACKUP_KEEP go."""
    folder = backup_dir()
    target = backup_to(folder / daily_name())
    keep = int(current_app.config.get("BACKUP_KEEP", 14))
    daily = sorted(p for p in folder.iterdir() if NAMED.fullmatch(p.name))
    for old in daily[:-keep] if keep > 0 else []:
        old.unlink(missing_ok=True)
    return target


@periodic("core.daily_backup", crontab(hour="18", minute="40"))  # huey's clock is UTC: 02:40 in Beijing
def nightly_backup() -> None:
    log.info("backup written to %s", backup_daily())
    log.info("%d kept files copied", copy_kept_folders())


def register_cli(app: Flask) -> None:
    @app.cli.command("backup")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
                  help="备份文件；不给出时写入 BACKUP_DIR（默认 instance/backups）")
    def backup_command(output: Path | None) -> None:
        """Back the database up into one file (SQLite: a copy; PostgreSQL: pg_dump -Fc)."""
        try:
            target = backup_to(output) if output else backup_to(backup_dir() / daily_name())
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已备份到 {target}（{target.stat().st_size:,} 字节）。")

    @app.cli.command("restore")
    @click.argument("backup_file", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--force", is_flag=True, help="数据库中已有数据时也恢复（原有数据全部被替换）")
    def restore_command(backup_file: Path, force: bool) -> None:
        """Restore the database from a file written by `backup` (stop the web server and the worker first)."""
        try:
            restore_from(backup_file, force=force)
        except BackupError as error:
            raise click.ClickException(str(error)) from None
        click.echo(f"已从 {backup_file} 恢复数据库。如备份来自旧版本，请再运行 flask --app app db upgrade。")
