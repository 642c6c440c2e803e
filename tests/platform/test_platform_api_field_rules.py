"""Conditional field rules through the REST API: defined on fields (GET/POST/PATCH
/api/v1/objects/{object}/fields, described in the OpenAPI document) and enforced by the
record store on API writes with 422 and per-field errors."""
from __future__ import annotations

import pytest

from api_testlib import api_for, crm_app, error_of

WON = {"field": "stage", "op": "eq", "value": "won"}


@pytest.fixture
def root(db):
    return api_for(crm_app(db), db, "root")


def test_rules_are_set_read_and_removed_through_the_field_endpoints(root):
    changed = root.patch("/api/v1/objects/deal/fields/close_date", {"rules": {"required_when": WON}})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["rules"] == {"required_when": WON}
    assert root.get("/api/v1/objects/deal/fields/close_date").get_json()["rules"] == {"required_when": WON}
    listed = {f["name"]: f for f in root.get("/api/v1/objects/deal/fields").get_json()["data"]}
    assert listed["close_date"]["rules"] == {"required_when": WON} and "rules" not in listed["title"]
    added = root.post("/api/v1/objects/deal/fields", {
        "name": "loss", "label": "Loss", "type": "text",
        "rules": {"visible_when": {"field": "stage", "op": "ne", "value": "won"}}})
    assert added.status_code == 201, added.get_json()
    assert added.get_json()["rules"] == {"visible_when": {"field": "stage", "op": "ne", "value": "won"}}
    cleared = root.patch("/api/v1/objects/deal/fields/loss", {"rules": None})
    assert cleared.status_code == 200 and "rules" not in cleared.get_json()


def test_bad_rules_get_422_naming_the_rule(root):
    refused = root.patch("/api/v1/objects/deal/fields/close_date",
                         {"rules": {"required_when": {"field": "organisation.city", "op": "eq", "value": "x"}}})
    assert refused.status_code == 422
    assert "only fields of the record itself" in error_of(refused)["fields"]["rules.required_when"][0]
    refused = root.post("/api/v1/objects/deal/fields", {"name": "x", "label": "X", "type": "text",
                                                        "rules": {"shown_when": WON}})
    assert refused.status_code == 422
    assert error_of(refused)["fields"]["rules.shown_when"] == [
        "is not a rule; use visible_when, required_when, readonly_when"]
    assert root.get("/api/v1/objects/deal/fields/x").status_code == 404


def test_api_writes_are_checked_against_the_rules(root):
    root.patch("/api/v1/objects/deal/fields/close_date", {"rules": {"required_when": WON}})
    root.patch("/api/v1/objects/deal/fields/probability", {"rules": {"readonly_when": WON}})
    refused = root.post("/api/v1/records/deal", {"title": "A", "stage": "won"})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"close_date": ["is required when Stage = won"]}
    created = root.post("/api/v1/records/deal", {"title": "A", "stage": "won", "close_date": "2026-11-22",
                                                 "probability": 90})
    assert created.status_code == 201, created.get_json()
    rid = created.get_json()["id"]
    refused = root.patch(f"/api/v1/records/deal/{rid}", {"version": 1, "probability": 50})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"probability": ["is read-only when Stage = won"]}
    bulk = root.post("/api/v1/records/deal/bulk", {"records": [{"title": "B", "stage": "won"}]})
    assert bulk.status_code == 422
    assert error_of(bulk)["fields"] == {"[0].close_date": ["is required when Stage = won"]}
    assert root.get("/api/v1/records/deal").get_json()["count"] == 1


def test_the_openapi_document_describes_the_rules(root):
    doc = root.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    assert set(schemas["FieldRules"]["properties"]) == {"visible_when", "required_when", "readonly_when"}
    for name in ("FieldDef", "FieldDefInput", "FieldDefPatch"):
        assert "rules" in schemas[name]["properties"], name
    assert "rules" not in schemas["FieldDef"].get("required", [])
