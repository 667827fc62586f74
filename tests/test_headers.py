"""Security headers on pages, files and JSON; HSTS and the client's address behind a proxy; the
request size limits; templates without inline script, style or event handlers (the CSP refuses them)."""
from __future__ import annotations

import re
import uuid
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from blueprints.children.models import ImportBatch
from blueprints.core.audit import AuditEvent
from blueprints.core.clock import local_today
from blueprints.core.security import CONTENT_SECURITY_POLICY
from blueprints.visits.models import Visit
from extensions import db
from tests.conftest import IsolatedClient, make_app
from tests.factories import create_child, create_school, create_user, create_village

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "manifest-src 'self'; worker-src 'self'"
)
ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_protected(response, csp: bool = True):
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, name
    assert response.headers.get("Cache-Control") == "no-store"
    assert response.headers.get("Content-Security-Policy") == (EXPECTED_CSP if csp else None)
    assert "Strict-Transport-Security" not in response.headers  # plain http


@pytest.fixture
def town(app):
    village = create_village("东洼村")
    child = create_child("龚鑫淼", village=village, school=create_school("东洼小学", [village]))
    return {"village": village, "child": child, "civil": create_user("civil_affairs", username="minzheng"),
            "director": create_user("director", username="zhuren", villages=[village])}


def test_policy_is_the_one_asked_for():
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP


def test_a_record_page_is_protected_and_never_cached(client, auth, town):
    auth.login("minzheng")
    response = client.get(f"/children/{town['child'].id}")
    assert response.status_code == 200 and "龚鑫淼" in response.get_data(as_text=True)
    assert_protected(response)


