"""The login throttle cannot lock the owner out: failures count per (account, client address), so an
attacker's address is paused while the owner still signs in from hers; one address failing across
many accounts is paused for all; IPv6 counts by the /64; the administrator lifts a throttle on the
user page or with `flask unlock-user`, address-wide pauses where the user has been lately included;
unknown names are audited; every refusal reads the same."""
import re
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time
from sqlalchemy import func, select

from blueprints.auth.models import LoginFailure
from blueprints.core.audit import AuditEvent
from extensions import db
from tests.factories import PASSWORD, create_user, create_village

ATTACKER = "203.0.113.9"
OWNER = "10.0.0.5"


def login_from(client, address: str, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def refusal(response) -> str:
    """The message a refused login shows."""
    assert response.status_code == 401, response.status_code
    return re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True)).group(1)


def failures(address: str | None = None) -> int:
    query = select(func.count()).select_from(LoginFailure)
    if address is not None:
        query = query.where(LoginFailure.address == address)
    return db.session.scalar(query)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def zhuren():
    return create_user("director", username="zhuren", villages=[create_village()])


def test_an_attacker_is_throttled_while_the_owner_still_signs_in(app):
    zhuren()
    attacker, owner = app.test_client(), app.test_client()
    wrong = refusal(login_from(attacker, ATTACKER, "zhuren", "guess-0"))
    assert "用户名或密码不正确" in wrong
    for n in range(1, 5):
        assert refusal(login_from(attacker, ATTACKER, "ZhuRen" if n % 2 else "zhuren", f"guess-{n}")) == wrong
    assert failures(ATTACKER) == 5  # any spelling of the name counts against the same account

    # Throttled: the right password is refused with the very same words, and nothing is counted.
    assert refusal(login_from(attacker, ATTACKER, "zhuren")) == wrong
    assert attacker.get("/").status_code == 302
    assert failures(ATTACKER) == 5
    # An unknown name from the attacker reads the same.
    assert refusal(login_from(attacker, ATTACKER, "no-such-person", "whatever-123")) == wrong

    # The owner, on her own phone, is not affected.
    assert login_from(owner, OWNER, "zhuren").status_code == 303
    assert owner.get("/").status_code == 200

    [throttled] = events("login_throttled")
    assert ATTACKER in throttled.detail and throttled.ip == ATTACKER


def test_the_throttle_lifts_after_15_minutes(app):
    zhuren()
    client = app.test_client()
    with freeze_time(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)) as frozen:
        for _ in range(5):
            login_from(client, OWNER, "zhuren", "typo-typo-1")
        frozen.tick(timedelta(minutes=14))
        assert login_from(client, OWNER, "zhuren").status_code == 401
        frozen.tick(timedelta(minutes=2))
        assert login_from(client, OWNER, "zhuren").status_code == 303
    assert failures(OWNER) == 0  # a successful sign-in clears that address's count for the account


def test_four_failures_do_not_throttle(app):
    zhuren()
    client = app.test_client()
    for _ in range(4):
        login_from(client, OWNER, "zhuren", "typo-typo-1")
    assert login_from(client, OWNER, "zhuren").status_code == 303


def test_failures_older_than_the_window_are_deleted(app):
    zhuren()
    client = app.test_client()
    with freeze_time(datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)) as frozen:
        login_from(client, ATTACKER, "zhuren", "guess-1")
        login_from(client, ATTACKER, "someone", "guess-2")
        frozen.tick(timedelta(minutes=16))
        login_from(client, OWNER, "other", "guess-3")
    assert db.session.execute(select(LoginFailure.username, LoginFailure.address)).all() == [("other", OWNER)]


def test_spraying_one_address_across_many_names_is_throttled(app):
    zhuren()
    limit = app.config["LOGIN_ADDRESS_MAX_FAILURES"]
    sprayer = app.test_client()
    wrong = refusal(login_from(sprayer, ATTACKER, "name-0", "spring-2026"))
    for n in range(1, limit):
        login_from(sprayer, ATTACKER, f"name-{n}", "spring-2026")
    assert failures(ATTACKER) == limit
    # One try per name, yet the address is now refused for every account, even with the right password.
    assert refusal(login_from(sprayer, ATTACKER, "zhuren")) == wrong
    assert login_from(app.test_client(), OWNER, "zhuren").status_code == 303
    assert any("暂停此地址登录任何账号" in e.detail for e in events("login_throttled"))


def test_unknown_names_are_audited_with_the_address(app):
    client = app.test_client()
    login_from(client, ATTACKER, "no-such-person", "whatever-123")
    login_from(client, ATTACKER, "x" * 40, "whatever-123")
    first, second = events("login_failed")
    assert (first.user_id, first.username, first.ip) == (None, None, ATTACKER)
    assert first.detail == f"用户名：no-such-person；地址：{ATTACKER}"
    assert second.detail == f"用户名：{'x' * 40}；地址：{ATTACKER}"


def test_the_administrator_lifts_the_throttle_on_the_user_page(app, client, auth):
    create_user("admin", username="boss")
    user = zhuren()
    owner = app.test_client()
    for _ in range(5):
        login_from(owner, OWNER, "zhuren", "typo-typo-1")
    assert login_from(owner, OWNER, "zhuren").status_code == 401

    auth.login("boss")
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "最近 15 分钟内的登录失败" in page
    assert f"<code>{OWNER}</code>：5 次，<strong>已暂停从此地址登录</strong>" in page
    assert "解除登录限制" in page
    response = client.post(f"/admin/users/{user.id}/unlock")
    assert response.status_code == 303
    assert "已解除 zhuren 的登录限制，清除了 5 条登录失败记录" in client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert failures() == 0
    [event] = events("login_unlocked")
    assert (event.username, event.object_id) == ("boss", str(user.id))
    assert login_from(owner, OWNER, "zhuren").status_code == 303


