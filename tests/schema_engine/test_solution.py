"""Solution export/import: round trip, field order, and bad documents changing nothing."""
from __future__ import annotations

import copy

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.meta_models import CardLayout
from cardbase.schema_engine.solution import FORMAT, export_solution, import_solution

from crm_fixture import crm


def strip(doc):
    doc = copy.deepcopy(doc)
    doc.pop("exported_at")
    return doc


def test_round_trip_into_new_instance_keeps_everything(db, make_database, engine_name):
    svc, _ = crm(db)
    org = db.schema().object("organisation")
    with db.write() as conn:
        conn.execute(sa.insert(CardLayout).values(
            object_id=org.id, name="Full", is_default=True,
            layout={"sections": [{"title": "Main", "fields": [f"#{org.field('name').id}", f"#{org.field('city').id}"]}]}))
    exported = export_solution(db)
    assert exported["format"] == FORMAT and exported["format_version"] == 1
    assert exported["cards"][0]["layout"]["sections"][0]["fields"] == ["@organisation.name", "@organisation.city"]
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        report = import_solution(other, exported)
        assert "object organisation" in report["added"]
        assert strip(export_solution(other)) == strip(exported)
        # importing again changes nothing
        assert import_solution(other, exported) == {"added": [], "changed": []}
    finally:
        other.dispose()


def test_import_keeps_field_order_with_links(db):
    doc = {"format": FORMAT, "format_version": 1, "objects": [
        {"name": "a", "label": "A", "label_plural": "As", "fields": [
            {"name": "first", "label": "First", "type": "string"},
            {"name": "parent", "label": "Parent", "type": "link", "options": {"target": "a"}},
            {"name": "last", "label": "Last", "type": "integer"}]}]}
    import_solution(db, doc)
    assert [f.api_name for f in db.schema().object("a").user_fields] == ["first", "parent", "last"]


def test_import_updates_changed_labels(db):
    crm(db)
    doc = export_solution(db)
    doc["objects"][0]["label"] = "Company"
    doc["objects"][0]["fields"][1]["label"] = "Town"
    report = import_solution(db, doc)
    assert any("object organisation" in c for c in report["changed"])
    assert db.schema().object("organisation").field("city").label == "Town"


@pytest.mark.parametrize("mutate,key", [
    (lambda d: d.update(format="other"), "format"),
    (lambda d: d.update(format_version=99), "format_version"),
    (lambda d: d.update(objects="nope"), "objects"),
    (lambda d: d["objects"].append(1), "objects[3]"),
    (lambda d: d["objects"][0].update(name=["x"]), "objects[0].name"),
    (lambda d: d["objects"][0].update(fields="abc"), "objects[0].fields"),
    (lambda d: d["objects"][0]["fields"].append(1), "objects[0].fields[3]"),
    (lambda d: d["objects"][0]["fields"].append({"name": "bad", "label": "Bad", "type": "nonsense"}), "type"),
    (lambda d: d["objects"].append({"name": "z", "label": "Z", "label_plural": "Zs",
                                    "fields": [{"name": "l", "label": "L", "type": "link",
                                                "options": {"target": "missing"}}]}), "options.target"),
])
def test_bad_documents_change_nothing(db, mutate, key):
    crm(db)
    doc = export_solution(db)
    doc["objects"][0]["label"] = "Changed first"  # a valid change that must roll back too
    mutate(doc)
    before = strip(export_solution(db))
    with db.read() as conn:
        version = conn.execute(sa.text("SELECT schema_version FROM cb_meta_state")).scalar()
    with pytest.raises(SchemaError) as err:
        import_solution(db, doc)
    assert key in err.value.errors
    assert strip(export_solution(db)) == before
    with db.read() as conn:
        assert conn.execute(sa.text("SELECT schema_version FROM cb_meta_state")).scalar() == version


def _generated(n):
    objects = []
    for i in range(n):
        fields = [{"name": f"f{j}", "label": f"F{j}", "type": "string" if j % 2 else "integer"} for j in range(6)]
        if i:
            fields.append({"name": "parent", "label": "Parent", "type": "link", "options": {"target": f"o{i - 1}"}})
        objects.append({"name": f"o{i}", "label": f"O{i}", "label_plural": f"Os{i}", "display_field": "f1",
                        "fields": fields})
    return {"format": FORMAT, "format_version": 1, "objects": objects}


def test_import_work_grows_linearly_with_the_document(make_database, engine_name, monkeypatch):
    """Issue 19/10: the schema snapshot was rebuilt in full after every change of an import
    (time quadratic in the number of objects). Tables built per object stay flat."""
    from cardbase.schema_engine import snapshot

    built = []
    real = snapshot.build_table
    monkeypatch.setattr(snapshot, "build_table", lambda *a, **kw: built.append(1) or real(*a, **kw))
    per_object = {}
    for n in (4, 12):
        other = Database(make_database(engine_name))
        try:
            other.create_system_tables()
            built.clear()
            import_solution(other, _generated(n))
            per_object[n] = len(built) / n
            assert [o.api_name for o in other.schema().objects] == [f"o{i}" for i in range(n)]
            assert other.schema().object(f"o{n - 1}").field("parent").options["target"] == other.schema().object(
                f"o{n - 2}").id
        finally:
            other.dispose()
    assert per_object[12] <= per_object[4] * 1.5, per_object


def _state(db):
    with db.read() as conn:
        tables = sorted(sa.inspect(conn).get_table_names())
        version = conn.execute(sa.text("SELECT schema_version FROM cb_meta_state WHERE id = 1")).scalar_one()
        rows = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in ("cb_object", "cb_field", "cb_card", "cb_translation", "cb_config_log")}
    return tables, version, rows


def test_dry_run_refuses_what_the_import_refuses_with_the_same_message(db):
    crm(db)
    doc = export_solution(db)
    doc["objects"].append({"name": "ticket", "label": "Ticket", "label_plural": "Tickets", "fields": [
        {"name": "subject", "label": "Subject", "type": "string"},
        {"name": "Bad Name", "label": "Bad", "type": "string"}]})
    before = _state(db)
    with pytest.raises(SchemaError) as dry:
        import_solution(db, doc, dry_run=True)
    assert _state(db) == before
    with pytest.raises(SchemaError) as real:
        import_solution(db, doc)
    assert dry.value.errors == real.value.errors and "Bad Name" in str(dry.value.errors)
    assert _state(db) == before


def test_dry_run_reports_and_leaves_nothing_behind(db):
    crm(db)
    doc = export_solution(db)
    doc["objects"].append({"name": "ticket", "label": "Ticket", "label_plural": "Tickets", "fields": [
        {"name": "subject", "label": "Subject", "type": "string"},
        {"name": "org", "label": "Organisation", "type": "link", "options": {"target": "organisation"}}]})
    doc["cards"].append({"object": "ticket", "name": "Main", "is_default": True,
                         "layout": {"sections": [{"title": "Main", "fields": ["@ticket.subject"]}]}})
    before = _state(db)
    report = import_solution(db, doc, dry_run=True)
    assert "object ticket" in report["added"] and "field ticket.org" in report["added"]
    assert _state(db) == before
    assert not db.schema().has_object("ticket")
    assert import_solution(db, doc) == report
    assert db.schema().object("ticket").has_field("org")
