#!/usr/bin/env bash
# `make run`: migrate, add the demo data (demo mode), print the URL and the logins, serve.
set -euo pipefail
cd "$(dirname "$0")/.."
export GUANAI_DEMO=${GUANAI_DEMO:-1}
flask=(.venv/bin/flask --app app)
"${flask[@]}" db upgrade
if [ "$GUANAI_DEMO" = "1" ] || [ "$GUANAI_DEMO" = "true" ]; then
  "${flask[@]}" seed-demo  # prints the demo logins
fi
port=${PORT:-5000}
echo
echo "关爱通已启动：http://127.0.0.1:$port"
echo
exec "${flask[@]}" run --host 127.0.0.1 --port "$port"
