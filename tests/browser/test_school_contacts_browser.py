"""A class teacher's phone at 360×740: from the school's home card (留守 pupils not contacted this
month) to the contact form, which works offline (the outbox in static/js/outbox/, the service
worker's offline pages); a parent contact logged offline arrives exactly once when the network
returns; a home visit shows the home-safety checklist; a contact dated in the future comes back
from the server, stays on the phone marked, is fixed there and then arrives once.
"""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from blueprints.core.clock import local_today
from blueprints.places.models import Village
from blueprints.schools.models import SchoolContact
from extensions import db
from tests.browser.conftest import PAGES_STORED, wait_until
from tests.factories import PASSWORD, create_child, create_school, create_user

pytestmark = pytest.mark.browser

OFFLINE_PAGES = ["/schools/contacts/log", "/outbox"]  # the others are not a class teacher's
PUPILS_STORED = """() => new Promise((ok) => {
  const open = indexedDB.open("guanai");
  open.onsuccess = () => {
    const all = open.result.transaction("children").objectStore("children").getAll();
    all.onsuccess = () => ok(all.result.filter((row) => row.source === "/api/v1/school-pupils").length);
  };
})"""
OUTBOX_EMPTY = "async () => (await window.guanaiOutbox.all()).length === 0"


@pytest.fixture(scope="module")
def school(live_app):
    """A school with its class teacher (banzhuren_phone, like the demo's banzhuren1) and two 留守
    pupils; another school's 留守 pupil."""
    with live_app.app_context():
        village = db.session.scalar(select(Village).order_by(Village.id))
        ours, theirs = create_school("联系测试小学", villages=[village]), create_school("别的小学", villages=[village])
        create_user("school", username="banzhuren_phone", school=ours, school_duty="head_teacher",
                    display_name="黄老师（班主任）")
        first = create_child("林小雨", village=village, school=ours, birth=date(2016, 5, 6), gender="female",
                             categories=["left_behind"])
        second = create_child("高小川", village=village, school=ours, birth=date(2015, 8, 9), categories=["left_behind"])
        stranger = create_child("何小山", village=village, school=theirs, categories=["left_behind"])
        ids = dict(first=first.id, second=second.id, stranger=stranger.id)
        db.session.remove()
    return ids


def contacts_of(live_app, child_id):
    with live_app.app_context():
        found = db.session.scalars(select(SchoolContact).where(SchoolContact.child_id == child_id)).all()
        rows = [(c.client_uuid, c.contacted_on, c.contact_with, c.method, c.topics, c.note, c.hazards) for c in found]
        db.session.remove()
    return rows


def total(live_app):
    with live_app.app_context():
        n = db.session.scalar(select(func.count()).select_from(SchoolContact))
        db.session.remove()
    return n


def save(page):
    page.get_by_role("button", name="保存联系记录").click()
    notice = page.locator("[data-outbox-notice]")
    expect(notice).to_contain_text(re.compile("已保存在手机上|已上传|服务器退回"))
    return notice


def test_a_parent_contact_logged_offline_arrives_once(phone, phone_context, login, school, live_app, screenshot):
    before = total(live_app)
    login(phone, "banzhuren_phone", PASSWORD)
    card = phone.locator("#home-contacts-due")
    expect(card).to_contain_text("本月待联系的留守学生（2 名）")
    expect(card).to_contain_text("林小雨")
    expect(card).not_to_contain_text("何小山")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "home")

    # Online once: the form is stored by the service worker and the picker's list in IndexedDB.
    card.locator(f'[data-child-id="{school["first"]}"] a').click()
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    wait_until(phone, PAGES_STORED, OFFLINE_PAGES, timeout=15_000)
    wait_until(phone, f"async () => (await ({PUPILS_STORED})()) === 2")
    phone.goto("/")

    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/api/v1/school-contacts" in r.url else None)
    phone_context.set_offline(True)
    try:
        # One tap on the home card (the page from the service worker, the pupil from ?child=).
        phone.locator(f'#home-contacts-due [data-child-id="{school["first"]}"] a').click()
        expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
        picker = phone.locator("select[data-child-picker]")
        expect(picker).to_have_value(str(school["first"]))
        expect(picker.locator("option[data-from-list]")).to_have_count(2)  # from IndexedDB, offline
        checklist = phone.locator("#home-visit-checklist")
        expect(checklist).to_be_hidden()  # 电话 by default: no home-safety checklist
        phone.get_by_label("母亲", exact=True).check()
        phone.get_by_label("学习", exact=True).check()
        phone.get_by_label("安全", exact=True).check()
        phone.get_by_label("情况说明").fill("母亲在浙江务工，电话沟通期中考试和寒假安全")
        assert phone.evaluate("document.documentElement.scrollWidth") <= 360
        screenshot(phone, "form")
        expect(save(phone)).to_contain_text("已保存在手机上，待上传：家校联系 林小雨")
        expect(picker).to_have_value("")
        expect(phone.locator("[data-outbox-bar]")).to_contain_text("待上传 1 条")

        # The phone checks what it can: with whom is asked before anything is queued.
        picker.select_option(str(school["second"]))
        phone.get_by_role("button", name="保存联系记录").click()
        expect(phone.locator('[data-error-for="contact_with"]')).to_contain_text("联系对象：请选择")
        [item] = phone.evaluate("window.guanaiOutbox.all()")

        # Reloading without a network: the form and the item are still there, nothing was sent.
        phone.reload()
        expect(phone.get_by_role("heading", name="记录家校联系")).to_be_visible()
        expect(phone.locator("[data-outbox-bar]")).to_contain_text("待上传 1 条")
        assert posts == [] and total(live_app) == before
    finally:
        phone_context.set_offline(False)

    wait_until(phone, OUTBOX_EMPTY, timeout=15_000)
    assert total(live_app) == before + 1
    assert contacts_of(live_app, school["first"]) == [
        (item["uuid"], local_today(), "mother", "phone", "study,safety", "母亲在浙江务工，电话沟通期中考试和寒假安全", [])]
    phone.goto("/")
    expect(phone.locator("#home-contacts-due")).to_contain_text("（1 名）")
    expect(phone.locator("#home-contacts-due")).not_to_contain_text("林小雨")
    # sent again (its answer lost): the server answers with the record it has, and keeps one
    again = phone.evaluate("""async (body) => {
      const token = (await (await fetch("/api/v1/csrf")).json()).token;
      const r = await fetch("/api/v1/school-contacts", {method: "POST", body: JSON.stringify(body),
        headers: {"Content-Type": "application/json", "X-CSRFToken": token}});
      return r.status;
    }""", item["body"])
    assert again == 200 and total(live_app) == before + 1


