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
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import Group, Setting, UserGroup, utcnow
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}


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
    assert PUBLIC_ENDPOINTS == {"auth.login", "core.health", "static", "bootstrap.static", "api.token"}


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


def test_a_deactivated_user_is_logged_out(db, client, alice):
    login(client)
    with db.write() as conn:
        conn.execute(sa.update(users.User).where(users.User.id == alice.id).values(active=False))
    assert client.get("/").status_code == 302
    assert "Wrong username or password." in login(client).get_data(as_text=True)


# ---- lockout ---------------------------------------------------------------------------------
def test_lockout_after_five_failures(db, alice):
    delays: list[float] = []
    for _ in range(users.MAX_FAILURES):
        assert users.authenticate(db, "alice", "wrong-password", sleep=delays.append) is None
    assert delays == sorted(delays) and delays[0] > 0 and max(delays) <= users.MAX_DELAY
    row = users.find_user(db, "alice")
    assert row.failed_logins == 5
    assert row.locked_until is not None and row.locked_until > utcnow()
    # Locked: even the right password is refused.
    assert users.authenticate(db, "alice", PASSWORD, sleep=delays.append) is None
    # After the lock runs out the right password works and resets the counter.
    later = lambda: utcnow() + users.LOCK_TIME + timedelta(seconds=1)  # noqa: E731
    assert users.authenticate(db, "alice", PASSWORD, sleep=delays.append, now=later) is not None
    row = users.find_user(db, "alice")
    assert row.failed_logins == 0 and row.locked_until is None


def test_delays_grow_and_are_capped():
    delays = [users.failure_delay(n) for n in range(1, 12)]
    assert delays == sorted(delays)
    assert delays[0] < delays[1] < delays[4]
    assert max(delays) == users.MAX_DELAY == 2.0


def test_lockout_shows_in_the_login_page(client):
    for _ in range(users.MAX_FAILURES):
        login(client, password="wrong-password")
    response = login(client)
    assert "locked" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


# ---- users and passwords -----------------------------------------------------------------------
def test_passwords_are_stored_as_argon2_hashes(db, real_hasher):
    row = users.create_user(db, "bob", "bob-password")
    assert row.password_hash.startswith("$argon2id$")
    assert "m=65536" in row.password_hash  # the real (slow) parameters
    assert "bob-password" not in row.password_hash
    assert users.authenticate(db, "bob", "bob-password", sleep=lambda s: None).id == row.id


@pytest.mark.parametrize("username, password, message", [
    ("", "long-enough", "username: is required"),
    ("a" * 151, "long-enough", "at most 150"),
    ("with space", "long-enough", "may only contain"),
    ("semi;colon", "long-enough", "may only contain"),
    ("ok.name-1_@x", "short", "at least 8"),
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
