"""The service worker's offline pages, from the server's side: which pages it may keep, how its
caches are versioned, and that what it keeps holds no more than the minimal fields.
(The behaviour in a real browser is in tests/browser/test_offline_visits.py.)"""
import json
import re

from blueprints.children.services import FamilyInput
from blueprints.core.areas import house
from tests.factories import create_child, create_user, create_village

OFFLINE_PAGES = ["/visits/due", "/visits/new", "/visits/contact", "/my/pairings", "/my/log", "/schools/contacts/log",
                 "/outbox"]


def worker(client) -> str:
    return client.get("/sw.js").get_data(as_text=True)


def constant(body: str, name: str):
    return json.loads(re.search(rf"const {name} = (.*?);\n", body).group(1))


def test_worker_keeps_only_the_offline_pages(client):
    body = worker(client)
    assert constant(body, "PAGE_PATHS") == OFFLINE_PAGES
    assert '"guanai-pages-" + VERSION' in body and '"guanai-shell-" + VERSION' in body
    # the shell is still only static files and the offline page
    assert all(u == "/offline" or u.startswith("/static/") for u in constant(body, "SHELL_URLS"))
    # background sync wakes the pages; logout, an ended session and a change of user clear the pages
    assert '"guanai:clear-caches"' not in body  # the shell holds nothing of anyone: it stays
    for wiring in ('"guanai-outbox"', '"guanai:flush"', '"guanai:clear-pages"',
                   "skipWaiting()", "clients.claim()", "ignoreSearch: true"):
        assert wiring in body, wiring


def test_cache_version_follows_the_offline_pages(client, monkeypatch):
    version = re.search(r'const VERSION = "([0-9a-f]{12})"', worker(client)).group(1)
    assert re.search(r'const VERSION = "([0-9a-f]{12})"', worker(client)).group(1) == version  # stable
    monkeypatch.setattr(house, "offline_pages", ["visits.due", "visits.new"])
    changed = worker(client)
    assert constant(changed, "PAGE_PATHS") == ["/visits/due", "/visits/new"]
    assert re.search(r'const VERSION = "([0-9a-f]{12})"', changed).group(1) != version


def test_offline_pages_redirect_when_signed_out(client):
    """The worker keeps only a 200 that was not redirected: signed out, nothing is kept."""
    for path in OFFLINE_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_what_the_worker_keeps_holds_only_minimal_fields(client, auth):
    village = create_village("前李村")
    create_user("director", username="zhuren7", villages=[village])
    child = create_child(
        "孙小梅", village=village, categories=["left_behind"], address="前李村东头三排二号",
        family=[FamilyInput(relation="母亲", name="李红霞", phone="13912340000", works_away=True)],
    )
    auth.login("zhuren7")
    secrets = [child.id_number, child.address, "13912340000", "李红霞"]
    # /my/*: the volunteer's, /schools/*: a school's (their own tests)
    directors_pages = [p for p in OFFLINE_PAGES if not p.startswith(("/my/", "/schools/"))]
    for path in [*directors_pages, f"/visits/new?child={child.id}", f"/visits/contact?child={child.id}"]:
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/html", path
        page = response.get_data(as_text=True)
        assert not [s for s in secrets if s in page], path
    assert "孙小梅" in client.get("/visits/due").get_data(as_text=True)
    # the picker's list: minimal fields only
    response = client.get("/api/v1/due-list")
    children = response.get_json()["children"]
    assert [c["name"] for c in children] == ["孙小梅"]
    # Chinese as UTF-8, not \u escapes: half the bytes on one bar of signal
    assert "孙小梅".encode() in response.data and b"\\u5b59" not in response.data
    assert set(children[0]) == {"id", "name", "age", "village", "categories", "attention", "last_visit", "due", "bucket"}
