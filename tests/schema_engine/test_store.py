"""The record store: validation, optimistic locking, history, trash, on-delete rules."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.errors import Conflict, InUse, NotFound, ValidationError
from cardbase.schema_engine.meta_models import HistoryEntry, OutboxEvent, User
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.validation import BulkValidationError
from cardbase.schema_engine.values import LinkRef

from crm_fixture import crm


def snapshot_rows(db):
    """All record rows, history and outbox: to show a refused write changed nothing."""
    with db.read() as conn:
        out = {}
        for obj in db.schema(conn).objects:
            out[obj.api_name] = conn.execute(sa.select(db.schema(conn).table(obj)).order_by(sa.text("id"))).all()
        out["history"] = conn.execute(sa.select(sa.func.count()).select_from(HistoryEntry)).scalar()
        out["outbox"] = conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar()
    return out


def test_create_assigns_code_version_and_system_fields(db):
    _, store = crm(db)
    a = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    b = store.create(SYSTEM, "organisation", {"name": "Globex"})
    assert (a["code"], b["code"]) == ("ORG-00001", "ORG-00002")
    assert a["version"] == 1 and a["created_at"] is not None and a["modified_at"] is not None
    assert a["name"] == "ACME" and a["city"] == "Berlin"


def test_validation_errors_name_every_field_and_write_nothing(db):
    _, store = crm(db)
    before = snapshot_rows(db)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": None, "amount": "lots", "colour": "red", "organisation": "x"})
    errors = err.value.errors
    assert errors["title"] == ["is required"]
    assert "amount" in errors and "colour" in errors and "organisation" in errors
    assert "not a field" in errors["colour"][0]
    assert snapshot_rows(db) == before


def test_system_fields_in_input_are_ignored(db):
    _, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "A", "id": 999, "version": 7, "code": "HACK"})
    assert rec["id"] != 999 and rec["version"] == 1 and rec["code"] == "ORG-00001"


def test_link_to_missing_or_trashed_record_is_refused(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "D", "organisation": 424242})
    assert "no 'Organisation' record with id 424242" in err.value.errors["organisation"][0]
    store.delete(SYSTEM, "organisation", org["id"])
    before = snapshot_rows(db)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "D", "organisation": org["id"]})
    assert "in the trash" in err.value.errors["organisation"][0]
    assert snapshot_rows(db) == before


def test_link_reads_as_id_and_display(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    deal = store.create(SYSTEM, "deal", {"title": "D", "organisation": org["id"], "amount": "12.5"})
    assert deal["organisation"] == LinkRef(org["id"], "ACME")
    assert deal["amount"] == Decimal("12.50")
    assert store.to_json("deal", deal)["organisation"] == {"id": org["id"], "display": "ACME"}
    assert store.to_json("deal", deal)["amount"] == "12.50"


def test_update_with_version_and_history(db):
    _, store = crm(db)
    user = Actor(user_id=None, username="system", is_admin=True)
    rec = store.create(user, "organisation", {"name": "ACME", "city": "Berlin"})
    rec2 = store.update(user, "organisation", rec["id"], {"city": "Hamburg"}, version=1)
    assert rec2["version"] == 2 and rec2["city"] == "Hamburg"
    hist = store.history(SYSTEM, "organisation", rec["id"])
    assert [h["action"] for h in hist] == ["update", "create"]
    change = hist[0]["changes"][0]
    assert (change["field"], change["label"], change["old"], change["new"]) == ("city", "City", "Berlin", "Hamburg")
    # an update that changes nothing does not bump the version
    assert store.update(user, "organisation", rec["id"], {"city": "Hamburg"}, version=2)["version"] == 2


def test_stale_version_is_a_conflict_with_current_record(db):
    _, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    store.update(SYSTEM, "organisation", rec["id"], {"city": "Hamburg"}, version=1)
    before = snapshot_rows(db)
    with pytest.raises(Conflict) as err:
        store.update(SYSTEM, "organisation", rec["id"], {"city": "Munich"}, version=1)
    assert err.value.current["city"] == "Hamburg" and err.value.current["version"] == 2
    assert snapshot_rows(db) == before
    with pytest.raises(ValidationError) as err:
        store.update(SYSTEM, "organisation", rec["id"], {"city": "Munich"}, version=None)
    assert "version" in err.value.errors


def test_concurrent_updates_one_wins_other_conflicts(db):
    _, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "ACME"})
    results = []

    def edit(city):
        try:
            store.update(SYSTEM, "organisation", rec["id"], {"city": city}, version=1)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=edit, args=(c,)) for c in ("A", "B", "C", "D")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "conflict", "conflict", "ok"]
    assert store.get(SYSTEM, "organisation", rec["id"])["version"] == 2


def test_unique_violation_is_a_field_error(db):
    _, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "A", "vat": "DE1"})
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "organisation", {"name": "B", "vat": "DE1"})
    assert "vat" in err.value.errors and "ORG-00001" in err.value.errors["vat"][0]
    b = store.create(SYSTEM, "organisation", {"name": "B", "vat": "DE2"})
    with pytest.raises(ValidationError) as err:
        store.update(SYSTEM, "organisation", b["id"], {"vat": "DE1"}, version=1)
    assert "vat" in err.value.errors


def test_delete_restore_purge(db):
    _, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "ACME"})
    store.delete(SYSTEM, "organisation", rec["id"])
    with pytest.raises(NotFound):
        store.get(SYSTEM, "organisation", rec["id"])
    assert store.get(SYSTEM, "organisation", rec["id"], trash=True)["name"] == "ACME"
    assert [r["id"] for r in store.list(SYSTEM, "organisation", ListQuery(trash=True)).data] == [rec["id"]]
    assert store.list(SYSTEM, "organisation").data == []
    back = store.restore(SYSTEM, "organisation", rec["id"])
    assert back["name"] == "ACME" and back["version"] == 3
    store.delete(SYSTEM, "organisation", rec["id"])
    store.purge(SYSTEM, "organisation", rec["id"])
    with pytest.raises(NotFound):
        store.get(SYSTEM, "organisation", rec["id"], trash=True)

    with db.read() as conn:
        acts = conn.execute(sa.select(HistoryEntry.action).where(HistoryEntry.record_id == rec["id"],
                                                                HistoryEntry.object_id == 1)
                            .order_by(HistoryEntry.id)).scalars().all()
    assert acts == ["create", "delete", "restore", "delete", "purge"]


def test_on_delete_restrict_refuses_and_changes_nothing(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    deal = store.create(SYSTEM, "deal", {"title": "Big", "organisation": org["id"]})
    before = snapshot_rows(db)
    with pytest.raises(InUse) as err:
        store.delete(SYSTEM, "organisation", org["id"])
    assert deal["code"] in err.value.usages[0]
    assert snapshot_rows(db) == before


def test_on_delete_cascade_trashes_children_and_restore_brings_them_back(db):
    svc, store = crm(db)
    svc.update_field(SYSTEM, "deal", "organisation", {"options": {"target": "organisation", "on_delete": "set_null"}})
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    c1 = store.create(SYSTEM, "contact", {"name": "Ann", "organisation": org["id"]})
    c2 = store.create(SYSTEM, "contact", {"name": "Bob", "organisation": org["id"]})
    other = store.create(SYSTEM, "contact", {"name": "Eve"})
    store.delete(SYSTEM, "organisation", org["id"])
    assert [r["name"] for r in store.list(SYSTEM, "contact").data] == ["Eve"]
    assert {r["id"] for r in store.list(SYSTEM, "contact", ListQuery(trash=True)).data} == {c1["id"], c2["id"]}
    store.restore(SYSTEM, "organisation", org["id"])
    live = store.list(SYSTEM, "contact", ListQuery(sort="name")).data
    assert [r["name"] for r in live] == ["Ann", "Bob", "Eve"]
    assert live[0]["organisation"].id == org["id"]
    assert other["id"] in {r["id"] for r in live}


def test_on_delete_set_null_unlinks_and_restore_relinks(db):
    svc, store = crm(db)
    svc.update_field(SYSTEM, "deal", "organisation", {"options": {"target": "organisation", "on_delete": "set_null"}})
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    deal = store.create(SYSTEM, "deal", {"title": "Big", "organisation": org["id"]})
    store.delete(SYSTEM, "organisation", org["id"])
    d = store.get(SYSTEM, "deal", deal["id"])
    assert d["organisation"] is None and d["version"] == 2
    assert store.history(SYSTEM, "deal", deal["id"])[0]["action"] == "unlink"
    store.restore(SYSTEM, "organisation", org["id"])
    assert store.get(SYSTEM, "deal", deal["id"])["organisation"].id == org["id"]


def test_restore_child_of_trashed_parent_is_refused(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    c = store.create(SYSTEM, "contact", {"name": "Ann", "organisation": org["id"]})
    store.delete(SYSTEM, "contact", c["id"])
    store.delete(SYSTEM, "organisation", org["id"])
    with pytest.raises(ValidationError) as err:
        store.restore(SYSTEM, "contact", c["id"])
    assert "restore it first" in err.value.errors["organisation"][0]


def test_purge_cascades_within_batch(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    c = store.create(SYSTEM, "contact", {"name": "Ann", "organisation": org["id"]})
    store.delete(SYSTEM, "organisation", org["id"])
    store.purge(SYSTEM, "organisation", org["id"])
    with pytest.raises(NotFound):
        store.get(SYSTEM, "contact", c["id"], trash=True)


def test_bulk_create_all_or_nothing_with_row_errors(db):
    _, store = crm(db)
    before = snapshot_rows(db)
    with pytest.raises(BulkValidationError) as err:
        store.bulk_create(SYSTEM, "organisation", [{"name": "A", "vat": "X"}, {"name": None},
                                                   {"name": "C", "vat": "X"}])
    assert set(err.value.rows) == {1, 2}
    assert "name" in err.value.rows[1] and "vat" in err.value.rows[2]
    assert snapshot_rows(db) == before
    ids = store.bulk_create(SYSTEM, "organisation", [{"name": f"Org {i}"} for i in range(250)])
    assert len(ids) == 250
    assert store.count(SYSTEM, "organisation") == (250, False)


def test_writes_emit_outbox_events(db):
    _, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "ACME"})
    store.update(SYSTEM, "organisation", rec["id"], {"name": "ACME AG"}, version=1)
    store.delete(SYSTEM, "organisation", rec["id"])
    with db.read() as conn:
        topics = conn.execute(sa.select(OutboxEvent.topic).order_by(OutboxEvent.id)).scalars().all()
    assert topics == ["record.created", "record.updated", "record.deleted"]


@pytest.mark.parametrize("engine_name", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_code_numbers_do_not_serialise_writers_on_postgresql(db):
    """Two open transactions both take code numbers; neither waits for the other.
    (SQLite has one writer at a time by design, so there is nothing to show there.)"""
    from cardbase.schema_engine import naming, sequences

    crm(db)
    name = naming.sequence_name("code", 1)
    c1 = db.engine.connect()
    c2 = db.engine.connect()
    try:
        t1, t2 = c1.begin(), c2.begin()
        c2.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
        a = sequences.next_values(c1, name, 1)
        b = sequences.next_values(c2, name, 1)  # would time out if it waited for c1
        assert a != b
        t1.rollback()
        t2.rollback()
    finally:
        c1.close()
        c2.close()


def test_search_finds_created_and_updated_records(db):
    _, store = crm(db)
    a = store.create(SYSTEM, "organisation", {"name": "Müller Logistik", "city": "Berlin"})
    store.create(SYSTEM, "organisation", {"name": "Schmidt GmbH", "city": "Hamburg"})
    assert [r["id"] for r in store.list(SYSTEM, "organisation", ListQuery(search="logist berl")).data] == [a["id"]]
    store.update(SYSTEM, "organisation", a["id"], {"city": "Köln"}, version=1)
    assert store.list(SYSTEM, "organisation", ListQuery(search="berlin")).data == []
    assert [r["code"] for r in store.list(SYSTEM, "organisation", ListQuery(search="ORG-00002")).data] == ["ORG-00002"]


def test_parent_sees_children_as_child_list(db):
    _, store = crm(db)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    other = store.create(SYSTEM, "organisation", {"name": "Other"})
    for name in ("Ann", "Bob"):
        store.create(SYSTEM, "contact", {"name": name, "organisation": org["id"]})
    store.create(SYSTEM, "contact", {"name": "Eve", "organisation": other["id"]})
    page = store.children(SYSTEM, "organisation", org["id"], "contact", query=ListQuery(sort="name"))
    assert [r["name"] for r in page.data] == ["Ann", "Bob"] and page.count == 2
    filtered = store.children(SYSTEM, "organisation", org["id"], "contact",
                              query=ListQuery(filter={"field": "name", "op": "eq", "value": "Bob"}))
    assert [r["name"] for r in filtered.data] == ["Bob"]
    with pytest.raises(NotFound):
        store.children(SYSTEM, "organisation", 999, "contact")


def test_planner_statistics_refresh_runs(db):
    _, store = crm(db)
    store.bulk_create(SYSTEM, "organisation", [{"name": f"Org {i}"} for i in range(50)])
    db.optimize()  # PRAGMA optimize on SQLite, ANALYZE on PostgreSQL; must not fail in either
    assert store.count(SYSTEM, "organisation") == (50, False)


ALL_TYPES = [
    # (type, options, good value, wrong-typed values)
    ("string", {"length": 10}, "hello", [{"a": 1}, ["x"], "x" * 11, "two\nlines"]),
    ("text", {}, "long\ntext", [{"a": 1}, ["x"]]),
    ("integer", {}, 42, ["abc", 1.5, "12.5", True, {"a": 1}]),
    ("decimal", {"precision": 6, "scale": 2}, "12.50", ["abc", "NaN", "Infinity", "123456789", True, [1]]),
    ("money", {"currency": "EUR", "currency_mode": "per_record"}, {"amount": "9.99", "currency": "USD"},
     ["abc", {"amount": "x"}, {"amount": "1", "currency": "XXXX"}, True]),
    ("boolean", {}, True, ["maybe", 2, [True], {"a": 1}]),
    ("date", {}, "2026-11-22", ["2026-13-01", "tomorrow", 5, [2026]]),
    ("datetime", {}, "2026-11-22T10:00:00Z", ["noon", "2026-11-22T25:00", 5]),
    ("choice", {"choices": [{"value": "a"}, {"value": "b"}]}, "a", ["c", 1, ["a"]]),
    ("multi_choice", {"choices": [{"value": "a"}, {"value": "b"}]}, ["a", "b"], [["c"], "zzz", 5, {"a": 1}]),
    ("email", {}, "ann@example.com", ["not-an-email", "a@", 5]),
    ("phone", {}, "+49 30 1234567", ["12", "phone me", "+49 0", True]),
    ("url", {}, "https://example.com", ["javascript:alert(1)", "ftp://x", 5]),
    ("link", {"target": "organisation"}, None, ["abc", 1.5, {"x": 1}, -1]),
    ("user", {}, None, ["abc", {"x": 1}, 999999]),
]


@pytest.mark.parametrize("ftype,options,good,bad_values", ALL_TYPES, ids=[t[0] for t in ALL_TYPES])
def test_wrong_typed_value_for_every_field_type(db, ftype, options, good, bad_values):
    svc, store = crm(db)
    svc.add_field(SYSTEM, "deal", {"name": "probe", "label": "Probe", "type": ftype, "options": options})
    if ftype == "link":
        good = store.create(SYSTEM, "organisation", {"name": "Target"})["id"]
    if ftype == "user":
        with db.write() as conn:
            good = conn.execute(sa.insert(User).values(username="ann", display_name="Ann")
                                .returning(User.id)).scalar_one()
    rec = store.create(SYSTEM, "deal", {"title": "ok", "probe": good})
    assert rec["probe"] is not None
    before = snapshot_rows(db)
    for bad in bad_values:
        with pytest.raises(ValidationError) as err:
            store.create(SYSTEM, "deal", {"title": "bad", "probe": bad})
        assert list(err.value.errors) == ["probe"], (bad, err.value.errors)
        assert err.value.errors["probe"][0], bad
        with pytest.raises(ValidationError) as err:
            store.update(SYSTEM, "deal", rec["id"], {"probe": bad}, version=rec["version"])
        assert list(err.value.errors) == ["probe"], bad
    assert snapshot_rows(db) == before


def test_history_leaves_out_updates_of_hidden_fields_only(db):
    """Issue 19, point 12: an update that changed only fields hidden from the reader was
    shown to them as an entry with ``changes: []`` (telling when a hidden field changed)."""
    from cardbase.schema_engine import rights

    from test_rights import World

    w = World(db)
    ann = w.member("ann", "Sales")
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "edit", "delete"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    large = w.deals["large"]
    v = w.store.get(SYSTEM, "deal", large)["version"]
    w.store.update(SYSTEM, "deal", large, {"amount": "600000"}, version=v)  # hidden only
    w.store.update(SYSTEM, "deal", large, {"amount": "700000", "title": "Larger"}, version=v + 1)  # mixed
    w.store.delete(SYSTEM, "deal", large)
    w.store.restore(SYSTEM, "deal", large)
    full = w.store.history(SYSTEM, "deal", large)
    mine = w.store.history(ann, "deal", large)
    assert [e["action"] for e in full] == ["restore", "delete", "update", "update", "create"]
    assert [e["action"] for e in mine] == ["restore", "delete", "update", "create"]
    assert [c["field"] for c in mine[2]["changes"]] == ["title"]
    assert all(e["changes"] or e["action"] in ("create", "delete", "restore") for e in mine)
    assert all(c["field"] != "amount" for e in mine for c in e["changes"])
    with w.store.session(ann) as s:  # the session's history is the same
        assert [e["id"] for e in s.history("deal", large)] == [e["id"] for e in mine]
