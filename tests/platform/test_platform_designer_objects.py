"""The configurator's object screens: who reaches them (menu entry and 403), creating,
renaming, describing, ordering and deleting objects, German labels, bad input, stale
forms, and a change made through one web worker seen at once by another."""
from __future__ import annotations

import sqlalchemy as sa

import pytest
from designer_testlib import client_for, designer_app, form_state, page, text_of

from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.meta_models import ConfigChange
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import TEST_CONFIG, token_for


@pytest.fixture
def app(db):
    return designer_app(db)


def _object_names(db) -> list[str]:
    return [o.api_name for o in db.schema().objects]


# ---- who gets in ---------------------------------------------------------------------------------
def test_the_menu_shows_the_configurator_only_to_admins_and_configure_users(app):
    for username, shown in (("root", True), ("kim", True), ("sam", False)):
        html = client_for(app, username).get("/").get_data(as_text=True)
        assert ('id="cb-nav-designer"' in html) is shown, username


def _designer_url(rule) -> str:
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        if converter in ("IntegerConverter", "NumberConverter"):
            values[arg] = 1
        elif arg == "object_name":
            values[arg] = "deal"
        elif arg == "field_name":
            values[arg] = "title"
        else:
            values[arg] = "designer.js"
    return rule.build(values, append_unknown=False)[1]


def test_every_designer_route_refuses_a_user_without_the_configure_right(app, db):
    client = client_for(app, "sam")
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("designer.")]
    endpoints = {r.endpoint for r in rules}
    assert {"designer.index", "designer.object_new", "designer.object_edit", "designer.object_delete",
            "designer.object_order", "designer.field_new", "designer.field_edit", "designer.field_delete",
            "designer.field_order", "designer.formula_check", "designer.static"} <= endpoints
    checked = 0
    for rule in rules:
        url = _designer_url(rule)
        for method in sorted(rule.methods - {"OPTIONS"}):
            response = client.open(url, method=method, data={"label": "Hacked", "confirm_name": "deal"})
            assert response.status_code == 403, (rule.rule, method, response.status_code)
            checked += 1
    assert checked >= 20
    assert _object_names(db) == ["organisation", "deal"]
    assert db.schema().object("deal").has_field("title")


def test_a_configure_user_works_on_their_objects_only(app, db):
    client = client_for(app, "kim")
    html = client.get("/designer/").get_data(as_text=True)
    assert 'id="object-deal"' in html and 'id="object-organisation"' not in html
    assert 'id="cb-new-object"' not in html  # new objects need an administrator
    assert client.get("/designer/objects/organisation").status_code == 403
    assert client.get("/designer/new-object").status_code == 403
    assert client.get("/designer/objects/deal/delete").status_code == 403
    _html, state = page(client, "/designer/objects/deal")
    response = client.post("/designer/objects/deal", data={
        **state, "label": "Deal", "label_plural": "Opportunities", "name": "deal", "description": "Sales",
        "position": str(db.schema().object("deal").position), "label_de": "", "label_plural_de": ""})
    assert response.status_code == 302
    assert db.schema().object("deal").label_plural == "Opportunities"


