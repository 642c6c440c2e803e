"""The configurator's field screens: adding fields with the options of each type, errors
under the option they concern, type changes with a preview, deleting fields that are
(not) used, reordering, German labels and stale forms. Every refusal leaves the schema
exactly as it was."""
from __future__ import annotations

import re

import pytest
from designer_testlib import client_for, designer_app, error_under, field_form, page, text_of

from cardbase.schema_engine import layouts
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def app(db):
    return designer_app(db)


@pytest.fixture
def root(app):
    return client_for(app, "root")


def _fields(db, obj: str) -> list[str]:
    return [f.api_name for f in db.schema().object(obj).user_fields]


def _add(client, obj: str, **values):
    _html, state = page(client, f"/designer/objects/{obj}/new-field")
    return client.post(f"/designer/objects/{obj}/new-field", data=field_form(state, **values))


# ---- adding fields with their options --------------------------------------------------------------------
def test_the_form_offers_every_type_with_its_own_options(root):
    html, _state = page(root, "/designer/objects/deal/new-field")
    for type_name in ("string", "integer", "decimal", "money", "choice", "multi_choice", "link", "lookup",
                      "rollup", "formula", "autonumber", "date", "boolean"):
        assert f'<option value="{type_name}"' in html, type_name
    for input_id in ("opt-string-length", "opt-decimal-precision", "opt-decimal-scale", "opt-money-currency",
                     "opt-link-target", "opt-link-on_delete", "opt-lookup-link", "opt-lookup-field",
                     "opt-autonumber-pattern", "opt-formula-formula", "cb-formula-picker", "cb-formula-record",
                     "f-required", "f-unique", "f-default", "f-help_text", "f-label_de", "f-help_text_de"):
        assert f'id="{input_id}"' in html, input_id
        assert f'for="{input_id}"' in html, f"no label for {input_id}"  # every control has a label
    assert 'id="cb-add-choice"' in html and 'aria-label="Remove choice"' in html  # buttons say what they do


def test_a_text_field_with_length_default_required_unique_help_and_german_label(root, db):
    response = _add(root, "organisation", label="Short code", name="", type="string", **{"string.length": "12"},
                    required="1", unique="1", default="n/a", help_text="Internal code",
                    label_de="Kürzel", help_text_de="Internes Kürzel")
    assert response.status_code == 302, text_of(response)[:3000]
    field = db.schema().object("organisation").field("short_code")
    assert (field.type, dict(field.options), field.required, field.unique, field.default, field.help_text) == (
        "string", {"length": 12}, True, True, "n/a", "Internal code")
    assert field.label_in("de") == "Kürzel" and field.help_in("de") == "Internes Kürzel"


def test_a_choice_field_keeps_the_order_labels_and_colours_of_its_choices(root, db):
    response = _add(root, "deal", label="Priority", type="multi_choice",
                    choice_value=["high", "", "low", ""], choice_label=["High", "", "Low", "Medium"],
                    choice_color=["red", "", "", "yellow"])
    assert response.status_code == 302, text_of(response)[:3000]
    field = db.schema().object("deal").field("priority")
    assert [dict(c) for c in field.options["choices"]] == [
        {"value": "high", "label": "High", "color": "red"}, {"value": "low", "label": "Low"},
        {"value": "Medium", "label": "Medium", "color": "yellow"}]
    html, _state = page(root, "/designer/objects/deal/fields/priority")
    assert html.index('value="high"') < html.index('value="low"') < html.index('value="Medium"')


