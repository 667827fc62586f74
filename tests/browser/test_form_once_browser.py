"""A creating form double-clicked on a phone (360×740) sends once and stores one record: the first
tap holds the button (正在提交…, static/js/app.js); the server would refuse a repeat anyway
(blueprints/core/once.py)."""
from __future__ import annotations

import time
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.care.models import Need
from blueprints.places.models import Village
from extensions import db
from tests.factories import create_child

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def child_id(live_app):
    with live_app.app_context(), live_app.test_request_context():
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        child = create_child("郝双击", village=village, birth=date(2017, 3, 8), gender="male")
        db.session.commit()
        found = child.id
        db.session.remove()
    return found


def needs_of(live_app, child_id) -> int:
    with live_app.app_context():
        found = db.session.scalar(select(func.count()).select_from(Need).where(Need.child_id == child_id))
        db.session.remove()
    return found


@pytest.mark.parametrize("htmx", [True, False], ids=["boosted", "plain"])
def test_a_double_tapped_need_form_sends_once(phone, login, live_app, child_id, screenshot, monkeypatch, htmx):
    """Boosted by htmx, and plain (htmx did not load: the browser posts the form itself). A slow
    network: the server answers after a second, and the second tap comes while it works."""
    view = live_app.view_functions["care.need_new"]

    def slow(**kwargs):
        time.sleep(1.5)
        return view(**kwargs)

    monkeypatch.setitem(live_app.view_functions, "care.need_new", slow)
    if not htmx:
        phone.route("**/htmx-*.js", lambda route: route.abort())
    login(phone, "zhuren1")
    before = needs_of(live_app, child_id)
    phone.goto(f"/children/{child_id}/plan")
    form = phone.locator("#need-form")
    if not form.is_visible():
        phone.locator("#need-new summary").click()
    form.get_by_label("需求类别").select_option("safety")
    form.get_by_label("具体情况").fill("屋后水塘无护栏")
    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" and r.url.endswith("/plan/needs") else None)
    button = form.get_by_role("button", name="登记需求")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    phone.mouse.click(x, y)
    expect(form.locator('button[type="submit"]')).to_have_text("正在提交…")
    expect(form.locator('button[type="submit"]')).to_be_disabled()
    phone.wait_for_timeout(300)
    phone.mouse.click(x, y)  # the second tap, where the button was
    expect(phone.locator("#messages, .flash").filter(has_text="已登记需求").first).to_be_visible()
    screenshot(phone)
    assert len(posts) == 1
    assert needs_of(live_app, child_id) == before + 1
