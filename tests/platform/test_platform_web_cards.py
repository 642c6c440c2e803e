"""The card (cards.py, card_render.py, widgets/): every widget type, saving with errors
that keep the input, version conflicts, child rows with the parent's rollup refreshed,
history, rights -- through the Flask test client on both engines."""
from __future__ import annotations

import json
import re
from datetime import timezone
from decimal import Decimal

import lxml.html
import pytest
from babel.dates import format_datetime

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.web.widgets.numbers import parse_localized
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.field_types import FieldValueError
from cardbase.schema_engine.layouts.cards import save_card
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import signed_in

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}
LOST = {"field": "stage", "op": "eq", "value": "lost"}


def build(db) -> dict[str, int]:
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string", "required": True}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "code_pattern": "D-{0000}",
                               "display_field": "title", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True, "options": {"length": 100}},
        {"name": "notes", "label": "Notes", "type": "text"},
        {"name": "amount", "label": "Amount", "type": "money", "options": {"currency": "EUR", "currency_mode": "per_record"}},
        {"name": "qty", "label": "Quantity", "type": "decimal", "options": {"precision": 12, "scale": 2}},
        {"name": "probability", "label": "Probability", "type": "integer"},
        {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": [
            {"value": "lead", "label": "Lead"}, {"value": "won", "label": "Won"}, {"value": "lost", "label": "Lost"}]}},
        {"name": "tags", "label": "Tags", "type": "multi_choice", "options": {"choices": ["hot", "cold"]}},
        {"name": "close", "label": "Close date", "type": "date"},
        {"name": "met", "label": "Met at", "type": "datetime"},
        {"name": "active", "label": "Active", "type": "boolean"},
        {"name": "email", "label": "E-mail", "type": "email"},
        {"name": "phone", "label": "Phone", "type": "phone"},
        {"name": "site", "label": "Website", "type": "url"},
        {"name": "organisation", "label": "Organisation", "type": "link",
         "options": {"target": "organisation", "on_delete": "restrict"}},
        {"name": "assignee", "label": "Assignee", "type": "user"},
        {"name": "secret", "label": "Secret", "type": "string"},
        {"name": "locked", "label": "Locked", "type": "string"},
        {"name": "double", "label": "Double", "type": "formula", "options": {"formula": "[Quantity] * 2"}},
        {"name": "lost_reason", "label": "Lost reason", "type": "string",
         "rules": {"visible_when": LOST, "required_when": LOST}},
    ]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
        {"name": "deal", "label": "Deal", "type": "link", "required": True,
         "options": {"target": "deal", "on_delete": "cascade"}},
        {"name": "price", "label": "Price", "type": "decimal", "required": True, "options": {"scale": 2}},
        {"name": "quantity", "label": "Qty", "type": "decimal", "options": {"scale": 2}},
        {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Qty]", "scale": 2}},
    ]})
    svc.add_field(SYSTEM, "deal", {"name": "total", "label": "Total", "type": "rollup",
                                   "options": {"child": "line", "link": "deal", "field": "cost", "aggregate": "sum"}})
    svc.create_object(SYSTEM, {"name": "task", "label": "Task", "label_plural": "Tasks", "fields": [
        {"name": "title", "label": "Title", "type": "string"},
        {"name": "deal", "label": "Deal", "type": "link", "options": {"target": "deal", "on_delete": "set_null"}}]})
    acme = store.create(SYSTEM, "organisation", {"name": "ACME"})
    store.create(SYSTEM, "organisation", {"name": "Hidden Corp"})
    deal = store.create(SYSTEM, "deal", {"title": "Big deal", "qty": "2", "organisation": acme["id"],
                                         "stage": "lead", "secret": "TOPSECRET", "locked": "fixed"})
    line = store.create(SYSTEM, "line", {"deal": deal["id"], "price": "10", "quantity": "3"})
    store.create(SYSTEM, "task", {"title": "Call them", "deal": deal["id"]})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "sam", PASSWORD)
    users.create_user(db, "reader", PASSWORD)
    users.create_group(db, SYSTEM, "Sales")
    users.create_group(db, SYSTEM, "Readers")
    users.add_member(db, SYSTEM, "sam", "Sales")
    users.add_member(db, SYSTEM, "reader", "Readers")
    for name in ("organisation", "deal", "line", "task"):
        rights.admin.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit", "delete"])
        rights.admin.set_object_rights(db, SYSTEM, "Readers", name, ["read"])
    rights.admin.set_field_right(db, SYSTEM, "Sales", "deal", "secret", "hidden")
    rights.admin.set_field_right(db, SYSTEM, "Sales", "deal", "locked", "read_only")
    return {"acme": acme["id"], "deal": deal["id"], "line": line["id"]}


