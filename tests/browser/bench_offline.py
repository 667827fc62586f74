"""Offline budgets (CONVENTIONS.md "Budgets"), measured in Debian's Chromium at 360×740.

Run by hand: `.venv/bin/python -m tests.browser.bench_offline` (not collected by pytest: no test_ prefix).

1. First load of /visits/new, signed in, with an empty browser cache and no service worker: every
   response the page loads (HTML, CSS, JS, htmx, and the due list its script fetches), each body
   gzipped at level 6 as a server would send it. Budget ≤ 100 KB. Also shown: the one-time cost of
   the offline set-up (the worker, its precache, the four offline pages it keeps).
2. Offline reload of /visits/new under the service worker: bytes that went over the network.
   Budget 0.
3. Sync of 100 visits queued offline through the page's own outbox (window.guanaiOutbox): time from
   the `online` event to an empty outbox, and the rows that reached the database. Budget < 5 s.
4. The same for 100 activities a volunteer logged offline (POST /api/v1/pairing-activities), spread
   over her four paired children. Budget < 5 s.
"""
from __future__ import annotations

import gzip
import tempfile
import threading
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from uuid import uuid4

from flask_migrate import upgrade
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app import create_app
from blueprints.auth.demo import DEMO_PASSWORD, seed_demo
from blueprints.places.models import Village
from blueprints.children.models import Child
from blueprints.children.services import create_child
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from extensions import db
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PAGES_STORED, PHONE_VIEWPORT, wait_until
from blueprints.volunteers.models import PairingActivity
from tests.factories import PASSWORD, create_pairing, create_user, create_volunteer, valid_id_number

FIRST_LOAD_BUDGET = 100 * 1024
SYNC_BUDGET_S = 5.0
SYNC_ITEMS = 100
OFFLINE_PAGES = ["/visits/due", "/visits/new", "/visits/contact", "/outbox"]



QUEUE = """({items}) => Promise.all(items.map((item) => window.guanaiOutbox.put(item)))"""

# Sets window.__syncMs to the milliseconds from the `online` event to an empty outbox.
TIME_SYNC = """() => {
  window.addEventListener("online", () => {
    const start = performance.now();
    const poll = async () => {
      if ((await window.guanaiOutbox.all()).length === 0) window.__syncMs = performance.now() - start;
      else setTimeout(poll, 10);
    };
    poll();
  }, {once: true});
}"""


def gz(body: bytes) -> int:
    return len(gzip.compress(body, compresslevel=6))


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def make_live_app(tmp: Path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "bench-offline-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench-offline.db'}",
        "DEMO_MODE": True,
    })
    with app.app_context():
        upgrade()
        seed_demo(app.config["ORG_NAME"])
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        kids = []
        for i, name in enumerate(["周一", "吴二", "郑三", "王四", "冯五", "陈六", "褚七", "卫八"]):
            born = date(2012 + i % 5, 1 + i, 10)
            child = create_child(
                dict(name=name, residence_village_id=village.id, birth_date=born, gender="male",
                     id_number=valid_id_number(born, 700 + i), status="active", attention_level="general"),
                ["left_behind"], [], actor=None,
            )
            db.session.flush()
            kids.append(child.id)
        db.session.commit()
        volunteer = create_volunteer(create_user("volunteer", username="bench_aixin", volunteer_kind="caring_mother"),
                                     name="周桂兰", capacity=4)
        pairings = [create_pairing(db.session.get(Child, child_id), volunteer, started_on=date(2025, 9, 1)).id
                    for child_id in kids[:4]]
        db.session.remove()
    return app, kids, pairings


def login(page, username: str = "zhuren1", password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.locator("nav.mainnav")).to_be_visible()


