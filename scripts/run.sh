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

. scripts/beside.sh
start_consumer 1
"${flask[@]}" run --host 127.0.0.1 --port "$port" &
server=$!
trap stop_both INT TERM EXIT

echo
echo "关爱通已启动：http://127.0.0.1:$port （后台任务程序已在旁运行）"
echo
wait_first || true
