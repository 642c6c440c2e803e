"""Exports of a list view (/o/<object>/export.csv and .xlsx): the view's filter, sort,
search and columns over all pages, typed XLSX cells, the export right, hidden fields
left out, and spreadsheet formula injection neutralised."""
from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.platform.web import export as exports
from cardbase.platform.web import lists as web_lists
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import PASSWORD, crm_app, signed_in

NASTY = ["=HYPERLINK(\"http://evil\",\"x\")", "+49 30 1234", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"]


@pytest.fixture
def app(db):
    app = crm_app(db)
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.create_group(db, SYSTEM, "Junior")
    users.add_member(db, SYSTEM, "kim", "Junior")
    for obj in ("organisation", "deal"):
        rights.set_object_rights(db, SYSTEM, "Sales", obj, ("read", "create", "edit", "export"))
        rights.set_object_rights(db, SYSTEM, "Junior", obj, ["read"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    store = RecordStore(db)
    orgs = store.bulk_create(SYSTEM, "organisation", [{"name": n, "city": "Köln"} for n in NASTY + ["Zeta"]])
    store.bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i:02d}", "organisation": orgs[i % len(orgs)], "amount": f"{1000 + i}.50",
         "quantity": "2", "stage": "won" if i % 2 else "lead", "close_date": "2026-03-01",
         "secret_note": "TOP-SECRET"} for i in range(25)])
    return app


def client_for(app, username: str):
    return signed_in(app, username, PASSWORD)


def csv_rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode("utf-8"))  # BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_csv_holds_the_view_over_all_pages(app, monkeypatch):
    monkeypatch.setattr(web_lists, "EXPORT_BATCH", 4)  # many batches
    sam = client_for(app, "sam")
    tree = {"field": "stage", "op": "eq", "value": "won"}
    response = sam.get("/o/deal/export.csv?cols=title,amount,organisation.city,stage&sort=-title&limit=5&filter="
                       + json.dumps(tree))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"] and ".csv" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == ["Title", "Amount", "Amount (currency)", "Organisation › City", "Stage"]
    assert [r[0] for r in rows[1:]] == [f"Deal {i:02d}" for i in range(23, 0, -2)]  # 12 rows, not one page of 5
    assert rows[1][1:] == ["1023.50", "EUR", "Köln", "Won"]  # the amount a plain number, its currency beside it