# ---- create -----------------------------------------------------------------------------------------
def test_an_admin_creates_an_object_with_the_api_name_proposed_from_the_label(app, db):
    client = client_for(app, "root")
    html = client.get("/designer/").get_data(as_text=True)
    assert 'id="cb-new-object"' in html
    assert 'data-api-source="f-name"' in client.get("/designer/new-object").get_data(as_text=True)
    response = client.post("/designer/new-object", data={
        "label": "Contact person", "label_plural": "Contact persons", "name": "", "description": "People",
        "label_de": "Ansprechpartner", "label_plural_de": "Ansprechpartner"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/designer/objects/contact_person")
    obj = db.schema().object("contact_person")
    assert (obj.label, obj.label_plural, obj.description) == ("Contact person", "Contact persons", "People")
    assert obj.label_in("de") == "Ansprechpartner" and obj.label_plural_in("de") == "Ansprechpartner"
    with db.read() as conn:
        actions = [r.action for r in conn.execute(sa.select(ConfigChange.action))]
    assert "create_object" in actions and "set_translations" in actions  # the configuration log


def test_an_edited_api_name_is_used(app, db):
    client = client_for(app, "root")
    response = client.post("/designer/new-object", data={"label": "Project", "label_plural": "Projects",
                                                          "name": "prj"})
    assert response.status_code == 302
    assert "prj" in _object_names(db)


@pytest.mark.parametrize("values, key, message", [
    ({"label": "ORGANISATION", "name": "firm"}, "label", "an object labelled 'ORGANISATION' already exists"),
    ({"label": "Organisation", "label_plural": "Orgs"}, "name", "an object named 'organisation' already exists"),
    ({"label": "Firm", "name": "organisation"}, "name", "an object named 'organisation' already exists"),
    ({"label": "", "label_plural": "Things"}, "label", "is required"),
    ({"label": "   ", "label_plural": "Things"}, "label", "is required"),
    ({"label": "x" * 500, "label_plural": "Things"}, "label", "is 500 characters long; at most 200 are allowed"),
    ({"label": "Thing", "label_plural": "y" * 500}, "label_plural", "is 500 characters long"),
    ({"label": "Thing", "name": "n" * 500}, "name", "is 500 characters long; at most 63 are allowed"),
    ({"label": "Thing", "name": "Bad Name!"}, "name", "is not a valid API name"),
    ({"label": "Thing", "label_de": "d" * 500}, "label_de", "is 500 characters long"),
])
def test_bad_object_input_is_refused_with_a_message_and_nothing_is_created(app, db, values, key, message):
    client = client_for(app, "root")
    before = _object_names(db)
    response = client.post("/designer/new-object", data={"label_plural": "", "name": "", **values})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert f'data-error-for="{key}"' in body, text_of(response)[:2000]
    assert message in text_of(response)
    assert _object_names(db) == before
    assert 'class="form-control is-invalid"' in body


# ---- rename, describe, order ---------------------------------------------------------------------------
def test_rename_describe_and_german_labels(app, db):
    client = client_for(app, "root")
    html, state = page(client, "/designer/objects/organisation")
    assert 'id="cb-field-order"' in html and 'data-field="city"' in html
    response = client.post("/designer/objects/organisation", data={
        **state, "label": "Company", "label_plural": "Companies", "name": "organisation",
        "description": "Customers and suppliers", "position": "5", "label_de": "Firma", "label_plural_de": "Firmen"})
    assert response.status_code == 302
    obj = db.schema().object("organisation")
    assert (obj.label, obj.label_plural, obj.description, obj.position) == (
        "Company", "Companies", "Customers and suppliers", 5)
    assert obj.label_plural_in("de") == "Firmen"
    # the deal's link and formula keep working after the rename
    assert db.schema().link_target(db.schema().object("deal").field("organisation")).api_name == "organisation"


def test_renaming_to_a_taken_label_or_an_empty_one_is_refused(app, db):
    client = client_for(app, "root")
    _html, state = page(client, "/designer/objects/organisation")
    base = {**state, "label_plural": "Organisations", "name": "organisation", "description": "", "position": "1",
            "label_de": "", "label_plural_de": ""}
    for label, message in (("Deal", "an object labelled 'Deal' already exists"), ("", "is required"),
                           ("z" * 500, "is 500 characters long")):
        response = client.post("/designer/objects/organisation", data={**base, "label": label})
        assert response.status_code == 422
        assert message in text_of(response)
    response = client.post("/designer/objects/organisation", data={**base, "label": "Organisation",
                                                                    "position": "first"})
    assert response.status_code == 422 and "must be a whole number" in text_of(response)
    assert db.schema().object("organisation").label == "Organisation"


def test_the_menu_order_moves_with_the_arrow_buttons(app, db):
    client = client_for(app, "root")
    html = client.get("/designer/").get_data(as_text=True)
    assert 'value="deal:up"' in html
    state = {"schema_version": str(db.schema().version), "order": "organisation,deal"}
    response = client.post("/designer/object-order", data={**state, "move": "deal:up"})
    assert response.status_code == 302
    assert _object_names(db) == ["deal", "organisation"]
    # a stale order (someone moved objects meanwhile) moves nothing
    response = client.post("/designer/object-order", data={**state, "move": "deal:up"})
    assert response.status_code == 302
    assert _object_names(db) == ["deal", "organisation"]


# ---- stale forms ------------------------------------------------------------------------------------------
def test_a_stale_object_form_is_refused_and_shows_the_current_state(app, db):
    alice, bob = client_for(app, "root"), client_for(app, "root")
    _html, state = page(alice, "/designer/objects/organisation")
    _html, bob_state = page(bob, "/designer/objects/organisation")
    form = {"label_plural": "Organisations", "name": "organisation", "description": "", "position": "1",
            "label_de": "", "label_plural_de": ""}
    assert bob.post("/designer/objects/organisation", data={**bob_state, **form, "label": "Company"}).status_code == 302
    response = alice.post("/designer/objects/organisation", data={**state, **form, "label": "Customer"})
    assert response.status_code == 409
    assert "Someone else changed" in text_of(response) and "nothing was saved" in text_of(response)
    assert 'value="Company"' in response.get_data(as_text=True)  # the current state is shown
    assert db.schema().object("organisation").label == "Company"
    # the page shown carries the new state: sending it again works
    new_state = form_state(response.get_data(as_text=True))
    assert alice.post("/designer/objects/organisation", data={**new_state, **form, "label": "Customer"}).status_code == 302
    assert db.schema().object("organisation").label == "Customer"


def test_a_change_to_another_object_does_not_refuse_the_form(app, db):
    client = client_for(app, "root")
    _html, state = page(client, "/designer/objects/organisation")
    SchemaService(db).add_field(SYSTEM, "deal", {"label": "Source", "type": "string"})  # another power user
    assert str(db.schema().version) != state["schema_version"]
    response = client.post("/designer/objects/organisation", data={
        **state, "label": "Company", "label_plural": "Companies", "name": "organisation", "description": "",
        "position": "1", "label_de": "", "label_plural_de": ""})
    assert response.status_code == 302
    assert db.schema().object("organisation").label == "Company"


def test_a_form_without_its_state_is_refused(app, db):
    client = client_for(app, "root")
    response = client.post("/designer/objects/organisation", data={
        "label": "Company", "label_plural": "Companies", "name": "organisation", "position": "1"})
    assert response.status_code == 409
    assert db.schema().object("organisation").label == "Organisation"


# ---- delete -------------------------------------------------------------------------------------------
def test_delete_shows_the_impact_and_needs_the_typed_api_name(app, db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "note", "label": "Note", "label_plural": "Notes",
                               "fields": [{"name": "text", "label": "Text", "type": "string"}]})
    RecordStore(db).bulk_create(SYSTEM, "note", [{"text": "a"}, {"text": "b"}, {"text": "c"}])
    client = client_for(app, "root")
    response = client.get("/designer/objects/note/delete")
    assert response.status_code == 200
    assert "3 records of Notes will be deleted" in text_of(response)
    state = form_state(response.get_data(as_text=True))
    for typed in ("", "Note", "notes", "deal"):
        response = client.post("/designer/objects/note/delete", data={**state, "confirm_name": typed})
        assert response.status_code == 422
        assert "Type the API name 'note' exactly to confirm; nothing was deleted." in text_of(response)
        assert "note" in _object_names(db)
    response = client.post("/designer/objects/note/delete", data={**state, "confirm_name": "note"})
    assert response.status_code == 302
    assert "note" not in _object_names(db)


def test_an_object_in_use_is_not_deleted(app, db):
    client = client_for(app, "root")
    response = client.get("/designer/objects/organisation/delete")
    impact = text_of(response)
    assert "remove these first" in impact and "Deal" in impact  # the deal's link field uses it
    response = client.post("/designer/objects/organisation/delete", data={
        **form_state(response.get_data(as_text=True)), "confirm_name": "organisation"})
    assert response.status_code == 409
    assert "cannot be deleted, it is in use" in text_of(response)
    assert "organisation" in _object_names(db)


def test_a_stale_delete_form_is_refused_and_shows_the_impact_as_it_is_now(app, db):
    SchemaService(db).create_object(SYSTEM, {"name": "note", "label": "Note", "label_plural": "Notes",
                                             "fields": [{"name": "text", "label": "Text", "type": "string"}]})
    client = client_for(app, "root")
    _html, state = page(client, "/designer/objects/note/delete")
    # another power user links deals to notes meanwhile: the impact shown is out of date
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "note", "label": "Note", "type": "link",
                                                 "options": {"target": "note"}})
    SchemaService(db).add_field(SYSTEM, "note", {"name": "body", "label": "Body", "type": "text"})
    for sent in (state, {}):  # the old state, and no state at all
        response = client.post("/designer/objects/note/delete", data={**sent, "confirm_name": "note"})
        assert response.status_code == 409
        shown = text_of(response)
        assert "Nothing was deleted" in shown and "Someone else changed 'Note' while you were editing" in shown
        assert "remove these first" in shown and "Deal" in shown  # the impact as it is now
        assert "note" in _object_names(db) and db.schema().object("note").has_field("body")
    # a change to another object only does not make the form stale
    SchemaService(db).remove_field(SYSTEM, "deal", "note")
    _html, state = page(client, "/designer/objects/note/delete")
    SchemaService(db).add_field(SYSTEM, "organisation", {"label": "Region", "type": "string"})
    response = client.post("/designer/objects/note/delete", data={**state, "confirm_name": "note"})
    assert response.status_code == 302
    assert "note" not in _object_names(db)


