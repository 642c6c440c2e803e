"""The card designer (/designer/objects/<object>/cards): several cards per object with one
default, layouts saved through layouts.cards with their errors shown, stale forms
refused, the live preview with a real record, and the configure right."""
from __future__ import annotations

import json

import pytest
from designer2_testlib import crm_app, embedded_json, grant, hidden, signed_in

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
    html = root.get("/designer/objects/deal/cards").get_data(as_text=True)
    assert "Full" in html and "Quick entry" in html
    assert f'value="{full["id"]}" id="cb-default-{full["id"]}"\n                   checked' in html
    response = root.post("/designer/objects/deal/cards/default", data={"card_id": str(quick["id"])})
    assert response.status_code == 302
    assert {c["name"]: c["is_default"] for c in layouts.list_cards(db, "deal")} == {"Full": False, "Quick entry": True}
    # delete the default: the other becomes the default again
    root.post(f"/designer/objects/deal/cards/{quick['id']}/delete")
    assert [(c["name"], c["is_default"]) for c in layouts.list_cards(db, "deal")] == [("Full", True)]


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
