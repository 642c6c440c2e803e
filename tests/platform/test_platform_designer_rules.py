"""Conditional field rules in the configurator (/designer/objects/<object>/rules): edited
with the condition builder, saved through the schema service, and then enforced by the
record store for every channel -- here the REST API and the end user's card -- on the
demo CRM's Deal."""
from __future__ import annotations

import json

import pytest
from api_testlib import PASSWORD, api_for, error_of, make_app
from designer2_testlib import demo_crm, embedded_json, grant, hidden, signed_in

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

LOST = {"field": "stage", "op": "eq", "value": "lost"}
RULES_URL = "/designer/objects/deal/fields/lost_reason/rules"


@pytest.fixture
def app(db):
    """The demo CRM's objects with a "Lost reason" field on Deal; admin and sam."""
    demo_crm(db)  # initialised, admin's password, the demo CRM's objects (no records)
    RecordStore(db).create(SYSTEM, "organisation", {"name": "Acme"})
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "lost_reason", "label": "Lost reason", "type": "text"})
    users.create_user(db, "sam", PASSWORD, display_name="Sam")
    return make_app(db)


@pytest.fixture
def admin(app):
    return signed_in(app, "admin")


def _save(client, **conditions):
    html = client.get(RULES_URL).get_data(as_text=True)
    form = {"state": hidden(html, "state"), "visible_when": "", "required_when": "", "readonly_when": ""}
    form.update({k: json.dumps(v) if isinstance(v, dict) else v for k, v in conditions.items()})
    return client.post(RULES_URL, data=form)


def test_required_when_lost_is_saved_and_enforced_through_the_api(app, admin, db):
    html = admin.get(RULES_URL).get_data(as_text=True)
    fields = embedded_json(html, "cb-condition-fields")
    stage = next(f for f in fields if f["path"] == "stage")
    assert "lost" in [c["value"] for c in stage["choices"]] and "eq" in stage["operators"]
    assert "lost_reason" in [f["path"] for f in fields]
    assert "code" not in [f["path"] for f in fields]  # only fields people enter on the record
    response = _save(admin, required_when=LOST)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    field = db.schema().object("deal").field("lost_reason")
    assert field.rules and "required_when" in field.rules
    listing = admin.get("/designer/objects/deal/rules").get_data(as_text=True)
    assert "Required when" in listing and "Stage = lost" in listing

    api = api_for(app, db, "admin")
    org = RecordStore(db).list(SYSTEM, "organisation").data[0]["id"]
    refused = api.post("/api/v1/records/deal", {"title": "Lost one", "stage": "lost", "organisation": org})
    assert refused.status_code == 422
    assert list(error_of(refused)["fields"]) == ["lost_reason"]
    assert "required when Stage = lost" in error_of(refused)["fields"]["lost_reason"][0]
    assert RecordStore(db).count(SYSTEM, "deal", {"field": "title", "op": "eq", "value": "Lost one"})[0] == 0
    created = api.post("/api/v1/records/deal", {"title": "Lost one", "stage": "lost", "organisation": org,
                                                 "lost_reason": "Too dear"})
    assert created.status_code == 201, created.get_json()
    assert api.post("/api/v1/records/deal", {"title": "Won one", "stage": "won", "organisation": org}).status_code == 201

    # the end user's card (a plain form POST) is refused the same way, naming the field
    card = admin.post("/o/deal/new", data={"f-title": "Lost by card", "f-stage": "lost", "f-organisation": str(org),
                                           "f-lost_reason": ""})
    assert card.status_code == 422
    page = card.get_data(as_text=True)
    assert "required when Stage = lost" in page and 'data-field="lost_reason"' in page
    assert RecordStore(db).count(SYSTEM, "deal", {"field": "title", "op": "eq", "value": "Lost by card"})[0] == 0
    ok = admin.post("/o/deal/new", data={"f-title": "Lost by card", "f-stage": "lost", "f-organisation": str(org),
                                         "f-lost_reason": "Too slow"})
    assert ok.status_code == 302


