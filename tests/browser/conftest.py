"""Browser fixtures: a live server on SQLite with demo data, Debian's Chromium through Playwright.

Independent of the root `app` fixture: these tests always run on a temporary SQLite file, with
CSRF enabled (the real browser sends the token) and DEMO_MODE on (the demo logins).

GUANAI_SCREENSHOTS=/some/dir saves a full-page PNG per `screenshot(page)` call for a human to look at.
"""
from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from sqlalchemy import select

from app import create_app
from blueprints.auth.demo import DEMO_PASSWORD, seed_demo
from blueprints.auth.models import User
from blueprints.auth.services import end_sessions
from extensions import db
from tests.consumer import start_consumer, stop_consumer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PHONE_VIEWPORT = {"width": 360, "height": 740}


@pytest.fixture(scope="session")
def live_instance(tmp_path_factory) -> Path:
    """The live app's instance folder: its job queue (huey.db) and job files, shared with the consumer."""
    return tmp_path_factory.mktemp("browser-instance")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory, live_instance):
    db_path = tmp_path_factory.mktemp("browser-db") / "guanai-browser.db"
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
        "INSTANCE_PATH": str(live_instance),
        "HUEY_IMMEDIATE": False,  # jobs go to a real consumer (live_consumer), as in production
        "DEMO_MODE": True,
        # WTF_CSRF_ENABLED is left at its default (on): the browser sends the token.
    })
    with app.app_context():
        upgrade()
        seed_demo(app.config["ORG_NAME"])
        db.session.commit()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()  # close pooled SQLite connections: no ResourceWarning at exit


@pytest.fixture(scope="session")
def live_server(live_app):
    """The base URL of the app served by werkzeug in a daemon thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_consumer(live_app, live_instance):
    """A huey consumer process (worker.py) on the live app's database and queue."""
    process = start_consumer(live_app.config["SQLALCHEMY_DATABASE_URI"], live_instance,
                             live_instance / "consumer.log")
    yield process
    stop_consumer(process)


@pytest.fixture(scope="session")
def playwright_instance():
    pw = sync_playwright().start()
    yield pw
    pw.stop()


@pytest.fixture(scope="session")
def browser(playwright_instance):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's package (apt-get install -y chromium). "
            "Browser tests never skip.",
            pytrace=False,
        )
    try:
        browser = playwright_instance.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
    except Exception as exc:  # a launch failure must fail the run loudly, not skip
        pytest.fail(f"Chromium at {CHROMIUM} did not start: {exc}", pytrace=False)
    yield browser
    browser.close()


@pytest.fixture
def phone_context(browser, live_server):
    context = browser.new_context(
        viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=live_server
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


@pytest.fixture
def phone(phone_context):
    """A page in a fresh 360×740 zh-CN context (no cookies, no service worker)."""
    return phone_context.new_page()


@pytest.fixture
def screenshot(request):
    """screenshot(page, suffix="") saves a full-page PNG under $GUANAI_SCREENSHOTS; no-op when unset."""
    target = os.environ.get("GUANAI_SCREENSHOTS")

    def take(page, suffix: str = "") -> Path | None:
        if not target:
            return None
        directory = Path(target)
        directory.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name).strip("_") + (f"-{suffix}" if suffix else "")
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def end_sessions_on_server(live_app, username: str) -> None:
    """End the user's sessions as the server does (expiry, a password change, an administrator).
    Not by dropping the browser's cookie: a response already on its way sets the cookie again."""
    with live_app.app_context():
        end_sessions(db.session.scalar(select(User).where(User.username == username)), "test")
        db.session.commit()
        db.session.remove()


def fill_login_form(page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()


@pytest.fixture
def login():
    """login(page, username, password=DEMO_PASSWORD): sign in through the real form at /login
    (a boosted POST, then the 303 to the home page) and wait for the signed-in menu."""

    def sign_in(page, username: str, password: str = DEMO_PASSWORD) -> None:
        fill_login_form(page, username, password)
        expect(page.locator("nav.mainnav")).to_be_visible()

    return sign_in


# Shared by the offline tests and tests/browser/bench_offline.py.
# Resolves true once a service worker controls the page and has stored every offline page.
PAGES_STORED = """async (paths) => {
  if (!navigator.serviceWorker || !navigator.serviceWorker.controller) return false;
  const name = (await caches.keys()).find((key) => key.startsWith("guanai-pages-"));
  if (!name) return false;
  const stored = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
  return paths.every((path) => stored.includes(path));
}"""

def wait_until(page, source: str, arg=None, timeout: float = 10_000) -> None:
    """Wait until the JS function `source` of `arg` (sync or async) answers truthy. Polled from here:
    wait_for_function does not await a Promise, and turning a string into code inside the page is
    eval, which the Content-Security-Policy refuses (page.evaluate is not, it goes through DevTools)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        try:
            if page.evaluate(source, arg):
                return
        except PlaywrightError:
            pass  # a rejected promise, or a page between two loads: not yet
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} ms: {source[:120]}")
        page.wait_for_timeout(50)
