#!/usr/bin/env bash
# `make bench`: budgets from CONVENTIONS.md, measured on SQLite and on a throw-away PostgreSQL 15.
# Prints medians; writes bench-results/latest.json. CHILDREN=20000 REPEAT=30 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
pgdir=$(mktemp -d)
work=$(mktemp -d)
trap 'scripts/throwaway-postgres.sh stop "$pgdir"; rm -rf "$work"' EXIT
pg_url=$(scripts/throwaway-postgres.sh start "$pgdir")
mkdir -p bench-results
.venv/bin/python bench/run.py --children "${CHILDREN:-20000}" --repeat "${REPEAT:-30}" \
  --database "sqlite:///$work/bench.db" --database "$pg_url" --json bench-results/latest.json
# the phone: bytes of the first load and of an offline reload, time to sync 100 queued visits
.venv/bin/python -m tests.browser.bench_offline