def test_rules_are_removed_by_saving_empty_conditions(app, admin, db):
    assert _save(admin, required_when=LOST, readonly_when={"field": "stage", "op": "eq", "value": "won"}).status_code == 302
    assert set(db.schema().object("deal").field("lost_reason").rules) == {"required_when", "readonly_when"}
    assert _save(admin).status_code == 302
    assert not db.schema().object("deal").field("lost_reason").rules


BAD_RULES = [
    ({"required_when": "{oops"}, "Required when: is not valid JSON"),
    ({"required_when": "[1, 2]"}, "Required when: must be a condition object"),
    ({"required_when": {"field": "nope", "op": "eq", "value": "x"}}, "nope"),
    ({"required_when": {"field": "stage", "op": "eq", "value": "vanished"}}, "vanished"),
    ({"required_when": {"field": "organisation.city", "op": "eq", "value": "x"}}, "only fields of the record itself"),
    ({"visible_when": {"field": "lost_reason", "op": "is_empty"}}, "cannot be shown depending on its own value"),
]


def test_bad_rules_are_refused_with_a_clear_message_and_nothing_changes(app, admin, db):
    for conditions, message in BAD_RULES:
        response = _save(admin, **conditions)
        assert response.status_code == 422, conditions
        page = response.get_data(as_text=True)
        assert "The rules were not saved" in page
        assert message.replace("'", "&#39;") in page, page[page.find("cb-form-errors"):][:800]
        assert not db.schema().object("deal").field("lost_reason").rules
        # what was typed is shown again
        key, value = next(iter(conditions.items()))
        typed = value if isinstance(value, str) else json.dumps(value)
        shown = textarea(page, key)
        if _parses(typed):
            assert json.loads(shown) == json.loads(typed)
        else:
            assert shown == typed


def textarea(page: str, name: str) -> str:
    import html as html_lib
    import re
    m = re.search(r'<textarea[^>]*name="%s"[^>]*>(.*?)</textarea>' % name, page, re.S)
    return html_lib.unescape(m.group(1))


def _parses(text: str) -> bool:
    try:
        json.loads(text)
        return True
    except ValueError:
        return False


def test_stale_rules_form_is_refused(app, admin, db):
    html = admin.get(RULES_URL).get_data(as_text=True)
    state = hidden(html, "state")
    SchemaService(db).update_field(SYSTEM, "deal", "lost_reason", {"rules": {"readonly_when": {
        "field": "stage", "op": "eq", "value": "won"}}})
    response = admin.post(RULES_URL, data={"state": state, "required_when": json.dumps(LOST),
                                           "visible_when": "", "readonly_when": ""})
    assert response.status_code == 409
    assert "Someone else changed the fields of Deal" in response.get_data(as_text=True)
    assert set(db.schema().object("deal").field("lost_reason").rules) == {"readonly_when"}


def test_rules_need_the_configure_right(app, db):
    sam = signed_in(app, "sam")
    assert sam.get(RULES_URL).status_code == 403
    grant(db, "sam", "Deal designers", "deal", ["read", "configure"])
    assert sam.get(RULES_URL).status_code == 200
    assert sam.get("/designer/objects/organisation/rules").status_code == 403
    assert sam.get("/designer/objects/deal/fields/nope/rules").status_code == 404
    assert sam.get("/designer/objects/deal/fields/code/rules").status_code == 404
    assert _save(sam, required_when=LOST).status_code == 302


def test_rules_page_controls_are_labelled(admin):
    html = admin.get(RULES_URL).get_data(as_text=True)
    for kind in ("visible_when", "required_when", "readonly_when"):
        assert f'for="cb-condition-json-{kind}"' in html and f'id="cb-condition-json-{kind}"' in html
    texts = embedded_json(html, "cb-condition-texts")
    assert texts["field"] and texts["operator"] and texts["value"] and texts["remove"]
    assert "conditions.js" in html and "style=" not in html
