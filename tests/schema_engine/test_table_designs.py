"""Several named table designs per object (issue 14, point 10): one is the default, names
are unique, the single design saved before names keeps working, rights and the log, and
solutions carry every design with its default mark -- on both engines."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import layouts
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import Forbidden, NotFound, SchemaError, ValidationError
from cardbase.schema_engine.layouts import table_designs as td
from cardbase.schema_engine.meta_models import ConfigChange
from cardbase.schema_engine.solution import export_solution, import_solution

from crm_fixture import crm
from rights_fixture import actor, add_user


@pytest.fixture
def w(db):
    return crm(db)


def cols(design):
    return [c["field"] for c in design["definition"]["columns"]]


def test_designs_are_named_and_one_is_the_default(w, db):
    generated = td.get_table(db, "deal")
    assert td.list_tables(db, "deal") == [] and generated["id"] is None and generated["is_default"]
    first = td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title", "organisation", "amount"]})
    assert first["is_default"] is True  # the first design is the default
    compact = td.save_design(db, SYSTEM, "deal", "Compact", {"columns": ["title"], "sort": "title"})
    assert compact["is_default"] is False
    assert [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")] == [("Wide", True), ("Compact", False)]
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title", "organisation", "amount"]
    assert cols(td.get_table(db, "deal", compact["id"])) == ["title"]
    # making Compact the default: the list opens with it, Wide stops being the default
    td.save_design(db, SYSTEM, "deal", "Compact", {"columns": ["title"]}, table_id=compact["id"], is_default=True)
    assert [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")] == [("Wide", False), ("Compact", True)]
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title"]
    # the old table API saves the default design
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["title", "amount"]})
    assert cols(td.get_table(db, "deal", compact["id"])) == ["title", "amount"]
    assert td.get_table(db, "deal")["id"] == compact["id"]
    # rename keeps the id; deleting the default makes the remaining design the default
    renamed = td.save_design(db, SYSTEM, "deal", "Short", {"columns": ["title"]}, table_id=compact["id"])
    assert renamed["id"] == compact["id"] and renamed["is_default"] is True
    td.delete_design(db, SYSTEM, "deal", compact["id"])
    assert [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")] == [("Wide", True)]
    assert layouts.list_views(db, SYSTEM, "deal") == []  # designs are no saved views
    with db.read() as conn:
        actions = conn.execute(sa.select(ConfigChange.action)).scalars().all()
    assert actions.count("save_table") == 5 and actions.count("delete_table") == 1


def test_the_design_saved_before_names_is_the_standard_one(w, db):
    layouts.save_table(db, SYSTEM, "deal", {"columns": ["title", "amount"]})
    [old] = td.list_tables(db, "deal")
    assert old["name"] == "Standard" and old["is_default"] is True
    other = td.save_design(db, SYSTEM, "deal", "Berlin", {"columns": ["title"]})
    assert other["is_default"] is False
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title", "amount"]
    td.save_design(db, SYSTEM, "deal", "All deals", {"columns": ["title", "amount"]}, table_id=old["id"])
    assert [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")] == \
        [("All deals", True), ("Berlin", False)]
    layouts.reset_table(db, SYSTEM, "deal")  # forgets the default design only
    assert [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")] == [("Berlin", True)]


def test_bad_names_ids_and_rights(w, db):
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title"]})
    with pytest.raises(SchemaError) as exc:
        td.save_design(db, SYSTEM, "deal", "wide", {"columns": ["title"]})
    assert "already has a table named 'Wide'" in " ".join(exc.value.errors["name"])
    with pytest.raises(SchemaError) as exc:
        td.save_design(db, SYSTEM, "deal", "  ", {"columns": ["title"]})
    assert "name" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        td.save_design(db, SYSTEM, "deal", "Other", {"columns": ["nope"]})
    assert "columns[0].field" in exc.value.errors
    with pytest.raises(NotFound, match="no table #999"):
        td.get_table(db, "deal", 999)
    with pytest.raises(NotFound):
        td.delete_design(db, SYSTEM, "deal", 999)
    with pytest.raises(SchemaError, match="reserved"):
        layouts.save_view(db, SYSTEM, "deal", "(table) Wide", {"columns": ["title"]}, shared=True)
    ann = actor(db, add_user(db, "ann"))
    with pytest.raises(Forbidden, match="configure right"):
        td.save_design(db, ann, "deal", "Mine", {"columns": ["title"]})
    assert [t["name"] for t in td.list_tables(db, "deal")] == ["Wide"]  # nothing written


def test_solutions_carry_every_design_and_the_default(w, db, make_database, engine_name):
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title", "organisation.city"]})
    td.save_design(db, SYSTEM, "deal", "Compact", {"columns": ["title"]}, is_default=True)
    doc = export_solution(db)
    assert {v["name"] for v in doc["views"]} == {"(table) Wide", "(table) Compact"}
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        import_solution(other, doc)
        assert [(t["name"], t["is_default"]) for t in td.list_tables(other, "deal")] == \
            [("Wide", False), ("Compact", True)]
        assert layouts.default_table(other, "deal") == layouts.default_table(db, "deal")
        wide = next(t for t in td.list_tables(other, "deal") if t["name"] == "Wide")
        assert cols(td.get_table(other, "deal", wide["id"])) == ["title", "organisation.city"]
        assert import_solution(other, doc)["added"] == []
    finally:
        other.dispose()


def test_a_field_used_by_a_named_design_is_in_use_and_named(w, db):
    from cardbase.schema_engine.errors import InUse

    svc, _store = w
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title"]})
    td.save_design(db, SYSTEM, "deal", "Amounts", {"columns": ["title", "amount"]})
    with pytest.raises(InUse, match="the table 'Amounts' of 'Deals' uses it"):
        svc.remove_field(SYSTEM, "deal", "amount")
