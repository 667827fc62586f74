"""Bad input never gives a 500 (issue 8, item 9): each class of input that once did, as a case.
The JSON API answers 4xx and stores nothing; a query string that makes no sense is ignored (200);
an id in a URL that no database could hold is 404. Text is cleaned of control characters.
tests/test_fuzz.py throws generated input at every route; these are the known cases, by name."""
import uuid
from datetime import date, datetime, timedelta
from io import BytesIO

import pytest
from sqlalchemy import func, select, text

from blueprints.children.models import Benefit, ImportBatch, ParentContact
from blueprints.places.models import Village
from blueprints.children.validation import DateError, check_identity, parse_date
from blueprints.core import jobs
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.visits.models import Visit
from extensions import db
from tests.conftest import AuthActions, IsolatedClient, make_app
from tests.factories import create_child, create_school, create_user, create_village

VISITS, CONTACTS = "/api/v1/visits", "/api/v1/parent-contacts"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def child(app):
    village = create_village("甲村")
    create_user("director", username="zhuren", villages=[village])
    create_user("supervisor", username="dudao")
    create_user("admin", username="guanli")
    return create_child("张三", village=village)


def visit(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": local_today().isoformat(),
            "kind": "home", "health": "良好", **overrides}


def contact(child, **overrides):
    return {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "contacted_on": local_today().isoformat(),
            "method": "video", "who": "母亲", **overrides}


def nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


