"""Offline visits on a 360×740 phone: the outbox (static/js/outbox/, IndexedDB) and the service
worker's offline pages (templates/pwa/sw.js).

A director opens the due list online, goes offline, records visits and a parent contact, reloads,
and everything reaches the server once the network returns; a server error, an ended session and a
rejected record are kept on the phone until they can be sent; the server keeps one record per
client_uuid; pages other than the offline ones are never stored; logging out warns and clears.
"""
from __future__ import annotations

import json
import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.auth.demo import DEMO_PASSWORD
from blueprints.places.models import Village
from blueprints.children.models import Child, ParentContact
from blueprints.children.services import FamilyInput, create_child
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from extensions import db
from tests.browser.conftest import PAGES_STORED, PHONE_VIEWPORT, end_sessions_on_server, fill_login_form, wait_until
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser

OFFLINE_PAGES = ["/visits/due", "/visits/new", "/visits/contact", "/outbox"]


ALL_CACHED_URLS = """async () => {
  const out = {};
  for (const name of await caches.keys()) {
    out[name] = (await (await caches.open(name)).keys()).map((r) => new URL(r.url).pathname + new URL(r.url).search);
  }
  return out;
}"""

OUTBOX = "() => window.guanaiOutbox.all()"

CHILDREN_STORED = """() => new Promise((ok) => {
  const open = indexedDB.open("guanai");
  open.onsuccess = () => {
    const count = open.result.transaction("children").objectStore("children").count();
    count.onsuccess = () => ok(count.result);
  };
})"""



@pytest.fixture(scope="module")
def kids(live_app):
    """Children in zhuren1's village (前王庄村), name → id. 冯子轩 is not left behind: the parent-contact
    picker must not offer him."""
    specs = [
        ("周小雨", date(2015, 4, 3), "female", ["left_behind"]),
        ("吴晓峰", date(2014, 7, 19), "male", ["left_behind"]),
        ("郑佳怡", date(2017, 1, 8), "female", ["left_behind", "poverty"]),
        ("冯子轩", date(2013, 11, 30), "male", ["poverty"]),
        ("韩雪", date(2016, 2, 14), "female", ["left_behind"]),
        ("曹宇航", date(2012, 9, 9), "male", ["left_behind"]),
    ]
    ids = {}
    with live_app.app_context():
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        for serial, (name, born, gender, categories) in enumerate(specs, start=601):
            child = create_child(
                dict(name=name, residence_village_id=village.id, birth_date=born, gender=gender,
                     id_number=valid_id_number(born, serial, gender=gender), status="active",
                     attention_level="key" if serial % 2 else "general"),
                categories, [FamilyInput(relation="祖母", name=name[0] + "奶奶", phone="13700002222", is_guardian=True)],
                actor=None,
            )
            ids[name] = child.id
        db.session.commit()
        db.session.remove()
    return ids


def rows(live_app, model, uuids):
    with live_app.app_context():
        found = db.session.scalars(select(model).where(model.client_uuid.in_(list(uuids)))).all()
        result = [(r.client_uuid, r.child_id, getattr(r, "visited_on", None) or getattr(r, "contacted_on", None)) for r in found]
        db.session.remove()
    return result


def total_rows(live_app, model):
    with live_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
    return n


def count_rows(live_app, model, uuid):
    with live_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(model).where(model.client_uuid == uuid))
        db.session.remove()
    return n


def wait_offline_ready(page):
    """The worker controls the page and holds the four offline pages (the due page warmed them)."""
    wait_until(page, PAGES_STORED, OFFLINE_PAGES)


def open_form(page, path):
    page.goto(path)
    expect(page.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)


def save(page, button="保存走访"):
    page.get_by_role("button", name=button).click()
    notice = page.locator("[data-outbox-notice]")
    expect(notice).to_contain_text(re.compile("已保存在手机上|已上传"))
    return notice


def bar(page):
    return page.locator("[data-outbox-bar]")


def outbox_items(page):
    return page.evaluate(OUTBOX)