def test_csv_in_german_uses_semicolons(app, db):
    users.update_user(db, SYSTEM, users.find_user(db, "sam").id, language="de")
    rows = list(csv.reader(io.StringIO(client_for(app, "sam").get("/o/deal/export.csv?cols=title,amount&sort=title")
                                       .get_data().decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Title", "Amount", "Amount (Währung)"]  # the currency column named in German
    assert rows[1] == ["Deal 00", "1000,50", "EUR"]  # German Excel reads 1000,50 as a number


def stored_names(db) -> list[str]:
    """The names as stored (a string field trims a leading tab or line break itself)."""
    return [r["name"] for r in RecordStore(db).list(SYSTEM, "organisation").data]


def test_csv_neutralises_formula_injection(app, db):
    rows = csv_rows(client_for(app, "sam").get("/o/organisation/export.csv?cols=name,city&sort=name"))
    names = [r[0] for r in rows[1:]]
    stored = stored_names(db)
    assert sum(n.startswith(exports.DANGEROUS_START) for n in stored) == 4
    assert sorted(names) == sorted(("'" + n) if n.startswith(exports.DANGEROUS_START) else n for n in stored)
    for cell in names:
        assert not cell.startswith(exports.DANGEROUS_START)
    # a link column shows the (neutralised) display text of the target
    rows = csv_rows(client_for(app, "sam").get("/o/deal/export.csv?cols=title,organisation&sort=title"))
    assert rows[1] == ["Deal 00", "'" + NASTY[0]]


def test_xlsx_has_typed_cells_and_no_formulas(app):
    sam = client_for(app, "sam")
    response = sam.get("/o/deal/export.xlsx?cols=title,amount,quantity,close_date,organisation&sort=title")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == web_lists.FORMATS["xlsx"]
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == ["Title", "Amount", "Quantity", "Close date", "Organisation"]
    assert len(rows) == 26
    title, amount, quantity, close, org = rows[1]
    assert title.value == "Deal 00"
    assert amount.value == Decimal("1000.50") or amount.value == 1000.5
    assert '"EUR"' in amount.number_format
    assert quantity.value == 2
    assert close.value.year == 2026 and close.is_date
    assert org.value == NASTY[0] and org.data_type == "s" and org.quotePrefix  # text, never a formula
    for row in rows:
        for cell in row:
            assert cell.data_type != "f", (cell.coordinate, cell.value)


def test_xlsx_neutralises_every_dangerous_start(app, db):
    response = client_for(app, "sam").get("/o/organisation/export.xlsx?cols=name&sort=name")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    assert {c.value for c in cells} == set(stored_names(db))
    for cell in cells:
        assert cell.data_type == "s"
        assert bool(cell.quotePrefix) == cell.value.startswith(exports.DANGEROUS_START)


def exported_cells(response, fmt: str) -> list[str]:
    """Every cell of an export as text (an XLSX file is a zip: its bytes say nothing)."""
    if fmt == "csv":
        return [cell for row in csv_rows(response) for cell in row]
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    return [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]


def test_hidden_fields_are_never_exported(app):
    sam, root = client_for(app, "sam"), client_for(app, "root")
    for fmt in ("csv", "xlsx"):
        response = sam.get(f"/o/deal/export.{fmt}")
        assert response.status_code == 200
        cells = exported_cells(response, fmt)
        assert "Deal 00" in cells  # the export holds the deals ...
        assert "TOP-SECRET" not in cells and "Secret note" not in cells  # ... without the hidden field
        refused = sam.get(f"/o/deal/export.{fmt}?cols=title,secret_note")
        assert refused.status_code == 400
        assert "secret_note" in refused.get_data(as_text=True)
        assert b"TOP-SECRET" not in refused.get_data()
        # the same check finds the value where it may be exported: root sees everything
        assert "TOP-SECRET" in exported_cells(root.get(f"/o/deal/export.{fmt}?cols=title,secret_note"), fmt)


def test_export_needs_the_export_right(app):
    kim = client_for(app, "kim")  # read only
    for fmt in ("csv", "xlsx"):
        response = kim.get(f"/o/deal/export.{fmt}")
        assert response.status_code == 403
        assert "export" in response.get_data(as_text=True)
        assert b"Deal 0" not in response.get_data()


def test_bad_export_requests_get_a_clear_message(app):
    sam = client_for(app, "sam")
    response = sam.get("/o/deal/export.pdf")
    assert response.status_code == 404 and "CSV or XLSX" in response.get_data(as_text=True)
    response = sam.get("/o/deal/export.csv?filter={oops")
    assert response.status_code == 400 and "Filter" in response.get_data(as_text=True)
    response = sam.get('/o/deal/export.csv?filter={"field": "amount", "op": "eq", "value": "lots"}')
    assert response.status_code == 400 and "amount" in response.get_data(as_text=True)
    response = sam.get("/o/deal/export.xlsx?sort=nonsense")
    assert response.status_code == 400 and "nonsense" in response.get_data(as_text=True)


def test_tab_and_line_break_starts_are_neutralised_too(tmp_path):
    """A text field keeps a leading tab or carriage return (a string field trims them)."""
    from cardbase.schema_engine.snapshot import FieldInfo

    field = FieldInfo(1, 1, "note", "Note", "text", column="f1")
    column = exports.Column("note", "Note", field)
    batches = [[{"note": "\t=cmd"}, {"note": "\r@x"}, {"note": "fine"}]]
    rows = list(csv.reader(io.StringIO("".join(exports.csv_chunks([column], batches, "en")).lstrip("\ufeff"))))
    assert rows == [["Note"], ["'\t=cmd"], ["'\r@x"], ["fine"]]
    handle = exports.xlsx_file([column], batches, "en", "Notes: [all]")
    sheet = load_workbook(handle).active
    assert sheet.title == "Notes   all"
    assert [(c.value, c.data_type, bool(c.quotePrefix)) for (c,) in sheet.iter_rows(min_row=2)] == [
        ("\t=cmd", "s", True), ("\r@x", "s", True), ("fine", "s", False)]


def test_neutralise_unit():
    assert exports.neutralise("=1+1") == "'=1+1"
    assert exports.neutralise("plain") == "plain"
    assert exports.neutralise("") == ""
    assert all(exports.neutralise(c + "x").startswith("'") for c in "=+-@\t\r")
