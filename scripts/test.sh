#!/usr/bin/env bash
# `make test`: the whole suite in three parts, each of which must pass with nothing skipped:
#   1. unit and integration tests on SQLite
#   2. the same tests on a throw-away PostgreSQL 15 server started here and stopped afterwards
#   3. browser tests in Debian's Chromium (Playwright, executable_path)
# Extra arguments go to every pytest run (e.g. `make test ARGS="-k login"`).
set -uo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
results=$(mktemp -d)
pgdir=$(mktemp -d)
trap 'scripts/throwaway-postgres.sh stop "$pgdir"; rm -rf "$results"' EXIT

status=0
run_part() {  # name, then pytest arguments
  local name=$1; shift
  echo
  echo "=== $name ==="
  if ! "$py" -m pytest -p no:cacheprovider --junitxml="$results/$name.xml" "$@"; then
    echo "*** $name: FAILED"
    status=1
  fi
}

run_part sqlite tests --ignore=tests/browser ${ARGS:-}

if pg_url=$(scripts/throwaway-postgres.sh start "$pgdir"); then
  GUANAI_TEST_DATABASE_URL=$pg_url run_part postgresql tests --ignore=tests/browser ${ARGS:-}
else
  echo "*** postgresql: could not start the throw-away server:"; cat "$pgdir"/*.log 2>/dev/null
  status=1
fi

run_part browser tests/browser ${ARGS:-}

"$py" scripts/test_summary.py "$results" || status=1
exit $status
