"""An order book with formulas, lookups and rollups, shared by the computed-field tests.

Organisation <- Contact person (City: lookup of the organisation's city)
Organisation <- Order (Total: sum of its lines' Cost) <- Order line (Cost = [Price] * [Quantity])
"""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from db_templates import from_template

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

STATUS = [{"value": "open", "label": "Open"}, {"value": "closed", "label": "Closed"}]


def order_book(db, **service_options):
    """Returns (schema service, store). The schema is copied from a per-session template
    database (tests/db_templates.py); the service options only matter after that."""
    from_template(db, "order_book", _build_order_book)
    return SchemaService(db, **service_options), RecordStore(db)


def _build_order_book(db) -> None:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {
        "name": "organisation", "label": "Organisation", "label_plural": "Organisations", "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "city", "label": "City", "type": "string"},
        ]})
    svc.create_object(SYSTEM, {
        "name": "contact", "label": "Contact person", "label_plural": "Contact persons", "fields": [
            {"name": "name", "label": "Name", "type": "string", "required": True},
            {"name": "organisation", "label": "Organisation", "type": "link",
             "options": {"target": "organisation", "on_delete": "cascade"}},
            {"name": "city", "label": "City", "type": "lookup",
             "options": {"link": "organisation", "field": "city"}},
        ]})
    svc.create_object(SYSTEM, {
        "name": "order", "label": "Order", "label_plural": "Orders", "fields": [
            {"name": "title", "label": "Title", "type": "string", "required": True},
            {"name": "customer", "label": "Customer", "type": "link",
             "options": {"target": "organisation", "on_delete": "cascade"}},
            {"name": "status", "label": "Status", "type": "choice", "options": {"choices": STATUS}},
        ]})
    svc.create_object(SYSTEM, {
        "name": "order_line", "label": "Order line", "label_plural": "Order lines", "fields": [
            {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}},
            {"name": "product", "label": "Product", "type": "string"},
            {"name": "price", "label": "Price", "type": "decimal", "options": {"precision": 12, "scale": 2}},
            {"name": "quantity", "label": "Quantity", "type": "integer"},
            {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity]"}},
        ]})
    svc.add_field(SYSTEM, "order", {"name": "total", "label": "Total", "type": "rollup", "options": {
        "child": "order_line", "link": "order", "field": "cost", "aggregate": "sum"}})


def add_revenue(svc) -> None:
    """Organisation.Revenue: the sum of its orders' totals (a rollup of a rollup)."""
    svc.add_field(SYSTEM, "organisation", {"name": "revenue", "label": "Revenue", "type": "rollup", "options": {
        "child": "order", "link": "customer", "field": "total", "aggregate": "sum"}})


def value(store, obj: str, rid: int, field: str):
    return store.get(SYSTEM, obj, rid)[field]


def d(text: str) -> Decimal:
    return Decimal(text)


def raw_rows(db, obj: str):
    """Every row of an object's table (to show a refused change changed nothing)."""
    with db.read() as conn:
        schema = db.schema(conn)
        table = schema.table(obj)
        return conn.execute(sa.select(table).order_by(table.c.id)).all()
