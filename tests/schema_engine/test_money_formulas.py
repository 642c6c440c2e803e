"""Issue 14, point 1: a formula over money gives money. Amounts of one fixed currency give
that currency; a currency per record gives the record's currency, and no value when the
record's amounts are in several currencies; amounts of different fixed currencies are
refused when the formula is saved. Rollups over such a formula stay money. Both engines."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


def _build(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
        {"name": "title", "label": "Title", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}},
        {"name": "price", "label": "Price", "type": "money", "options": {"currency": "EUR"}},
        {"name": "fee", "label": "Fee", "type": "money", "options": {"currency": "USD"}},
        {"name": "list_price", "label": "List price", "type": "money", "options": {"currency_mode": "per_record"}},
        {"name": "shipping", "label": "Shipping", "type": "money", "options": {"currency_mode": "per_record"}},
        {"name": "quantity", "label": "Quantity", "type": "decimal", "options": {"scale": 2}},
        {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity]"}},
        {"name": "gross", "label": "Gross", "type": "formula",
         "options": {"formula": "[List price] * [Quantity] + [Shipping]"}}]})
    return svc, store


def test_a_formula_over_money_gives_money_in_its_currency(db):
    svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "O"})
    line = store.create(SYSTEM, "line", {"order": order["id"], "price": "10", "quantity": "3",
                                         "list_price": {"amount": "5", "currency": "GBP"},
                                         "shipping": {"amount": "2", "currency": "GBP"}})
    assert line["cost"] == Money(Decimal("30.00"), "EUR")
    assert line["gross"] == Money(Decimal("17.00"), "GBP")
    mixed = store.create(SYSTEM, "line", {"order": order["id"], "price": "1", "quantity": "1",
                                          "list_price": {"amount": "5", "currency": "GBP"},
                                          "shipping": {"amount": "2", "currency": "USD"}})
    assert mixed["gross"] is None  # GBP and USD: no value rather than 7 of nothing
    svc.add_field(SYSTEM, "order", {"name": "total", "label": "Total", "type": "rollup", "options": {
        "child": "line", "link": "order", "field": "cost", "aggregate": "sum"}})
    assert store.get(SYSTEM, "order", order["id"])["total"] == Money(Decimal("31.00"), "EUR")
    assert store.to_json("line", store.get(SYSTEM, "line", line["id"]))["cost"] == {"amount": "30.00", "currency": "EUR"}


def test_a_formula_mixing_fixed_currencies_is_refused_when_saved(db):
    svc, _store = _build(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "line", {"name": "sum", "label": "Sum", "type": "formula",
                                       "options": {"formula": "[Price] + [Fee]"}})
    message = err.value.errors["options.formula"][0]
    assert "mixes amounts in EUR and USD" in message and "'Fee' (USD)" in message
