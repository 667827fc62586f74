"""The child registry on a 360×740 phone: find a child by pinyin initials, and register one with a
mistyped ID number (the message shows beside the field and nothing typed is lost)."""
from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.places.models import Village
from blueprints.children.services import FamilyInput, create_child
from extensions import db
from tests.factories import valid_id_number

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ouyang(live_app):
    """A child in zhuren1's village with initials no demo name has: 欧阳娜娜 → oynn."""
    with live_app.app_context():
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        child = create_child(
            dict(name="欧阳娜娜", residence_village_id=village.id, birth_date=date(2016, 9, 1), gender="female",
                 id_number=valid_id_number(date(2016, 9, 1), 321, gender="female"), status="active",
                 attention_level="key"),
            ["left_behind"], [FamilyInput(relation="祖母", name="欧阳秀兰", phone="13700001111", is_guardian=True)],
            actor=None,
        )
        db.session.commit()
        child_id = child.id
        db.session.remove()
    return child_id


def test_director_finds_a_child_by_pinyin_initials(phone, login, ouyang, screenshot):
    login(phone, "zhuren1")
    phone.locator("nav.mainnav").get_by_role("link", name="儿童", exact=True).click()
    expect(phone.get_by_role("heading", name="儿童名册")).to_be_visible()
    phone.get_by_placeholder(re.compile("拼音首字母")).fill("oynn")
    results = phone.locator("#child-results")
    expect(results).to_contain_text("共 1 名儿童")  # active search swapped the results in
    expect(phone).to_have_url(re.compile(r"q=oynn"))
    screenshot(phone, "search")
    results.get_by_role("link", name=re.compile("欧阳娜娜")).click()
    expect(phone).to_have_url(re.compile(rf"/children/{ouyang}$"))
    expect(phone.get_by_role("heading", level=1)).to_contain_text("欧阳娜娜")
    expect(phone.locator(".child-summary")).to_contain_text("欧阳秀兰")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "record")


def test_wrong_id_number_is_shown_beside_the_field_and_the_form_kept(phone, login, screenshot):
    login(phone, "zhuren1")
    phone.goto("/children/new")
    good = valid_id_number(date(2015, 3, 2), 77)
    wrong = good[:-1] + ("1" if good[-1] != "1" else "2")
    phone.get_by_label("姓名", exact=True).fill("马小跳")
    phone.get_by_label("身份证号", exact=True).fill(wrong)
    phone.get_by_label("监护人姓名").fill("马天笑")
    phone.get_by_label("监护人电话").fill("13912345678")
    phone.get_by_label("留守儿童").check()

    # inline: leaving the field checks it at once, before any submit
    phone.get_by_label("监护人电话").focus()
    id_field = phone.locator(".field").filter(has=phone.get_by_label("身份证号", exact=True))
    expect(id_field.locator(".error")).to_contain_text("校验位不对")

    phone.get_by_role("button", name="保存").click()
    expect(phone.locator(".flash-error")).to_contain_text("身份证号")
    id_field = phone.locator(".field").filter(has=phone.get_by_label("身份证号", exact=True))
    expect(id_field.locator(".error")).to_contain_text("校验位不对")
    expect(phone.get_by_label("姓名", exact=True)).to_have_value("马小跳")
    expect(phone.get_by_label("身份证号", exact=True)).to_have_value(wrong)
    expect(phone.get_by_label("监护人姓名")).to_have_value("马天笑")
    expect(phone.get_by_label("留守儿童")).to_be_checked()
    screenshot(phone, "wrong-id")

    # fixed, it saves and opens the new record
    phone.get_by_label("身份证号", exact=True).fill(good)
    phone.get_by_role("button", name="保存").click()
    expect(phone.get_by_role("heading", level=1)).to_contain_text("马小跳")
    expect(phone.locator(".flash-success")).to_contain_text("已为 马小跳 建档")


def name_field(page):
    return page.locator(".field").filter(has=page.get_by_label("姓名", exact=True))


def test_inline_check_of_a_bad_name_keeps_the_field(phone, login, screenshot):
    login(phone, "zhuren1")
    phone.goto("/children/new")
    name = phone.get_by_label("姓名", exact=True)
    name.fill("   ")  # only spaces: not a name
    phone.get_by_label("身份证号", exact=True).focus()
    expect(name_field(phone).locator(".error")).to_contain_text("请填写姓名")
    expect(name).to_be_visible()
    expect(name).to_have_attribute("aria-invalid", "true")
    screenshot(phone, "bad-name")

    # checked again after the swap: the trigger still listens to the new input
    name.fill("马小跳")
    phone.get_by_label("身份证号", exact=True).focus()
    expect(name_field(phone).locator(".error")).to_have_count(0)
    expect(name).to_have_value("马小跳")


def test_an_error_answer_to_the_inline_check_goes_to_the_message_region(phone, login, screenshot):
    """A stale page (its security token expired): the check answers 400. The field it checks and
    what was typed stay; the message shows in the one message region."""
    login(phone, "zhuren1")
    phone.goto("/children/new")
    phone.evaluate("""() => {
      document.querySelectorAll('input[name=csrf_token]').forEach((el) => { el.value = 'stale'; });
      const session = document.getElementById('session');
      if (session) session.dataset.csrf = 'stale';
      if (document.body.hasAttribute('hx-headers')) document.body.setAttribute('hx-headers', '{"X-CSRFToken": "stale"}');
    }""")
    name = phone.get_by_label("姓名", exact=True)
    name.fill("马小跳")
    phone.get_by_label("身份证号", exact=True).focus()
    expect(phone.locator("#messages")).to_contain_text("页面已过期")
    expect(name).to_be_visible()
    expect(name).to_have_value("马小跳")
    expect(phone.locator("#messages .error-page")).to_have_count(0)  # a short message, not a page
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(phone, "stale-token")
