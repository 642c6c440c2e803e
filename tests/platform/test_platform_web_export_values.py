"""Issue 14, point 7: an export holds values, not their decoration. CSV numbers are plain
numbers (no grouping, the locale's decimal mark) and a money column is followed by its
currency; phone numbers are written as shown, without the apostrophe that keeps real
formulas from running; every cell of an export, imported again through the field types'
import parsing, gives the stored value back. XLSX cells keep their types."""
from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.platform.web import export as exports
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import crm_app, signed_in

COLS = "title,amount,quantity,probability,close_date,stage,phone,organisation"


@pytest.fixture
def app(db):
    app = crm_app(db)
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "phone", "label": "Phone", "type": "phone"})
    store = RecordStore(db)
    org = store.create(SYSTEM, "organisation", {"name": "=HYPERLINK(\"http://evil\")", "city": "Köln"})
    store.bulk_create(SYSTEM, "deal", [
        {"title": "Big", "amount": {"amount": "1040.00", "currency": "EUR"}, "quantity": "1234.5", "probability": 80,
         "close_date": "2026-03-01", "stage": "won", "phone": "+49 30 1234567", "organisation": org["id"]},
        {"title": "Dollar", "amount": {"amount": "-100.25", "currency": "USD"}, "quantity": "-2", "probability": 5,
         "close_date": "2026-12-24", "stage": "lead", "phone": "030 7654321"},
        {"title": "Empty"},
    ])
    return app


def csv_table(response, delimiter: str = ",") -> list[list[str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=delimiter))


def by_title(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    header = rows[0]
    return {row[0]: dict(zip(header, row)) for row in rows[1:]}


@pytest.mark.parametrize("language, delimiter, big_amount, big_quantity", [
    ("en", ",", "1040.00", "1234.50"), ("de", ";", "1040,00", "1234,50")])
def test_csv_numbers_are_plain_and_phones_have_no_apostrophe(app, db, language, delimiter, big_amount, big_quantity):
    users.update_user(db, SYSTEM, users.find_user(db, "root").id, language=language)
    root = signed_in(app, "root")
    rows = by_title(csv_table(root.get(f"/o/deal/export.csv?cols={COLS}&sort=title"), delimiter))
    big, dollar, empty = rows["Big"], rows["Dollar"], rows["Empty"]
    amount_currency = [k for k in big if k not in ("Title", "Amount") and big[k] in ("EUR",)][0]
    assert (big["Amount"], big[amount_currency]) == (big_amount, "EUR")
    assert (dollar["Amount"], dollar[amount_currency]) == ("-100.25".replace(".", "," if language == "de" else "."),
                                                           "USD")  # negative numbers are numbers, not formulas
    assert big["Quantity"] == big_quantity and big["Probability"] == "80"
    assert big["Phone"] == "+49 30 1234567" and dollar["Phone"] == "+49 30 7654321"  # as shown, no apostrophe
    assert big["Organisation"] == "'=HYPERLINK(\"http://evil\")"  # a real formula stays neutralised
    assert empty["Amount"] == "" and empty[amount_currency] == "" and empty["Phone"] == ""


@pytest.mark.parametrize("language", ["en", "de"])
def test_a_csv_imported_again_gives_the_same_values(app, db, language):
    """Each cell through its field type's import parsing (what an import does) gives back
    the stored value: money from its amount and currency columns."""
    users.update_user(db, SYSTEM, users.find_user(db, "root").id, language=language)
    root = signed_in(app, "root")
    cols = "title,amount,quantity,probability,close_date,stage,phone"
    table = csv_table(root.get(f"/o/deal/export.csv?cols={cols}&sort=title"), ";" if language == "de" else ",")
    schema = db.schema()
    deal = schema.object("deal")
    stored = {r["title"]: r for r in RecordStore(db).list(SYSTEM, "deal").data}
    names = ["title", "amount", "amount_currency", "quantity", "probability", "close_date", "stage", "phone"]
    assert len(table[0]) == len(names)
    checked = 0
    for row in table[1:]:
        cells = dict(zip(names, row))
        record = stored[cells["title"]]
        for name in ("quantity", "probability", "close_date", "stage", "phone"):
            field = deal.fields_by_name[name]
            assert field.ftype.import_value(field, cells[name]) == record[name], (name, cells[name])
            checked += 1
        money = deal.fields_by_name["amount"]
        text = f"{cells['amount']} {cells['amount_currency']}".strip()
        assert money.ftype.import_value(money, text) == record["amount"], text
    assert checked == 15
    assert stored["Dollar"]["amount"] == Money(Decimal("-100.25"), "USD")


def test_xlsx_keeps_types(app):
    root = signed_in(app, "root")
    response = root.get(f"/o/deal/export.xlsx?cols={COLS}&sort=title")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header == ["Title", "Amount", "Quantity", "Probability", "Close date", "Stage", "Phone", "Organisation"]
    big = dict(zip(header, rows[1]))
    assert big["Amount"].data_type == "n" and Decimal(str(big["Amount"].value)) == Decimal("1040")
    assert '"EUR"' in big["Amount"].number_format
    assert big["Quantity"].data_type == "n" and Decimal(str(big["Quantity"].value)) == Decimal("1234.5")
    assert big["Probability"].value == 80 and isinstance(big["Probability"].value, int)
    assert big["Close date"].is_date and big["Close date"].value.year == 2026
    assert big["Stage"].value == "Won" and big["Stage"].data_type == "s"
    assert big["Phone"].value == "+49 30 1234567" and big["Phone"].data_type == "s"  # text, not a number or formula
    dollar = dict(zip(header, rows[2]))
    assert '"USD"' in dollar["Amount"].number_format and float(dollar["Amount"].value) == -100.25
    for row in rows:
        for cell in row:
            assert cell.data_type != "f"


def test_plain_number_unit():
    assert exports.plain_number(Decimal("1040.50"), "en") == "1040.50"
    assert exports.plain_number(Decimal("1040.50"), "de") == "1040,50"
    assert exports.plain_number(Decimal("-0.05"), "en") == "-0.05"
    assert exports.plain_number(1234567, "de") == "1234567"
    assert exports.plain_number(Decimal("1E+3"), "en") == "1000"
