"""Many-to-many links (issue 14, point 10): a field holding several records of another
object, its values in a junction table of its own. Bad input: a link to a deleted (trashed)
or invisible record, or to one that does not exist, is refused naming the field and the id,
and nothing is written."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine import naming
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.drift import check_drift
from cardbase.schema_engine.errors import InUse, SchemaError, ValidationError
from cardbase.schema_engine.layouts.tables import save_view
from cardbase.schema_engine.meta_models import HistoryEntry, OutboxEvent
from cardbase.schema_engine.query.match import compile_match
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine import rights
from cardbase.schema_engine.rights.scopes import set_record_scope
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.store.validation import BulkValidationError
from cardbase.schema_engine.values import LinkRef

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join
from sql_recorder import recorded


def with_tags(db):
    """The CRM plus a Tag object and Deal.tags, a multi-link to tags; three tags."""
    svc, store = crm(db)
    svc.create_object(SYSTEM, {"name": "tag", "label": "Tag", "label_plural": "Tags", "code_pattern": "TAG-{000}",
                               "fields": [{"name": "name", "label": "Name", "type": "string", "required": True}]})
    field = svc.add_field(SYSTEM, "deal", {"name": "tags", "label": "Tags", "type": "links",
                                           "options": {"target": "tag"}})
    tags = [store.create(SYSTEM, "tag", {"name": n})["id"] for n in ("red", "green", "blue")]
    return svc, store, field, tags


def junction_rows(db, field):
    with db.read() as conn:
        return conn.execute(sa.text(f"SELECT source_id, target_id, position FROM {naming.links_table_name(field.id)} "
                                    "ORDER BY source_id, position")).all()


def counts(db, field):
    with db.read() as conn:
        return (len(junction_rows(db, field)),
                conn.execute(sa.select(sa.func.count()).select_from(HistoryEntry)).scalar(),
                conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar())


def test_field_has_no_column_but_a_junction_table_and_drift_knows_it(db):
    _svc, _store, field, _tags = with_tags(db)
    with db.read() as conn:
        insp = sa.inspect(conn)
        deal_columns = {c["name"] for c in insp.get_columns(db.schema(conn).object("deal").table_name)}
        name = naming.links_table_name(field.id)
        assert name in insp.get_table_names()
        assert {c["name"] for c in insp.get_columns(name)} == {"source_id", "target_id", "position"}
        assert f"ix_{name}_target" in {i["name"] for i in insp.get_indexes(name)}
    assert field.column_names == () and field.column not in deal_columns
    assert check_drift(db) == []
    with db.write() as conn:
        conn.execute(sa.text(f"DROP TABLE {name}"))
    assert any(f"junction table {name}" in p and "missing" in p for p in check_drift(db))


def test_write_and_read_sets_in_their_order(db):
    _svc, store, _field, (red, green, blue) = with_tags(db)
    deal = store.create(SYSTEM, "deal", {"title": "D", "tags": [blue, str(red), {"id": green}]})
    assert deal["tags"] == [LinkRef(blue, "blue"), LinkRef(red, "red"), LinkRef(green, "green")]
    assert store.to_json("deal", deal)["tags"] == [{"id": blue, "display": "blue"}, {"id": red, "display": "red"},
                                                   {"id": green, "display": "green"}]
    deal = store.update(SYSTEM, "deal", deal["id"], {"tags": [green]}, version=1)
    assert deal["tags"] == [LinkRef(green, "green")] and deal["version"] == 2
    deal = store.update(SYSTEM, "deal", deal["id"], {"tags": []}, version=2)
    assert deal["tags"] is None
    deal = store.update(SYSTEM, "deal", deal["id"], {"tags": [red, red, green]}, version=3)
    assert [t.id for t in deal["tags"]] == [red, green]  # each once
    same = store.update(SYSTEM, "deal", deal["id"], {"tags": [red, green]}, version=4)
    assert same["version"] == 4  # the same set is no change


def test_a_page_reads_its_links_with_one_query_per_field(db):
    _svc, store, _field, tags = with_tags(db)
    ids = store.bulk_create(SYSTEM, "deal", [{"title": f"D{i}", "tags": tags[: i % 4]} for i in range(30)])
    assert len(ids) == 30
    with recorded(db.engine) as seen:
        page = store.list(SYSTEM, "deal", ListQuery(limit=30, sort=["id"]))
    junction = naming.links_table_name(_field.id)
    assert sum(junction in s for s in seen) == 1
    assert [len(r["tags"] or []) for r in page.data] == [i % 4 for i in range(30)]


def test_trashed_target_is_refused_and_skipped_when_read(db):
    _svc, store, field, (red, green, _blue) = with_tags(db)
    deal = store.create(SYSTEM, "deal", {"title": "D", "tags": [red, green]})
    store.delete(SYSTEM, "tag", green)
    assert store.get(SYSTEM, "deal", deal["id"])["tags"] == [LinkRef(red, "red")]
    before = counts(db, field)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "E", "tags": [red, green]})
    assert err.value.errors["tags"] == ["'Tag' record TAG-002 is in the trash"]
    assert counts(db, field) == before
    store.restore(SYSTEM, "tag", green)  # the link comes back with its target
    assert [t.id for t in store.get(SYSTEM, "deal", deal["id"])["tags"]] == [red, green]


def test_nonexistent_target_is_refused_naming_the_first_bad_id(db):
    _svc, store, field, (red, _green, _blue) = with_tags(db)
    deal = store.create(SYSTEM, "deal", {"title": "D", "tags": [red]})
    before = counts(db, field)
    with pytest.raises(ValidationError) as err:
        store.update(SYSTEM, "deal", deal["id"], {"tags": [red, 424242, 525252]}, version=1)
    assert err.value.errors["tags"] == ["there is no 'Tag' record with id 424242"]
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "E", "tags": ["x"]})
    assert "must be the id of a linked record" in err.value.errors["tags"][0]
    with pytest.raises(BulkValidationError) as err:  # all or nothing
        store.bulk_create(SYSTEM, "deal", [{"title": "ok", "tags": [red]}, {"title": "bad", "tags": [999999]}])
    assert err.value.rows == {1: {"tags": ["there is no 'Tag' record with id 999999"]}}
    assert counts(db, field) == before


def test_invisible_target_is_refused_like_a_missing_one(db):
    svc, store, field, (red, green, _blue) = with_tags(db)
    root = actor(db, add_user(db, "root", admin=True))
    junior = add_user(db, "junior")
    join(db, junior, add_group(db, "Juniors"))
    for name in ("deal", "tag"):
        rights.set_object_rights(db, root, "Juniors", name, ["read", "create", "edit"])
    rights.save_rule_view(db, root, "Juniors", "tag", "Red only", {"field": "name", "op": "eq", "value": "red"})
    set_record_scope(db, root, "Juniors", "tag", "rule_views")  # the junior's row scope on tags
    who = actor(db, junior)
    before = counts(db, field)
    with pytest.raises(ValidationError) as err:
        store.create(who, "deal", {"title": "D", "tags": [red, green]})
    assert err.value.errors["tags"] == [f"there is no 'Tag' record with id {green}"]
    assert counts(db, field) == before
    deal = store.create(who, "deal", {"title": "D", "tags": [red]})
    assert deal["tags"] == [LinkRef(red, "red")]
    # A link the admin made to a record the junior cannot see reads as restricted, and
    # sending the set back unchanged (plus a visible one) is allowed.
    other = store.create(SYSTEM, "deal", {"title": "E", "tags": [green]})
    seen = store.get(who, "deal", other["id"])
    assert seen["tags"] == [LinkRef(green, None, restricted=True)]
    with store.session(who, write=True) as tx:
        kept = tx.update("deal", other["id"], {"tags": [green, red]}, version=1)
        action = tx.last.action_id
    assert [t.id for t in kept["tags"]] == [green, red]
    change = store.history(who, "deal", other["id"])[0]["changes"][0]  # as the junior saw it: green restricted
    assert change["old"] == [{"id": green, "display": None, "restricted": True}]
    with store.session(who, write=True) as tx:
        tx.undo(action)
    assert [t.id for t in store.get(SYSTEM, "deal", other["id"])["tags"]] == [green]


def test_filters_has_any_has_all_has_none_and_empty(db):
    _svc, store, _field, (red, green, blue) = with_tags(db)
    a = store.create(SYSTEM, "deal", {"title": "A", "tags": [red, green]})["id"]
    b = store.create(SYSTEM, "deal", {"title": "B", "tags": [green]})["id"]
    c = store.create(SYSTEM, "deal", {"title": "C"})["id"]

    def ids(op, value=None):
        cond = {"field": "tags", "op": op, **({"value": value} if value is not None else {})}
        return sorted(r["id"] for r in store.list(SYSTEM, "deal", ListQuery(filter=cond)).data)

    assert ids("has_any", [red, blue]) == [a]
    assert ids("has_any", [green]) == [a, b]
    assert ids("has_all", [red, green]) == [a]
    assert ids("has_none", [red]) == [b, c]
    assert ids("is_empty") == [c]
    assert ids("is_not_empty") == [a, b]
    store.delete(SYSTEM, "tag", green)  # a trashed target does not count
    assert ids("is_empty") == [b, c]
    with pytest.raises(ValidationError) as err:
        ids("eq", [red])
    assert "operator 'eq' is not supported by a links field" in str(err.value.errors)
    with pytest.raises(ValidationError) as err:
        ids("has_any", [])
    assert "needs a list of record ids" in str(err.value.errors)


def test_history_names_the_targets_and_undo_restores_the_set(db):
    _svc, store, _field, (red, green, blue) = with_tags(db)
    root = actor(db, add_user(db, "root", admin=True))
    deal = store.create(root, "deal", {"title": "D", "tags": [red, green]})
    with store.session(root, write=True) as tx:
        tx.update("deal", deal["id"], {"tags": [blue]}, version=1)
        action = tx.last.action_id
    history = store.history(SYSTEM, "deal", deal["id"])
    change = next(c for c in history[0]["changes"] if c["field"] == "tags")
    assert change["old"] == [{"id": red, "display": "red"}, {"id": green, "display": "green"}]
    assert change["new"] == [{"id": blue, "display": "blue"}]
    created = next(c for c in history[-1]["changes"] if c["field"] == "tags")
    assert created["new"] == [{"id": red, "display": "red"}, {"id": green, "display": "green"}]
    with db.read() as conn:
        payload = conn.execute(sa.select(OutboxEvent.payload).order_by(OutboxEvent.id.desc())).scalars().first()
    assert payload["fields"] == ["tags"]
    with store.session(root, write=True) as tx:
        tx.undo(action)
    assert [t.id for t in store.get(SYSTEM, "deal", deal["id"])["tags"]] == [red, green]


def test_drop_field_drops_the_junction_table_and_purge_removes_rows(db):
    svc, store, field, (red, green, _blue) = with_tags(db)
    deal = store.create(SYSTEM, "deal", {"title": "D", "tags": [red, green]})
    store.delete(SYSTEM, "tag", red)
    store.purge(SYSTEM, "tag", red)  # hard delete: its junction rows go with it
    assert [(r.source_id, r.target_id) for r in junction_rows(db, field)] == [(deal["id"], green)]
    with pytest.raises(InUse) as err:  # a multi-link still points at tags
        svc.delete_object(SYSTEM, "tag")
    assert "multi-link field 'Deal.Tags' points to it" in str(err.value.usages)
    svc.remove_field(SYSTEM, "deal", "tags")
    with db.read() as conn:
        assert naming.links_table_name(field.id) not in sa.inspect(conn).get_table_names()
    assert check_drift(db) == []
    svc.delete_object(SYSTEM, "tag")
    assert check_drift(db) == []


def test_schema_changes_refused_for_multi_links(db):
    svc, _store, _field, _tags = with_tags(db)
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "tags", {"type": "string"})
    assert "multi-link field cannot change its type" in str(err.value.errors)
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "tags", {"options": {"target": "organisation"}})
    assert "cannot link to another object" in str(err.value.errors)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "more", "label": "More", "type": "links", "options": {}})
    assert "options.target" in err.value.errors
    svc.update_field(SYSTEM, "deal", "tags", {"options": {"target": "tag", "max_links": 2}, "label": "Labels"})


def test_max_links_and_required_are_enforced(db):
    svc, store, _field, tags = with_tags(db)
    svc.update_field(SYSTEM, "deal", "tags", {"options": {"target": "tag", "max_links": 2}})
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "D", "tags": tags})
    assert err.value.errors["tags"] == ["holds at most 2 records, got 3"]
    svc.update_field(SYSTEM, "deal", "tags", {"required": True})
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "D", "tags": []})
    assert err.value.errors["tags"] == ["is required"]


def test_a_failed_schema_change_leaves_no_junction_table(db):
    svc, _store, _field, _tags = with_tags(db)
    with db.read() as conn:
        before = set(sa.inspect(conn).get_table_names())
    with pytest.raises(SchemaError):
        svc.create_object(SYSTEM, {"name": "project", "label": "Project", "fields": [
            {"name": "tags", "label": "Tags", "type": "links", "options": {"target": "tag"}},
            {"name": "bad", "label": "Bad", "type": "no_such_type"}]})
    with db.read() as conn:
        assert set(sa.inspect(conn).get_table_names()) == before
    assert check_drift(db) == []


def test_formulas_reports_and_sorting_refuse_it_clearly(db):
    svc, store, _field, tags = with_tags(db)
    store.create(SYSTEM, "deal", {"title": "D", "tags": tags})
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "n", "label": "N", "type": "formula", "options": {"formula": "[Tags]"}})
    assert "[Tags] links to several records, which a formula cannot calculate with" in str(err.value.errors)
    with pytest.raises(ValidationError) as err:
        store.aggregate(SYSTEM, "deal", AggregateQuery(group_by=["tags"]))
    assert "'tags': a multi-link field holds several records, so records cannot be grouped by it" \
        in err.value.errors["group_by"]
    with pytest.raises(ValidationError) as err:
        store.aggregate(SYSTEM, "deal", AggregateQuery(metrics=[{"op": "count", "field": "tags"}]))
    assert "metrics" in err.value.errors
    with pytest.raises(ValidationError) as err:
        store.list(SYSTEM, "deal", ListQuery(sort=["tags"]))
    assert "'tags': a links field cannot be sorted" in err.value.errors["sort"]
    with pytest.raises(ValidationError) as err:  # paths do not cross it
        store.list(SYSTEM, "deal", ListQuery(fields=["tags.name"]))
    assert "is not a link" in str(err.value.errors)


def test_solution_export_and_import_carry_the_field(db, make_database, engine_name):
    _svc, _store, _field, _tags = with_tags(db)
    exported = export_solution(db)
    deal = next(o for o in exported["objects"] if o["name"] == "deal")
    assert {"name": "tags", "label": "Tags", "type": "links", "options": {"target": "tag"}}.items() <= \
        next(f for f in deal["fields"] if f["name"] == "tags").items()
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        import_solution(other, exported)  # the deal comes before its target tag in the document
        field = other.schema().object("deal").field("tags")
        assert field.type == "links" and other.schema().link_target(field).api_name == "tag"
        assert check_drift(other) == []
        tag = RecordStore(other).create(SYSTEM, "tag", {"name": "red"})
        deal = RecordStore(other).create(SYSTEM, "deal", {"title": "D", "tags": [tag["id"]]})
        assert deal["tags"] == [LinkRef(tag["id"], "red")]
    finally:
        other.dispose()


def test_saved_views_and_rule_views_filter_by_it(db):
    _svc, store, _field, (red, green, _blue) = with_tags(db)
    root = actor(db, add_user(db, "root", admin=True))
    hot = store.create(SYSTEM, "deal", {"title": "Hot", "tags": [red, green]})["id"]
    store.create(SYSTEM, "deal", {"title": "Cold", "tags": [green]})
    tree = {"field": "tags", "op": "has_any", "value": [red]}
    view = save_view(db, root, "deal", "Red deals", {"columns": [{"field": "title"}, {"field": "tags"}],
                                                     "filter": tree})
    assert view["definition"]["filter"] == tree
    page = store.list(root, "deal", ListQuery(filter=view["definition"]["filter"],
                                              fields=[c["field"] for c in view["definition"]["columns"]]))
    assert [(r["title"], [t.id for t in r["tags"]]) for r in page.data] == [("Hot", [red, green])]
    junior = add_user(db, "junior")
    join(db, junior, add_group(db, "Juniors"))
    rights.set_object_rights(db, root, "Juniors", "deal", ["read"])
    rights.set_object_rights(db, root, "Juniors", "tag", ["read"])
    rights.save_rule_view(db, root, "Juniors", "deal", "Red ones", tree)
    set_record_scope(db, root, "Juniors", "deal", "rule_views")
    assert [r["id"] for r in store.list(actor(db, junior), "deal").data] == [hot]


def test_field_rights_apply_and_deleting_the_source_object_drops_its_junction_tables(db):
    svc, store, field, (red, _green, _blue) = with_tags(db)
    root = actor(db, add_user(db, "root", admin=True))
    deal = store.create(SYSTEM, "deal", {"title": "D", "tags": [red]})
    junior = add_user(db, "junior")
    join(db, junior, add_group(db, "Juniors"))
    for name in ("deal", "tag"):
        rights.set_object_rights(db, root, "Juniors", name, ["read", "create", "edit"])
    rights.set_field_right(db, root, "Juniors", "deal", "tags", "hidden")
    who = actor(db, junior)
    assert "tags" not in store.get(who, "deal", deal["id"])
    with pytest.raises(ValidationError) as err:
        store.update(who, "deal", deal["id"], {"tags": []}, version=1)
    assert err.value.errors["tags"] == ["is not a field of 'deal'"]
    rights.set_field_right(db, root, "Juniors", "deal", "tags", "read_only")
    assert store.get(who, "deal", deal["id"])["tags"] == [LinkRef(red, "red")]
    with pytest.raises(ValidationError) as err:
        store.update(who, "deal", deal["id"], {"tags": []}, version=1)
    assert err.value.errors["tags"] == ["is read-only for you"]
    assert [t.id for t in store.get(SYSTEM, "deal", deal["id"])["tags"]] == [red]
    svc.delete_object(SYSTEM, "deal")
    with db.read() as conn:
        assert naming.links_table_name(field.id) not in sa.inspect(conn).get_table_names()
    assert check_drift(db) == []


def test_the_python_twin_of_the_filters_agrees_with_the_sql(db):
    """Automation and webhook conditions match a record in Python (query/match.py)."""
    _svc, store, _field, (red, green, blue) = with_tags(db)
    records = [store.create(SYSTEM, "deal", {"title": t, "tags": tags})
               for t, tags in (("A", [red, green]), ("B", [green]), ("C", None))]
    schema = db.schema()
    deal = schema.object("deal")
    for tree in ({"field": "tags", "op": "has_any", "value": [red, blue]},
                 {"field": "tags", "op": "has_all", "value": [red, green]},
                 {"field": "tags", "op": "has_none", "value": [red]},
                 {"field": "tags", "op": "is_empty"}, {"not": {"field": "tags", "op": "is_not_empty"}}):
        matcher = compile_match(schema, deal, tree)
        in_python = sorted(r["id"] for r in records if matcher.matches(r))
        in_sql = sorted(r["id"] for r in store.list(SYSTEM, "deal", ListQuery(filter=tree)).data)
        assert in_python == in_sql, tree


def test_lookups_and_rollups_refuse_it_clearly(db):
    svc, _store, _field, _tags = with_tags(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", {"name": "deal_tags", "label": "Deal tags", "type": "rollup", "options": {
            "child": "deal", "link": "organisation", "field": "tags", "aggregate": "concat"}})
    assert "'Tags' links to several records" in err.value.errors["options.field"][0]
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "tag_names", "label": "Tag names", "type": "lookup",
                                       "options": {"link": "tags", "field": "name"}})
    assert "'Tags' is not a link field" in err.value.errors["options.link"][0]


def test_readers_share_one_junction_table_per_field_so_statements_are_cached():
    """Building a new Table per page made SQLAlchemy compile the page's link query anew
    every time (a third of a single-record GET); with DDL's own metadata it stays separate."""
    import types

    import sqlalchemy as sa

    from cardbase.schema_engine.field_types.links import junction_table

    field = types.SimpleNamespace(stored_id=987_654)
    assert junction_table(field) is junction_table(field)
    assert [c.name for c in junction_table(field).c] == ["source_id", "target_id", "position"]
    ddl = junction_table(field, sa.MetaData())
    assert ddl is not junction_table(field) and ddl.name == junction_table(field).name
