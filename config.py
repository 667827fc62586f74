"""Configuration, read from the environment.

DATABASE_URL   SQLAlchemy URL; default SQLite at instance/guanai.db
SECRET_KEY     session signing key; default: generated once into instance/secret_key (mode 0600)
ORG_NAME       the township shown on every page and printed document (default 拳铺镇)
GUANAI_DEMO    1/true: demo mode (demo data and the demo logins are allowed)
HUEY_URL       Redis URL for the background-job queue (or REDIS_URL); default SQLite instance/huey.db
HUEY_IMMEDIATE 1/true: run background jobs in the web process at once (tests only)
JOB_STORAGE_DIR   job files and uploads; default instance/jobs (share it when several servers run)
JOB_FILES_DAYS    days job files and uploads are kept (default 7): they hold names and ID numbers
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def instance_secret_key(instance_dir: Path) -> str:
    """The key generated on first start and kept in instance/, readable by the owner only."""
    path = instance_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


class Config:
    INSTANCE_DIR = Path(os.environ.get("GUANAI_INSTANCE_DIR", BASE_DIR / "instance"))
    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'guanai.db'}"
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    ORG_NAME = os.environ.get("ORG_NAME", "拳铺镇")
    DEMO_MODE = env_flag("GUANAI_DEMO")
    TIMEZONE = "Asia/Shanghai"

    # Sessions end after 8 hours without a request (checked server-side too, see auth).
    SESSION_IDLE_TIMEOUT = timedelta(hours=8)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_REFRESH_EACH_REQUEST = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(0)

    # Login lockout: counted in the database so that it holds across worker processes.
    LOGIN_MAX_FAILURES = 5
    LOGIN_LOCKOUT = timedelta(minutes=15)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    WTF_CSRF_HEADERS = ["X-CSRFToken"]
    WTF_I18N_ENABLED = False  # use WTForms' bundled Chinese messages (Meta.locales), not Flask-Babel

    # Visit cadence by attention level, in months (DOMAIN.md: key monthly, others quarterly).
    VISIT_CADENCE_MONTHS = {"key": 1, "general": 3}

    # Background jobs (blueprints/core/jobs.py, worker.py).
    HUEY_URL = os.environ.get("HUEY_URL") or None
    REDIS_URL = os.environ.get("REDIS_URL") or None
    HUEY_IMMEDIATE = env_flag("HUEY_IMMEDIATE")
    JOB_STORAGE_DIR = os.environ.get("JOB_STORAGE_DIR") or None  # None: <instance>/jobs
    JOB_FILES_DAYS = int(os.environ.get("JOB_FILES_DAYS", "7"))

    # Survey imports (blueprints/children/excel.py): a bigger file is refused before it is parsed,
    # so that a hostile workbook (a million blank rows, a zip bomb) cannot keep a worker busy.
    IMPORT_MAX_ROWS = 5000  # children in one file
    IMPORT_MAX_UNCOMPRESSED = 50 * 1024 * 1024  # bytes of the unpacked xlsx package

    ASSETS_DEBUG = False
    ASSETS_AUTO_BUILD = True

    @classmethod
    def secret_key(cls) -> str:
        return os.environ.get("SECRET_KEY") or instance_secret_key(Path(cls.INSTANCE_DIR))
