import json
import re

from tests.conftest import make_app
from tests.factories import create_user


def test_service_worker_is_served_uncached_with_versioned_caches(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.mimetype == "application/javascript"
    body = response.get_data(as_text=True)
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', body).group(1)
    assert '"guanai-shell-" + VERSION' in body and version
    urls = json.loads(re.search(r"const SHELL_URLS = (\[.*?\]);", body).group(1))
    assert "/offline" in urls
    assert any(u.startswith("/static/gen/app.") and u.endswith(".css") for u in urls)
    assert "/static/js/vendor/htmx-2.0.11.min.js" in urls
    # every precached URL really exists: one missing file would make the install fail
    for url in urls:
        with client.get(url) as static_file:
            assert static_file.status_code == 200, url


def test_service_worker_never_precaches_pages_with_data(client):
    body = client.get("/sw.js").get_data(as_text=True)
    urls = json.loads(re.search(r"const SHELL_URLS = (\[.*?\]);", body).group(1))
    assert all(u == "/offline" or u.startswith("/static/") for u in urls)


def test_manifest_and_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.mimetype == "application/manifest+json"
    data = response.get_json()
    assert data["lang"] == "zh-CN" and data["display"] == "standalone" and data["start_url"] == "/"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert sizes == {"192x192", "512x512"}
    for icon in data["icons"]:
        with client.get(icon["src"]) as image:
            assert image.mimetype == "image/png"


def test_offline_page_holds_nothing_about_the_user(client, auth):
    create_user("director", username="zhuren9", display_name="王芳")
    auth.login("zhuren9")
    body = client.get("/offline").get_data(as_text=True)
    assert "当前没有网络" in body
    assert "王芳" not in body and "zhuren9" not in body and "csrf" not in body


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = make_app(f"sqlite:///{tmp_path}/no/such/dir/x.db", tmp_path)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "db": "error"}