@pytest.fixture
def site(db):
    ids = build(db)
    app = create_app(TEST_CONFIG, db=db)
    return app, db, ids


def client_for(app, username: str):
    return signed_in(app, username, PASSWORD)


def html(response) -> str:
    return response.get_data(as_text=True)


def doc_of(response, status: int = 200):
    assert response.status_code == status, html(response)[-3000:]
    return lxml.html.fromstring(html(response))


def text_of(el) -> str:
    return " ".join(el.text_content().split())


def form_of(page: str) -> dict[str, str]:
    """The hidden inputs of the card form a browser would send back."""
    out = {}
    for name in ("_version", "_original"):
        m = re.search(r'name="%s" value="([^"]*)"' % name, page)
        out[name] = m.group(1).replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&") if m else ""
    return out


# ---- widgets ------------------------------------------------------------------------------------
def test_every_widget_type_renders_its_control_with_a_label(site):
    app, db, ids = site
    page = html(client_for(app, "root").get(f"/o/deal/{ids['deal']}"))
    expect = {
        "title": r'<input type="text" id="cb-f-title" name="f-title" class="form-control"[^>]*required'
                 r'[^>]*value="Big deal" maxlength="100"',
        "notes": r'<textarea id="cb-f-notes" name="f-notes"',
        "amount": r'<input type="text" inputmode="decimal" id="cb-f-amount" name="f-amount"'
                  r'.*?<select class="form-select cb-currency" name="f-amount-currency"',
        "qty": r'inputmode="decimal" id="cb-f-qty" name="f-qty" class="form-control cb-number" value="2.00"',
        "probability": r'inputmode="numeric" id="cb-f-probability"',
        "stage": r'<select id="cb-f-stage" name="f-stage" class="form-select"><option value="">\(none\)</option>'
                 r'<option value="lead" selected>Lead</option>',
        "tags": r'<input type="checkbox" class="form-check-input" id="cb-f-tags" name="f-tags" value="hot"',
        "close": r'<input type="date" id="cb-f-close"',
        "met": r'<input type="datetime-local" id="cb-f-met"',
        "active": r'<input type="hidden" name="f-active" value="0"><input type="checkbox" value="1" id="cb-f-active"',
        "email": r'<input type="email" id="cb-f-email"',
        "phone": r'<input type="tel" id="cb-f-phone"',
        "site": r'<input type="url" id="cb-f-site"',
        "organisation": r'<div class="cb-link-picker[^"]*" data-url="/o/deal/links/organisation" data-none="No matches">'
                        r'<input type="hidden" name="f-organisation" value="%d" class="cb-link-id">'
                        r'<input type="text" id="cb-f-organisation" name="f-organisation-text"[^>]*value="ACME"' % ids["acme"],
        "assignee": r'<select id="cb-f-assignee" name="f-assignee" class="form-select"><option value="">\(nobody\)</option>',
    }
    for name, pattern in expect.items():
        assert re.search(pattern, page, re.S), name
        assert f'<label class="form-label" for="cb-f-{name}">' in page, name
    # calculated fields are read-only values, not controls
    assert 'data-cb-value="double"' in page and 'name="f-double"' not in page
    assert 'data-cb-value="total"' in page and "30.00" in page
    # a field hidden by its rule is rendered hidden, with the rule for the browser
    assert re.search(r'class="mb-3 cb-field d-none"\s+data-field="lost_reason"', page)
    rules = json.loads(re.search(r'<script type="application/json" id="cb-card-rules">(.*?)</script>', page, re.S).group(1))
    assert rules["rules"]["lost_reason"] == {"visible_when": LOST, "required_when": LOST}


