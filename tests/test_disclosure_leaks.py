"""The leak test: a child with known ID, certificate, phone and address values, read by every
role through every output that shows a child. Each raw value must appear exactly where the
disclosure policy lets that role see it in full, and nowhere else; where the policy masks it,
the masked form appears instead. The same for the child's birth date, in every form a date may be
printed. New outputs of a child's data join OUTPUTS (and SHOWN_IN)."""
from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from io import BytesIO

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from blueprints.care.assessments import active_items, record_assessment
from blueprints.care.conferences import hold_conference
from blueprints.care.models import AssessmentItem
from blueprints.care.plan import add_measure, add_need
from blueprints.care.referrals import refer_measure
from blueprints.care.urgent import flag_child
from blueprints.children.services import FamilyInput, save_family_member, update_child
from blueprints.children.models import Child, ChildChange, FamilyMember
from blueprints.core import access
from blueprints.core.access import can
from blueprints.core.clock import local_today
from blueprints.core.disclosure import FULL, HIDDEN, MASKED, disclosure_for, mask_birth_date, mask_id_number
from blueprints.visits.models import Visit
from blueprints.visits.review import return_visit
from extensions import db
from tests.factories import (create_carer, create_child, create_dropout, create_pairing, create_school,
                             create_school_contact, create_screening, create_user, create_village, create_volunteer,
                             department, valid_id_number)

BIRTH = date(2014, 5, 6)
WRONG_BIRTH = date(2014, 5, 7)  # registered first, then corrected: the history holds both
CHILD_ID = valid_id_number(BIRTH, 41, region="371724")
FATHER_ID = valid_id_number(date(1988, 1, 2), 42, region="372930")
FATHER_NEW_ID = valid_id_number(date(1988, 1, 2), 43, region="372930")
CERTIFICATE = CHILD_ID + "42"  # a 残疾证号 is the holder's ID number and two digits
FATHER_PHONE = "13912345678"
CAREGIVER_PHONE = "13787654321"
ADDRESS = "前王庄村东街18号"

# The care file (帮扶方案, 监护评估, 紧急情况): shown wherever the policy shows care.* and the reader
# reaches the child; never to a volunteer.
CARE_NOTE = "屋后水塘无护栏孩子常去玩水"
ASSESSMENT_NOTE = "祖父母年迈照顾不到孩子情绪"
URGENT_NOTE = "孩子独自在家两天无人照料"

# field → (the raw value, the outputs that show that field to a role allowed to see it)
VALUES = {
    "child.id_number": (CHILD_ID, {"record", "export", "pdf", "edit_form"}),
    "child.disability_certificate": (CERTIFICATE, {"record", "export", "pdf", "edit_form"}),
    "family.id_number": (FATHER_NEW_ID, {"record", "export", "pdf", "family_form"}),
    # a department acts on a referral, and the police on an urgent flag: where she lives, whom to call
    "family.phone": (FATHER_PHONE, {"record", "export", "pdf", "family_form", "referral", "urgent"}),
    "child.caregiver_phone": (CAREGIVER_PHONE, {"record", "export", "pdf", "edit_form", "referral", "urgent"}),
    "child.address": (ADDRESS, {"record", "export", "pdf", "edit_form", "referral", "urgent"}),
}
# The father's earlier ID number lives only in the history (record page and archive).
HISTORY_ONLY = {"family.id_number": (FATHER_ID, {"record", "pdf"})}
BIRTH_SHOWN_IN = {"record", "export", "pdf"}
# The psychological file: a screening's follow-up note and score, shown only where the policy shows
# screening.* (the school's mental-health teacher, civil affairs, the supervisor), in these outputs.
PSYCH_NOTE = "孩子说夜里常做噩梦需要持续陪伴"
PSYCH_SCORE = "37分"
PSYCH_SHOWN_IN = {PSYCH_NOTE: {"pdf", "screening"},
                  PSYCH_SCORE: {"record", "screening", "screenings", "screenings_fragment"}}  # a bare "37" in print


def date_forms(day: date) -> set[str]:
    """A date as the app prints it (format_date, the archive, an Excel date cell read back as
    "2014-05-06 00:00:00") and as a person would write it."""
    return {f"{day:%Y-%m-%d}", f"{day.year}年{day.month}月{day.day}日", f"{day:%Y年%m月%d日}",
            f"{day.year}/{day.month}/{day.day}", f"{day:%Y/%m/%d}", f"{day:%Y.%m.%d}", f"{day:%Y%m%d}"}


