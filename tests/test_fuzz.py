"""No input gives a 500 (issue 8, item 9), by property: generated URLs and query strings for every
GET route of app.url_map, generated JSON bodies for every POST route of the API, and generated form
posts (and uploads) for every other POST route, each sent as a role that can reach it. Runs on SQLite
and on PostgreSQL (GUANAI_TEST_DATABASE_URL), where integers beyond 32 bits and NUL bytes fail in the
database itself. The known cases, by name, are in tests/test_bad_input.py."""
from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from io import BytesIO
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from blueprints.auth.models import User
from blueprints.care.assessments import active_items, record_assessment
from blueprints.care.conferences import hold_conference
from blueprints.care.models import AssessmentItem, AssessmentThreshold, Measure, Referral
from blueprints.care.plan import add_measure, add_need
from blueprints.care.referrals import Upload, accept_referral, record_action, refer_measure
from blueprints.care.urgent import flag_child
from blueprints.notices.models import Notice
from blueprints.notices.services import notify
from blueprints.children.forms import EXIT_REASONS
from blueprints.children.models import Child, FamilyMember, ImportBatch
from blueprints.children.services import FamilyInput, exit_child, reinstate_child
from blueprints.core.clock import local_today
from blueprints.schools.models import HolidayCare
from blueprints.visits.models import Visit
from blueprints.visits.review import return_visit
from blueprints.visits.services import record_visit
from blueprints.visits.validation import BOOL_FIELDS, TEXT_FIELDS
from blueprints.volunteers.models import PairingActivity
from extensions import db
from tests.conftest import AuthActions
from tests.factories import (create_child, create_dropout, create_pairing, create_school, create_screening,
                             create_user, create_village, create_volunteer, department, valid_id_number)

# "department" is 团委 (it manages volunteers and pairings), "volunteer" an 爱心妈妈 paired with the child.
# "school" is a school's coordinator; "mental_health" its mental-health teacher (the screenings).
# "police" (派出所) holds two of the child's open referrals and acts on urgent flags; "justice" (司法所)
# holds a third (the police's are another department's to it: 404).
ROLES = ("admin", "civil_affairs", "supervisor", "director", "school", "mental_health", "department", "volunteer",
         "police", "justice")
DEPARTMENT_ROLES = {"department": "youth", "police": "police", "justice": "justice"}
EXAMPLES_PER_GET_ROUTE = 3
EXAMPLES_PER_API_ROUTE = 80

# Values that once gave a 500, or sit at an edge: huge and negative numbers, the calendar's ends,
# NUL and other control characters, a scheme-relative "next", an unclosed IPv6 host.
SPECIAL_TEXT = ["", "0", "-1", str(2**31), str(2**40), str(2**63), str(2**64), "9" * 30, "1e309", "NaN",
                "0001-01", "9999-12", "0001-01-01", "9999-12-31", "2026-02-30", "2026-13", "\x00", "a\x00b",
                "\ud800", "\u202e", "//[", "//evil.example", "/\\x", "%", "../..", "张三", " " * 50,
                "²", "١٢", "２０２６-０２-０１"]  # digits str.isdigit() takes and int() or a date may not
TEXT = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(max_size=30))
# Every query key meets each of these at least once, on every GET route (see fuzz_get).
EDGE_VALUES = ["-1", str(2**31), str(2**64), "9" * 30, "0001-01", "9999-12", "2026-13", "\x00", "//[", "\ud800", "²",
               "２０２６-０２"]
BIG_INT = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63, 2**64]))
QUERY_KEYS = ["page", "month", "q", "village", "school", "category", "attention", "status", "child", "child_id",
              "show", "action", "user", "role", "next", "field", "state", "department", "director", "finding",
              "assessment", "scope"]
QUERY = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=5)),
                           st.one_of(TEXT, BIG_INT.map(str))), max_size=6)

VISIT_FIELDS = ["client_uuid", "child_id", "visited_on", "kind", *TEXT_FIELDS, *BOOL_FIELDS, "mental_state",
                "parents_contacted", "parents_contacted_on", "parents_contact_method", "next_visit_on",
                "recorded_at", "needs"]