def test_read_only_values_show_as_links(site):
    app, db, ids = site
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"email": "a@b.de", "phone": "+49 30 123456",
                                                         "site": "https://example.com"}, version=1)
    page = html(client_for(app, "reader").get(f"/o/deal/{ids['deal']}"))
    assert 'href="mailto:a@b.de"' in page and 'href="tel:+4930123456"' in page
    assert 'href="https://example.com"' in page
    assert f'href="/o/organisation/{ids["acme"]}">ACME</a>' in page


def test_numbers_are_parsed_in_the_users_language():
    assert parse_localized("1.234,56", "de") == Decimal("1234.56")
    assert parse_localized("1234,5", "de") == Decimal("1234.5")
    assert parse_localized("12.5", "de") == Decimal("12.5")
    assert parse_localized("1,234.56", "en") == Decimal("1234.56")
    assert parse_localized("-3", "en") == Decimal("-3")
    assert parse_localized("", "en") is None
    for bad in ("1.2.3,4", "abc", "1,23,4"):
        with pytest.raises(FieldValueError):
            parse_localized(bad, "de" if "," in bad else "en")


# ---- saving -------------------------------------------------------------------------------------
def test_edit_and_save_sends_only_the_changed_fields(site):
    app, db, ids = site
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    response = client.post(f"/o/deal/{ids['deal']}", data={
        **form_of(page), "f-title": "Bigger deal", "f-qty": "1,234.50", "f-amount": "99.5", "f-amount-currency": "USD",
        "f-tags": ["", "hot"], "f-active": ["0", "1"], "f-close": "2026-12-24", "f-stage": "won",
        "f-organisation": str(ids["acme"]), "f-organisation-text": "ACME"})
    assert response.status_code == 302
    record = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    assert record["title"] == "Bigger deal" and record["qty"] == Decimal("1234.50")
    assert str(record["amount"]) == "99.50 USD" and record["tags"] == ["hot"] and record["active"] is True
    assert record["close"].isoformat() == "2026-12-24" and record["stage"] == "won" and record["version"] == 2
    history = RecordStore(db).history(SYSTEM, "deal", ids["deal"])[0]
    assert {c["field"] for c in history["changes"]} == {"title", "qty", "amount", "tags", "active", "close", "stage"}


def test_a_german_user_types_german_numbers(site):
    app, db, ids = site
    users.update_user(db, SYSTEM, "root", language="de")
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    assert 'id="cb-f-qty" name="f-qty" class="form-control cb-number" value="2,00"' in page
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-qty": "1.234,56"})
    assert response.status_code == 302
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["qty"] == Decimal("1234.56")


def test_errors_keep_everything_the_user_typed(site):
    app, db, ids = site
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    response = client.post(f"/o/deal/{ids['deal']}", data={
        **form_of(page), "f-title": "Renamed", "f-qty": "lots", "f-notes": "my long\nnote"})
    assert response.status_code == 422
    body = html(response)
    assert 'value="Renamed"' in body and "my long\nnote</textarea>" in body and 'value="lots"' in body
    assert 'id="cb-f-qty-error"' in body and "is not a number" in body
    assert 'id="cb-error-summary"' in body and 'data-target="cb-f-qty"' in body
    # the store's own validation too: the title is required; nothing is written
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-title": "", "f-notes": "kept"})
    assert response.status_code == 422
    body = html(response)
    assert 'id="cb-f-title-error"' in body and "kept</textarea>" in body
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["version"] == 1


def test_a_conditional_rule_is_enforced_with_the_input_kept(site):
    app, db, ids = site
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-stage": "lost", "f-lost_reason": ""})
    assert response.status_code == 422
    body = html(response)
    assert "is required when Stage = lost" in body
    assert re.search(r'class="mb-3 cb-field cb-required"\s+data-field="lost_reason"', body)  # now shown and required
    assert '<option value="lost" selected>Lost</option>' in body
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-stage": "lost", "f-lost_reason": "Price"})
    assert response.status_code == 302


