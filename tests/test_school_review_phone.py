"""Review of the class teacher's phone (issue 10): what the contacts card, the picker and the form
offer, and the school-duty grants of core/access.py and core/disclosure.py."""
from __future__ import annotations

from datetime import timedelta

import pytest

from blueprints.core.access import can, grants_of
from blueprints.core.clock import local_today
from blueprints.core.disclosure import disclosure_for
from blueprints.schools.enrolment import change_enrolment
from extensions import db
from tests.factories import create_child, create_school, create_user, create_village


@pytest.fixture
def scene(app):
    jia = create_village("甲村")
    school = create_school("中心小学", villages=[jia])
    coordinator = create_user("school", username="xuexiao_a", school=school)
    teacher = create_user("school", username="banzhuren_a", school=school, school_duty="head_teacher")
    staying = create_child("王小花", village=jia, school=school, categories=["left_behind"])
    return dict(jia=jia, school=school, coordinator=coordinator, teacher=teacher, staying=staying)


@pytest.mark.parametrize("state", ["graduated", "transferred", "not_enrolled"])
def test_a_pupil_who_left_the_school_is_not_due_for_a_contact_nor_offered_on_the_phone(client, auth, scene, state):
    """A 留守 pupil who graduated, moved out of the town or never enrolled keeps children.school_id
    until the town moves her; the card asked the class teacher to call her family every month."""
    gone = create_child("李毕业", village=scene["jia"], school=scene["school"], categories=["left_behind"])
    dropped = create_child("赵辍学", village=scene["jia"], school=scene["school"], categories=["left_behind"])
    if state != "not_enrolled":
        change_enrolment(gone, {"state": state, "changed_on": local_today() - timedelta(days=3),
                                "note": "转入外县某小学"}, actor=scene["coordinator"])
    else:
        change_enrolment(gone, {"state": "suspended", "changed_on": local_today() - timedelta(days=5)},
                         actor=scene["coordinator"])
        change_enrolment(gone, {"state": state, "changed_on": local_today() - timedelta(days=3)},
                         actor=scene["coordinator"])
    # a dropout's family is still the school's to keep in touch with
    change_enrolment(dropped, {"state": "suspended", "changed_on": local_today() - timedelta(days=3)},
                     actor=scene["coordinator"])
    db.session.commit()
    auth.login("banzhuren_a")
    card = client.get("/").get_data(as_text=True)
    start = card.index('id="home-contacts-due"')
    card = card[start:card.index("</section>", start)]
    assert "王小花" in card and "赵辍学" in card and "李毕业" not in card
    assert "（2 名）" in card
    assert "李毕业" not in client.get("/schools/contacts/due").get_data(as_text=True)
    names = [row["name"] for row in client.get("/api/v1/school-pupils").get_json()["children"]]
    assert sorted(names) == sorted(["王小花", "赵辍学"])
    assert "李毕业" not in client.get("/schools/contacts/log").get_data(as_text=True)


def test_a_school_duty_unset_or_unknown_gives_the_school_role_alone(scene):
    teacher = scene["teacher"]
    base = grants_of(teacher)
    for duty in (None, "", "principal", "mental_health "):
        teacher.school_duty = duty
        assert grants_of(teacher) == base, duty
        assert not can(teacher, "screenings:read") and not can(teacher, "carers:manage"), duty
        assert not disclosure_for(teacher).shows("screening.band"), duty
    teacher.school_duty = "mental_health"
    assert can(teacher, "screenings:read") and disclosure_for(teacher).shows("screening.band")
    db.session.rollback()


def test_only_a_school_account_gets_a_school_duty_grant(scene):
    """A duty left on an account of another role (set before its role changed) grants nothing."""
    for role, extra in (("department", {"department_code": "education"}), ("director", {"villages": [scene["jia"]]}),
                        ("volunteer", {}), ("civil_affairs", {}), ("admin", {})):
        user = create_user(role, **extra)
        before = grants_of(user)
        user.school_duty = "mental_health"
        assert grants_of(user) == before, role
        assert not can(user, "screenings:write"), role
        user.school_duty = "coordinator"
        assert not can(user, "carers:manage") and not can(user, "fee_waivers:manage"), role
    db.session.rollback()


def test_an_exit_dated_back_never_ends_a_carer_before_she_was_named_nor_a_case_before_it_began(scene):
    """The exit form takes a past date: the hook ends what is open that day, or the day it began
    if that was later (as the volunteers' hook ends a pairing), so no row ends before it starts."""
    from blueprints.children.services import exit_child
    from blueprints.schools.models import DropoutCase, ResponsibleCarer
    from tests.factories import create_carer, create_dropout

    today = local_today()
    child, earlier = scene["staying"], create_child("李早", village=scene["jia"], school=scene["school"])
    carer = create_carer(child, since=today - timedelta(days=2))
    case = create_dropout(child, dropped_on=today - timedelta(days=3))
    old_carer = create_carer(earlier, since=today - timedelta(days=40))
    old_case = create_dropout(earlier, dropped_on=today - timedelta(days=30), returned_on=today - timedelta(days=20),
                              watch_until=today + timedelta(days=100))
    for pupil in (child, earlier):
        exit_child(pupil, "moved_away", today - timedelta(days=10), actor=scene["coordinator"])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(ResponsibleCarer, carer.id).ended_on == today - timedelta(days=2)
    assert db.session.get(DropoutCase, case.id).closed_on == today - timedelta(days=3)
    assert db.session.get(ResponsibleCarer, old_carer.id).ended_on == today - timedelta(days=10)
    assert db.session.get(DropoutCase, old_case.id).closed_on == today - timedelta(days=10)


def test_a_grant_to_a_misspelt_school_duty_is_refused_when_the_area_declares_it():
    from blueprints.core.access import add_grants

    with pytest.raises(KeyError, match="school duty"):
        add_grants("school:mental-health", {"screenings:read"})
