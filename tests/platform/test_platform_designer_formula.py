"""The formula editor: the live check returns errors with their character position, the
result type and a preview value computed on a real record read through the record store
as the user (hidden fields give no preview); formulas with errors are never saved."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from designer_testlib import client_for, designer_app, error_under, field_form, page, text_of

from api_testlib import PASSWORD
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

CHECK = "/designer/objects/deal/formula/check"


@pytest.fixture
def app(db):
    return designer_app(db)


@pytest.fixture
def root(app):
    return client_for(app, "root")


@pytest.fixture
def deal(db):
    org = RecordStore(db).create(SYSTEM, "organisation", {"name": "ACME", "city": "Berlin"})
    return RecordStore(db).create(SYSTEM, "deal", {
        "title": "Big one", "amount": {"amount": "100.50", "currency": "EUR"}, "quantity": "3",
        "organisation": org["id"], "secret_note": "between us"})


@pytest.mark.parametrize("formula, position, words", [
    ("[Amount] * [Nope]", 11, "unknown field [Nope]"),
    ("[Amount] *", 10, ""),
    ("[Title] * 2", 0, "text"),
    ('IF([Amount] > 1, "big")  + 1', None, ""),
    ("SUM(1, 2", 3, "not closed"),
    ("FOO([Amount])", 0, "FOO"),
])
def test_errors_come_back_with_their_position(root, formula, position, words):
    response = root.post(CHECK, json={"formula": formula})
    assert response.status_code == 200
    result = response.get_json()
    assert result["ok"] is False and result["message"]
    assert words in result["message"]
    if position is not None:
        assert result["position"] == position, result
        assert result["line"] == 1 and result["column"] == position + 1
    else:
        assert isinstance(result["position"], int)


def test_a_position_on_the_second_line(root):
    result = root.post(CHECK, json={"formula": "[Amount]\n * [Missing]"}).get_json()
    assert (result["ok"], result["line"], result["column"], result["position"]) == (False, 2, 4, 12)


def test_a_valid_formula_gives_its_type_and_a_preview_on_a_real_record(root, deal):
    result = root.post(CHECK, json={"formula": "[Amount] * [Quantity] + 1", "record": deal["id"]}).get_json()
    assert result["ok"] is True and result["result_type"] == "number"
    assert result["preview"]["ok"] is True and result["preview"]["record"] == deal["id"]
    assert result["preview"]["value"] == "302.50"
    # links are followed through the store too
    result = root.post(CHECK, json={"formula": 'UPPER([Organisation].[City]) & "!"', "record": deal["id"]}).get_json()
    assert result["preview"]["value"] == "BERLIN!"
    # without a chosen record: the newest record the user may read
    result = root.post(CHECK, json={"formula": "LEN([Title])"}).get_json()
    assert result["preview"]["value"] == "7.00" and result["preview"]["record"] == deal["id"]


def test_child_lists_are_summed_in_the_preview(root, db, deal):
    org_id = deal["organisation"].id
    RecordStore(db).create(SYSTEM, "deal", {"title": "Small", "amount": {"amount": "9.50", "currency": "EUR"},
                                            "organisation": org_id})
    result = root.post("/designer/objects/organisation/formula/check",
                       json={"formula": "SUM([Deals].[Amount])", "record": org_id}).get_json()
    assert result["ok"] is True, result
    assert result["preview"]["value"] == "110.00"


def test_the_preview_reads_as_the_user_so_hidden_fields_give_no_value(app, db, deal):
    rights_admin.set_field_right(db, SYSTEM, "Designers", "deal", "secret_note", "hidden")
    kim = client_for(app, "kim")
    result = kim.post(CHECK, json={"formula": "LEN([Secret note])", "record": deal["id"]}).get_json()
    assert result["ok"] is True
    assert result["preview"]["ok"] is False and "you may not read [Secret note]" in result["preview"]["message"]
    assert "between us" not in str(result) and "10" not in str(result["preview"])
    result = kim.post(CHECK, json={"formula": "LEN([Title])", "record": deal["id"], "scale": 0}).get_json()
    assert result["preview"]["value"] == "7"


def test_a_record_the_user_cannot_read_gives_no_preview(root, deal):
    result = root.post(CHECK, json={"formula": "[Amount] * 2", "record": 99999}).get_json()
    assert result["ok"] is True and result["preview"]["ok"] is False
    assert "cannot be read" in result["preview"]["message"]


def test_a_circular_formula_is_reported(root, db):
    # Total = Amount * Quantity; a check of Quantity's new definition reading Total is a circle
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "double", "label": "Double", "type": "formula",
                                                 "options": {"formula": "[Total] * 2"}})
    result = root.post(CHECK, json={"formula": "[Double] + 1", "field": "total"}).get_json()
    assert result["ok"] is False and "circular reference" in result["message"]


def test_the_check_wants_a_formula(root):
    assert root.post(CHECK, json={"nothing": 1}).status_code == 400
    result = root.post(CHECK, json={"formula": "  "}).get_json()
    assert result["ok"] is False


def test_a_formula_with_errors_is_not_saved_and_the_message_names_the_position(root, db):
    before = [f.api_name for f in db.schema().object("deal").user_fields]
    _html, state = page(root, "/designer/objects/deal/new-field")
    response = root.post("/designer/objects/deal/new-field", data=field_form(
        state, label="Margin", type="formula", **{"formula.formula": "[Amount] - [Cost]"}))
    assert response.status_code == 422
    message = error_under(response, "options.formula")
    assert "unknown field [Cost]" in message and "line 1, column 12" in message
    assert "[Amount] - [Cost]" in response.get_data(as_text=True)  # what was typed stays
    assert [f.api_name for f in db.schema().object("deal").user_fields] == before


def test_a_good_formula_is_saved_and_computed(root, db, deal):
    _html, state = page(root, "/designer/objects/deal/new-field")
    response = root.post("/designer/objects/deal/new-field", data=field_form(
        state, label="Gross", type="formula", **{"formula.formula": "[Amount] * 1.19", "formula.scale": "2"}))
    assert response.status_code == 302, text_of(response)[:3000]
    gross = RecordStore(db).get(SYSTEM, "deal", deal["id"])["gross"]
    assert (gross.amount, gross.currency) == (Decimal("119.60"), "EUR")  # a formula over money is money


def test_the_editor_offers_fields_links_and_function_help(root, deal):
    html, _state = page(root, "/designer/objects/deal/new-field")
    assert '<option value="[Amount]">' in html
    assert '<option value="[Organisation].[City]">' in html
    assert 'data-insert="SUM()"' in html and "the total of the numbers" in html
    assert re.search(r'<select class="form-select" id="cb-formula-record"[^>]*>\s*<option value="%d">' % deal["id"], html)
    html, _state = page(root, "/designer/objects/organisation/new-field")
    assert '<option value="[Deals].[Amount]">' in html  # a child list


def test_the_check_needs_the_csrf_header(db):
    app = designer_app(db, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    assert client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": token}).status_code == 302
    html = client.get("/designer/objects/deal/new-field").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(CHECK, json={"formula": "1 + 1"}).status_code == 400
    response = client.post(CHECK, json={"formula": "1 + 1"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["ok"] is True