def test_a_new_card_prefills_the_parent_and_creates(site):
    app, db, ids = site
    client = client_for(app, "sam")
    page = html(client.get(f"/o/task/new?deal={ids['deal']}"))
    assert f'name="f-deal" value="{ids["deal"]}"' in page and 'value="Big deal"' in page
    response = client.post(f"/o/task/new?deal={ids['deal']}", data={"f-title": "Follow up", "f-deal": str(ids["deal"])})
    assert response.status_code == 302
    created = RecordStore(db).get(SYSTEM, "task", int(response.headers["Location"].rsplit("/", 1)[1]))
    assert created["title"] == "Follow up" and created["deal"].id == ids["deal"]
    # bad input on a new card: the message names the field, nothing is created
    response = client.post("/o/deal/new", data={"f-title": "", "f-probability": "x"})
    assert response.status_code == 422 and "is not a number" in html(response)
    response = client.post("/o/deal/new", data={"f-title": "", "f-notes": "typed"})
    assert response.status_code == 422 and "typed</textarea>" in html(response)
    assert RecordStore(db).count(SYSTEM, "deal")[0] == 1


def test_a_related_list_links_to_each_card_and_offers_new(site):
    app, db, ids = site
    page = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert 'id="cb-related-task-deal"' in page and ">Call them</a>" in page
    assert f'href="/o/task/new?deal={ids["deal"]}"' in page


# ---- conflicts ----------------------------------------------------------------------------------
def test_a_stale_save_shows_both_values_and_keeps_the_input(site):
    app, db, ids = site
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    # someone else changes the title and the notes meanwhile
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"title": "Their title", "notes": "their note"}, version=1)
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-title": "My title", "f-notes": ""})
    assert response.status_code == 409
    body = html(response)
    assert 'id="cb-conflict-summary"' in body
    assert 'value="My title"' in body  # the user's input is kept where they changed it ...
    assert "their note</textarea>" in body  # ... the other change is taken where only they changed it
    assert 'class="cb-theirs">Their title</span>' in body and "cb-use-theirs" in body
    assert 'name="_version" value="2"' in body
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["title"] == "Their title"  # nothing overwritten
    # saving again merges: the user's title over version 2, their note stays
    again = form_of(body)
    response = client.post(f"/o/deal/{ids['deal']}", data={**again, "f-title": "My title", "f-notes": "their note"})
    assert response.status_code == 302
    record = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    assert record["title"] == "My title" and record["notes"] == "their note" and record["version"] == 3


# ---- child part sets ----------------------------------------------------------------------------
def test_child_rows_add_edit_delete_and_refresh_the_rollup(site):
    app, db, ids = site
    client = client_for(app, "sam")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    assert 'id="cb-part-line-deal"' in page and 'data-save-url="/o/deal/%d/rows/line/deal"' % ids["deal"] in page
    form = client.get(f"/o/deal/{ids['deal']}/rows/line/deal/form")
    assert form.status_code == 200 and 'name="c-price"' in html(form) and 'name="c-deal"' not in html(form)
    base = f"/o/deal/{ids['deal']}/rows/line/deal"
    added = client.post(base, data={"c-price": "5", "c-quantity": "2"}, headers={"Accept": "application/json"})
    assert added.status_code == 200, added.get_json()
    data = added.get_json()
    assert data["ok"] and "10.00" in data["row"] and "40.00" in data["parent"]["total"]
    new_id = data["id"]
    bad = client.post(base, data={"c-price": "", "c-quantity": "x"}, headers={"Accept": "application/json"})
    assert bad.status_code == 422 and not bad.get_json()["ok"]
    assert 'value="x"' in bad.get_json()["row"] and "is not a number" in bad.get_json()["row"]
    edited = client.post(f"{base}/{new_id}", data={"_version": "1", "c-price": "5", "c-quantity": "4"})
    assert edited.get_json()["ok"] and "50.00" in edited.get_json()["parent"]["total"]
    stale = client.post(f"{base}/{new_id}", data={"_version": "1", "c-price": "6", "c-quantity": "4"})
    assert stale.status_code == 409 and stale.get_json()["conflict"] and 'value="6"' in stale.get_json()["row"]
    gone = client.post(f"{base}/{new_id}/delete", data={"_version": "2"})
    assert gone.get_json()["ok"] and "30.00" in gone.get_json()["parent"]["total"]
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["total"] == Decimal("30.00")
    # a row of another parent is refused
    other = RecordStore(db).create(SYSTEM, "deal", {"title": "Other"})
    assert client.post(f"/o/deal/{other['id']}/rows/line/deal/{ids['line']}/delete",
                       data={"_version": "1"}).status_code == 404


