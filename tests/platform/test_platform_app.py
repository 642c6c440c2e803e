"""The web app: login, logout, CSRF, the login guard on every route, security headers,
health, home, lockout, password hashing and the kept secret key — on both engines."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from cardbase.platform import users
from cardbase.platform.app import PUBLIC_ENDPOINTS, NotInitialised, create_app
from cardbase.platform.auth import is_safe_next
from cardbase.platform.context import actor_for
from cardbase.schema_engine.accounts import throttle as users_throttle
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import Group, Setting, UserGroup, utcnow
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False}


@pytest.fixture
def alice(db):
    return users.create_user(db, "alice", PASSWORD, display_name="Alice <Admin>", is_admin=True)


@pytest.fixture
def app(db, alice) -> Flask:
    return create_app(TEST_CONFIG, db=db)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username="alice", password=PASSWORD, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


def csrf_token_of(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, html
    return match.group(1)


# ---- login / logout ------------------------------------------------------------------------
def test_login_page_renders(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<form method="post"' in html
    assert 'name="username"' in html and 'type="password"' in html
    assert "cdn" not in html.lower() and "https://" not in html  # everything is served locally


def test_wrong_password_shows_an_error_and_does_not_log_in(client):
    response = login(client, password="wrong-password")
    assert response.status_code == 200
    assert "Wrong username or password." in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_unknown_user_gets_the_same_error(client):
    response = login(client, username="mallory")
    assert "Wrong username or password." in response.get_data(as_text=True)


def test_empty_form_asks_for_both(client):
    response = client.post("/login", data={})
    assert "Enter your username and password." in response.get_data(as_text=True)


def test_correct_login_reaches_home_with_the_objects(db, client):
    SchemaService(db).create_object(SYSTEM, {"label": "Client", "label_plural": "Clients",
                                             "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    RecordStore(db).bulk_create(SYSTEM, "client", [{"name": "A"}, {"name": "B"}, {"name": "C"}])
    response = login(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    html = home.get_data(as_text=True)
    assert "Clients" in html
    assert re.search(r'data-object="client"[^>]*>\s*<div class="card-body">\s*<div class="h5 mb-1">Clients</div>\s*'
                     r'<div class="text-body-secondary num">3\s', html), html
    # Autoescaped: the display name is shown as text, never as markup.
    assert "Alice &lt;Admin&gt;" in html and "<Admin>" not in html


def test_home_without_objects_explains_how_to_start(client):
    login(client)
    assert "cardbase demo" in client.get("/").get_data(as_text=True)


def test_logout(client):
    login(client)
    assert client.get("/").status_code == 200
    response = client.post("/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 302
    assert client.get("/logout").status_code == 405  # logging out is a POST (with CSRF)


def test_login_is_case_insensitive_for_the_username(client):
    assert login(client, username="ALICE").status_code == 302


def test_logged_in_user_visiting_login_goes_home(client):
    login(client)
    response = client.get("/login")
    assert response.status_code == 302 and response.headers["Location"] == "/"


# ---- next ----------------------------------------------------------------------------------
def test_anonymous_home_redirects_to_login_with_next(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/"


def test_login_follows_a_local_next(client):
    response = login(client, query_string={"next": "/health?x=1"})
    assert response.headers["Location"] == "/health?x=1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "evil.example", "/ok\r\nSet-Cookie: x=1"])
def test_login_ignores_a_foreign_next(client, target):
    response = login(client, query_string={"next": target})
    assert response.headers["Location"] == "/"
    assert not is_safe_next(target)


def test_is_safe_next_accepts_local_paths():
    assert is_safe_next("/") and is_safe_next("/objects/client?page=2")


# ---- CSRF ------------------------------------------------------------------------------------
@pytest.fixture
def csrf_client(db, alice):
    return create_app({**TEST_CONFIG, "WTF_CSRF_ENABLED": True}, db=db).test_client()


def test_csrf_login_without_token_is_refused(csrf_client):
    response = login(csrf_client)
    assert response.status_code == 400
    assert "security token" in response.get_data(as_text=True)
    assert csrf_client.get("/").status_code == 302  # not logged in


def test_csrf_login_with_token_works_and_logout_needs_it_too(csrf_client):
    token = csrf_token_of(csrf_client.get("/login").get_data(as_text=True))
    response = csrf_client.post("/login", data={"username": "alice", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    home = csrf_client.get("/")
    assert home.status_code == 200
    assert csrf_client.post("/logout").status_code == 400  # no token: still logged in
    assert csrf_client.get("/").status_code == 200
    token = csrf_token_of(home.get_data(as_text=True))
    assert csrf_client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert csrf_client.get("/").status_code == 302


# ---- the guard on every route ---------------------------------------------------------------
def _example_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = 1 if converter in ("IntegerConverter", "NumberConverter") else "cardbase.css"
    url = rule.build(values, append_unknown=False)[1]
    return url


def test_every_route_refuses_anonymous_users_except_login_health_static(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        url = _example_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            if rule.endpoint in PUBLIC_ENDPOINTS:
                if rule.endpoint == "api.token":  # public, but without credentials: a JSON 4xx
                    assert response.status_code in (400, 401, 415, 422), (rule, method)
                elif rule.endpoint == "invitation.accept":  # public, but a made-up invitation is refused
                    assert response.status_code == 400, (rule, method)
                else:
                    assert response.status_code < 400 or response.status_code == 404, (rule, method)
                assert not response.headers.get("Location", "").startswith("/login"), (rule, method)
                continue
            checked += 1
            if response.status_code == 302:
                assert response.headers["Location"].startswith("/login?next="), (rule, method)
            else:
                assert response.status_code in (401, 403), (rule, method, response.status_code)
    assert checked >= 2  # at least home and logout
    # static files are ours (static) and Bootstrap's, served from the bootstrap-flask package
    assert PUBLIC_ENDPOINTS == {"auth.login", "core.health", "static", "bootstrap.static", "api.token",
                                "invitation.accept",
                                # public web forms and a scenario's incoming webhook (issue 18)
                                "public_forms.form", "public_forms.embed", "api.incoming_hook"}


def test_a_new_route_without_login_required_is_still_guarded(db, alice):
    app = create_app(TEST_CONFIG, db=db)
    app.add_url_rule("/forgotten", "forgotten", lambda: "secret")
    client = app.test_client()
    assert client.get("/forgotten").status_code == 302
    assert client.post("/forgotten").status_code in (401, 405)
    login(client)
    assert client.get("/forgotten").get_data(as_text=True) == "secret"


# ---- health, headers, static ----------------------------------------------------------------
def test_health_works_without_login(client, db):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["database"] == db.dialect
    assert isinstance(body["schema_version"], int) and body["schema_version"] >= 1


def test_health_reports_a_broken_database(client, db):
    db.engine.dispose()
    with db.write() as conn:
        conn.exec_driver_sql("DROP TABLE cb_meta_state")
    response = client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["status"] == "error"


@pytest.mark.parametrize("path", ["/login", "/health", "/static/cardbase.css", "/"])
def test_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


def test_stylesheet_is_served_without_login(client):
    response = client.get("/static/cardbase.css")
    assert response.status_code == 200
    assert b"cardbase" in response.data


# ---- sessions --------------------------------------------------------------------------------
def test_changing_the_password_ends_other_sessions(db, client):
    login(client)
    assert client.get("/").status_code == 200
    users.set_password(db, "alice", "another-password")
    assert client.get("/").status_code == 302


def test_a_session_cookie_opens_nothing_after_logout(client):
    """Logout revokes the session on the server: a copy of the cookie kept from before
    (before the fix it stayed valid) is refused."""
    login(client)
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("session").value
    assert client.post("/logout").status_code == 302
    client.set_cookie("session", stolen)
    assert client.get("/").status_code == 302


def test_other_devices_stay_signed_in_after_one_logs_out(app):
    laptop, phone = app.test_client(), app.test_client()
    login(laptop), login(phone)
    laptop.post("/logout")
    assert laptop.get("/").status_code == 302 and phone.get("/").status_code == 200


def test_reactivating_a_user_brings_no_old_session_back(db, client, alice):
    users.create_user(db, "other-admin", PASSWORD, is_admin=True)
    login(client)
    users.deactivate_user(db, SYSTEM, "alice")
    users.update_user(db, SYSTEM, "alice", active=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("value, secure", [("true", True), ("", False)])
def test_secure_cookies_when_configured(db, alice, monkeypatch, value, secure):
    monkeypatch.setenv("CARDBASE_SECURE_COOKIES", value)
    client = create_app(TEST_CONFIG, db=db).test_client()
    response = login(client)
    assert ("Secure" in response.headers["Set-Cookie"]) is secure


def test_the_cookie_is_secure_over_https(client):
    response = client.post("/login", data={"username": "alice", "password": PASSWORD}, base_url="https://localhost")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_bad_secure_cookies_value_is_refused(monkeypatch):
    from cardbase.platform.config import ConfigError, load_config
    with pytest.raises(ConfigError, match="CARDBASE_SECURE_COOKIES='maybe'"):
        load_config({"CARDBASE_SECURE_COOKIES": "maybe"})


def test_a_deactivated_user_is_logged_out(db, client, alice):
    login(client)
    with db.write() as conn:
        conn.execute(sa.update(users.User).where(users.User.id == alice.id).values(active=False))
    assert client.get("/").status_code == 302
    assert "Wrong username or password." in login(client).get_data(as_text=True)


# ---- login throttle (issue 19.7) -------------------------------------------------------------
def _no_sleep(monkeypatch):
    def refuse(seconds):
        raise AssertionError(f"a failed login slept {seconds} s in the worker thread")
    monkeypatch.setattr("time.sleep", refuse)


def test_known_and_unknown_names_get_the_same_answer(client, monkeypatch):
    _no_sleep(monkeypatch)
    for _ in range(4):
        known = login(client, password="wrong-password")
        unknown = login(client, username="nobody", password="wrong-password")
        assert known.status_code == unknown.status_code == 200
        assert known.get_data(as_text=True).replace('value="alice"', "") == \
            unknown.get_data(as_text=True).replace('value="nobody"', "")
        assert "Wrong username or password." in known.get_data(as_text=True)
        assert "locked" not in known.get_data(as_text=True)


@pytest.mark.parametrize("name", ["alice", "nobody"])
def test_the_web_login_is_throttled_per_name_with_retry_after(client, monkeypatch, name):
    _no_sleep(monkeypatch)
    for _ in range(5):
        assert login(client, username=name, password="wrong-password").status_code == 200
    held = login(client, username=name, password=PASSWORD if name == "alice" else "wrong-password")
    assert held.status_code == 429 and 1 <= int(held.headers["Retry-After"]) <= 31
    assert "Too many attempts, try again in a minute." in held.get_data(as_text=True)
    assert "locked" not in held.get_data(as_text=True)
    assert client.get("/").status_code == 302  # not signed in
    # another address (the owner at their own computer) is not held up by it
    if name == "alice":
        assert login(client, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 302


def test_the_web_login_is_throttled_per_address(client, monkeypatch):
    _no_sleep(monkeypatch)
    for i in range(users_throttle.ADDRESS_LIMIT):
        assert login(client, username=f"user{i}", password="wrong-password").status_code == 200
    held = login(client)
    assert held.status_code == 429 and int(held.headers["Retry-After"]) >= 1
    assert login(client, environ_base={"REMOTE_ADDR": "10.9.9.8"}).status_code == 302


def test_the_throttle_expires_and_never_locks_the_admin_out_for_good(db, alice):
    moment = utcnow()
    clock = lambda: moment  # noqa: E731
    waits = []
    for _ in range(4):
        assert users.authenticate(db, "alice", "wrong-password", address="6.6.6.6", now=clock) is None
    for _ in range(7):  # an attacker from one address: the wait doubles up to 15 minutes
        assert users.authenticate(db, "alice", "wrong-password", address="6.6.6.6", now=clock) is None
        with pytest.raises(users.LoginThrottled) as held:
            users.authenticate(db, "alice", "wrong-password", address="6.6.6.6", now=clock)
        waits.append(held.value.retry_after)
        moment += timedelta(seconds=held.value.retry_after)
    assert waits == [31, 61, 121, 241, 481, 901, 901]  # doubled, capped at 15 minutes
    assert users.authenticate(db, "alice", "wrong-password", address="6.6.6.6", now=clock) is None
    for _ in range(100):  # attempts while held are refused without counting: the wait does not grow
        with pytest.raises(users.LoginThrottled):
            users.authenticate(db, "alice", PASSWORD, address="6.6.6.6", now=clock)
    # meanwhile the admin signs in from their own address
    assert users.authenticate(db, "alice", PASSWORD, address="10.0.0.1", now=clock).id == alice.id
    # and the held address may try again once the wait ran out
    moment += timedelta(minutes=15, seconds=2)
    assert users.authenticate(db, "alice", PASSWORD, address="6.6.6.6", now=clock).id == alice.id


# ---- users and passwords -----------------------------------------------------------------------
def test_passwords_are_stored_as_argon2_hashes(db, real_hasher):
    row = users.create_user(db, "bob", "violet-harbour-42")
    assert row.password_hash.startswith("$argon2id$")
    assert "m=65536" in row.password_hash  # the real (slow) parameters
    assert "violet-harbour-42" not in row.password_hash
    assert users.authenticate(db, "bob", "violet-harbour-42").id == row.id


@pytest.mark.parametrize("username, password, message", [
    ("", "long-enough", "username: is required"),
    ("a" * 151, "long-enough", "at most 150"),
    ("with space", "long-enough", "may only contain"),
    ("semi;colon", "long-enough", "may only contain"),
    ("ok.name-1_@x", "short", "is 5 characters long; at least 10 are needed"),
])
def test_create_user_validation(db, username, password, message):
    with pytest.raises(users.ValidationError) as info:
        users.create_user(db, username, password)
    assert message in str(info.value)


def test_usernames_are_unique_ignoring_case(db, alice):
    with pytest.raises(users.ValidationError, match="already taken"):
        users.create_user(db, "Alice", "long-enough")


def test_actor_for_reads_groups(db, alice):
    with db.write() as conn:
        gid = conn.execute(sa.insert(Group).values(name="Sales", description="").returning(Group.id)).scalar_one()
        conn.execute(sa.insert(UserGroup).values(user_id=alice.id, group_id=gid))
    actor = actor_for(alice, db)
    assert actor.user_id == alice.id and actor.username == "alice"
    assert actor.group_ids == frozenset({gid})
    assert actor.is_admin and actor.language == "en" and not actor.is_system


# ---- app factory -------------------------------------------------------------------------------
def _stored_key(db: Database) -> str | None:
    with db.read() as conn:
        return conn.execute(sa.select(Setting.value).where(Setting.key == "secret_key")).scalar()


def test_secret_key_is_generated_once_and_reused(db):
    assert _stored_key(db) is None
    first = create_app({"TESTING": True}, db=db)
    key = first.config["SECRET_KEY"]
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert _stored_key(db) == key
    second = create_app({"TESTING": True}, db=db)
    assert second.config["SECRET_KEY"] == key


def test_secret_key_from_environment_wins(db, monkeypatch):
    monkeypatch.setenv("CARDBASE_SECRET_KEY", "from-the-environment")
    assert create_app({"TESTING": True}, db=db).config["SECRET_KEY"] == "from-the-environment"
    assert _stored_key(db) is None


def test_sessions_survive_a_new_app_on_the_same_database(db, alice):
    first = create_app({**TEST_CONFIG, "SECRET_KEY": None}, db=db).test_client()
    login(first)
    cookie = first.get_cookie("session")
    second = create_app({**TEST_CONFIG, "SECRET_KEY": None}, db=db).test_client()
    second.set_cookie("session", cookie.value)
    assert second.get("/").status_code == 200


def test_create_app_on_an_uninitialised_database(make_database, engine_name):
    db = Database(make_database(engine_name))
    try:
        with pytest.raises(NotInitialised, match="cardbase init"):
            create_app(TEST_CONFIG, db=db)
    finally:
        db.dispose()


def test_create_app_opens_the_configured_database(db_url, alice):
    app = create_app({**TEST_CONFIG, "CARDBASE_DATABASE_URL": db_url})
    try:
        assert app.extensions["cardbase"].dialect in ("sqlite", "postgresql")
        assert app.test_client().get("/health").get_json()["status"] == "ok"
    finally:
        app.extensions["cardbase"].dispose()
