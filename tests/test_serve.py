"""scripts/serve.sh (`make serve`): migrates, serves with gunicorn beside the huey consumer, and
stops both when it is stopped."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def group_members(pgid: int) -> list[str]:
    """The command lines of the live processes in a process group (from /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):
            continue  # gone meanwhile
    return members


def get(url: str, headers: dict | None = None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5) as response:
        return response.status, response.headers, response.read()


def test_serve_script_runs_gunicorn_and_the_consumer_and_stops_both(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "HUEY_URL", "REDIS_URL", "HUEY_IMMEDIATE", "JOB_STORAGE_DIR",
                        "SECRET_KEY", "TRUSTED_PROXIES", "GUANAI_DEMO")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/guanai.db", GUANAI_INSTANCE_DIR=str(tmp_path / "instance"),
               BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen([str(ROOT / "scripts/serve.sh")], cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 45  # about 5 s on an idle machine; far more under load
        while True:
            try:
                status, _, body = get(f"{base}/healthz")
                break
            except OSError:
                assert process.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        assert status == 200 and b'"ok"' in body
        assert "SQLite" in log_path.read_text()  # warned: production wants PostgreSQL
        assert (tmp_path / "instance" / "secret_key").stat().st_mode & 0o777 == 0o600  # one key for every worker

        # Bound to loopback with TRUSTED_PROXIES unset: nginx on this host is believed (one proxy),
        # else every client would be 127.0.0.1 to the login throttle.
        assert "TRUSTED_PROXIES=1：只监听本机" in log_path.read_text()
        status, headers, body = get(f"{base}/login")
        assert status == 200 and "登录".encode() in body
        assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';")
        assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store"
        assert "Strict-Transport-Security" not in headers
        _, headers, _ = get(f"{base}/login", {"X-Forwarded-Proto": "https"})
        assert headers["Strict-Transport-Security"].startswith("max-age=")

        members = group_members(process.pid)
        assert any("gunicorn" in m for m in members) and any("huey_consumer" in m for m in members), members

        process.send_signal(signal.SIGTERM)  # as systemd stops it
        process.wait(timeout=15)
        deadline = time.monotonic() + 10
        while group_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert group_members(process.pid) == []  # gunicorn and the consumer stopped with it
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
