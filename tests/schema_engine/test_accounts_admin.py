"""The accounts guards the admin screens rely on (issue 13, bad input): an admin cannot
deactivate themselves, the last admin cannot go, a group name is used once, a group that
rights refer to is not deleted from the screen (naming them), deactivation ends sessions
and tokens at once, and an admin unlocks a throttled user -- each refusal changes nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.accounts import groups, throttle, tokens, users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import InUse, ValidationError
from cardbase.schema_engine.meta_models import utcnow

from test_accounts import PASSWORD, actor_of, cheap_hasher, people, state  # noqa: F401  (fixtures)


def test_an_admin_cannot_deactivate_themselves(db, people):  # noqa: F811  (the imported fixture)
    other = users.create_user(db, SYSTEM, "second", PASSWORD, is_admin=True)
    before = state(db)
    with pytest.raises(ValidationError, match="you cannot deactivate yourself") as refused:
        users.update_user(db, people["root"], "root", active=False)
    assert "active" in refused.value.errors
    assert state(db) == before
    users.update_user(db, actor_of(db, other), "root", active=False)  # another admin may
    assert users.find_user(db, "root").active is False


def test_the_last_admin_cannot_be_deactivated_or_demoted(db, people):  # noqa: F811  (the imported fixture)
    before = state(db)
    for change in ({"active": False}, {"is_admin": False}):
        with pytest.raises(ValidationError, match="last active administrator"):
            users.update_user(db, SYSTEM, "root", **change)
    assert state(db) == before


def test_a_group_name_is_used_once(db, people):  # noqa: F811  (the imported fixture)
    before = state(db)
    with pytest.raises(ValidationError, match="a group named 'sales' already exists"):
        groups.create_group(db, people["root"], "sales")
    groups.create_group(db, people["root"], "Support")
    with pytest.raises(ValidationError, match="a group named 'Sales' already exists"):
        groups.update_group(db, people["root"], "Support", name="Sales")
    assert {g["name"] for g in groups.list_groups(db)} == {"Sales", "Support"}
    assert state(db)["cb_user"] == before["cb_user"]


def test_deleting_a_group_rights_refer_to_is_refused_naming_them(db, people):  # noqa: F811  (the imported fixture)
    root = people["root"]
    rights.set_object_rights(db, root, "Sales", "deal", ["read"])
    rights.save_rule_view(db, root, "Sales", "deal", "Mine", {"field": "title", "op": "eq", "value": "x"})
    before = state(db)
    with pytest.raises(InUse, match=r"the group 'Sales' cannot be deleted while rights refer to it \(remove them "
                                    r"first\): object rights on Deal; rule view 'Mine' on Deal") as refused:
        groups.delete_group(db, root, "Sales", with_rights=False)
    assert refused.value.usages == ["object rights on Deal", "rule view 'Mine' on Deal"]
    assert state(db) == before
    rights.set_object_rights(db, root, "Sales", "deal", [])
    rights.delete_rule_view(db, root, rights.rule_views(db, "deal")[0]["id"])
    groups.delete_group(db, root, "Sales", with_rights=False)
    assert [g["name"] for g in groups.list_groups(db)] == []


def test_deactivation_ends_sessions_and_personal_tokens_at_once(db, people):  # noqa: F811  (the imported fixture)
    ann = users.find_user(db, "ann")
    secret = users.start_session(db, ann)
    token = tokens.create_personal_token(db, people["ann"], "script")
    assert users.user_for_session(db, secret) is not None
    assert tokens.authenticate(db, token["token"]).user.username == "ann"
    users.deactivate_user(db, people["root"], "ann")
    assert users.user_for_session(db, secret) is None
    with pytest.raises(tokens.TokenRejected, match="revoked"):
        tokens.authenticate(db, token["token"])


def test_an_admin_unlocks_a_throttled_user(db, people):  # noqa: F811  (the imported fixture)
    now = utcnow()
    with db.write() as conn:
        for n in range(throttle.FREE_FAILURES + 1):
            throttle.record_failure(conn, "ann", "10.0.0.1", now - timedelta(seconds=n))
    ann = users.find_user(db, "ann")
    assert users.is_throttled(db, ann)
    with db.read() as conn:
        assert throttle.retry_after(conn, "ann", "10.0.0.1", now) is not None
    users.unlock_user(db, people["root"], "ann")
    assert not users.is_throttled(db, ann)
    with db.read() as conn:
        assert throttle.retry_after(conn, "ann", "10.0.0.1", now) is None