def wait_outbox_empty(page, timeout=10_000):
    wait_until(page, "async () => (await window.guanaiOutbox.all()).length === 0", timeout=timeout)


def test_offline_visits_are_kept_and_sent_when_the_network_returns(phone, phone_context, login, kids, live_app, screenshot):
    login(phone, "zhuren1")
    phone.goto("/visits/due")
    for name in ("周小雨", "吴晓峰", "冯子轩"):
        expect(phone.locator(".due-row").filter(has_text=name)).to_have_count(1)
    wait_offline_ready(phone)
    wait_until(phone, f"async () => (await ({CHILDREN_STORED})()) >= 6")  # for the picker offline
    screenshot(phone, "due-list")

    phone_context.set_offline(True)
    try:
        # 1. From a due-list link (?child=), on the stored form page.
        open_form(phone, f"/visits/new?child={kids['周小雨']}")
        expect(phone.locator("select[data-child-picker]")).to_have_value(str(kids["周小雨"]))
        phone.get_by_label("用电").check()
        phone.get_by_label("居住情况").fill("与祖母同住，电线老化")
        phone.get_by_label("需要关注").check()
        phone.get_by_label("联系过").check()
        phone.get_by_label("心理疏导").check()
        phone.get_by_label("教育帮扶").check()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(phone, "visit-form")
        notice = save(phone)
        expect(notice).to_contain_text("已保存在手机上，待上传")
        expect(bar(phone)).to_contain_text("待上传 1 条")
        expect(bar(phone)).to_contain_text("网络不通")
        # the form is ready for the next record: no child, a new client_uuid
        expect(phone.locator("select[data-child-picker]")).to_have_value("")
        first = outbox_items(phone)[0]
        assert phone.locator('input[name="client_uuid"]').input_value() != first["uuid"]
        body = first["body"]
        assert body["child_id"] == kids["周小雨"] and body["hazard_electric"] is True and body["hazard_gas"] is False
        assert body["parents_contacted"] is True and sorted(body["needs"]) == ["education", "psychological"]
        assert body["mental_state"] == "concern" and body["kind"] == "home" and "recorded_at" in body
        assert "csrf_token" not in body and "hazard_note" not in body  # empty fields are left out

        # 2. The same page again, the child chosen in the picker (filled from the stored due list).
        phone.locator("select[data-child-picker]").select_option(str(kids["吴晓峰"]))
        phone.get_by_label("电话访问").check()
        save(phone)
        expect(bar(phone)).to_contain_text("待上传 2 条")

        # 3. The stored due list, its 走访 link (a boosted load answered by the service worker).
        phone.goto("/visits/due")
        phone.locator(".due-row").filter(has_text="冯子轩").get_by_role("link", name="走访").click()
        expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
        expect(phone.locator("select[data-child-picker]")).to_have_value(str(kids["冯子轩"]))
        save(phone)

        # 4. A parent contact: the picker holds only children left behind.
        open_form(phone, "/visits/contact")
        picker = phone.locator("select[data-child-picker]")
        values = picker.locator("option").evaluate_all("(os) => os.map((o) => o.value)")
        assert str(kids["周小雨"]) in values and str(kids["冯子轩"]) not in values
        picker.select_option(str(kids["周小雨"]))
        phone.get_by_label("视频").check()
        phone.get_by_label("情况").fill("母亲视频，叮嘱按时写作业")
        save(phone, "保存联系记录")
        expect(bar(phone)).to_contain_text("待上传 4 条")

        # Reloading without a network: the form and the outbox are still there.
        phone.reload()
        expect(phone.get_by_role("heading", name="记录亲情联系")).to_be_visible()
        expect(bar(phone)).to_contain_text("待上传 4 条")
        phone.goto("/outbox")
        expect(phone.locator("[data-outbox-item]")).to_have_count(4)
        expect(phone.locator("[data-outbox-list]")).to_contain_text(re.compile("亲情联系 周小雨 \\d{4}-\\d{2}-\\d{2}"))
        screenshot(phone, "outbox")
        items = outbox_items(phone)
        before = total_rows(live_app, Visit), total_rows(live_app, ParentContact)
    finally:
        phone_context.set_offline(False)

    # Back online: the `online` event sends everything, nothing pressed.
    expect(bar(phone)).to_be_hidden(timeout=10_000)
    wait_outbox_empty(phone)
    expect(phone.locator("[data-outbox-list]")).to_contain_text("没有待上传的记录")
    visits = {i["uuid"] for i in items if i["kind"] == "visit"}
    contacts = {i["uuid"] for i in items if i["kind"] == "contact"}
    assert len(visits) == 3 and len(contacts) == 1
    stored = rows(live_app, Visit, visits)
    assert {r[0] for r in stored} == visits
    assert sorted(r[1] for r in stored) == sorted([kids["周小雨"], kids["吴晓峰"], kids["冯子轩"]])
    assert [r[1] for r in rows(live_app, ParentContact, contacts)] == [kids["周小雨"]]
    assert (total_rows(live_app, Visit), total_rows(live_app, ParentContact)) == (before[0] + 3, before[1] + 1)


