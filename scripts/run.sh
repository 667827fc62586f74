#!/usr/bin/env bash
# `make run`: migrate, add the demo data (demo mode), print the URL and the logins, serve.
# The huey consumer (background jobs: batch printing, big imports) runs beside the web server;
# Ctrl-C, or either of them stopping, stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
export GUANAI_DEMO=${GUANAI_DEMO:-1}
flask=(.venv/bin/flask --app app)
"${flask[@]}" db upgrade
if [ "$GUANAI_DEMO" = "1" ] || [ "$GUANAI_DEMO" = "true" ]; then
  "${flask[@]}" seed-demo  # prints the demo logins
fi
port=${PORT:-5000}

# -m 2: a new job is picked up within 2 s (huey's default backs off to 10 s).
.venv/bin/huey_consumer worker.huey -w 1 -m 2 &
consumer=$!
"${flask[@]}" run --host 127.0.0.1 --port "$port" &
server=$!

stop() {
  trap - INT TERM EXIT
  kill "$server" "$consumer" 2>/dev/null || true
  wait "$server" "$consumer" 2>/dev/null || true
}
trap stop INT TERM EXIT

echo
echo "关爱通已启动：http://127.0.0.1:$port （后台任务程序已在旁运行）"
echo
wait -n "$server" "$consumer" || true  # the first to stop ends the other
