"""Passwords: at least 10 characters and none of the shipped common passwords (any case), in the
change-password form, the administrator's user form and `create-admin`."""
import pytest
from sqlalchemy import select

from blueprints.auth.demo import DEMO_PASSWORD
from blueprints.auth.forms import COMMON_PASSWORDS_FILE, PASSWORD_MIN, check_password_strength, common_passwords
from blueprints.auth.models import User
from extensions import db
from tests.factories import PASSWORD, create_user, create_village

TOO_COMMON = "这个密码太常见，容易被猜中，请换一个"


@pytest.mark.parametrize("password", [
    "123456789a", "WoAiNi1314", "qwertyuiop", "1QAZ2WSX3EDC", "Password123", "guanai12345", "Guanai123456",
    "zhang123456", "woaini5201314", "abcd123456",
])
def test_common_passwords_are_refused_whatever_their_case(password):
    assert check_password_strength(password) == TOO_COMMON


@pytest.mark.parametrize("password, problem", [
    ("abcdefgh9", f"至少 {PASSWORD_MIN} 个字符"),
    ("12345678901", "不能全是数字"),
    ("zhuren-long-name", "不能与用户名相同"),
])
def test_the_other_rules_still_hold(password, problem):
    assert problem in check_password_strength(password, "Zhuren-Long-Name")


def test_the_passwords_the_app_and_tests_use_pass():
    for password in (DEMO_PASSWORD, PASSWORD, "first-pass-77", "reset-pass-99", "new-secret-22", "strong-pass-1"):
        assert check_password_strength(password) is None, password
    assert len("abcdefgh10") == PASSWORD_MIN and check_password_strength("abcdefgh10") is None


def test_the_shipped_list():
    words = common_passwords()
    assert 300 <= len(words) <= 5000
    assert DEMO_PASSWORD not in words
    assert {"woaini1314", "1qaz2wsx3edc", "password123", "123456789a", "guanai12345"} <= words
    lines = [ln for ln in COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    assert all(ln == ln.strip().lower() and ln for ln in lines)


def test_change_password_refuses_a_common_one_and_keeps_the_old(client, auth):
    user = create_user("director", username="zhuren9")
    auth.login("zhuren9")
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "Woaini1314", "confirm_password": "Woaini1314"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert TOO_COMMON in page and "不能是常见密码" in page  # the rule is shown beside the field
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_the_administrators_user_form_uses_the_same_rules(client, auth):
    create_user("admin", username="boss")
    village = create_village()
    auth.login("boss")
    data = {"username": "zhuren7", "display_name": "李娟", "role": "director", "volunteer_kind": "",
            "school_id": 0, "department_id": 0, "active": "y", "villages": [village.id]}
    for password, message in (("qwertyuiop", TOO_COMMON), ("short-pw9", "密码至少 10 个字符")):
        response = client.post("/admin/users/new", data={**data, "password": password})
        assert response.status_code == 422
        assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.username == "zhuren7")) is None

    director = create_user("director", username="zhuren8", villages=[village])
    response = client.post(f"/admin/users/{director.id}/edit",
                           data={**data, "username": "zhuren8", "password": "1qaz2wsx3edc"})
    assert response.status_code == 422 and TOO_COMMON in response.get_data(as_text=True)
    db.session.refresh(director)
    assert director.check_password(PASSWORD)


def test_create_admin_refuses_a_common_password(app, runner):
    result = runner.invoke(args=["create-admin", "--username", "chief", "--password", "admin12345"])
    assert result.exit_code == 1 and TOO_COMMON in result.output
    assert db.session.scalar(select(User).where(User.username == "chief")) is None


# --- a password someone else set is temporary ------------------------------------------------------

def _change(client, current, new):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new})