def test_without_a_service_worker_the_open_page_still_queues_and_sends(browser, live_server, login, kids, live_app):
    """As in WeChat's in-app browser: no service worker at all (and no crypto.randomUUID, as in older
    browsers: the client_uuid then comes from crypto.getRandomValues); the open page keeps working."""
    context = browser.new_context(viewport=PHONE_VIEWPORT, locale="zh-CN", base_url=live_server, service_workers="block")
    context.add_init_script("delete Navigator.prototype.serviceWorker; delete Crypto.prototype.randomUUID")
    try:
        page = context.new_page()
        login(page, "zhuren1")
        open_form(page, f"/visits/new?child={kids['吴晓峰']}")
        assert page.evaluate("'serviceWorker' in navigator || 'randomUUID' in crypto") is False
        context.set_offline(True)
        save(page)
        expect(bar(page)).to_contain_text("待上传 1 条")
        [item] = outbox_items(page)
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", item["uuid"])
        context.set_offline(False)
        wait_outbox_empty(page)
        expect(bar(page)).to_be_hidden()
        assert count_rows(live_app, Visit, item["uuid"]) == 1
    finally:
        context.close()


def test_a_server_error_keeps_the_item_until_the_next_try(phone, login, kids, live_app):
    login(phone, "zhuren1")
    calls = []

    def fail_once(route):
        calls.append(route.request.post_data_json)
        if len(calls) == 1:
            route.fulfill(status=500, content_type="application/json", body=json.dumps({"error": "系统出错"}))
        else:
            route.continue_()

    phone.route("**/api/v1/visits", fail_once)
    open_form(phone, f"/visits/new?child={kids['郑佳怡']}")
    save(phone)
    expect(bar(phone)).to_contain_text("待上传 1 条")
    expect(bar(phone)).to_contain_text("稍后自动重试")
    [item] = outbox_items(phone)
    assert item["tries"] == 1 and "500" in item["last_error"] and item["status"] == "pending"
    assert count_rows(live_app, Visit, item["uuid"]) == 0

    bar(phone).get_by_role("button", name="立即上传").click()
    expect(bar(phone)).to_be_hidden()
    wait_outbox_empty(phone)
    assert len(calls) == 2 and calls[0]["client_uuid"] == calls[1]["client_uuid"] == item["uuid"]
    assert count_rows(live_app, Visit, item["uuid"]) == 1


def test_a_stale_csrf_token_is_renewed_once_and_the_item_sent(phone, login, kids, live_app):
    login(phone, "zhuren1")
    tokens, posts = [], []
    phone.on("request", lambda r: tokens.append(r.url) if r.url.endswith("/api/v1/csrf") else None)

    def stale_once(route):
        posts.append((route.request.headers.get("x-csrftoken"), route.request.post_data_json["client_uuid"]))
        if len(posts) == 1:
            route.fulfill(status=400, content_type="application/json",
                          body=json.dumps({"error": "页面已过期", "message": "安全校验已失效"}, ensure_ascii=False))
        else:
            route.continue_()

    phone.route("**/api/v1/parent-contacts", stale_once)
    open_form(phone, f"/visits/contact?child={kids['郑佳怡']}")
    notice = save(phone, "保存联系记录")
    expect(notice).to_contain_text("已上传")
    assert len(tokens) == 2  # a second token, fetched once
    assert len(posts) == 2 and posts[0][1] == posts[1][1] and posts[1][0]
    assert count_rows(live_app, ParentContact, posts[0][1]) == 1


