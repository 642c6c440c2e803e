"""Rollups and lookups stay current: a change of a child (add, edit, trash, restore, move
to another parent) updates its parents' rollups and what depends on those, up the chain;
a change of a linked record updates the lookups that read it. Set-based: bulk-creating
many lines costs a fixed number of statements, not one per line."""
from __future__ import annotations

import threading
import time
from datetime import date

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.field_types.base import FieldContext
from cardbase.schema_engine.meta_models import OutboxEvent

from computed_fixture import add_revenue, d, order_book, value
from sql_recorder import recorded


def total(store, order) -> object:
    return value(store, "order", order["id"], "total")


def test_total_follows_lines_added_edited_trashed_and_restored(db):
    _, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    assert order["total"] == d("0.00")
    a = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2.50", "quantity": 4})
    b = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "1.00", "quantity": 5})
    assert total(store, order) == d("15.00")
    store.update(SYSTEM, "order_line", b["id"], {"quantity": 1}, version=b["version"])
    assert total(store, order) == d("11.00")
    store.delete(SYSTEM, "order_line", a["id"])
    assert total(store, order) == d("1.00")
    store.restore(SYSTEM, "order_line", a["id"])
    assert total(store, order) == d("11.00")
    store.delete(SYSTEM, "order_line", b["id"])
    store.purge(SYSTEM, "order_line", b["id"])
    assert total(store, order) == d("10.00")


def test_moving_a_line_updates_the_old_and_the_new_order(db):
    _, store = order_book(db)
    first = store.create(SYSTEM, "order", {"title": "A"})
    second = store.create(SYSTEM, "order", {"title": "B"})
    line = store.create(SYSTEM, "order_line", {"order": first["id"], "price": "3", "quantity": 3})
    store.create(SYSTEM, "order_line", {"order": first["id"], "price": "1", "quantity": 1})
    assert (total(store, first), total(store, second)) == (d("10.00"), d("0.00"))
    line = store.update(SYSTEM, "order_line", line["id"], {"order": second["id"]}, version=line["version"])
    assert (total(store, first), total(store, second)) == (d("1.00"), d("9.00"))
    store.update(SYSTEM, "order_line", line["id"], {"order": None}, version=line["version"])
    assert (total(store, first), total(store, second)) == (d("1.00"), d("0.00"))


def test_changes_travel_up_the_chain(db):
    svc, store = order_book(db)
    add_revenue(svc)
    acme = store.create(SYSTEM, "organisation", {"name": "ACME"})
    globex = store.create(SYSTEM, "organisation", {"name": "Globex"})
    o1 = store.create(SYSTEM, "order", {"title": "O1", "customer": acme["id"]})
    o2 = store.create(SYSTEM, "order", {"title": "O2", "customer": acme["id"]})
    store.bulk_create(SYSTEM, "order_line", [
        {"order": o1["id"], "price": "10", "quantity": 1},
        {"order": o2["id"], "price": "20", "quantity": 2},
        {"order": o2["id"], "price": "1", "quantity": 1}])
    revenue = lambda org: value(store, "organisation", org["id"], "revenue")  # noqa: E731
    assert (revenue(acme), revenue(globex)) == (d("51.00"), d("0.00"))
    o2 = store.update(SYSTEM, "order", o2["id"], {"customer": globex["id"]}, version=o2["version"])
    assert (revenue(acme), revenue(globex)) == (d("10.00"), d("41.00"))
    store.delete(SYSTEM, "order", o2["id"])  # cascades to its lines
    assert (revenue(acme), revenue(globex)) == (d("10.00"), d("0.00"))
    store.restore(SYSTEM, "order", o2["id"])  # brings the lines back too
    assert (revenue(acme), revenue(globex)) == (d("10.00"), d("41.00"))


def test_recomputed_parents_get_an_outbox_event(db):
    _, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    store.create(SYSTEM, "order_line", {"order": order["id"], "price": "1", "quantity": 1})
    with db.read() as conn:
        events = conn.execute(sa.select(OutboxEvent.topic, OutboxEvent.record_id, OutboxEvent.payload)
                              .where(OutboxEvent.topic == "record.recomputed")).all()
    assert [(e.record_id, e.payload["fields"]) for e in events] == [(order["id"], ["total"])]


