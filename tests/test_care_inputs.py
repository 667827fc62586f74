"""Inputs of issue 11's forms that once gave a 500 (found by tests/test_fuzz.py), by name: each is
now refused with a message naming its field, or taken as it should be."""
from __future__ import annotations

import pytest

from blueprints.care.models import AssessmentItem
from extensions import db
from tests.factories import create_user
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
