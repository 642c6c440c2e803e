"""Issue 18, point 4: scenarios travel in solutions -- exported by name, imported in the
import's transaction and checked like a saved scenario (one that does not fit refuses the
whole document)."""
from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa
from automation_testlib import actor, crm, sales_group

from cardbase.automation import scenarios
from cardbase.schema_engine.accounts import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.automation_models import Scenario
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.meta_models import ObjectType
from cardbase.schema_engine.solution import export_solution, import_solution


def test_scenarios_are_exported_and_imported_with_the_configuration(db, make_database, engine_name):
    store = crm(db)
    sales_group(db)
    root = actor(db, "root")
    with store.session(root, write=True) as tx:
        scenarios.create(tx, {"name": "Qualify", "object": "deal", "actor": "sam", "trigger": {"type": "created"},
                              "condition": {"field": "stage", "op": "eq", "value": "lead"},
                              "actions": [{"type": "set_fields", "values": {"probability": 10}}]})
        scenarios.create(tx, {"name": "Inbound", "object": "deal", "trigger": {"type": "webhook"},
                              "actions": [{"type": "notify", "users": ["root"], "text": "hi"}]})
    document = export_solution(db)
    [inbound, qualify] = document["scenarios"]
    assert qualify["actor"] == "sam" and qualify["object"] == "deal" and "token" not in inbound["trigger"]

    target = Database(make_database(engine_name))
    try:
        target.create_system_tables()
        users.create_user(target, SYSTEM, "root", "a-long-password-1", is_admin=True)  # no sam here
        report = import_solution(target, document, SYSTEM)
        assert "scenario Qualify (runs as root: no user 'sam' here)" in report["added"]
        with target.read() as conn:
            rows = conn.execute(sa.select(Scenario.__table__).order_by(Scenario.name)).mappings().all()
            deal_id = conn.execute(sa.select(ObjectType.id).where(ObjectType.api_name == "deal")).scalar()
        assert [r["name"] for r in rows] == ["Inbound", "Qualify"]
        assert rows[1]["object_id"] == deal_id and rows[1]["condition"] == qualify["condition"]
        assert rows[0]["trigger"]["token"]  # a new token of its own
        again = import_solution(target, document, SYSTEM)  # the same document again: replaced, not doubled
        assert any(line.startswith("scenario Qualify") for line in again["changed"])
    finally:
        target.dispose()


def test_a_scenario_that_does_not_fit_refuses_the_whole_document(db, make_database, engine_name):
    store = crm(db)
    root = actor(db, "root")
    with store.session(root, write=True) as tx:
        scenarios.create(tx, {"name": "Qualify", "object": "deal", "trigger": {"type": "created"},
                              "actions": [{"type": "set_fields", "values": {"probability": 10}}]})
    document = copy.deepcopy(export_solution(db))
    document["scenarios"][0]["actions"][0]["values"] = {"nonexistent": 1}
    target = Database(make_database(engine_name))
    try:
        target.create_system_tables()
        users.create_user(target, SYSTEM, "root", "a-long-password-1", is_admin=True)
        with pytest.raises(SchemaError) as refused:
            import_solution(target, document, SYSTEM)
        assert "scenario 'Qualify'" in str(refused.value) and "nonexistent" in str(refused.value)
        with target.read() as conn:  # nothing of the document was kept
            assert conn.execute(sa.select(sa.func.count()).select_from(ObjectType.__table__)).scalar() == 0
            assert conn.execute(sa.select(sa.func.count()).select_from(Scenario.__table__)).scalar() == 0
    finally:
        target.dispose()