def test_only_the_administrator_may_unlock(app, client, auth):
    create_user("civil_affairs", username="minzheng")
    user = zhuren()
    for _ in range(5):
        login_from(app.test_client(), OWNER, "zhuren", "typo-typo-1")
    auth.login("minzheng")
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 403
    assert failures(OWNER) == 5
    assert events("login_unlocked") == []


def test_unlock_user_command(app, runner):
    zhuren()
    for _ in range(5):
        login_from(app.test_client(), ATTACKER, "zhuren", "guess-guess")
    result = runner.invoke(args=["unlock-user", "zhuren"])
    assert result.exit_code == 0, result.output
    assert "已解除 zhuren 的登录限制，清除了 5 条登录失败记录" in result.output
    assert failures() == 0
    [event] = events("login_unlocked")
    assert event.user_id is None and "清除 5 条" in event.detail
    assert login_from(app.test_client(), ATTACKER, "zhuren").status_code == 303

    result = runner.invoke(args=["unlock-user", "nobody"])
    assert result.exit_code == 1 and "没有用户名为 nobody 的账号" in result.output


def test_the_unlock_button_needs_the_pages_csrf_token(app, monkeypatch):
    create_user("admin", username="boss")
    user = zhuren()
    for _ in range(5):
        login_from(app.test_client(), OWNER, "zhuren", "typo-typo-1")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    admin = app.test_client()
    token = admin.get("/login").get_data(as_text=True).split('data-csrf="', 1)[1].split('"', 1)[0]
    admin.post("/login", data={"username": "boss", "password": PASSWORD, "csrf_token": token})

    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 400
    assert failures(OWNER) == 5
    page = admin.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    form = page.split(f'action="/admin/users/{user.id}/unlock"', 1)[1]
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    assert admin.post(f"/admin/users/{user.id}/unlock", data={"csrf_token": token}).status_code == 303
    assert failures() == 0


def test_ipv6_is_counted_by_its_64_so_rotating_addresses_gains_nothing(app):
    zhuren()
    client = app.test_client()
    for n in range(1, 6):
        refusal(login_from(client, f"2001:db8::{n}", "zhuren", f"guess-{n}"))
    assert failures("2001:db8::/64") == 5
    # A sixth address in the same /64, with the right password: paused.
    assert refusal(login_from(client, "2001:db8::6", "zhuren")).startswith("用户名或密码不正确")
    # Another /64 is another client.
    assert login_from(app.test_client(), "2001:db8:1::1", "zhuren").status_code == 303


def test_throttle_address():
    from blueprints.auth.services import throttle_address

    assert throttle_address("203.0.113.9") == "203.0.113.9"
    assert throttle_address("2001:db8::1") == throttle_address("2001:db8:0:0:ffff::9") == "2001:db8::/64"
    assert throttle_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert throttle_address(None) == throttle_address("") == throttle_address("not-an-ip") == "unknown"


OFFICE = "198.51.100.7"  # the township office's NAT: everyone there shares it


def spray(app, address: str, count: int | None = None) -> None:
    for n in range(count or app.config["LOGIN_ADDRESS_MAX_FAILURES"]):
        login_from(app.test_client(), address, f"name-{n}", "spring-2026")


def test_the_administrators_unlock_lifts_an_address_wide_pause_where_the_user_works(app, client, auth):
    create_user("admin", username="boss")
    user = zhuren()
    assert login_from(app.test_client(), OFFICE, "zhuren").status_code == 303  # her session from the office
    spray(app, OFFICE)  # someone else's guessing pauses the office address for every account
    spray(app, ATTACKER)  # an address she has never used
    login_from(app.test_client(), "192.0.2.44", "zhuren", "typo-typo-1")  # she failed once from here …
    spray(app, "192.0.2.44", app.config["LOGIN_ADDRESS_MAX_FAILURES"] - 1)  # … which others' failures paused
    assert login_from(app.test_client(), OFFICE, "zhuren").status_code == 401
    assert failures(OFFICE) == 30  # her refused sign-in from a paused address is not counted

    auth.login("boss")
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "最近没有登录失败，未受限制" not in page
    assert f"<code>{OFFICE}</code>：各账号共 30 次，<strong>已暂停从此地址登录任何账号</strong>" in page
    assert "<code>192.0.2.44</code>：各账号共 30 次" in page
    assert ATTACKER not in page
    assert client.post(f"/admin/users/{user.id}/unlock").status_code == 303
    assert failures(OFFICE) == failures("192.0.2.44") == 0
    assert failures(ATTACKER) == 30  # not hers: still paused
    [event] = events("login_unlocked")
    assert "清除 60 条" in event.detail and OFFICE in event.detail and "192.0.2.44" in event.detail
    assert login_from(app.test_client(), OFFICE, "zhuren").status_code == 303
    assert login_from(app.test_client(), ATTACKER, "zhuren").status_code == 401
    assert "最近没有登录失败，未受限制" in client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)


def test_an_address_wide_pause_elsewhere_is_not_shown_on_the_user_page(app, client, auth):
    create_user("admin", username="boss")
    user = zhuren()
    login_from(app.test_client(), OFFICE, "zhuren")
    spray(app, ATTACKER)
    spray(app, OFFICE, app.config["LOGIN_ADDRESS_MAX_FAILURES"] - 1)  # close, but not paused
    auth.login("boss")
    page = client.get(f"/admin/users/{user.id}/edit").get_data(as_text=True)
    assert "最近没有登录失败，未受限制" in page and "已暂停" not in page
