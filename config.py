"""Configuration, read from the environment.

DATABASE_URL   SQLAlchemy URL; default SQLite at instance/guanai.db
SECRET_KEY     session signing key; default: generated once into instance/secret_key (mode 0600)
ORG_NAME       the township shown on every page and printed document (default 拳铺镇)
GUANAI_DEMO    1/true: demo mode (demo data and the demo logins are allowed)
HUEY_URL       Redis URL for the background-job queue (or REDIS_URL); default SQLite instance/huey.db
HUEY_IMMEDIATE 1/true: run background jobs in the web process at once (tests only)
JOB_STORAGE_DIR   job files and uploads; default instance/jobs (share it when several servers run)
JOB_FILES_DAYS    days job files and uploads are kept (default 7): they hold names and ID numbers
FORM_TOKENS_DAYS  days a creating form's token is kept against a second sending (default 7)
JOB_MAX_ACTIVE_PER_USER  background jobs one user may have queued or running at once (default 2)
PHOTO_DIR      activity photos (blueprints/volunteers/photos.py); default instance/photos (share it
               when several servers run, and back it up with the database)
BACKUP_DIR     where the daily backup and `flask backup` write; default instance/backups
BACKUP_KEEP    daily backups kept in BACKUP_DIR (default 14)
PG_BIN_DIR     folder of pg_dump/pg_restore; default /usr/lib/postgresql/<server major>/bin, then PATH
TRUSTED_PROXIES   number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host
                  are believed (default 0: none, the headers are ignored); 1 behind one nginx
                  (scripts/serve.sh sets 1 itself when gunicorn listens on loopback)
SESSION_COOKIE_SECURE  1/true: the session cookie goes over HTTPS only (set it in production)
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

    # Sessions end after 8 hours without a request, checked on the server from user_sessions.last_seen_at
    # (auth/services.py), which is written at most once per SESSION_TOUCH_INTERVAL, not on every request.
    SESSION_IDLE_TIMEOUT = timedelta(hours=8)
    SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
    PERMANENT_SESSION_LIFETIME = SESSION_IDLE_TIMEOUT  # the cookie lives no longer than the session
    SESSION_REFRESH_EACH_REQUEST = True
    # A session's row (its address and browser) is kept this long after it ended, for an inquiry into
    # who signed in from where, then deleted by the daily auth.prune_sessions.
    SESSION_RECORD_DAYS = 90
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_flag("SESSION_COOKIE_SECURE")
    REMEMBER_COOKIE_DURATION = timedelta(0)

    # Login throttle, counted in the database (login_failures) so that it holds across worker processes:
    # LOGIN_MAX_FAILURES failures for one account from one client address within LOGIN_LOCKOUT pause that
    # address for that account only (the owner still signs in from elsewhere); LOGIN_ADDRESS_MAX_FAILURES
    # failures from one address across all accounts pause that address for every account (spraying).
    LOGIN_MAX_FAILURES = 5
    LOGIN_ADDRESS_MAX_FAILURES = 30
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
    FORM_TOKENS_DAYS = int(os.environ.get("FORM_TOKENS_DAYS", "7"))
    JOB_MAX_ACTIVE_PER_USER = int(os.environ.get("JOB_MAX_ACTIVE_PER_USER", "2"))

    # A child's archive prints this many months of visits in full, the years before as a summary;
    # a child visited more often, the months of its newest ARCHIVE_VISITS_FULL_MOST visits only
    # (weekly visits for two years print in full; daily ones would take seconds, over the budget).
    ARCHIVE_VISITS_FULL_MONTHS = 24
    ARCHIVE_VISITS_FULL_MOST = 120

    # Activity photos (blueprints/volunteers/photos.py): kept outside the database, re-encoded as JPEG
    # without metadata. The phone sends at most 300 KB; the server refuses a file over
    # PHOTO_MAX_UPLOAD_BYTES (with a message naming the photo, within MAX_CONTENT_LENGTH) and an image
    # over PHOTO_MAX_PIXELS before decoding it (a small file can unpack into gigabytes).
    PHOTO_DIR = os.environ.get("PHOTO_DIR") or None  # None: <instance>/photos
    PHOTO_MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    PHOTO_MAX_PIXELS = 50_000_000

    # Backups (blueprints/core/backup.py): `flask backup`, `flask restore`, and one every night.
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or None  # None: <instance>/backups
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))
    PG_BIN_DIR = os.environ.get("PG_BIN_DIR") or None

    # Request sizes (blueprints/core/security.py): a survey upload (children/excel_routes.py refuses a
    # file over IMPORT_MAX_UPLOAD_BYTES) plus 1 MB for its multipart wrapping (boundaries, the other
    # fields, the CSRF token); every other request is a form or the outbox's JSON, a few KB.
    # nginx's client_max_body_size (README) is MAX_CONTENT_LENGTH: 21m.
    IMPORT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
    MAX_CONTENT_LENGTH = IMPORT_MAX_UPLOAD_BYTES + 1024 * 1024
    MAX_BODY_BYTES = 256 * 1024

    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0"))

    # Workbook imports (blueprints/core/workbook.py: the survey, the volunteer roster): a bigger file
    # is refused before it is parsed, so that a hostile workbook (a million blank rows, a zip bomb)
    # cannot keep a worker busy.
    IMPORT_MAX_ROWS = 5000  # rows (children, volunteers) in one file
    IMPORT_MAX_UNCOMPRESSED = 50 * 1024 * 1024  # bytes of the unpacked xlsx package

    ASSETS_DEBUG = False
    ASSETS_AUTO_BUILD = True

    @classmethod
    def secret_key(cls) -> str:
        return os.environ.get("SECRET_KEY") or instance_secret_key(Path(cls.INSTANCE_DIR))
