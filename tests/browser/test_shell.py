"""The app shell on a 360×740 phone: sign-in, the role's menu, hx-boost, no sideways scroll, offline."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from blueprints.auth.demo import DEMO_PASSWORD
from tests.browser.conftest import fill_login_form

pytestmark = pytest.mark.browser

PHONE_WIDTH = 360


def nav_link(page, label):
    return page.locator("nav.mainnav").get_by_role("link", name=label, exact=True)


def test_director_logs_in_and_sees_own_village(phone, login, screenshot):
    login(phone, "zhuren1")

    expect(phone).to_have_url(re.compile(r"/$"))
    expect(phone.get_by_role("heading", level=1)).to_contain_text("张秀英，您好")
    villages = phone.locator("section.card").filter(
        has=phone.get_by_role("heading", name=re.compile("^我负责的村"))
    )
    expect(villages).to_contain_text("前王庄村")
    expect(villages).not_to_contain_text("后李楼村")
    screenshot(phone)


def test_wrong_password_keeps_username_and_says_why(phone, screenshot):
    fill_login_form(phone, "zhuren2", "not-the-password")

    expect(phone.get_by_role("alert")).to_contain_text("用户名或密码不正确")
    expect(phone.get_by_label("用户名", exact=True)).to_have_value("zhuren2")
    expect(phone.locator("nav.mainnav")).to_have_count(0)
    assert phone.url.split("?")[0].endswith("/login")
    screenshot(phone)


def test_offline_reload_shows_offline_page(phone, phone_context, login, screenshot):
    login(phone, "zhuren1")
    controlled = "() => navigator.serviceWorker && navigator.serviceWorker.controller !== null"
    try:
        phone.wait_for_function(controlled, timeout=5_000)
    except Exception:
        phone.reload()  # a page loaded before the worker took over: the next load is controlled
        phone.wait_for_function(controlled, timeout=5_000)

    phone_context.set_offline(True)
    try:
        phone.reload()
        expect(phone.get_by_role("heading", level=1)).to_have_text("当前没有网络")
        expect(phone).to_have_title(re.compile("没有网络"))
        screenshot(phone)
    finally:
        phone_context.set_offline(False)


@pytest.mark.parametrize(
    ("username", "shown", "hidden"),
    [
        ("admin", ["首页", "用户", "基础数据"], []),
        ("zhuren1", ["首页"], ["用户", "基础数据"]),
    ],
)
def test_menu_follows_role(phone, login, username, shown, hidden):
    login(phone, username)

    for label in shown:
        expect(nav_link(phone, label)).to_be_visible()
    for label in hidden:
        expect(nav_link(phone, label)).to_have_count(0)


@pytest.mark.parametrize("username", ["zhuren1", "admin"])
def test_home_page_fits_phone_width(phone, login, screenshot, username):
    login(phone, username)
    expect(phone.get_by_role("heading", level=1)).to_contain_text("您好")

    page_width = phone.evaluate("document.documentElement.scrollWidth")
    assert page_width <= PHONE_WIDTH, f"page is {page_width}px wide at {PHONE_WIDTH}px"
    # The menu scrolls inside itself when it must; it never widens the page.
    nav_box = phone.locator("nav.mainnav").bounding_box()
    assert nav_box["x"] >= 0 and nav_box["x"] + nav_box["width"] <= PHONE_WIDTH, nav_box
    screenshot(phone)


def test_boosted_menu_link_opens_user_list(phone, login, screenshot):
    login(phone, "admin")
    phone.evaluate("window.__sameDocument = true")  # survives only an htmx swap, not a page load

    nav_link(phone, "用户").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("用户")
    expect(phone.locator("#user-rows li.row").filter(has_text="张秀英")).to_have_count(1)
    expect(nav_link(phone, "用户")).to_have_attribute("aria-current", "page")
    expect(phone).to_have_url(re.compile(r"/users"))
    assert phone.evaluate("window.__sameDocument === true"), "the menu link did a full page load, not hx-boost"
    screenshot(phone)


def test_boosted_sign_in_brings_a_fresh_session(phone):
    """A boosted navigation swaps the body's content, not its attributes nor the head: the user and
    the CSRF token live in #session inside the body, so htmx requests after sign-in are accepted."""
    phone.goto("/login")
    phone.evaluate("window.__sameDocument = true")
    stale = phone.evaluate("window.GuanaiSession.csrf()")
    assert phone.evaluate("window.GuanaiSession.user()") == ""
    phone.get_by_label("用户名", exact=True).fill("zhuren1")
    phone.get_by_label("密码", exact=True).fill(DEMO_PASSWORD)
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.locator("nav.mainnav")).to_be_visible()
    assert phone.evaluate("window.__sameDocument === true"), "sign-in was not a boosted swap"
    assert phone.evaluate("window.GuanaiSession.user()") == "zhuren1"
    assert phone.evaluate("window.GuanaiSession.loginUrl()") == "/login"
    assert phone.evaluate("window.GuanaiSession.csrf()") not in ("", stale)

    # an htmx POST carrying no form token: the header from #session must be accepted
    with phone.expect_response(re.compile(r"/children/validate/name$")) as answer:
        phone.evaluate("""htmx.ajax('POST', '/children/validate/name',
                          {target: '#messages', swap: 'none', values: {_creating: '1', name: '马小跳'}})""")
    assert answer.value.status == 200
    expect(phone.locator("#messages .notice")).to_have_count(0)