# (url, body from the child, the status, the field named in the 422 answer)
REFUSED = {
    "list for a text field": (VISITS, lambda c: visit(c, health=["良好"]), 422, "health"),
    "list for the contact's name": (CONTACTS, lambda c: contact(c, who=["母亲"]), 422, "who"),
    "dict for child_id": (VISITS, lambda c: visit(c, child_id={"id": c.id}), 422, "child_id"),
    "2**64 child_id (beyond SQLite)": (VISITS, lambda c: visit(c, child_id=2**64), 422, "child_id"),
    "2**40 child_id (beyond PostgreSQL's integer)": (CONTACTS, lambda c: contact(c, child_id=2**40), 422, "child_id"),
    "true for child_id": (VISITS, lambda c: visit(c, child_id=True), 422, "child_id"),
    "list for kind (unhashable)": (VISITS, lambda c: visit(c, kind=["home"]), 422, "kind"),
    "list for mental_state (unhashable)": (VISITS, lambda c: visit(c, mental_state=["good"]), 422, "mental_state"),
    "lists in needs (unhashable)": (VISITS, lambda c: visit(c, needs=[["education"]]), 422, "needs"),
    "dict for method (unhashable)": (CONTACTS, lambda c: contact(c, method={"video": 1}), 422, "method"),
    "visit on 0001-01-01": (VISITS, lambda c: visit(c, visited_on="0001-01-01"), 422, "visited_on"),
    "visit on 9999-12-31": (VISITS, lambda c: visit(c, visited_on="9999-12-31"), 422, "visited_on"),
    "next visit on 9999-12-31": (VISITS, lambda c: visit(c, next_visit_on="9999-12-31"), 422, "next_visit_on"),
    "contact on 0001-01-01": (CONTACTS, lambda c: contact(c, contacted_on="0001-01-01"), 422, "contacted_on"),
    "a number for a date": (CONTACTS, lambda c: contact(c, contacted_on=20260302), 422, "contacted_on"),
    "recorded at 9999-12-31 west of UTC (overflow)": (
        VISITS, lambda c: visit(c, recorded_at="9999-12-31T23:00:00-05:00"), 422, "recorded_at"),
    "recorded at 0001-01-01 east of UTC (overflow)": (
        VISITS, lambda c: visit(c, recorded_at="0001-01-01T00:00:00+08:00"), 422, "recorded_at"),
    "a text field nested 500 deep": (VISITS, lambda c: visit(c, study=nested(500)), 422, "study"),
    "client_uuid with a trailing newline": (
        CONTACTS, lambda c: contact(c, client_uuid=str(uuid.uuid4()) + "\n"), 422, "client_uuid"),
    "client_uuid as a list": (VISITS, lambda c: visit(c, client_uuid=[str(uuid.uuid4())]), 422, "client_uuid"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_the_api_refuses_bad_values_and_stores_nothing(client, auth, child, case):
    url, body_of, status, field = REFUSED[case]
    auth.login("zhuren")
    answer = client.post(url, json=body_of(child))
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert field in answer.get_json()["errors"]
    assert count(Visit) == count(ParentContact) == 0


@pytest.mark.parametrize("url", [VISITS, CONTACTS])
def test_json_nested_100000_deep_is_400_in_chinese(client, auth, child, url):
    auth.login("zhuren")
    answer = client.post(url, data=b"[" * 100_000 + b"]" * 100_000, content_type="application/json")
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "请求有误"
    deep_object = b'{"a":' * 40_000 + b"1" + b"}" * 40_000  # 240 KB: under the request size limit
    assert client.post(url, data=deep_object, content_type="application/json").status_code == 400
    deeper = b'{"a":' * 100_000 + b"1" + b"}" * 100_000  # 600 KB: refused before it is read
    assert client.post(url, data=deeper, content_type="application/json").status_code == 413
    assert count(Visit) == count(ParentContact) == 0


def test_nul_and_control_characters_are_removed_from_every_text_field(client, auth, child):
    auth.login("zhuren")
    answer = client.post(CONTACTS, json=contact(child, who="母\x00亲", note="第一行\x00\r\n第二行\x0b\u202e"))
    assert answer.status_code == 201
    stored = db.session.scalar(select(ParentContact))
    assert (stored.who, stored.note) == ("母亲", "第一行\n第二行")
    answer = client.post(VISITS, json=visit(child, health="良\x00好", needs_note="\x07要\u0000书包",
                                            follow_up_note="\ud800下周"))
    assert answer.status_code == 201
    stored = db.session.scalar(select(Visit))
    assert (stored.health, stored.needs_note, stored.follow_up_note) == ("良好", "要书包", "下周")


def test_a_text_too_long_is_counted_after_cleaning(client, auth, child):
    auth.login("zhuren")
    assert client.post(CONTACTS, json=contact(child, note="好" * 200 + "\x00" * 50)).status_code == 201
    assert client.post(CONTACTS, json=contact(child, note="好" * 201)).status_code == 422


def test_a_client_uuid_is_stored_once_in_its_canonical_form(client, auth, child):
    """A trailing newline once made a second row on SQLite; uppercase is the same uuid."""
    auth.login("zhuren")
    body = contact(child)
    first = client.post(CONTACTS, json={**body, "client_uuid": body["client_uuid"].upper()})
    assert first.status_code == 201 and first.get_json()["client_uuid"] == body["client_uuid"]
    assert client.post(CONTACTS, json=body).status_code == 200  # the same record again
    refused = client.post(CONTACTS, json={**body, "client_uuid": body["client_uuid"] + "\n"})
    assert refused.status_code == 422 and "client_uuid" in refused.get_json()["errors"]
    assert client.post(CONTACTS, json={**body, "client_uuid": " " + body["client_uuid"]}).status_code == 422
    assert db.session.scalars(select(ParentContact.client_uuid)).all() == [body["client_uuid"]]


def test_the_plain_visit_form_refuses_the_same_values(client, auth, child):
    """The form post shares the checks: a child id beyond the database and a date at the calendar's end."""
    auth.login("zhuren")
    form = {**visit(child, visited_on="9999-12-31"), "child_id": str(2**64)}
    answer = client.post(f"/visits/new?child={2**64}", data=form)
    assert answer.status_code == 422 and "走访日期不能晚于今天" in answer.get_data(as_text=True)
    assert count(Visit) == 0


def test_a_correction_reason_is_cleaned_and_required(client, auth, child):
    auth.login("zhuren")
    original = client.post(VISITS, json=visit(child)).get_json()["id"]
    form = {**visit(child), "correction_reason": "\x00\x0b "}
    answer = client.post(f"/visits/{original}/correct", data=form)
    assert answer.status_code == 422 and "请说明更正的原因" in answer.get_data(as_text=True)
    form["correction_reason"] = "日期\x00填错"
    assert client.post(f"/visits/{original}/correct", data=form).status_code == 303
    assert db.session.scalar(select(AuditEvent.detail).where(AuditEvent.action == "visit_corrected")).endswith("：日期填错")


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", date(1, 1, 1), datetime(9999, 12, 31),
                                   99991231, float("inf"), float("nan")])