def test_a_draft_survives_a_reload_and_is_cleared_once_saved(phone, login, kids):
    login(phone, "zhuren1")
    open_form(phone, "/visits/new")  # no child chosen: checked on the phone, nothing queued
    phone.get_by_role("button", name="保存走访").click()
    expect(phone.locator('[data-error-for="child_id"]')).to_have_text("请选择走访的儿童")
    expect(phone.locator("[data-form-errors]")).to_contain_text("有 1 处需要修改")
    assert outbox_items(phone) == []

    open_form(phone, f"/visits/new?child={kids['冯子轩']}")
    phone.get_by_label("健康情况").fill("最近咳嗽")
    phone.get_by_label("用火").check()
    draft_key = f"guanai-draft:visit:{kids['冯子轩']}"
    phone.wait_for_function("(key) => localStorage.getItem(key) !== null", arg=draft_key)
    phone.reload()
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    expect(phone.locator("[data-outbox-notice]")).to_contain_text("已恢复上次没有保存的内容")
    expect(phone.get_by_label("健康情况")).to_have_value("最近咳嗽")
    expect(phone.get_by_label("用火")).to_be_checked()
    expect(phone.locator("select[data-child-picker]")).to_have_value(str(kids["冯子轩"]))
    save(phone)
    assert phone.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('guanai-draft:'))") == []
    expect(phone.get_by_label("健康情况")).to_have_value("")


def test_after_the_session_ends_offline_signing_in_again_sends_by_itself(phone, phone_context, login, kids, live_app):
    login(phone, "zhuren1")
    open_form(phone, f"/visits/new?child={kids['韩雪']}")
    phone_context.set_offline(True)
    try:
        save(phone)
        expect(bar(phone)).to_contain_text("待上传 1 条")
        end_sessions_on_server(live_app, "zhuren1")  # while the phone has no network
    finally:
        phone_context.set_offline(False)

    expect(bar(phone)).to_contain_text("登录已过期，请重新登录，记录不会丢失")
    expect(bar(phone).get_by_role("link", name="重新登录")).to_have_attribute("href", re.compile("^/login"))
    [item] = outbox_items(phone)
    assert item["status"] == "pending"
    assert count_rows(live_app, Visit, item["uuid"]) == 0

    fill_login_form(phone, "zhuren1", DEMO_PASSWORD)
    expect(phone.locator("nav.mainnav")).to_be_visible()
    wait_outbox_empty(phone)  # nothing pressed: the page load after signing in sent it
    assert count_rows(live_app, Visit, item["uuid"]) == 1


