"""Guardianship assessment (监护评估, §8): the weighted score and its level, every item answered, the
interventions and needs a low result suggests (a need added once however often it is tapped), the
scale an administrator edits (each refusal names its field; earlier assessments keep what they
were asked), the record section and the archive — and who may do what: another village's director
gets 404, a school, a department, a volunteer and the administrator never see an assessment."""
from __future__ import annotations

import unicodedata
from datetime import timedelta
from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from blueprints.care.assessments import level_of, percent_of
from blueprints.care.models import AssessmentAnswer, AssessmentItem, AssessmentThreshold, GuardianshipAssessment, Need
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from extensions import db
from tests.conftest import AuthActions
from tests.factories import create_child, create_pairing, create_school, create_user, create_village, create_volunteer

NOTE = "奶奶腿脚不便，孩子常独自在家"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def sign_in(app, user):
    client = app.test_client()
    assert AuthActions(client).login(user.username).status_code in (302, 303)
    return client


def pdf_text(response) -> str:
    pages = PdfReader(BytesIO(response.data)).pages
    return "".join(unicodedata.normalize("NFKC", "".join(p.extract_text() for p in pages)).split())


def seed_scale():
    """Three items (weights 3, 2, 1) and the default thresholds, in place of the migration's (whose
    rows are there for the run's first test only: every table is emptied after each)."""
    db.session.execute(AssessmentItem.__table__.delete())
    db.session.execute(AssessmentThreshold.__table__.delete())
    items = [AssessmentItem(text="监护人能保证孩子吃饱穿暖", weight=3, position=1, need_category="living"),
             AssessmentItem(text="孩子生病时能及时就医", weight=2, position=2, need_category="medical"),
             AssessmentItem(text="父母每周与孩子联系", weight=1, position=3, need_category="guardianship")]
    db.session.add_all(items + [AssessmentThreshold(level="capable", min_percent=75),
                                AssessmentThreshold(level="partial", min_percent=45)])
    db.session.commit()
    return items


@pytest.fixture
def town(app):
    village, other_village = create_village("前王庄村"), create_village("后李村")
    school = create_school("中心小学", villages=[village])
    child = create_child("王小丽", village=village, school=school, gender="female")
    elsewhere = create_child("赵小刚", village=other_village)
    volunteer = create_volunteer(village=village)
    create_pairing(child, volunteer)
    users = {
        "director": create_user("director", username="zhuren", villages=[village]),
        "other_director": create_user("director", username="zhuren2", villages=[other_village]),
        "civil_affairs": create_user("civil_affairs", username="minzheng"),
        "supervisor": create_user("supervisor", username="dudao"),
        "school": create_user("school", username="xuexiao", school=school),
        "police": create_user("department", username="paichusuo", department_code="police"),
        "volunteer": volunteer.user,
        "admin": create_user("admin", username="guanli"),
    }
    return dict(child=child, elsewhere=elsewhere, items=seed_scale(), users=users)


def answers(items, *values, **extra):
    data = {f"item_{item.id}_answer": str(v) for item, v in zip(items, values) if v is not None}
    return {"assessed_on": local_today().isoformat(), "note": NOTE} | data | extra


# --- the score ---------------------------------------------------------------------------------------