def test_import_dates_at_the_calendar_ends_are_refused_with_a_message(value):
    """The registry's dates (the Excel import): a year outside 1990..2100 is a typing slip; a number
    cell holding infinity once raised OverflowError."""
    with pytest.raises(DateError) as error:
        parse_date(value)
    assert "年份不对" in str(error.value) or "看不懂" in str(error.value)


def test_a_birth_date_before_1990_is_refused_by_the_registration_checks():
    _, errors = check_identity(None, "male", date(1, 1, 1))
    assert errors == {"birth_date": "出生日期太早了，应在 1990 年以后，请核对年份"}


# (who signs in, the URL, the status): ids no database could hold are 404; query strings that make no
# sense are ignored and the page is shown (200)
URLS = [
    ("zhuren", f"/children/{2**64}", 404),
    ("zhuren", f"/children/{2**40}", 404),
    ("zhuren", f"/children/{2**31}", 404),
    ("zhuren", "/children/0", 404),
    ("zhuren", f"/visits/{2**64}", 404),
    ("zhuren", f"/villages/{2**40}", 404),
    ("guanli", f"/admin/users/{2**63}/edit", 404),
    ("dudao", "/visits/compliance?month=0001-01", 200),
    ("dudao", "/visits/compliance?month=9999-12", 200),
    ("dudao", "/visits/compliance?month=2026-13", 200),
    ("dudao", "/visits/compliance?month=%00", 200),
    ("zhuren", "/children?page=99999999999999999999", 200),
    ("zhuren", "/children?page=-1", 200),
    ("zhuren", "/children?page=" + "9" * 5000, 200),
    ("zhuren", f"/children?village={2**64}&school={2**40}", 200),
    ("zhuren", "/children?q=%00&category=%00&status=%00", 200),
    ("zhuren", f"/children/export.xlsx?village={2**64}&q=%00", 200),
    ("zhuren", f"/children/new?village={2**64}", 200),
    ("zhuren", f"/visits/new?child={2**64}", 200),
    ("zhuren", f"/visits/contact?child={2**40}", 200),
    ("guanli", "/admin/audit?page=99999999999999999999&user=%00", 200),
    ("guanli", "/admin/audit?page=-1", 200),
    ("guanli", "/admin/users?q=%00&role=%00", 200),
]


@pytest.mark.parametrize("username, url, status", URLS)
def test_urls_out_of_range_are_404_or_ignored(client, auth, child, username, url, status):
    auth.login(username)
    assert client.get(url).status_code == status


def test_a_month_out_of_range_shows_the_current_month(client, auth, child):
    auth.login("dudao")
    page = client.get("/visits/compliance?month=0001-01").get_data(as_text=True)
    assert f"{local_today():%Y-%m}" in page and "0001-01" not in page


# --- the 500 page --------------------------------------------------------------------------------

@pytest.fixture
def failing_app(app, database_url, tmp_path):
    """The same database, exceptions answered as in production (not raised into the test), and one
    route that fails in the database before anything has loaded the signed-in user."""
    failing = make_app(database_url, tmp_path, PROPAGATE_EXCEPTIONS=False)
    failing.test_client_class = IsolatedClient

    @failing.route("/test-only/failed-statement")
    def failed_statement():
        db.session.execute(text("SELECT no_such_column FROM no_such_table"))

    yield failing
    with failing.app_context():
        db.engine.dispose()
    jobs.bind(app)


def test_the_500_page_renders_after_a_failed_statement(failing_app, child):
    """On PostgreSQL the failed statement aborts the transaction: the page's own queries (the user,
    the menu) fail too unless the error handler rolls back first."""
    client = failing_app.test_client()
    AuthActions(client).login("zhuren")
    answer = client.get("/test-only/failed-statement")
    assert answer.status_code == 500
    page = answer.get_data(as_text=True)
    assert "系统出错" in page and "您刚才的操作没有保存" in page
    assert "测试director" in page  # the signed-in user's name, loaded after the failure