def first_load(browser, base: str) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    """(what /visits/new loads, the offline set-up's one-time downloads): (path, raw, gzip) each."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=base, service_workers="block")
    page = context.new_page()
    login(page)
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.clearBrowserCache")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto("/visits/new")
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    page.wait_for_load_state("networkidle")
    loaded, seen = [], set()
    for response in responses:
        path = urlsplit(response.url).path
        if response.status >= 300 or path in seen:  # the icon twice: once with a cache, not here
            continue
        seen.add(path)
        body = response.body()
        loaded.append((path, len(body), gz(body)))
    # The offline set-up, once per phone (and per deploy): the worker, its precache, the kept pages.
    worker = page.request.get("/sw.js").body()
    setup = [("/sw.js", len(worker), gz(worker))]
    shell = page.evaluate("""async () => {
      const text = await (await fetch("/sw.js")).text();
      return JSON.parse(text.match(/const SHELL_URLS = (\\[.*?\\]);/)[1]);
    }""")
    for path in [*shell, *OFFLINE_PAGES]:
        body = page.request.get(path).body()
        setup.append((path, len(body), gz(body)))
    context.close()
    return loaded, setup


def offline_reload_and_sync(browser, base: str, live_app, kids) -> dict:
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=base)
    page = context.new_page()
    login(page)
    page.goto("/visits/due")
    wait_until(page, PAGES_STORED, OFFLINE_PAGES, timeout=15_000)
    page.goto("/visits/new")
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)

    # 2. Offline reload: whatever does not come from the service worker went over the network.
    context.set_offline(True)
    seen, failed = [], []
    page.on("requestfinished", lambda request: seen.append(request))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.reload()
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    page.wait_for_load_state("load")
    network_bytes, from_worker = 0, 0
    for request in seen:
        response = request.response()
        if response is not None and response.from_service_worker:
            from_worker += 1
        else:
            sizes = request.sizes()
            network_bytes += sizes["responseBodySize"] + sizes["responseHeadersSize"]
    result = {"reload_requests": len(seen), "reload_from_worker": from_worker,
              "reload_network_bytes": network_bytes, "reload_failed": failed}

    # 3. Sync of 100 queued visits.
    today = local_today().isoformat()
    user = page.evaluate("window.GuanaiSession.user()")
    items = []
    for i in range(SYNC_ITEMS):
        uuid = str(uuid4())
        stamp = f"2026-01-01T00:00:{i % 60:02d}.{i:03d}Z"
        items.append({
            "uuid": uuid, "url": "/api/v1/visits", "kind": "visit", "form": "/visits/new", "user": user,
            "label": f"走访 {i}", "tries": 0, "last_error": None, "errors": None, "status": "pending",
            "created_at": stamp,
            "body": {"client_uuid": uuid, "child_id": kids[i % len(kids)], "visited_on": today, "kind": "home",
                     "needs": ["education"] if i % 3 == 0 else [], "living_conditions": "与祖父母同住" * 3,
                     "hazard_water": i % 4 == 0, "recorded_at": stamp},
        })
    page.evaluate(QUEUE, {"items": items})
    assert page.evaluate("window.guanaiOutbox.all().then((all) => all.length)") == SYNC_ITEMS
    page.evaluate(TIME_SYNC)
    context.set_offline(False)
    result["sync_ms"] = page.wait_for_function("() => window.__syncMs", timeout=60_000).json_value()
    with live_app.app_context():
        result["sync_rows"] = db.session.scalar(
            select(func.count()).select_from(Visit).where(Visit.client_uuid.in_([i["uuid"] for i in items])))
        db.session.remove()
    context.close()
    return result


def activity_sync(browser, base: str, live_app, pairings) -> dict:
    """100 activities queued offline by a volunteer, sent when the network returns."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=base)
    page = context.new_page()
    login(page, "bench_aixin", PASSWORD)
    page.goto("/my/log")
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    context.set_offline(True)
    today = local_today().isoformat()
    user = page.evaluate("window.GuanaiSession.user()")
    items = []
    for i in range(SYNC_ITEMS):
        uuid = str(uuid4())
        stamp = f"2026-01-01T00:00:{i % 60:02d}.{i:03d}Z"
        items.append({
            "uuid": uuid, "url": "/api/v1/pairing-activities", "kind": "activity", "form": "/my/log", "user": user,
            "label": f"活动 {i}", "tries": 0, "last_error": None, "errors": None, "status": "pending",
            "field": "pairing_id", "created_at": stamp,
            "body": {"client_uuid": uuid, "pairing_id": pairings[i % len(pairings)], "done_on": today, "minutes": 30 + i,
                     "kind": "tutoring", "note": "辅导作业，一起读绘本" * 3, "mood": "开心", "recorded_at": stamp},
        })
    page.evaluate(QUEUE, {"items": items})
    assert page.evaluate("window.guanaiOutbox.all().then((all) => all.length)") == SYNC_ITEMS
    page.evaluate(TIME_SYNC)
    context.set_offline(False)
    result = {"sync_ms": page.wait_for_function("() => window.__syncMs", timeout=60_000).json_value()}
    with live_app.app_context():
        result["sync_rows"] = db.session.scalar(select(func.count()).select_from(PairingActivity).where(
            PairingActivity.client_uuid.in_([i["uuid"] for i in items])))
        db.session.remove()
    context.close()
    return result


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        live_app, kids, pairings = make_live_app(Path(tmp))
        server = make_server("127.0.0.1", 0, live_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
                try:
                    loaded, setup = first_load(browser, base)
                    offline = offline_reload_and_sync(browser, base, live_app, kids)
                    activities = activity_sync(browser, base, live_app, pairings)
                finally:
                    browser.close()
        finally:
            server.shutdown()
            server.server_close()
            with live_app.app_context():
                db.engine.dispose()

    ok = True
    print("1. First load of /visits/new (signed in, empty cache, no service worker), gzip -6:")
    for path, raw, packed in loaded:
        print(f"   {path:<40} {kb(raw):>10} raw {kb(packed):>9} gzip")
    total = sum(p for _, _, p in loaded)
    verdict = total <= FIRST_LOAD_BUDGET
    ok &= verdict
    print(f"   total {kb(total)} gzip in {len(loaded)} responses (budget ≤ {kb(FIRST_LOAD_BUDGET)}): {'ok' if verdict else 'OVER'}")
    setup_total = sum(p for _, _, p in setup)
    print(f"   once per phone and deploy, the offline set-up: {kb(setup_total)} gzip "
          f"(sw.js, precache of {len(setup) - 1 - len(OFFLINE_PAGES)} shell files, {len(OFFLINE_PAGES)} offline pages)")

    print("2. Offline reload of /visits/new:")
    verdict = offline["reload_network_bytes"] == 0 and not offline["reload_failed"]
    ok &= verdict
    print(f"   {offline['reload_requests']} requests, {offline['reload_from_worker']} answered by the service worker, "
          f"{offline['reload_network_bytes']} bytes over the network, {len(offline['reload_failed'])} failed "
          f"(budget 0 bytes): {'ok' if verdict else 'OVER'}")

    print(f"3. Sync of {SYNC_ITEMS} visits queued offline:")
    seconds = offline["sync_ms"] / 1000
    verdict = seconds < SYNC_BUDGET_S and offline["sync_rows"] == SYNC_ITEMS
    ok &= verdict
    print(f"   {seconds:.2f} s from `online` to an empty outbox, {offline['sync_rows']} rows stored "
          f"(budget < {SYNC_BUDGET_S:.0f} s): {'ok' if verdict else 'OVER'}")

    print(f"4. Sync of {SYNC_ITEMS} activities a volunteer queued offline:")
    seconds = activities["sync_ms"] / 1000
    verdict = seconds < SYNC_BUDGET_S and activities["sync_rows"] == SYNC_ITEMS
    ok &= verdict
    print(f"   {seconds:.2f} s from `online` to an empty outbox, {activities['sync_rows']} rows stored "
          f"(budget < {SYNC_BUDGET_S:.0f} s): {'ok' if verdict else 'OVER'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