def test_the_percent_is_weighted_and_rounded_half_up_and_the_level_follows_the_thresholds():
    assert percent_of([(3, 2), (2, 1), (1, 0)]) == 67  # 8 / 12
    assert percent_of([(1, 2), (1, 1)]) == 75  # 3 / 4
    assert percent_of([(1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 1), (1, 0)]) == 81  # 13 / 16 = 81.25
    assert percent_of([(1, 1), (1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (1, 0), (1, 0)]) == 6  # 6.25
    assert percent_of([(5, 2)]) == 100 and percent_of([(5, 0)]) == 0
    limits = {"capable": 75, "partial": 45}
    assert [level_of(p, limits) for p in (100, 75, 74, 45, 44, 0)] == [
        "capable", "capable", "partial", "partial", "severe", "severe"]


def test_an_assessment_is_stored_with_its_answers_level_and_suggestions(app, town):
    child, items = town["child"], town["items"]
    client = sign_in(app, town["users"]["director"])
    form = client.get(f"/children/{child.id}/assessments/new")
    assert form.status_code == 200 and "监护人能保证孩子吃饱穿暖" in form.text and "部分具备" in form.text
    response = client.post(f"/children/{child.id}/assessments/new", data=answers(items, 2, 1, 0))
    assert response.status_code == 303
    assessment = db.session.scalar(select(GuardianshipAssessment))
    assert (assessment.percent, assessment.level, assessment.note) == (67, "partial", NOTE)
    assert [(a.item_text, a.weight, a.answer) for a in db.session.scalars(
        select(AssessmentAnswer).order_by(AssessmentAnswer.id))] == [
        ("监护人能保证孩子吃饱穿暖", 3, 2), ("孩子生病时能及时就医", 2, 1), ("父母每周与孩子联系", 1, 0)]
    page = client.get(response.headers["Location"]).text
    assert "67%" in page and "部分缺失" in page
    # 部分缺失 suggests 家庭教育指导 (ticked), not 临时监护
    assert '<input checked id="interventions-0" name="interventions" type="checkbox" value="family_education">' in page
    assert '<input id="interventions-2" name="interventions" type="checkbox" value="temporary_guardianship">' in page
    assert "建议：家庭教育指导。" in page
    # the items below 具备 suggest their needs; the item answered 具备 does not
    assert 'id="suggested-medical"' in page and 'id="suggested-guardianship"' in page
    assert 'id="suggested-living"' not in page
    assert count(AuditEvent, AuditEvent.action == "assessment_recorded") == 1
    assert count(AuditEvent, AuditEvent.action == "assessment_viewed") == 1


def test_every_item_must_be_answered_and_nothing_typed_is_lost(app, town):
    child, items = town["child"], town["items"]
    client = sign_in(app, town["users"]["director"])
    response = client.post(f"/children/{child.id}/assessments/new", data=answers(items, 2, None, 0))
    assert response.status_code == 422
    assert "2. 孩子生病时能及时就医：请选择具备、部分具备或缺失" in response.text
    assert NOTE in response.text  # the note typed
    assert (f'<input checked id="item_{items[0].id}_answer-0" name="item_{items[0].id}_answer" type="radio" value="2">'
            in response.text)  # the answers given stay ticked
    assert count(GuardianshipAssessment) == 0
    future = (local_today() + timedelta(days=1)).isoformat()
    response = client.post(f"/children/{child.id}/assessments/new", data=answers(items, 2, 2, None, assessed_on=future))
    assert response.status_code == 422 and "评估日期不能晚于今天" in response.text
    assert "3. 父母每周与孩子联系：请选择具备、部分具备或缺失" in response.text  # both at once
    assert count(GuardianshipAssessment) == 0


def test_severe_suggests_every_intervention_and_the_assessor_ticks_them(app, town):
    child, items = town["child"], town["items"]
    client = sign_in(app, town["users"]["civil_affairs"])
    client.post(f"/children/{child.id}/assessments/new", data=answers(items, 0, 1, 2))  # 4 / 12 = 33 %
    assessment = db.session.scalar(select(GuardianshipAssessment))
    assert (assessment.percent, assessment.level) == (33, "severe")
    page = client.get(f"/care/assessments/{assessment.id}").text
    assert "建议：家庭教育指导、申请督促监护令、临时监护。" in page
    response = client.post(f"/care/assessments/{assessment.id}/interventions",
                           data={"interventions": ["temporary_guardianship", "family_education"]})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(GuardianshipAssessment, assessment.id).interventions == "family_education,temporary_guardianship"
    assert "临时监护" in client.get(f"/children/{child.id}").text  # the record section
    refused = client.post(f"/care/assessments/{assessment.id}/interventions", data={"interventions": ["jail"]})
    assert refused.status_code == 422 and "干预措施" in refused.text


def test_a_suggested_need_joins_the_plan_once_however_often_it_is_tapped(app, town):
    child, items = town["child"], town["items"]
    client = sign_in(app, town["users"]["director"])
    client.post(f"/children/{child.id}/assessments/new", data=answers(items, 2, 1, 0))
    assessment = db.session.scalar(select(GuardianshipAssessment))
    url = f"/care/assessments/{assessment.id}/needs/medical"
    first = client.post(url, headers={"HX-Request": "true"})
    assert first.status_code == 200 and "已加入帮扶方案" in first.text and "<html" not in first.text
    assert client.post(url).status_code == 303
    needs = db.session.scalars(select(Need)).all()
    assert [(n.child_id, n.category, n.source, n.source_id) for n in needs] == [
        (child.id, "medical", "assessment", assessment.id)]
    assert "孩子生病时能及时就医（部分具备）" in needs[0].description
    # 具备 suggests nothing; a category that is no need at all
    assert client.post(f"/care/assessments/{assessment.id}/needs/living").status_code == 404
    assert client.post(f"/care/assessments/{assessment.id}/needs/pony").status_code == 404
    assert count(Need) == 1


# --- the scale -----------------------------------------------------------------------------------------

def scale_data(items, **changes):
    data = {"capable": "75", "partial": "45", "item_new_text": "", "item_new_weight": "2", "item_new_position": "9",
            "item_new_need_category": ""}
    for item in items:
        data |= {f"item_{item.id}_text": item.text, f"item_{item.id}_weight": str(item.weight),
                 f"item_{item.id}_need_category": item.need_category or "", f"item_{item.id}_position": str(item.position),
                 f"item_{item.id}_active": "y"}
    return data | changes


def test_the_scale_refuses_bad_values_naming_the_field(app, town):
    items = town["items"]
    client = sign_in(app, town["users"]["admin"])
    assert client.get("/care/assessment-scale").status_code == 200
    for changes, message in [
        ({f"item_{items[0].id}_weight": "6"}, "第 1 项的权重：请填 1 到 5 的整数"),
        ({f"item_{items[1].id}_text": ""}, "第 2 项的内容：请填写"),
        ({"capable": "40"}, "“有能力”的最低百分比：应大于“部分缺失”的 45"),
        ({"partial": "101"}, "“部分缺失”的最低百分比：请填 0 到 100 的整数"),
        ({"item_new_text": "孩子有安全的住处", "item_new_weight": "0"}, "新增项目的权重：请填 1 到 5 的整数"),
    ]:
        data = scale_data(items, **changes)
        response = client.post("/care/assessment-scale", data=data)
        assert response.status_code == 422, changes
        assert message in response.text, changes
    none_active = scale_data(items)
    for item in items:
        del none_active[f"item_{item.id}_active"]
    response = client.post("/care/assessment-scale", data=none_active)
    assert response.status_code == 422 and "至少要启用一个评估项目" in response.text
    assert db.session.get(AssessmentThreshold, "capable").min_percent == 75
    assert count(AssessmentItem) == 3


def test_an_edited_scale_is_asked_from_then_on_and_earlier_assessments_keep_theirs(app, town):
    child, items = town["child"], town["items"]
    director = sign_in(app, town["users"]["director"])
    director.post(f"/children/{child.id}/assessments/new", data=answers(items, 2, 2, 1))  # 11 / 12 = 92 %
    before = db.session.scalar(select(GuardianshipAssessment))
    admin = sign_in(app, town["users"]["admin"])
    data = scale_data(items, capable="95", partial="60", **{
        f"item_{items[0].id}_text": "监护人能保证孩子一日三餐", f"item_{items[0].id}_weight": "5",
        "item_new_text": "孩子有安全的住处", "item_new_weight": "4", "item_new_need_category": "safety"})
    del data[f"item_{items[2].id}_active"]  # 父母每周与孩子联系: no longer asked
    assert admin.post("/care/assessment-scale", data=data).status_code == 303
    db.session.expire_all()
    assert (db.session.get(AssessmentThreshold, "capable").min_percent,
            db.session.get(AssessmentThreshold, "partial").min_percent) == (95, 60)
    form = director.get(f"/children/{child.id}/assessments/new").text
    assert "监护人能保证孩子一日三餐" in form and "孩子有安全的住处" in form and "父母每周与孩子联系" not in form
    new_item = db.session.scalar(select(AssessmentItem).where(AssessmentItem.text == "孩子有安全的住处"))
    assert (new_item.weight, new_item.need_category, new_item.active) == (4, "safety", True)
    active = db.session.scalars(select(AssessmentItem).where(AssessmentItem.active)
                                .order_by(AssessmentItem.position, AssessmentItem.id)).all()
    director.post(f"/children/{child.id}/assessments/new", data=answers(active, 2, 2, 1))  # (10+4+4)/22 = 82 %
    after = db.session.scalar(select(GuardianshipAssessment).where(GuardianshipAssessment.id != before.id))
    assert (after.percent, after.level) == (82, "partial")  # 82 < 95 now
    old = director.get(f"/care/assessments/{before.id}").text
    assert "监护人能保证孩子吃饱穿暖" in old and "父母每周与孩子联系" in old and "92%" in old and "有能力" in old
    assert count(AuditEvent, AuditEvent.action == "assessment_scale_saved") == 1


# --- who may do what -------------------------------------------------------------------------------------

def test_reach_and_grants(app, town):
    child, elsewhere, items, users = town["child"], town["elsewhere"], town["items"], town["users"]
    sign_in(app, users["director"]).post(f"/children/{child.id}/assessments/new", data=answers(items, 0, 0, 0))
    assessment = db.session.scalar(select(GuardianshipAssessment))
    other = sign_in(app, users["other_director"])
    assert other.get(f"/children/{child.id}/assessments/new").status_code == 404
    assert other.get(f"/care/assessments/{assessment.id}").status_code == 404
    assert other.post(f"/care/assessments/{assessment.id}/needs/living").status_code == 404
    assert other.get("/care/assessment-scale").status_code == 403
    for role in ("school", "police", "volunteer", "admin"):
        client = sign_in(app, users[role])
        assert client.get(f"/care/assessments/{assessment.id}").status_code == 403, role
        assert client.get(f"/children/{child.id}/assessments/new").status_code == 403, role
        assert client.post(f"/care/assessments/{assessment.id}/interventions").status_code == 403, role
    page = sign_in(app, users["school"]).get(f"/children/{child.id}")  # her pupil's page: no assessment there
    assert page.status_code == 200 and "监护评估" not in page.text
    supervisor = sign_in(app, users["supervisor"])
    assert supervisor.get(f"/care/assessments/{assessment.id}").status_code == 200
    assert supervisor.get("/care/assessment-scale").status_code == 403
    assert sign_in(app, users["civil_affairs"]).get(f"/children/{elsewhere.id}/assessments/new").status_code == 200


def test_the_record_section_and_the_archive(app, town):
    child, items, users = town["child"], town["items"], town["users"]
    director = sign_in(app, users["director"])
    empty = director.get(f"/children/{child.id}").text
    assert "还没有监护评估" in empty and f"/children/{child.id}/assessments/new" in empty
    director.post(f"/children/{child.id}/assessments/new", data=answers(items, 0, 1, 0))  # 2 / 12 = 17 %
    assessment = db.session.scalar(select(GuardianshipAssessment))
    director.post(f"/care/assessments/{assessment.id}/interventions", data={"interventions": ["supervision_order"]})
    page = director.get(f"/children/{child.id}").text
    assert f"/care/assessments/{assessment.id}" in page and "严重缺失" in page and "申请督促监护令" in page
    pdf = pdf_text(director.get(f"/children/{child.id}/archive.pdf"))
    assert "监护评估" in pdf and "17%" in pdf and "严重缺失" in pdf and "申请督促监护令" in pdf
    school_pdf = sign_in(app, users["school"]).get(f"/children/{child.id}/archive.pdf")
    assert school_pdf.status_code == 200 and "监护评估" not in pdf_text(school_pdf)
