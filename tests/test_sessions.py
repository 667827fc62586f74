"""Sessions end on the server: a copied login cookie stops working after logout, idle time, a new
password, an administrator's password reset or disabling. Each test replays a copied cookie in a
fresh client, as a thief who took it would."""
import hashlib
from datetime import timedelta

from sqlalchemy import select, update

from blueprints.auth.models import UserSession
from blueprints.core.clock import utcnow
from extensions import db
from tests.factories import PASSWORD, create_user, create_village

SIGNED_IN_PAGE = "/"
API = "/api/v1/due-list"


def copy_cookie(client) -> str:
    return client.get_cookie("session").value


def replay(app, cookie: str):
    """A new client holding only the copied cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def signed_in(client) -> bool:
    response = client.get(SIGNED_IN_PAGE)
    if response.status_code == 200:
        return True
    assert response.status_code == 302 and response.headers["Location"].startswith("/login"), response.status
    return False


def sessions(user) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)))


def director(username="zhuren9"):
    return create_user("director", username=username, villages=[create_village()])


def test_the_cookie_carries_a_session_token_and_the_database_only_its_hash(app, client, auth):
    user = director()
    auth.login("zhuren9")
    cookie = app.session_interface.get_signing_serializer(app).loads(copy_cookie(client))
    token = cookie["_user_id"]
    assert token != str(user.id) and len(token) >= 40
    [row] = sessions(user)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert row.ended_at is None and row.ip == "127.0.0.1"


def test_logout_ends_the_session_for_every_copy_of_the_cookie(app, client, auth):
    user = director()
    auth.login("zhuren9")
    copied = copy_cookie(client)
    assert signed_in(replay(app, copied))  # the copy works while the session is open
    assert replay(app, copied).get(API).status_code == 200

    assert client.post("/logout").status_code == 303
    thief = replay(app, copied)
    assert not signed_in(thief)
    assert thief.get(API).status_code == 401
    [row] = sessions(user)
    assert row.ended_reason == "logout" and row.ended_at is not None


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, auth):
    user = director()
    auth.login("zhuren9")
    this_copy = copy_cookie(client)
    phone = app.test_client()
    phone.post("/login", data={"username": "zhuren9", "password": PASSWORD})
    phone_copy = copy_cookie(phone)

    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "new-secret-22", "confirm_password": "new-secret-22"})
    assert response.status_code == 303
    assert signed_in(client) and signed_in(replay(app, this_copy))
    assert not signed_in(phone)
    assert replay(app, phone_copy).get(API).status_code == 401
    first, second = sessions(user)
    assert (first.ended_reason, second.ended_reason) == (None, "password_changed")


def test_disabling_a_user_ends_all_their_sessions(app, client, auth):
    create_user("admin", username="boss")
    victim = director()
    devices = [app.test_client(), app.test_client()]
    for device in devices:
        device.post("/login", data={"username": "zhuren9", "password": PASSWORD})
    copies = [copy_cookie(d) for d in devices]

    auth.login("boss")
    response = client.post(f"/admin/users/{victim.id}/edit", data={
        "username": "zhuren9", "display_name": "测试", "role": "director",
        "villages": [v.id for v in victim.villages], "school_id": 0, "department_id": 0,
        "volunteer_kind": "", "password": ""})  # `active` unticked
    assert response.status_code == 303
    for copied in copies:
        assert replay(app, copied).get(API).status_code == 401
        assert not signed_in(replay(app, copied))
    assert [s.ended_reason for s in sessions(victim)] == ["disabled", "disabled"]


def test_an_administrators_password_reset_ends_all_sessions(app, client, auth):
    create_user("admin", username="boss")
    victim = director()
    device = app.test_client()
    device.post("/login", data={"username": "zhuren9", "password": PASSWORD})
    copied = copy_cookie(device)

    auth.login("boss")
    response = client.post(f"/admin/users/{victim.id}/edit", data={
        "username": "zhuren9", "display_name": "测试", "role": "director", "active": "y",
        "villages": [v.id for v in victim.villages], "school_id": 0, "department_id": 0,
        "volunteer_kind": "", "password": "reset-pass-99"})
    assert response.status_code == 303
    assert not signed_in(device)
    assert not signed_in(replay(app, copied))
    assert [s.ended_reason for s in sessions(victim)] == ["password_reset"]
    assert signed_in(client)  # the administrator's own session is untouched


def _age_session(user, by: timedelta) -> None:
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id)
                       .values(last_seen_at=utcnow() - by))
    db.session.commit()


def test_a_session_idle_for_8_hours_ends_on_the_server(app, client, auth):
    user = director()
    auth.login("zhuren9")
    copied = copy_cookie(client)
    _age_session(user, timedelta(hours=8, minutes=1))

    response = client.get("/admin/users")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "长时间未操作" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert not signed_in(client)
    assert not signed_in(replay(app, copied))
    assert [s.ended_reason for s in sessions(user)] == ["idle"]

    # Moving last_seen_at forward again does not revive it: the row has ended.
    _age_session(user, timedelta(0))
    assert replay(app, copied).get(API).status_code == 401


def test_a_session_used_within_8_hours_goes_on(client, auth):
    user = director()
    auth.login("zhuren9")
    _age_session(user, timedelta(hours=7, minutes=59))
    assert signed_in(client)
    [row] = sessions(user)
    assert row.ended_at is None and utcnow() - row.last_seen_at < timedelta(minutes=1)


def test_an_idle_session_answers_htmx_with_hx_redirect(client, auth):
    user = director()
    auth.login("zhuren9")
    _age_session(user, timedelta(hours=9))
    response = client.get("/children/?q=x", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"].startswith("/login?next=")


def test_last_seen_is_written_at_most_once_a_minute(client, auth):
    user = director()
    auth.login("zhuren9")
    _age_session(user, timedelta(seconds=30))
    [row] = sessions(user)
    before = row.last_seen_at
    assert signed_in(client)
    assert sessions(user)[0].last_seen_at == before  # within the minute: no write

    _age_session(user, timedelta(minutes=2))
    assert signed_in(client)
    assert utcnow() - sessions(user)[0].last_seen_at < timedelta(seconds=30)


def test_a_cookie_from_before_server_sessions_is_refused(client):
    """Cookies of the earlier "id.version" kind name no session: everyone signs in again."""
    user = director()
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}.1"
    assert not signed_in(client)
    assert client.get(API).status_code == 401


def test_the_session_row_keeps_address_and_a_short_user_agent(client):
    user = director()
    client.post("/login", data={"username": "zhuren9", "password": PASSWORD},
                environ_base={"REMOTE_ADDR": "10.0.0.5"}, headers={"User-Agent": "Mozilla/5.0 " + "x" * 300})
    [row] = sessions(user)
    assert row.ip == "10.0.0.5"
    assert row.user_agent.startswith("Mozilla/5.0 ") and len(row.user_agent) == 120


def test_a_demo_accounts_session_ends_when_demo_mode_is_off(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    user = director()
    user.is_demo = True
    db.session.commit()
    auth.login("zhuren9")
    copied = copy_cookie(client)
    assert signed_in(client)

    monkeypatch.setitem(app.config, "DEMO_MODE", False)
    assert not signed_in(replay(app, copied))
    assert not signed_in(client)
    assert [s.ended_reason for s in sessions(user)] == ["demo_off"]
    # Demo mode back on does not revive the ended session.
    monkeypatch.setitem(app.config, "DEMO_MODE", True)
    assert not signed_in(replay(app, copied))


def test_session_records_are_kept_90_days_after_they_end_then_deleted_daily(app):
    """Each row holds an address and a browser: kept for an inquiry, not for ever."""
    from blueprints.auth.housekeeping import prune_sessions

    user, now = director(), utcnow()
    ages = {"open now": (None, 0), "ended lately": (89, 89), "ended long ago": (91, 91),
            "went away long ago": (None, 91), "went away lately": (None, 30)}
    for agent, (ended_days, seen_days) in ages.items():
        db.session.add(UserSession(token_hash=hashlib.sha256(agent.encode()).hexdigest(), user_id=user.id,
                                   user_agent=agent, created_at=now - timedelta(days=seen_days + 1),
                                   last_seen_at=now - timedelta(days=seen_days),
                                   ended_at=None if ended_days is None else now - timedelta(days=ended_days)))
    db.session.commit()
    assert prune_sessions(now) == 2
    db.session.commit()
    assert sorted(s.user_agent for s in sessions(user)) == ["ended lately", "open now", "went away lately"]
    assert prune_sessions(now) == 0
