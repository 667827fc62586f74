"""The phone after the server ends the session (static/js/outbox/: store.js clearAppData, sync.js
sessionEnded): as at logout, the stored pages, the child list and drafts leave the phone; unsent
records stay (and only they), the user is told so, and they are sent after the next login.

The session is ended on the server's side (its row ended, as on expiry or a password change): the
server then answers 401 {"error": "login_required"} from the API and a redirect to the login page
for a page. Two ways for the phone to hear it: a page load that
ends on the login page, and a request of the page's script (the picker's list, the outbox's sync).
"""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.auth.demo import DEMO_PASSWORD
from blueprints.children.services import FamilyInput, create_child
from blueprints.places.models import Village
from blueprints.visits.models import Visit
from extensions import db
from tests.browser.conftest import end_sessions_on_server, fill_login_form
from tests.browser.test_offline_visits import (
    CHILDREN_STORED,
    bar,
    count_rows,
    open_form,
    outbox_items,
    save,
    wait_offline_ready,
    wait_outbox_empty,
    wait_until,
)
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser

CLEARED = "登录已过期。为保护儿童信息，已清除本机缓存的名单和页面"

# What this phone holds of the app: IndexedDB's stores, localStorage's keys, the stored pages.
PHONE = """async () => {
  const db = await new Promise((ok) => { const r = indexedDB.open("guanai"); r.onsuccess = () => ok(r.result); });
  const count = (store) => new Promise((ok) => { const r = db.transaction(store).objectStore(store).count(); r.onsuccess = () => ok(r.result); });
  const names = await caches.keys();
  const urls = [];
  for (const name of names) {
    for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
  }
  const phone = {outbox: await count("outbox"), children: await count("children"),
                 keys: Object.keys(localStorage).filter((k) => k.startsWith("guanai-")).sort(),
                 pageCaches: names.filter((k) => k.startsWith("guanai-pages-")),
                 pages: urls.filter((path) => path !== "/offline" && !path.startsWith("/static/"))};
  db.close();
  return phone;
}"""

EMPTY = {"outbox": 0, "children": 0, "keys": [], "pageCaches": [], "pages": []}


def phone_state(page):
    return page.evaluate(PHONE)


def wait_cleared(page):
    """The child list and every stored page are gone."""
    wait_until(page, f"async () => {{ const p = await ({PHONE})(); return p.children === 0 && p.pages.length === 0 "
                     "&& p.pageCaches.length === 0; }")


@pytest.fixture(scope="module")
def village_children(live_app):
    """Two children left behind in zhuren1's village (前王庄村), for the due list and the pickers."""
    with live_app.app_context():
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        for serial, name in enumerate(["秦小满", "许安然"], start=701):
            born = date(2015, 6, 1)
            create_child(dict(name=name, residence_village_id=village.id, birth_date=born, gender="female",
                              id_number=valid_id_number(born, serial, gender="female"), status="active",
                              attention_level="general"),
                         ["left_behind"], [FamilyInput(relation="祖母", name="秦奶奶", phone="13700003333",
                                                       is_guardian=True)], actor=None)
        db.session.commit()
        db.session.remove()


def ready_for_offline(page, login):
    """Signed in as a director, the due list opened: the phone holds the pages, the child list and a draft."""
    login(page, "zhuren1")
    page.goto("/visits/due")
    wait_offline_ready(page)
    wait_until(page, f"async () => (await ({CHILDREN_STORED})()) > 0")
    open_form(page, "/visits/contact")
    page.get_by_label("情况").fill("写了一半")
    page.wait_for_function("() => Object.keys(localStorage).some((k) => k.startsWith('guanai-draft:'))")
    held = phone_state(page)
    assert held["children"] > 0 and held["pages"] and "guanai-user" in held["keys"], held
    return page.locator("select[data-child-picker] option[data-from-list]").first.get_attribute("value")


def test_a_page_that_ends_on_the_login_page_clears_the_phone(phone, login, village_children, live_app, screenshot):
    ready_for_offline(phone, login)
    end_sessions_on_server(live_app, "zhuren1")
    phone.goto("/visits/due")
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    notice = phone.locator("[data-session-ended]")
    expect(notice).to_have_text(CLEARED + "。")
    wait_cleared(phone)
    assert phone_state(phone) == EMPTY
    screenshot(phone, "login")

    phone.reload()  # told once: the phone holds nothing of the session any more
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    expect(phone.locator("[data-session-ended]")).to_have_count(0)


