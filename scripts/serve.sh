#!/usr/bin/env bash
# `make serve`: production serving. Migrate, then the huey consumer (background jobs) beside
# gunicorn; when gunicorn stops (or this script gets INT/TERM, e.g. from systemd) the consumer is
# stopped too, and the other way round: a supervisor then restarts the pair.
#
#   BIND             where gunicorn listens (default 127.0.0.1:8000: behind nginx on the same host)
#   WEB_CONCURRENCY  gunicorn worker processes (default 2)
#   HUEY_WORKERS     consumer workers (default 1; batch printing uses several processes of its own)
#   DATABASE_URL, SECRET_KEY, SESSION_COOKIE_SECURE, TRUSTED_PROXIES, ...: see config.py and README.md
#
# No SECRET_KEY is needed on a single server: the migration below creates the app first, which
# writes instance/secret_key once, before any worker starts; it stays the same across restarts.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv

case "${DATABASE_URL:-}" in
  postgresql*) ;;
  *) echo "警告：DATABASE_URL 未指向 PostgreSQL，正在使用 SQLite（${DATABASE_URL:-instance/guanai.db}）。正式使用请配置 PostgreSQL。" >&2 ;;
esac

"$venv/bin/flask" --app app db upgrade

. scripts/beside.sh
start_consumer "${HUEY_WORKERS:-1}"
# Forwarded headers are believed by the app alone (ProxyFix, TRUSTED_PROXIES): gunicorn would
# otherwise take X-Forwarded-Proto from any local client as HTTPS.
"$venv/bin/gunicorn" --workers "${WEB_CONCURRENCY:-2}" --bind "${BIND:-127.0.0.1:8000}" \
  --forwarded-allow-ips "" --timeout 60 --access-logfile - 'app:create_app()' &
server=$!
trap stop_both INT TERM EXIT

status=0
wait_first || status=$?
exit "$status"