def test_a_rejected_item_is_shown_fixed_and_then_stored_once(phone, login, kids, live_app, screenshot):
    login(phone, "zhuren1")
    calls = []

    def reject_once(route):
        calls.append(route.request.post_data_json)
        if len(calls) == 1:
            route.fulfill(status=422, content_type="application/json",
                          body=json.dumps({"errors": {"visited_on": "走访日期不能晚于今天"}}, ensure_ascii=False))
        else:
            route.continue_()

    phone.route("**/api/v1/visits", reject_once)
    open_form(phone, f"/visits/new?child={kids['曹宇航']}")
    phone.get_by_label("学习情况").fill("成绩中等")
    save(phone)
    expect(phone.locator("[data-outbox-notice]")).to_contain_text("服务器退回了这条记录")
    expect(bar(phone)).to_contain_text("1 条被退回需修改")
    [item] = outbox_items(phone)
    assert item["status"] == "rejected" and item["errors"] == {"visited_on": "走访日期不能晚于今天"}

    phone.goto("/outbox")
    row = phone.locator(f'[data-outbox-item="{item["uuid"]}"]')
    expect(row).to_contain_text("被退回")
    expect(row).to_contain_text("走访日期不能晚于今天")
    screenshot(phone, "rejected")
    row.get_by_role("link", name="修改").click()

    expect(phone).to_have_url(re.compile(rf"/visits/new\?outbox={item['uuid']}$"))
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    expect(phone.locator('[data-error-for="visited_on"]')).to_have_text("走访日期不能晚于今天")
    expect(phone.get_by_label("学习情况")).to_have_value("成绩中等")
    expect(phone.locator("select[data-child-picker]")).to_have_value(str(kids["曹宇航"]))
    assert phone.locator('input[name="client_uuid"]').input_value() == item["uuid"]
    yesterday = (local_today() - timedelta(days=1)).isoformat()
    phone.get_by_label("走访日期").fill(yesterday)
    save(phone)
    expect(phone.locator("[data-outbox-notice]")).to_contain_text("已上传")
    wait_outbox_empty(phone)
    assert len(calls) == 2 and calls[1]["client_uuid"] == item["uuid"] and calls[1]["visited_on"] == yesterday
    assert rows(live_app, Visit, [item["uuid"]]) == [(item["uuid"], kids["曹宇航"], date.fromisoformat(yesterday))]


SEND_THREE_TIMES = """async ({childId, uuid, visitedOn, parallel}) => {
  const token = (await (await fetch("/api/v1/csrf")).json()).token;
  const body = JSON.stringify({client_uuid: uuid, child_id: childId, visited_on: visitedOn, kind: "home", needs: []});
  const send = () => fetch("/api/v1/visits", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body})
    .then(async (r) => [r.status, (await r.json()).id]);
  if (parallel) return Promise.all([send(), send(), send()]);
  const out = [];
  for (let i = 0; i < 3; i++) out.push(await send());
  return out;
}"""


@pytest.mark.parametrize("parallel", [False, True], ids=["one-after-another", "at-once"])
def test_the_same_client_uuid_three_times_is_one_visit(phone, login, kids, live_app, parallel):
    login(phone, "zhuren1")
    uuid = phone.evaluate("crypto.randomUUID()")
    answers = phone.evaluate(SEND_THREE_TIMES, {"childId": kids["周小雨"], "uuid": uuid,
                                                "visitedOn": local_today().isoformat(), "parallel": parallel})
    assert sorted(status for status, _ in answers) == [200, 200, 201]
    assert len({visit_id for _, visit_id in answers}) == 1
    assert count_rows(live_app, Visit, uuid) == 1


def test_a_childs_record_is_never_stored_on_the_phone(phone, login, kids):
    login(phone, "zhuren1")
    phone.goto("/visits/due")
    wait_offline_ready(phone)
    phone.goto(f"/children/{kids['周小雨']}")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("周小雨")
    phone.goto("/")  # and a boosted page load or two
    phone.locator("nav.mainnav").get_by_role("link", name="儿童", exact=True).click()
    expect(phone.get_by_role("heading", name="儿童名册")).to_be_visible()
    cached = phone.evaluate(ALL_CACHED_URLS)
    urls = [url for urls in cached.values() for url in urls]
    assert not [u for u in urls if u.startswith("/children") or u.startswith("/api/")], cached
    pages = [u for u in urls if not u.startswith("/static/")]
    assert set(pages) <= {"/offline", *OFFLINE_PAGES}, cached


