"""Exports through the REST API: the same file as the browser's export (the same writers
over ``RecordStore.export``), CSV and XLSX, the export right, hidden fields refused,
columns and sort from the table design by default, and formula injection neutralised."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import PASSWORD, api_for, crm_app, error_of

URL = "/api/v1/records/deal/export"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def app(db):
    app = crm_app(db)
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    store = RecordStore(db)
    org = store.create(SYSTEM, "organisation", {"name": "=HYPERLINK(\"http://evil\")", "city": "Köln"})["id"]
    store.bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i:02d}", "amount": f"{100 + i}.50", "stage": "won" if i % 2 else "lead",
         "organisation": org, "close_date": "2026-03-01", "secret_note": "TOP-SECRET"} for i in range(7)])
    return app


def rows_of(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_export_is_the_browsers_file(app, root):
    query = {"fields": "title,amount,organisation,organisation.city", "sort": "-title",
             "filter": {"field": "stage", "op": "eq", "value": "won"}}
    response = root.get(URL, query=query)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["X-Total-Count"] == "3"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="deal-')
    rows = rows_of(response)
    assert rows[0] == ["Title", "Amount", "Amount (currency)", "Organisation", "Organisation › City"]
    assert rows[1][0] == "Deal 05" and rows[1][3] == "'=HYPERLINK(\"http://evil\")"  # neutralised
    assert [r[0] for r in rows[1:]] == ["Deal 05", "Deal 03", "Deal 01"]
    browser = app.test_client()
    assert browser.post("/login", data={"username": "root", "password": PASSWORD}).status_code == 302
    web = browser.get("/o/deal/export.csv", query_string={"cols": "title,amount,organisation,organisation.city",
                                                          "sort": "-title", "filter": '{"field": "stage", '
                                                          '"op": "eq", "value": "won"}'})
    assert web.status_code == 200 and web.get_data() == response.get_data()


def test_xlsx_export_has_typed_cells(root):
    response = root.get(URL, query={"format": "xlsx", "fields": "title,amount,close_date", "sort": "title"})
    assert response.status_code == 200 and response.mimetype == XLSX
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Title", "Amount", "Close date")
    assert rows[1][0] == "Deal 00" and float(rows[1][1]) == 100.5 and rows[1][2].year == 2026
    assert len(rows) == 8 and sheet.title == "Deals"


def test_columns_and_sort_default_to_the_table_design(root):
    root.put("/api/v1/objects/deal/table", {"columns": ["title", "stage"], "sort": "-title"})
    rows = rows_of(root.get(URL))
    assert rows[0] == ["Title", "Stage"] and rows[1] == ["Deal 06", "Lead"]


def test_export_needs_the_export_right_and_refuses_hidden_fields(app, db, root):
    sam = api_for(app, db, "sam")
    refused = sam.get(URL)
    assert refused.status_code == 403 and error_of(refused)["message"] == "you may not export Deals"
    assert URL not in sam.get("/api/openapi.json").get_json()["paths"]  # not offered without the right
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "export"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    assert URL in sam.get("/api/openapi.json").get_json()["paths"]
    rows = rows_of(sam.get(URL))
    assert "Secret note" not in rows[0] and "TOP-SECRET" not in str(rows)
    hidden = sam.get(URL, query={"fields": "title,secret_note"})
    assert hidden.status_code == 400 and error_of(hidden)["code"] == "invalid_query"
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    assert rows_of(sam.get(URL, query={"fields": "title"})) == [["Title"]]  # the row filter holds


def test_bad_export_requests_are_refused_in_json(root):
    assert error_of(root.get(URL, query={"format": "pdf"}))["fields"] == {
        "format": ["'pdf' is not an export format: use csv or xlsx"]}
    assert error_of(root.get(URL, query={"fields": "nope"}))["code"] == "invalid_query"
    assert error_of(root.get(URL, query={"sort": "nope"}))["code"] == "invalid_query"
    assert error_of(root.get(URL, query={"filter": "{"}))["code"] == "bad_request"
    assert error_of(root.get("/api/v1/records/nothing/export"))["code"] == "not_found"
