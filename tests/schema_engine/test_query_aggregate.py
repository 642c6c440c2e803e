"""Grouped figures (cardbase.schema_engine.query.aggregate) on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.aggregate import aggregate
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.values import LinkRef

try:  # tests/ may or may not become a package
    from .test_query import NOW, F, crm  # noqa: F401  (crm is a fixture)
except ImportError:
    from test_query import NOW, F, crm  # noqa: F401


def agg(crm, obj="order", **kw):
    opts = {k: kw.pop(k) for k in ("row_filter", "field_allowed") if k in kw}
    with crm.db.read() as conn:
        schema = crm.db.schema(conn)
        return aggregate(conn, schema, schema.object(obj), AggregateQuery(**kw), **opts)


def error_of(crm, **kw):
    with pytest.raises(ValidationError) as info:
        agg(crm, **kw)
    return info.value.errors


COUNT = {"op": "count"}
SUM_AMOUNT = {"op": "sum", "field": "amount"}
AVG_AMOUNT = {"op": "avg", "field": "amount"}


def test_group_by_choice_in_list_order_with_sum_avg_count(crm):
    assert agg(crm, group_by=["stage"], metrics=[COUNT, SUM_AMOUNT, AVG_AMOUNT]) == [
        {"stage": "lead", "count": 2, "sum_amount": Decimal("550.50"), "avg_amount": Decimal("275.2500")},
        {"stage": "won", "count": 3, "sum_amount": Decimal("225.25"), "avg_amount": Decimal("75.0833")},
        {"stage": "lost", "count": 1, "sum_amount": None, "avg_amount": None},
    ]
    assert agg(crm, metrics=[COUNT, SUM_AMOUNT, {"op": "min", "field": "discount"},
                             {"op": "max", "field": "discount"}, {"op": "max", "field": "created_at"},
                             {"op": "avg", "field": "qty"}, {"op": "sum", "field": "qty", "as": "units"}]) == [
        {"count": 6, "sum_amount": Decimal("775.75"), "min_discount": Decimal("1.00"),
         "max_discount": Decimal("10.00"), "max_created_at": dt.datetime(2027, 1, 1, 23, 59, 59),
         "avg_qty": Decimal("2.60"), "units": 13}]


def test_group_by_link_and_link_paths(crm):
    assert agg(crm, group_by=["client.city"], metrics=[COUNT, {"op": "sum", "field": "qty"}]) == [
        {"client.city": "Berlin", "count": 3, "sum_qty": 6},
        {"client.city": "München", "count": 1, "sum_qty": None},
        {"client.city": None, "count": 2, "sum_qty": 7},
    ]
    c = crm.clients
    assert agg(crm, group_by=["client"]) == [
        {"client": LinkRef(c["acme"], "Acme"), "count": 2},
        {"client": LinkRef(c["mueller"], "Müller GmbH"), "count": 1},
        {"client": LinkRef(c["nocity"], "Nocity"), "count": 1},
        {"client": LinkRef(c["zeta"], "Zeta"), "count": 1},
        {"client": None, "count": 1},
    ]
    # two hops from order lines; metrics over paths are named with "__"
    rows = agg(crm, "order_line", group_by=["order.client"], metrics=[
        {"op": "sum", "field": "price"}, {"op": "max", "field": "order.close_date"},
        {"op": "count", "field": "quantity"}, {"op": "sum", "field": "order.amount"}])
    assert rows == [
        {"order.client": LinkRef(c["acme"], "Acme"), "sum_price": Decimal("30.00"),
         "max_order__close_date": dt.date(2026, 1, 15), "count_quantity": 2, "sum_order__amount": Decimal("200.00")},
        {"order.client": LinkRef(c["mueller"], "Müller GmbH"), "sum_price": Decimal("10.00"),
         "max_order__close_date": dt.date(2026, 2, 3), "count_quantity": 1, "sum_order__amount": Decimal("75.25")},
        {"order.client": LinkRef(c["zeta"], "Zeta"), "sum_price": Decimal("1.50"),
         "max_order__close_date": None, "count_quantity": 1, "sum_order__amount": None},
        {"order.client": None, "sum_price": Decimal("0.10"),
         "max_order__close_date": dt.date(2026, 11, 22), "count_quantity": 1, "sum_order__amount": Decimal("50.00")},
    ]
    u = crm.users
    assert agg(crm, group_by=["rep"], filter=F("stage", "ne", "lost")) == [
        {"rep": LinkRef(u["alice"], "Alice Adams"), "count": 1},
        {"rep": LinkRef(u["bob"], "bob"), "count": 2},
        {"rep": None, "count": 2},
    ]


def test_date_buckets(crm):
    assert agg(crm, group_by=[{"field": "close_date", "bucket": "month"}], metrics=[COUNT, SUM_AMOUNT]) == [
        {"close_date": "2026-01", "count": 2, "sum_amount": Decimal("350.50")},
        {"close_date": "2026-02", "count": 2, "sum_amount": Decimal("375.25")},
        {"close_date": "2026-11", "count": 1, "sum_amount": Decimal("50.00")},
        {"close_date": None, "count": 1, "sum_amount": None},
    ]
    # created_at (a datetime) holds the awkward ones: 2024-12-30 is in ISO week 2025-W01,
    # 2027-01-01 23:59:59 in 2026-W53; the other four orders were created at NOW.
    created = [dt.datetime(2024, 12, 30, 8, 0), dt.datetime(2027, 1, 1, 23, 59, 59)] + [NOW] * 4
    iso = lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"  # noqa: E731
    expected = {"day": lambda d: d.strftime("%Y-%m-%d"), "week": iso, "month": lambda d: d.strftime("%Y-%m"),
                "quarter": lambda d: f"{d.year}-Q{(d.month + 2) // 3}", "year": lambda d: str(d.year)}
    for bucket, fmt in expected.items():
        counts: dict[str, int] = {}
        for d in created:
            counts[fmt(d)] = counts.get(fmt(d), 0) + 1
        rows = agg(crm, group_by=[{"field": "created_at", "bucket": bucket, "as": "period"}])
        assert rows == [{"period": k, "count": n} for k, n in sorted(counts.items())], bucket
    assert agg(crm, group_by=[{"field": "created_at", "bucket": "week"}])[0]["created_at"] == "2025-W01"
    # two keys: ordered by the first, then the second
    rows = agg(crm, group_by=["stage", {"field": "close_date", "bucket": "quarter"}], metrics=[COUNT])
    assert [(r["stage"], r["close_date"], r["count"]) for r in rows] == [
        ("lead", "2026-Q1", 2), ("won", "2026-Q1", 2), ("won", "2026-Q4", 1), ("lost", None, 1)]


def test_filter_rights_and_trash_apply(crm):
    db = crm.db
    with db.write() as conn:
        table = db.schema(conn).table("order")
        conn.execute(sa.update(table).where(table.c.id == crm.orders["gamma"]).values(deleted_at=NOW))
    assert agg(crm, group_by=["stage"]) == [
        {"stage": "lead", "count": 2}, {"stage": "won", "count": 2}, {"stage": "lost", "count": 1}]
    assert agg(crm, group_by=["stage"], filter=F("client.city", "eq", "Berlin"), search="deal") == [
        {"stage": "lead", "count": 1}, {"stage": "won", "count": 1}]
    assert agg(crm, metrics=[COUNT], row_filter=lambda t: t.c.id == crm.orders["beta"]) == [{"count": 1}]
    assert agg(crm, group_by=["stage"], row_filter=sa.false()) == []


def test_bad_aggregates_are_clear(crm):
    def msg(**kw):
        (messages,) = error_of(crm, **kw).values()
        return messages[0]

    assert msg(group_by=["nope"]) == "'nope': object 'order' has no field 'nope'"
    hidden = lambda f: f.api_name != "amount"  # noqa: E731
    assert msg(metrics=[SUM_AMOUNT], field_allowed=hidden) == "'amount': object 'order' has no field 'amount'"
    assert msg(group_by=["amount"], field_allowed=hidden) == "'amount': object 'order' has no field 'amount'"
    assert "needs a number field" in msg(metrics=[{"op": "sum", "field": "title"}])
    assert "no order" in msg(metrics=[{"op": "max", "field": "tags"}])
    assert "only date and time fields" in msg(group_by=[{"field": "title", "bucket": "month"}])
    assert "unknown bucket 'decade'" in msg(group_by=[{"field": "close_date", "bucket": "decade"}])
    assert "unknown operation 'median'" in msg(metrics=[{"op": "median", "field": "qty"}])
    assert "needs a field" in msg(metrics=[{"op": "sum"}])
    assert "asked for twice" in msg(metrics=[COUNT, COUNT])
    assert "more than 2 groups" in msg(group_by=["stage"], limit=2)
    assert "items are field paths" in msg(group_by=[{"path": "stage"}])
    assert "at most 5" in msg(group_by=["stage"] * 6)
    assert agg(crm, group_by=["stage"], limit=3)[-1] == {"stage": "lost", "count": 1}
