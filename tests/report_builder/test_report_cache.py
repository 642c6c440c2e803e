"""The report result cache (issue 15, point 10): a warm run reuses the figures, and a
write through any path -- the store's pipeline, bulk writes, imports, merges, undo,
backup restore, computed recomputation, schema and rights changes, exchange rates, raw
SQL, another process -- makes the next run compute them again. Viewers with different
rights never share an entry, filters are part of the key and hidden fields stay hidden.
On SQLite and PostgreSQL; no timing."""
from __future__ import annotations

import csv
from decimal import Decimal as D

import pytest
import sqlalchemy as sa

from cardbase.report_builder import result_cache
from cardbase.report_builder.definition import parse_definition
from cardbase.report_builder.figures import PerCurrency
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine import currencies, data_versions, rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.computed.jobs import resume_recompute_jobs
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore
from cardbase.transfer import backup, readers
from cardbase.transfer.importer import Importer, ImportSettings
from cardbase.transfer.merge import merge

from report_fixture import sales_crm

BY_STAGE = {"object": "deal", "rows": [{"field": "stage"}],
            "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}, {"op": "sum", "field": "probability"}]}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def run(store, document=BY_STAGE, actor=SYSTEM, **kw):
    with store.session(actor) as s:
        return run_report(s, parse_definition(document), **kw)


def figures(result):
    return result.row_keys, result.column_keys, result.cells, result.row_totals, result.total


def warm(store, document=BY_STAGE, actor=SYSTEM):
    """Run twice: the second run is served from the cache (the very same result)."""
    first = run(store, document, actor)
    again = run(store, document, actor)
    assert again is first
    return first


def assert_recomputed(store, before, document=BY_STAGE, actor=SYSTEM):
    """The next run is not the cached one and equals a run without the cache."""
    after = run(store, document, actor)
    assert after is not before
    assert figures(after) == figures(run(store, document, actor, cache=False))
    return after


def ids(crm):
    return crm.ids()


def test_warm_runs_are_served_from_the_cache_and_each_store_write_path_invalidates(crm):
    store = crm.store
    cache = result_cache.cache_for(crm.db)
    before = warm(store)
    assert cache.stats.hits >= 1 and before.total[0] == 7
    deal = ids(crm)

    def create(s):
        s.create("deal", {"title": "N", "stage": "lead", "probability": 5})

    def update(s):
        s.update("deal", deal["A"], {"probability": 11}, version=s.get("deal", deal["A"])["version"])

    def trash(s):
        s.delete("deal", deal["B"])

    def restore(s):
        s.restore("deal", deal["B"])

    def bulk_create(s):
        s.bulk_create("deal", [{"title": "X1", "stage": "won"}, {"title": "X2", "stage": "won"}])

    def bulk_write(s):
        s.bulk_write("deal", [{"id": deal[k], "version": s.get("deal", deal[k])["version"], "probability": p}
                              for k, p in (("C", 90), ("D", 80))])

    def bulk_delete(s):
        s.bulk_delete("deal", [(deal["E"], None)])

    def merged(s):
        merge(s, "deal", deal["F"], [deal["G"]])

    def purge(s):
        s.purge("deal", deal["E"])

    steps = [create, update, trash, restore, bulk_create, bulk_write, bulk_delete, merged, purge]
    for step in steps:
        with store.session(SYSTEM, write=True) as s:
            step(s)
        after = assert_recomputed(store, before)
        if step is not purge:  # purging a trashed record changes no figure, but a version
            assert figures(after) != figures(before), step.__name__
        before = warm(store)
    root = crm.actor("root")  # undo is of one's own actions
    with store.session(root, write=True) as s:
        s.update("deal", deal["A"], {"probability": 55}, version=s.get("deal", deal["A"])["version"])
    before = warm(store)
    with store.session(root, write=True) as s:  # undo the update
        s.undo(next(a["id"] for a in s.actions(5) if a["kind"] == "update"))
    after = assert_recomputed(store, before)
    assert figures(after) != figures(before)


def test_owner_share_and_group_changes_invalidate_what_depends_on_them(crm, db):
    store = crm.store
    deal = ids(crm)
    ann = crm.actor("ann")
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    before = warm(store, BY_STAGE, ann)
    assert before.total[0] == 4  # A, C, F, G
    with store.session(SYSTEM, write=True) as s:
        s.share("deal", deal["B"], user=ann.user_id, level="read")
    before = assert_recomputed(store, before, BY_STAGE, ann)
    assert before.total[0] == 5
    before = warm(store, BY_STAGE, ann)
    with store.session(SYSTEM, write=True) as s:
        s.set_owner("deal", deal["D"], ann.user_id)
    assert assert_recomputed(store, before, BY_STAGE, ann).total[0] == 6


def test_imports_invalidate(crm, tmp_path):
    store = crm.store
    before = warm(store)
    path = tmp_path / "deals.csv"
    with open(path, "w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows([["Title", "Stage"], ["I1", "won"], ["I2", "lost"]])
    settings = ImportSettings.from_json({"mapping": {"Title": "title", "Stage": "stage"}})
    Importer(store, SYSTEM, "deal", readers.open_sheet(str(path)), settings).run()
    after = assert_recomputed(store, before)
    assert after.total[0] == 9


def test_computed_fields_recomputed_invalidate_their_objects_reports(crm, db):
    store = crm.store
    svc = SchemaService(db)
    svc.add_field(SYSTEM, "organisation", {"name": "chance", "label": "Chance", "type": "rollup", "options": {
        "child": "deal", "link": "organisation", "field": "probability", "aggregate": "sum"}})
    svc.add_field(SYSTEM, "deal", {"name": "double", "label": "Double", "type": "formula",
                                   "options": {"formula": "[Probability] * 2", "scale": 0}})
    resume_recompute_jobs(db)
    orgs = {"object": "organisation", "measures": [{"op": "sum", "field": "chance"}]}
    before = warm(store, orgs)
    assert before.total == [D(10 + 20 + 100 + 100 + 50 + 40)]
    with store.session(SYSTEM, write=True) as s:  # the rollup on the organisation is recomputed
        s.update("deal", ids(crm)["A"], {"probability": 30}, version=s.get("deal", ids(crm)["A"])["version"])
    assert assert_recomputed(store, before, orgs).total == [D(340)]
    doubles = {"object": "deal", "measures": [{"op": "sum", "field": "double"}]}
    before = warm(store, doubles)
    assert before.total == [D(680)]
    svc.update_field(SYSTEM, "deal", "double", {"options": {"formula": "[Probability] * 3", "scale": 0}})
    resume_recompute_jobs(db)
    assert assert_recomputed(store, before, doubles).total == [D(1020)]


def test_schema_changes_rights_changes_and_rates_change_the_key(crm, db):
    store = crm.store
    cache = result_cache.cache_for(db)
    svc = SchemaService(db)
    changes = [
        lambda: svc.add_field(SYSTEM, "deal", {"name": "region", "label": "Region", "type": "string"}),
        lambda: svc.update_field(SYSTEM, "deal", "region", {"label": "Area"}),
        lambda: svc.remove_field(SYSTEM, "deal", "region"),
        lambda: rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read"]),
    ]
    for change in changes:
        before = warm(store)
        misses = cache.stats.misses
        change()
        assert_recomputed(store, before)
        assert cache.stats.misses > misses

    class Converting(PerCurrency):
        cache_key = "to EUR"

    with store.session(SYSTEM) as s:
        definition = parse_definition(BY_STAGE)
        key = result_cache.result_key(s, definition, None, Converting(), _prepared(s, definition))
    currencies.replace(db, SYSTEM, "EUR", [{"currency": "USD", "rate": "0.9", "valid_from": "2026-01-01"}])
    with store.session(SYSTEM) as s:
        assert result_cache.result_key(s, definition, None, Converting(), _prepared(s, definition)) != key
        assert result_cache.result_key(s, definition, None, object(), _prepared(s, definition)) is None  # type: ignore[arg-type]


def _prepared(s, definition):
    from cardbase.report_builder.runner import compile_report
    from cardbase.schema_engine.query.model import AggregateQuery
    obj, _rows, _columns, _measures, group_by, metrics = compile_report(s, definition)
    return s.prepare_aggregate(obj, AggregateQuery(group_by=group_by, metrics=metrics, filter=definition.filter))


def test_backup_restore_gives_the_restored_tables_fresh_versions(crm, db, make_database, engine_name, tmp_path):
    before = warm(crm.store)
    archive = tmp_path / "backup.zip"
    backup.backup(db, str(archive))
    target = Database(make_database(engine_name))
    try:
        backup.restore(target, str(archive))
        table = f"obj_{db.schema().object('deal').id}"
        with db.read() as conn:
            source_tokens = data_versions.read_tokens(conn) or {}
        with target.read() as conn:
            restored = data_versions.read_tokens(conn) or {}
        assert restored.get(table) and restored[table] != source_tokens[table]
        copy = RecordStore(target)
        assert figures(run(copy)) == figures(before)
    finally:
        target.dispose()


def test_raw_sql_writes_and_another_process_invalidate(crm, db, db_url):
    """A second Database on the same URL is another worker with its own cache."""
    other = Database(db_url)
    try:
        worker = RecordStore(other)
        before = warm(worker)
        with crm.store.session(SYSTEM, write=True) as s:  # written by "the first worker"
            s.create("deal", {"title": "W", "stage": "won"})
        before = assert_recomputed(worker, before)
        assert before.total[0] == 8
        before = warm(worker)
        table = db.schema().table(db.schema().object("deal"))
        with db.write() as conn:  # raw SQL (maintenance, bulk_sql): seen where it is sent
            conn.execute(sa.update(table).values(version=table.c.version + 1, deleted_at=sa.func.current_timestamp())
                         .where(table.c.code == "D-00001"))
        assert_recomputed(worker, before)
    finally:
        other.dispose()


def test_a_session_with_its_own_uncommitted_writes_sees_them(crm):
    store = crm.store
    warm(store)
    with store.session(SYSTEM, write=True) as s:
        assert run_report(s, parse_definition(BY_STAGE)).total[0] == 7
        s.create("deal", {"title": "Mine", "stage": "lead"})
        assert run_report(s, parse_definition(BY_STAGE)).total[0] == 8
    assert run(store).total[0] == 8


def test_viewers_with_different_rights_never_share_an_entry(crm, db):
    store = crm.store
    ann, bob = crm.actor("ann"), crm.actor("bob")
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    admin = warm(store, BY_STAGE, SYSTEM)
    mine = warm(store, BY_STAGE, ann)
    theirs = warm(store, BY_STAGE, bob)
    assert (admin.total[0], mine.total[0], theirs.total[0]) == (7, 4, 3)
    assert mine is not theirs and figures(mine) != figures(theirs)
    # the same filter with "me" is a different query for each viewer
    mine_filter = {"field": "owner", "op": "eq", "value": "me"}
    with store.session(ann) as s:
        a = run_report(s, parse_definition({**BY_STAGE, "filter": mine_filter}))
    with store.session(bob) as s:
        b = run_report(s, parse_definition({**BY_STAGE, "filter": mine_filter}))
    assert (a.total[0], b.total[0]) == (4, 3)


def test_filters_are_part_of_the_key(crm):
    store = crm.store
    plain = warm(store)
    with store.session(SYSTEM) as s:
        won = run_report(s, parse_definition(BY_STAGE), filter={"field": "stage", "op": "eq", "value": "won"})
        lead = run_report(s, parse_definition(BY_STAGE), filter={"field": "stage", "op": "eq", "value": "lead"})
    assert (plain.total[0], won.total[0], lead.total[0]) == (7, 2, 2)
    assert won.row_keys == [("won",)] and lead.row_keys == [("lead",)]
    assert won.filter != lead.filter


def test_hidden_fields_stay_hidden_after_a_warm_run(crm, db):
    store = crm.store
    ann = crm.actor("ann")
    by_probability = {"object": "deal", "rows": [{"field": "probability"}]}
    warm(store, by_probability, ann)
    warm(store, by_probability, SYSTEM)
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "probability", "hidden")
    with pytest.raises(ValidationError) as info:
        run(store, by_probability, ann)
    assert list(info.value.errors) == ["rows.0.field"]
    assert run(store, by_probability, SYSTEM).total == [7]  # the admin still may


def test_written_tables_are_found_in_any_write_statement():
    assert data_versions.written_tables("SELECT * FROM obj_3") == set()
    assert data_versions.written_tables("INSERT INTO obj_3 (a) VALUES (1)") == {"obj_3"}
    assert data_versions.written_tables("  UPDATE obj_12 SET x = (SELECT 1 FROM obj_4)") == {"obj_12", "obj_4"}
    assert data_versions.written_tables("DELETE FROM cb_share WHERE id = 1") == {"cb_share"}
    assert data_versions.written_tables("INSERT INTO _alembic_tmp_obj_7 SELECT * FROM obj_7") == {"obj_7"}
    assert data_versions.written_tables("WITH t AS (SELECT 1) UPDATE obj_2 SET a = 1") == {"obj_2"}
    assert data_versions.written_tables("INSERT INTO obj_5_fts (rowid) VALUES (1)") == set()
    assert data_versions.written_tables("INSERT INTO cb_history (x) VALUES (1)") == set()


def test_a_whole_table_report_scans_the_table_on_sqlite(crm, engine_name):
    """Cold path: with no filter every live row is read, so SQLite is told to scan the
    table (NOT INDEXED) rather than walk an index and look up each row; figures equal."""
    definition = parse_definition(BY_STAGE)
    with crm.store.session(SYSTEM) as s:
        whole = str(_prepared(s, definition).statement.compile(dialect=s.conn.dialect))
        narrowed = parse_definition({**BY_STAGE, "filter": {"field": "stage", "op": "eq", "value": "won"}})
        filtered = str(_prepared(s, narrowed).statement.compile(dialect=s.conn.dialect))
    assert ("NOT INDEXED" in whole) is (engine_name == "sqlite") and "NOT INDEXED" not in filtered
    assert run(crm.store, BY_STAGE, cache=False).total == [7, {"EUR": D("1450.50"), "USD": D("225.25")}, 320]


def test_relative_dates_follow_today(crm, monkeypatch):
    """"this month" is a different query on another day: a warm entry of yesterday's
    month is not served today."""
    from datetime import datetime, timezone

    from cardbase.schema_engine.query import relative
    this_month = {**BY_STAGE, "filter": {"field": "close_date", "op": "this_month"}}
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 4, 15, 12, tzinfo=timezone.utc))
    april = warm(crm.store, this_month)
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 5, 15, 12, tzinfo=timezone.utc))
    may = run(crm.store, this_month)
    assert (april.total[0], may.total[0]) == (2, 1)  # C and E closed in April, D in May


