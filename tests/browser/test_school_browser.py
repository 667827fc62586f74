"""The school's coordinator on her phone at 360×740 (the demo's xuexiao1): her home names the key
pupils without a responsible carer; one tap names one; from a pupil's record she reports a dropout;
civil affairs (minzheng) then finds the pupil, named with her school, in the town's dropout list.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.auth.models import User
from blueprints.core.clock import local_today
from blueprints.schools.models import DropoutCase, ResponsibleCarer
from extensions import db
from tests.factories import create_child

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def pupils(live_app):
    """Two pupils of xuexiao1's school: a key one without a carer, and one about to drop out."""
    with live_app.app_context():
        school = db.session.scalar(select(User).where(User.username == "xuexiao1")).school
        key = create_child("钟小禾", village=school.villages[0], school=school, birth=date(2015, 4, 3),
                           gender="female", categories=["poverty"], attention="key")
        leaving = create_child("钟小江", village=school.villages[0], school=school, birth=date(2013, 9, 9))
        ids = {"key": key.id, "leaving": leaving.id, "school": school.name}
        db.session.remove()
    return ids


def rows(live_app, model, child_id):
    with live_app.app_context():
        found = db.session.scalars(select(model).where(model.child_id == child_id)).all()
        db.session.expunge_all()
        db.session.remove()
    return found


def test_the_coordinator_names_a_carer_and_reports_a_dropout_and_the_town_sees_it(
        browser, live_server, live_app, pupils, login, screenshot):
    phone = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}).new_page()
    login(phone, "xuexiao1")

    card = phone.locator("#school-carers")
    expect(card).to_contain_text("未指定关爱责任人的重点学生")
    card.locator("li", has_text="钟小禾").get_by_role("link", name="指定").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("指定关爱责任人")
    form = phone.locator("#carer-form")
    form.get_by_label("姓名").fill("周红霞")
    form.get_by_label("电话").fill("13953701234")
    form.get_by_label("开始负责日期").fill(local_today().isoformat())
    # a mistake first: tomorrow is refused, the typed name and phone stay
    form.get_by_label("开始负责日期").fill((local_today() + timedelta(days=1)).isoformat())
    form.get_by_role("button", name="指定").click()
    expect(phone.locator("#carer-form")).to_be_visible()
    expect(phone.get_by_text("不能晚于今天").first).to_be_visible()
    expect(phone.locator("#carer-form").get_by_label("姓名")).to_have_value("周红霞")
    phone.locator("#carer-form").get_by_label("开始负责日期").fill(local_today().isoformat())
    phone.locator("#carer-form").get_by_role("button", name="指定").click()
    expect(phone.locator("#school-carer")).to_contain_text("周红霞")
    screenshot(phone, "carer-named")
    carers = rows(live_app, ResponsibleCarer, pupils["key"])
    assert [(c.name, c.phone, c.ended_on) for c in carers] == [("周红霞", "13953701234", None)]

    # the carer card no longer names her
    phone.goto("/")
    expect(phone.locator("#school-carers")).not_to_contain_text("钟小禾")

    # a dropout, from the pupil's record
    phone.goto(f"/children/{pupils['leaving']}")
    phone.locator("#enrolment summary").click()  # folded while she is simply 在读
    phone.locator("#report-dropout").click()
    dropout = phone.locator("#dropout-form")
    dropped_on = local_today() - timedelta(days=3)
    dropout.get_by_label("辍学日期").fill(dropped_on.isoformat())
    dropout.get_by_label("辍学原因").select_option(label="厌学")
    dropout.get_by_label("说明").fill("连续三天没来上学")
    dropout.get_by_role("button", name="报告辍学").click()
    expect(phone.locator("#case")).to_contain_text("钟小江")
    screenshot(phone, "dropout-reported")
    cases = rows(live_app, DropoutCase, pupils["leaving"])
    assert [(c.dropped_on, c.reason, c.returned_on) for c in cases] == [(dropped_on, "weariness", None)]

    # civil affairs sees her in the town's list, named with her school
    town = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}).new_page()
    login(town, "minzheng")
    town.goto("/schools/dropouts")
    row = town.locator("#dropout-rows li", has_text="钟小江")
    expect(row).to_contain_text(pupils["school"])
    expect(row).to_contain_text("厌学")
    screenshot(town, "town-dropouts")
    town.context.close()
    phone.context.close()


def test_a_teacher_finds_her_pupil_in_a_long_list_by_typing(browser, live_server, pupils, login):
    """A school's picker holds every pupil: typing part of a name, a village or a grade narrows it."""
    phone = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 740}).new_page()
    login(phone, "banzhuren1")
    phone.goto("/schools/contacts/log")
    picker = phone.locator("#f-child_id")
    expect(picker.locator("option", has_text="钟小江")).to_have_count(1)
    phone.locator("#f-pupil-search").fill("小禾")
    expect(picker.locator("option:not([hidden])", has_text="钟小禾")).to_have_count(1)
    expect(picker.locator("option[hidden]", has_text="钟小江")).to_have_count(1)
    expect(phone.locator("[data-picker-count]")).to_have_text("找到 1 名")
    phone.locator("#f-pupil-search").press("Enter")  # searching does not send the form
    expect(phone.locator("#f-pupil-search")).to_have_value("小禾")
    picker.select_option(label=picker.locator("option:not([hidden])", has_text="钟小禾").inner_text())
    phone.locator("#f-pupil-search").fill("")
    expect(picker.locator("option[hidden]")).to_have_count(0)
    expect(picker).to_have_value(str(pupils["key"]))
    phone.context.close()
