"""The card designer (/designer/objects/<object>/cards): several cards per object with one
default, layouts saved through layouts.cards with their errors shown (duplicate and
500-character names too), stale forms refused (the editor's and the list's default and
delete buttons), tabs, columns, child part sets and related lists on the end user's
card, the live preview with a real record, and the configure right."""
from __future__ import annotations

import json

import pytest
from designer2_testlib import crm_app, embedded_json, end_user_page, grant, hidden, signed_in

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import cards as layouts
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

TWO_SECTIONS = {"tabs": [{"label": "", "sections": [
    {"label": "Main", "columns": 2, "help": "The essentials", "items": [
        {"field": "title", "column": 1}, {"field": "stage", "column": 2, "label": "Phase", "help": "Where it is"}]},
    {"label": "Money", "columns": 1, "help": "", "items": [{"field": "amount", "column": 1}]},
]}]}


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def root(app):
    return signed_in(app, "root")


def _form(client, url):
    html = client.get(url).get_data(as_text=True)
    return html, hidden(html, "state")


def test_new_card_is_saved_with_its_layout_and_becomes_the_default(app, root, db):
    html, state = _form(root, "/designer/objects/deal/cards/new")
    data = embedded_json(html, "cb-card-data")
    # the palette offers every field of the object and the generated layout to start from
    assert {f["name"] for f in data["palette"]["fields"]} >= {"title", "amount", "stage", "organisation", "code"}
    assert layouts.card_fields(data["layout"])[:2] == ["title", "amount"]
    response = root.post("/designer/objects/deal/cards/new", data={
        "name": "Full", "layout": json.dumps(TWO_SECTIONS), "state": state})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    cards = layouts.list_cards(db, "deal")
    assert [(c["name"], c["is_default"]) for c in cards] == [("Full", True)]
    card = layouts.get_card(db, "deal", cards[0]["id"])
    assert [s["label"] for s in card["layout"]["tabs"][0]["sections"]] == ["Main", "Money"]
    assert card["layout"]["tabs"][0]["sections"][0]["items"][1] == {
        "field": "stage", "column": 2, "label": "Phase", "help": "Where it is"}
    assert response.headers["Location"].endswith(f"/designer/objects/deal/cards/{cards[0]['id']}")
    page = root.get(response.headers["Location"]).get_data(as_text=True)
    assert "The card Full was saved." in page


def test_several_cards_one_default_chosen_by_radio(app, root, db):
    full = layouts.save_card(db, SYSTEM, "deal", "Full", TWO_SECTIONS)
    quick = layouts.save_card(db, SYSTEM, "deal", "Quick entry", {"tabs": [{"label": "", "sections": [
        {"label": "", "columns": 1, "items": [{"field": "title"}]}]}]})
    html, _state = _form(root, "/designer/objects/deal/cards")
    assert "Full" in html and "Quick entry" in html
    assert f'value="{full["id"]}" id="cb-default-{full["id"]}"\n                   checked' in html
    response = root.post("/designer/objects/deal/cards/default", data={
        "card_id": str(quick["id"]), "state": hidden(html, "state")})
    assert response.status_code == 302
    assert {c["name"]: c["is_default"] for c in layouts.list_cards(db, "deal")} == {"Full": False, "Quick entry": True}
    # delete the default: the other becomes the default again
    _html, state = _form(root, "/designer/objects/deal/cards")
    assert root.post(f"/designer/objects/deal/cards/{quick['id']}/delete", data={"state": state}).status_code == 302
    assert [(c["name"], c["is_default"]) for c in layouts.list_cards(db, "deal")] == [("Full", True)]


