"""The duplicate check at registration looks across the whole town, but tells a user nothing of a
child outside their reach beyond "there is one, ask civil affairs": not the name, birth date,
village or archive number, whichever way the match was found (ID number, name and birth date,
guardian phone and a similar name). Each such lookup is audited with the child's id."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from blueprints.children.models import Child
from blueprints.children.services import FamilyInput
from blueprints.core.audit import AuditEvent
from extensions import db
from tests.factories import create_child, create_user, create_village, valid_id_number

ELSEWHERE = "系统中已有与此相符的儿童档案，不在您的工作范围内。请联系镇民政组核实，不要重复登记。"
THEIR_BIRTH = date(2014, 7, 19)
THEIR_ID = valid_id_number(THEIR_BIRTH, 77, gender="female")
THEIR_PHONE = "13900001111"


@pytest.fixture
def town(app):
    a, b = create_village("甲庄村"), create_village("乙屯村")
    create_user("director", username="zhuren_a", villages=[a])
    create_user("director", username="zhuren_b", villages=[b])
    return {"a": a, "b": b}


def existing(village) -> Child:
    """The child already on record (in village A or B)."""
    return create_child("龚雪琳", village=village, birth=THEIR_BIRTH, gender="female", id_number=THEIR_ID,
                        family=[FamilyInput(relation="祖母", name="龚桂芝", phone=THEIR_PHONE, is_guardian=True)])


def registration(village, **overrides) -> dict:
    data = {
        "name": "王小川", "id_number": valid_id_number(date(2015, 3, 2), 8), "gender": "", "ethnicity": "汉族",
        "residence_village_id": village.id, "hukou_village_id": 0, "school_id": 0,
        "categories": ["left_behind"], "attention_level": "general", "state_guardianship": "none",
        "disability_kind": "", "disability_grade": "", "caregiver_relation": "",
        "guardian_name": "王秀英", "guardian_relation": "祖母", "guardian_phone": "13700002222",
        "father_name": "王大川", "father_works_away": "y",
    }
    data.update(overrides)
    return data


# way → what the director of village A types about a child of her own
WAYS = {
    "id_number": dict(name="王小川", id_number=THEIR_ID),
    "name_and_birth_date": dict(name="龚雪琳", id_number="", birth_date=THEIR_BIRTH.isoformat(), gender="female"),
    "guardian_phone_and_near_name": dict(name="龚雪林", guardian_phone=THEIR_PHONE),
}


def duplicates_box(page: str) -> str:
    """The warning above the form and the ID number field's error: where a match is described."""
    box = re.search(r'<div class="flash flash-warn" role="alert" id="duplicates">.*?</div>', page, re.S)
    error = re.search(r'<p class="error" id="id_number-error">.*?</p>', page, re.S)
    return "".join(m.group(0) for m in (box, error) if m)


def outside_reach_events():
    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == "duplicate_outside_reach")).all()


def children() -> int:
    return db.session.scalar(select(func.count(Child.id)))


@pytest.mark.parametrize("way", list(WAYS))
def test_a_match_outside_reach_is_not_described_but_audited(town, client, auth, way):
    theirs = existing(town["b"])
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], **WAYS[way]))
    page = response.get_data(as_text=True)
    assert response.status_code == (422 if way == "id_number" else 409)
    assert ELSEWHERE in page
    # Nothing of B's child anywhere in the page, but what the director typed herself
    for told in ("乙屯村", theirs.archive_no, f"/children/{theirs.id}", "龚桂芝"):
        assert told not in page, (way, told)
    for told in ("龚雪琳", THEIR_BIRTH.isoformat(), THEIR_ID):
        assert told not in duplicates_box(page), (way, told)
    if way != "name_and_birth_date":
        assert "龚雪琳" not in page and THEIR_BIRTH.isoformat() not in page
    assert children() == 1
    [event] = outside_reach_events()
    assert event.username == "zhuren_a" and event.object_type == "children" and event.object_id == str(theirs.id)
    assert str(theirs.id) in event.detail and THEIR_ID not in event.detail


def test_a_probable_match_outside_reach_can_still_be_confirmed(town, client, auth):
    """A same-named child born the same day elsewhere may be another child: the director may go on."""
    existing(town["b"])
    auth.login("zhuren_a")
    data = registration(town["a"], **WAYS["name_and_birth_date"])
    assert client.post("/children/new", data=data).status_code == 409
    response = client.post("/children/new", data={**data, "confirm_duplicate": "y"})
    assert response.status_code == 303 and children() == 2
    assert len(outside_reach_events()) == 2  # each lookup


def test_the_same_id_number_outside_reach_is_refused_on_edit_too(town, client, auth):
    theirs = existing(town["b"])
    mine = create_child("王小川", village=town["a"], birth=THEIR_BIRTH, gender="female", id_number=None)
    auth.login("zhuren_a")
    response = client.post(f"/children/{mine.id}/edit", data={
        **registration(town["a"], name="王小川", id_number=THEIR_ID), "caregiver_relation": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and ELSEWHERE in page
    assert "龚雪琳" not in page and theirs.archive_no not in page and "乙屯村" not in page
    db.session.refresh(mine)
    assert mine.id_number is None
    assert [e.object_id for e in outside_reach_events()] == [str(theirs.id)]


@pytest.mark.parametrize("way", list(WAYS))
def test_inside_reach_the_match_is_shown_with_a_link(town, client, auth, way):
    ours = existing(town["a"])
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"], **WAYS[way]))
    page = response.get_data(as_text=True)
    assert f'href="/children/{ours.id}"' in page and ours.archive_no in page
    assert "龚雪琳" in duplicates_box(page) and ELSEWHERE not in page
    if way != "id_number":
        assert "甲庄村" in duplicates_box(page) and THEIR_BIRTH.isoformat() in duplicates_box(page)
    assert children() == 1 and outside_reach_events() == []


def test_nothing_found_nothing_audited(town, client, auth):
    existing(town["b"])
    auth.login("zhuren_a")
    response = client.post("/children/new", data=registration(town["a"]))
    assert response.status_code == 303 and children() == 2
    assert outside_reach_events() == []
