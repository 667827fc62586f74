"""Role × reach: each role's menu, and what each role may open (403 without the grant,
404 for an object outside its reach)."""
import pytest
from sqlalchemy import select

from blueprints.core.access import ROLES
from blueprints.places.access import reachable_schools, reachable_villages
from extensions import db
from tests.factories import create_school, create_user, create_village


@pytest.fixture
def town(app):
    """Two villages, each with its own school, and one user per role."""
    a, b = create_village("甲村"), create_village("乙村")
    school_a, school_b = create_school("甲村小学", [a]), create_school("乙村小学", [b])
    users = {
        "admin": create_user("admin", username="u_admin"),
        "civil_affairs": create_user("civil_affairs", username="u_civil"),
        "supervisor": create_user("supervisor", username="u_super"),
        "director": create_user("director", username="u_director", villages=[a]),
        "school": create_user("school", username="u_school", school=school_a),
        "department": create_user("department", username="u_dept", department_code="police"),
        "volunteer": create_user("volunteer", username="u_vol", volunteer_kind="caring_mother"),
    }
    return {"a": a, "b": b, "school_a": school_a, "school_b": school_b, "users": users}


MENUS = {
    "admin": ["首页", "儿童", "村", "学校", "用户", "基础数据", "操作日志"],
    "civil_affairs": ["首页", "儿童", "村", "学校", "操作日志"],
    "supervisor": ["首页", "儿童", "村", "学校"],
    "director": ["首页", "儿童", "村", "学校"],
    "school": ["首页", "儿童", "村", "学校"],
    "department": ["首页", "儿童"],  # the children referred to it (care area)
    "volunteer": ["首页"],
}
ALL_MENU_LABELS = {"首页", "儿童", "村", "学校", "用户", "基础数据", "操作日志"}


def test_every_role_has_a_menu_here():
    assert set(MENUS) == set(ROLES)


@pytest.mark.parametrize("role", MENUS)
def test_menu_by_role(town, client, auth, role):
    auth.login(town["users"][role].username)
    page = client.get("/").get_data(as_text=True)
    nav = page.split('<nav class="mainnav"', 1)[1].split("</nav>", 1)[0]
    for label in MENUS[role]:
        assert f">{label}</a>" in nav
    for label in ALL_MENU_LABELS - set(MENUS[role]):
        assert f">{label}</a>" not in nav


HOME_TEXT = {
    "admin": "启用中的账号",
    "civil_affairs": "镇民政组牵头或参与的重点任务",
    "supervisor": "各村儿童主任",
    "director": "我负责的村",
    "school": "学校承担的重点任务",
    "department": "镇派出所牵头或参与的重点任务",
    "volunteer": "与我结对的儿童",
}


@pytest.mark.parametrize("role", HOME_TEXT)
def test_each_role_has_its_own_home_page(town, client, auth, role):
    auth.login(town["users"][role].username)
    page = client.get("/").get_data(as_text=True)
    assert HOME_TEXT[role] in page
    for other, text in HOME_TEXT.items():
        if other != role:
            assert text not in page


def test_department_home_lists_the_plan_tasks_it_owns(town, client, auth):
    auth.login("u_dept")
    page = client.get("/").get_data(as_text=True)
    assert "加强司法救助帮扶" in page  # §15: 镇派出所、镇司法所
    assert "强化政府兜底监护" not in page  # §9: 镇民政组 only


# What each role may open: (path builder, expected status for roles in order).
def _paths(town):
    return {
        "village_a": f"/villages/{town['a'].id}",
        "village_b": f"/villages/{town['b'].id}",
        "school_a": f"/schools/{town['school_a'].id}",
        "school_b": f"/schools/{town['school_b'].id}",
        "villages": "/villages",
        "users": "/admin/users",
        "user_edit": f"/admin/users/{town['users']['director'].id}/edit",
        "reference": "/admin/reference",
        "village_edit": f"/admin/villages/{town['a'].id}/edit",
        "audit": "/admin/audit",
    }


EXPECTED = {
    #                village_a village_b school_a school_b villages users user_edit reference village_edit audit
    "admin":         (200, 200, 200, 200, 200, 200, 200, 200, 200, 200),
    "civil_affairs": (200, 200, 200, 200, 200, 403, 403, 403, 403, 200),
    "supervisor":    (200, 200, 200, 200, 200, 403, 403, 403, 403, 403),
    "director":      (200, 404, 200, 404, 200, 403, 403, 403, 403, 403),
    "school":        (200, 404, 200, 404, 200, 403, 403, 403, 403, 403),
    "department":    (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    "volunteer":     (403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
}


@pytest.mark.parametrize("role", EXPECTED)
def test_reach_by_role(town, client, auth, role):
    auth.login(town["users"][role].username)
    paths = _paths(town)
    got = tuple(client.get(path).status_code for path in paths.values())
    assert got == EXPECTED[role], dict(zip(paths, got))


def test_forbidden_and_missing_pages_are_in_chinese(town, client, auth):
    auth.login("u_director")
    forbidden = client.get("/admin/users")
    assert "没有权限" in forbidden.get_data(as_text=True)
    missing = client.get(f"/villages/{town['b'].id}")
    assert "不在您的工作范围内" in missing.get_data(as_text=True)
    assert "乙村" not in missing.get_data(as_text=True)  # nothing of the hidden village leaks


def test_director_cannot_post_admin_forms(town, client, auth):
    auth.login("u_director")
    response = client.post("/admin/villages/new", data={"name": "偷建村", "active": "y"})
    assert response.status_code == 403
    assert db.session.scalar(select(db.func.count()).select_from(town["a"].__class__)) == 2


def test_signed_out_users_are_sent_to_login(town, client):
    for path in _paths(town).values():
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_reachable_queries_per_role(town):
    users = town["users"]
    names = lambda query: [obj.name for obj in db.session.scalars(query)]  # noqa: E731
    assert names(reachable_villages(users["civil_affairs"])) == ["乙村", "甲村"] or \
        set(names(reachable_villages(users["civil_affairs"]))) == {"甲村", "乙村"}
    assert names(reachable_villages(users["director"])) == ["甲村"]
    assert names(reachable_villages(users["school"])) == ["甲村"]
    assert names(reachable_villages(users["department"])) == []
    assert names(reachable_villages(users["volunteer"])) == []
    assert names(reachable_schools(users["director"])) == ["甲村小学"]
    assert names(reachable_schools(users["school"])) == ["甲村小学"]
    assert names(reachable_schools(users["volunteer"])) == []


def test_a_director_of_two_villages_reaches_both(app, client, auth):
    a, b, c = create_village("甲村"), create_village("乙村"), create_village("丙村")
    create_user("director", username="two", villages=[a, b])
    auth.login("two")
    assert client.get(f"/villages/{a.id}").status_code == 200
    assert client.get(f"/villages/{b.id}").status_code == 200
    assert client.get(f"/villages/{c.id}").status_code == 404


def test_a_school_account_without_a_school_reaches_no_child(app):
    """The school reach compares with the account's school: without one it must not become IS NULL
    (every child at no school, and through them their carers, dropouts and contacts)."""
    from blueprints.children.access import reachable_children
    from blueprints.schools.access import reachable_dropouts
    from tests.factories import create_child, create_dropout

    child = create_child("无校儿童", school=create_school("东村小学"))
    create_dropout(child)
    child.school_id = None  # she has left school since
    db.session.commit()
    stray = create_user("school", school=None)
    assert db.session.scalars(reachable_children(stray)).all() == []
    assert db.session.scalars(reachable_dropouts(stray)).all() == []