def _text(response) -> str:
    kind = response.headers.get("Content-Type", "")
    if "pdf" in kind:
        pages = PdfReader(BytesIO(response.data)).pages
        text = unicodedata.normalize("NFKC", "".join(page.extract_text() for page in pages))
    elif "spreadsheet" in kind:
        book = load_workbook(BytesIO(response.data), read_only=True)
        text = "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row
                         if v is not None)
    else:
        text = response.get_data(as_text=True)
    return "".join(text.split())  # a PDF breaks lines where it likes


@pytest.fixture
def scene(app, client, auth):
    village = create_village("前王庄村")
    school = create_school("中心小学", villages=[village])
    users = {
        "admin": create_user("admin", username="u_admin"),
        "civil_affairs": create_user("civil_affairs", username="u_mz"),
        "supervisor": create_user("supervisor", username="u_dd"),
        "director": create_user("director", username="u_zr", villages=[village]),
        "school": create_user("school", username="u_xx", school=school),
        "department": create_user("department", username="u_pcs"),
        "volunteer": create_user("volunteer", username="u_zy"),
        "tuanwei": create_user("department", username="u_tw", department_code="youth"),  # manages pairings
        # the school's staff by duty (u_xx above is its coordinator), and 镇教办 (the town's dropouts)
        "head_teacher": create_user("school", username="u_bzr", school=school, school_duty="head_teacher"),
        "mental_health": create_user("school", username="u_xl", school=school, school_duty="mental_health"),
        "jiaoban": create_user("department", username="u_jb", department_code="education"),
    }
    child = create_child(
        "龚小雨", village=village, school=school, birth=WRONG_BIRTH, gender="female", id_number=CHILD_ID,
        categories=["left_behind", "disability"], attention="key", address=ADDRESS,
        disability_kind="肢体", disability_grade="三级", grade="四年级", class_name="2班",
        caregiver_name="龚奶奶", caregiver_relation="祖母", caregiver_phone=CAREGIVER_PHONE,
        family=[FamilyInput(relation="父亲", name="龚大山", id_number=FATHER_ID, phone=FATHER_PHONE,
                            works_away=True, is_guardian=True)],
    )
    # History with ID values and the birth date: the certificate added, the day of birth and the
    # father's ID number corrected.
    update_child(child, {"disability_certificate": CERTIFICATE, "birth_date": BIRTH}, actor=users["civil_affairs"])
    father = child.family[0]
    save_family_member(child, FamilyInput(relation="父亲", name="龚大山", id_number=FATHER_NEW_ID, phone=FATHER_PHONE,
                                          works_away=True, is_guardian=True), father,
                       actor=users["civil_affairs"])
    db.session.commit()
    # The volunteer is paired with the child; one activity logged, with a word for the director.
    volunteer = create_volunteer(users["volunteer"], name="孙晓雨", kind="youth")
    pairing = create_pairing(child, volunteer, started_on=date(2026, 1, 5), goals="陪伴阅读")
    auth.login("u_zy")
    logged = client.post("/api/v1/pairing-activities", json={
        "client_uuid": "7d7b3c1e-0000-4000-8000-000000000002", "pairing_id": pairing.id,
        "done_on": date.today().isoformat(), "minutes": 60, "kind": "companionship", "note": "一起读绘本",
        "pass_on": "孩子的棉衣小了"})
    assert logged.status_code == 201, logged.get_data(as_text=True)
    auth.logout()
    auth.login("u_zr")
    visit = client.post("/api/v1/visits", json={
        "client_uuid": "7d7b3c1e-0000-4000-8000-000000000001", "child_id": child.id,
        "visited_on": date.today().isoformat(), "kind": "home", "needs": ["education"]})
    assert visit.status_code == 201
    auth.logout()
    # What the school keeps: a carer, a dropout followed up, a contact with the caregiver, a screening.
    create_carer(child, name="韩老师", phone="13600000009")
    case = create_dropout(child, dropped_on=date(2026, 10, 8))
    create_school_contact(child, users["head_teacher"], note="和奶奶电话沟通学习情况")
    # the class teacher teaches her class: her home's cards and lists open on it (schools/classes.py)
    users["head_teacher"].class_grade, users["head_teacher"].class_name = "四年级", "2班"
    screening = create_screening(child, score=37, band="high", followup="talk", followup_on=date(2026, 10, 14),
                                 followup_note=PSYCH_NOTE)
    # Her care: a need from the visit, its measure referred to the police (u_pcs: so the police reach
    # her, and are told); a guardianship assessment; an urgent flag; a case conference whose decision
    # is a measure of her plan; the visit sent back with a question.
    with app.test_request_context():
        need = add_need(child, {"category": "safety", "description": CARE_NOTE}, actor=users["director"])
        db.session.flush()
        measure = add_measure(need, {"action": "加装护栏", "department_id": None, "owner_name": "张秀英",
                                     "due_on": local_today() + timedelta(days=10)}, actor=users["director"])
        db.session.flush()
        referral = refer_measure(measure, {"department_id": department("police").id, "note": "请协助督促"},
                                 actor=users["director"])
        db.session.add(AssessmentItem(text="孩子生病时能及时就医", weight=2, need_category="medical"))
        db.session.flush()
        items = active_items()
        assessment = record_assessment(child, {"items": items, "answers": {i.id: 1 for i in items},
                                               "assessed_on": date(2026, 10, 18), "note": ASSESSMENT_NOTE},
                                       actor=users["director"])
        flag = flag_child(child, {"situation": URGENT_NOTE}, actor=users["director"])
        conference = hold_conference(child, {"held_on": date(2026, 10, 20), "summary": "监护不足，需要多部门协作",
                                             "department_ids": [department("police").id]},
                                     [{"category": "guardianship", "action": "家庭教育指导", "owner_name": "王芳",
                                       "due_on": local_today() + timedelta(days=30)}], actor=users["civil_affairs"])
        return_visit(db.session.get(Visit, visit.get_json()["id"]), "孩子的情绪具体怎样？", actor=users["supervisor"])
    db.session.commit()
    return {"child": child, "father_id": father.id, "visit_id": visit.get_json()["id"], "users": users,
            "pairing": pairing, "volunteer": volunteer, "case": case, "screening": screening,
            "conference": conference, "measure": measure, "referral": referral, "assessment": assessment,
            "flag": flag}


