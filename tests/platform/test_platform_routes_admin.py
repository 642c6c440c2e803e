"""Administration of users and groups (functions and CLI) and `cardbase rights explain`:
admins create groups freely and put users in them (many-to-many); nobody else can."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.meta_models import UserGroup
from cardbase.schema_engine.rights.models import RuleView, rights_version
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"


@pytest.fixture
def people(db):
    root = users.create_user(db, "root", PASSWORD, is_admin=True)
    sam = users.create_user(db, "sam", PASSWORD, display_name="Sam", email="sam@example.com")
    return actor_for(root, db), actor_for(sam, db)


def test_admins_create_groups_and_members_many_to_many(db, people):
    root, _sam = people
    sales = users.create_group(db, root, "Sales", "the sales team")
    berlin = users.create_group(db, root, "Berlin branch")
    users.add_member(db, root, "sam", "Sales")
    users.add_member(db, root, "sam", berlin.id)
    users.add_member(db, root, "root", "Sales")
    users.add_member(db, root, "sam", "Sales")  # twice is once
    assert users.group_members(db, "Sales") == ["root", "sam"]
    assert actor_for(users.find_user(db, "sam"), db).group_ids == {sales.id, berlin.id}
    assert {g["name"]: g["members"] for g in users.list_groups(db)} == {"Berlin branch": 1, "Sales": 2}
    users.remove_member(db, root, "sam", "Berlin branch")
    assert actor_for(users.find_user(db, "sam"), db).group_ids == {sales.id}
    renamed = users.update_group(db, root, "Sales", name="Sales team")
    assert renamed.name == "Sales team" and renamed.description == "the sales team"


def test_group_names_are_checked(db, people):
    root, _ = people
    users.create_group(db, root, "Sales")
    with pytest.raises(ValidationError, match="already exists"):
        users.create_group(db, root, "sales")
    with pytest.raises(ValidationError, match="name: is required"):
        users.create_group(db, root, "  ")
    with pytest.raises(NotFound, match="there is no group 'Ghosts'"):
        users.add_member(db, root, "sam", "Ghosts")
    with pytest.raises(NotFound, match="there is no user 'nobody'"):
        users.add_member(db, root, "nobody", "Sales")


def test_deleting_a_group_takes_its_rights_along_and_reloads_them(db, people):
    root, _ = people
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals",
                                             "fields": [{"name": "amount", "label": "Amount", "type": "integer"}]})
    juniors = users.create_group(db, root, "Juniors")
    users.add_member(db, root, "sam", "Juniors")
    rights.save_rule_view(db, root, "Juniors", "deal", "Small", {"field": "amount", "op": "lt", "value": 10})
    RecordStore(db).create(SYSTEM, "deal", {"amount": 5})
    sam = actor_for(users.find_user(db, "sam"), db)
    assert len(RecordStore(db).list(sam, "deal").data) == 1
    with db.read() as conn:
        version = rights_version(conn)
    users.delete_group(db, root, juniors.id, with_rights=True)  # asked for: rights refer to it
    with db.read() as conn:
        assert rights_version(conn) > version
        assert conn.execute(sa.select(sa.func.count()).select_from(RuleView)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(UserGroup)).scalar() == 0
    with pytest.raises(Forbidden):  # even an actor built before the delete gets nothing from it
        RecordStore(db).list(sam, "deal")


def test_only_admins_manage_users_and_groups(db, people):
    root, sam = people
    users.create_group(db, root, "Sales")
    with db.read() as conn:
        before = conn.execute(sa.select(UserGroup)).all()
    for call in (lambda: users.add_member(db, sam, "sam", "Sales"),
                 lambda: users.remove_member(db, sam, "root", "Sales"),
                 lambda: users.create_group(db, sam, "Mine"),
                 lambda: users.delete_group(db, sam, "Sales"),
                 lambda: users.update_group(db, sam, "Sales", name="Ours"),
                 lambda: users.update_user(db, sam, "sam", is_admin=True),
                 lambda: users.update_user(db, sam, "root", display_name="hacked")):
        with pytest.raises(Forbidden):
            call()
    with db.read() as conn:
        assert conn.execute(sa.select(UserGroup)).all() == before
    assert [g["name"] for g in users.list_groups(db)] == ["Sales"]
    assert users.find_user(db, "root").display_name == "root"


def test_user_attributes_and_the_last_admin(db, people):
    root, sam = people
    row = users.update_user(db, sam, "sam", display_name="Samantha", email="s@example.org", language="de")
    assert (row.display_name, row.email, row.language) == ("Samantha", "s@example.org", "de")
    with pytest.raises(ValidationError, match="not an e-mail address"):
        users.update_user(db, sam, "sam", email="nope")
    with pytest.raises(ValidationError, match="not supported"):
        users.update_user(db, sam, "sam", language="xx")
    with pytest.raises(ValidationError, match="cannot be changed here"):
        users.update_user(db, root, "sam", password_hash="x")
    with pytest.raises(ValidationError, match="last active administrator"):
        users.update_user(db, root, "root", is_admin=False)
    users.update_user(db, root, "sam", active=False)
    assert users.authenticate(db, "sam", PASSWORD, sleep=lambda s: None) is None  # inactive: no login


def test_cli_groups_and_rights_explain(db_url, cli_for, db):
    cli = cli_for(db_url)
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert cli("user", "create", "sam", "--password", PASSWORD).exit_code == 0
    result = cli("group", "create", "Sales")
    assert result.exit_code == 0 and "Created the group 'Sales'" in result.output
    assert cli("group", "add", "sam", "Sales").exit_code == 0
    assert "Sales\t1 member(s)" in cli("group", "list").output
    assert cli("group", "add", "sam", "Nope").exit_code == 2
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals",
                                             "fields": [{"name": "amount", "label": "Amount", "type": "integer"}]})
    rid = RecordStore(db).create(SYSTEM, "deal", {"amount": 5})["id"]
    rights.save_rule_view(db, SYSTEM, "Sales", "deal", "Small", {"field": "amount", "op": "lt", "value": 10},
                          level="change")
    result = cli("rights", "explain", "sam", "deal", str(rid))
    assert result.exit_code == 0, result.output
    assert "edit       yes  rule view 'Small' of group 'Sales' (change) matches the record" in result.output
    assert "delete     no" in result.output
    data = json.loads(cli("rights", "explain", "sam", "deal", str(rid), "--json").output)
    assert data["rights"]["read"]["allowed"] is True and data["rights"]["export"]["allowed"] is False
    assert cli("rights", "explain", "nobody", "deal", str(rid)).exit_code == 2
    assert cli("group", "remove", "sam", "Sales").exit_code == 0
