"""The bell on a 360×740 phone: the count in the top bar, the list, one notice marked read in its row
(htmx) and the bell's count going down at once without a reload; the top bar still fits."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete, select

from blueprints.auth.models import User
from blueprints.notices.models import Notice
from blueprints.notices.services import notify
from extensions import db

pytestmark = pytest.mark.browser


def test_the_bell_counts_down_as_notices_are_read(phone, login, live_app, screenshot):
    with live_app.app_context():
        user = db.session.scalar(select(User).where(User.username == "zhuren2"))
        db.session.execute(delete(Notice).where(Notice.user_id == user.id))
        notify([user], "referral_returned", "转介已办结：请看帮扶方案", key="browser:1", url="/")
        notify([user], "measure_due", "一项帮扶措施将于后天到期", key="browser:2", url="/")
        db.session.commit()
        db.session.remove()
    login(phone, "zhuren2")
    bell = phone.locator("#notice-bell")
    expect(bell.locator(".bell-count")).to_have_text("2")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    box = bell.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box

    bell.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("消息")
    row = phone.locator("#notice-rows li").filter(has_text="一项帮扶措施将于后天到期")
    row.get_by_role("button", name="标为已读").click()
    expect(row.get_by_role("button", name="标为已读")).to_have_count(0)
    expect(bell.locator(".bell-count")).to_have_text("1")  # replaced out of band, no reload
    expect(phone.locator("#notices-unread")).to_have_text("1")
    screenshot(phone)

    phone.get_by_role("button", name="全部标为已读").click()
    expect(phone.locator("#notices-unread")).to_have_text("0")
    expect(bell.locator(".bell-count")).to_have_count(0)
