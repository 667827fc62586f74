"""Care that follows up, on two phones at 360×740 (issue 11): the child director zhuren1 confirms two
needs a visit of hers found (one tap each, htmx, no reload), adds a measure to one of them (a past due
date first: the message names the field, what she typed stays) and refers it to 派出所; paichusuo's
bell goes up, it opens the referral from its inbox, accepts it, records what it did and returns it
done; zhuren1's bell goes up, her plan shows the measure done, and she marks the need met.
"""
from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from blueprints.auth.models import User
from blueprints.care.models import Measure, Need, Referral, ReferralAction
from blueprints.core.clock import local_today
from blueprints.notices.models import Notice
from blueprints.places.models import Village
from blueprints.visits.services import record_visit
from extensions import db
from tests.browser.conftest import PHONE_VIEWPORT
from tests.factories import create_child

pytestmark = pytest.mark.browser

CHILD = "侯小满"


@pytest.fixture(scope="module")
def visit(live_app):
    """A visit of zhuren1's to a new child of 前王庄村 that found two needs (medical, psychological)."""
    with live_app.app_context(), live_app.test_request_context():
        director = db.session.scalar(select(User).where(User.username == "zhuren1"))
        village = db.session.scalar(select(Village).where(Village.name == "前王庄村"))
        child = create_child(CHILD, village=village, birth=date(2016, 5, 12), gender="female")
        visited = record_visit(child, {"visited_on": local_today() - timedelta(days=1), "kind": "home",
                                       "living_conditions": "住房尚可", "mental_state": "concern",
                                       "needs_note": "牙疼没钱看，夜里常哭"},
                               ["medical", "psychological"], str(uuid.uuid4()), actor=director).record
        db.session.commit()
        ids = {"visit": visited.id, "child": child.id}
        db.session.remove()
    return ids


def phone_of(browser, live_server, login, username):
    page = browser.new_context(base_url=live_server, viewport=PHONE_VIEWPORT, locale="zh-CN").new_page()
    page.context.set_default_timeout(10_000)
    login(page, username)
    return page


def bell_count(page) -> int:
    """The unread count the bell shows (none shown: 0)."""
    count = page.locator("#notice-bell .bell-count")
    return int(count.get_attribute("data-unread")) if count.count() else 0