def test_stale_default_and_delete_buttons_of_the_card_list_are_refused(app, root, db):
    full = layouts.save_card(db, SYSTEM, "deal", "Full", TWO_SECTIONS)
    quick = layouts.save_card(db, SYSTEM, "deal", "Quick entry", TWO_SECTIONS)
    _html, state = _form(root, "/designer/objects/deal/cards")
    # another power user renames "Quick entry" and changes its layout meanwhile
    changed = json.loads(json.dumps(TWO_SECTIONS))
    changed["tabs"][0]["sections"][1]["label"] = "Sums"
    layouts.save_card(db, SYSTEM, "deal", "Quick", changed, card_id=quick["id"])
    for url, data in (("/designer/objects/deal/cards/default", {"card_id": str(quick["id"])}),
                      (f"/designer/objects/deal/cards/{quick['id']}/delete", {})):
        response = root.post(url, data={**data, "state": state})
        assert response.status_code == 409, url
        page = response.get_data(as_text=True)
        assert "Someone else changed the cards of Deal since you opened this page; nothing was changed." in page
        assert ">Quick</a>" in page  # the current list is shown
        assert [(c["name"], c["is_default"]) for c in layouts.list_cards(db, "deal")] == [
            ("Full", True), ("Quick", False)]
        assert root.post(url, data=data).status_code == 409  # no state at all: refused too
    # the list shown carries the current state: the same buttons work from it
    html = root.post(f"/designer/objects/deal/cards/{quick['id']}/delete", data={"state": state}).get_data(as_text=True)
    assert root.post(f"/designer/objects/deal/cards/{quick['id']}/delete",
                     data={"state": hidden(html, "state")}).status_code == 302
    assert [c["id"] for c in layouts.list_cards(db, "deal")] == [full["id"]]


@pytest.mark.parametrize("name, message", [
    ("full", "&#39;Deal&#39; already has a card named &#39;Full&#39;"),
    ("x" * 500, "is 500 characters long; at most 200 are allowed"),
])
def test_a_duplicate_or_500_character_card_name_is_refused(app, root, db, name, message):
    full = layouts.save_card(db, SYSTEM, "deal", "Full", TWO_SECTIONS)
    html, state = _form(root, "/designer/objects/deal/cards/new")
    response = root.post("/designer/objects/deal/cards/new", data={
        "name": name, "layout": json.dumps(TWO_SECTIONS), "state": state, "is_default": "1"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The card was not saved" in page and f"name: {message}" in page, page[page.find("cb-card-errors"):][:800]
    assert [(c["id"], c["is_default"]) for c in layouts.list_cards(db, "deal")] == [(full["id"], True)]
    assert hidden(page, "layout") == json.dumps(TWO_SECTIONS)  # what was designed is not lost


def test_layout_naming_a_deleted_field_is_refused_and_nothing_is_saved(app, root, db):
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "region", "label": "Region", "type": "string"})
    html, state = _form(root, "/designer/objects/deal/cards/new")
    assert '"region"' in html  # offered in the palette
    layout = {"tabs": [{"label": "", "sections": [{"label": "Main", "columns": 1, "items": [
        {"field": "title"}, {"field": "region"}]}]}]}
    SchemaService(db).remove_field(SYSTEM, "deal", "region")  # meanwhile (say, in another tab)
    html, state = _form(root, "/designer/objects/deal/cards/new")
    response = root.post("/designer/objects/deal/cards/new", data={
        "name": "Full", "layout": json.dumps(layout), "state": state})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "The card was not saved" in page
    assert "Tab 1 › Section 1 › Item 2 › field: no field &#39;region&#39; on Deal" in page
    assert layouts.list_cards(db, "deal") == []
    # what was posted is shown again (nothing lost), the name too
    assert hidden(page, "layout") == json.dumps(layout)
    assert 'value="Full"' in page


def test_stale_form_after_another_power_user_changed_the_card_is_refused(app, root, db):
    card = layouts.save_card(db, SYSTEM, "deal", "Full", TWO_SECTIONS)
    url = f"/designer/objects/deal/cards/{card['id']}"
    html, state = _form(root, url)
    # another power user moves "amount" into the first section meanwhile
    other = json.loads(json.dumps(TWO_SECTIONS))
    other["tabs"][0]["sections"][0]["items"].append(other["tabs"][0]["sections"][1]["items"].pop())
    layouts.save_card(db, SYSTEM, "deal", "Full", other, card_id=card["id"])
    mine = json.loads(json.dumps(TWO_SECTIONS))
    mine["tabs"][0]["sections"][1]["label"] = "Amounts"
    response = root.post(url, data={"name": "Full", "layout": json.dumps(mine), "state": state})
    assert response.status_code == 409
    assert "Someone else changed this card or the fields of Deal" in response.get_data(as_text=True)
    stored = layouts.get_card(db, "deal", card["id"])["layout"]
    assert [i["field"] for i in stored["tabs"][0]["sections"][0]["items"]] == ["title", "stage", "amount"]
    assert stored["tabs"][0]["sections"][1]["label"] == "Money"
    # a fresh form saves
    html, state = _form(root, url)
    assert root.post(url, data={"name": "Full", "layout": json.dumps(mine), "state": state}).status_code == 302