# --- refusals in the audit trail -----------------------------------------------------------------

def denied_events() -> list[tuple]:
    return db.session.execute(select(AuditEvent.username, AuditEvent.detail)
                              .where(AuditEvent.action == "denied").order_by(AuditEvent.id)).all()


def test_every_403_is_audited_with_the_user_and_the_path(client, auth, child):
    school = create_user("school", username="xuexiao", school=create_school(villages=[child.residence_village]))
    auth.login("zhuren")
    assert client.get("/admin/users?q=x").status_code == 403  # the page's grant (require)
    auth.logout()
    auth.login(school.username)
    assert client.post(VISITS, json=visit(child)).status_code == 403  # the API's JSON refusal
    assert client.get(f"/visits/{2**30}").status_code == 403  # before the visit is looked for
    assert denied_events() == [("zhuren", "GET /admin/users"), ("xuexiao", "POST /api/v1/visits"),
                               ("xuexiao", f"GET /visits/{2**30}")]
    assert count(Visit) == 0


def test_refusals_are_listed_on_the_audit_page(client, auth, child):
    auth.login("zhuren")
    client.get("/admin/audit")
    auth.logout()
    auth.login("guanli")
    page = client.get("/admin/audit?action=denied").get_data(as_text=True)
    assert "拒绝访问" in page and "GET /admin/audit" in page and "zhuren" in page


def test_a_404_is_not_a_refusal(client, auth, child):
    auth.login("zhuren")
    assert client.get(f"/children/{child.id + 1}").status_code == 404
    assert denied_events() == []


# --- the HTML forms (tests/test_fuzz.py posts generated forms to every one) ----------------------------

def test_an_empty_post_to_an_edit_form_is_read_as_a_form(client, auth, child):
    """A post without fields was read as no post at all: WTForms took the school's own values, its
    villages as objects where ids belong, and the save failed on None (500). Now it is a form: a field
    not sent keeps the record's value (the name), no box ticked is no village."""
    school = create_school("甲村小学", villages=[child.residence_village])
    auth.login("guanli")
    assert client.post(f"/admin/schools/{school.id}/edit").status_code == 303
    db.session.expire_all()
    assert (school.name, school.villages) == ("甲村小学", [])


@pytest.mark.parametrize("body", [[1, {"a": None}], {"name": ["乙村", "丙村"]},
                                  {"name": "乙村", "active": {"y": 1}}])
def test_a_form_sent_as_json_is_refused_and_stores_nothing(client, auth, child, body):
    """A form's route reads the form only: JSON there was a 500 (a list) or saved (an object). It
    carries no form token (core/once.py) either, which is what a creating form now says first."""
    auth.login("guanli")
    answer = client.post("/admin/villages/new", json=body)
    assert answer.status_code == 422 and "请重新打开表单" in answer.get_data(as_text=True)
    assert db.session.scalars(select(Village.name)).all() == ["甲村"]


