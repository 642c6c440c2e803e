"""Issue 13, point 2: a group that rights refer to is not deleted in any channel. The
accounts layer decides (accounts/groups.delete_group), so the admin screen, the REST API
and the CLI all refuse with the rights named and change nothing; only an explicit "with its
rights" (``?with_rights=true``, ``--with-rights``) deletes them along. Records shared with
the group count as such rights (named with how many), so no share vanishes unnoticed."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_testlib import api_for, crm_app, error_of, signed_in

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.accounts import groups
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import InUse
from cardbase.schema_engine.meta_models import Group, UserGroup
from cardbase.schema_engine.rights.models import FieldRight, ObjectRight, RecordScope, RuleView
from cardbase.schema_engine.rights_models import Share
from cardbase.schema_engine.store.records import RecordStore

NAMED = "object rights on Deals; rule view 'Small' on Deals"


@pytest.fixture
def app(db):
    return crm_app(db)


def state(db) -> dict:
    with db.read() as conn:
        return {m.__tablename__: sorted(map(tuple, conn.execute(sa.select(m.__table__)).all()), key=repr)
                for m in (Group, UserGroup, ObjectRight, RecordScope, FieldRight, RuleView)}


def juniors_with_rights(db) -> int:
    row = users.create_group(db, SYSTEM, "Juniors")
    users.add_member(db, SYSTEM, "sam", "Juniors")
    rights.set_object_rights(db, SYSTEM, "Juniors", "deal", ["read"])
    rights.save_rule_view(db, SYSTEM, "Juniors", "deal", "Small", {"field": "probability", "op": "lt", "value": 10})
    return row.id


def test_the_accounts_layer_refuses_by_default_and_deletes_only_when_asked(app, db):
    gid = juniors_with_rights(db)
    before = state(db)
    with pytest.raises(InUse, match="cannot be deleted while rights refer to it") as refused:
        groups.delete_group(db, SYSTEM, gid)  # even the system actor (CLI, jobs)
    assert refused.value.usages == ["object rights on Deals", "rule view 'Small' on Deals"]
    assert state(db) == before
    groups.delete_group(db, SYSTEM, gid, with_rights=True)
    after = state(db)
    assert after["cb_group"] == [] and after["cb_rule_view"] == [] and after["cb_object_right"] == []
    assert after["cb_user_group"] == []


def test_the_admin_screen_refuses_naming_the_rights(app, db):
    gid = juniors_with_rights(db)
    before = state(db)
    refused = signed_in(app, "root").post(f"/admin/groups/{gid}/delete")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "while rights refer to it" in body
    assert "object rights on Deals" in body and "rule view &#39;Small&#39; on Deals" in body
    assert state(db) == before


def test_the_rest_api_refuses_unless_asked_to_delete_the_rights_too(app, db):
    gid = juniors_with_rights(db)
    root = api_for(app, db, "root")
    before = state(db)
    refused = root.delete(f"/api/v1/groups/{gid}")
    assert refused.status_code == 409
    error = error_of(refused)
    assert error["code"] == "in_use" and error["usages"] == ["object rights on Deals", "rule view 'Small' on Deals"]
    assert "the group 'Juniors' cannot be deleted while rights refer to it" in error["message"]
    bad = root.delete(f"/api/v1/groups/{gid}?with_rights=maybe")
    assert bad.status_code == 422 and "with_rights" in error_of(bad)["fields"]
    assert state(db) == before
    spec = root.get("/api/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/groups/{group_ref}"]["delete"]
    assert "with_rights" in [p["name"] for p in operation["parameters"]] and "409" in operation["responses"]
    assert root.delete(f"/api/v1/groups/{gid}?with_rights=true").status_code == 204
    assert root.get(f"/api/v1/groups/{gid}").status_code == 404
    assert state(db)["cb_rule_view"] == []


def test_the_cli_refuses_unless_asked_to_delete_the_rights_too(app, db, db_url, cli_for):
    juniors_with_rights(db)
    cli = cli_for(db_url)
    before = state(db)
    refused = cli("group", "delete", "Juniors")
    assert refused.exit_code != 0
    assert "the group 'Juniors' cannot be deleted while rights refer to it (remove them first): " + NAMED \
        in refused.output
    assert state(db) == before
    done = cli("group", "delete", "Juniors", "--with-rights")
    assert done.exit_code == 0 and "Deleted the group 'Juniors' with its rights." in done.output
    assert state(db)["cb_group"] == []
    users.create_group(db, SYSTEM, "Empty")  # a group without rights needs no flag
    assert cli("group", "delete", "Empty").exit_code == 0


# --- records shared with the group: refused like rights, naming how many (polish of issue 13) ---

SHARES_NAMED = "record shares on Organisations: 1; record shares on Deals: 2"


def partners_with_shares(db) -> int:
    """A group with no rights at all, but two deals and an organisation shared with it."""
    row = users.create_group(db, SYSTEM, "Partners")
    store = RecordStore(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})["id"]
    deals = [store.create(SYSTEM, "deal", {"title": title})["id"] for title in ("Alpha", "Beta")]
    for deal in deals:
        store.share(SYSTEM, "deal", deal, group="Partners", level="read")
    store.share(SYSTEM, "organisation", org, group="Partners", level="change")
    return row.id


def shares(db) -> list[tuple]:
    with db.read() as conn:
        return sorted(map(tuple, conn.execute(sa.select(Share.object_id, Share.record_id, Share.group_id,
                                                        Share.level)).all()))


def test_shares_alone_refuse_the_deletion_in_the_accounts_layer(app, db):
    gid = partners_with_shares(db)
    before, shared = state(db), shares(db)
    assert len(shared) == 3
    with pytest.raises(InUse, match="cannot be deleted while rights refer to it") as refused:
        groups.delete_group(db, SYSTEM, gid)
    assert refused.value.usages == ["record shares on Organisations: 1", "record shares on Deals: 2"]
    assert state(db) == before and shares(db) == shared  # nothing dropped silently
    groups.delete_group(db, SYSTEM, gid, with_rights=True)
    assert state(db)["cb_group"] == [] and shares(db) == []


def test_shares_are_named_beside_the_rights(app, db):
    gid = juniors_with_rights(db)
    store = RecordStore(db)
    deal = store.create(SYSTEM, "deal", {"title": "Gamma"})["id"]
    store.share(SYSTEM, "deal", deal, group=gid, level="read")
    with pytest.raises(InUse) as refused:
        groups.delete_group(db, SYSTEM, gid)
    assert refused.value.usages == ["object rights on Deals", "rule view 'Small' on Deals", "record shares on Deals: 1"]


def test_the_admin_screen_refuses_naming_the_shares_in_english_and_german(app, db):
    gid = partners_with_shares(db)
    before, shared = state(db), shares(db)
    refused = signed_in(app, "root").post(f"/admin/groups/{gid}/delete")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 409 and "while rights refer to it" in body
    assert "record shares on Deals: 2" in body and "record shares on Organisations: 1" in body
    users.update_user(db, SYSTEM, "root", language="de")
    german = signed_in(app, "root").post(f"/admin/groups/{gid}/delete").get_data(as_text=True)
    assert "Datensatzfreigaben auf Deals: 2" in german and "solange Rechte auf sie verweisen" in german
    assert state(db) == before and shares(db) == shared


def test_the_rest_api_refuses_shares_unless_asked_to_delete_them_too(app, db):
    gid = partners_with_shares(db)
    root = api_for(app, db, "root")
    shared = shares(db)
    refused = root.delete(f"/api/v1/groups/{gid}")
    assert refused.status_code == 409
    assert error_of(refused)["usages"] == ["record shares on Organisations: 1", "record shares on Deals: 2"]
    assert shares(db) == shared
    operation = root.get("/api/openapi.json").get_json()["paths"]["/api/v1/groups/{group_ref}"]["delete"]
    assert "record shares" in operation["summary"]
    assert root.delete(f"/api/v1/groups/{gid}?with_rights=true").status_code == 204
    assert shares(db) == [] and root.get(f"/api/v1/groups/{gid}").status_code == 404


def test_the_cli_refuses_shares_unless_asked_to_delete_them_too(app, db, db_url, cli_for):
    partners_with_shares(db)
    cli = cli_for(db_url)
    shared = shares(db)
    refused = cli("group", "delete", "Partners")
    assert refused.exit_code != 0
    assert "the group 'Partners' cannot be deleted while rights refer to it (remove them first): " + SHARES_NAMED \
        in refused.output
    assert shares(db) == shared
    done = cli("group", "delete", "Partners", "--with-rights")
    assert done.exit_code == 0 and shares(db) == []
