"""Issue 14, point 2: sums and averages of decimal and money fields are exact on both
engines -- in aggregates (reports, charts, board totals) and in rollups. SQLite adds
floats in its own SUM; cardbase's aggregates add Decimals (schema_engine/exact_sums.py).

The 1M test builds its amounts in SQL (fast on both engines), reads them back and adds
them with Python's Decimal: the SQL figure must be equal to the cent."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

ROWS = 1_000_000
NOW = dt.datetime(2026, 12, 3, 12, 0)


def _build(db) -> tuple[SchemaService, RecordStore]:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
        {"name": "title", "label": "Title", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}},
        {"name": "price", "label": "Price", "type": "decimal", "options": {"precision": 18, "scale": 2}},
        {"name": "amount", "label": "Amount", "type": "money", "options": {"currency": "EUR"}}]})
    return svc, RecordStore(db)


def _fill(db, count: int, order_id: int, spread: int) -> None:
    """``count`` lines of ``order_id`` with random prices and amounts in [0, spread) with
    two decimals, written by the database itself (random() on both engines). Their sum has
    more digits than a float holds: SQLite's own SUM is off by cents to euros."""
    schema = db.schema()
    line = schema.object("line")
    table = line.table_name
    link, price = line.field("order").column, line.field("price").column
    amount, currency = line.field("amount").column_names
    if db.dialect == "postgresql":
        value = f"round((random() * {spread})::numeric, 2)"
        rows = f"generate_series(1, {count})"
        sql = (f'INSERT INTO "{table}" (version, created_at, modified_at, "{link}", "{price}", "{amount}", '
               f'"{currency}") SELECT 1, :now, :now, :o, {value}, {value}, \'EUR\' FROM {rows}')
    else:
        value = f"(abs(random()) % {spread * 100}) / 100.0"
        sql = (f'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) '
               f'INSERT INTO "{table}" (version, created_at, modified_at, "{link}", "{price}", "{amount}", '
               f'"{currency}") SELECT 1, :now, :now, :o, {value}, {value}, \'EUR\' FROM n')
    with db.write() as conn:
        conn.execute(sa.text(sql), {"now": NOW, "o": order_id})


def _python_figures(db) -> dict[str, Decimal]:
    schema = db.schema()
    line = schema.object("line")
    table = schema.table(line)
    price, amount = table.c[line.field("price").column], table.c[line.field("amount").column_names[0]]
    total_p, total_a, n = Decimal(0), Decimal(0), 0
    with db.read() as conn:
        for p, a in conn.execute(sa.select(price, amount)):
            total_p += Decimal(p).quantize(Decimal("0.01"))
            total_a += Decimal(a).quantize(Decimal("0.01"))
            n += 1
    return {"sum_price": total_p, "sum_amount": total_a, "n": Decimal(n)}


def test_sums_and_averages_of_a_million_amounts_equal_python_decimal(db):
    svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "Big"})
    _fill(db, ROWS, order["id"], 10**11)
    expected = _python_figures(db)
    assert expected["n"] == ROWS
    with store.session(SYSTEM) as s:
        got = s.aggregate("line", AggregateQuery(metrics=[
            {"op": "sum", "field": "price"}, {"op": "sum", "field": "amount"},
            {"op": "avg", "field": "price"}, {"op": "count"}]))
    assert got[0]["count"] == ROWS
    assert got[0]["sum_price"] == expected["sum_price"]
    assert got[0]["sum_amount"] == expected["sum_amount"]
    assert got[0]["avg_price"] == (expected["sum_price"] / ROWS).quantize(Decimal("0.0001"))


def test_twenty_thousand_amounts_sum_exactly_in_an_aggregate_and_a_rollup(db):
    """The issue's example: 20,000 decimal(18,2) values around 10^10 summed 6.40 off. The
    aggregate is exact for any sum (above); a rollup keeps its figure in a column, which
    SQLite stores as a float: exact up to 15 significant digits (here sums near 10^13)."""
    svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "Lines"})
    _fill(db, 20_000, order["id"], 10**9)
    with store.session(SYSTEM) as s:
        figure = s.aggregate("line", AggregateQuery(metrics=[{"op": "sum", "field": "price"}]))[0]["sum_price"]
    expected = _python_figures(db)
    assert figure == expected["sum_price"]
    svc.add_field(SYSTEM, "order", {"name": "total", "label": "Total", "type": "rollup", "options": {
        "child": "line", "link": "order", "field": "price", "aggregate": "sum"}})
    svc.add_field(SYSTEM, "order", {"name": "mean", "label": "Mean", "type": "rollup", "options": {
        "child": "line", "link": "order", "field": "price", "aggregate": "avg"}})
    record = store.get(SYSTEM, "order", order["id"])
    assert record["total"] == expected["sum_price"]
    assert abs(record["mean"] - expected["sum_price"] / 20_000) < Decimal("0.01")
    # and a change through the store keeps it exact (the rollup is recomputed by SQL)
    first = store.list(SYSTEM, "line").data[0]
    store.update(SYSTEM, "line", first["id"], {"price": str(first["price"] + Decimal("0.01"))},
                 version=first["version"])
    assert store.get(SYSTEM, "order", order["id"])["total"] == expected["sum_price"] + Decimal("0.01")