@pytest.mark.parametrize("type_name, typed, stored", [
    ("decimal", {"decimal.precision": "12", "decimal.scale": "4"}, {"precision": 12, "scale": 4}),
    ("money", {"money.currency": "chf", "money.scale": "3"}, {"currency": "CHF", "scale": 3}),
    ("phone", {"phone.region": "at"}, {"region": "AT"}),
])
def test_number_money_and_phone_options_are_saved_and_shown_again(root, db, type_name, typed, stored):
    response = _add(root, "organisation", label="Measure", type=type_name, **typed)
    assert response.status_code == 302, text_of(response)[:3000]
    field = db.schema().object("organisation").field("measure")
    assert field.type == type_name
    assert {k: field.options.get(k) for k in stored} == stored
    html, _state = page(root, "/designer/objects/organisation/fields/measure")  # the edit form shows them
    for key, value in stored.items():
        assert re.search(rf'id="opt-{type_name}-{key}"[^>]*value="{value}"|value="{value}"[^>]*id="opt-{type_name}-{key}"',
                         html), (key, value)


def test_a_phone_option_is_used_for_numbers_without_a_country_code(root, db):
    assert _add(root, "organisation", label="Line", type="phone", **{"phone.region": "AT"}).status_code == 302
    record = RecordStore(db).create(SYSTEM, "organisation", {"name": "Wien AG", "line": "01 5880"})
    assert record["line"].startswith("+431")  # read as a Vienna number, not a German one


def test_link_lookup_rollup_and_autonumber_fields_from_menus(root, db):
    response = _add(root, "deal", label="Partner", type="link",
                    **{"link.target": "organisation", "link.on_delete": "set_null"})
    assert response.status_code == 302, text_of(response)[:3000]
    schema = db.schema()
    partner = schema.object("deal").field("partner")
    assert partner.options["target"] == schema.object("organisation").id and partner.options["on_delete"] == "set_null"
    link = schema.object("deal").field("organisation")
    city = schema.object("organisation").field("city")
    html, _state = page(root, "/designer/objects/deal/new-field")
    assert f'value="{city.id}" data-group="organisation"' in html  # the lookup's field menu
    response = _add(root, "deal", label="Org city", type="lookup",
                    **{"lookup.link": str(link.id), "lookup.field": str(city.id)})
    assert response.status_code == 302, text_of(response)[:3000]
    amount = schema.object("deal").field("amount")
    response = _add(root, "organisation", label="Deal volume", type="rollup",
                    **{"rollup.child": "deal", "rollup.link": str(link.id), "rollup.aggregate": "sum",
                       "rollup.field": str(amount.id), "rollup.filter": '{"field": "stage", "op": "eq", "value": "won"}'})
    assert response.status_code == 302, text_of(response)[:3000]
    response = _add(root, "deal", label="Deal number", type="autonumber", **{"autonumber.pattern": "DL-{0000}"})
    assert response.status_code == 302, text_of(response)[:3000]
    schema = db.schema()
    assert schema.object("deal").field("org_city").type == "lookup"
    assert schema.object("organisation").field("deal_volume").options["aggregate"] == "sum"
    assert schema.object("deal").field("deal_number").options["pattern"] == "DL-{0000}"
    # the stored definitions show again in the menus
    html, _state = page(root, "/designer/objects/organisation/fields/deal_volume")
    assert f'value="{amount.id}" data-group="deal" selected' in html
    assert "&#34;won&#34;" in html or "&quot;won&quot;" in html or '"won"' in html


