# Sourced by run.sh and serve.sh: the huey consumer runs beside the web server, and the two stop
# together (Ctrl-C, INT/TERM from a supervisor, or either of them ending).
#   start_consumer WORKERS; <start the server> &; server=$!; trap stop_both INT TERM EXIT; wait_first

start_consumer() {
  # -m 2: a new job is picked up within 2 s (huey's default backs off to 10 s).
  .venv/bin/huey_consumer worker.huey -w "${1:-1}" -m 2 &
  consumer=$!
}

stop_both() {
  trap - INT TERM EXIT
  kill "$server" "$consumer" 2>/dev/null || true
  wait "$server" "$consumer" 2>/dev/null || true
}

wait_first() {  # returns the status of the first to stop; the EXIT trap then stops the other
  local status=0
  wait -n "$server" "$consumer" || status=$?
  return "$status"
}
