"""The channels only adapt the engine's account services and the one admin policy:
the CLI, the REST API and the designer all refuse when the policy refuses; the menu
position of an object follows one rule in the API and the designer; a login that
re-hashes the password keeps the user's other sessions and tokens, a password change
ends them."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from designer_testlib import client_for, designer_app, page

from cardbase.schema_engine.accounts import passwords
from cardbase.schema_engine.accounts.policy import AdminPolicy
from cardbase.schema_engine.errors import Forbidden
from cardbase.schema_engine.schema_service import MENU_ORDER

from api_testlib import PASSWORD, Api, api_for, error_of


@pytest.fixture
def app(db):
    return designer_app(db)  # root (admin), kim (configure on deals), sam (no configure)


def _position(db, name: str) -> int:
    return db.schema().object(name).position


# ---- object position: one rule in every channel ---------------------------------------------------
def test_the_api_refuses_a_configure_user_moving_an_object_in_everyones_menu(app, db):
    kim = api_for(app, db, "kim")
    before = _position(db, "deal")
    moved = kim.patch("/api/v1/objects/deal", {"position": -5})
    assert moved.status_code == 403
    assert error_of(moved)["message"] == f"only administrators may {MENU_ORDER}"
    assert _position(db, "deal") == before
    # the object's own settings stay the configure right's; sending the position back unchanged is fine
    same = kim.patch("/api/v1/objects/deal", {"label_plural": "Opportunities", "position": before})
    assert same.status_code == 200 and same.get_json()["label_plural"] == "Opportunities"
    root = api_for(app, db, "root")
    assert root.patch("/api/v1/objects/deal", {"position": -5}).get_json()["position"] == -5


def test_the_designer_refuses_it_the_same_way(app, db):
    kim = client_for(app, "kim")
    before = _position(db, "deal")
    html, state = page(kim, "/designer/objects/deal")
    assert 'name="position"' not in html  # not offered to a non-admin
    form = {**state, "label": "Deal", "label_plural": "Deals", "name": "deal", "description": "",
            "label_de": "", "label_plural_de": ""}
    response = kim.post("/designer/objects/deal", data={**form, "position": "-5"})
    assert response.status_code == 403
    assert f"only administrators may {MENU_ORDER}" in response.get_data(as_text=True)
    assert 'value="deal:up"' not in kim.get("/designer/").get_data(as_text=True)  # no arrows offered
    index_state = {"schema_version": str(db.schema().version), "order": "organisation,deal"}
    assert kim.post("/designer/object-order", data={**index_state, "move": "deal:up"}).status_code == 403
    assert _position(db, "deal") == before
    root = client_for(app, "root")
    html, state = page(root, "/designer/objects/deal")
    assert 'name="position"' in html
    assert root.post("/designer/objects/deal", data={**form, **state, "position": "-5"}).status_code == 302
    assert _position(db, "deal") == -5


# ---- one admin policy behind every channel ------------------------------------------------------------
def test_every_channel_refuses_when_the_policy_refuses(app, db, db_url, cli_for, monkeypatch):
    def refuse(self, actor, what):
        raise Forbidden(f"the policy refuses to let anyone {what}")

    root = api_for(app, db, "root")
    designer = client_for(app, "root")
    monkeypatch.setattr(AdminPolicy, "require_admin", refuse)
    # CLI (the system actor)
    result = cli_for(db_url)("group", "create", "Support")
    assert result.exit_code != 0 and "the policy refuses to let anyone create groups" in result.output
    # REST API (an admin's token)
    for method, url, body, what in (
            ("POST", "/api/v1/users", {"username": "eve", "password": PASSWORD}, "create users"),
            ("POST", "/api/v1/groups", {"name": "Support"}, "create groups"),
            ("PUT", "/api/v1/groups/1/members/2", None, "add users to groups"),
            ("DELETE", "/api/v1/users/2", None, "deactivate users"),
            ("GET", "/api/v1/objects/deal/rights", None, "see and change rights"),
            ("GET", "/api/v1/solution", None, "export and import solutions"),
            ("PATCH", "/api/v1/objects/deal", {"position": -5}, MENU_ORDER)):
        response = root.call(method, url, body)
        assert response.status_code == 403, (url, response.get_data(as_text=True))
        assert error_of(response)["message"] == f"the policy refuses to let anyone {what}"
    # designer (an admin's session)
    for url in ("/designer/solution", "/designer/new-object", "/designer/objects/deal/delete"):
        assert designer.get(url).status_code == 403, url
    assert "Support" not in [g["name"] for g in root.get("/api/v1/groups").get_json()["data"]]


# ---- credentials epoch: a re-hash ends nothing, a password change ends the rest ----------------------
def test_a_login_that_rehashes_keeps_other_sessions_and_tokens(app, db, monkeypatch):
    browser = client_for(app, "sam")
    token = api_for(app, db, "sam")
    assert browser.get("/").status_code == 200 and token.get("/api/v1/me").status_code == 200
    old_hash = _hash(db, "sam")
    # The Argon2 parameters were raised: sam's next login (elsewhere) re-hashes the password.
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert passwords.needs_rehash(old_hash)
    elsewhere = client_for(app, "sam")
    assert _hash(db, "sam") != old_hash
    assert browser.get("/").status_code == 200  # still signed in
    assert token.get("/api/v1/me").status_code == 200  # token still valid
    # A real password change (by sam, through the API, from the other session's token) ends them.
    changer = Api(app.test_client(), Api(app.test_client()).post(
        "/api/v1/auth/token", {"username": "sam", "password": PASSWORD}).get_json()["token"])
    me = changer.get("/api/v1/me").get_json()
    assert changer.patch(f"/api/v1/users/{me['id']}", {"password": "another-password",
                                                       "current_password": PASSWORD}).status_code == 200
    assert browser.get("/").status_code == 302 and elsewhere.get("/").status_code == 302
    gone = token.get("/api/v1/me")
    assert gone.status_code == 401 and "password changed" in error_of(gone)["message"]


def _hash(db, username: str) -> str:
    from cardbase.platform import users

    return users.find_user(db, username).password_hash