def test_a_password_an_administrator_sets_opens_only_the_page_that_sets_her_own(client, auth):
    """Known to the administrator and often sent by message: until she sets her own, every page,
    fragment and API call leads to /account/password (the phone's API: 401, so its outbox keeps
    what waits and asks her to sign in again)."""
    create_user("admin", username="boss")
    village = create_village("东村")
    auth.login("boss")
    client.post("/admin/users/new", data={
        "username": "zhuren7", "display_name": "李娟", "phone": "", "role": "director", "villages": [village.id],
        "volunteer_kind": "", "school_id": 0, "department_id": 0, "active": "y", "password": "first-pass-77"})
    user = db.session.scalar(select(User).where(User.username == "zhuren7"))
    assert user.password_is_temporary
    auth.logout()
    assert auth.login("zhuren7", "first-pass-77").status_code == 303
    for path in ("/", "/children", "/visits/due", "/visits/new"):
        response = client.get(path)
        assert (response.status_code, response.headers.get("Location")) == (302, "/account/password"), path
    assert client.get("/children", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/account/password"
    response = client.get("/api/v1/due-list")
    assert response.status_code == 401 and response.get_json()["error"] == "password_change_required"
    response = client.post("/api/v1/visits", json={})
    assert response.status_code == 401
    page = client.get("/account/password").get_data(as_text=True)
    assert "初始密码" in page and "只有您自己知道" in page
    assert _change(client, "first-pass-77", "her-own-pass-88").status_code == 303
    db.session.refresh(user)
    assert not user.password_is_temporary
    assert client.get("/visits/due").status_code == 200 and client.get("/api/v1/due-list").status_code == 200
    # a reset by the administrator makes it temporary again; her own account's is not
    auth.logout()
    auth.login("boss")
    client.post(f"/admin/users/{user.id}/edit", data={
        "username": "zhuren7", "display_name": "李娟", "phone": "", "role": "director", "villages": [village.id],
        "volunteer_kind": "", "school_id": 0, "department_id": 0, "active": "y", "password": "reset-pass-99"})
    db.session.refresh(user)
    assert user.password_is_temporary
    boss = db.session.scalar(select(User).where(User.username == "boss"))
    client.post(f"/admin/users/{boss.id}/edit", data={
        "username": "boss", "display_name": boss.display_name, "phone": "", "role": "admin",
        "volunteer_kind": "", "school_id": 0, "department_id": 0, "active": "y", "password": "boss-new-pass-11"})
    db.session.refresh(boss)
    assert boss.check_password("boss-new-pass-11") and not boss.password_is_temporary



def test_an_administrator_setting_her_own_password_on_the_user_form_stays_signed_in_here(app, client, auth):
    """Her own password, chosen by her: as on /account/password, her other devices sign out and
    this one goes on (it used to end this session too: the save led to the login page)."""
    from blueprints.auth.models import UserSession
    from blueprints.core.audit import AuditEvent

    boss = create_user("admin", username="boss")
    other = app.test_client()
    assert other.post("/login", data={"username": "boss", "password": PASSWORD}).status_code == 303
    auth.login("boss")
    saved = client.post(f"/admin/users/{boss.id}/edit", data={
        "username": "boss", "display_name": boss.display_name, "phone": "", "role": "admin",
        "volunteer_kind": "", "school_id": 0, "department_id": 0, "active": "y", "password": "boss-new-pass-11"})
    assert saved.status_code == 303
    assert client.get("/admin/users").status_code == 200
    assert other.get("/admin/users").status_code == 302
    db.session.expire_all()
    boss = db.session.get(User, boss.id)
    assert boss.check_password("boss-new-pass-11") and not boss.password_is_temporary
    assert db.session.scalar(select(db.func.count()).select_from(UserSession).where(
        UserSession.user_id == boss.id, UserSession.ended_at.is_(None))) == 1
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("password%"))).all() == [
        "password_changed"]


def test_the_page_a_temporary_password_leads_to_says_why_once_under_its_own_title(client, auth):
    """Redirected there from any page: its title and heading name it, and its words say why once
    (a flash repeating them stood above them)."""
    user = create_user("director", username="zhuren8")
    user.password_is_temporary = True
    db.session.commit()
    auth.login("zhuren8")
    response = client.get("/children", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.request.path == "/account/password"
    assert "<title>设置自己的密码" in page and "<h1>设置自己的密码</h1>" in page
    assert page.count("别人为您设置的初始密码") == 1