def test_stale_form_after_a_field_was_added_to_the_object_is_refused(app, root, db):
    html, state = _form(root, "/designer/objects/deal/cards/new")
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "region", "label": "Region", "type": "string"})
    response = root.post("/designer/objects/deal/cards/new", data={
        "name": "Full", "layout": json.dumps(TWO_SECTIONS), "state": state})
    assert response.status_code == 409
    assert layouts.list_cards(db, "deal") == []


@pytest.mark.parametrize("layout, message", [
    ("{not json", "the layout sent by the form is not valid JSON"),
    (json.dumps({"tabs": []}), "tabs: must be a non-empty list of tabs"),
    (json.dumps({"tabs": [{"label": "", "sections": [{"label": "A", "columns": 9, "items": []}]}]}),
     "Tab 1 › Section 1 › columns: must be a whole number from 1 to 4"),
    (json.dumps({"tabs": [{"label": "", "sections": [{"label": "A", "columns": 1, "items": [
        {"field": "title"}, {"field": "title"}]}]}]}), "is already placed"),
])
def test_bad_layouts_are_refused_with_a_clear_message(app, root, db, layout, message):
    html, state = _form(root, "/designer/objects/deal/cards/new")
    response = root.post("/designer/objects/deal/cards/new", data={"name": "X", "layout": layout, "state": state})
    assert response.status_code == 422
    assert message.replace("'", "&#39;") in response.get_data(as_text=True)
    assert layouts.list_cards(db, "deal") == []


def test_missing_name_is_refused(app, root, db):
    html, state = _form(root, "/designer/objects/deal/cards/new")
    response = root.post("/designer/objects/deal/cards/new", data={
        "name": "  ", "layout": json.dumps(TWO_SECTIONS), "state": state})
    assert response.status_code == 422
    assert "name: is required" in response.get_data(as_text=True)


def test_preview_renders_the_layout_with_a_real_record(app, root, db):
    org = RecordStore(db).create(SYSTEM, "organisation", {"name": "Acme"})
    deal = RecordStore(db).create(SYSTEM, "deal", {"title": "Big <deal>", "amount": "1200", "stage": "won",
                                                   "organisation": org["id"]})
    html = root.get("/designer/objects/deal/cards/new").get_data(as_text=True)
    assert f'<option value="{deal["id"]}" selected>' in html  # a real record to preview with
    response = root.post("/designer/objects/deal/cards/preview",
                         json={"layout": TWO_SECTIONS, "record_id": deal["id"]})
    assert response.status_code == 200
    body = response.get_json()["html"]
    assert "Main" in body and "Money" in body and "Phase" in body
    assert "Big &lt;deal&gt;" in body and "Big <deal>" not in body
    # a broken layout gets messages, not a page
    bad = root.post("/designer/objects/deal/cards/preview", json={"layout": {"tabs": [{"sections": [
        {"items": [{"field": "nope"}]}]}]}, "record_id": deal["id"]})
    assert bad.status_code == 422
    assert any("no field 'nope' on Deal" in e for e in bad.get_json()["errors"])
    assert root.post("/designer/objects/deal/cards/preview", data="x").status_code == 400


def test_configure_right_is_needed(app, db):
    sam = signed_in(app, "sam")
    assert sam.get("/designer/objects/deal/cards").status_code == 403
    grant(db, "sam", "Deal designers", "deal", ["read", "configure"])
    assert sam.get("/designer/objects/deal/cards").status_code == 200
    assert sam.get("/designer/objects/organisation/cards").status_code == 403
    assert sam.post("/designer/objects/organisation/cards/new", data={"name": "X", "layout": "{}"}).status_code == 403
    assert sam.get("/designer/objects/nothing/cards").status_code == 404
    html, state = _form(sam, "/designer/objects/deal/cards/new")
    assert sam.post("/designer/objects/deal/cards/new", data={
        "name": "Sam's", "layout": json.dumps(TWO_SECTIONS), "state": state}).status_code == 302
    assert [c["name"] for c in layouts.list_cards(db, "deal")] == ["Sam's"]