def test_a_multi_link_set_changed_invalidates_reports_filtering_by_it(crm, db):
    """A multi-link's values live in its junction table (lnk_<id>): a report filtering by
    it reads that table, and replacing a set bumps its version."""
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "partners", "label": "Partners", "type": "links",
                                                 "options": {"target": "organisation"}})
    deal = ids(crm)
    with crm.store.session(SYSTEM) as s:
        orgs = {r["name"]: r["id"] for r in s.list("organisation").data}
    with_acme = {**BY_STAGE, "filter": {"field": "partners", "op": "has_any", "value": [orgs["Acme"]]}}
    before = warm(crm.store, with_acme)
    assert before.total[0] == 0
    with crm.store.session(SYSTEM, write=True) as s:
        s.update("deal", deal["A"], {"partners": [orgs["Acme"]]}, version=s.get("deal", deal["A"])["version"])
    assert assert_recomputed(crm.store, before, with_acme).total[0] == 1
    assert data_versions.tracked("lnk_12") and not data_versions.tracked("lnk_x")


def test_purging_a_multi_link_target_cascades_and_invalidates(crm, db):
    """Purging a target deletes its junction rows by ON DELETE CASCADE (no statement names
    the junction table): the key holds the versions of the junction's source and target."""
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "partners", "label": "Partners", "type": "links",
                                                 "options": {"target": "organisation"}})
    deal = ids(crm)
    with crm.store.session(SYSTEM, write=True) as s:
        gamma = s.create("organisation", {"name": "Gamma"})["id"]
        s.update("deal", deal["A"], {"partners": [gamma]}, version=s.get("deal", deal["A"])["version"])
    linked = {**BY_STAGE, "filter": {"field": "partners", "op": "is_not_empty"}}
    before = warm(crm.store, linked)
    assert before.total[0] == 1
    with crm.store.session(SYSTEM, write=True) as s:
        s.delete("organisation", gamma)
    before = warm(crm.store, linked)
    with crm.store.session(SYSTEM, write=True) as s:
        s.purge("organisation", gamma)
    assert assert_recomputed(crm.store, before, linked).total[0] == 0
    with crm.store.session(SYSTEM) as s:
        behind = data_versions.tables_behind(s.schema, {f"lnk_{s.object('deal').field('partners').stored_id}",
                                                        "cb_share"})
    assert {f"obj_{db.schema().object('deal').id}", f"obj_{db.schema().object('organisation').id}", "cb_user",
            "cb_group"} <= behind