def outputs(scene) -> dict[str, tuple[str, dict]]:
    child = scene["child"]
    return {
        "record": (f"/children/{child.id}", {}),
        "list": ("/children?q=龚小雨", {}),
        "list_fragment": ("/children?q=gxy", {"HX-Request": "true"}),
        "search_last4": (f"/children?q={CHILD_ID[-4:]}", {}),
        "export": ("/children/export.xlsx", {}),
        "pdf": (f"/children/{child.id}/archive.pdf", {}),
        "edit_form": (f"/children/{child.id}/edit", {}),
        "family_form": (f"/children/{child.id}/family/{scene['father_id']}/edit", {}),
        "due_json": ("/api/v1/due-list", {}),
        "due_page": ("/visits/due", {}),
        "visit_page": (f"/visits/{scene['visit_id']}", {}),
        "audit": ("/admin/audit", {}),
        "home": ("/", {}),
        # the volunteers area: staff pages, the pairing record, the volunteer's phone
        "pairings": ("/pairings?state=all", {}),
        "pairing": (f"/pairings/{scene['pairing'].id}", {}),
        "pairing_pdf": (f"/pairings/{scene['pairing'].id}/record.pdf", {}),
        "match_child": (f"/pairings/match/child/{child.id}", {}),
        "match_volunteer": (f"/pairings/match/volunteer/{scene['volunteer'].id}", {}),
        "oversight": ("/pairings/oversight", {}),
        "volunteer_page": (f"/volunteers/{scene['volunteer'].id}", {}),
        "my_home": ("/my/pairings", {}),
        "my_log": ("/my/log", {}),
        "my_history": ("/my/history", {}),
        "my_pairings_json": ("/api/v1/my-pairings", {}),
        # the schools area
        "carers": ("/schools/carers?state=all", {}),
        "carer_edit": (f"/schools/pupils/{child.id}/carer", {}),
        "waivers": ("/schools/waivers?state=all", {}),
        "holiday_care": (f"/schools/pupils/{child.id}/holiday-care", {}),
        "school_staff": ("/schools/staff", {}),
        "enrolment_form": (f"/schools/pupils/{child.id}/enrolment", {}),
        "dropout_form": (f"/schools/pupils/{child.id}/dropout", {}),
        "dropout_case": (f"/schools/dropouts/{scene['case'].id}", {}),
        "dropouts": ("/schools/dropouts?state=all", {}),
        "dropouts_school": ("/schools/dropouts?state=all&scope=school", {}),
        "school_contacts": ("/schools/contacts", {}),
        "contact_log": ("/schools/contacts/log", {}),
        "contacts_due": ("/schools/contacts/due", {}),
        "contacts_due_school": ("/schools/contacts/due?scope=school", {}),
        "school_pupils_json": ("/api/v1/school-pupils", {}),
        "screenings": ("/schools/screenings?term=", {}),
        "screenings_fragment": ("/schools/screenings?term=", {"HX-Request": "true"}),
        "screening": (f"/schools/screenings/{scene['screening'].id}/followup", {}),
        "screening_new": (f"/schools/screenings/new?child_id={child.id}", {}),
        # the care area: case conferences and their minutes; the notices
        "conferences": ("/care/conferences", {}),
        "conference": (f"/care/conferences/{scene['conference'].id}", {}),
        "conference_pdf": (f"/care/conferences/{scene['conference'].id}/pdf", {}),
        "conference_form": (f"/children/{child.id}/conferences/new", {}),
        "notices": ("/notices", {}),
        # the care plan, referrals, assessments, urgent flags; the supervisor's review queue
        "plan": (f"/children/{child.id}/plan", {}),
        "measure": (f"/care/measures/{scene['measure'].id}", {}),
        "referral_form": (f"/care/measures/{scene['measure'].id}/refer", {}),
        "referrals": ("/referrals", {}),
        "referral": (f"/referrals/{scene['referral'].id}", {}),
        "assessment": (f"/care/assessments/{scene['assessment'].id}", {}),
        "assessment_form": (f"/children/{child.id}/assessments/new", {}),
        "urgent_flags": ("/care/urgent", {}),
        "urgent": (f"/care/urgent/{scene['flag'].id}", {}),
        "urgent_form": (f"/children/{child.id}/urgent", {}),
        "review_queue": ("/visits/review", {}),
    }


