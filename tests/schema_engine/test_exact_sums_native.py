"""Exact sums on SQLite add whole units natively (issue 15, point 10): SUM(CAST(ROUND(
amount * 10^scale) AS INTEGER)) is SQLite's own integer sum, exact or an "integer
overflow" error -- then the query runs once more with the Python aggregates. Both
engines give the Python Decimal figure; on SQLite the statements show which way ran."""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from sql_recorder import recorded
from schema_engine.test_exact_sums import NOW, _build, _fill, _python_figures

BIG_ODD, BIG_EVEN = Decimal("9999999999999.99"), Decimal("8888888888888.87")  # 15 digits each
BIG_ROWS = 20_000  # their sum in cents is ~1.9 * 10^19, beyond 64-bit integers


def _metrics() -> AggregateQuery:
    return AggregateQuery(metrics=[{"op": "sum", "field": "price"}, {"op": "avg", "field": "price"},
                                   {"op": "sum", "field": "amount"}, {"op": "count"}])


def _fill_big(db, order_id: int) -> None:
    line = db.schema().object("line")
    table, link, price = line.table_name, line.field("order").column, line.field("price").column
    value = f"CASE WHEN i % 2 = 1 THEN {BIG_ODD} ELSE {BIG_EVEN} END"
    rows = ("(SELECT generate_series AS i FROM generate_series(1, :n)) AS n" if db.dialect == "postgresql"
            else "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :n) SELECT i FROM n)")
    with db.write() as conn:
        conn.execute(sa.text(f'INSERT INTO "{table}" (version, created_at, modified_at, "{link}", "{price}") '
                             f'SELECT 1, :now, :now, :o, {value} FROM {rows}'), {"now": NOW, "o": order_id, "n": BIG_ROWS})


def test_sums_and_averages_are_native_integer_sums_equal_to_python_decimal(db):
    _svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "Lines"})
    _fill(db, 50_000, order["id"], 10**11)
    expected = _python_figures(db)
    with recorded(db.engine) as statements, store.session(SYSTEM) as s:
        got = s.aggregate("line", _metrics())[0]
    assert got["sum_price"] == expected["sum_price"]
    assert got["sum_amount"] == expected["sum_amount"]
    assert got["avg_price"] == (expected["sum_price"] / 50_000).quantize(Decimal("0.0001"))
    assert got["count"] == 50_000
    query = next(q for q in statements if "count(" in q.lower())
    assert "cb_exact" not in query  # no Python call per row on either engine
    if db.dialect == "sqlite":
        assert "CAST(round(" in query


def test_a_sum_beyond_64_bits_falls_back_to_the_python_aggregate_and_stays_exact(db):
    _svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "Huge"})
    _fill_big(db, order["id"])
    total = (BIG_ODD + BIG_EVEN) * (BIG_ROWS // 2)
    with recorded(db.engine) as statements, store.session(SYSTEM) as s:
        got = s.aggregate("line", AggregateQuery(metrics=[{"op": "sum", "field": "price"},
                                                          {"op": "avg", "field": "price"}]))[0]
    assert got["sum_price"] == total == Decimal("188888888888888600.00")
    assert got["avg_price"] == (total / BIG_ROWS).quantize(Decimal("0.0001"))
    if db.dialect == "sqlite":  # the native sum overflowed; the second run added in Python
        aggregates = [q for q in statements if "sum(" in q.lower() or "cb_exact_sum" in q]
        assert len(aggregates) == 2
        assert "cb_exact" not in aggregates[0] and "cb_exact_sum(" in aggregates[1]


def test_a_column_wider_than_18_digits_is_added_in_python_on_sqlite(db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "asset", "label": "Asset", "label_plural": "Assets", "fields": [
        {"name": "value", "label": "Value", "type": "decimal", "options": {"precision": 30, "scale": 3}}]})
    store = RecordStore(db)
    values = ["0.125", "1234567.891", "-0.016"]
    for v in values:
        store.create(SYSTEM, "asset", {"value": v})
    with recorded(db.engine) as statements, store.session(SYSTEM) as s:
        got = s.aggregate("asset", AggregateQuery(metrics=[{"op": "sum", "field": "value"},
                                                           {"op": "avg", "field": "value"}]))[0]
    assert got["sum_value"] == Decimal("1234568.000")
    assert got["avg_value"] == (Decimal("1234568.000") / 3).quantize(Decimal("0.00001"))
    if db.dialect == "sqlite":  # units of 30 digits need not fit 64 bits
        assert any("cb_exact_sum(" in q for q in statements)