# ---- bad input -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("values, key, message", [
    ({"label": "Title", "type": "string"}, "name", "already has a field named 'title'"),
    ({"label": "TITLE", "name": "headline", "type": "string"}, "label", "already has a field labelled 'TITLE'"),
    ({"label": "", "type": "string"}, "label", "is required"),
    ({"label": "x" * 500, "type": "string"}, "label", "is 500 characters long; at most 200 are allowed"),
    ({"label": "Note", "name": "n" * 500, "type": "string"}, "name", "is 500 characters long; at most 63"),
    ({"label": "Note", "name": "created_at", "type": "string"}, "name", "'created_at' is reserved"),
    ({"label": "Note", "type": "string", "string.length": "abc"}, "options.length", "must be a whole number"),
    ({"label": "Note", "type": "string", "string.length": "0"}, "options.length", "must be a whole number from 1"),
    ({"label": "Rate", "type": "decimal", "decimal.precision": "99"}, "options.precision", "38"),
    ({"label": "Fee", "type": "money", "money.currency": "XYZ"}, "options.currency", "XYZ"),
    ({"label": "Kind", "type": "choice"}, "options.choices", "needs at least one choice"),
    ({"label": "Kind", "type": "choice", "choice_value": ["a", "A"], "choice_label": ["One", "Two"],
      "choice_color": ["", ""]}, "options.choices[1].value", "is used twice"),
    ({"label": "Kind", "type": "choice", "choice_value": ["a"], "choice_label": ["One"],
      "choice_color": ["mauve"]}, "options.choices[0].color", "must be one of gray"),
    ({"label": "Owner org", "type": "link"}, "options.target", "is required"),
    ({"label": "Code 2", "type": "autonumber", "autonumber.pattern": "X" * 80}, "options.pattern", "at most 60"),
    ({"label": "Size", "type": "integer", "default": "big"}, "default", "big"),
    ({"label": "Flag", "type": "text", "unique": "1"}, "unique", "cannot be unique"),
    ({"label": "Total 2", "type": "formula", "formula.formula": "[Amount] *"}, "options.formula", "column"),
    ({"label": "Note", "type": "string", "label_de": "d" * 500}, "label_de", "is 500 characters long"),
])
def test_bad_field_input_is_refused_under_its_input_and_nothing_is_added(root, db, values, key, message):
    before = _fields(db, "deal")
    version = db.schema().version
    response = _add(root, "deal", **values)
    assert response.status_code == 422
    assert message in error_under(response, key)
    assert "Nothing was saved" in text_of(response)
    assert _fields(db, "deal") == before and db.schema().version == version


def test_the_refused_form_keeps_what_was_typed(root):
    response = _add(root, "deal", label="Kind", type="choice", choice_value=["a", "a"], choice_label=["One", "Two"],
                    choice_color=["green", ""])
    html = response.get_data(as_text=True)
    assert 'value="One"' in html and 'value="Two"' in html
    assert '<option value="green" class="cb-color-green" selected>' in html
    assert '<option value="choice" selected>' in html


# ---- type change -----------------------------------------------------------------------------------------
def _edit_form(client, obj: str, field: str, **changes):
    from designer_testlib import form_state

    html = client.get(f"/designer/objects/{obj}/fields/{field}").get_data(as_text=True)
    state = form_state(html)
    import re

    data = {**state}
    for name in ("label", "name", "default", "help_text", "label_de", "help_text_de"):
        found = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
            rf'name="{name}"[^>]*>([^<]*)</textarea>', html)
        data[name] = found.group(1) if found else ""
    data["type"] = re.search(r'name="type"[^>]*>.*?<option value="([^"]+)" selected', html, re.S).group(1)
    for flag in ("required", "unique"):
        if re.search(rf'name="{flag}" checked', html):
            data[flag] = "1"
    data.update(changes)
    return data


def test_a_type_change_shows_a_preview_first_and_applies_when_confirmed(root, db):
    RecordStore(db).bulk_create(SYSTEM, "deal", [{"title": "A", "probability": 10}, {"title": "B", "probability": 75},
                                                 {"title": "C"}])
    data = _edit_form(root, "deal", "probability", type="string", **{"string.length": "20"})
    response = root.post("/designer/objects/deal/fields/probability", data=data)
    assert response.status_code == 200
    assert "All 3 values convert." in text_of(response)
    assert 'id="cb-confirm-type"' in response.get_data(as_text=True)
    assert db.schema().object("deal").field("probability").type == "integer"  # nothing changed yet
    response = root.post("/designer/objects/deal/fields/probability", data={**data, "confirm_type": "string"})
    assert response.status_code == 302, text_of(response)[:3000]
    assert db.schema().object("deal").field("probability").type == "string"
    values = sorted(r["probability"] or "" for r in RecordStore(db).list(SYSTEM, "deal").data)
    assert values == ["", "10", "75"]


