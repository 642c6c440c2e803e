"""Many-to-many links on the web (issue 14, point 10, until the card editor for them
lands): the card and the list show the linked records' names (links to their cards, in
their order, a trashed one left out), saving the card leaves the set as it is, and the
export writes the names."""
from __future__ import annotations

import io
import json
import re

import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import signed_in

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}


@pytest.fixture
def site(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string", "required": True}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "partners", "label": "Partners", "type": "links", "options": {"target": "organisation"}}]})
    orgs = [store.create(SYSTEM, "organisation", {"name": n})["id"] for n in ("ACME", "Globex", "Initech")]
    deal = store.create(SYSTEM, "deal", {"title": "Big deal", "partners": [orgs[1], orgs[0], orgs[2]]})
    store.delete(SYSTEM, "organisation", orgs[2])
    users.create_user(db, "root", PASSWORD, is_admin=True)
    return create_app(TEST_CONFIG, db=db), store, orgs, deal["id"]


def text(response) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
    return response.get_data(as_text=True)


def test_card_and_list_show_the_linked_names_and_a_save_keeps_the_set(site):
    app, store, orgs, deal = site
    client = signed_in(app, "root", PASSWORD)
    card = text(client.get(f"/o/deal/{deal}"))
    shown = re.search(r'class="form-control-plaintext cb-multi-link">(.*?)</div>', card).group(1)
    assert shown == (f'<a href="/o/organisation/{orgs[1]}">Globex</a>, <a href="/o/organisation/{orgs[0]}">ACME</a>')
    # Initech is in the trash: left out of the value (the history still names it)
    listing = text(client.get("/o/deal"))
    assert "Globex" in listing and "ACME" in listing
    version = re.search(r'name="_version" value="([^"]*)"', card).group(1)
    original = re.search(r'name="_original" value="([^"]*)"', card).group(1).replace("&#34;", '"') \
        .replace("&quot;", '"').replace("&amp;", "&")
    saved = client.post(f"/o/deal/{deal}", data={"_version": version, "_original": original,
                                                 "f-title": "Bigger deal"})
    assert saved.status_code in (302, 303), saved.get_data(as_text=True)[-2000:]
    record = store.get(SYSTEM, "deal", deal)
    assert record["title"] == "Bigger deal"
    assert [ref.id for ref in record["partners"]] == [orgs[1], orgs[0]]


def test_csv_and_xlsx_exports_write_the_names(site):
    app, _store, _orgs, _deal = site
    client = signed_in(app, "root", PASSWORD)
    assert "Globex, ACME" in text(client.get("/o/deal/export.csv"))
    response = client.get("/o/deal/export.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    column = rows[0].index("Partners")
    assert rows[1][column] == "Globex, ACME"


def test_list_search_and_filter_with_a_multi_link(site):
    app, _store, orgs, _deal = site
    client = signed_in(app, "root", PASSWORD)
    assert "Big deal" in text(client.get("/o/deal?q=Big"))
    found = text(client.get("/o/deal", query_string={
        "filter": json.dumps({"field": "partners", "op": "has_any", "value": [orgs[0]]})}))
    none = text(client.get("/o/deal", query_string={
        "filter": json.dumps({"field": "partners", "op": "is_empty"})}))
    assert "Big deal" in found and "Big deal" not in none.split("<tbody", 1)[-1]


def test_card_history_names_the_linked_records(site):
    app, store, orgs, deal = site
    store.update(SYSTEM, "deal", deal, {"partners": [orgs[0]]}, version=1)
    client = signed_in(app, "root", PASSWORD)
    card = text(client.get(f"/o/deal/{deal}"))
    history = card[card.find('id="cb-tab-history"'):]
    # the update (Initech was in the trash by then), then the creation -- by name, not by id
    assert re.search(r'>Globex</a>, <a [^>]*>ACME</a></td><td aria-hidden="true">→</td><td><a [^>]*>ACME</a></td>',
                     history), history[:3000]
    assert re.search(r'→</td><td><a [^>]*>Globex</a>, <a [^>]*>ACME</a>, <a [^>]*>Initech</a></td>', history)


def test_the_link_picker_serves_a_multi_link(site):
    app, _store, orgs, _deal = site
    client = signed_in(app, "root", PASSWORD)
    response = client.get("/o/deal/links/partners?q=Glo")
    assert response.status_code == 200
    assert [(r["id"], r["display"]) for r in response.get_json()] == [(orgs[1], "Globex")]
