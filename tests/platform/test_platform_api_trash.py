"""The trash through the REST API: the trashed records the caller may read (the store's
list with its rights: the read right, the row filter, hidden fields), the most recently
deleted first, and restoring one from it."""
from __future__ import annotations

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of, seed_orgs

URL = "/api/v1/records/deal/trash"


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


@pytest.fixture
def deals(db, app) -> list[int]:
    orgs = seed_orgs(db, 1)
    return RecordStore(db).bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i}", "organisation": orgs[0], "secret_note": "hush"} for i in range(4)])


def test_the_trash_lists_deleted_records_newest_first_and_restores_them(root, deals):
    assert root.get(URL).get_json() == {"data": [], "next_cursor": None, "count": 0, "count_is_estimate": False}
    for rid in (deals[2], deals[0]):
        assert root.delete(f"/api/v1/records/deal/{rid}").status_code == 204
    page = root.get(URL).get_json()
    assert [r["id"] for r in page["data"]] == [deals[0], deals[2]] and page["count"] == 2
    assert page["data"][0]["modified_by"]["display"] == "root"  # who deleted it
    assert [r["id"] for r in root.get(URL, query={"sort": "title"}).get_json()["data"]] == [deals[0], deals[2]]
    first = root.get(URL, query={"limit": 1, "fields": "title"}).get_json()
    assert set(first["data"][0]) == {"id", "code", "version", "title"} and first["next_cursor"]
    rest = root.get(URL, query={"limit": 1, "cursor": first["next_cursor"]}).get_json()
    assert [r["id"] for r in rest["data"]] == [deals[2]]
    filtered = root.get(URL, query={"filter": {"field": "title", "op": "eq", "value": "Deal 2"}}).get_json()
    assert [r["id"] for r in filtered["data"]] == [deals[2]]
    assert root.post(f"/api/v1/records/deal/{deals[0]}/restore").status_code == 200
    assert [r["id"] for r in root.get(URL).get_json()["data"]] == [deals[2]]
    assert root.get(URL, query={"trash": "false"}).get_json()["count"] == 1  # always the trash


def test_the_trash_holds_the_callers_rights(app, db, root, deals):
    for rid in deals:
        root.delete(f"/api/v1/records/deal/{rid}")
    sam = api_for(app, db, "sam")
    refused = sam.get(URL)
    assert refused.status_code == 403 and error_of(refused)["message"] == "you may not read Deals"
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    page = sam.get(URL).get_json()
    assert page["count"] == 4 and all("secret_note" not in r for r in page["data"])
    assert sam.get(URL, query={"fields": "secret_note"}).status_code == 400  # hidden: as unknown
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")  # the row filter: root's deals are not sam's
    assert sam.get(URL).get_json()["count"] == 0


def test_bad_trash_queries_are_refused(root, deals):
    assert error_of(root.get(URL, query={"limit": 10**9}))["code"] == "invalid_query"
    assert error_of(root.get(URL, query={"sort": "nope"}))["code"] == "invalid_query"
    assert error_of(root.get(URL, query={"filter": "{oops"}))["code"] == "bad_request"
    assert error_of(root.get("/api/v1/records/nothing/trash"))["code"] == "not_found"
    paths = root.get("/api/openapi.json").get_json()["paths"]
    assert [p["name"] for p in paths[URL]["get"]["parameters"]] == [
        "filter", "sort", "limit", "cursor", "offset", "q", "fields"]