ROLES = ["admin", "civil_affairs", "supervisor", "director", "school", "department", "volunteer"]


@pytest.mark.parametrize("role", [*ROLES, "tuanwei", "head_teacher", "mental_health", "jiaoban"])
def test_raw_values_appear_exactly_where_the_policy_allows(scene, client, auth, role):
    check_every_output(scene, client, auth, role)


def check_every_output(scene, client, auth, role):
    user = scene["users"][role]
    policy = disclosure_for(user)
    sees_ids = can(user, "children:read_ids")
    auth.login(user.username)
    seen_anywhere = set()
    for name, (path, headers) in outputs(scene).items():
        response = client.get(path, headers=headers, follow_redirects=True)  # a form may lead on to its record
        assert response.status_code in (200, 403, 404), (role, name, response.status_code)
        text = _text(response) if response.status_code == 200 else ""
        for field, (raw, shown_in) in (VALUES | {"history." + k: v for k, v in HISTORY_ONLY.items()}).items():
            level = policy.level(field.removeprefix("history."))
            allowed = response.status_code == 200 and name in shown_in and level == FULL
            assert (raw in text) == allowed, f"{role} · {name} · {field}: raw value {'missing' if allowed else 'leaked'}"
            if raw in text:
                seen_anywhere.add(field)
            if response.status_code == 200 and name in shown_in and level == MASKED and "id_number" in field:
                assert mask_id_number(raw) in text or name.endswith("_form"), (role, name, field)
        # The birth date: the day only to those who may see ID numbers (it is digits 7–14 of the
        # number), the month to the others who see the birth date
        for day in (BIRTH, WRONG_BIRTH):
            forms = date_forms(day) - ({f"{day:%Y%m%d}"} if sees_ids else set())
            leaked = sorted(form for form in forms if form in text)
            assert not leaked or sees_ids, f"{role} · {name}: the day of birth leaked as {leaked}"
        if response.status_code == 200 and name in BIRTH_SHOWN_IN and policy.shows("child.birth_date"):
            if sees_ids:
                assert f"{BIRTH:%Y-%m-%d}" in text, (role, name)
                seen_anywhere.add("child.birth_date")
            else:
                assert "2014年5月" in text, (role, name)
        # The psychological file
        for marker, shown_in in PSYCH_SHOWN_IN.items():
            psych_allowed = response.status_code == 200 and name in shown_in and policy.shows("screening.band")
            assert (marker in text) == psych_allowed, \
                f"{role} · {name} · screening: {'missing' if psych_allowed else 'leaked'} {marker}"
            if marker in text:
                seen_anywhere.add("screening")
        # The care file: never where the policy hides it
        for marker in (CARE_NOTE, ASSESSMENT_NOTE, URGENT_NOTE):
            if marker in text:
                assert policy.shows("care.need"), f"{role} · {name}: the care file leaked ({marker})"
                seen_anywhere.add(marker)
    if policy.shows("screening.band"):
        assert "screening" in seen_anywhere, role  # shown somewhere to those who may see it
    # the keepers of her village and the town read all of her care file; the police its referral
    care_seen = {"civil_affairs": {CARE_NOTE, ASSESSMENT_NOTE, URGENT_NOTE}, "supervisor": {CARE_NOTE, ASSESSMENT_NOTE,
                 URGENT_NOTE}, "director": {CARE_NOTE, ASSESSMENT_NOTE, URGENT_NOTE}, "department": {CARE_NOTE, URGENT_NOTE}}
    assert care_seen.get(role, set()) <= seen_anywhere, (role, care_seen.get(role, set()) - seen_anywhere)
    expected = {f for f in [*VALUES, "child.birth_date"] if policy.level(f) == FULL and policy.shows(f)}
    if role in ("volunteer", "tuanwei", "jiaoban"):
        expected = set()  # no ID, phone or address within their reach (the police: through the referral)
    assert expected <= seen_anywhere


