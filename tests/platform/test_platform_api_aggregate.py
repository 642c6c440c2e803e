"""Grouped figures through the REST API: the board's column totals (count and sum per
choice) and more -- links, date buckets, averages, filters, search -- computed by the
record store under the caller's rights (row filter, hidden fields, trash left out)."""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of, seed_orgs

URL = "/api/v1/records/deal/aggregate"


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


@pytest.fixture
def data(db, app):
    orgs = seed_orgs(db, 2)
    store = RecordStore(db)
    ids = store.bulk_create(SYSTEM, "deal", [
        {"title": "A", "stage": "lead", "amount": "100.50", "probability": 10, "organisation": orgs[0],
         "close_date": "2026-01-15"},
        {"title": "B", "stage": "lead", "amount": "50.25", "probability": 30, "organisation": orgs[1],
         "close_date": "2026-01-31"},
        {"title": "C", "stage": "won", "amount": "1000", "probability": 100, "organisation": orgs[0],
         "close_date": "2026-02-01"},
        {"title": "D", "stage": "won", "organisation": orgs[1]},
        {"title": "E", "stage": None, "amount": "7", "organisation": orgs[0]},
    ])
    store.delete(SYSTEM, "deal", store.create(SYSTEM, "deal", {"title": "Gone", "stage": "won",
                                                               "amount": "1"})["id"])
    return orgs, ids


def test_board_totals_count_and_sum_per_stage(root, data, db):
    rows = root.get(URL, query={"group_by": "stage", "sum": "amount"}).get_json()["data"]
    # the amount has a currency per record: every row says its currency (issue 14, point 1)
    assert rows == [{"stage": "lead", "amount:currency": "EUR", "count": 2, "sum_amount": "150.75"},
                    {"stage": "won", "amount:currency": "EUR", "count": 2, "sum_amount": "1000.00"},
                    {"stage": None, "amount:currency": "EUR", "count": 1, "sum_amount": "7.00"}]  # not the trashed deal
    board = RecordStore(db).aggregate(actor_for(users.find_user(db, "root"), db), "deal", AggregateQuery(
        group_by=["stage"], metrics=[{"op": "count", "as": "n"}, {"op": "sum", "field": "amount", "as": "total"}]))
    assert [(r["stage"], r["n"], str(r["total"])) for r in board] == \
        [(r["stage"], r["count"], r["sum_amount"]) for r in rows]  # what the board's columns show


def test_groups_by_links_and_date_buckets_with_other_metrics(root, data):
    orgs, _ids = data
    by_org = root.get(URL, query={"group_by": "organisation", "avg": "probability", "max": "close_date",
                                  "min": "amount"}).get_json()["data"]
    assert by_org == [
        {"organisation": {"id": orgs[0], "display": "Org 0"}, "amount:currency": "EUR", "count": 3,
         "avg_probability": "55.00", "max_close_date": "2026-02-01", "min_amount": "7.00"},
        {"organisation": {"id": orgs[1], "display": "Org 1"}, "amount:currency": "EUR", "count": 2,
         "avg_probability": "30.00", "max_close_date": "2026-01-31", "min_amount": "50.25"}]
    by_month = root.get(URL, query={"group_by": "close_date:month,stage",
                                    "filter": {"field": "close_date", "op": "is_not_empty"}}).get_json()["data"]
    assert by_month == [{"close_date": "2026-01", "stage": "lead", "count": 2},
                        {"close_date": "2026-02", "stage": "won", "count": 1}]
    by_city = root.get(URL, query={"group_by": "organisation.city", "q": "A"}).get_json()["data"]
    assert by_city == [{"organisation.city": "Hamburg", "count": 1}]
    total = root.get(URL, query={"sum": "amount,probability"}).get_json()["data"]
    assert total == [{"amount:currency": "EUR", "count": 5, "sum_amount": "1157.75", "sum_probability": 140}]


def test_the_rights_hold_as_in_the_store(app, db, data):
    sam = api_for(app, db, "sam")
    refused = sam.get(URL, query={"group_by": "stage"})
    assert refused.status_code == 403 and error_of(refused)["message"] == "you may not read Deals"
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create"])
    refused = sam.get(URL, query={"group_by": "stage"})  # grouped figures are a report: read is not enough
    assert refused.status_code == 403 and error_of(refused)["message"] == "you may not report on Deals"
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "report"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    assert sam.get(URL, query={"group_by": "stage"}).get_json()["data"][0] == {"stage": "lead", "count": 2}
    for query in ({"sum": "amount"}, {"group_by": "amount"}, {"filter": {"field": "amount", "op": "gt", "value": 1}}):
        response = sam.get(URL, query=query)
        assert response.status_code == 400 and error_of(response)["code"] == "invalid_query", query
        assert "amount" in error_of(response)["message"]
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    assert sam.get(URL).get_json()["data"] == [{"count": 0}]
    sam.post("/api/v1/records/deal", {"title": "Mine", "stage": "won"})
    assert sam.get(URL, query={"group_by": "stage"}).get_json()["data"] == [{"stage": "won", "count": 1}]


def test_bad_aggregate_queries_are_refused_clearly(root, data):
    cases = {"nope": {"group_by": "nope"}, "bucket": {"group_by": "close_date:fortnight"},
             "number field": {"sum": "title"}, "only date and time": {"group_by": "title:month"},
             "1 to 10000": {"limit": 10**6}}
    for words, query in cases.items():
        response = root.get(URL, query=query)
        assert response.status_code == 400 and error_of(response)["code"] == "invalid_query", query
        assert words in error_of(response)["message"], (query, error_of(response))
    assert error_of(root.get(URL, query={"filter": "[1"}))["code"] == "bad_request"
    assert error_of(root.get(URL, query={"filter": "[1]"}))["code"] == "invalid_query"
    assert error_of(root.get(URL, query={"group_by": "stage", "limit": 1}))["fields"] == {
        "group_by": ["gives more than 1 groups; group by fewer or coarser keys, or filter"]}
    assert error_of(root.get("/api/v1/records/nothing/aggregate"))["code"] == "not_found"