def test_logout_warns_about_unsent_records_and_clears_the_phone(phone, login, kids):
    login(phone, "zhuren1")
    phone.route("**/api/v1/visits", lambda route: route.fulfill(status=503, body="maintenance"))
    open_form(phone, f"/visits/new?child={kids['吴晓峰']}")
    phone.get_by_label("健康情况").fill("感冒")
    save(phone)
    expect(bar(phone)).to_contain_text("待上传 1 条")
    phone.goto("/visits/due")
    wait_offline_ready(phone)
    open_form(phone, "/visits/contact")
    phone.get_by_label("情况").fill("写了一半")
    phone.wait_for_function("() => Object.keys(localStorage).some((k) => k.startsWith('guanai-draft:'))")

    questions = []

    def answer(dialog):
        questions.append(dialog.message)
        dialog.accept()

    phone.on("dialog", answer)
    phone.locator("details.usermenu summary").click()
    phone.get_by_role("button", name="退出登录").click()
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    assert questions == ["还有 1 条记录没有上传，退出后会从这部手机上删除。确定退出吗？"]
    left = phone.evaluate("""async () => {
      const db = await new Promise((ok) => { const r = indexedDB.open("guanai"); r.onsuccess = () => ok(r.result); });
      const count = (store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => ok(r.result); });
      return {outbox: await count("outbox"), children: await count("children"),
              drafts: Object.keys(localStorage).filter((k) => k.startsWith("guanai-")),
              caches: (await caches.keys()).filter((k) => k.startsWith("guanai-pages-")),
              shell: (await caches.keys()).some((k) => k.startsWith("guanai-shell-"))};
    }""")
    # the shell (styles, scripts, the offline page) holds nothing of anyone: it stays for the next user
    assert left == {"outbox": 0, "children": 0, "drafts": [], "caches": [], "shell": True}


SEND_ONE = """async ({childId, uuid, visitedOn}) => {
  const token = (await (await fetch("/api/v1/csrf")).json()).token;
  const body = JSON.stringify({client_uuid: uuid, child_id: childId, visited_on: visitedOn, kind: "home", needs: []});
  const r = await fetch("/api/v1/visits", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRFToken": token}, body});
  return r.status;
}"""


def queue_visit(phone, uuid, name, child_id, kind):
    """Put a visit of today straight into the outbox, as the form would have saved it offline."""
    today = local_today().isoformat()
    phone.evaluate("(item) => window.guanaiOutbox.put(item)", {
        "uuid": uuid, "url": "/api/v1/visits", "kind": "visit", "form": "/visits/new",
        "user": phone.evaluate("document.body.dataset.user"),
        "label": f"走访 {name} {today}", "tries": 0, "last_error": None, "errors": None, "status": "pending",
        "created_at": "2026-01-01T00:00:00.000Z", "saved_at": "x",
        "body": {"client_uuid": uuid, "child_id": child_id, "visited_on": today, "kind": kind}})


def test_a_client_uuid_reused_for_another_child_is_refused_shown_and_kept(phone, login, kids, live_app, screenshot):
    """The server answers 409 with a message in Chinese: the item stays in the outbox with that
    message, nothing on the server is overwritten, and fixing it saves under a new client_uuid."""
    login(phone, "zhuren1")
    open_form(phone, "/visits/new")
    uuid = phone.evaluate("crypto.randomUUID()")
    today = local_today().isoformat()
    assert phone.evaluate(SEND_ONE, {"childId": kids["韩雪"], "uuid": uuid, "visitedOn": today}) == 201
    queue_visit(phone, uuid, "吴晓峰", kids["吴晓峰"], "phone")
    phone.evaluate("window.guanaiOutbox.flush()")

    [item] = outbox_items(phone)
    assert item["status"] == "rejected" and "另一名儿童" in item["errors"]["client_uuid"]
    expect(bar(phone)).to_contain_text("1 条被退回需修改")
    phone.locator("[data-outbox-bar]").get_by_role("link", name="查看").click()
    expect(phone).to_have_url(re.compile(r"/outbox$"))
    row = phone.locator(f'[data-outbox-item="{uuid}"]')
    expect(row).to_contain_text("被退回")
    expect(row.locator('[data-field="client_uuid"]')).to_contain_text("这个记录编号已用于另一名儿童的记录，服务器没有保存这条记录，也没有改动原记录。")
    screenshot(phone, "conflict")
    assert rows(live_app, Visit, [uuid]) == [(uuid, kids["韩雪"], local_today())]  # not overwritten

    row.get_by_role("link", name="修改").click()
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    expect(phone.locator("[data-form-errors]")).to_contain_text("另一名儿童")
    expect(phone.locator("select[data-child-picker]")).to_have_value(str(kids["吴晓峰"]))
    fresh = phone.locator('input[name="client_uuid"]').input_value()
    assert fresh != uuid
    save(phone)
    wait_outbox_empty(phone)
    assert rows(live_app, Visit, [fresh]) == [(fresh, kids["吴晓峰"], local_today())]
    assert rows(live_app, Visit, [uuid]) == [(uuid, kids["韩雪"], local_today())]


