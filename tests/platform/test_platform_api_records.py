"""REST API records: list (filter, sort, limit, cursor, offset, q, fields with link paths,
trash), create, read, change with optimistic locking, delete, restore, history, bulk
writes (all or nothing, per-row errors), owner and shares -- and the JSON forms of values."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import crm_app, error_of, seed_orgs


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def orgs(db, app):
    return seed_orgs(db, 5)


def new_deal(root, org: int, **values):
    body = {"title": "Deal", "organisation": org, **values}
    response = root.post("/api/v1/records/deal", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_create_and_read_values_in_their_json_form(root, orgs):
    created = root.post("/api/v1/records/deal", {
        "title": "Zoë's deal", "amount": "1234.5", "quantity": 2, "stage": "Won", "tags": ["hot"],
        "close_date": "2026-11-22", "probability": "40", "organisation": orgs[0]})
    assert created.status_code == 201
    record = created.get_json()
    assert created.headers["Location"] == f"/api/v1/records/deal/{record['id']}"
    assert created.headers["ETag"] == '"1"'
    assert record["code"] == "D-00001" and record["version"] == 1
    assert record["amount"] == {"amount": "1234.50", "currency": "EUR"}  # money: amount as a string
    assert record["quantity"] == "2.00"  # decimals are strings
    assert record["total"] == {"amount": "2469.00", "currency": "EUR"}  # formula over money: money (issue 14.1)
    assert record["stage"] == "won" and record["tags"] == ["hot"] and record["probability"] == 40
    assert record["close_date"] == "2026-11-22"
    assert record["organisation"] == {"id": orgs[0], "display": "Org 0"}  # a link reads as {id, display}
    assert record["owner"]["display"] == "root" and record["created_at"].endswith("Z")
    read = root.get(f"/api/v1/records/deal/{record['id']}")
    assert read.status_code == 200 and read.get_json() == record and read.headers["ETag"] == '"1"'
    money = root.post("/api/v1/records/deal", {"title": "x", "amount": {"amount": "5", "currency": "usd"}})
    assert money.get_json()["amount"] == {"amount": "5.00", "currency": "USD"}


def test_list_filter_sort_limit_and_count(root, orgs):
    for i in range(7):
        new_deal(root, orgs[i % 2], title=f"Deal {i}", amount=str(100 * i), stage="won" if i % 3 == 0 else "lead")
    response = root.get("/api/v1/records/deal", query={
        "filter": {"and": [{"field": "stage", "op": "eq", "value": "won"},
                           {"field": "amount", "op": "ge", "value": "100"}]},
        "sort": "-amount,title", "limit": 2})
    assert response.status_code == 200
    page = response.get_json()
    assert set(page) == {"data", "next_cursor", "count", "count_is_estimate"}
    assert [r["title"] for r in page["data"]] == ["Deal 6", "Deal 3"]
    assert page["count"] == 2 and page["count_is_estimate"] is False and page["next_cursor"] is None
    everything = root.get("/api/v1/records/deal?sort=title&limit=3").get_json()
    assert everything["count"] == 7 and [r["title"] for r in everything["data"]] == ["Deal 0", "Deal 1", "Deal 2"]
    following = root.get("/api/v1/records/deal", query={"sort": "title", "limit": 3,
                                                       "cursor": everything["next_cursor"]}).get_json()
    assert [r["title"] for r in following["data"]] == ["Deal 3", "Deal 4", "Deal 5"]
    offset = root.get("/api/v1/records/deal?sort=title&limit=3&offset=6").get_json()
    assert [r["title"] for r in offset["data"]] == ["Deal 6"]
    default = root.get("/api/v1/records/deal").get_json()
    assert len(default["data"]) == 7


def test_fields_with_link_paths_and_search(root, orgs):
    new_deal(root, orgs[1], title="Printer for Berlin")
    new_deal(root, orgs[0], title="Laptop")
    page = root.get("/api/v1/records/deal?fields=title,organisation.city&sort=title").get_json()
    assert page["data"][0] == {"id": page["data"][0]["id"], "code": "D-00002", "version": 1, "title": "Laptop",
                               "organisation.city": "Hamburg"}
    assert page["data"][1]["organisation.city"] == "Berlin"
    found = root.get("/api/v1/records/deal?q=print").get_json()
    assert [r["title"] for r in found["data"]] == ["Printer for Berlin"]
    by_path = root.get("/api/v1/records/deal", query={"filter": {"field": "organisation.city", "op": "eq",
                                                                "value": "Hamburg"}}).get_json()
    assert [r["title"] for r in by_path["data"]] == ["Laptop"]


def test_patch_with_version_in_body_or_if_match_and_conflict(root, orgs):
    deal = new_deal(root, orgs[0], amount="10")
    url = f"/api/v1/records/deal/{deal['id']}"
    changed = root.patch(url, {"amount": "20", "version": 1})
    assert changed.status_code == 200 and changed.get_json()["version"] == 2
    assert changed.headers["ETag"] == '"2"'
    by_header = root.patch(url, {"title": "Renamed"}, headers={"If-Match": '"2"'})
    assert by_header.status_code == 200 and by_header.get_json()["title"] == "Renamed"
    weak = root.patch(url, {"probability": 5}, headers={"If-Match": 'W/"3"'})
    assert weak.status_code == 200
    stale = root.patch(url, {"amount": "99", "version": 2})
    assert stale.status_code == 409
    error = error_of(stale)
    assert error["code"] == "conflict"
    assert error["current"]["version"] == 4 and error["current"]["title"] == "Renamed"
    assert error["current"]["amount"] == {"amount": "20.00", "currency": "EUR"}
    missing = root.patch(url, {"amount": "99"})
    assert missing.status_code == 422 and "version" in error_of(missing)["fields"]
    both = root.patch(url, {"amount": "99", "version": 4}, headers={"If-Match": '"3"'})
    assert both.status_code == 400
    bad = root.patch(url, {"amount": "99"}, headers={"If-Match": "*"})
    assert bad.status_code == 400 and "If-Match" in error_of(bad)["fields"]
    assert root.get(url).get_json()["amount"] == {"amount": "20.00", "currency": "EUR"}


def test_validation_errors_name_every_field(root, orgs):
    response = root.post("/api/v1/records/deal", {"amount": "lots", "stage": "maybe", "organisation": 999999,
                                                  "nope": 1, "close_date": "22/11/2026"})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert set(fields) == {"title", "amount", "stage", "organisation", "nope", "close_date"}
    assert fields["title"] == ["is required"]
    assert "is not a field of 'deal'" in fields["nope"][0]
    assert root.get("/api/v1/records/deal").get_json()["count"] == 0


def test_delete_restore_trash_and_history(root, orgs):
    deal = new_deal(root, orgs[0])
    url = f"/api/v1/records/deal/{deal['id']}"
    assert root.delete(url, headers={"If-Match": '"7"'}).status_code == 409  # stale version
    assert root.delete(url).status_code == 204
    assert root.get(url).status_code == 404
    trashed = root.get(url + "?trash=true")
    assert trashed.status_code == 200 and trashed.get_json()["version"] == 2
    assert [r["id"] for r in root.get("/api/v1/records/deal?trash=true").get_json()["data"]] == [deal["id"]]
    restored = root.post(url + "/restore")
    assert restored.status_code == 200 and restored.get_json()["version"] == 3
    assert root.post(url + "/restore").status_code == 404  # not in the trash any more
    history = root.get(url + "/history")
    assert history.status_code == 200
    entries = history.get_json()["data"]
    assert [e["action"] for e in entries] == ["restore", "delete", "create"]
    assert entries[0]["at"].endswith("Z") and entries[0]["actor"]["username"] == "root"
    create = entries[-1]["changes"]
    assert {"field": "title", "key": create[1]["key"], "label": "Title", "old": None, "new": "Deal"} in create


def test_restrict_on_delete_is_a_conflict(root, orgs):
    new_deal(root, orgs[0])
    response = root.delete(f"/api/v1/records/organisation/{orgs[0]}")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "in_use" and error["usages"]


def test_bulk_creates_and_updates_in_one_transaction(root, orgs):
    first = new_deal(root, orgs[0], title="Existing", amount="1")
    rows = [{"title": f"Bulk {i}", "organisation": orgs[i % 3], "amount": str(i)} for i in range(5)]
    rows.append({"id": first["id"], "version": 1, "title": "Existing, changed"})
    response = root.post("/api/v1/records/deal/bulk", {"records": rows})
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert [d["action"] for d in data] == ["created"] * 5 + ["updated"]
    assert data[-1] == {"id": first["id"], "code": "D-00001", "version": 2, "action": "updated"}
    assert [d["code"] for d in data[:5]] == [f"D-0000{i}" for i in range(2, 7)]
    assert root.get("/api/v1/records/deal").get_json()["count"] == 6
    assert root.get(f"/api/v1/records/deal/{first['id']}").get_json()["title"] == "Existing, changed"


def test_bulk_is_all_or_nothing_with_errors_per_row(root, orgs):
    first = new_deal(root, orgs[0], title="Existing")
    rows = [{"title": "ok", "organisation": orgs[0]},
            {"organisation": orgs[0]},  # title missing
            {"title": "ok too", "amount": "abc"},
            {"id": first["id"], "version": 99, "title": "stale"},
            {"id": 123456, "version": 1, "title": "nobody"},
            {"id": first["id"], "title": "no version"}]
    response = root.post("/api/v1/records/deal/bulk", {"records": rows})
    assert response.status_code == 422
    error = error_of(response)
    assert set(error["rows"]) == {"1", "2", "3", "4", "5"}
    assert error["rows"]["1"] == {"title": ["is required"]}
    assert "amount" in error["rows"]["2"] and "version" in error["rows"]["3"]
    assert "id" in error["rows"]["4"] and "version" in error["rows"]["5"]
    assert "[1].title" in error["fields"]
    assert root.get("/api/v1/records/deal").get_json()["count"] == 1  # nothing was written
    assert root.get(f"/api/v1/records/deal/{first['id']}").get_json()["version"] == 1


def test_bulk_limits_and_shape(root, orgs):
    too_many = root.post("/api/v1/records/deal/bulk", {"records": [{"title": "x"}] * 1001})
    assert too_many.status_code == 422 and "records" in error_of(too_many)["fields"]
    assert root.post("/api/v1/records/deal/bulk", {"rows": []}).status_code == 422
    assert root.post("/api/v1/records/deal/bulk", [{"title": "x"}]).status_code == 422
    assert root.post("/api/v1/records/deal/bulk", {"records": ["x", 5]}).status_code == 422
    empty = root.post("/api/v1/records/deal/bulk", {"records": []})
    assert empty.status_code == 200 and empty.get_json() == {"data": []}
    thousand = root.post("/api/v1/records/deal/bulk", {"records": [{"title": f"t{i}"} for i in range(1000)]})
    assert thousand.status_code == 200 and len(thousand.get_json()["data"]) == 1000


def test_owner_and_shares(db, app, root, orgs):
    deal = new_deal(root, orgs[0])
    url = f"/api/v1/records/deal/{deal['id']}"
    sam_id = root.get("/api/v1/users").get_json()["data"]
    sam_id = next(u["id"] for u in sam_id if u["username"] == "sam")
    shared = root.post(url + "/shares", {"user": "sam", "level": "change"})
    assert shared.status_code == 201
    assert shared.get_json() == {"user": "sam", "user_id": sam_id, "group": None, "group_id": None, "level": "change"}
    assert root.get(url + "/shares").get_json()["data"] == [shared.get_json()]
    assert root.delete(url + f"/shares?user={sam_id}").status_code == 204
    assert root.get(url + "/shares").get_json()["data"] == []
    assert root.delete(url + "/shares").status_code == 400
    given = root.put(url + "/owner", {"owner": sam_id, "version": 1})
    assert given.status_code == 200 and given.get_json()["owner"] == {"id": sam_id, "display": "Sam"}
    assert root.put(url + "/owner", {"owner": 99999}).status_code == 422


def test_store_and_api_agree(db, root, orgs):
    """The API serialises exactly what the store returns."""
    deal = new_deal(root, orgs[2], amount="3.5", quantity="1.25")
    store = RecordStore(db)
    assert root.get(f"/api/v1/records/deal/{deal['id']}").get_json() == \
        store.to_json("deal", store.get(SYSTEM, "deal", deal["id"]))
