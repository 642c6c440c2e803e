"""Many-to-many links in the transfer package (issue 14, point 10): a backup carries each
multi-link's junction table and a restore (either engine) brings the sets back; an import
names the linked records by code, id or display value, several in one cell; the SQL views
leave a multi-link out (it has no column) and keep working; a merge moves the links naming a
merged record to the survivor, and undo moves them back."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import naming
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.drift import check_drift
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.store import RecordStore
from cardbase.transfer import backup as bk
from cardbase.transfer import readers, sql_views
from cardbase.transfer.importer import Importer, ImportSettings
from cardbase.transfer.merge import find_duplicates, merge
from transfer_fixture import world, write_csv

ENGINES = [e for e in ("sqlite", "postgresql") if os.environ.get("CARDBASE_TEST_DB", e) == e]


def with_partners(db):
    svc, store, who = world(db)
    field = svc.add_field(SYSTEM, "person", {"name": "partners", "label": "Partners", "type": "links",
                                             "options": {"target": "organisation"}})
    with store.session(who, write=True) as s:
        orgs = [s.create("organisation", {"name": n, "city": "Berlin"})["id"] for n in ("ACME", "Globex", "Initech")]
    return svc, store, who, field, orgs


def test_backup_and_restore_carry_the_sets(db, engine_name, make_database, tmp_path):
    _svc, store, who, field, orgs = with_partners(db)
    with store.session(who, write=True) as s:
        ann = s.create("person", {"name": "Ann", "partners": [orgs[2], orgs[0]]})["id"]
        s.create("person", {"name": "Bob", "partners": [orgs[1]]})
    archive = tmp_path / "backup.zip"
    manifest = bk.backup(db, str(archive))
    junction = naming.links_table_name(field.id)
    assert next(t for t in manifest["tables"] if t["name"] == junction)["rows"] == 3
    target_engine = next(e for e in ENGINES if e != engine_name) if len(ENGINES) > 1 else engine_name
    target = Database(make_database(target_engine))
    try:
        bk.restore(target, str(archive))
        restored = RecordStore(target).get(SYSTEM, "person", ann)
        assert [(r.id, r.display) for r in restored["partners"]] == [(orgs[2], "Initech"), (orgs[0], "ACME")]
        assert check_drift(target) == []
        with target.read() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {junction}")).scalar() == 3
    finally:
        target.dispose()


def test_import_names_several_records_in_one_cell(db, tmp_path):
    _svc, store, who, _field, orgs = with_partners(db)
    path = write_csv(tmp_path / "people.csv", [["Name", "Partners"], ["Ann", "Globex; ORG-00001"],
                                               ["Bob", "Nobody Inc"], ["Cid", ""]])
    sheet = readers.open_sheet(str(path))
    result = Importer(store, who, "person", sheet, ImportSettings.from_json(
        {"mapping": {"Name": "name", "Partners": "partners"}, "atomic": False})).run()
    assert result.created == 2 and result.failed == 1
    assert "no 'Organisation' record has the code, id or Name 'Nobody Inc'" in str(result.errors)
    with store.session(who) as s:
        people = {r["name"]: r for r in s.list("person").data}
    assert [r.id for r in people["Ann"]["partners"]] == [orgs[1], orgs[0]]
    assert people["Cid"]["partners"] is None


def test_sql_views_leave_the_multi_link_out(db):
    _svc, store, who, _field, orgs = with_partners(db)
    with store.session(who, write=True) as s:
        s.create("person", {"name": "Ann", "partners": [orgs[0]]})
    assert sql_views.enable(db) == ["organisation", "person"]
    with db.read() as conn:
        columns = [c["name"] for c in sa.inspect(conn).get_columns("person")]
        assert "partners" not in columns and "name" in columns
        assert conn.execute(sa.text("SELECT name FROM person")).scalar() == "Ann"
    sql_views.disable(db)


def test_merge_moves_multi_links_to_the_survivor_and_undo_moves_them_back(db):
    _svc, store, who, _field, (acme, globex, initech) = with_partners(db)
    with store.session(who, write=True) as s:
        ann = s.create("person", {"name": "Ann", "partners": [globex, initech, acme]})["id"]
        bob = s.create("person", {"name": "Bob", "partners": [globex]})["id"]
    with store.session(who, write=True) as s:
        merge(s, "organisation", acme, [globex], {})
        action = s.last.action_id
        with pytest.raises(ValidationError, match="links to several records"):
            find_duplicates(s, "person", [["partners"]])
    with store.session(who) as s:
        assert [r.id for r in s.get("person", ann)["partners"]] == [acme, initech]  # in Globex's place, once
        assert [r.id for r in s.get("person", bob)["partners"]] == [acme]
    with store.session(who, write=True) as s:
        s.undo(action)
    with store.session(who) as s:
        assert [r.id for r in s.get("person", ann)["partners"]] == [globex, initech, acme]
        assert [r.id for r in s.get("person", bob)["partners"]] == [globex]
