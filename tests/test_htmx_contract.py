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


def test_base_page_carries_csrf_for_htmx(client, auth):
    login_admin(auth)
    body = client.get("/").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in body
    assert "hx-headers='{\"X-CSRFToken\": \"" in body
    assert 'hx-boost="true"' in body
    assert "js/vendor/htmx-2.0.11.min.js" in body


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
        token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        response = client.post("/login", data={"username": "boss", "password": "correct-horse-1"},
                               headers={"X-CSRFToken": token})
        assert response.status_code == 303
    finally:
        _app.config["WTF_CSRF_ENABLED"] = False