def test_a_home_visit_dated_in_the_future_is_kept_marked_fixed_and_arrives_once(phone, login, school, live_app,
                                                                                 screenshot):
    login(phone, "banzhuren_phone", PASSWORD)
    phone.goto(f"/schools/contacts/log?child={school['second']}")
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    checklist = phone.locator("#home-visit-checklist")
    phone.get_by_label("家访", exact=True).check()
    expect(checklist).to_be_visible()  # a home visit: the visit form's checklist
    phone.get_by_label("委托照护人", exact=True).check()
    phone.get_by_label("生活", exact=True).check()
    phone.get_by_label("附近有危险水域", exact=True).check()
    phone.get_by_label("隐患说明").fill("屋后有鱼塘，没有护栏")
    phone.get_by_label("联系日期").fill((local_today() + timedelta(days=1)).isoformat())
    screenshot(phone, "home-visit")
    expect(save(phone)).to_contain_text("服务器退回了这条记录")
    expect(phone.locator("[data-outbox-bar]")).to_contain_text("1 条被退回需修改")
    [item] = phone.evaluate("window.guanaiOutbox.all()")
    assert item["status"] == "rejected" and item["errors"] == {"contacted_on": "联系日期不能晚于今天"}
    assert contacts_of(live_app, school["second"]) == []

    phone.goto("/outbox")
    row = phone.locator(f'[data-outbox-item="{item["uuid"]}"]')
    expect(row).to_contain_text("联系日期不能晚于今天")
    row.get_by_role("link", name="修改").click()
    expect(phone).to_have_url(re.compile(rf"/schools/contacts/log\?outbox={item['uuid']}$"))
    expect(phone.locator("form[data-offline-form][data-outbox-ready]")).to_have_count(1)
    expect(phone.locator('[data-error-for="contacted_on"]')).to_have_text("联系日期不能晚于今天")
    expect(phone.get_by_label("隐患说明")).to_have_value("屋后有鱼塘，没有护栏")
    expect(phone.locator("select[data-child-picker]")).to_have_value(str(school["second"]))
    phone.get_by_label("联系日期").fill(local_today().isoformat())
    expect(save(phone)).to_contain_text("已上传")
    wait_until(phone, OUTBOX_EMPTY)
    assert contacts_of(live_app, school["second"]) == [
        (item["uuid"], local_today(), "caregiver", "home_visit", "life", None, ["附近有危险水域"])]


def test_another_schools_pupil_is_404_and_never_listed(phone, login, school, live_app):
    login(phone, "banzhuren_phone", PASSWORD)
    phone.goto("/schools/contacts/log")
    listed = phone.evaluate("async () => (await (await fetch('/api/v1/school-pupils')).json()).children.map((c) => c.id)")
    assert sorted(listed) == sorted([school["first"], school["second"]])
    status = phone.evaluate("""async (childId) => {
      const token = (await (await fetch("/api/v1/csrf")).json()).token;
      const r = await fetch("/api/v1/school-contacts", {method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": token},
        body: JSON.stringify({client_uuid: crypto.randomUUID(), child_id: childId, contacted_on: "2026-03-02",
                              contact_with: "father", method: "phone", topics: ["study"]})});
      return r.status;
    }""", school["stranger"])
    assert status == 404 and contacts_of(live_app, school["stranger"]) == []