def test_link_choices_offer_only_visible_records(site):
    app, db, ids = site
    rights.admin.set_object_rights(db, SYSTEM, "Sales", "organisation", [])
    assert client_for(app, "sam").get("/o/deal/links/organisation?q=").get_json() == []
    found = client_for(app, "root").get("/o/deal/links/organisation?q=acm").get_json()
    assert found == [{"id": ids["acme"], "display": "ACME"}]
    assert client_for(app, "root").get("/o/deal/links/title").status_code == 422


def test_a_lookup_shows_the_linked_records_value_on_the_card(site):
    app, db, ids = site
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "org_name", "label": "Organisation name", "type": "lookup",
                                                 "options": {"link": "organisation", "field": "name"}})
    client = client_for(app, "sam")

    def shown() -> tuple[str, str]:
        doc = doc_of(client.get(f"/o/deal/{ids['deal']}"))
        value = doc.xpath('//*[@data-cb-value="org_name"]')
        assert len(value) == 1 and not doc.xpath('//*[@name="f-org_name"]')  # a value, never a control
        label = doc.xpath(f'//*[@id="{value[0].get("aria-labelledby")}"]')
        return text_of(label[0]), text_of(value[0])

    assert shown() == ("Organisation name", "ACME")
    # the lookup follows the linked record
    RecordStore(db).update(SYSTEM, "organisation", ids["acme"], {"name": "ACME Holding"}, version=1)
    assert shown() == ("Organisation name", "ACME Holding")
    # ... and the link: another organisation, another value
    other = RecordStore(db).create(SYSTEM, "organisation", {"name": "Zenith"})
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"organisation": other["id"]}, version=1)
    assert shown() == ("Organisation name", "Zenith")


# ---- history ------------------------------------------------------------------------------------
def history_entries(doc) -> list[dict]:
    """The History tab: per entry who, what, when (the text after the first "·") and the changes."""
    out = []
    for li in doc.xpath('//div[@id="cb-tab-history"]//li[contains(@class, "cb-history-entry")]'):
        head = li.xpath("./div")[0]
        meta = [part.strip() for part in text_of(head.xpath("./span")[0]).split("·") if part.strip()]
        out.append({"who": text_of(head.xpath("./strong")[0]), "action": text_of(head).split(" ·")[0],
                    "when": meta[0], "version": meta[1],
                    "changes": [tuple(text_of(c) for c in tr.xpath("./th|./td") if c.get("aria-hidden") is None)
                                for tr in li.xpath(".//table//tr")]})
    return out


def test_history_shows_who_and_when_for_each_change(site):
    app, db, ids = site
    users.update_user(db, SYSTEM, "sam", display_name="Sam Seller")
    users.update_user(db, SYSTEM, "root", display_name="Rita Root")
    card = f"/o/deal/{ids['deal']}"
    for username, change in (("sam", {"f-title": "Sam's title"}), ("root", {"f-probability": "70"})):
        client = client_for(app, username)
        page = html(client.get(card))
        assert client.post(card, data={**form_of(page), **change}).status_code == 302
    stored = RecordStore(db).history(SYSTEM, "deal", ids["deal"])  # newest first, like the tab
    assert [e["actor"]["display"] for e in stored] == ["Rita Root", "Sam Seller", "system"]

    def when(at, language: str) -> str:
        return " ".join(format_datetime(at.replace(tzinfo=timezone.utc), "medium", tzinfo=timezone.utc,
                                        locale=language).split())  # (as text_of reads it)

    sam = client_for(app, "sam")
    entries = history_entries(doc_of(sam.get(card)))
    assert [(e["who"], e["action"], e["when"], e["version"]) for e in entries] == [
        ("Rita Root", "Rita Root changed", when(stored[0]["at"], "en"), "version 3"),
        ("Sam Seller", "Sam Seller changed", when(stored[1]["at"], "en"), "version 2"),
        ("system", "system created", when(stored[2]["at"], "en"), "version 1")]
    assert entries[0]["changes"] == [("Probability", "—", "70")]
    assert entries[1]["changes"] == [("Title", "Big deal", "Sam's title")]
    assert str(stored[0]["at"].year) in entries[0]["when"]
    # in German, the time is written the German way
    users.update_user(db, SYSTEM, "sam", language="de")
    entries = history_entries(doc_of(sam.get(card)))
    assert [(e["who"], e["when"]) for e in entries[:2]] == [("Rita Root", when(stored[0]["at"], "de")),
                                                          ("Sam Seller", when(stored[1]["at"], "de"))]
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d:\d\d", entries[0]["when"]), entries[0]["when"]


