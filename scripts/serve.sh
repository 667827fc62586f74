#!/usr/bin/env bash
# `make serve`: production serving. Migrate, then the huey consumer (background jobs) beside
# gunicorn; when gunicorn stops (or this script gets INT/TERM, e.g. from systemd) the consumer is
# stopped too, and the other way round: a supervisor then restarts the pair.
#
#   BIND             where gunicorn listens (default 127.0.0.1:8000: behind nginx on the same host)
#   WEB_CONCURRENCY  gunicorn worker processes (default 2)
#   HUEY_WORKERS     consumer workers (default 1; batch printing uses several processes of its own)
#   TRUSTED_PROXIES  default 1 when BIND is loopback (nginx in front), else 0; see below
#   DATABASE_URL, SECRET_KEY, SESSION_COOKIE_SECURE, ...: see config.py and README.md
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

bind="${BIND:-127.0.0.1:8000}"
# Listening on loopback (or a unix socket) means a proxy on this host, nginx, sends every request:
# without believing its X-Forwarded-For every client is 127.0.0.1, and 30 wrong passwords from
# anyone would pause sign-in for the whole township (LOGIN_ADDRESS_MAX_FAILURES). Listening on a
# public address, clients connect directly and a forwarded header is anyone's to forge: keep 0.
if [ -z "${TRUSTED_PROXIES:-}" ]; then
  case "$bind" in
    127.*|localhost|localhost:*|"[::1]"*|unix:*)
      export TRUSTED_PROXIES=1
      echo "TRUSTED_PROXIES=1：只监听本机（$bind），按本机 nginx 转发处理，采用其 X-Forwarded-For 作为客户端地址。" >&2 ;;
    *)
      export TRUSTED_PROXIES=0
      echo "TRUSTED_PROXIES=0：监听 $bind，客户端直接连接，不采用 X-Forwarded-* 头。前面有代理时请设置 TRUSTED_PROXIES。" >&2 ;;
  esac
else
  echo "TRUSTED_PROXIES=$TRUSTED_PROXIES（已设置）。" >&2
fi

"$venv/bin/flask" --app app db upgrade

. scripts/beside.sh
start_consumer "${HUEY_WORKERS:-1}"
# Forwarded headers are believed by the app alone (ProxyFix, TRUSTED_PROXIES): gunicorn would
# otherwise take X-Forwarded-Proto from any local client as HTTPS.
"$venv/bin/gunicorn" --workers "${WEB_CONCURRENCY:-2}" --bind "$bind" \
  --forwarded-allow-ips "" --timeout 60 --access-logfile - 'app:create_app()' &
server=$!
trap stop_both INT TERM EXIT

status=0
wait_first || status=$?
exit "$status"
