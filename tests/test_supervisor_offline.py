"""What a supervisor takes offline (/api/v1/due-list, due_list(offline=True)): the children she is
due to visit — those of villages without an active child director, and those whose newest visit
was hers — overdue or due within a week; not the whole town. A director's list is unchanged, and the
supervisor's due page still shows the whole town."""
import re
import uuid
from datetime import timedelta

import pytest
from pypinyin import lazy_pinyin
from sqlalchemy import insert, select

from blueprints.auth.models import User
from blueprints.children.models import Child
from blueprints.core.clock import local_today
from blueprints.visits.cadence import add_months
from blueprints.visits.services import OFFLINE_AHEAD_DAYS, due_list
from extensions import db
from tests.factories import PASSWORD, create_child, create_user, create_village

CROWD = 1_990  # children of the village with a director: with the others, a town of 2,000


def add_crowd(village, n):
    """Many children at once (a plain bulk insert: only the columns a due list reads)."""
    born = local_today().replace(year=local_today().year - 9)
    db.session.execute(insert(Child), [
        dict(archive_no=f"CROWD{i:06d}", name=f"甲童{i}", name_pinyin="".join(lazy_pinyin(f"甲童{i}")),
             name_initials="jt", gender="male", birth_date=born, residence_village_id=village.id,
             status="active", attention_level="general")
        for i in range(n)
    ])
    db.session.commit()


def login(client, username):
    client.post("/logout")
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 303


def visit(client, child, visited_on):
    body = {"client_uuid": str(uuid.uuid4()), "child_id": child.id, "visited_on": visited_on.isoformat(),
            "kind": "home", "needs": []}
    response = client.post("/api/v1/visits", json=body)
    assert response.status_code == 201, response.get_json()


def names(response):
    return {row["name"] for row in response.get_json()["children"]}


@pytest.fixture
def town(app, client):
    """甲村 has a director (and 1,990 children never visited); 乙村 and 丙村 have none (丙村's director
    left: his account is inactive). Visits by the supervisor (dudao) and 甲村's director (zhuren_a)."""
    today = local_today()
    jia, yi, bing = create_village("甲村"), create_village("乙村"), create_village("丙村")
    create_user("director", username="zhuren_a", villages=[jia])
    create_user("director", username="zhuren_gone", villages=[bing], active=False)
    create_user("supervisor", username="dudao")
    add_crowd(jia, CROWD)
    kids = {name: create_child(name, village=village, attention=attention) for name, village, attention in [
        ("乙未访", yi, "general"),      # never visited: due since registration
        ("乙刚访", yi, "general"),      # visited yesterday: due in three months
        ("乙将到期", yi, "key"),        # due in three days
        ("乙下月到期", yi, "key"),      # due in three weeks
        ("丙未访", bing, "general"),    # the village's only director is inactive
        ("甲督导访", jia, "key"),       # her visit is the newest, 40 days ago: overdue
        ("甲后由主任访", jia, "key"),   # she visited, then the director did
        ("甲督导今访", jia, "general"), # she visited today: not due for three months
    ]}
    login(client, "dudao")
    visit(client, kids["乙刚访"], today - timedelta(days=1))
    visit(client, kids["乙将到期"], add_months(today + timedelta(days=3), -1))
    visit(client, kids["乙下月到期"], add_months(today + timedelta(days=21), -1))
    visit(client, kids["甲督导访"], today - timedelta(days=40))
    visit(client, kids["甲后由主任访"], today - timedelta(days=40))
    visit(client, kids["甲督导今访"], today)
    login(client, "zhuren_a")
    visit(client, kids["甲后由主任访"], today - timedelta(days=2))
    return kids


def test_the_supervisors_offline_list_is_what_she_is_due_to_visit(client, town):
    login(client, "dudao")
    response = client.get("/api/v1/due-list")
    assert response.status_code == 200
    assert names(response) == {"乙未访", "乙将到期", "丙未访", "甲督导访"}
    rows = {row["name"]: row for row in response.get_json()["children"]}
    assert rows["甲督导访"]["bucket"] == "overdue" and rows["甲督导访"]["village"] == "甲村"
    horizon = (local_today() + timedelta(days=OFFLINE_AHEAD_DAYS)).isoformat()
    assert all(row["due"] <= horizon for row in rows.values())
    # a town of 2,000 children: a few hundred bytes on her phone, not the town's list
    assert len(response.data) < 2_000, len(response.data)


def test_the_directors_list_is_unchanged(client, town):
    login(client, "zhuren_a")
    response = client.get("/api/v1/due-list")
    listed = names(response)
    assert len(listed) == CROWD + 3
    assert {"甲督导访", "甲后由主任访", "甲督导今访"} <= listed and not any(n.startswith(("乙", "丙")) for n in listed)
    director = db.session.scalar(select(User).where(User.username == "zhuren_a"))
    assert [r.child_id for r in due_list(director, local_today(), offline=True)[0]] == \
        [r.child_id for r in due_list(director, local_today())[0]]


def test_the_supervisors_due_page_still_shows_the_whole_town(client, town):
    login(client, "dudao")
    page = client.get("/visits/due").get_data(as_text=True)
    groups = [int(n) for n in re.findall(r"<h2>[^<（]+（(\d+)）</h2>", page)]
    assert sum(groups) == CROWD + len(town)  # every group, shown 50 at a time
    assert "显示全部" in page


@pytest.mark.parametrize("role", ["civil_affairs", "volunteer"])
def test_roles_that_do_not_visit_get_no_list(client, town, role):
    create_user(role, username="other")
    login(client, "other")
    assert client.get("/api/v1/due-list").status_code == 403