def test_history_shows_who_changed_what_without_hidden_fields(site):
    app, db, ids = site
    store = RecordStore(db)
    store.update(SYSTEM, "deal", ids["deal"], {"title": "Renamed", "secret": "NEWSECRET", "qty": "3"}, version=1)
    page = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    history = page[page.index('id="cb-tab-history"'):]
    assert "Big deal" in history and "Renamed" in history and "3.00" in history
    assert "SECRET" not in page and "Secret" not in page  # hidden from Sales: never rendered


# ---- rights -------------------------------------------------------------------------------------
def test_rights_shape_the_card_and_the_server_refuses_anyway(site):
    app, db, ids = site
    sam = html(client_for(app, "sam").get(f"/o/deal/{ids['deal']}"))
    assert "TOPSECRET" not in sam and 'data-field="secret"' not in sam
    assert re.search(r'id="cb-f-locked" name="f-locked" class="form-control" disabled', sam)
    assert 'id="cb-save"' in sam and 'id="cb-delete"' in sam and 'id="cb-new"' in sam
    reader = client_for(app, "reader")
    page = html(reader.get(f"/o/deal/{ids['deal']}"))
    assert 'id="cb-save"' not in page and 'id="cb-delete"' not in page and 'id="cb-new"' not in page
    assert 'name="f-title"' not in page and "cb-row-add" not in page and "cb-row-edit" not in page
    refused = reader.post(f"/o/deal/{ids['deal']}", data={"_version": "1", "f-title": "Hacked"})
    assert refused.status_code == 403
    assert reader.post(f"/o/deal/{ids['deal']}/delete", data={"_version": "1"}).status_code == 302
    assert reader.post("/o/deal/new", data={"f-title": "Sneaky"}).status_code == 403
    assert reader.post(f"/o/deal/{ids['deal']}/rows/line/deal", data={"c-price": "1"},
                       headers={"Accept": "application/json"}).status_code == 403
    # a field the user may only read is not changed even when posted
    sam_client = client_for(app, "sam")
    response = sam_client.post(f"/o/deal/{ids['deal']}", data={"_version": "1", "f-locked": "changed",
                                                               "f-secret": "leak", "f-title": "Ok"})
    assert response.status_code == 302
    record = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    assert record["title"] == "Ok" and record["locked"] == "fixed" and record["secret"] == "TOPSECRET"
    record = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    assert record["title"] == "Ok" and record["version"] == 2  # the reader changed nothing, deleted nothing


def test_a_read_only_field_in_a_child_row_is_disabled(site):
    app, db, ids = site
    rights.admin.set_field_right(db, SYSTEM, "Sales", "line", "quantity", "read_only")
    sam = client_for(app, "sam")
    base = f"/o/deal/{ids['deal']}/rows/line/deal"

    def controls(url: str) -> dict[str, dict]:
        response = sam.get(url)
        assert response.status_code == 200, html(response)
        row = lxml.html.fromstring(f"<table>{html(response)}</table>")
        return {el.get("name"): {"disabled": el.get("disabled") is not None, "value": el.get("value")}
                for el in row.xpath("//input[@name]") if el.get("name").startswith("c-")}

    assert controls(f"{base}/form?row={ids['line']}") == {
        "c-price": {"disabled": False, "value": "10.00"}, "c-quantity": {"disabled": True, "value": "3.00"}}
    assert controls(f"{base}/form")["c-quantity"]["disabled"] is True  # a new row too
    # root may change both
    root_row = html(client_for(app, "root").get(f"{base}/form?row={ids['line']}"))
    assert re.search(r'name="c-quantity" class="form-control cb-number" value="3.00"', root_row)
    assert not re.search(r'name="c-quantity"[^>]*disabled', root_row)
    # posted anyway, the read-only value is not changed; the rest is saved
    saved = sam.post(f"{base}/{ids['line']}", data={"_version": "1", "c-price": "11", "c-quantity": "99"})
    assert saved.status_code == 200 and saved.get_json()["ok"], saved.get_json()
    line = RecordStore(db).get(SYSTEM, "line", ids["line"])
    assert line["price"] == Decimal("11.00") and line["quantity"] == Decimal("3.00")


