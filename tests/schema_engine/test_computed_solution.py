"""Solutions carry formula, lookup and rollup fields in portable form (names, not ids) and
import them in any order of the document (an order's total before its lines' cost)."""
from __future__ import annotations

import copy

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.store import RecordStore

from computed_fixture import add_revenue, d, order_book


def fields_of(doc, obj: str) -> dict:
    spec = next(o for o in doc["objects"] if o["name"] == obj)
    return {f["name"]: f for f in spec["fields"]}


def strip(doc):
    doc = copy.deepcopy(doc)
    doc.pop("exported_at")
    return doc


def test_round_trip_with_computed_fields(db, make_database, engine_name):
    svc, _ = order_book(db)
    add_revenue(svc)
    svc.add_field(SYSTEM, "organisation", {"name": "open_orders", "label": "Open orders", "type": "rollup", "options": {
        "child": "order", "link": "customer", "aggregate": "count",
        "filter": {"field": "status", "op": "eq", "value": "open"}}})
    exported = export_solution(db)
    assert fields_of(exported, "order_line")["cost"]["options"] == {"formula": "[Price] * [Quantity]", "scale": 2}
    assert fields_of(exported, "contact")["city"]["options"] == {"link": "organisation", "field": "city"}
    assert fields_of(exported, "order")["total"]["options"] == {
        "child": "order_line", "link": "order", "field": "cost", "aggregate": "sum", "filter": None}
    assert fields_of(exported, "organisation")["open_orders"]["options"]["filter"] == {
        "field": "status", "op": "eq", "value": "open"}
    names = [o["name"] for o in exported["objects"]]
    assert names.index("order") < names.index("order_line")  # the total comes before the cost it reads

    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        report = import_solution(other, exported)
        assert "field order.total" in report["added"] and "field order_line.cost" in report["added"]
        assert strip(export_solution(other)) == strip(exported)
        assert import_solution(other, exported) == {"added": [], "changed": []}
        store = RecordStore(other)
        org = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
        order = store.create(SYSTEM, "order", {"title": "O", "customer": org["id"], "status": "open"})
        store.create(SYSTEM, "order_line", {"order": order["id"], "price": "2", "quantity": 3})
        org = store.get(SYSTEM, "organisation", org["id"])
        assert (org["revenue"], org["open_orders"]) == (d("6.00"), 1)
        changed = copy.deepcopy(exported)
        fields_of(changed, "order_line")["cost"]["options"]["formula"] = "[Price] * [Quantity] * 2"
        assert import_solution(other, changed)["changed"] == ["field order_line.cost: options"]
        assert store.get(SYSTEM, "organisation", org["id"])["revenue"] == d("12.00")
    finally:
        other.dispose()