def test_editor_controls_are_labelled(app, root, db):
    html = root.get("/designer/objects/deal/cards/new").get_data(as_text=True)
    data = embedded_json(html, "cb-card-data")
    for key in ("move_up", "move_down", "move_to", "remove", "add"):
        assert data["texts"][key]
    for control in ("cb-card-name", "cb-card-default", "cb-palette-target", "cb-preview-record"):
        assert f'for="{control}"' in html
    assert "card_designer.js" in html and "<script>" not in html and "style=" not in html


CONTACT = {"name": "contact", "label": "Contact", "label_plural": "Contacts", "fields": [
    {"name": "full_name", "label": "Full name", "type": "string"},
    {"name": "organisation", "label": "Organisation", "type": "link",
     "options": {"target": "organisation", "on_delete": "cascade"}}]}
CONTACTS = {"children": {"object": "contact", "link": "organisation"}, "label": "Contacts", "columns": ["full_name"]}
DEALS = {"related": {"object": "deal", "link": "organisation"}, "label": "Deals", "columns": ["title", "amount"]}
TABBED = {"tabs": [
    {"label": "Company", "sections": [{"label": "Main", "columns": 2, "help": "", "items": [
        {"field": "name", "column": 1}, {"field": "vat", "column": 1}, {"field": "city", "column": 2}]}]},
    {"label": "People and deals", "sections": [{"label": "Who", "columns": 1, "help": "Everyone involved",
                                                "items": [CONTACTS, DEALS]}]}]}


def test_tabs_second_column_child_part_set_and_related_list_reach_the_end_user_page(app, root, db):
    SchemaService(db).create_object(SYSTEM, CONTACT)
    org = RecordStore(db).create(SYSTEM, "organisation", {"name": "Acme", "city": "Berlin", "vat": "DE1"})
    RecordStore(db).create(SYSTEM, "contact", {"full_name": "Ada Lovelace", "organisation": org["id"]})
    RecordStore(db).create(SYSTEM, "deal", {"title": "Engines", "organisation": org["id"]})
    html, state = _form(root, "/designer/objects/organisation/cards/new")
    lists = embedded_json(html, "cb-card-data")["palette"]["lists"]
    assert {(entry["kind"], entry["object"], entry["link"]) for entry in lists} == {
        ("children", "contact", "organisation"), ("related", "deal", "organisation")}
    response = root.post("/designer/objects/organisation/cards/new", data={
        "name": "Tabbed", "is_default": "1", "layout": json.dumps(TABBED), "state": state})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    stored = layouts.get_card(db, "organisation", layouts.list_cards(db, "organisation")[0]["id"])["layout"]
    assert [t["label"] for t in stored["tabs"]] == ["Company", "People and deals"]
    assert stored["tabs"][1]["sections"][0]["items"] == [CONTACTS, DEALS]
    assert stored["tabs"][0]["sections"][0]["items"][2] == {"field": "city", "column": 2}

    card = end_user_page(root, f"/o/organisation/{org['id']}")
    tabs = card.xpath("//ul[contains(@class,'cb-card-tabs')]//button/text()")
    assert tabs == ["Company", "People and deals", "History"]  # the card's own tabs, then the history
    first, second = card.xpath("//div[contains(@class,'tab-pane') and not(@id='cb-tab-history')]")
    columns = first.xpath(".//div[contains(@class,'cb-column')]")
    assert [c.xpath(".//@data-field") for c in columns] == [["name", "vat"], ["city"]]
    assert second.xpath(".//legend/text()") == ["Who"]
    part = second.xpath(".//section[@data-kind='children']")[0]
    assert "Contacts" in part.text_content() and "Ada Lovelace" in part.text_content()
    related = second.xpath(".//section[@data-kind='related']")[0]
    assert "Deals" in related.text_content() and "Engines" in related.text_content()
    assert first.xpath(".//section[@data-kind]") == []  # the lists are on the second tab only
