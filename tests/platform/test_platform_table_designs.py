"""Several named table designs per object (issue 14, point 10) in every channel: the REST
API (list, create, read, replace, patch, delete, ETag, OpenAPI), the list page's chooser
(like the card switch) and the table designer (add, rename, make default, delete)."""
from __future__ import annotations

import json
import re

import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import table_designs as td

from api_testlib import api_for, error_of
from designer2_testlib import hidden
from test_platform_web_lists import client_for, headers, list_app, page_of


@pytest.fixture
def app(db):
    return list_app(db)


@pytest.fixture
def root(app, db):
    return api_for(app, db, "root")


def designs(db):
    return [(t["name"], t["is_default"]) for t in td.list_tables(db, "deal")]


# ---- REST API ---------------------------------------------------------------------------------------
def test_api_creates_reads_changes_and_deletes_named_tables(root, db):
    assert root.get("/api/v1/objects/deal/tables").get_json() == {"data": []}
    made = root.post("/api/v1/objects/deal/tables", {"name": "Wide", "definition": {"columns": ["title", "amount"]}})
    assert made.status_code == 201, made.get_json()
    wide = made.get_json()
    assert wide["is_default"] is True and made.headers["Location"].endswith(f"/tables/{wide['id']}")
    copy = root.post("/api/v1/objects/deal/tables", {"name": "Copy"}).get_json()  # a copy of the default
    assert [c["field"] for c in copy["definition"]["columns"]] == ["title", "amount"] and not copy["is_default"]
    url = f"/api/v1/objects/deal/tables/{copy['id']}"
    got = root.get(url)
    assert got.get_json() == copy and got.headers["ETag"]
    changed = root.patch(url, {"name": "Short", "is_default": True, "definition": {"columns": ["title"]}},
                         headers={"If-Match": got.headers["ETag"]})
    assert changed.status_code == 200, changed.get_json()
    assert designs(db) == [("Wide", False), ("Short", True)]
    stale = root.put(url, {"name": "Lost", "definition": {"columns": ["amount"]}}, headers={"If-Match": got.headers["ETag"]})
    assert stale.status_code == 409 and designs(db) == [("Wide", False), ("Short", True)]
    # the old single-table endpoint reads the default design
    assert [c["field"] for c in root.get("/api/v1/objects/deal/table").get_json()["columns"]] == ["title"]
    assert root.delete(url).status_code == 204
    assert designs(db) == [("Wide", True)]


def test_api_bad_input_names_the_problem_and_writes_nothing(root, db, app):
    root.post("/api/v1/objects/deal/tables", {"name": "Wide", "definition": {"columns": ["title"]}})
    twice = root.post("/api/v1/objects/deal/tables", {"name": "WIDE"})
    assert twice.status_code == 422 and "already has a table named 'Wide'" in json.dumps(error_of(twice))
    bad = root.post("/api/v1/objects/deal/tables", {"name": "X", "definition": {"columns": ["nope"]}})
    assert bad.status_code == 422 and "columns[0].field" in json.dumps(error_of(bad))
    unknown = root.post("/api/v1/objects/deal/tables", {"name": "Y", "colour": "red"})
    assert unknown.status_code in (400, 422) and "colour" in json.dumps(error_of(unknown))
    assert root.get("/api/v1/objects/deal/tables/999").status_code == 404
    sam = api_for(app, db, "sam")  # reads deals, may not configure them
    assert sam.post("/api/v1/objects/deal/tables", {"name": "Mine"}).status_code in (403, 404)
    assert designs(db) == [("Wide", True)]


def test_openapi_describes_the_table_design_endpoints(root):
    doc = root.get("/api/openapi.json").get_json()
    OPENAPI_31_VALIDATOR.validate(doc)
    assert set(doc["paths"]["/api/v1/objects/{object_name}/tables"]) == {"get", "post"}
    assert set(doc["paths"]["/api/v1/objects/{object_name}/tables/{table_ref}"]) == {"get", "put", "patch", "delete"}
    assert "is_default" in doc["components"]["schemas"]["TableDesign"]["properties"]


