"""Accounts in the engine (schema_engine.accounts): users, groups, memberships, passwords
and API tokens take the acting user and apply the one admin policy; the credentials epoch
ends sessions and session tokens on a real password change, not on a login's re-hash."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from cardbase.schema_engine import rights
from cardbase.schema_engine.accounts import groups, passwords, tokens, users
from cardbase.schema_engine.accounts.policy import ADMIN, AdminPolicy
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import Group, User, UserGroup
from cardbase.schema_engine.schema_service import MENU_ORDER, SchemaService
from cardbase.schema_engine.token_models import ApiToken

PASSWORD = "s3cret-password"
CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
ROOT = Path(__file__).resolve().parents[2] / "cardbase"


@pytest.fixture(autouse=True)
def cheap_hasher(monkeypatch):
    monkeypatch.setattr(passwords, "_hasher", CHEAP)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", CHEAP.hash("cardbase: no such user"))


@pytest.fixture
def people(db):
    """An admin, two users (ann, bob) and a group Sales with bob in it."""
    db.create_system_tables()
    admin = users.create_user(db, SYSTEM, "root", PASSWORD, is_admin=True)
    ann = users.create_user(db, SYSTEM, "ann", PASSWORD)
    bob = users.create_user(db, SYSTEM, "bob", PASSWORD)
    groups.create_group(db, SYSTEM, "Sales")
    groups.add_member(db, SYSTEM, "bob", "Sales")
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "fields": [
        {"name": "title", "label": "Title", "type": "string"}]})
    return {"root": actor_of(db, admin), "ann": actor_of(db, ann), "bob": actor_of(db, bob)}


def actor_of(db, row) -> Actor:
    return Actor(user_id=row.id, username=row.username, group_ids=users.group_ids(db, row.id),
                 is_admin=bool(row.is_admin))


def state(db) -> dict:
    with db.read() as conn:
        return {t.__tablename__: sorted(map(tuple, conn.execute(sa.select(t.__table__)).all()), key=repr)
                for t in (User, Group, UserGroup, ApiToken)}


# ---- the admin policy ----------------------------------------------------------------------------
def refusals(db, ann: Actor, bob: Actor) -> list[tuple[str, object]]:
    """Every administration service, called by the non-admin ann: (expected message, call)."""
    return [
        ("create users", lambda: users.create_user(db, ann, "eve", PASSWORD)),
        ("change the active and the admin flag", lambda: users.update_user(db, ann, "ann", is_admin=True)),
        ("change other users", lambda: users.update_user(db, ann, "bob", display_name="Bobby")),
        ("change other users' passwords", lambda: users.set_password(db, ann, "bob", "another-password")),
        ("deactivate users", lambda: users.deactivate_user(db, ann, "bob")),
        ("create groups", lambda: groups.create_group(db, ann, "Mine")),
        ("change groups", lambda: groups.update_group(db, ann, "Sales", name="Ann's")),
        ("delete groups", lambda: groups.delete_group(db, ann, "Sales")),
        ("add users to groups", lambda: groups.add_member(db, ann, "ann", "Sales")),
        ("remove users from groups", lambda: groups.remove_member(db, ann, "bob", "Sales")),
        ("create tokens for other users", lambda: tokens.create_personal_token(db, ann, "x", user_id=bob.user_id)),
        ("see other users' tokens", lambda: tokens.list_tokens(db, ann, bob.user_id)),
        ("change rights", lambda: rights.set_object_rights(db, ann, "Sales", "deal", ["read"])),
        ("change rights", lambda: rights.set_access_mode(db, ann, "deal", "all")),
        (MENU_ORDER, lambda: SchemaService(db).reorder_objects(ann, ["deal"])),
    ]


def test_a_non_admin_is_refused_by_every_service_with_a_clear_message_and_nothing_written(db, people):
    before = state(db)
    for what, call in refusals(db, people["ann"], people["bob"]):
        with pytest.raises(Forbidden) as info:
            call()
        assert info.value.message == f"only administrators may {what}"
        assert info.value.status == 403
    assert state(db) == before


def test_admins_and_the_system_administer(db, people):
    root = people["root"]
    eve = users.create_user(db, root, "eve", PASSWORD, email="eve@example.com", language="de")
    assert (eve.email, eve.language, eve.credentials_epoch) == ("eve@example.com", "de", 0)
    groups.add_member(db, root, "eve", "Sales")
    assert groups.group_members(db, "Sales") == ["bob", "eve"]
    groups.update_group(db, SYSTEM, "Sales", name="Sales EU")
    token = tokens.create_personal_token(db, root, "for eve", user_id=eve.id)
    assert [t["name"] for t in tokens.list_tokens(db, root, eve.id)] == ["for eve"]
    tokens.revoke_token(db, root, token["id"])
    assert users.deactivate_user(db, root, "eve").active is False
    with pytest.raises(ValidationError, match="last active administrator"):
        users.update_user(db, root, "root", is_admin=False)


def test_users_look_after_their_own_account(db, people):
    ann = people["ann"]
    assert users.update_user(db, ann, "ann", display_name="Ann A.", language="de").display_name == "Ann A."
    before = state(db)
    with pytest.raises(ValidationError, match="current_password"):
        users.set_password(db, ann, "ann", "another-password", current_password="wrong-password")
    with pytest.raises(ValidationError, match="current_password"):  # with other changes: all or nothing
        users.update_user(db, ann, "ann", email="ann@example.com", password="another-password")
    assert state(db) == before
    users.set_password(db, ann, "ann", "another-password", current_password=PASSWORD)
    assert users.authenticate(db, "ann", "another-password", sleep=lambda s: None) is not None
    mine = tokens.create_personal_token(db, ann, "script")
    assert [t["id"] for t in tokens.list_tokens(db, ann)] == [mine["id"]]
    with pytest.raises(NotFound):  # someone else's token is not even revealed
        tokens.revoke_token(db, people["bob"], mine["id"])


def test_the_admin_rule_is_written_once():
    """Only the policy says "only administrators may"; nothing else defines an admin check."""
    sources = {p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8") for p in ROOT.rglob("*.py")}
    saying = sorted(name for name, text in sources.items() if "only administrators may" in text)
    assert saying == ["schema_engine/accounts/policy.py"]
    own_checks = sorted(name for name, text in sources.items()
                        if re.search(r"def _?require_admin\(", text) and name != "schema_engine/accounts/policy.py")
    assert own_checks == ["designer_ui/common.py"]  # the designer's 403 adapter of ADMIN
    assert "ADMIN.require_admin" in sources["designer_ui/common.py"]


def test_every_service_asks_the_one_policy(db, people, monkeypatch):
    """With the policy refusing everyone, even the system (the CLI's actor) is refused."""
    monkeypatch.setattr(AdminPolicy, "is_admin", lambda self, actor: False)
    before = state(db)
    for what, call in refusals(db, SYSTEM, people["bob"]):
        if what in ("create tokens for other users", "see other users' tokens"):
            continue  # the system has no tokens of its own
        with pytest.raises(Forbidden, match=re.escape(what)):
            call()
    assert state(db) == before
    assert not ADMIN.is_admin(people["root"])


# ---- object position: one rule -------------------------------------------------------------------
def test_the_menu_position_needs_an_admin_the_configure_right_the_rest(db, people):
    bob = people["bob"]
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    service = SchemaService(db)
    position = db.schema().object("deal").position
    with pytest.raises(Forbidden, match=re.escape(f"only administrators may {MENU_ORDER}")):
        service.update_object(bob, "deal", {"label": "Opportunity", "position": -5})
    assert db.schema().object("deal").label == "Deal"  # nothing of the change was written
    # the same position (a GET sent back) and the object's own settings are the configure right's
    assert service.update_object(bob, "deal", {"label": "Opportunity", "position": position}).label == "Opportunity"
    assert service.update_object(people["root"], "deal", {"position": -5}).position == -5


# ---- credentials epoch -----------------------------------------------------------------------------
def test_a_login_that_rehashes_keeps_sessions_and_tokens_a_password_change_ends_them(db, people):
    ann = users.find_user(db, "ann")
    key = users.start_session(db, ann)  # a browser session of ann's
    session_token, _expires = tokens.issue_session_token(db, ann)
    personal = tokens.create_personal_token(db, people["ann"], "script")["token"]
    # Argon2 parameters were raised: the next login re-hashes the password.
    stronger = PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1)
    passwords._hasher = stronger
    assert passwords.needs_rehash(ann.password_hash)
    again = users.authenticate(db, "ann", PASSWORD, sleep=lambda s: None)
    assert again.password_hash != ann.password_hash and not passwords.needs_rehash(again.password_hash)
    assert again.credentials_epoch == ann.credentials_epoch
    assert users.user_for_session(db, key) is not None
    assert tokens.authenticate(db, session_token).user.id == ann.id
    # A real password change (here an admin reset) ends the other sessions and session tokens.
    users.set_password(db, people["root"], "ann", "another-password")
    assert users.user_for_session(db, key) is None
    with pytest.raises(tokens.TokenRejected, match="password changed"):
        tokens.authenticate(db, session_token)
    assert tokens.authenticate(db, personal).kind == "personal"  # personal tokens survive it
    fresh = users.find_user(db, "ann")
    assert users.user_for_session(db, users.start_session(db, fresh)) is not None


