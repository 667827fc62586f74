from sqlalchemy import func, select

from blueprints.auth.models import LoginFailure
from blueprints.core.audit import AuditEvent
from extensions import db
from tests.factories import PASSWORD, create_user, create_village


def audit_actions(user_id=None):
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if user_id is not None:
        query = query.where(AuditEvent.user_id == user_id)
    return list(db.session.scalars(query))


def test_login_success_lands_on_the_home_page(client, auth):
    user = create_user("director", username="zhuren9", villages=[create_village("东村")], display_name="王芳")
    response = auth.login("zhuren9")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "王芳，您好" in page
    assert "东村" in page
    db.session.refresh(user)
    assert user.last_login_at is not None
    assert audit_actions(user.id) == ["login"]


def test_login_follows_a_local_next_but_never_another_site(client, auth):
    create_user("admin", username="boss")
    response = client.post("/login?next=/admin/users", data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == "/admin/users"
    client.post("/logout")
    response = client.post("/login?next=https://evil.example/x", data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=//evil.example/x", data={"username": "boss", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def test_wrong_password_is_refused_and_counted(client, auth):
    user = create_user("director", username="zhuren9")
    response = auth.login("zhuren9", "wrong-password")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert "用户名或密码不正确" in page
    assert 'value="zhuren9"' in page  # what was typed is kept
    failures = db.session.execute(select(LoginFailure.username, LoginFailure.address)).all()
    assert failures == [("zhuren9", "127.0.0.1")]
    assert client.get("/").status_code == 302  # still signed out
    assert audit_actions(user.id) == ["login_failed"]


def test_unknown_username_gets_the_same_message(auth):
    response = auth.login("nobody", "whatever-1")
    assert response.status_code == 401
    assert "用户名或密码不正确" in response.get_data(as_text=True)


def test_empty_fields_are_named_in_chinese(auth, client):
    response = client.post("/login", data={"username": "", "password": ""})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "请填写用户名" in page
    assert "请填写密码" in page


def test_overlong_username_is_refused_with_its_limit(client):
    response = client.post("/login", data={"username": "x" * 41, "password": "abc"})
    assert response.status_code == 422
    assert "用户名最多 40 个字" in response.get_data(as_text=True)


def test_disabled_user_cannot_log_in(client, auth):
    create_user("director", username="gone", active=False)
    response = auth.login("gone")
    assert response.status_code == 401
    assert "该账号已停用" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_logout_needs_post_and_ends_the_session(client, auth):
    create_user("admin", username="boss")
    auth.login("boss")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 303
    assert client.get("/").status_code == 302


def test_signed_out_htmx_request_gets_hx_redirect(client):
    response = client.get("/admin/users", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/login")


def test_change_password(client, auth):
    user = create_user("director", username="zhuren9")
    auth.login("zhuren9")
    other_device = client.application.test_client()
    other_device.post("/login", data={"username": "zhuren9", "password": PASSWORD})
    assert other_device.get("/").status_code == 200

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "new-secret-22", "confirm_password": "new-secret-22"})
    assert response.status_code == 303
    db.session.refresh(user)
    assert user.check_password("new-secret-22")
    assert client.get("/").status_code == 200  # this session goes on
    assert other_device.get("/").status_code == 302  # the other device is signed out
    assert "password_changed" in audit_actions(user.id)


def test_change_password_bad_input_keeps_the_old_password(client, auth):
    user = create_user("director", username="zhuren9")
    auth.login("zhuren9")
    cases = [
        ({"current_password": "nope", "new_password": "new-secret-22", "confirm_password": "new-secret-22"},
         "当前密码不正确"),
        ({"current_password": PASSWORD, "new_password": "short", "confirm_password": "short"}, "至少 10 个字符"),
        ({"current_password": PASSWORD, "new_password": "12345678901", "confirm_password": "12345678901"},
         "不能全是数字"),
        ({"current_password": PASSWORD, "new_password": "zhuren9", "confirm_password": "zhuren9"}, "至少 10 个字符"),
        ({"current_password": PASSWORD, "new_password": "new-secret-22", "confirm_password": "new-secret-23"},
         "两次输入的新密码不一致"),
        ({"current_password": PASSWORD, "new_password": PASSWORD, "confirm_password": PASSWORD},
         "新密码不能与当前密码相同"),
    ]
    for data, message in cases:
        response = client.post("/account/password", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    db.session.refresh(user)
    assert user.check_password(PASSWORD)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "password_changed")) == 0


def test_disabling_a_user_ends_their_session(client, auth, app):
    create_user("admin", username="boss")
    victim = create_user("director", username="zhuren9", villages=[create_village()])
    victim_client = app.test_client()
    victim_client.post("/login", data={"username": "zhuren9", "password": PASSWORD})
    assert victim_client.get("/").status_code == 200

    auth.login("boss")
    response = client.post(f"/admin/users/{victim.id}/edit", data={
        "username": "zhuren9", "display_name": "测试", "role": "director",
        "villages": [v.id for v in victim.villages], "school_id": 0, "department_id": 0,
        "volunteer_kind": "", "password": ""})  # `active` unticked
    assert response.status_code == 303
    assert victim_client.get("/").status_code == 302


def _seed_demo_town(app, monkeypatch):
    from blueprints.auth.demo import seed_demo

    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    seed_demo("拳铺镇")
    db.session.commit()


def test_demo_accounts_cannot_log_in_outside_demo_mode(app, client, auth, monkeypatch):
    from blueprints.auth.demo import DEMO_PASSWORD

    _seed_demo_town(app, monkeypatch)
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    refused = auth.login("admin", DEMO_PASSWORD)
    wrong = auth.login("admin", "not-the-password")
    assert refused.status_code == wrong.status_code == 401
    message = "用户名或密码不正确"
    assert message in refused.get_data(as_text=True)
    # Word for word what a wrong password gets: nothing tells that the account exists.
    alert = 'role="alert">'
    assert (refused.get_data(as_text=True).split(alert)[1].split("<")[0]
            == wrong.get_data(as_text=True).split(alert)[1].split("<")[0])
    assert client.get("/").status_code == 302
    details = list(db.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "login_failed")))
    assert any("演示模式关闭：演示账号不能登录" in d for d in details)

    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    assert auth.login("admin", DEMO_PASSWORD).status_code == 303
    assert client.get("/").status_code == 200


def test_the_login_page_says_demo_accounts_work_only_in_demo_mode(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    page = client.get("/login").get_data(as_text=True)
    assert "演示账号只在演示模式下能登录" in page and "guanai-demo" in page
    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    page = client.get("/login").get_data(as_text=True)
    assert "演示账号" not in page and "guanai-demo" not in page


def test_start_up_outside_demo_mode_warns_in_the_log(tmp_path, caplog):
    """Said when the app is made, on a database not even migrated: no query at start-up."""
    from tests.conftest import make_app

    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with caplog.at_level("WARNING"):
        make_app(empty, tmp_path, DEMO_MODE=False)
    assert "演示模式关闭：演示账号不能登录" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        make_app(empty, tmp_path, DEMO_MODE=True)
    assert "演示模式关闭" not in caplog.text