def test_the_policy_the_leak_test_checks(app):
    """What the test above holds each role to, in words."""
    village, school = create_village(), None
    levels = {role: disclosure_for(create_user(role, villages=[village] if role == "director" else None,
                                               school=school)) for role in ROLES}
    for role in ("admin", "civil_affairs", "supervisor", "director"):
        assert all(levels[role].full(f) for f in VALUES), role
    assert levels["school"].level("child.id_number") == MASKED
    assert levels["school"].level("child.disability_certificate") == MASKED  # was shown in full before
    for role in ("admin", "civil_affairs", "supervisor", "director"):
        assert levels[role].full("child.birth_date"), role
    assert levels["school"].level("child.birth_date") == levels["department"].level("child.birth_date") == MASKED
    assert levels["school"].full("child.ethnicity") and levels["school"].full("child.hukou_village")
    assert mask_birth_date("2014-05-06") == "2014年5月" and mask_birth_date("2016-09-30 00:00") == "2016年9月"
    assert levels["school"].full("child.address") and levels["school"].full("family.phone")
    assert levels["volunteer"].level("child.address") == HIDDEN
    assert levels["volunteer"].full("child.name") and levels["volunteer"].full("child.school")
    assert not levels["volunteer"].shows("child.birth_date")
    assert levels["department"].level("child.history") == HIDDEN
    # the psychological file: civil affairs and the supervisor; of a school, only its mental-health teacher
    shown = {role for role in ROLES if levels[role].shows("screening.band")}
    assert shown == {"civil_affairs", "supervisor"}
    school = create_school()
    assert disclosure_for(create_user("school", school=school, school_duty="mental_health")).shows("screening.band")
    for duty in ("coordinator", "head_teacher"):
        assert not disclosure_for(create_user("school", school=school, school_duty=duty)).shows("screening.band")
    assert levels["volunteer"].level("school.carer") == HIDDEN and levels["director"].full("school.dropout")
    # the care file: every staff reach (a department through its referral), never a volunteer
    assert {role for role in ROLES if levels[role].shows("care.need")} == set(ROLES) - {"volunteer"}