def test_the_related_lists_new_link_needs_the_create_right(site):
    app, db, ids = site
    related = '//section[@id="cb-related-task-deal"]'

    def seen(username: str) -> tuple[list[str], list[str]]:
        doc = doc_of(client_for(app, username).get(f"/o/deal/{ids['deal']}"))
        assert len(doc.xpath(related)) == 1, username
        return ([text_of(a) for a in doc.xpath(related + "//tbody//a")],
                [a.get("href") for a in doc.xpath(related + '//a[contains(@class, "cb-related-new")]')])

    assert seen("sam") == (["Call them"], [f"/o/task/new?deal={ids['deal']}"])
    assert seen("reader") == (["Call them"], [])  # readers see the records, not "New"
    assert client_for(app, "reader").get(f"/o/task/new?deal={ids['deal']}").status_code == 403
    # creating tasks without the right to set their link to the deal: no "New" here either
    rights.admin.set_field_right(db, SYSTEM, "Sales", "task", "deal", "read_only")
    assert seen("sam") == (["Call them"], [])


def test_unknown_objects_records_and_cards_get_clear_pages(site):
    app, db, ids = site
    client = client_for(app, "root")
    assert client.get("/o/nothing/1").status_code == 404
    missing = client.get("/o/deal/99999")
    assert missing.status_code == 404 and "99999" in html(missing)
    assert client.get(f"/o/deal/{ids['deal']}?card=abc").status_code == 400
    assert client.get(f"/o/deal/{ids['deal']}?card=12345").status_code == 404


def test_a_designed_card_shows_tabs_sections_and_columns(site):
    app, db, ids = site
    card = save_card(db, SYSTEM, "deal", "Sales card", {"tabs": [
        {"label": "Main", "sections": [{"label": "Basics", "columns": 3, "items": [
            {"field": "title", "column": 1}, {"field": "stage", "column": 2}, {"field": "qty", "column": 3}]}]},
        {"label": "More", "sections": [{"label": "Lines", "columns": 1, "items": [
            {"children": {"object": "line", "link": "deal"}, "label": "The lines", "columns": ["price", "cost"]}]}]}]},
        is_default=True)
    page = html(client_for(app, "root").get(f"/o/deal/{ids['deal']}"))
    assert '<legend class="cb-section-legend">Basics</legend>' in page
    assert page.count('class="col-12 col-md-4 cb-column"') == 3
    assert ">Main</button>" in page and ">More</button>" in page and ">History</button>" in page
    assert "The lines" in page and 'name="f-notes"' not in page  # only the placed fields
    assert html(client_for(app, "root").get(f"/o/deal/{ids['deal']}?card={card['id']}")) .count("cb-section") >= 2


def test_card_context_renders_a_preview_without_a_record(site):
    app, db, ids = site
    from flask import render_template

    from cardbase.platform.context import actor_for
    from cardbase.platform.web.card_render import card_context
    from cardbase.schema_engine.layouts.cards import get_card

    layout = get_card(db, "deal")["layout"]
    with app.test_request_context("/"):
        actor = actor_for(users.find_user(db, "sam"), db)
        ctx = card_context(db, actor, "deal", None, layout, mode="preview", language="en")
        out = render_template("web/cards/_layout.html", c=ctx)
    assert 'name="f-title"' in out and "secret" not in out and 'data-mode="preview"' in out
    assert "data-save-url" not in out  # nothing is posted from a preview
    record = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    with app.test_request_context("/"):
        ctx = card_context(db, actor, "deal", record, layout, mode="preview", language="en")
        out = render_template("web/cards/_layout.html", c=ctx)
    assert 'value="Big deal"' in out and 'data-row="%d"' % ids["line"] in out and "TOPSECRET" not in out


def test_new_cards_and_rows_start_from_the_defaults(site):
    app, db, ids = site
    SchemaService(db).update_field(SYSTEM, "line", "quantity", {"default": "1"})
    SchemaService(db).update_field(SYSTEM, "deal", "stage", {"default": "lead"})
    client = client_for(app, "sam")
    row = html(client.get(f"/o/deal/{ids['deal']}/rows/line/deal/form"))
    assert 'name="c-quantity" class="form-control cb-number" value="1.00"' in row
    page = html(client.get("/o/deal/new"))
    assert '<option value="lead" selected>Lead</option>' in page
