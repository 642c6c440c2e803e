"""Objects and fields at run time: DDL atomic with metadata, refusals that name the problem."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import physical
from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.drift import check_drift
from cardbase.schema_engine.errors import ConversionRefused, Forbidden, InUse, SchemaError
from cardbase.schema_engine.meta_models import SavedView
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

from crm_fixture import crm


def columns(db, table):
    with db.read() as conn:
        return {c["name"] for c in sa.inspect(conn).get_columns(table)}


def tables(db):
    with db.read() as conn:
        return set(sa.inspect(conn).get_table_names())


def meta_dump(db):
    """Everything the metadata says, to compare before/after a failed change."""
    with db.read() as conn:
        objs = conn.execute(sa.text("SELECT * FROM cb_object ORDER BY id")).all()
        fields = conn.execute(sa.text("SELECT * FROM cb_field ORDER BY id")).all()
        version = conn.execute(sa.text("SELECT schema_version FROM cb_meta_state")).scalar()
    return objs, fields, version


def test_create_object_makes_table_with_system_columns(db):
    svc = SchemaService(db)
    obj = svc.create_object(SYSTEM, {"label": "Client", "label_plural": "Clients",
                                     "fields": [{"label": "Company name", "type": "string"}]})
    assert obj.api_name == "client"
    assert obj.field("company_name").type == "string"
    cols = columns(db, obj.table_name)
    assert {"id", "code", "version", "created_at", "created_by", "modified_at", "modified_by",
            "owner_id", "deleted_at"} <= cols
    assert obj.field("company_name").column in cols
    assert check_drift(db) == []


def test_rename_object_and_field_is_metadata_only(db):
    svc, store = crm(db)
    rec = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    before_tables = tables(db)
    org = db.schema().object("organisation")
    svc.update_object(SYSTEM, "organisation", {"name": "company", "label": "Company", "label_plural": "Companies"})
    svc.update_field(SYSTEM, "company", "city", {"name": "town", "label": "Town"})
    assert tables(db) == before_tables
    schema = db.schema()
    assert schema.object("company").id == org.id
    assert store.get(SYSTEM, "company", rec["id"])["town"] == "Berlin"
    # links keep working: the contact's link targets the object by id
    store.create(SYSTEM, "contact", {"name": "Ann", "organisation": rec["id"]})
    assert check_drift(db) == []


def test_add_and_remove_field(db):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "ACME"})
    f = svc.add_field(SYSTEM, "organisation", {"name": "rating", "label": "Rating", "type": "integer", "default": 3})
    assert f.column in columns(db, "obj_%d" % f.object_id)
    # the default fills existing records
    page = store.list(SYSTEM, "organisation")
    assert page.data[0]["rating"] == 3
    svc.remove_field(SYSTEM, "organisation", "rating")
    assert f.column not in columns(db, "obj_%d" % f.object_id)
    assert check_drift(db) == []


def test_delete_object_drops_table(db):
    svc, store = crm(db)
    svc.create_object(SYSTEM, {"name": "note", "label": "Note", "label_plural": "Notes",
                               "fields": [{"name": "text", "label": "Text", "type": "text"}]})
    table = db.schema().object("note").table_name
    store.create(SYSTEM, "note", {"text": "hello"})
    svc.delete_object(SYSTEM, "note")
    assert table not in tables(db)
    assert not db.schema().has_object("note")
    assert check_drift(db) == []


@pytest.mark.parametrize("step", ["_create_field_indexes", "create_sequence"])
def test_failed_add_field_leaves_metadata_and_tables_as_before(db, monkeypatch, step):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "ACME"})
    before = meta_dump(db), columns(db, "obj_1")

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(physical.PhysicalSchema, step, boom)
    spec = {"name": "due", "label": "Due", "type": "date"} if step == "_create_field_indexes" else \
        {"name": "number", "label": "Number", "type": "autonumber", "options": {"pattern": "N-{000}"}}
    with pytest.raises(RuntimeError):
        svc.add_field(SYSTEM, "organisation", spec)
    assert (meta_dump(db), columns(db, "obj_1")) == before
    monkeypatch.undo()
    assert check_drift(db) == []


def test_failed_create_object_leaves_nothing(db, monkeypatch):
    svc = SchemaService(db)
    before_tables, before_meta = tables(db), meta_dump(db)

    def boom(*a, **k):
        raise RuntimeError("no search for you")

    monkeypatch.setattr(physical.PhysicalSchema, "create_search_index", boom)
    with pytest.raises(RuntimeError):
        svc.create_object(SYSTEM, {"name": "thing", "label": "Thing", "label_plural": "Things",
                                   "fields": [{"name": "a", "label": "A", "type": "string"}]})
    assert tables(db) == before_tables
    assert meta_dump(db) == before_meta


def test_failed_type_change_rolls_back_columns(db, monkeypatch):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "ACME", "city": "12"})
    before = meta_dump(db), columns(db, "obj_1")

    def boom(*a, **k):
        raise RuntimeError("rename failed")

    monkeypatch.setattr(physical.PhysicalSchema, "rename_field_columns", boom)
    with pytest.raises(RuntimeError):
        svc.update_field(SYSTEM, "organisation", "city", {"type": "integer"})
    assert (meta_dump(db), columns(db, "obj_1")) == before
    monkeypatch.undo()
    assert store.get(SYSTEM, "organisation", 1)["city"] == "12"


def test_type_change_converts_when_safe(db):
    svc, store = crm(db)
    for city in ("12", "7", None):
        store.create(SYSTEM, "organisation", {"name": f"Org {city}", "city": city})
    svc.update_field(SYSTEM, "organisation", "city", {"type": "integer"})
    values = sorted((r["city"] for r in store.list(SYSTEM, "organisation").data), key=lambda v: (v is None, v))
    assert values == [7, 12, None]
    assert check_drift(db) == []
    # and back to text
    svc.update_field(SYSTEM, "organisation", "city", {"type": "string", "options": {"length": 50}})
    assert {r["city"] for r in store.list(SYSTEM, "organisation").data} == {"12", "7", None}


def test_type_change_refused_lists_records(db):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "A", "city": "12"})
    bad = store.create(SYSTEM, "organisation", {"name": "B", "city": "Berlin"})
    before = meta_dump(db)
    with pytest.raises(ConversionRefused) as err:
        svc.update_field(SYSTEM, "organisation", "city", {"type": "integer"})
    assert err.value.total == 2
    assert [f["code"] for f in err.value.failures] == [bad["code"]]
    assert err.value.failures[0]["value"] == "Berlin"
    assert meta_dump(db) == before
    preview = svc.preview_type_change("organisation", "city", {"type": "integer"})
    assert preview["total"] == 2 and len(preview["failures"]) == 1


def test_shrinking_string_length_checks_values(db):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "A", "city": "Frankfurt am Main"})
    with pytest.raises(ConversionRefused):
        svc.update_field(SYSTEM, "organisation", "city", {"options": {"length": 5}})
    svc.update_field(SYSTEM, "organisation", "city", {"options": {"length": 40}})
    assert db.schema().object("organisation").field("city").options["length"] == 40
    assert check_drift(db) == []


def test_removing_used_field_is_refused_with_usages(db):
    svc, store = crm(db)
    city = db.schema().object("organisation").field("city")
    with db.write() as conn:
        conn.execute(sa.insert(SavedView).values(
            object_id=city.object_id, name="Berlin clients", shared=True,
            definition={"filter": {"field": f"#{city.id}", "op": "eq", "value": "Berlin"}}))
    svc.update_object(SYSTEM, "organisation", {"display_field": "name"})
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "organisation", "city")
    assert "view 'Berlin clients' uses it" in err.value.usages
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "organisation", "name")
    assert any("display field" in u for u in err.value.usages)
    assert "city" in {f.api_name for f in db.schema().object("organisation").fields}


def test_removing_field_placed_on_a_card_is_refused(db):
    from cardbase.schema_engine.meta_models import CardLayout

    svc, _ = crm(db)
    org = db.schema().object("organisation")
    with db.write() as conn:
        conn.execute(sa.insert(CardLayout).values(
            object_id=org.id, name="Quick entry", is_default=True,
            layout={"sections": [{"title": "Main", "fields": [f"#{org.field('vat').id}"]}]}))
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "organisation", "vat")
    assert err.value.usages == ["card 'Quick entry' uses it"]


def test_removing_link_used_in_a_view_path_is_refused(db):
    svc, _ = crm(db)
    deal = db.schema().object("deal")
    link, city = deal.field("organisation"), db.schema().object("organisation").field("city")
    with db.write() as conn:
        conn.execute(sa.insert(SavedView).values(
            object_id=deal.id, name="Berlin deals", shared=True,
            definition={"filter": {"field": f"#{link.id}.#{city.id}", "op": "eq", "value": "Berlin"}}))
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "deal", "organisation")
    assert "view 'Berlin deals' uses it" in err.value.usages


def test_deleting_linked_object_is_refused(db):
    svc, _ = crm(db)
    with pytest.raises(InUse) as err:
        svc.delete_object(SYSTEM, "organisation")
    assert any("Contact person.Organisation" in u for u in err.value.usages)
    assert any("Deal.Organisation" in u for u in err.value.usages)
    assert db.schema().has_object("organisation")


BAD_NAMES = [
    ("name", "x; DROP TABLE cb_user; --"),
    ("name", "O'Reilly"),
    ("name", "größe"),
    ("name", "deal_🚀"),
    ("name", "a" * 500),
    ("name", "Select"),
    ("name", "1st_place"),
    ("label", "x" * 500),
    ("label", ""),
    ("label", "tab\there"),
]


@pytest.mark.parametrize("key,value", BAD_NAMES)
def test_bad_object_names_are_refused_and_change_nothing(db, key, value):
    svc = SchemaService(db)
    before = meta_dump(db), tables(db)
    spec = {"name": "thing", "label": "Thing", "label_plural": "Things", key: value}
    with pytest.raises(SchemaError) as err:
        svc.create_object(SYSTEM, spec)
    assert key in err.value.errors
    assert (meta_dump(db), tables(db)) == before


@pytest.mark.parametrize("key,value", BAD_NAMES + [("name", "id"), ("name", "created_at"), ("type", "nonsense"),
                                                   ("type", "created_at")])
def test_bad_field_names_are_refused_and_change_nothing(db, key, value):
    svc, _ = crm(db)
    before = meta_dump(db), columns(db, "obj_1")
    spec = {"name": "extra", "label": "Extra", "type": "string", key: value}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", spec)
    assert key in err.value.errors
    assert (meta_dump(db), columns(db, "obj_1")) == before


def test_labels_may_hold_sql_quotes_unicode_and_emoji(db):
    svc = SchemaService(db)
    label = "Kunde'); DROP TABLE cb_object; -- «Größe» 🚀"
    obj = svc.create_object(SYSTEM, {"name": "kunde", "label": label, "label_plural": label + "s",
                                     "fields": [{"name": "select", "label": "\"order\" by 🚀", "type": "string"}]})
    assert db.schema().object("kunde").label == label
    store = RecordStore(db)
    rec = store.create(SYSTEM, "kunde", {"select": "it's fine"})
    assert rec["select"] == "it's fine"
    assert obj.table_name == f"obj_{obj.id}"


def test_reserved_words_as_api_names_work(db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
        {"name": "select", "label": "Select", "type": "string"},
        {"name": "from", "label": "From", "type": "date"},
        {"name": "table", "label": "Table", "type": "integer"}]})
    store = RecordStore(db)
    rec = store.create(SYSTEM, "order", {"select": "x", "from": "2026-01-02", "table": 4})
    assert rec["table"] == 4


@pytest.mark.parametrize("spec,key", [
    ({"name": "name", "label": "Other", "type": "string"}, "name"),
    ({"name": "other", "label": "name", "type": "string"}, "label"),
])
def test_duplicate_field_names_are_refused(db, spec, key):
    svc, _ = crm(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", spec)
    assert key in err.value.errors


def test_duplicate_object_names_are_refused(db):
    svc, _ = crm(db)
    with pytest.raises(SchemaError) as err:
        svc.create_object(SYSTEM, {"name": "organisation", "label": "Another", "label_plural": "Others"})
    assert "name" in err.value.errors
    with pytest.raises(SchemaError) as err:
        svc.create_object(SYSTEM, {"name": "another", "label": "ORGANISATION", "label_plural": "Others"})
    assert "label" in err.value.errors


def test_bad_options_name_the_option(db):
    svc, _ = crm(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", {"name": "x", "label": "X", "type": "link",
                                               "options": {"target": "nowhere"}})
    assert "options.target" in err.value.errors
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", {"name": "x", "label": "X", "type": "string",
                                               "options": {"length": -3}})
    assert "options.length" in err.value.errors
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", {"name": "x", "label": "X", "type": "integer", "default": "abc"})
    assert "default" in err.value.errors


def test_non_admin_cannot_change_configuration(db):
    svc = SchemaService(db)
    with pytest.raises(Forbidden):
        svc.create_object(Actor(user_id=5, username="bob"), {"name": "x", "label": "X", "label_plural": "Xs"})


def test_unique_flag_checks_existing_duplicates(db):
    svc, store = crm(db)
    store.create(SYSTEM, "organisation", {"name": "A", "city": "Berlin"})
    store.create(SYSTEM, "organisation", {"name": "B", "city": "Berlin"})
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "organisation", "city", {"unique": True})
    assert "Berlin" in str(err.value)


def test_drift_check_finds_hand_made_changes(db):
    svc, store = crm(db)
    org = db.schema().object("organisation")
    city = org.field("city")
    with db.write() as conn:
        conn.execute(sa.text(f"ALTER TABLE {org.table_name} DROP COLUMN {city.column}"))
        conn.execute(sa.text(f"ALTER TABLE {org.table_name} ADD COLUMN stray INTEGER"))
    problems = check_drift(db)
    assert any(city.column in p and "missing" in p for p in problems)
    assert any("stray" in p for p in problems)


def test_schema_version_reloads_other_workers(db, tmp_path):
    from cardbase.schema_engine.db import Database

    other = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        svc = SchemaService(db)
        assert other.schema().objects == ()
        svc.create_object(SYSTEM, {"name": "x", "label": "X", "label_plural": "Xs"})
        assert [o.api_name for o in other.schema().objects] == ["x"]
    finally:
        other.dispose()


def test_a_batch_belongs_to_the_thread_that_opened_it(db):
    """One SchemaService serves every request of a threaded worker: a change made by
    another thread while a solution import's batch is open must not join that batch
    (and must not roll back with it)."""
    import threading

    svc = SchemaService(db)
    inside, done = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def other_request() -> None:
        inside.wait(10)
        try:
            outcome["batch"] = svc._batch
            svc.create_object(SYSTEM, {"name": "note", "label": "Note", "label_plural": "Notes",
                                       "fields": [{"name": "text", "label": "Text", "type": "string"}]})
            outcome["created"] = True
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=other_request)
    worker.start()
    with pytest.raises(RuntimeError, match="import failed"):
        with svc.batch(SYSTEM):
            svc.create_object(SYSTEM, {"name": "ticket", "label": "Ticket", "label_plural": "Tickets",
                                       "fields": [{"name": "title", "label": "Title", "type": "string"}]})
            inside.set()
            # the other change waits for the schema-version lock this batch holds (both engines)
            assert not done.wait(0.5)
            raise RuntimeError("import failed")
    worker.join(30)
    assert outcome.get("batch") is None and outcome.get("created") is True, outcome
    schema = db.schema()
    assert schema.has_object("note") and not schema.has_object("ticket")