def test_the_volunteer_sees_her_paired_child_by_name_and_nothing_of_the_archive(scene, client, auth):
    """The leak test above holds for her because she reaches the child: here is the proof that
    she does, and that the record page, the archive and the staff pages stay shut."""
    child, pairing = scene["child"], scene["pairing"]
    auth.login("u_zy")
    for path in ("/my/pairings", "/api/v1/my-pairings"):
        response = client.get(path)
        assert response.status_code == 200 and "龚小雨" in response.get_data(as_text=True), path
        assert "中心小学" in response.get_data(as_text=True), path
    for path in (f"/children/{child.id}", f"/children/{child.id}/archive.pdf", f"/pairings/{pairing.id}",
                 f"/pairings/{pairing.id}/record.pdf", "/children", "/visits/due", "/api/v1/due-list"):
        assert client.get(path).status_code in (403, 404), path


@pytest.fixture
def writer_without_ids(scene, monkeypatch):
    """No role has children:write without children:read_ids today: the edit forms must not count on it."""
    monkeypatch.setitem(access._grants, "director", access._grants["director"] - {"children:read_ids"})
    user = scene["users"]["director"]
    assert can(user, "children:write") and not can(user, "children:read_ids")
    return user


def test_a_writer_without_read_ids_sees_no_id_number_anywhere_not_even_in_the_edit_forms(
        scene, client, auth, writer_without_ids):
    check_every_output(scene, client, auth, "director")
    auth.login(writer_without_ids.username)
    page = client.get(f"/children/{scene['child'].id}/edit").get_data(as_text=True)
    assert "已登记，不显示；留空则保持不变" in page  # the empty ID fields say why they are empty


def edit_form(child, **overrides) -> dict:
    return {"name": child.name, "id_number": "", "gender": "", "birth_date": "", "ethnicity": "汉族",
            "residence_village_id": child.residence_village_id, "hukou_village_id": 0, "school_id": child.school_id,
            "categories": ["left_behind", "disability"], "attention_level": "key", "state_guardianship": "none",
            "disability_kind": "肢体", "disability_grade": "三级", "disability_certificate": "",
            "caregiver_name": "龚奶奶", "caregiver_relation": "祖母", "caregiver_phone": CAREGIVER_PHONE,
            "address": ADDRESS, **overrides}


def test_masked_fields_sent_back_blank_keep_what_is_stored(scene, client, auth, writer_without_ids):
    child = scene["child"]
    last_change = db.session.scalar(db.select(db.func.max(ChildChange.id)))
    auth.login(writer_without_ids.username)
    response = client.post(f"/children/{child.id}/edit", data=edit_form(child, grade="三年级"))
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    stored = db.session.get(Child, child.id)
    assert (stored.id_number, stored.disability_certificate, stored.birth_date) == (CHILD_ID, CERTIFICATE, BIRTH)
    assert stored.grade == "三年级"  # the rest of the form is saved
    new_changes = db.session.scalars(db.select(ChildChange.field).where(ChildChange.id > last_change)).all()
    assert "年级" in new_changes and not {"身份证号", "残疾证号", "出生日期"} & set(new_changes)
    # A birth date that disagrees with the hidden number is refused without telling the number's date.
    response = client.post(f"/children/{child.id}/edit", data=edit_form(child, birth_date="2014-05-01"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "出生日期与已登记的身份证号不一致" in page
    assert not any(form in page for form in date_forms(BIRTH)) and CHILD_ID not in page and CERTIFICATE not in page
    # The family form: a father's number left blank is kept too.
    response = client.post(f"/children/{child.id}/family/{scene['father_id']}/edit", data={
        "relation": "父亲", "name": "龚大山", "id_number": "", "phone": FATHER_PHONE, "works_away": "y",
        "guardianship_capacity": "full", "is_guardian": "y"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(FamilyMember, scene["father_id"]).id_number == FATHER_NEW_ID


def test_without_an_id_number_the_birth_date_is_masked_in_the_edit_form_and_kept(scene, client, auth,
                                                                                  writer_without_ids):
    born = date(2015, 3, 2)
    child = create_child("龚小风", village=scene["child"].residence_village, birth=born, gender="male", id_number=None)
    db.session.commit()
    auth.login(writer_without_ids.username)
    page = client.get(f"/children/{child.id}/edit").get_data(as_text=True)
    assert not any(form in page for form in date_forms(born))
    response = client.post(f"/children/{child.id}/edit", data=edit_form(
        child, gender="male", school_id=0, categories=["left_behind"], disability_kind="", disability_grade="",
        grade="二年级"))
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    assert (db.session.get(Child, child.id).birth_date, db.session.get(Child, child.id).grade) == (born, "二年级")
