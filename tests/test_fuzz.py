"""No input gives a 500 (issue 8, item 9), by property: generated URLs and query strings for every
GET route of app.url_map, and generated JSON bodies for every POST route of the API, each sent as
a role that can reach it. Runs on SQLite and on PostgreSQL (GUANAI_TEST_DATABASE_URL), where
integers beyond 32 bits and NUL bytes fail in the database itself. The known cases, by name, are in
tests/test_bad_input.py."""
from __future__ import annotations

import re
from datetime import date
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blueprints.children.models import FamilyMember
from blueprints.core.clock import local_today
from blueprints.visits.validation import BOOL_FIELDS, TEXT_FIELDS
from extensions import db
from tests.conftest import AuthActions
from tests.factories import create_child, create_school, create_user, create_village

ROLES = ("admin", "civil_affairs", "supervisor", "director", "school")
EXAMPLES_PER_GET_ROUTE = 3
EXAMPLES_PER_API_ROUTE = 80

# Values that once gave a 500, or sit at an edge: huge and negative numbers, the calendar's ends,
# NUL and other control characters, a scheme-relative "next", an unclosed IPv6 host.
SPECIAL_TEXT = ["", "0", "-1", str(2**31), str(2**40), str(2**63), str(2**64), "9" * 30, "1e309", "NaN",
                "0001-01", "9999-12", "0001-01-01", "9999-12-31", "2026-02-30", "2026-13", "\x00", "a\x00b",
                "\ud800", "\u202e", "//[", "//evil.example", "/\\x", "%", "../..", "张三", " " * 50]
TEXT = st.one_of(st.sampled_from(SPECIAL_TEXT), st.text(max_size=30))
# Every query key meets each of these at least once, on every GET route (see fuzz_get).
EDGE_VALUES = ["-1", str(2**31), str(2**64), "9" * 30, "0001-01", "9999-12", "2026-13", "\x00", "//[", "\ud800"]
BIG_INT = st.one_of(st.integers(-(2**70), 2**70), st.sampled_from([0, 1, -1, 2**31 - 1, 2**31, 2**63, 2**64]))
QUERY_KEYS = ["page", "month", "q", "village", "school", "category", "attention", "status", "child", "child_id",
              "show", "action", "user", "role", "next", "field"]
QUERY = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), st.text(max_size=5)),
                           st.one_of(TEXT, BIG_INT.map(str))), max_size=6)

VISIT_FIELDS = ["client_uuid", "child_id", "visited_on", "kind", *TEXT_FIELDS, *BOOL_FIELDS, "mental_state",
                "parents_contacted", "parents_contacted_on", "parents_contact_method", "next_visit_on",
                "recorded_at", "needs"]
CONTACT_FIELDS = ["client_uuid", "child_id", "contacted_on", "method", "who", "note"]
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
    }
    child = create_child("张三", village=village, school=school)
    member = db.session.scalar(db.select(FamilyMember).where(FamilyMember.child_id == child.id))
    clients = {}
    for role, user in users.items():
        clients[role] = app.test_client()
        assert AuthActions(clients[role]).login(user.username).status_code in (302, 303)
    visit = clients["director"].post("/api/v1/visits", json={
        "client_uuid": "00000000-0000-4000-8000-000000000001", "child_id": child.id,
        "visited_on": local_today().isoformat(), "kind": "home"}).get_json()
    ids = {"child_id": child.id, "village_id": village.id, "school_id": school.id, "user_id": users["director"].id,
           "visit_id": visit["id"], "member_id": member.id if member else 1, "department_id": 1}
    return clients, ids, child


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
                                         ("/api/v1/parent-contacts", CONTACT_FIELDS)])
def test_no_api_post_answers_500(app, town, url, fields):
    clients, ids, child = town
    assert {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/") and "POST" in r.methods} \
        == {"/api/v1/visits", "/api/v1/parent-contacts"}  # a new API route joins the list above
    today = local_today().isoformat()
    valid = st.fixed_dictionaries({
        "client_uuid": st.uuids().map(str), "child_id": st.just(child.id), "visited_on": st.just(today),
        "kind": st.just("home"), "contacted_on": st.just(today), "method": st.just("video")})
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
    @given(role=st.sampled_from(["director", "director", "supervisor", "school", "admin"]),
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