def test_an_upload_named_with_nul_is_kept_under_the_name_cleaned(client, auth, child):
    """The file's name went into the batch as sent: PostgreSQL refuses NUL (500)."""
    auth.login("guanli")
    answer = client.post("/children/import", data={"file": (BytesIO(b"x"), "名\x00单\x1b.txt")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422 and "名单.txt" in answer.get_data(as_text=True)
    assert db.session.scalars(select(ImportBatch.filename)).all() == ["名单.txt"]
    answer = client.post("/children/import", data={"file": (BytesIO(b"x"), "\x00")},
                         content_type="multipart/form-data")
    assert answer.status_code == 422 and "请选择要上传的 Excel 文件" in answer.get_data(as_text=True)


@pytest.mark.parametrize("name", ["Õ", "ÄRZTE", "Ωmega"])
def test_a_name_taken_in_letters_sqlite_does_not_lower_is_refused_not_500(client, auth, child, name):
    """The uniqueness check lowered the typed name in Python, the stored one in the database (SQLite
    lowers ASCII only): "Õ" a second time reached the unique index."""
    auth.login("guanli")
    assert client.post("/admin/villages/new", data={"name": name, "active": "y"}).status_code == 303
    answer = client.post("/admin/villages/new", data={"name": name, "active": "y"})
    assert answer.status_code == 422 and f"已有名为“{name}”的村" in answer.get_data(as_text=True)
    answer = client.post("/admin/schools/new", data={"name": name, "kind": "primary"})
    assert answer.status_code == 303
    answer = client.post("/admin/schools/new", data={"name": name, "kind": "primary"})
    assert answer.status_code == 422 and f"已有名为“{name}”的学校" in answer.get_data(as_text=True)
    assert db.session.scalars(select(Village.name).where(Village.name == name)).all() == [name]


# --- the registry's date fields: the same calendar as the API and the import -----------------------

@pytest.mark.parametrize("day, message", [("0001-01-01", "联系日期应在 1990 年到 2100 年之间"),
                                          ("9999-12-31", "联系日期不能晚于今天")])
def test_the_contact_form_refuses_a_date_the_api_refuses(client, auth, child, day, message):
    """The form took 0001-01-01 that POST /api/v1/parent-contacts refuses, and 9999-12-31."""
    auth.login("zhuren")
    answer = client.post(f"/children/{child.id}/contacts", data={"contacted_on": day, "who": "母亲", "method": "video"})
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert count(ParentContact) == 0
    today = {"contacted_on": local_today().isoformat(), "who": "母亲", "method": "video"}
    assert client.post(f"/children/{child.id}/contacts", data=today).status_code == 303
    assert count(ParentContact) == 1


@pytest.mark.parametrize("day, message", [(None, "退出日期不能晚于今天"), ("9999-12-31", "退出日期不能晚于今天"),
                                          ("0001-01-01", "退出日期应在 1990 年到 2100 年之间")])
def test_an_exit_dated_in_the_future_or_out_of_the_calendar_is_refused(client, auth, child, day, message):
    auth.login("zhuren")
    day = day or (local_today() + timedelta(days=1)).isoformat()
    answer = client.post(f"/children/{child.id}/exit", data={"exit_reason": "parents_returned", "exit_date": day})
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    db.session.expire_all()
    assert (child.status, child.exit_date) == ("active", None)


@pytest.mark.parametrize("field, day, message", [("start_on", "0001-01-01", "开始日期应在 1990 年到 2100 年之间"),
                                                 ("end_on", "9999-12-31", "结束日期应在 1990 年到 2100 年之间")])
def test_a_benefit_dated_out_of_the_calendar_is_refused(client, auth, child, field, day, message):
    auth.login("zhuren")
    form = {"kind": "basic_living", "period": "每月", "start_on": local_today().isoformat(), field: day}
    answer = client.post(f"/children/{child.id}/benefits", data=form)
    assert answer.status_code == 422 and message in answer.get_data(as_text=True)
    assert count(Benefit) == 0
    planned = {**form, "start_on": (local_today() + timedelta(days=30)).isoformat(), "end_on": ""}
    assert client.post(f"/children/{child.id}/benefits", data=planned).status_code == 303  # may lie ahead
    assert count(Benefit) == 1


def test_the_child_form_dates_are_in_the_calendar(client, auth, child):
    auth.login("zhuren")
    page = client.get(f"/children/{child.id}/edit").get_data(as_text=True)
    form = {"name": child.name, "id_number": child.id_number, "residence_village_id": child.residence_village_id,
            "categories": "left_behind", "attention_level": "general", "state_guardianship": "none",
            "caregiver_confirmed_on": "0001-01-01"}
    assert "caregiver_confirmed_on" in page
    answer = client.post(f"/children/{child.id}/edit", data=form)
    assert answer.status_code == 422 and "确认日期应在 1990 年到 2100 年之间" in answer.get_data(as_text=True)
    answer = client.post(f"/children/{child.id}/edit", data={**form, "caregiver_confirmed_on": "9999-12-31"})
    assert answer.status_code == 422 and "确认日期不能晚于今天" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert child.caregiver_confirmed_on is None