def test_lookups_follow_their_source(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "order_line", {"name": "customer_city", "label": "Customer city", "type": "formula",
                                        "options": {"formula": "[Order].[Customer].[City]"}})
    acme = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    globex = store.create(SYSTEM, "organisation", {"name": "Globex", "city": "Paris"})
    ann = store.create(SYSTEM, "contact", {"name": "Ann", "organisation": acme["id"]})
    bob = store.create(SYSTEM, "contact", {"name": "Bob"})
    order = store.create(SYSTEM, "order", {"title": "O", "customer": acme["id"]})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "1", "quantity": 1})
    assert (ann["city"], bob["city"], line["customer_city"]) == ("Berlin", None, "Berlin")
    store.update(SYSTEM, "organisation", acme["id"], {"city": "Hamburg"}, version=acme["version"])
    assert value(store, "contact", ann["id"], "city") == "Hamburg"
    assert value(store, "order_line", line["id"], "customer_city") == "Hamburg"  # two links away
    ann = store.update(SYSTEM, "contact", ann["id"], {"organisation": globex["id"]}, version=ann["version"])
    assert ann["city"] == "Paris"
    store.update(SYSTEM, "order", order["id"], {"customer": globex["id"]}, version=order["version"])
    assert value(store, "order_line", line["id"], "customer_city") == "Paris"
    store.update(SYSTEM, "contact", bob["id"], {"organisation": acme["id"]}, version=bob["version"])
    assert value(store, "contact", bob["id"], "city") == "Hamburg"


def test_a_lookup_has_the_type_of_its_source(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "organisation", {"name": "budget", "label": "Budget", "type": "money",
                                          "options": {"currency": "EUR", "currency_mode": "per_record"}})
    svc.add_field(SYSTEM, "order", {"name": "budget", "label": "Budget", "type": "lookup",
                                   "options": {"link": "customer", "field": "budget"}})
    svc.add_field(SYSTEM, "order_line", {"name": "order_status", "label": "Order status", "type": "lookup",
                                        "options": {"link": "Order", "field": "Status"}})  # labels work too
    org = store.create(SYSTEM, "organisation", {"name": "ACME", "budget": {"amount": "1000", "currency": "USD"}})
    order = store.create(SYSTEM, "order", {"title": "O", "customer": org["id"], "status": "open"})
    line = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "1", "quantity": 1})
    schema = db.schema()
    budget = schema.object("order").field("budget")
    assert budget.ftype.operators == schema.object("organisation").field("budget").ftype.operators
    assert budget.column_names == (budget.column, f"{budget.column}_currency")
    assert store.to_json("order", store.get(SYSTEM, "order", order["id"]))["budget"] == {
        "amount": "1000.00", "currency": "USD"}
    status = schema.object("order_line").field("order_status")
    assert status.ftype.format(status, value(store, "order_line", line["id"], "order_status")) == "Open"
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "contact", {"name": "x", "label": "X", "type": "lookup",
                                         "options": {"link": "name", "field": "city"}})
    assert err.value.errors["options.link"] == ["'Name' is not a link field"]


def test_a_rollup_may_have_a_condition(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "organisation", {"name": "open_total", "label": "Open total", "type": "rollup", "options": {
        "child": "Orders", "link": "customer", "field": "total", "aggregate": "sum",
        "filter": {"field": "status", "op": "eq", "value": "open"}}})
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    o1 = store.create(SYSTEM, "order", {"title": "O1", "customer": org["id"], "status": "open"})
    o2 = store.create(SYSTEM, "order", {"title": "O2", "customer": org["id"], "status": "closed"})
    store.bulk_create(SYSTEM, "order_line", [{"order": o1["id"], "price": "5", "quantity": 1},
                                             {"order": o2["id"], "price": "7", "quantity": 1}])
    open_total = lambda: value(store, "organisation", org["id"], "open_total")  # noqa: E731
    assert open_total() == d("5.00")
    store.update(SYSTEM, "order", o2["id"], {"status": "open"}, version=o2["version"])
    assert open_total() == d("12.00")
    schema = db.schema()
    status_id = schema.object("order").field("status").id
    stored = schema.object("organisation").field("open_total").options
    assert stored["filter"] == {"field": f"#{status_id}", "op": "eq", "value": "open"}
    svc.update_field(SYSTEM, "order", "status", {"name": "state", "label": "State"})  # rename: still works
    o1 = store.get(SYSTEM, "order", o1["id"])
    store.update(SYSTEM, "order", o1["id"], {"state": "closed"}, version=o1["version"])
    assert open_total() == d("7.00")
    schema = db.schema()
    org_obj = schema.object("organisation")
    f = org_obj.field("open_total")
    assert f.ftype.export_options(f.options, FieldContext(schema, org_obj, f.id)) == {
        "child": "order", "link": "customer", "field": "total", "aggregate": "sum",
        "filter": {"field": "state", "op": "eq", "value": "open"}}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "organisation", {"name": "bad", "label": "Bad", "type": "rollup", "options": {
            "child": "order", "aggregate": "count", "filter": {"field": "state", "op": "gt", "value": "x"}}})
    assert "operator 'gt' is not supported" in err.value.errors["options.filter"][0]