def test_a_type_change_that_would_lose_data_is_refused_with_the_failing_values(root, db):
    RecordStore(db).bulk_create(SYSTEM, "deal", [{"title": "12"}, {"title": "Big deal"}, {"title": "Small deal"}])
    data = _edit_form(root, "deal", "title", type="integer")
    response = root.post("/designer/objects/deal/fields/title", data=data)
    text = text_of(response)
    assert "2 of 3 values cannot be converted" in text and "Big deal" in text and "Small deal" in text
    assert 'id="cb-confirm-type"' not in response.get_data(as_text=True)
    # a confirmation sent anyway is refused by the service: nothing converted, nothing lost
    response = root.post("/designer/objects/deal/fields/title", data={**data, "confirm_type": "integer"})
    assert response.status_code == 409
    assert "cannot be converted to integer" in text_of(response) and "Big deal" in text_of(response)
    assert db.schema().object("deal").field("title").type == "string"
    assert sorted(r["title"] for r in RecordStore(db).list(SYSTEM, "deal").data) == ["12", "Big deal", "Small deal"]


def test_shortening_a_text_that_would_cut_values_is_refused(root, db):
    RecordStore(db).create(SYSTEM, "deal", {"title": "A rather long title"})
    data = _edit_form(root, "deal", "title", **{"string.length": "5"})
    response = root.post("/designer/objects/deal/fields/title", data=data)
    assert response.status_code == 409
    assert "cannot be converted" in text_of(response)
    assert dict(db.schema().object("deal").field("title").options) == {"length": 255}


def test_rename_a_field_and_its_german_label(root, db):
    data = _edit_form(root, "deal", "title", label="Subject", label_de="Betreff", help_text="What it is about")
    response = root.post("/designer/objects/deal/fields/title", data=data)
    assert response.status_code == 302, text_of(response)[:3000]
    field = db.schema().object("deal").field("title")
    assert (field.label, field.label_in("de"), field.help_text) == ("Subject", "Betreff", "What it is about")
    # the formula that reads Amount still works after renaming Amount
    data = _edit_form(root, "deal", "amount", label="Value")
    assert root.post("/designer/objects/deal/fields/amount", data=data).status_code == 302
    html, _state = page(root, "/designer/objects/deal/fields/total")
    assert "[Value] * [Quantity]" in html


# ---- delete ------------------------------------------------------------------------------------------------
def test_a_field_used_by_a_formula_is_not_deleted_and_the_users_are_listed(root, db):
    response = root.get("/designer/objects/deal/fields/amount/delete")
    assert response.status_code == 200
    assert "Total" in text_of(response) and "cannot be deleted while it is used" in text_of(response)
    assert 'id="cb-confirm-delete" disabled' in response.get_data(as_text=True)
    _html, state = page(root, "/designer/objects/deal")
    response = root.post("/designer/objects/deal/fields/amount/delete", data=state)
    assert response.status_code == 409
    assert "cannot be removed, it is in use" in text_of(response) and "Total" in text_of(response)
    assert "amount" in _fields(db, "deal")


def test_a_field_on_a_card_in_a_view_and_in_a_rule_is_not_deleted_and_each_use_is_listed(root, db):
    layouts.save_card(db, SYSTEM, "deal", "Quick entry", {"tabs": [{"label": "", "sections": [
        {"label": "", "columns": 1, "items": [{"field": "title"}, {"field": "probability"}]}]}]})
    layouts.save_view(db, SYSTEM, "deal", "Likely", {"columns": [{"field": "title"}],
                                                     "filter": {"field": "probability", "op": "gt", "value": 50}},
                      shared=True)
    SchemaService(db).update_field(SYSTEM, "deal", "secret_note", {"rules": {
        "readonly_when": {"field": "probability", "op": "ge", "value": 90}}})
    expected = ["card 'Quick entry' uses it", "view 'Likely' uses it",
                "rule 'readonly_when' of field 'Deal.Secret note' uses it"]
    response = root.get("/designer/objects/deal/fields/probability/delete")
    shown = text_of(response)
    assert all(use in shown for use in expected), shown[:3000]
    assert 'id="cb-confirm-delete" disabled' in response.get_data(as_text=True)
    _html, state = page(root, "/designer/objects/deal")
    response = root.post("/designer/objects/deal/fields/probability/delete", data=state)
    assert response.status_code == 409
    assert all(use in text_of(response) for use in expected)
    assert "probability" in _fields(db, "deal")