def test_reactivation_brings_no_old_session_or_token_back(db, people):
    """Deactivating revokes sessions and every token; reactivating moves the epoch again and
    revives none of them (before, personal tokens and sessions came back)."""
    ann = users.find_user(db, "ann")
    key = users.start_session(db, ann)
    session_token, _expires = tokens.issue_session_token(db, ann)
    personal = tokens.create_personal_token(db, people["ann"], "script")["token"]
    users.deactivate_user(db, people["root"], "ann")
    assert users.user_for_session(db, key) is None
    back = users.update_user(db, people["root"], "ann", active=True)
    assert back.credentials_epoch == ann.credentials_epoch + 2  # deactivation and reactivation
    assert users.user_for_session(db, key) is None
    for token in (session_token, personal):
        with pytest.raises(tokens.TokenRejected):
            tokens.authenticate(db, token)
    assert users.user_for_session(db, users.start_session(db, back)) is not None  # a new login works


def test_logout_revokes_the_session_on_the_server(db, people):
    ann = users.find_user(db, "ann")
    key, other = users.start_session(db, ann), users.start_session(db, ann)
    row, groups = users.user_for_session(db, key)
    assert row.id == ann.id and groups == frozenset()
    users.end_session(db, key)
    assert users.user_for_session(db, key) is None
    assert users.user_for_session(db, other) is not None  # the other device stays signed in
    assert users.user_for_session(db, "not-a-session") is None
    # a new password ends every session of the user
    users.set_password(db, people["ann"], "ann", "another-password", current_password=PASSWORD)
    assert users.user_for_session(db, other) is None


def test_old_databases_get_the_epoch_columns(db):
    db.create_system_tables()
    with db.write() as conn:
        for table in ("cb_api_token", "cb_user"):
            conn.exec_driver_sql(f"ALTER TABLE {table} DROP COLUMN credentials_epoch")
    db.create_system_tables()  # what `cardbase init` / `run` do on an existing database
    row = users.create_user(db, SYSTEM, "old", PASSWORD)
    assert row.credentials_epoch == 0
