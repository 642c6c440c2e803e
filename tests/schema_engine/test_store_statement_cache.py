"""Single-record reads reuse their statement per schema snapshot and access
(reader._records_statement): a change of rights, field mask, owner or schema must still
show on the very next read, and two readers never share a statement."""
from __future__ import annotations

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, NotFound

from test_rights import World  # noqa: F401  (the rights tests' CRM, users and groups)


def test_single_record_reads_follow_rights_changes_at_once(db):
    w = World(db)
    ann, ben = w.member("ann", "Sales"), w.member("ben", "Berlin")
    large, small = w.deals["large"], w.deals["small"]
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    assert w.store.get(ann, "deal", large)["amount"] is not None  # statement built and cached
    assert "note" in w.store.get(ann, "deal", large)

    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    got = w.store.get(ann, "deal", large)  # the same reader and snapshot, another rights version
    assert "amount" not in got and got["title"] == "large"

    # another reader with other rights: its own statement (ben's groups may not read deals)
    with pytest.raises((Forbidden, NotFound)):
        w.store.get(ben, "deal", small)
    rights.set_object_rights(db, SYSTEM, "Berlin", "deal", ["read"])
    assert "amount" in w.store.get(ben, "deal", small)  # Berlin hides nothing

    # the owner-only mode: the row filter changes with the access mode (a rights change)
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    with pytest.raises(NotFound):
        w.store.get(ann, "deal", large)
    w.own("large", "ann")
    assert w.store.get(ann, "deal", large)["title"] == "large"

    # admins and the system read everything, with every field
    assert "amount" in w.store.get(w.actor("root"), "deal", large)
    assert "amount" in w.store.get(SYSTEM, "deal", large)


def test_single_record_reads_follow_schema_changes(db):
    w = World(db)
    deal = w.deals["small"]
    assert "stage2" not in w.store.get(SYSTEM, "deal", deal)
    w.svc.add_field(SYSTEM, "deal", {"name": "stage2", "label": "Stage 2", "type": "string"})
    w.store.update(SYSTEM, "deal", deal, {"stage2": "x"}, version=1)
    assert w.store.get(SYSTEM, "deal", deal)["stage2"] == "x"