def test_an_unused_field_is_deleted(root, db):
    _html, state = page(root, "/designer/objects/deal/fields/secret_note/delete")
    response = root.post("/designer/objects/deal/fields/secret_note/delete", data=state)
    assert response.status_code == 302
    assert "secret_note" not in _fields(db, "deal")


# ---- order ----------------------------------------------------------------------------------------------
def test_fields_move_up_and_down(root, db):
    html, state = page(root, "/designer/objects/organisation")
    assert 'aria-label="Move City up"' in html
    order = _fields(db, "organisation")
    response = root.post("/designer/objects/organisation/field-order", data={**state, "order": order, "move": "vat:up"})
    assert response.status_code == 302
    assert _fields(db, "organisation") == ["name", "vat", "city"]
    # a drag and drop sends the whole new order
    _html, state = page(root, "/designer/objects/organisation")
    response = root.post("/designer/objects/organisation/field-order",
                         data={**state, "order": ["city", "name", "vat"]})
    assert response.status_code == 302
    assert _fields(db, "organisation") == ["city", "name", "vat"]
    # an incomplete list is refused, nothing moves
    _html, state = page(root, "/designer/objects/organisation")
    response = root.post("/designer/objects/organisation/field-order", data={**state, "order": ["city", "name"]})
    assert response.status_code == 422 and "must list every field exactly once" in text_of(response)
    assert _fields(db, "organisation") == ["city", "name", "vat"]


# ---- stale forms ---------------------------------------------------------------------------------------------
def test_a_stale_field_form_is_refused_after_another_power_user_changed_the_object(root, db, app):
    data = _edit_form(root, "organisation", "city", label="Town")
    kim_or_root = client_for(app, "root")  # a second power user
    other = _edit_form(kim_or_root, "organisation", "city", label="Place")
    assert kim_or_root.post("/designer/objects/organisation/fields/city", data=other).status_code == 302
    response = root.post("/designer/objects/organisation/fields/city", data=data)
    assert response.status_code == 409
    assert "Someone else changed 'Organisation'" in text_of(response)
    assert 'value="Place"' in response.get_data(as_text=True)
    assert db.schema().object("organisation").field("city").label == "Place"


def test_stale_add_reorder_and_delete_forms_are_refused(root, db):
    _html, add_state = page(root, "/designer/objects/organisation/new-field")
    _html, order_state = page(root, "/designer/objects/organisation")
    _html, delete_state = page(root, "/designer/objects/organisation/fields/vat/delete")
    SchemaService(db).add_field(SYSTEM, "organisation", {"label": "Country", "type": "string"})
    response = root.post("/designer/objects/organisation/new-field",
                         data=field_form(add_state, label="Region"))
    assert response.status_code == 409 and "Someone else changed" in text_of(response)
    response = root.post("/designer/objects/organisation/field-order",
                         data={**order_state, "order": ["name", "city", "vat"], "move": "vat:up"})
    assert response.status_code == 409
    response = root.post("/designer/objects/organisation/fields/vat/delete", data=delete_state)
    assert response.status_code == 409
    assert _fields(db, "organisation") == ["name", "city", "vat", "country"]


def test_a_configure_user_cannot_touch_fields_of_other_objects(app, db):
    kim = client_for(app, "kim")
    assert kim.get("/designer/objects/organisation/new-field").status_code == 403
    assert kim.get("/designer/objects/organisation/fields/city").status_code == 403
    assert kim.post("/designer/objects/organisation/fields/city/delete").status_code == 403
    response = _add(kim, "deal", label="Region", type="string")
    assert response.status_code == 302
    assert "region" in _fields(db, "deal")