# ---- the list page's chooser ------------------------------------------------------------------------
def test_the_list_offers_the_named_tables_and_shows_the_chosen_one(app, db):
    sam = client_for(app, "sam")
    assert 'id="cb-table-chooser"' not in page_of(sam, "/o/deal")  # one table: no chooser
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title", "organisation", "amount"]})
    short = td.save_design(db, SYSTEM, "deal", "Short", {"columns": ["title", "stage"], "sort": "title"})
    body = page_of(sam, "/o/deal")
    assert 'id="cb-table-chooser"' in body and "Table: Wide" in body
    assert headers(body)[-3:] == ["Title", "Organisation", "Amount"]
    links = re.findall(r'href="(/o/deal\?table=\d+)"', body)
    assert len(links) == 2
    chosen = page_of(sam, f"/o/deal?table={short['id']}")
    assert "Table: Short" in chosen and headers(chosen)[-2:] == ["Title", "Stage"]
    # sorting keeps the chosen table
    assert f"table={short['id']}" in re.search(r'<a[^>]+href="([^"]*sort=[^"]*)"', chosen).group(1).replace("&amp;", "&")
    # an unknown table is named and the default one is shown
    missing = page_of(sam, "/o/deal?table=999")
    assert "Table: Deals has no table #999." in missing and headers(missing)[-3:] == ["Title", "Organisation", "Amount"]


def test_the_chooser_in_german(app, db):
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title"]})
    td.save_design(db, SYSTEM, "deal", "Kurz", {"columns": ["title"]})
    sam = client_for(app, "sam")
    sam.post("/account/language", data={"language": "de"})
    body = page_of(sam, "/o/deal")
    assert "Tabelle: Wide" in body
    assert "haben keine Tabelle #999." in page_of(sam, "/o/deal?table=999")


# ---- the table designer -----------------------------------------------------------------------------
URL = "/designer/objects/deal/table"


def test_the_designer_adds_renames_makes_default_and_deletes_tables(app, db):
    root = client_for(app, "root")
    page = page_of(root, URL)
    assert 'id="cb-table-designs"' in page and "Standard" in page
    added = root.post(URL, data={"action": "new_design", "name": "Compact"})
    assert added.status_code == 302
    assert designs(db) == [("Compact", True)]  # the first named design is the default
    compact = td.list_tables(db, "deal")[0]["id"]
    second = root.post(f"{URL}?table={compact}", data={"action": "new_design", "name": "Wide"})
    wide = td.list_tables(db, "deal")[1]["id"]
    assert second.headers["Location"].endswith(f"table={wide}")
    # edit the second design's columns through the designer's main form
    url = f"{URL}?table={wide}"
    state = hidden(page_of(root, url), "state")
    saved = root.post(url, data={"state": state, "definition": json.dumps({"columns": [{"field": "amount"}],
                                                                            "sort": []}), "filter": "", "page_size": "20"})
    assert saved.status_code == 302
    assert [c["field"] for c in td.get_table(db, "deal", wide)["definition"]["columns"]] == ["amount"]
    assert [c["field"] for c in td.get_table(db, "deal", compact)["definition"]["columns"]] != ["amount"]
    # rename and make default
    assert root.post(url, data={"action": "rename_design", "name": "Amounts", "is_default": "1"}).status_code == 302
    assert designs(db) == [("Compact", False), ("Amounts", True)]
    # a duplicate name is refused and named, nothing changes
    refused = root.post(url, data={"action": "rename_design", "name": "compact"})
    assert refused.status_code == 422 and "already has a table named" in refused.get_data(as_text=True)
    assert designs(db) == [("Compact", False), ("Amounts", True)]
    assert root.post(url, data={"action": "delete_design"}).status_code == 302
    assert designs(db) == [("Compact", True)]
    assert page_of(root, f"{URL}?table=999", 404)


def test_the_export_link_follows_the_chosen_table(app, db):
    td.save_design(db, SYSTEM, "deal", "Wide", {"columns": ["title", "organisation", "amount"]})
    short = td.save_design(db, SYSTEM, "deal", "Short", {"columns": ["title", "stage"], "sort": "title"})
    root = client_for(app, "root")
    body = page_of(root, f"/o/deal?table={short['id']}")
    href = re.search(r'id="cb-export-csv"\s+href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert f"table={short['id']}" in href
    csv_text = root.get(href).get_data(as_text=True).lstrip("\ufeff")
    assert csv_text.splitlines()[0].split(",")[:2] == ["Title", "Stage"]
    assert csv_text.splitlines()[1].startswith("Deal 000,")