# ---- several web workers ------------------------------------------------------------------------------------
def test_a_field_added_in_one_worker_is_seen_at_once_by_another(app, db, db_url):
    other_db = Database(db_url)
    try:
        other = create_app(TEST_CONFIG, db=other_db)  # a second worker process: its own engine and cache
        other_client = client_for(other, "root")
        assert 'data-field="rating"' not in other_client.get("/designer/objects/organisation").get_data(as_text=True)
        token = token_for(other_db, "root")
        assert "rating" not in other.test_client().get(
            "/api/v1/objects/organisation", headers={"Authorization": f"Bearer {token}"}).get_data(as_text=True)
        client = client_for(app, "root")
        _html, state = page(client, "/designer/objects/organisation/new-field")
        response = client.post("/designer/objects/organisation/new-field", data={
            **state, "label": "Rating", "name": "", "type": "integer", "default": "", "help_text": ""})
        assert response.status_code == 302, text_of(response)[:2000]
        # the other worker: designer, API and records see the field without a restart
        assert 'data-field="rating"' in other_client.get("/designer/objects/organisation").get_data(as_text=True)
        body = other.test_client().get("/api/v1/objects/organisation",
                                       headers={"Authorization": f"Bearer {token}"}).get_json()
        assert "rating" in [f["name"] for f in body["fields"]]
        record = RecordStore(other_db).create(SYSTEM, "organisation", {"name": "ACME", "rating": 5})
        assert record["rating"] == 5
        # the end-user list and card of the other worker show it too
        if "lists.index" in other.view_functions and "cards.card" in other.view_functions:
            assert "Rating" in other_client.get("/o/organisation").get_data(as_text=True)
            assert "Rating" in other_client.get(f"/o/organisation/{record['id']}").get_data(as_text=True)
    finally:
        other_db.dispose()