CONTACT_FIELDS = ["client_uuid", "child_id", "contacted_on", "method", "who", "note"]
ACTIVITY_FIELDS = ["client_uuid", "pairing_id", "done_on", "minutes", "kind", "note", "mood", "pass_on", "recorded_at"]
PHOTO_FIELDS = ["client_uuid", "activity_uuid", "photo"]  # multipart; JSON sent here is refused whole
SCHOOL_CONTACT_FIELDS = ["client_uuid", "child_id", "contacted_on", "contact_with", "method", "topics", "note",
                         "hazard_water", "hazard_note", "recorded_at"]
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), BIG_INT, st.floats(), TEXT, st.uuids().map(str),
              st.sampled_from(["home", "phone", "video", "good", "education", "2026-03-02T08:00:00Z"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)


def nested_bytes(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return opener * depth + closer * depth


@pytest.fixture
def town(app):
    """One of everything a URL can name, and a signed-in client per role."""
    village = create_village("甲村")
    school = create_school("甲村小学", villages=[village])
    users = {
        "admin": create_user("admin"),
        "civil_affairs": create_user("civil_affairs"),
        "supervisor": create_user("supervisor"),
        "director": create_user("director", villages=[village]),
        "school": create_user("school", school=school),
        "mental_health": create_user("school", school=school, school_duty="mental_health"),
        "department": create_user("department", department_code="youth"),
        "volunteer": create_user("volunteer", volunteer_kind="caring_mother"),
        "police": create_user("department", department_code="police"),
        "justice": create_user("department", department_code="justice"),
    }
    child = create_child("张三", village=village, school=school, grade="三年级", class_name="2班")  # a class to teach
    volunteer = create_volunteer(users["volunteer"], village=village)
    pairing = create_pairing(child, volunteer, started_on=local_today() - timedelta(days=40))
    activity = PairingActivity(client_uuid="00000000-0000-4000-8000-0000000000f1", pairing_id=pairing.id,
                               child_id=child.id, recorded_by_id=users["volunteer"].id, done_on=local_today(),
                               minutes=30, kind="companionship", note="陪读", pass_on="需要冬衣")
    db.session.add(activity)
    db.session.commit()
    member = db.session.scalar(db.select(FamilyMember).where(FamilyMember.child_id == child.id))
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        assert AuthActions(clients[role]).login(user.username).status_code in (302, 303)
    visit = clients["director"].post("/api/v1/visits", json={  # with findings for the care plan to confirm
        "client_uuid": "00000000-0000-4000-8000-000000000001", "child_id": child.id,
        "visited_on": local_today().isoformat(), "kind": "home", "needs": ["safety", "education"],
        "needs_note": "成绩下滑", "follow_up_needed": True, "follow_up_note": "屋后水塘无护栏"}).get_json()
    screening = create_screening(child, screened_on=local_today())
    case = create_dropout(child, dropped_on=local_today() - timedelta(days=20))
    care = HolidayCare(child_id=child.id, school_id=school.id, kind="weekend", place="村儿童之家",
                       starts_on=local_today() - timedelta(days=30))
    db.session.add(care)
    db.session.commit()
    ids = {"child_id": child.id, "village_id": village.id, "school_id": school.id, "user_id": users["director"].id,
           "visit_id": visit["id"], "member_id": member.id if member else 1, "department_id": 1,
           "volunteer_id": volunteer.id, "pairing_id": pairing.id, "activity_id": activity.id,
           "case_id": case.id, "screening_id": screening.id, "instrument_id": screening.instrument_id,
           "care_id": care.id, **care_scene(app, users, child, visit["id"])}
    return clients, ids, child


# A file's first bytes as the referral's attachments check them (a real PDF's, PNG's, JPEG's).
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def care_scene(app, users: dict, child: Child, visit_id: int) -> dict:
    """Issue 11's objects, made through the care area's services (their rules and notices hold): the
    child's need with four measures — referred to the police (sent), to the police (accepted, acted on
    with a PDF attached), to 司法所 (sent), and not referred — the visit the supervisor returned with a
    question and another waiting in the review queue, a guardianship assessment, an open urgent flag,
    a conference, and a notice for each user. Their ids, by the names the routes give them."""
    director, today = users["director"], local_today()
    police = department("police")
    with app.test_request_context():  # the services name pages in their notices
        need = add_need(child, {"category": "safety", "description": "屋后水塘无护栏"}, actor=director)
        db.session.flush()
        measures = [add_measure(need, {"action": f"措施{n}", "department_id": None, "owner_name": "张秀英",
                                       "due_on": today + timedelta(days=10)}, actor=director) for n in range(4)]
        db.session.flush()
        refer_measure(measures[0], {"department_id": police.id, "note": "请协助排查"}, actor=director)
        accepted = refer_measure(measures[1], {"department_id": police.id, "note": "请巡查"}, actor=director)
        refer_measure(measures[2], {"department_id": department("justice").id, "note": "法律援助"}, actor=director)
        accept_referral(accepted, actor=users["police"])
        action = record_action(accepted, {"acted_on": today, "text": "已巡查"}, [Upload("巡查.pdf", PDF)],
                               actor=users["police"])
        return_visit(db.session.get(Visit, visit_id), "孩子情绪如何？", actor=users["supervisor"])
        record_visit(child, {"visited_on": today - timedelta(days=1), "kind": "phone", "mental_state": "concern",
                             "follow_up_needed": True, "follow_up_note": "情绪低落"}, ["psychological"],
                     "00000000-0000-4000-8000-000000000002", actor=director)  # waiting in the review queue
        # the scale as the migration seeds it (emptied between tests): items that suggest needs, the thresholds
        db.session.execute(AssessmentItem.__table__.delete())
        db.session.execute(AssessmentThreshold.__table__.delete())
        db.session.add_all([AssessmentItem(text="监护人能保证孩子吃饱穿暖", weight=3, position=1, need_category="living"),
                            AssessmentItem(text="孩子生病时能及时就医", weight=2, position=2, need_category="medical"),
                            AssessmentItem(text="父母每周与孩子联系", weight=1, position=3, need_category=None),
                            AssessmentThreshold(level="capable", min_percent=75),
                            AssessmentThreshold(level="partial", min_percent=45)])
        db.session.flush()
        items = active_items()
        answers = {item.id: i % 3 for i, item in enumerate(items)}  # 具备, 部分具备, 缺失: two needs suggested
        assessment = record_assessment(child, {"items": items, "answers": answers, "assessed_on": today,
                                               "note": "祖父母年迈"}, actor=director)
        db.session.flush()
        flag = flag_child(child, {"situation": "孩子独自在家两天", "assessment_id": assessment.id}, actor=director)
        conference = hold_conference(child, {"held_on": today, "place": "镇民政办公室", "attendees": "王丽",
                                             "summary": "会商", "department_ids": [police.id]},
                                     [{"category": "psychological", "action": "谈心", "department_id": police.id,
                                       "owner_name": "张秀英", "due_on": today + timedelta(days=14)}],
                                     actor=users["civil_affairs"])
        for user in users.values():
            notify([user], "referral_received", "测试通知", key=f"fuzz:{user.id}", url="/notices")
        db.session.commit()
    return {"need_id": need.id, "measure_id": measures[0].id, "referral_id": accepted.id,
            "attachment_id": action.attachments[0].id, "assessment_id": assessment.id, "flag_id": flag.id,
            "conference_id": conference.id, "category": "safety"}


def get_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static" and "GET" in r.methods),
                  key=lambda r: r.rule)


def fill(rule, values: dict) -> str:
    """The rule's path with each <converter:name> replaced by values[name] (quoted)."""
    def value(match) -> str:
        return quote(str(values[match.group(1)]), safe="", errors="surrogatepass")
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", value, rule.rule)


def reaching_roles(clients, rule) -> list[str]:
    """The roles that get past the page's grant (an id that names nothing: 404, not 403, and cheap)."""
    path = fill(rule, {name: 2**31 - 1 for name in rule.arguments})
    found = [role for role in ROLES if clients[role].get(path).status_code != 403]
    return found or list(ROLES)


def assert_no_500(response, what: str) -> None:
    assert response.status_code < 500, f"{response.status_code} for {what}"


def fuzz_get(clients, rule, roles: list[str], ids: dict) -> None:
    path_values = st.fixed_dictionaries({
        name: st.one_of(st.just(ids.get(name, 1)), BIG_INT, TEXT) for name in sorted(rule.arguments)})

    def get(role, values, query):
        url = fill(rule, values) + ("?" + urlencode(query, errors="surrogatepass") if query else "")
        assert_no_500(clients[role].get(url), f"{role} GET {url!r}")

    real = {name: ids.get(name, 1) for name in rule.arguments}
    for i in range(len(EDGE_VALUES)):  # each key with each edge value, the keys shifted by one each time
        get(roles[i % len(roles)], real,
            [(key, EDGE_VALUES[(i + k) % len(EDGE_VALUES)]) for k, key in enumerate(QUERY_KEYS)])

    @settings(max_examples=EXAMPLES_PER_GET_ROUTE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(role=st.sampled_from(roles), values=path_values, query=QUERY)
    def check(role, values, query):
        get(role, values, query)

    check()


def test_no_get_route_answers_500(app, town):
    clients, ids, _ = town
    for rule in get_rules(app):
        fuzz_get(clients, rule, reaching_roles(clients, rule), ids)


@pytest.mark.parametrize("url, fields", [("/api/v1/visits", VISIT_FIELDS),
                                         ("/api/v1/parent-contacts", CONTACT_FIELDS),
                                         ("/api/v1/pairing-activities", ACTIVITY_FIELDS),
                                         ("/api/v1/activity-photos", PHOTO_FIELDS),
                                         ("/api/v1/school-contacts", SCHOOL_CONTACT_FIELDS)])
def test_no_api_post_answers_500(app, town, url, fields):
    clients, ids, child = town
    assert {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and "POST" in r.methods} \
        == {"/api/v1/visits", "/api/v1/parent-contacts", "/api/v1/pairing-activities",
            "/api/v1/activity-photos", "/api/v1/school-contacts"}  # a new API route joins the list above
    today = local_today().isoformat()
    valid = st.fixed_dictionaries({
        "client_uuid": st.uuids().map(str), "child_id": st.just(child.id), "visited_on": st.just(today),
        "kind": st.just("home"), "contacted_on": st.just(today), "method": st.just("video"),
        "pairing_id": st.just(ids["pairing_id"]), "done_on": st.just(today), "minutes": st.just(30), "note": st.just("陪读"),
        "contact_with": st.just("mother"), "topics": st.just(["study"])})
    mixed = st.dictionaries(st.one_of(st.sampled_from(fields), st.text(max_size=8)), JSON_VALUE, max_size=8)
    json_body = st.one_of(
        st.builds(lambda base, over: {**base, **over}, valid, mixed),  # mostly valid: gets as far as storing
        mixed, JSON_VALUE)
    raw_body = st.one_of(
        st.integers(1, 200_000).map(nested_bytes),
        st.integers(1, 200_000).map(lambda n: nested_bytes(n, b'{"a":', b"}").replace(b":}", b":1}", 1)),
        st.binary(max_size=50))

    @settings(max_examples=EXAMPLES_PER_API_ROUTE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(role=st.sampled_from(["director", "director", "supervisor", "school", "admin", "volunteer"]),
           body=st.one_of(json_body.map(lambda b: ("json", b)), raw_body.map(lambda b: ("raw", b))))
    def check(role, body):
        kind, value = body
        if kind == "json":
            response = clients[role].post(url, json=value)
        else:
            response = clients[role].post(url, data=value, content_type="application/json")
        assert_no_500(response, f"{role} POST {url} {kind} {str(value)[:300]!r}")

    check()


def test_the_calendar_ends_in_every_date_field(app, town):
    """Each date field of the API at 0001-01-01 and 9999-12-31: refused, never a 500."""
    clients, _, child = town
    for url, field in [("/api/v1/visits", "visited_on"), ("/api/v1/visits", "parents_contacted_on"),
                       ("/api/v1/visits", "next_visit_on"), ("/api/v1/parent-contacts", "contacted_on")]:
        for day in (date.min, date.max):
            body = {"client_uuid": "00000000-0000-4000-8000-0000000000ff", "child_id": child.id,
                    "visited_on": local_today().isoformat(), "kind": "home",
                    "contacted_on": local_today().isoformat(), "method": "video", field: day.isoformat()}
            response = clients["director"].post(url, json=body)
            assert response.status_code == 422 and field in response.get_json()["errors"], (url, field, day)


# --- the HTML forms: every POST route outside /api/ ------------------------------------------------

EXAMPLES_PER_FORM_ROUTE = 20
FUZZ_ADDRESS = "192.0.2.1"  # the posts' client address: failed logins there never throttle the sign-ins
# A field's value, beyond SPECIAL_TEXT: the ends of the calendar as a form types them, a day that is
# not, long text, control characters and lone surrogates inside text.
FORM_SPECIAL = [*SPECIAL_TEXT, "2024-02-30", "0000-00-00", "9999-12-31T23:59", "on", "y", "true", "好" * 5000,
                "a" * 70_000, "\x01\x02\x1b[0m", "前\x00后\ud83d", "\udfff" * 3, "1" * 18, "11010119900307803X"]
FORM_TEXT = st.one_of(st.sampled_from(FORM_SPECIAL), st.text(max_size=30), BIG_INT.map(str),
                      st.text(st.characters(max_codepoint=0x1F) | st.characters(min_codepoint=0xD800,
                                                                              max_codepoint=0xDFFF), max_size=8))
# Every field of every form meets each of these at least once (see fuzz_form).
FORM_EDGES = ["", "-1", str(2**64), "9" * 30, "0001-01-01", "9999-12-31", "2024-02-30", "\x00", "a\x00b",
              "\ud800", "好" * 2000, "//["]
# Each field alone, the rest of the form as its page stands (a post that gets past every other check):
# left out, empty, beyond a database's integer, a digit int() refuses though str.isdigit() takes it,
# full-width digits, a day that is not, text far too long.
ONE_FIELD = [None, "", str(2**31), str(2**63), "9" * 30, "²", "１２", "２０２６-０２-０１", "2026-02-30", "好" * 3000]
# Field names for a form no page shows: those of every form found, and these.
# An upload's bytes beyond random ones: files that are not what their names claim (the referral's
# attachments take PDF, JPEG and PNG by their first bytes), the bare magic numbers, nothing at all.
FILE_CONTENTS = [b"", b"%PDF-", b"%PDF-1.4\n\x00\xff", b"\x89PNG\r\n\x1a\n", b"\x89PNG\r\n\x1a\nnot a png",
                 b"\xff\xd8\xff", b"\xff\xd8\xffnot a jpeg", b"MZ\x90\x00\x03", b"PK\x03\x04",
                 b"<script>alert(1)</script>", "张三".encode()]
FILE_NAMES = ["名单.xlsx", "a.xlsm", "x.csv", "", "\x00.xlsx", "../../x.xlsx", "办理.pdf", "照片.JPG", "a.png",
              "a.pdf.exe", "..\\..\\x.pdf", "好" * 300 + ".pdf"]
GENERIC_FIELDS = ["name", "note", "comment", "reason", "date", "status", "value", "file", "ids", "child_id",
                  "next", "_creating", "csrf_token"]


class FormFields(HTMLParser):
    """The named fields of each <form> on a page: [(action, [(name, value or None, choices, is_file)])].
    The value is what the browser would send as the page stands (None: nothing sent)."""

    def __init__(self):
        super().__init__()
        self.forms: list[tuple[str | None, list]] = []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action"), []))
            return
        if not self.forms or "name" not in a:
            if tag == "option" and self._select is not None:
                self._option(a)
            return
        fields = self.forms[-1][1]
        kind = (a.get("type") or "text").lower()
        if tag == "input" and kind not in ("submit", "button", "reset", "image"):
            value = a.get("value") or ("on" if kind in ("checkbox", "radio") else "")
            sent = value if kind not in ("checkbox", "radio") or "checked" in a else None
            fields.append([a["name"], sent, [value], kind == "file"])
        elif tag == "select":
            self._select = [a["name"], None, [], False]
            fields.append(self._select)
        elif tag == "textarea":
            self._textarea = [a["name"], "", [], False]
            fields.append(self._textarea)

    def _option(self, a):
        value = a.get("value", "")
        self._select[2].append(value)
        if "selected" in a or self._select[1] is None:
            self._select[1] = value

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def form_post_rules(app):
    return sorted((r for r in app.url_map.iter_rules() if "POST" in r.methods and not r.rule.startswith("/api/")),
                  key=lambda r: r.rule)


def signed_in(app, accounts: dict, role: str | None):
    """A client of its own, signed in afresh (None: nobody): a post may end its session. The account is
    put back first: the admin's user form, fuzzed with an id such as 1, may rename it, switch it off
    or change its password."""
    client = app.test_client()
    if role is not None:
        db.session.execute(update(User).where(User.id == accounts[role]["id"]).values(accounts[role]))
        db.session.commit()
        assert AuthActions(client).login(accounts[role]["username"]).status_code in (302, 303)
    return client


def form_of(client, path: str, elsewhere: tuple = ()):
    """(the URL the form posts to, its fields) for the form that posts to `path`: on the page at
    `path` itself, else on the nearest page above it (a button on the child's page), else on one of
    the pages `elsewhere` (a need's forms on the child's plan); None if none."""
    pages = []
    page = path
    while page:
        pages.append(page)
        page = page.rsplit("/", 1)[0]
    for page in pages + list(elsewhere):
        response = client.get(page)
        if response.status_code == 200 and response.mimetype == "text/html":
            parser = FormFields()
            parser.feed(response.get_data(as_text=True))
            for action, fields in parser.forms:
                target = action if action else page
                if urlsplit(target).path == path and fields:
                    return target, fields
    return None


def form_reaching_roles(app, accounts, rule) -> list:
    """The roles (None: not signed in) whose post gets past the route's grant and the login check."""
    path = fill(rule, {name: 2**31 - 1 for name in rule.arguments})
    found = []
    for role in (None, *ROLES):
        response = signed_in(app, accounts, role).post(path, environ_base={"REMOTE_ADDR": FUZZ_ADDRESS})
        if response.status_code not in (401, 403) and not (response.location or "").startswith("/login"):
            found.append(role)
    return found or list(ROLES)


def post_form(client, url: str, pairs: list, files: list, headers: dict | None = None):
    """Posts the fields as typed, lone surrogates and all (as a broken client would send them)."""
    if files:
        data = {}
        for key, value in pairs:
            data.setdefault(key, []).append(value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"))
        for key, content, filename in files:
            data.setdefault(key, []).append((BytesIO(content), filename))
        return client.post(url, data=data, content_type="multipart/form-data", headers=headers,
                           environ_base={"REMOTE_ADDR": FUZZ_ADDRESS})
    return client.post(url, data=urlencode(pairs, errors="surrogatepass"), headers=headers,
                       content_type="application/x-www-form-urlencoded", environ_base={"REMOTE_ADDR": FUZZ_ADDRESS})


def real_values(rule, ids: dict) -> list[dict]:
    """The rule's arguments filled with real ids: each name's first, then each of its others in turn."""
    first = {name: ids.get(name, [1])[0] for name in rule.arguments}
    return [first] + [{**first, name: other} for name in sorted(rule.arguments) for other in ids.get(name, [1])[1:]]


def form_for(app, accounts, rule, roles: list, ids: dict):
    """The route's form as the first role that reaches it and sees one sees it, for the first real ids
    that show one (a referral's forms: only the department that holds it sees them): (the URL it
    posts to, its fields, that role, those ids)."""
    elsewhere = [f"/children/{child_id}/plan" for child_id in ids["child_id"]] + ["/visits/review"]
    for role in roles:
        client = signed_in(app, accounts, role)
        for values in real_values(rule, ids):
            found = form_of(client, fill(rule, values), tuple(elsewhere))
            if found:
                return (*found, role, values)
    return None


def page_values(fields: list, typical: dict) -> list[tuple[str, str]]:
    """What the form sends as the page stands, a field it leaves empty filled with its typical value or
    its first choice: a post valid but for what an example changes gets as far as the database."""
    pairs = []
    for name in dict.fromkeys(field[0] for field in fields):
        same = [field for field in fields if field[0] == name and not field[3]]
        sent = [value for _, value, _, _ in same if value is not None]
        first_choice = next((choice for field in same for choice in field[2] if choice), None)
        if any(sent):
            pairs += [(name, value) for value in sent]
        elif name in typical or first_choice is not None:
            pairs.append((name, typical.get(name, first_choice)))
        else:
            pairs += [(name, value) for value in sent]
    return pairs


def fuzz_form(app, accounts, rule, roles: list, ids: dict, found, names_seen: set, typical: dict) -> None:
    if found:
        target, fields, page_role, page_ids = found
        query = urlsplit(target).query
    else:
        query, fields = "", [[name, None, [], name == "file"] for name in sorted(names_seen | set(GENERIC_FIELDS))]
    base = page_values(fields, typical) if found else []
    names = sorted({field[0] for field in fields})
    file_names = sorted({field[0] for field in fields if field[3]})
    choices = sorted({choice for field in fields for choice in field[2] if choice})
    value = st.one_of(FORM_TEXT, st.sampled_from(choices or [""]))
    path_values = st.fixed_dictionaries({
        name: st.one_of(st.sampled_from(ids.get(name, [1])), st.sampled_from(ids.get(name, [1])), BIG_INT, TEXT,
                        st.sampled_from(names)) for name in sorted(rule.arguments)})

    def post(role, values, pairs, files, as_json=False, htmx=False, client=None):
        url = fill(rule, values) + ("?" + query if query else "")
        client = client or signed_in(app, accounts, role)
        if as_json:  # a form route sent JSON: its fields as keys, repeated ones as lists
            body = {}
            for key, v in pairs:
                body.setdefault(key, []).append(v)
            body = {key: vs[0] if len(vs) == 1 else vs for key, vs in body.items()} if pairs else [1, {"a": None}]
            response = client.post(url, json=body, environ_base={"REMOTE_ADDR": FUZZ_ADDRESS})
        else:
            # htmx asks for the fragment: a row, a slot, the bell (the routes answer it apart)
            response = post_form(client, url, pairs, files, {"HX-Request": "true"} if htmx else None)
        assert_no_500(response, f"{role} POST {url!r} {'json ' if as_json else ''}{'htmx ' if htmx else ''}"
                                f"{str(pairs)[:600]!r} files {[(f[0], f[1][:20], f[2][:20]) for f in files]}")

    reals = real_values(rule, ids)
    for i in range(len(FORM_EDGES)):  # each field with each edge value, the fields shifted by one each time
        post(roles[i % len(roles)], reals[i % len(reals)],
             [(name, FORM_EDGES[(i + k) % len(FORM_EDGES)]) for k, name in enumerate(names)], [])
    post(roles[0], reals[0], [], [])  # nothing at all
    if found:  # the form as its page stands, but one field left out or changed, as the role who saw it
        client = signed_in(app, accounts, page_role)
        for name in names:
            others = [(key, v) for key, v in base if key != name]
            for odd in ONE_FIELD:
                post(page_role, page_ids, others + ([] if odd is None else [(name, odd)]), [], client=client)

    # Mostly the page's own values with some changed, removed or repeated (a list), and keys no form has.
    changes = st.dictionaries(st.sampled_from(names), st.one_of(st.none(), st.lists(value, max_size=3)), max_size=4)
    extra = st.lists(st.tuples(st.text(max_size=8), FORM_TEXT), max_size=3)
    upload = st.lists(st.tuples(st.sampled_from(file_names or ["file"]),
                                st.one_of(st.binary(max_size=2000), st.sampled_from(FILE_CONTENTS)),
                                st.sampled_from(FILE_NAMES)),
                      min_size=1, max_size=4)

    def form(changed, extras, n):
        pairs = [(name, RENEWED[name](n) if name in RENEWED else v) for name, v in base if name not in changed]
        return pairs + [(name, v) for name, vs in changed.items() if vs is not None for v in vs] + extras

    @settings(max_examples=EXAMPLES_PER_FORM_ROUTE, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(role=st.sampled_from(roles), values=path_values,
           pairs=st.one_of(*[st.builds(form, changes, extra, st.integers(1, 10**6))] * 3,
                           st.lists(st.tuples(st.sampled_from(names), value))),
           files=upload if file_names else st.one_of(st.just([]), st.just([]), upload),
           as_json=st.sampled_from([False] * 7 + [True]), htmx=st.sampled_from([False, False, True]))
    def check(role, values, pairs, files, as_json, htmx):
        post(role, values, pairs, files if not as_json else [], as_json, htmx)

    check()


def account_of(role: str) -> User:
    """The town's account of `role` (of ROLES): a school's by its duty."""
    if role in ("school", "mental_health"):
        duty = "coordinator" if role == "school" else role
        return db.session.scalar(db.select(User).where(User.role == "school", User.school_duty == duty))
    if role in DEPARTMENT_ROLES:
        return db.session.scalar(db.select(User).where(User.department_id == department(DEPARTMENT_ROLES[role]).id))
    return db.session.scalar(db.select(User).where(User.role == role))


@pytest.fixture
def form_town(app, town):
    """The town's ids, a list of real ones per name: a second child, exited (the reinstate form), and
    a member of the first child's family; a spare user for the admin's forms to change (they may
    switch off the account they edit); a department; an import batch waiting for its confirmation.
    Then each role's account as it stands, for signed_in to put back."""
    _, ids, child = town
    users = {role: account_of(role) for role in ROLES}
    village = child.residence_village
    exited = create_child("李四", village=village, family=[FamilyInput("母亲", "王芳", works_away=True)])
    exit_child(exited, next(iter(EXIT_REASONS)), local_today(), actor=None)
    member = FamilyMember(child_id=child.id, relation="父亲", name="张大")
    spare = create_user("director", villages=[village])
    colleague = create_user("school", school=child.school, school_duty="head_teacher")  # whose duty is set
    batch = ImportBatch(user_id=users["civil_affairs"].id, filename="名单.xlsx", status="previewed", total_rows=1)
    db.session.add_all([member, batch])
    db.session.commit()
    ids = {**{name: [value] for name, value in ids.items()}, "child_id": [child.id, exited.id],
           "member_id": [member.id], "user_id": [spare.id, colleague.id], "batch_id": [batch.id],
           "department_id": [department("police").id], "field": ["name", "birth_date"],
           # issue 11: each measure (one referred to each department, one not), each referral (the police's
           # accepted one first: its actions' form), each user's notice, the categories a visit or an
           # assessment may add and some they may not
           "measure_id": list(db.session.scalars(db.select(Measure.id).order_by(Measure.id))),
           "referral_id": [ids["referral_id"]] + list(db.session.scalars(
               db.select(Referral.id).where(Referral.id != ids["referral_id"]).order_by(Referral.id))),
           "notice_id": list(db.session.scalars(db.select(Notice.id).order_by(Notice.id))),
           "visit_id": list(db.session.scalars(db.select(Visit.id).order_by(Visit.id))),
           "category": ["safety", "education", "other", "living", "medical", "assistance", "family"]}
    accounts = {role: {"id": user.id, "username": user.username, "password_hash": user.password_hash,
                       "role": user.role, "active": True, "school_id": user.school_id, "school_duty": user.school_duty}
                for role, user in users.items()}
    return accounts, ids, {child.id: "active", exited.id: "exited"}


# A field's value when its page leaves it empty, by the field's name. No current_password: a post
# that changed a password would lock that role out of the rest of the test.
def typical_values(child_id: int) -> dict:
    today = local_today().isoformat()
    return {"name": "王小明", "display_name": "王老师", "username": "wangxm", "password": "Guanai-2026-long",
            "birth_date": "2015-03-02", "id_number": valid_id_number(date(2015, 3, 2), 7), "gender": "male",
            "guardian_name": "王大", "guardian_relation": "祖母", "guardian_phone": "13812345678",
            "child_id": str(child_id), "client_uuid": "00000000-0000-4000-8000-0000000000aa",
            "visited_on": today, "contacted_on": today, "start_on": today, "exit_date": today, "who": "母亲",
            "correction_reason": "日期填错", "reason": "已回本村", "comment": "已阅"}


# Values that must differ from one post to the next for the post to be stored, by the field's name.
RENEWED = {"id_number": lambda n: valid_id_number(date(2015, 3, 2), n), "username": lambda n: f"wang{n}",
           "client_uuid": lambda n: f"00000000-0000-4000-8000-{n:012d}",
           "name": lambda n: "王" + chr(0x4E00 + n % 20000) + chr(0x4E00 + n // 20000)}  # a child's: one per name


def put_back(statuses: dict) -> None:
    """The children as the test began: the exit and reinstate forms, fuzzed, may have changed them
    (an exited child turns every other form away with 409)."""
    db.session.expire_all()
    for child_id, status in statuses.items():
        child = db.session.get(Child, child_id)
        if status == "exited" and child.status != "exited":
            exit_child(child, next(iter(EXIT_REASONS)), local_today(), actor=None)
        elif status != "exited" and child.status == "exited":
            reinstate_child(child, "测试复原", actor=None)
    db.session.commit()


def test_no_form_post_answers_500(app, form_town):
    accounts, ids, statuses = form_town
    rules = form_post_rules(app)
    assert {"/login", "/logout", "/children/new", "/children/import"} <= {r.rule for r in rules}
    roles = [form_reaching_roles(app, accounts, rule) for rule in rules]
    forms = [form_for(app, accounts, rule, reaching, ids) for rule, reaching in zip(rules, roles)]
    shown = {rule.rule: {field[0] for field in found[1]} for rule, found in zip(rules, forms) if found}
    # The form's own page, the page above (the child's, for the reinstate form), and signed out (login).
    assert {"name", "birth_date", "class_name"} <= shown["/children/new"] and "reason" in shown["/children/<int:child_id>/reinstate"]
    assert shown["/login"] == {"username", "password"}
    assert "class_pair" in shown["/schools/staff/<int:user_id>/class"]  # a 班主任's class, from her pupils' classes
    # Issue 11's forms as their pages show them, past the 404 of an id that names nothing: a need's
    # on the child's plan, a referral's on its page as the police (who hold it) see it.
    assert {"action", "department_id", "owner_name", "due_on"} <= shown["/care/needs/<int:need_id>/measures"]
    assert {"resolution", "note"} <= shown["/care/needs/<int:need_id>/resolve"]
    assert {"state", "outcome", "closed_reason"} <= shown["/care/measures/<int:measure_id>"]
    assert {"acted_on", "text", "attachments"} <= shown["/referrals/<int:referral_id>/actions"]
    assert {"outcome", "note"} <= shown["/referrals/<int:referral_id>/return"]
    assert "assessed_on" in shown["/children/<int:child_id>/assessments/new"]
    assert any(re.fullmatch(r"item_\d+_answer", name) for name in shown["/children/<int:child_id>/assessments/new"])
    assert "interventions" in shown["/care/assessments/<int:assessment_id>/interventions"]
    assert "action_taken" in shown["/care/urgent/<int:flag_id>/action"]
    assert {"summary", "decisions-0-due_on"} <= shown["/children/<int:child_id>/conferences/new"]
    assert "answer" in shown["/visits/<int:visit_id>/answer"]
    assert "question" in shown["/visits/<int:visit_id>/review/return"]
    names_seen = set().union(*shown.values())
    for rule, reaching, found in zip(rules, roles, forms):
        fuzz_form(app, accounts, rule, reaching, ids, found, names_seen, typical_values(ids["child_id"][0]))
        put_back(statuses)


def test_every_user_reads_their_own_notice_whatever_the_form_says(app, form_town):
    """The notices' forms past their 404, for every role (the fuzz above picks a notice and a role
    apart): the user's own notice is read and the page comes back; another user's is 404."""
    accounts, _, _ = form_town
    odd = [[], [("open", "1")], [("open", "\x00")], [("open", "好" * 3000)], [("open", str(2**64)), ("open", "")],
           [("next", "//evil.example")]]
    for role in ROLES:
        notice = db.session.scalar(db.select(Notice).where(Notice.user_id == accounts[role]["id"]))
        others = db.session.scalar(db.select(Notice).where(Notice.user_id != accounts[role]["id"]))
        others_read = others.read_at
        client = signed_in(app, accounts, role)
        for pairs in odd:
            for headers in (None, {"HX-Request": "true"}):
                response = post_form(client, f"/notices/{notice.id}/read", pairs, [], headers)
                assert response.status_code in (200, 303), (role, pairs, headers, response.status_code)
                assert post_form(client, f"/notices/{others.id}/read", pairs, [], headers).status_code == 404
            assert post_form(client, "/notices/read-all", pairs, []).status_code == 303, (role, pairs)
        db.session.expire_all()
        assert db.session.get(Notice, notice.id).read_at is not None, role
        assert db.session.get(Notice, others.id).read_at == others_read, role
