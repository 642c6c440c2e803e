"""Issue 19, points 11, 12 and 14 through the REST API:

* ``POST /api/v1/records/{object}/query``: the list with its parameters in a JSON body, for
  filters too long for a URL -- the same limits (1,000 values in an ``in``), rights and
  answers as the GET, clear errors for bad bodies, documented in the live OpenAPI;
* forged page cursors on ``GET /api/v1/records/deal?cursor=...`` are a 400 naming
  ``cursor``, never a 500, on both engines;
* the history leaves out updates of fields hidden from the caller."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of, seed_orgs

URL = "/api/v1/records/deal"


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


@pytest.fixture
def deals(db, app) -> list[int]:
    orgs = seed_orgs(db, 3)
    return RecordStore(db).bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i:02d}", "amount": f"{100 + i}.50", "quantity": f"{i}.25", "probability": i * 10,
         "stage": "won" if i % 2 else "lead", "close_date": f"2026-03-{i + 1:02d}", "organisation": orgs[i % 3],
         "secret_note": f"note {i}", "tags": ["hot"] if i % 2 else []} for i in range(12)])


# ---- POST .../query ----------------------------------------------------------------------------
def test_post_query_answers_as_the_get_list(root, deals):
    flt = {"field": "stage", "op": "eq", "value": "won"}
    got = root.get(URL, query={"filter": flt, "sort": "-amount", "limit": 3, "fields": "title,organisation.city"})
    posted = root.post(URL + "/query", {"filter": flt, "sort": "-amount", "limit": 3,
                                        "fields": ["title", "organisation.city"]})
    assert got.status_code == posted.status_code == 200
    assert posted.get_json() == got.get_json()
    assert posted.get_json()["count"] == 6 and len(posted.get_json()["data"]) == 3
    # walking the pages by cursor
    seen, cursor = [], None
    while True:
        page = root.post(URL + "/query", {"filter": flt, "sort": ["-amount"], "limit": 4, "cursor": cursor,
                                          "count": False})
        assert page.status_code == 200, page.get_json()
        assert page.get_json()["count"] == -1
        seen += [r["title"] for r in page.get_json()["data"]]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"Deal {i:02d}" for i in (11, 9, 7, 5, 3, 1)]
    assert root.post(URL + "/query", {"q": "Deal 07", "fields": "title"}).get_json()["data"][0]["title"] == "Deal 07"
    assert root.post(URL + "/query", {}).get_json()["count"] == 12  # an empty body object: the first page


def test_post_query_takes_a_thousand_values_and_refuses_more(root, deals):
    values = [f"Deal {i:02d}" for i in range(12)] + [f"other title number {i:06d}" for i in range(988)]
    assert len(json.dumps({"field": "title", "op": "in", "value": values})) > 4094  # too long for a GET
    ok = root.post(URL + "/query", {"filter": {"field": "title", "op": "in", "value": values}, "limit": 500})
    assert ok.status_code == 200, ok.get_json()
    assert ok.get_json()["count"] == 12
    refused = root.post(URL + "/query", {"filter": {"field": "title", "op": "in", "value": values + ["x"]}})
    assert refused.status_code == 400
    error = error_of(refused)
    assert error["code"] == "invalid_query"
    assert error["fields"] == {"filter": ["'title': at most 1000 values are allowed, got 1001"]}


@pytest.mark.parametrize("body, field", [
    ({"filters": {}}, "filters"), ({"limit": "10"}, "limit"), ({"limit": 0}, "limit"), ({"limit": 501}, "limit"),
    ({"limit": True}, "limit"), ({"offset": -1}, "offset"), ({"offset": 1.5}, "offset"), ({"q": 5}, "q"),
    ({"q": "x" * 201}, "q"), ({"cursor": 5}, "cursor"), ({"cursor": "garbage"}, "cursor"),
    ({"cursor": "eyJ4IjoxfQ", "offset": 5}, "cursor"), ({"trash": "yes"}, "trash"), ({"count": 1}, "count"),
    ({"fields": [1]}, "fields"), ({"fields": {"a": 1}}, "fields"), ({"fields": ["nope"]}, "fields"),
    ({"fields": ["secret"]}, "fields"), ({"sort": 5}, "sort"), ({"sort": ["nope"]}, "sort"),
    ({"filter": "stage"}, "filter"), ({"filter": {"field": "nope", "op": "eq", "value": 1}}, "filter"),
    ({"filter": {"field": "amount", "op": "eq", "value": "abc"}}, "filter"),
])
def test_post_query_refuses_bad_bodies_by_name(root, deals, body, field):
    response = root.post(URL + "/query", body)
    assert response.status_code == 400, (body, response.get_json())
    error = error_of(response)
    assert error["code"] == "invalid_query" and field in error["fields"], error


def test_post_query_refuses_bodies_that_are_not_query_objects(root, deals):
    for raw, status, code in ((b"[1, 2]", 400, "invalid_query"), (b'"x"', 400, "invalid_query"),
                              (b"{", 400, "invalid_json"), (b"", 400, "missing_body"),
                              (b'{"limit": NaN}', 400, "invalid_json")):
        response = root.call("POST", URL + "/query", raw=raw, content_type="application/json")
        assert response.status_code == status and error_of(response)["code"] == code, raw
    as_form = root.call("POST", URL + "/query", raw=b"limit=1", content_type="application/x-www-form-urlencoded")
    assert as_form.status_code == 415
    assert root.post("/api/v1/records/nothing/query", {}).status_code == 404


def test_post_query_has_the_rights_of_the_list(app, db, root, deals):
    sam = api_for(app, db, "sam")
    refused = sam.post(URL + "/query", {})
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    page = sam.post(URL + "/query", {"limit": 2}).get_json()
    assert len(page["data"]) == 2 and all("secret_note" not in r for r in page["data"])
    for body in ({"fields": ["title", "secret_note"]}, {"sort": "secret_note"},
                 {"filter": {"field": "secret_note", "op": "eq", "value": "note 1"}}):
        hidden = sam.post(URL + "/query", body)
        assert hidden.status_code == 400 and "secret_note" in json.dumps(error_of(hidden)["fields"]), body
        assert hidden.get_json() == sam.get(URL, query={k: (",".join(v) if k == "fields" else v)
                                                      for k, v in body.items()}).get_json()
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    assert sam.post(URL + "/query", {}).get_json()["data"] == []  # the row filter holds


def test_post_query_is_in_the_live_openapi_description(app, db, root, deals):
    doc = root.get("/api/openapi.json").get_json()
    operation = doc["paths"][URL + "/query"]["post"]
    assert operation["operationId"] == "query_deal"
    schema_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = doc["components"]["schemas"][schema_ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"filter", "sort", "fields", "q", "limit", "cursor", "offset", "trash",
                                         "count"}
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    sam = api_for(app, db, "sam")  # no read right: not offered
    assert URL + "/query" not in sam.get("/api/openapi.json").get_json()["paths"]


# ---- forged cursors ----------------------------------------------------------------------------
def _payload(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _forge(h: str, values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"h": h, "k": values}).encode()).decode().rstrip("=")


BAD_VALUES = [2**63, -(2**63) - 1, 2**64, 10**30, {"$dec": "NaN"}, {"$dec": "sNaN"}, {"$dec": "Infinity"},
              {"$dec": "-Infinity"}, {"$dec": "1E+100000"}, {"$date": "2026-13-45"}, {"$dt": "x"}, [1], {},
              "a\x00b", "\udcff", True, 1.5, "text", {"$date": "2026-01-01"}, {"$dt": "2026-01-01T00:00:00"}]
SORTS = {"close_date": "date", "created_at": "datetime", "quantity": "decimal", "amount": "money",
         "probability": "integer", "title": "text", "organisation": "link", "stage": "choice", "tags": "multi",
         "owner": "user", "id": "id"}


def test_forged_cursors_are_400_never_500(root, deals):
    """Each column type, a wrong-type value, huge ints, NaN/sNaN/Infinity decimals, a wrong
    number of keys, not base64, another object's and another filter's cursor."""
    tried = 0
    for sort in SORTS:
        for desc in ("", "-"):
            first = root.get(URL, query={"sort": desc + sort, "limit": 2})
            assert first.status_code == 200, (sort, first.get_json())
            real = first.get_json()["next_cursor"]
            h, good = _payload(real)["h"], _payload(real)["k"]
            assert root.get(URL, query={"sort": desc + sort, "limit": 2, "cursor": _forge(h, good)}).status_code == 200
            corpus = [[v, *good[1:]] for v in BAD_VALUES] + [[*good[:-1], v] for v in BAD_VALUES]
            corpus += [[], good[:-1], [*good, 1], None, {"a": 1}]
            for values in corpus:
                cursor = _forge(h, values)
                response = root.get(URL, query={"sort": desc + sort, "limit": 2, "cursor": cursor})
                if response.status_code == 200:  # a value that fits the key (e.g. a text for a text key)
                    continue
                assert response.status_code == 400, (sort, values, response.status_code)
                error = error_of(response)
                assert error["code"] == "invalid_query" and list(error["fields"]) == ["cursor"], (sort, values)
                tried += 1
                posted = root.post(URL + "/query", {"sort": desc + sort, "limit": 2, "cursor": cursor})
                assert posted.status_code == 400 and list(error_of(posted)["fields"]) == ["cursor"]
    assert tried > 400
    for bad in ("!!!", "ü", "not base64", "e30", "W10", "A" * 3999):
        response = root.get(URL, query={"cursor": bad})
        assert response.status_code == 400 and list(error_of(response)["fields"]) == ["cursor"], bad
    org_cursor = root.get("/api/v1/records/organisation", query={"limit": 1}).get_json()["next_cursor"]
    other_filter = root.get(URL, query={"limit": 1, "filter": {"field": "stage", "op": "eq", "value": "won"}})
    for cursor in (org_cursor, other_filter.get_json()["next_cursor"]):
        response = root.get(URL, query={"limit": 1, "cursor": cursor})
        assert response.status_code == 400
        assert "another object, sort, filter or search" in error_of(response)["fields"]["cursor"][0]


# ---- history -----------------------------------------------------------------------------------
def test_history_leaves_out_updates_of_hidden_fields_only(app, db, root, deals):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "edit"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    url = f"{URL}/{deals[0]}"
    assert root.patch(url, {"secret_note": "changed", "version": 1}).status_code == 200
    assert root.patch(url, {"secret_note": "again", "title": "Renamed", "version": 2}).status_code == 200
    full = root.get(url + "/history").get_json()["data"]
    assert [e["action"] for e in full] == ["update", "update", "create"]
    mine = api_for(app, db, "sam").get(url + "/history").get_json()["data"]
    assert [e["action"] for e in mine] == ["update", "create"]
    assert [c["field"] for c in mine[0]["changes"]] == ["title"]
    assert all(c["field"] != "secret_note" for e in mine for c in e["changes"])