def test_a_visit_s_needs_become_a_measure_the_police_complete(browser, live_server, live_app, visit, login,
                                                              screenshot):
    director = phone_of(browser, live_server, login, "zhuren1")
    assert director.evaluate("document.documentElement.scrollWidth") <= 360

    # the visit page: the two findings, one tap each, the page stays (htmx swaps the row)
    director.goto(f"/visits/{visit['visit']}")
    findings = director.locator("#care-findings")
    expect(findings.locator("li")).to_have_count(2)
    director.evaluate("window.__samePage = true")
    for category, title in (("medical", "医疗康复"), ("psychological", "心理疏导")):
        row = findings.locator(f"#finding-{category}")
        expect(row).to_contain_text(title)
        row.get_by_role("button", name="加入帮扶方案").click()
        expect(row.locator(".tag")).to_have_text("已加入")
        expect(row.get_by_role("link", name="查看帮扶方案")).to_be_visible()
    assert director.evaluate("window.__samePage === true"), "the page reloaded"
    expect(findings.get_by_role("button", name="加入帮扶方案")).to_have_count(0)
    screenshot(director, "findings-confirmed")

    # the plan: both needs open; a measure for the medical one, a past due date first
    findings.locator("#finding-medical").get_by_role("link", name="查看帮扶方案").click()
    expect(director.get_by_role("heading", level=1)).to_have_text("帮扶方案")
    expect(director.locator("#plan-child")).to_contain_text(CHILD)
    expect(director.locator("#plan-child")).to_contain_text("待解决 2 项")
    need = director.locator("section.need", has_text="医疗康复")
    expect(need).to_contain_text("牙疼没钱看")
    expect(need.locator(".measure")).to_have_count(0)
    yesterday = local_today() - timedelta(days=1)
    form = need.locator("form.measure-form")
    form.get_by_label("帮扶措施").fill("联系镇卫生院为孩子免费看牙")
    form.get_by_label("责任人").fill("张秀英")
    form.get_by_label("完成期限").fill(yesterday.isoformat())
    form.get_by_role("button", name="添加措施").click()
    need = director.locator("section.need", has_text="医疗康复")
    form = need.locator("form.measure-form")
    expect(form.locator(".field.has-error")).to_contain_text("完成期限：不能早于今天")
    expect(need.locator(".flash-error")).to_contain_text("完成期限")
    expect(form.get_by_label("帮扶措施")).to_have_value("联系镇卫生院为孩子免费看牙")
    expect(form.get_by_label("责任人")).to_have_value("张秀英")
    expect(form.get_by_label("完成期限")).to_have_value(yesterday.isoformat())
    screenshot(director, "measure-refused")
    due = local_today() + timedelta(days=7)
    form.get_by_label("完成期限").fill(due.isoformat())
    form.get_by_role("button", name="添加措施").click()
    measure = director.locator("section.need", has_text="医疗康复").locator("li.measure")
    expect(measure).to_have_count(1)
    expect(measure).to_contain_text("联系镇卫生院为孩子免费看牙")
    expect(measure).to_contain_text("责任人 张秀英")
    expect(measure.locator(".tag").first).to_have_text("待办")

    # refer it to 派出所
    paichusuo = phone_of(browser, live_server, login, "paichusuo")
    police_before = bell_count(paichusuo)
    measure.get_by_role("link", name="转介", exact=True).click()
    expect(director.get_by_role("heading", level=1)).to_have_text("转介帮扶措施")
    expect(director.locator("#referral-form")).to_contain_text("联系镇卫生院为孩子免费看牙")
    director.get_by_label("转介部门").select_option(label="镇派出所")
    director.get_by_label("转介事项").fill("请派出所联系孩子父亲，督促带孩子就医")
    director.get_by_role("button", name="转介", exact=True).click()
    expect(director.get_by_role("heading", level=1)).to_have_text("转介 · 镇派出所")
    expect(director.locator("#referral")).to_contain_text("待接收")
    director.goto(f"/children/{visit['child']}/plan")
    measure = director.locator("section.need", has_text="医疗康复").locator("li.measure")
    expect(measure.locator("[data-referral-state]")).to_have_text("待接收")
    expect(measure).to_contain_text("镇派出所")
    expect(measure.locator(".tag").first).to_have_text("办理中")
    screenshot(director, "referred")
    director_before = bell_count(director)

    # 派出所: the bell went up, the referral on its home card and in its inbox
    paichusuo.goto("/")
    expect(paichusuo.locator("#notice-bell .bell-count")).to_have_attribute("data-unread", str(police_before + 1))
    expect(paichusuo.locator("#home-referrals")).to_contain_text(CHILD)
    paichusuo.goto("/referrals")
    expect(paichusuo.get_by_role("heading", level=1)).to_have_text("转介收件箱")
    row = paichusuo.locator("#referral-rows li", has_text=CHILD)
    expect(row).to_contain_text("待接收")
    expect(row).to_contain_text("医疗康复：联系镇卫生院为孩子免费看牙")
    assert paichusuo.evaluate("document.documentElement.scrollWidth") <= 360
    row.get_by_role("link").click()
    expect(paichusuo.get_by_role("heading", level=1)).to_have_text("转介 · 镇派出所")
    expect(paichusuo.locator("#referral-child h2")).to_contain_text(CHILD)
    expect(paichusuo.locator("#referral")).to_contain_text("请派出所联系孩子父亲，督促带孩子就医")
    paichusuo.get_by_role("button", name="接收转介").click()
    expect(paichusuo.locator("#referral")).to_contain_text("办理中")
    expect(paichusuo.get_by_role("button", name="接收转介")).to_have_count(0)
    action = paichusuo.locator("#action-form")
    action.get_by_label("日期").fill(local_today().isoformat())
    action.get_by_label("办理情况").fill("已联系孩子父亲，周六带孩子到镇卫生院看牙")
    action.get_by_role("button", name="保存").click()
    expect(paichusuo.locator("#actions li.row")).to_have_count(1)
    expect(paichusuo.locator("#actions")).to_contain_text("已联系孩子父亲，周六带孩子到镇卫生院看牙")
    paichusuo.locator("#return summary").click()
    returned = paichusuo.locator("#return-form")
    returned.get_by_label("已办结").check()
    returned.get_by_label("办理结果说明").fill("孩子已补牙，费用由医保和镇卫生院减免")
    returned.get_by_role("button", name="提交").click()
    expect(paichusuo.get_by_role("heading", level=1)).to_have_text("转介收件箱")  # back in its inbox
    expect(paichusuo.get_by_role("status")).to_contain_text("已办结")
    row = paichusuo.locator("#referral-rows li", has_text=CHILD)
    expect(row).to_contain_text("已办结")
    row.get_by_role("link").click()
    expect(paichusuo.locator("#return-note")).to_have_text("孩子已补牙，费用由医保和镇卫生院减免")
    expect(paichusuo.locator("#return-form")).to_have_count(0)
    screenshot(paichusuo, "returned")

    # zhuren1: the bell went up (the referral came back), the measure done, the need met
    director.goto(f"/children/{visit['child']}/plan")
    expect(director.locator("#notice-bell .bell-count")).to_have_attribute("data-unread", str(director_before + 1))
    need = director.locator("section.need", has_text="医疗康复")
    measure = need.locator("li.measure")
    expect(measure.locator(".tag").first).to_have_text("已完成")
    expect(measure).to_contain_text("孩子已补牙，费用由医保和镇卫生院减免")
    expect(measure.locator("[data-referral-state]")).to_have_text("已办结")
    need.locator("summary", has_text="需求已解决或不再需要").click()
    resolve = need.locator("form.resolve-form")
    resolve.get_by_label("已解决").check()
    resolve.get_by_label("说明").fill("孩子牙已看好，情绪好转")
    resolve.get_by_role("button", name="保存").click()
    expect(director.locator("#plan-child")).to_contain_text("待解决 1 项 · 已解决或不再需要 1 项")
    met = director.locator("section.need[data-state='met']")
    expect(met).to_contain_text("医疗康复")
    expect(met.locator(".resolution")).to_contain_text("已解决：孩子牙已看好，情绪好转")
    assert director.evaluate("document.documentElement.scrollWidth") <= 360
    screenshot(director, "need-met")

    # the rows behind what the pages said
    with live_app.app_context():
        needs = db.session.scalars(select(Need).where(Need.child_id == visit["child"]).order_by(Need.category)).all()
        assert [(n.category, n.source, n.source_id, n.state) for n in needs] == [
            ("medical", "visit", visit["visit"], "met"), ("psychological", "visit", visit["visit"], "open")]
        measures = db.session.scalars(select(Measure).where(Measure.child_id == visit["child"])).all()
        assert [(m.need_id, m.action, m.owner_name, m.due_on, m.state, m.outcome) for m in measures] == [
            (needs[0].id, "联系镇卫生院为孩子免费看牙", "张秀英", due, "done", "孩子已补牙，费用由医保和镇卫生院减免")]
        referral = db.session.scalar(select(Referral).where(Referral.measure_id == measures[0].id))
        assert (referral.department.code, referral.state, referral.closed_on, referral.accepted_by.username) == (
            "police", "done", local_today(), "paichusuo")
        actions = db.session.scalars(select(ReferralAction).where(ReferralAction.referral_id == referral.id)).all()
        assert [(a.acted_on, a.text) for a in actions] == [(local_today(), "已联系孩子父亲，周六带孩子到镇卫生院看牙")]
        kinds = db.session.execute(select(User.username, Notice.kind).join(User, Notice.user_id == User.id).where(
            Notice.key.in_((f"referral_received:{referral.id}", f"referral_returned:{referral.id}")))).all()
        assert sorted(kinds) == [("paichusuo", "referral_received"), ("zhuren1", "referral_returned")]
        db.session.remove()
    paichusuo.context.close()
    director.context.close()
