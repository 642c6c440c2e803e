"""The table designer (/designer/objects/<object>/table): columns with linked fields and
widths, sort levels, the default filter, the page size; saved through
layouts.tables.save_table with its errors shown; stale forms refused; the end user's
list follows the design."""
from __future__ import annotations

import json

import pytest
from designer2_testlib import crm_app, embedded_json, end_user_page, grant, hidden, signed_in

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import tables as layouts
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

URL = "/designer/objects/deal/table"
COLUMNS = [{"field": "title", "width": 240}, {"field": "organisation.city"}, {"field": "amount", "width": 120}]
SORT = [{"field": "stage", "desc": False}, {"field": "amount", "desc": True}]
WON = {"field": "stage", "op": "eq", "value": "won"}


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def root(app):
    return signed_in(app, "root")


def _post(client, *, columns=COLUMNS, sort=SORT, filter=WON, page_size="25", state=None, url=URL):
    if state is None:
        state = hidden(client.get(url).get_data(as_text=True), "state")
    return client.post(url, data={"state": state, "definition": json.dumps({"columns": columns, "sort": sort}),
                                  "filter": json.dumps(filter) if isinstance(filter, dict) else (filter or ""),
                                  "page_size": page_size})


def test_the_form_offers_own_system_and_linked_fields(root):
    html = root.get(URL).get_data(as_text=True)
    data = embedded_json(html, "cb-table-data")
    paths = [f["path"] for f in data["available"]]
    assert {"title", "amount", "stage", "organisation", "code", "created_at"} <= set(paths)
    assert {"organisation.city", "organisation.name", "organisation.vat"} <= set(paths)
    city = next(f for f in data["available"] if f["path"] == "organisation.city")
    assert city["label"] == "Organisation › City"
    # the generated table to start from, newest first
    assert data["columns"][0] == {"field": "title"}
    assert data["sort"] == [{"field": "created_at", "desc": True}]
    for control in ("cb-table-page-size", "cb-condition-json-filter", "cb-table-available-filter"):
        assert f'for="{control}"' in html


def test_table_is_saved_with_columns_widths_sort_filter_and_page_size(root, db):
    response = _post(root)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    table = layouts.default_table(db, "deal")
    assert table == {"columns": COLUMNS, "sort": "stage,-amount", "filter": WON, "page_size": 25}
    # the form shows what is stored
    data = embedded_json(root.get(URL).get_data(as_text=True), "cb-table-data")
    assert data["columns"] == COLUMNS and data["sort"] == SORT
    # and back to the generated table
    state = hidden(root.get(URL).get_data(as_text=True), "state")
    assert root.post(URL, data={"action": "reset", "state": state}).status_code == 302
    assert layouts.default_table(db, "deal")["sort"] == "-created_at"


@pytest.mark.parametrize("change, message", [
    ({"columns": [{"field": "nope"}]}, "nope"),
    ({"columns": [{"field": "organisation.nope"}]}, "nope"),
    ({"columns": [{"field": "title", "width": 5}]}, "width"),
    ({"columns": [{"field": "title"}, {"field": "title"}]}, "title"),
    ({"columns": []}, "columns"),
    ({"sort": [{"field": "nope", "desc": False}]}, "sort"),
    ({"filter": "{oops"}, "filter: is not a valid condition (not valid JSON"),
    ({"filter": {"field": "amount", "op": "contains_all", "value": 1}}, "filter"),
    ({"page_size": "many"}, "page_size: must be a whole number"),
    ({"page_size": "0"}, "page_size: must be a whole number"),
])
def test_bad_tables_are_refused_with_a_clear_message_and_nothing_is_saved(root, db, change, message):
    response = _post(root, **change)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The table was not saved" in page
    errors = page[page.find('id="cb-table-errors"'):page.find("</ul>", page.find('id="cb-table-errors"'))]
    assert message in errors, errors
    assert layouts.default_table(db, "deal")["sort"] == "-created_at"  # still the generated table
    # what was posted is shown again
    if "columns" in change and change["columns"]:
        assert embedded_json(page, "cb-table-data")["columns"] == [
            {k: v for k, v in c.items()} for c in change["columns"]]


def test_stale_table_form_is_refused(root, db):
    state = hidden(root.get(URL).get_data(as_text=True), "state")
    layouts.save_table(db, SYSTEM, "deal", {"columns": [{"field": "amount"}], "sort": "amount"})
    response = _post(root, state=state)
    assert response.status_code == 409
    assert "Someone else changed the table or the fields of Deal" in response.get_data(as_text=True)
    assert layouts.default_table(db, "deal")["columns"] == [{"field": "amount"}]
    # a field removed meanwhile makes the form stale too
    state = hidden(root.get(URL).get_data(as_text=True), "state")
    SchemaService(db).remove_field(SYSTEM, "deal", "secret_note")
    assert _post(root, state=state).status_code == 409


def test_table_needs_the_configure_right(app, db):
    sam = signed_in(app, "sam")
    assert sam.get(URL).status_code == 403
    grant(db, "sam", "Deal designers", "deal", ["read", "configure"])
    assert _post(sam).status_code == 302
    assert sam.get("/designer/objects/organisation/table").status_code == 403
    assert layouts.default_table(db, "deal")["page_size"] == 25


def test_the_end_user_list_follows_the_designed_filter_sort_widths_and_linked_columns(root, db):
    berlin = RecordStore(db).create(SYSTEM, "organisation", {"name": "Acme", "city": "Berlin"})
    hamburg = RecordStore(db).create(SYSTEM, "organisation", {"name": "Hanse", "city": "Hamburg"})
    for title, stage, amount, org in (("Small win", "won", "100", berlin), ("Big win", "won", "900", hamburg),
                                      ("Open lead", "lead", "5000", berlin)):
        RecordStore(db).create(SYSTEM, "deal", {"title": title, "stage": stage, "amount": amount,
                                                "organisation": org["id"]})
    columns = [{"field": "title", "width": 240}, {"field": "organisation.city", "width": 180}, {"field": "amount"}]
    response = _post(root, columns=columns, sort=[{"field": "amount", "desc": True}], filter=WON, page_size="10")
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    listing = end_user_page(root, "/o/deal")  # the end user's list, as the designer left it
    heads = listing.xpath("//table[@id='cb-list-table']/thead//th[@data-path]")
    assert [(th.get("data-path"), th.get("data-width")) for th in heads] == [
        ("title", "240"), ("organisation.city", "180"), ("amount", None)]
    assert "City" in heads[1].text_content()
    rows = listing.xpath("//table[@id='cb-list-table']/tbody/tr[@data-id]")
    assert [td.get("data-label") for td in rows[0].xpath("./td")] == ["Title", "Organisation › City", "Amount"]
    cells = [[td.text_content().strip() for td in row.xpath("./td")] for row in rows]
    assert cells == [["Big win", "Hamburg", "900.00 EUR"], ["Small win", "Berlin", "100.00 EUR"]]  # won, amount desc
