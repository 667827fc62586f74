"""Inputs of issue 11's forms that once gave a 500 (found by tests/test_fuzz.py), by name: each is
now refused with a message naming its field, or taken as it should be."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from blueprints.care.models import AssessmentItem
from blueprints.children.models import Benefit
from blueprints.core.clock import local_today
from extensions import db
from tests.factories import PASSWORD, create_child, create_user, create_village
from tests.test_care_assessments import scale_data, seed_scale, sign_in


@pytest.mark.parametrize("position", [str(2**31), str(2**63), str(2**64), "9" * 30, "-" + "9" * 30])
def test_an_items_order_beyond_the_column_is_refused_naming_the_field(app, position):
    items = seed_scale()
    client = sign_in(app, create_user("admin"))
    for changes in ({f"item_{items[0].id}_position": position},
                    {"item_new_text": "孩子有安全的住处", "item_new_position": position}):
        response = client.post("/care/assessment-scale", data=scale_data(items, **changes))
        assert response.status_code == 422, changes
        label = "第 1 项" if "item_new_text" not in changes else "新增项目"
        assert f"{label}的顺序：" in response.text, changes
    db.session.expire_all()
    assert [item.position for item in db.session.scalars(db.select(AssessmentItem).order_by(AssessmentItem.id))] \
        == [1, 2, 3]


@pytest.mark.parametrize("amount", [str(2**31), "100000000", "9" * 30])
def test_a_benefit_beyond_its_column_is_refused_naming_the_amount(app, amount):
    """Found by the fuzz's one-field posts on PostgreSQL (numeric(10, 2) refuses 10^8 and more):
    outside issue 11, the smallest fix is the form's."""
    village = create_village()
    child = create_child("王小明", village=village)
    client = sign_in(app, create_user("director", villages=[village]))
    form = {"kind": "basic_living", "period": "每月", "start_on": local_today().isoformat(), "amount": amount}
    response = client.post(f"/children/{child.id}/benefits", data=form)
    assert response.status_code == 422 and "金额最多 99999999 元" in response.text
    assert client.post(f"/children/{child.id}/benefits", data={**form, "amount": "99999999"}).status_code == 303
    assert db.session.scalar(db.select(db.func.count(Benefit.id))) == 1


def test_attachments_posted_as_text_are_no_attachment(app, client):
    """A form field `attachments` that is text, not a file (a script, a proxy): the action is recorded
    without attachments, never a 500."""
    from blueprints.care.models import ReferralAction, ReferralAttachment
    from tests.factories import create_measure, create_need, create_referral

    create_user("department", "paichusuo_in", department_code="police")
    measure = create_measure(create_need(create_child("龚小雨", village=create_village("前王庄村"))))
    referral = create_referral(measure, "police", state="accepted")
    client.post("/login", data={"username": "paichusuo_in", "password": PASSWORD})
    answer = client.post(f"/referrals/{referral.id}/actions", data={
        "acted_on": local_today().isoformat(), "text": "已电话联系监护人", "attachments": ["0", "名单.xlsx"]})
    assert answer.status_code == 303
    assert db.session.scalar(select(func.count(ReferralAction.id))) == 1
    assert db.session.scalar(select(func.count(ReferralAttachment.id))) == 0
