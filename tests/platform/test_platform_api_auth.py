"""REST API authentication: the token endpoint (with its rate limit and the lockout),
bearer tokens (expiry, revocation, password changes, deactivation), personal tokens, and
every API route refusing requests without a token -- on both engines."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.platform.api import tokens
from cardbase.schema_engine.meta_models import utcnow
from cardbase.schema_engine.token_models import ApiToken, AuthAttempt

from api_testlib import PASSWORD, Api, api_for, error_of, make_app, make_users, token_for


@pytest.fixture
def people(db):
    return make_users(db)


@pytest.fixture
def app(db, people):
    return make_app(db)


@pytest.fixture
def anon(app):
    return Api(app.test_client())


def test_token_for_username_and_password(db, anon):
    response = anon.post("/api/v1/auth/token", {"username": "sam", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"token", "expires_at"}
    assert body["token"].startswith("cb_") and len(body["token"]) > 40
    assert body["expires_at"].endswith("Z")
    me = Api(anon.client, body["token"]).get("/api/v1/me")
    assert me.status_code == 200 and me.get_json()["username"] == "sam"
    with db.read() as conn:  # only the hash of the secret is stored
        stored = conn.execute(sa.select(ApiToken.token_hash, ApiToken.kind)).all()
    assert [(h, k) for h, k in stored] == [(tokens.hash_token(body["token"]), "session")]
    assert body["token"] not in str(stored)


def test_wrong_password_unknown_user_and_missing_fields(anon):
    wrong = anon.post("/api/v1/auth/token", {"username": "sam", "password": "wrong-password"})
    assert wrong.status_code == 401 and error_of(wrong)["code"] == "invalid_credentials"
    unknown = anon.post("/api/v1/auth/token", {"username": "nobody", "password": "whatever-it-is"})
    assert unknown.status_code == 401 and error_of(unknown)["message"] == error_of(wrong)["message"]
    missing = anon.post("/api/v1/auth/token", {"username": "sam"})
    assert missing.status_code == 422 and error_of(missing)["fields"] == {"password": ["is required"]}
    typed = anon.post("/api/v1/auth/token", {"username": 5, "password": ["x"], "remember": True})
    assert set(error_of(typed)["fields"]) == {"username", "password", "remember"}


@pytest.mark.parametrize("name", ["kim", "nobody"])
def test_the_login_throttle_holds_for_the_token_endpoint(db, app, monkeypatch, name):
    """Known and unknown names alike: 401 "wrong username or password", then 429 with
    Retry-After -- never "account locked", never a sleep in the worker."""
    monkeypatch.setattr("time.sleep", lambda seconds: pytest.fail("a failed login slept"))
    api = Api(app.test_client())
    for _ in range(5):
        wrong = api.post("/api/v1/auth/token", {"username": name, "password": "wrong-password"})
        assert wrong.status_code == 401 and error_of(wrong) == {
            **error_of(wrong), "code": "invalid_credentials", "message": "wrong username or password"}
    held = api.post("/api/v1/auth/token", {"username": name, "password": PASSWORD})
    assert held.status_code == 429 and 1 <= int(held.headers["Retry-After"]) <= 31
    assert error_of(held)["code"] == "too_many_attempts"
    assert error_of(held)["message"] == "too many attempts, try again in a minute"
    if name == "kim":  # from another address the owner still gets in
        other = app.test_client().post("/api/v1/auth/token", json={"username": "kim", "password": PASSWORD},
                                       environ_base={"REMOTE_ADDR": "10.7.7.7"})
        assert other.status_code == 200


def test_token_endpoint_is_rate_limited_per_address(db, people):
    app = make_app(db, CARDBASE_API_TOKEN_RATE={"per_address": 4, "per_user": 100, "window": 60})
    client = app.test_client()
    api = Api(client)
    codes = [api.post("/api/v1/auth/token", {"username": f"user{i}", "password": "x-password"}).status_code
             for i in range(4)]
    assert codes == [401] * 4
    limited = api.post("/api/v1/auth/token", {"username": "sam", "password": PASSWORD})
    assert limited.status_code == 429
    assert error_of(limited)["code"] == "rate_limited" and int(limited.headers["Retry-After"]) >= 1
    # Another address is not affected.
    other = client.post("/api/v1/auth/token", json={"username": "sam", "password": PASSWORD},
                        environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_token_endpoint_is_rate_limited_per_user(db, people):
    app = make_app(db, CARDBASE_API_TOKEN_RATE={"per_address": 100, "per_user": 3, "window": 60})
    client = app.test_client()
    for i in range(3):
        client.post("/api/v1/auth/token", json={"username": "Sam", "password": "x-password"},
                    environ_base={"REMOTE_ADDR": f"10.0.0.{i}"})
    limited = client.post("/api/v1/auth/token", json={"username": "sam", "password": PASSWORD},
                          environ_base={"REMOTE_ADDR": "10.0.0.99"})
    assert limited.status_code == 429  # usernames count ignoring case, from any address


def test_rate_limit_window_slides(db, people):
    app = make_app(db, CARDBASE_API_TOKEN_RATE={"per_address": 2, "per_user": 100, "window": 60})
    api = Api(app.test_client())
    for _ in range(2):
        assert api.post("/api/v1/auth/token", {"username": "sam", "password": PASSWORD}).status_code == 200
    assert api.post("/api/v1/auth/token", {"username": "sam", "password": PASSWORD}).status_code == 429
    with db.write() as conn:  # a minute later the old attempts fall out of the window
        conn.execute(sa.update(AuthAttempt).values(at=utcnow() - timedelta(seconds=61)))
    assert api.post("/api/v1/auth/token", {"username": "sam", "password": PASSWORD}).status_code == 200
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(AuthAttempt)).scalar_one() == 2


def test_expired_token_is_refused(db, app):
    secret = token_for(db, "sam")
    api = Api(app.test_client(), secret)
    assert api.get("/api/v1/me").status_code == 200
    with db.write() as conn:
        conn.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = api.get("/api/v1/me")
    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "token_expired" and "POST /api/v1/auth/token" in error["message"]
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_missing_malformed_and_unknown_tokens(app):
    client = app.test_client()
    for headers in ({}, {"Authorization": "Basic c2FtOnB3"}, {"Authorization": "Bearer"},
                    {"Authorization": "Bearer cb_not-a-real-token"}, {"Authorization": "Bearer " + "x" * 5000},
                    {"Authorization": "Bearer cb_\u00e9\u00e9"}):
        response = client.get("/api/v1/records/deal", headers=headers)
        assert response.status_code == 401, headers
        assert error_of(response)["code"] in ("unauthorized", "invalid_token"), headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_is_not_accepted_by_the_api(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "sam", "password": PASSWORD}).status_code == 302
    assert client.get("/").status_code == 200  # logged in for the browser …
    response = client.get("/api/v1/me")  # … but the API (exempt from CSRF) wants a token
    assert response.status_code == 401


def test_password_change_and_deactivation_end_session_tokens(db, app, people):
    api = api_for(app, db, "sam")
    assert api.get("/api/v1/me").status_code == 200
    users.set_password(db, "sam", "another-password")
    assert api.get("/api/v1/me").status_code == 401
    kim = api_for(app, db, "kim")
    personal = kim.post("/api/v1/auth/tokens", {"name": "script"}).get_json()["token"]
    users.set_password(db, "kim", "another-password")
    assert Api(app.test_client(), personal).get("/api/v1/me").status_code == 200  # personal tokens survive
    users.update_user(db, users_actor(db), "kim", active=False)
    assert Api(app.test_client(), personal).get("/api/v1/me").status_code == 401


def users_actor(db):
    from cardbase.platform.context import actor_for

    return actor_for(users.find_user(db, "root"), db)


def test_logout_revokes_the_token(db, app):
    api = api_for(app, db, "sam")
    assert api.delete("/api/v1/auth/token").status_code == 204
    assert api.get("/api/v1/me").status_code == 401


def test_personal_tokens_create_list_revoke(db, app, people):
    sam = api_for(app, db, "sam")
    created = sam.post("/api/v1/auth/tokens", {"name": "telephony", "expires_at": "2099-01-01T00:00:00Z"})
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "telephony" and body["kind"] == "personal" and body["token"].startswith("cb_")
    assert body["expires_at"] == "2099-01-01T00:00:00Z" and body["prefix"] == body["token"][:10]
    script = Api(app.test_client(), body["token"])
    assert script.get("/api/v1/me").get_json()["username"] == "sam"
    listed = sam.get("/api/v1/auth/tokens").get_json()["data"]
    assert [t["name"] for t in listed] == ["telephony"] and "token" not in listed[0]
    # Someone else's token cannot be revoked (it does not exist for them) nor listed.
    kim = api_for(app, db, "kim")
    assert kim.delete(f"/api/v1/auth/tokens/{body['id']}").status_code == 404
    assert kim.get(f"/api/v1/auth/tokens?user_id={people['sam'].id}").status_code == 403
    assert script.get("/api/v1/me").status_code == 200
    assert sam.delete(f"/api/v1/auth/tokens/{body['id']}").status_code == 204
    assert script.get("/api/v1/me").status_code == 401
    assert sam.get("/api/v1/auth/tokens").get_json()["data"][0]["revoked_at"] is not None
    # An admin sees and revokes anyone's.
    root = api_for(app, db, "root")
    again = sam.post("/api/v1/auth/tokens", {"name": "accounting"}).get_json()
    assert [t["name"] for t in root.get(f"/api/v1/auth/tokens?user_id={people['sam'].id}").get_json()["data"]][0] \
        == "accounting"
    assert root.delete(f"/api/v1/auth/tokens/{again['id']}").status_code == 204


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 201}, "name"), ({"name": "a", "expires_at": "soon"}, "expires_at"),
    ({"name": "a", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"), ({"name": "a", "scope": "all"}, "scope"),
    ({"name": "a", "expires_at": 5}, "expires_at"),
])
def test_personal_token_bad_input(db, app, body, field):
    response = api_for(app, db, "sam").post("/api/v1/auth/tokens", body)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]


def test_only_admins_create_tokens_for_others(db, app, people):
    sam = api_for(app, db, "sam")
    assert sam.post("/api/v1/auth/tokens", {"name": "x", "user_id": people["kim"].id}).status_code == 403
    root = api_for(app, db, "root")
    made = root.post("/api/v1/auth/tokens", {"name": "for kim", "user_id": people["kim"].id})
    assert made.status_code == 201
    assert Api(app.test_client(), made.get_json()["token"]).get("/api/v1/me").get_json()["username"] == "kim"


def test_every_api_route_needs_a_token(app):
    client = app.test_client()
    # The incoming hook of a scenario is public: its token in the URL is the secret (an unknown one is 404).
    public = {"api.token", "api.openapi", "api.reference", "api.incoming_hook"}
    checked = 0
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint in public:
            continue
        url = rule.build({a: "1" for a in rule.arguments}, append_unknown=False)[1]
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method, json={"x": 1})
            assert response.status_code == 401, (rule, method)
            assert error_of(response)["code"] == "unauthorized"
            checked += 1
    assert checked > 40


def test_unknown_api_urls_and_methods_answer_in_json(db, app):
    api = api_for(app, db, "sam")
    missing = api.get("/api/v1/nothing/here")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    wrong = api.call("PUT", "/api/v1/me")
    assert wrong.status_code == 405 and error_of(wrong)["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]


def test_last_used_is_recorded_without_a_write_per_request(db, app):
    api = api_for(app, db, "sam")
    for _ in range(3):
        api.get("/api/v1/me")
    with db.read() as conn:
        first = conn.execute(sa.select(ApiToken.last_used_at)).scalar_one()
    assert first is not None
    api.get("/api/v1/me")
    with db.read() as conn:
        assert conn.execute(sa.select(ApiToken.last_used_at)).scalar_one() == first


def test_the_api_actor_is_the_browsers_actor(db, app, people):
    """The token's query reads the groups itself; the Actor must equal context.actor_for's."""
    from flask import g

    from cardbase.platform.context import actor_for

    root = users_actor(db)
    for name in ("Sales", "Berlin"):
        users.create_group(db, root, name)
        users.add_member(db, root, "sam", name)
    for username in ("sam", "kim", "root"):
        api = api_for(app, db, username)
        with app.test_request_context("/api/v1/me", headers=api.headers()):
            from cardbase.platform.api.auth import require_token

            assert require_token() is None
            assert g.cardbase_actor == actor_for(users.find_user(db, username), db)
