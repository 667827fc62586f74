"""One helper decides page or fragment: a fragment for a plain htmx request, the whole page when
htmx boosts a link or restores history; every answer varies on HX-Request."""
from tests.factories import create_user


def login_admin(auth):
    create_user("admin", username="boss", display_name="管理员甲")
    auth.login("boss")


def test_htmx_request_gets_the_rows_fragment(client, auth):
    login_admin(auth)
    response = client.get("/admin/users?q=boss", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body and "<nav" not in body
    assert "管理员甲" in body and "共 1 个用户" in body
    assert "HX-Request" in response.headers["Vary"]


def test_boosted_request_gets_the_full_page(client, auth):
    login_admin(auth)
    response = client.get("/admin/users?q=boss", headers={"HX-Request": "true", "HX-Boosted": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith("<!doctype html>")
    assert '<nav class="mainnav"' in body and "管理员甲" in body


def test_history_restore_gets_the_full_page(client, auth):
    login_admin(auth)
    response = client.get("/admin/users", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"})
    assert response.get_data(as_text=True).lstrip().startswith("<!doctype html>")


def test_plain_request_gets_the_full_page_with_vary(client, auth):
    login_admin(auth)
    response = client.get("/admin/users")
    assert response.get_data(as_text=True).lstrip().startswith("<!doctype html>")
    assert "HX-Request" in response.headers["Vary"]


def test_error_for_htmx_is_a_fragment(client, auth):
    create_user("director", username="zhuren9")
    auth.login("zhuren9")
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "没有权限" in body and "<html" not in body


def test_base_page_carries_the_session_inside_body(client, auth):
    """A boosted navigation swaps the body's content only: the CSRF token and the user must be in
    it (app.js reads them from #session), not in the head or on <body>'s own attributes."""
    login_admin(auth)
    body = client.get("/").get_data(as_text=True)
    head, inside = body.split("<body", 1)
    assert "csrf" not in head.lower()
    body_tag, content = inside.split(">", 1)
    assert 'hx-boost="true"' in body_tag and "csrf" not in body_tag.lower() and "data-user" not in body_tag
    session = content.split('<div id="session"', 1)[1].split(">", 1)[0]
    assert 'data-csrf="' in session and 'data-user="boss"' in session and 'data-login-url="/login"' in session
    assert "js/vendor/htmx-2.0.11.min.js" in head
    assert '<div id="messages"' in content


def test_post_without_csrf_token_is_refused_in_chinese(_app):
    """CSRF is on in the real app (the other tests switch it off to post forms directly)."""
    _app.config["WTF_CSRF_ENABLED"] = True
    try:
        with _app.app_context():
            response = _app.test_client().post("/login", data={"username": "a", "password": "b"})
        assert response.status_code == 400
        assert "安全校验已失效" in response.get_data(as_text=True)
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False


def test_csrf_token_in_the_header_is_accepted(_app, app):
    create_user("admin", username="boss")
    _app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = _app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        response = client.post("/login", data={"username": "boss", "password": "correct-horse-1"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 303
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False


# --- every endpoint that answers a fragment ------------------------------------------------------
import ast  # noqa: E402
import importlib  # noqa: E402
import inspect  # noqa: E402
import uuid  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import date  # noqa: E402
from typing import Callable  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy import update  # noqa: E402

from blueprints.children.models import ImportBatch  # noqa: E402
from blueprints.core.jobs import Job  # noqa: E402
from blueprints.visits.models import Visit  # noqa: E402
from extensions import db  # noqa: E402
from tests.factories import (create_child, create_school, create_screening, create_village,  # noqa: E402
                             create_volunteer)

FRAGMENT_CALLS = {"render_page", "wants_fragment"}


def _calls(node: ast.AST) -> set[str]:
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            names.add(func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "")
    return names


def _answers_fragments(module_name: str) -> set[str]:
    """Functions of a module that call render_page/wants_fragment, directly or through another
    function of the same module (a view that renders through a helper counts too)."""
    tree = ast.parse(inspect.getsource(importlib.import_module(module_name)))
    calls = {node.name: _calls(node) for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    found = {name for name, called in calls.items() if called & FRAGMENT_CALLS}
    while True:
        more = {name for name, called in calls.items() if called & found} - found
        if not more:
            return found
        found |= more


def fragment_endpoints(app) -> set[str]:
    """Discovered from the URL map: the endpoints whose view answers a page or a fragment."""
    found = set()
    modules: dict[str, set[str]] = {}
    for endpoint, view in app.view_functions.items():
        view = inspect.unwrap(view)
        module = getattr(view, "__module__", "")
        if not module.startswith("blueprints.") or module == "blueprints.core.errors":
            continue
        if module not in modules:
            modules[module] = _answers_fragments(module)
        if view.__name__ in modules[module]:
            found.add(endpoint)
    return found


@dataclass
class FragmentCase:
    role: str
    request: Callable  # (client, context) -> response, given extra headers
    fragment_has: str  # what the fragment shows
    setup: Callable = lambda user: {}  # noqa: E731


def _print_job(user):
    job = Job(kind="print_archives", title="打印儿童档案（测试）", user_id=user.id, status="running", done=1, total=4)
    db.session.add(job)
    db.session.commit()
    return {"job": job.id}


def _import_job(user):
    batch = ImportBatch(user_id=user.id, filename="摸底排查.xlsx", status="importing", total_rows=4)
    db.session.add(batch)
    db.session.flush()
    job = Job(kind="children_import", title=f"导入儿童名单（第 {batch.id} 批）", user_id=user.id, status="running",
              done=1, total=4)
    db.session.add(job)
    db.session.commit()
    return {"batch": batch.id, "job": job.id}


def _pairing_print_job(user):
    job = Job(kind="print_pairings", title="打印结对帮扶记录表（测试）", user_id=user.id, status="running", done=1, total=4)
    db.session.add(job)
    db.session.commit()
    return {"job": job.id}


def _village(user):
    village = create_village("东洼村")
    create_child("张三", village=village)
    return {"village": village.id}


def _volunteer_import_job(user):
    job = Job(kind="volunteers_import", title="导入志愿者名单（名单.xlsx）", user_id=user.id, status="running",
              done=1, total=4)
    db.session.add(job)
    db.session.commit()
    return {"job": job.id}


def _visit(user, **values):
    """A visit with a hazard, with `values` (its review state) set afresh before each request of the
    case: recorded by `user` when a director (she answers), else by a director of the village (a
    supervisor reviews others' visits, not her own)."""
    village = create_village("东洼村")
    if user.role == "director":
        user.villages, visitor = [village], user
    else:
        visitor = create_user("director", villages=[village])
    visit = Visit(client_uuid=str(uuid.uuid4()), child_id=create_child("王小水", village=village).id,
                  visitor_id=visitor.id, visited_on=date(2026, 3, 2), kind="home", hazard_waters=True, **values)
    db.session.add(visit)
    db.session.commit()
    return {"visit": visit.id, "reset": {"review_state": None, **values}}


def _screening(user):
    create_screening(create_child("李小红", school=create_school("中心小学")))
    return {}


def _assessment(user):
    from blueprints.care.models import AssessmentAnswer, AssessmentItem, GuardianshipAssessment

    child = create_child("王小丽", village=create_village("前王庄村"))
    item = AssessmentItem(text="孩子生病时能及时就医", weight=2, need_category="medical")
    db.session.add(item)
    db.session.flush()
    assessment = GuardianshipAssessment(child_id=child.id, assessed_on=child.created_at.date(), percent=0,
                                        level="severe", answers=[AssessmentAnswer(
                                            item_id=item.id, item_text=item.text, weight=2, answer=0)])
    db.session.add(assessment)
    db.session.commit()
    return {"assessment": assessment.id}


def _visit_with_findings(user):
    import uuid

    from blueprints.core.clock import local_today
    from blueprints.visits.services import record_visit

    child = create_child("张三", village=create_village("东洼村"))
    visit = record_visit(child, {"visited_on": local_today(), "kind": "home"}, ["safety"], str(uuid.uuid4()),
                         actor=user).record
    db.session.commit()
    return {"visit": visit.id}


def _notice(user):
    from blueprints.notices.services import notify

    notice = notify([user], "measure_due", "一项帮扶措施将于 2026-11-22 到期", key="measure_due:1")[0]
    db.session.commit()
    return {"notice": notice.id}


FRAGMENT_CASES = {
    "admin.users": FragmentCase("admin", lambda c, ctx, h: c.get("/admin/users?q=boss", headers=h), "共 1 个用户"),
    "admin.audit": FragmentCase("admin", lambda c, ctx, h: c.get("/admin/audit", headers=h), "登录"),
    "children.index": FragmentCase("civil_affairs", lambda c, ctx, h: c.get("/children?q=张", headers=h), "张三",
                                   setup=_village),
    "children.validate_field": FragmentCase(
        "civil_affairs",
        lambda c, ctx, h: c.post("/children/validate/name", headers=h,
                                 data={"_creating": "1", "name": "  ", "residence_village_id": ctx["village"]}),
        "请填写姓名", setup=_village),
    "children.print_job": FragmentCase("civil_affairs", lambda c, ctx, h: c.get(f"/children/print/{ctx['job']}",
                                                                                headers=h), "已排版 1 / 4 份", setup=_print_job),
    "volunteers.pairing_batch_job": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.get(f"/pairings/print/{ctx['job']}", headers=h), "已排版 1 / 4 份",
        setup=_pairing_print_job),
    "children.import_job": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.get(f"/children/import/{ctx['batch']}/job/{ctx['job']}", headers=h),
        'id="import-job"', setup=_import_job),
    "volunteers.volunteer_list": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.get("/volunteers?q=周", headers=h), "周桂兰",
        setup=lambda user: {"volunteer": create_volunteer(name="周桂兰").id}),
    "volunteers.volunteer_import_job": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.get(f"/volunteers/import/job/{ctx['job']}", headers=h),
        'id="import-job"', setup=_volunteer_import_job),
    "schools.screening_list": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.get("/schools/screenings?term=", headers=h), "李小红", setup=_screening),
    # a POST: 303 to the assessment's page, or the suggestion's row (idempotent: posted four times here)
    "care.assessment_need": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.post(f"/care/assessments/{ctx['assessment']}/needs/medical", headers=h,
                                                  follow_redirects=True), "已加入帮扶方案", setup=_assessment),
    # a POST: without htmx (or boosted) 303 to the visit page, followed here
    "care.need_confirm": FragmentCase(
        "civil_affairs", lambda c, ctx, h: c.post(f"/care/visits/{ctx['visit']}/needs/safety", headers=h,
                                                  follow_redirects=True), "已加入", setup=_visit_with_findings),
    # a notice marked read: its row and the bell; without htmx, back to the list
    "notices.notice_read": FragmentCase(
        "director", lambda c, ctx, h: c.post(f"/notices/{ctx['notice']}/read", headers=h, follow_redirects=True),
        'hx-swap-oob="true"', setup=_notice),
    "visits.review_queue": FragmentCase(
        "supervisor", lambda c, ctx, h: c.get("/visits/review?finding=hazard", headers=h), "王小水", setup=_visit),
}
# POST views that answer htmx with a fragment and a plain (or boosted) form with 303 to a page.
POST_FRAGMENT_CASES = {
    "visits.review_ok": FragmentCase(
        "supervisor", lambda c, ctx, h: c.post(f"/visits/{ctx['visit']}/review/ok", headers=h), "已评阅",
        setup=_visit),
    "visits.review_return": FragmentCase(
        "supervisor", lambda c, ctx, h: c.post(f"/visits/{ctx['visit']}/review/return", data={"question": "？"},
                                                headers=h), "已退回", setup=_visit),
    "visits.visit_answer": FragmentCase(
        "director", lambda c, ctx, h: c.post(f"/visits/{ctx['visit']}/answer", data={"answer": "好"}, headers=h),
        "已答复", setup=lambda user: _visit(user, review_state="returned", review_question="？")),
}


def test_every_fragment_endpoint_is_in_the_contract(app):
    """A new view that answers fragments must be added to FRAGMENT_CASES (and so be walked below)."""
    discovered = fragment_endpoints(app)
    assert discovered == set(FRAGMENT_CASES) | set(POST_FRAGMENT_CASES), (
        f"not walked: {sorted(discovered - set(FRAGMENT_CASES))}; "
        f"no longer fragments: {sorted(set(FRAGMENT_CASES) | set(POST_FRAGMENT_CASES) - discovered)}")


def test_the_discovery_follows_helpers():
    source = "def helper():\n    return render_page('a', 'b')\n\ndef view():\n    return helper()\n\ndef plain():\n    pass\n"
    tree = ast.parse(source)
    calls = {node.name: _calls(node) for node in tree.body}
    assert calls["view"] == {"helper"} and "render_page" in calls["helper"] and calls["plain"] == set()


@pytest.mark.parametrize("endpoint", sorted(FRAGMENT_CASES))
def test_fragment_endpoint_answers_page_fragment_and_boosted_page(endpoint, client, auth):
    case = FRAGMENT_CASES[endpoint]
    user = create_user(case.role, username="boss", display_name="管理员甲")
    context = case.setup(user)
    auth.login("boss")

    page = case.request(client, context, {})
    fragment = case.request(client, context, {"HX-Request": "true"})
    boosted = case.request(client, context, {"HX-Request": "true", "HX-Boosted": "true"})
    restored = case.request(client, context, {"HX-Request": "true", "HX-History-Restore-Request": "true"})

    for response in (page, fragment, boosted, restored):
        assert response.status_code == 200, (endpoint, response.status_code)
        assert "HX-Request" in response.vary, endpoint
    for response in (page, boosted, restored):
        body = response.get_data(as_text=True)
        assert "<html" in body and 'id="messages"' in body and 'id="session"' in body, endpoint
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "<body" not in body and 'id="session"' not in body, endpoint
    assert case.fragment_has in body, (endpoint, body[:300])


@pytest.mark.parametrize("endpoint", sorted(POST_FRAGMENT_CASES))
def test_post_fragment_endpoint_answers_fragment_or_redirect(endpoint, client, auth):
    case = POST_FRAGMENT_CASES[endpoint]
    user = create_user(case.role, username="boss", display_name="管理员甲")
    context = case.setup(user)
    auth.login("boss")

    def send(headers):
        db.session.execute(update(Visit).where(Visit.id == context["visit"]).values(**context["reset"]))
        db.session.commit()
        return case.request(client, context, headers)

    fragment = send({"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and "<html" not in body and 'id="session"' not in body, endpoint
    assert case.fragment_has in body, (endpoint, body[:300])
    for headers in ({}, {"HX-Request": "true", "HX-Boosted": "true"}):
        response = send(headers)
        assert response.status_code == 303, (endpoint, headers, response.status_code)


# --- errors of fragment requests go to the message region ---------------------------------------

def test_fragment_error_is_sent_to_the_message_region(client, auth):
    create_user("director", username="zhuren9")
    auth.login("zhuren9")
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#messages"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert response.headers["HX-Reselect"] == ".notice"
    body = response.get_data(as_text=True)
    assert 'class="flash flash-error notice"' in body and "没有权限" in body


def test_inline_check_of_an_unknown_field_errs_into_the_message_region(client, auth):
    create_user("civil_affairs", username="minzheng9")
    auth.login("minzheng9")
    response = client.post("/children/validate/nope", data={"_creating": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 404 and response.headers["HX-Retarget"] == "#messages"


def test_boosted_error_is_a_whole_page_left_where_it_is(client, auth):
    create_user("director", username="zhuren9")
    auth.login("zhuren9")
    response = client.get("/admin/users", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert response.status_code == 403 and "HX-Retarget" not in response.headers
    body = response.get_data(as_text=True)
    assert "<html" in body and 'class="error-page"' in body


def test_stale_csrf_on_a_fragment_request_says_so_in_the_message_region(_app, app):
    create_user("civil_affairs", username="minzheng9")
    _app.config["WTF_CSRF_ENABLED"] = True
    try:
        c = _app.test_client()
        page = c.get("/login").get_data(as_text=True)
        token = page.split('data-csrf="', 1)[1].split('"', 1)[0]
        c.post("/login", data={"username": "minzheng9", "password": "correct-horse-1", "csrf_token": token})
        response = c.post("/children/validate/name", data={"_creating": "1", "name": "x", "csrf_token": "stale"},
                          headers={"HX-Request": "true", "X-CSRFToken": "stale"})
        assert response.status_code == 400 and response.headers["HX-Retarget"] == "#messages"
        assert "页面已过期" in response.get_data(as_text=True)
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False