def test_the_login_page_is_protected(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert_protected(response)


def test_api_json_is_protected(client, auth, town):
    auth.login("zhuren")
    response = client.get("/api/v1/due-list")
    assert response.status_code == 200 and response.is_json
    assert_protected(response)


def test_downloads_are_not_cached_and_the_pdf_goes_without_a_csp(client, auth, town):
    auth.login("minzheng")
    with client.get("/children/import/template.xlsx") as xlsx:
        assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
        assert_protected(xlsx)
    with client.get(f"/children/{town['child'].id}/archive.pdf") as pdf:
        assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
        # Chrome's PDF viewer breaks under a CSP sent with the PDF; everything else still applies.
        assert_protected(pdf, csp=False)


def test_static_files_keep_their_caching(client):
    with client.get("/static/js/vendor/htmx-2.0.11.min.js") as response:
        assert response.status_code == 200
        assert "no-store" not in response.headers.get("Cache-Control", "")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for url in ("/sw.js", "/manifest.webmanifest", "/healthz"):
        assert "no-store" not in client.get(url).headers.get("Cache-Control", ""), url
    assert client.get("/sw.js").headers["Cache-Control"] == "no-cache"  # the worker is checked on each load


def test_an_unknown_page_is_not_cached_either(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["Cache-Control"] == "no-store"


# --- HTTPS and the proxy in front -------------------------------------------------------------


@pytest.fixture
def proxied(app, database_url, tmp_path):
    """The app as behind one nginx (TRUSTED_PROXIES=1), on the test database."""
    behind = make_app(database_url, tmp_path, TRUSTED_PROXIES=1)
    behind.test_client_class = IsolatedClient
    yield behind
    with behind.app_context():
        db.engine.dispose()


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://guanai.example")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_forwarded_proto_counts_only_behind_a_trusted_proxy(client, proxied):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert "Strict-Transport-Security" not in client.get("/login", headers=forwarded).headers
    behind = proxied.test_client().get("/login", headers=forwarded)
    assert behind.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_signing_in_over_https_behind_the_proxy(database_url, tmp_path, town):
    """Flask-WTF checks the Referer of an HTTPS post against the host: nginx passes Host, and the
    browser sends the Referer to its own origin (Referrer-Policy: same-origin)."""
    guarded = make_app(database_url, tmp_path, TRUSTED_PROXIES=1, WTF_CSRF_ENABLED=True)
    try:
        browser = guarded.test_client()
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7", "Host": "guanai.example"}
        page = browser.get("/login", headers=proxy).get_data(as_text=True)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
        form = {"csrf_token": token, "username": "minzheng", "password": "correct-horse-1"}
        assert browser.post("/login", data=form, headers=proxy).status_code == 400  # no Referer: refused
        response = browser.post("/login", data=form, headers={**proxy, "Referer": "https://guanai.example/login"})
        assert response.status_code == 303 and response.headers["Location"] == "/"
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    finally:
        with guarded.app_context():
            db.engine.dispose()


def login_address(client, forwarded_for: str) -> str:
    response = client.post("/login", data={"username": "minzheng", "password": "correct-horse-1"},
                           headers={"X-Forwarded-For": forwarded_for})
    assert response.status_code == 303
    return db.session.scalar(select(AuditEvent.ip).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc()))


def test_the_audit_records_the_forwarded_address_only_behind_a_trusted_proxy(app, client, proxied, town):
    # Without TRUSTED_PROXIES anyone could write any address into the audit with this header.
    assert login_address(client, "203.0.113.7") == "127.0.0.1"
    # Behind one proxy: its X-Forwarded-For is the client; a hop the client itself added is not believed.
    assert login_address(proxied.test_client(), "203.0.113.7") == "203.0.113.7"
    assert login_address(proxied.test_client(), "10.6.6.6, 198.51.100.9") == "198.51.100.9"


# --- request sizes ----------------------------------------------------------------------------


def test_the_upload_limit_covers_the_import_files_size(app):
    """One setting: the import's file size; the request's limit is that and 1 MB of multipart wrapping."""
    assert app.config["IMPORT_MAX_UPLOAD_BYTES"] == 20 * 1024 * 1024
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["IMPORT_MAX_UPLOAD_BYTES"] + 1024 * 1024
    assert app.config["MAX_BODY_BYTES"] == 256 * 1024


def test_oversize_json_is_413_json_and_nothing_is_stored(client, auth, town):
    auth.login("zhuren")
    body = {"child_id": town["child"].id, "note": "很" * 100_000}  # 300 KB in UTF-8
    response = client.post("/api/v1/visits", json=body)
    assert response.status_code == 413
    assert response.get_json()["error"] == "提交的内容太大"
    assert db.session.scalar(select(db.func.count()).select_from(Visit)) == 0
    # Just under the limit the request is read as usual (and refused for what it lacks).
    response = client.post("/api/v1/visits", json={"child_id": town["child"].id, "note": "x" * 200_000})
    assert response.status_code == 422


def test_oversize_form_is_413_in_chinese_and_not_read(client, town):
    response = client.post("/login", data={"username": "minzheng", "password": "x" * 300_000})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "提交的内容太大" in page and "没有保存" in page
    attempts = select(db.func.count()).select_from(AuditEvent).where(AuditEvent.action.like("login%"))
    assert db.session.scalar(attempts) == 0  # the form was never read: no attempt counted


def test_oversize_fragment_request_gets_its_message_in_the_message_region(client, auth, town):
    auth.login("minzheng")
    response = client.post("/children/validate/name", data={"name": "x" * 300_000}, headers={"HX-Request": "true"})
    assert response.status_code == 413
    assert response.headers["HX-Retarget"] == "#messages"
    assert "提交的内容太大" in response.get_data(as_text=True)


def test_size_is_checked_before_the_csrf_token(database_url, tmp_path, app):
    guarded = make_app(database_url, tmp_path, WTF_CSRF_ENABLED=True)
    try:
        response = guarded.test_client().post("/login", data={"username": "u", "password": "x" * 300_000})
        assert response.status_code == 413  # not 400 "页面已过期": the body was never parsed
    finally:
        with guarded.app_context():
            db.engine.dispose()


def test_the_import_takes_files_up_to_the_upload_limit(client, auth, town):
    auth.login("minzheng")
    big_but_allowed = BytesIO(b"x" * 300_000)  # over the form limit, well under the upload limit
    response = client.post("/children/import", data={"file": (big_but_allowed, "名单.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422 and "名单.csv" in response.get_data(as_text=True)
    # Encoded here, in memory: the test client would spool it to a file the refused request leaves open.
    boundary, body = encode_multipart({"file": FileStorage(BytesIO(b"x" * (22 * 1024 * 1024)), "名单.xlsx")})
    response = client.post("/children/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "提交的内容太大" in response.get_data(as_text=True)


def test_a_file_over_the_import_setting_is_refused_with_the_setting_in_the_message(client, auth, town, monkeypatch):
    """The route reads the limit from the configuration and says it: not a second constant of its own."""
    monkeypatch.setitem(client.application.config, "IMPORT_MAX_UPLOAD_BYTES", 1024 * 1024)
    auth.login("minzheng")
    boundary, body = encode_multipart({"file": FileStorage(BytesIO(b"x" * (1024 * 1024 + 1)), "名单.xlsx")})
    response = client.post("/children/import", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "文件太大（超过 1MB）" in response.get_data(as_text=True)
    assert db.session.scalar(select(db.func.count()).select_from(ImportBatch)) == 0


# --- no inline script, style or handler -------------------------------------------------------

INLINE = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>|\sstyle\s*=|\son[a-z]+\s*=|\shx-on|javascript:", re.IGNORECASE)


def test_no_template_has_inline_script_style_or_handlers():
    """Every template the browser gets; templates/print/ only ever goes to WeasyPrint."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        if path.relative_to(TEMPLATES).parts[0] == "print":
            continue
        text = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.DOTALL)  # comments may name them
        found += [f"{path.relative_to(TEMPLATES)}: {m.group(0)!r}" for m in INLINE.finditer(text)]
    assert found == []


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


@pytest.mark.parametrize("username", ["minzheng", "zhuren", "admin"])
def test_every_reachable_page_has_no_inline_script_style_or_handlers(client, auth, town, username):
    """Follow every link from the home page (as each kind of user) and check what is served."""
    create_user("admin", username="admin")
    auth.login("zhuren")  # a visit, so that its pages are there to reach
    visit = {"client_uuid": str(uuid.uuid4()), "child_id": town["child"].id, "visited_on": local_today().isoformat(),
             "kind": "home", "health": "良好", "needs": ["education"]}
    created = client.post("/api/v1/visits", json=visit)
    assert created.status_code == 201
    auth.logout()
    auth.login(username)
    seen, queue, pages = set(), ["/", "/login", "/offline", "/children/print", "/no/such/page"], 0
    while queue and pages < 80:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.mimetype != "text/html":
            continue
        pages += 1
        html = response.get_data(as_text=True)
        assert INLINE.findall(html) == [], url
        assert response.headers["Content-Security-Policy"] == EXPECTED_CSP, url
        parser = Links()
        parser.feed(html)
        for href in parser.hrefs:
            target = urlsplit(urljoin("http://localhost" + url, href))
            if target.netloc == "localhost" and not target.path.endswith((".pdf", ".xlsx")):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert {"/", f"/children/{town['child'].id}", f"/visits/{created.get_json()['id']}", "/no/such/page"} <= seen and pages >= 18