def test_every_aggregate(db):
    svc, store = order_book(db)
    svc.add_field(SYSTEM, "order_line", {"name": "delivery", "label": "Delivery", "type": "date"})
    figures = {
        "lines": {"aggregate": "count"},
        "named_lines": {"aggregate": "count", "field": "product"},
        "pieces": {"aggregate": "sum", "field": "quantity"},
        "average_price": {"aggregate": "avg", "field": "price"},
        "cheapest": {"aggregate": "min", "field": "price"},
        "dearest": {"aggregate": "max", "field": "price"},
        "first_delivery": {"aggregate": "min", "field": "delivery"},
        "last_delivery": {"aggregate": "max", "field": "delivery"},
        "products": {"aggregate": "concat", "field": "product"},
    }
    for name, options in figures.items():
        svc.add_field(SYSTEM, "order", {"name": name, "label": name.replace("_", " ").title(), "type": "rollup",
                                       "options": {"child": "order_line", **options}})
    order = store.create(SYSTEM, "order", {"title": "O"})
    assert {k: order[k] for k in figures} == {
        "lines": 0, "named_lines": 0, "pieces": 0, "average_price": None, "cheapest": None, "dearest": None,
        "first_delivery": None, "last_delivery": None, "products": None}
    store.bulk_create(SYSTEM, "order_line", [
        {"order": order["id"], "product": "Bolt", "price": "1.00", "quantity": 10, "delivery": "2026-03-01"},
        {"order": order["id"], "product": "Nut", "price": "0.10", "quantity": 5, "delivery": "2026-01-15"},
        {"order": order["id"], "price": "2.00", "quantity": 1}])
    order = store.get(SYSTEM, "order", order["id"])
    assert {k: order[k] for k in figures} == {
        "lines": 3, "named_lines": 2, "pieces": 16, "average_price": d("1.0333"), "cheapest": d("0.10"),
        "dearest": d("2.00"), "first_delivery": date(2026, 1, 15), "last_delivery": date(2026, 3, 1),
        "products": "Bolt, Nut"}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "order", {"name": "x", "label": "X", "type": "rollup",
                                       "options": {"child": "order_line", "aggregate": "sum", "field": "product"}})
    assert err.value.errors["options.field"] == ["'Product' is a string field; sum needs a number field"]


def count_statements(db, action) -> int:
    with recorded(db.engine) as statements:
        action()
    return len(statements)


def test_bulk_create_costs_the_same_statements_for_10_or_100_lines(db):
    svc, store = order_book(db)
    add_revenue(svc)
    org = store.create(SYSTEM, "organisation", {"name": "ACME"})
    orders = [store.create(SYSTEM, "order", {"title": f"O{i}", "customer": org["id"]})["id"] for i in range(5)]
    store.get(SYSTEM, "order", orders[0])  # warm the schema cache

    def lines(n):
        return [{"order": orders[i % 5], "price": "1.50", "quantity": i} for i in range(n)]

    few = count_statements(db, lambda: store.bulk_create(SYSTEM, "order_line", lines(10)))
    many = count_statements(db, lambda: store.bulk_create(SYSTEM, "order_line", lines(100)))
    assert many == few and many <= 30
    assert sum(value(store, "order", o, "total") for o in orders) == d("1.50") * (sum(range(10)) + sum(range(100)))
    assert value(store, "organisation", org["id"], "revenue") == d("7492.50")


def test_lines_added_concurrently_to_one_order_both_count(db):
    """The second writer recomputes the total after the first commits and sees its line
    (PostgreSQL: the order row is locked before the lines are summed; without that lock,
    READ COMMITTED would let the second overwrite the total with a sum missing a line)."""
    _, store = order_book(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    inside, release, errors = threading.Event(), threading.Event(), []

    def pause_first_writer(conn, schema, obj, ids, action, actor):
        if obj.api_name == "order_line" and not inside.is_set():
            inside.set()
            release.wait(10)  # the first transaction holds its total, uncommitted

    store.hooks.register(pause_first_writer)

    def add(price):
        try:
            store.create(SYSTEM, "order_line", {"order": order["id"], "price": price, "quantity": 1})
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    first = threading.Thread(target=add, args=("10",))
    first.start()
    assert inside.wait(10)
    second = threading.Thread(target=add, args=("5",))
    second.start()
    time.sleep(0.5)  # the second writer is now waiting for the first
    release.set()
    first.join(10)
    second.join(10)
    assert errors == []
    assert total(store, order) == d("15.00")
