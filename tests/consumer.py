"""A real huey consumer in a subprocess (worker.py), for tests/test_jobs.py and the browser tests.

It builds the app from the environment as `make run` does: the test's database and instance
folder, so it reads the same SQLite queue (instance/huey.db) and writes to the same jobs folder."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def start_consumer(database_url: str, instance_dir: Path, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items()
           if k not in ("HUEY_URL", "REDIS_URL", "HUEY_IMMEDIATE", "JOB_STORAGE_DIR", "DATABASE_URL")}
    env.update(DATABASE_URL=database_url, GUANAI_INSTANCE_DIR=str(instance_dir), SECRET_KEY="consumer-test-key",
               GUANAI_DEMO="0")
    log = open(log_path, "ab")
    try:
        # A session of its own: its process group holds the printing's worker processes too.
        return subprocess.Popen(
            [sys.executable, "-m", "huey.bin.huey_consumer", "worker.huey", "-w", "1", "-m", "0.3"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    finally:
        log.close()


def stop_consumer(process: subprocess.Popen) -> None:
    """Stop it and whatever it started (by its process group, which it leads)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    try:
        os.killpg(process.pid, signal.SIGKILL)  # orphaned printing workers of a killed consumer
    except ProcessLookupError:
        pass


def wait_until(predicate, timeout: float = 60, step: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
