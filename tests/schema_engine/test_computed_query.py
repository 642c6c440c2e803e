"""Formula, lookup and rollup values live in real columns: they filter, sort, search and
report through the store like any other field, with their result type's operators."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery

from computed_fixture import d, order_book


@pytest.fixture
def book(db):
    svc, store = order_book(db)
    acme = store.create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    globex = store.create(SYSTEM, "organisation", {"name": "Globex", "city": "Paris"})
    store.bulk_create(SYSTEM, "contact", [{"name": "Ann", "organisation": acme["id"]},
                                          {"name": "Bob", "organisation": globex["id"]},
                                          {"name": "Cid"}])
    orders = {}
    for title, customer, lines in (("Small", acme, [("1", 1)]), ("Big", globex, [("50", 2), ("10", 1)]),
                                   ("Medium", acme, [("20", 1)])):
        orders[title] = store.create(SYSTEM, "order", {"title": title, "customer": customer["id"]})["id"]
        store.bulk_create(SYSTEM, "order_line", [{"order": orders[title], "price": p, "quantity": q}
                                                 for p, q in lines])
    return svc, store


def titles(page) -> list[str]:
    return [r["title"] for r in page.data]


def test_rollups_and_formulas_filter_and_sort(book):
    _, store = book
    page = store.list(SYSTEM, "order", ListQuery(sort="-total"))
    assert titles(page) == ["Big", "Medium", "Small"]
    page = store.list(SYSTEM, "order", ListQuery(filter={"field": "total", "op": "gt", "value": "15"}, sort="total"))
    assert titles(page) == ["Medium", "Big"]
    page = store.list(SYSTEM, "order_line", ListQuery(filter={"field": "cost", "op": "between", "value": [10, 20]},
                                                      sort="cost", fields=["cost", "order.title"]))
    assert [(r["cost"], r["order.title"]) for r in page.data] == [(d("10.00"), "Big"), (d("20.00"), "Medium")]
    page = store.list(SYSTEM, "order_line", ListQuery(filter={"field": "order.total", "op": "eq", "value": "110"}))
    assert len(page.data) == 2  # a path through a link to a rollup


def test_lookups_filter_sort_and_search_like_their_source(book):
    _, store = book
    page = store.list(SYSTEM, "contact", ListQuery(filter={"field": "city", "op": "starts_with", "value": "ber"}))
    assert [r["name"] for r in page.data] == ["Ann"]
    page = store.list(SYSTEM, "contact", ListQuery(filter={"field": "city", "op": "is_empty"}))
    assert [r["name"] for r in page.data] == ["Cid"]
    page = store.list(SYSTEM, "contact", ListQuery(sort="-city"))
    assert [r["name"] for r in page.data] == ["Bob", "Ann", "Cid"]
    page = store.list(SYSTEM, "contact", ListQuery(search="paris"))
    assert [r["name"] for r in page.data] == ["Bob"]


def test_search_follows_recomputed_text(book):
    _, store = book
    acme = store.list(SYSTEM, "organisation", ListQuery(filter={"field": "name", "op": "eq", "value": "ACME"})).data[0]
    store.update(SYSTEM, "organisation", acme["id"], {"city": "Hamburg"}, version=acme["version"])
    assert [r["name"] for r in store.list(SYSTEM, "contact", ListQuery(search="hamburg")).data] == ["Ann"]
    assert store.list(SYSTEM, "contact", ListQuery(search="berlin")).data == []


def test_text_formulas_are_searchable(book):
    svc, store = book
    svc.add_field(SYSTEM, "order", {"name": "label", "label": "Label", "type": "formula",
                                   "options": {"formula": 'UPPER([Title]) & "-" & [Customer].[City]'}})
    assert [r["title"] for r in store.list(SYSTEM, "order", ListQuery(search="small-berlin")).data] == ["Small"]
    order = store.create(SYSTEM, "order", {"title": "Tiny"})
    assert [r["id"] for r in store.list(SYSTEM, "order", ListQuery(search="TINY")).data] == [order["id"]]


def test_operators_follow_the_result_type(book):
    _, store = book
    with pytest.raises(ValidationError) as err:
        store.list(SYSTEM, "order", ListQuery(filter={"field": "total", "op": "contains", "value": "1"}))
    assert "operator 'contains' is not supported by a rollup field" in str(err.value)


def test_computed_fields_report_like_any_field(book):
    _, store = book
    rows = store.aggregate(SYSTEM, "order", AggregateQuery(
        group_by=["customer"], metrics=[{"op": "sum", "field": "total"}, {"op": "max", "field": "total"}]))
    assert [(r["customer"].display, r["sum_total"], r["max_total"]) for r in rows] == [
        ("ACME", d("21.00"), d("20.00")), ("Globex", d("110.00"), d("110.00"))]
    rows = store.aggregate(SYSTEM, "contact", AggregateQuery(group_by=["city"]))
    assert [(r["city"], r["count"]) for r in rows] == [("Berlin", 1), ("Paris", 1), (None, 1)]