@pytest.mark.parametrize("answer", ["401", "redirect-to-login"])
def test_a_request_of_the_open_page_clears_the_phone(phone, login, village_children, live_app, answer):
    """The API answers 401 {"error": "login_required"}; a fetch that ends on the login page (a proxy's
    or an older server's way of saying the same) counts as well."""
    ready_for_offline(phone, login)
    phone.goto("/visits/due")
    phone.wait_for_load_state("networkidle")  # its own fetch of the list is answered
    end_sessions_on_server(live_app, "zhuren1")
    if answer == "redirect-to-login":
        phone.route("**/api/v1/due-list", lambda route: route.fulfill(
            status=302, headers={"Location": "/login?next=/api/v1/due-list"}))
    answers = []
    phone.on("response", lambda r: answers.append(r.status) if urlsplit(r.url).path == "/api/v1/due-list" else None)
    phone.evaluate("window.GuanaiOutbox.picker.warm()")  # the due page fetching the picker's list
    notice = phone.locator("[data-session-ended]")
    expect(notice).to_contain_text(CLEARED + "。")
    expect(notice.get_by_role("link", name="重新登录")).to_be_visible()
    assert answers == [401 if answer == "401" else 302]
    wait_cleared(phone)
    assert phone_state(phone) == {**EMPTY, "keys": ["guanai-user"]}  # the page still names its user

    # a draft typed into the ended session's page is cleared when the login page opens
    phone.evaluate("localStorage.setItem('guanai-draft:contact:1', '{}')")
    notice.get_by_role("link", name="重新登录").click()
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    expect(phone.locator("[data-session-ended]")).to_have_text(CLEARED + "。")
    wait_until(phone, "async () => !Object.keys(localStorage).some((k) => k.startsWith('guanai-'))")
    assert phone_state(phone) == EMPTY


def test_unsent_records_are_kept_alone_and_sent_after_the_next_login(phone, phone_context, login, village_children, live_app, screenshot):
    child = ready_for_offline(phone, login)
    open_form(phone, f"/visits/new?child={child}")
    phone_context.set_offline(True)
    try:
        save(phone)
        expect(bar(phone)).to_contain_text("待上传 1 条")
        end_sessions_on_server(live_app, "zhuren1")  # while the phone has no network
    finally:
        phone_context.set_offline(False)  # the `online` event sends: the server answers 401

    notice = phone.locator("[data-session-ended]")
    expect(notice).to_have_text(CLEARED + "；还有 1 条记录未发送，重新登录后会自动发送。 重新登录")
    expect(bar(phone)).to_contain_text("登录已过期，请重新登录，记录不会丢失")
    wait_cleared(phone)
    [item] = outbox_items(phone)
    assert item["status"] == "pending" and item["body"]["child_id"] == int(child)
    assert phone_state(phone) == {**EMPTY, "outbox": 1, "keys": ["guanai-user"]}
    assert count_rows(live_app, Visit, item["uuid"]) == 0
    screenshot(phone, "kept")

    fill_login_form(phone, "zhuren1", DEMO_PASSWORD)
    expect(phone.locator("nav.mainnav")).to_be_visible()
    wait_outbox_empty(phone)  # nothing pressed: the page load after signing in sent it
    assert count_rows(live_app, Visit, item["uuid"]) == 1


def test_unsent_records_are_kept_when_a_page_ends_on_the_login_page(phone, login, village_children, live_app):
    child = ready_for_offline(phone, login)
    phone.route("**/api/v1/visits", lambda route: route.fulfill(status=503, body="maintenance"))
    open_form(phone, f"/visits/new?child={child}")
    save(phone)
    expect(bar(phone)).to_contain_text("待上传 1 条")
    end_sessions_on_server(live_app, "zhuren1")
    phone.goto("/outbox")
    expect(phone.get_by_role("heading", name="登录")).to_be_visible()
    expect(phone.locator("[data-session-ended]")).to_have_text(CLEARED + "；还有 1 条记录未发送，重新登录后会自动发送。")
    wait_cleared(phone)
    assert phone_state(phone) == {**EMPTY, "outbox": 1}