def test_a_visit_for_a_child_who_left_care_meanwhile_is_kept_and_says_why(phone, login, kids, live_app):
    """Recorded offline, sent after civil affairs closed the child's file: the server refuses it
    (409 child_exited); the outbox keeps it with the reason under the child, not the record number."""
    login(phone, "zhuren1")
    open_form(phone, "/visits/new")
    with live_app.app_context():
        child = db.session.get(Child, kids["曹宇航"])
        child.status, child.exit_reason, child.exit_date = "exited", "moved_away", local_today()
        db.session.commit()
        db.session.remove()
    uuid = phone.evaluate("crypto.randomUUID()")
    queue_visit(phone, uuid, "曹宇航", kids["曹宇航"], "home")
    phone.evaluate("window.guanaiOutbox.flush()")

    [item] = outbox_items(phone)
    assert item["status"] == "rejected"
    assert "已退出关爱服务" in item["errors"]["child_id"] and "client_uuid" not in item["errors"]
    phone.goto("/outbox")
    row = phone.locator(f'[data-outbox-item="{uuid}"]')
    expect(row.locator('[data-field="child_id"]')).to_contain_text("已退出关爱服务")
    assert rows(live_app, Visit, [uuid]) == []


def test_a_temporary_password_holds_the_outbox_until_she_sets_her_own(phone, phone_context, login, kids, live_app):
    """The administrator reset her password while she was out of signal (her sessions end, as a reset
    does). Signed in again, she lands on /account/password, where the API answers 401 until she sets
    her own: that page holds the outbox (no "登录已过期" there, nothing cleared); the next page sends."""
    from blueprints.auth.models import User

    def set_temporary(flag: bool) -> None:
        with live_app.app_context():
            user = db.session.scalar(select(User).where(User.username == "zhuren1"))
            user.password_is_temporary = flag
            user.set_password(DEMO_PASSWORD)
            db.session.commit()
            db.session.remove()

    login(phone, "zhuren1")
    open_form(phone, f"/visits/new?child={kids['郑佳怡']}")
    phone_context.set_offline(True)
    try:
        save(phone)
        expect(bar(phone)).to_contain_text("待上传 1 条")
        set_temporary(True)
        end_sessions_on_server(live_app, "zhuren1")
    finally:
        phone_context.set_offline(False)
    try:
        expect(bar(phone)).to_contain_text("登录已过期")  # the reset ended her session: true
        api_posts = []
        phone.on("request", lambda r: api_posts.append(r.url) if r.method == "POST" and "/api/" in r.url else None)
        fill_login_form(phone, "zhuren1", DEMO_PASSWORD)
        expect(phone.get_by_role("heading", name="设置自己的密码")).to_be_visible()
        phone.wait_for_timeout(1500)  # the page's load flush would have run by now
        assert api_posts == []
        expect(bar(phone)).not_to_contain_text("登录已过期")
        [item] = outbox_items(phone)
        assert item["status"] == "pending" and count_rows(live_app, Visit, item["uuid"]) == 0

        phone.get_by_label("当前密码").fill(DEMO_PASSWORD)
        phone.get_by_label("新密码", exact=True).fill("zhuren1-own-77")
        phone.get_by_label("再次输入新密码").fill("zhuren1-own-77")
        phone.get_by_role("button", name="保存新密码").click()
        expect(phone.locator("nav.mainnav")).to_be_visible()
        wait_outbox_empty(phone)  # the next page sent it, nothing pressed
        assert count_rows(live_app, Visit, item["uuid"]) == 1
    finally:
        set_temporary(False)  # the module's other tests sign in as zhuren1 with the demo password
