"""The OpenAPI 3.1 description: valid, generated from the live metadata (one schema per
object with its real types and constraints), rebuilt when the schema or the rights
change, filtered by the caller's rights -- and the reference page, served without a CDN."""
from __future__ import annotations

import jsonschema_rs
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.schema_service import SchemaService

from api_testlib import Api, PASSWORD, api_for, crm_app, seed_orgs


@pytest.fixture
def app(db):
    return crm_app(db)


def document(api) -> dict:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_valid_openapi_3_1(root):
    doc = document(root)
    assert doc["openapi"] == "3.1.0"
    OPENAPI_31_VALIDATOR.validate(doc)
    for schema in doc["components"]["schemas"].values():
        jsonschema_rs.validator_for({**schema, "components": doc["components"]})  # each is a usable JSON Schema
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "a session or personal API token"}
    assert doc["paths"]["/api/v1/auth/token"]["post"]["security"] == []


def test_one_schema_per_object_with_real_types_and_constraints(root):
    doc = document(root)
    schemas = doc["components"]["schemas"]
    deal = schemas["DealRecord"]["properties"]
    assert deal["title"]["type"] == ["string", "null"] and deal["title"]["maxLength"] == 255
    assert deal["amount"]["anyOf"] == [{"$ref": "#/components/schemas/Money"}, {"type": "null"}]
    assert deal["quantity"]["type"] == ["string", "null"] and deal["quantity"]["format"] == "decimal"
    assert deal["stage"]["enum"] == ["lead", "won", None]
    assert deal["tags"]["type"] == ["array", "null"] and deal["tags"]["items"]["enum"] == ["hot", "cold"]
    assert deal["close_date"]["format"] == "date" and deal["created_at"]["format"] == "date-time"
    assert deal["probability"]["type"] == ["integer", "null"]
    assert deal["organisation"]["anyOf"][0] == {"$ref": "#/components/schemas/LinkRef"}
    # a formula has its result's type: [Amount] * [Quantity] is money (issue 14, point 1)
    assert {"$ref": "#/components/schemas/Money"} in deal["total"]["anyOf"]
    assert deal["id"]["type"] == "integer" and deal["code"]["type"] == "string"
    assert set(schemas["DealRecord"]["required"]) == {"id", "code", "version"}
    entry = schemas["DealRecordInput"]
    assert entry["required"] == ["title"] and entry["additionalProperties"] is False
    assert "total" not in entry["properties"] and "id" not in entry["properties"]  # computed, system
    assert entry["properties"]["organisation"]["type"] == ["integer", "null"]  # links are written as ids
    assert {"type": "number"} in entry["properties"]["quantity"]["anyOf"]
    assert "version" in schemas["DealRecordPatch"]["properties"]
    assert schemas["DealRecordBulk"]["properties"]["records"]["maxItems"] == 1000
    paths = doc["paths"]
    for path in ("/api/v1/records/deal", "/api/v1/records/deal/{id}", "/api/v1/records/deal/bulk",
                 "/api/v1/records/deal/{id}/history", "/api/v1/records/deal/{id}/restore",
                 "/api/v1/records/organisation", "/api/v1/objects", "/api/v1/objects/{object_name}/fields/{field_name}",
                 "/api/v1/users", "/api/v1/groups", "/api/v1/objects/{object_name}/rights",
                 "/api/v1/objects/{object_name}/fields/{field_name}/rights"):
        assert path in paths, path
    listing = paths["/api/v1/records/deal"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/DealRecordList"}
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500
    assert set(listing["responses"]) >= {"200", "400", "401", "403", "404"}


def test_real_responses_match_their_schemas(db, root):
    org = seed_orgs(db, 1)[0]
    root.post("/api/v1/records/deal", {"title": "x", "amount": "5", "organisation": org, "tags": ["hot"]})
    doc = document(root)
    components = {"components": doc["components"]}
    page = root.get("/api/v1/records/deal?fields=title,organisation.city").get_json()
    jsonschema_rs.validator_for({"$ref": "#/components/schemas/DealRecordList", **components}).validate(page)
    record = root.get(f"/api/v1/records/deal/{page['data'][0]['id']}").get_json()
    jsonschema_rs.validator_for({"$ref": "#/components/schemas/DealRecord", **components}).validate(record)
    error = root.get("/api/v1/records/deal?limit=0").get_json()
    jsonschema_rs.validator_for({"$ref": "#/components/schemas/Error", **components}).validate(error)


def test_rebuilt_when_the_schema_changes_in_any_worker(db, app, root):
    first = document(root)
    assert "region" not in first["components"]["schemas"]["DealRecord"]["properties"]
    assert document(root) == first  # cached
    other_worker = Database(db.engine.url.render_as_string(hide_password=False))
    try:
        SchemaService(other_worker).add_field(SYSTEM, "deal", {"name": "region", "label": "Region", "type": "string"})
    finally:
        other_worker.dispose()
    assert "region" in document(root)["components"]["schemas"]["DealRecord"]["properties"]
    root.post("/api/v1/objects", {"label": "Ticket"})
    assert "/api/v1/records/ticket" in document(root)["paths"]


def test_filtered_by_the_callers_rights(db, app, root):
    group = users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    sam = api_for(app, db, "sam")
    nothing = document(sam)
    assert not [p for p in nothing["paths"] if p.startswith("/api/v1/records/")]
    rights.set_object_rights(db, SYSTEM, group.id, "deal", ["read", "edit"])
    rights.set_field_right(db, SYSTEM, group.id, "deal", "secret_note", "hidden")
    rights.set_field_right(db, SYSTEM, group.id, "deal", "amount", "read_only")
    doc = document(sam)
    records = {p.split("/")[4] for p in doc["paths"] if p.startswith("/api/v1/records/")}
    assert records == {"deal"}  # organisations are not readable: absent
    schemas = doc["components"]["schemas"]
    assert "OrganisationRecord" not in schemas
    assert "secret_note" not in schemas["DealRecord"]["properties"]
    assert "secret_note" not in str(doc)
    assert "amount" in schemas["DealRecord"]["properties"]
    assert "amount" not in schemas["DealRecordInput"]["properties"]  # read-only for sam
    assert "amount" in document(root)["components"]["schemas"]["DealRecordInput"]["properties"]


def test_anonymous_callers_get_no_description(app, root):
    """Anonymous access is refused everywhere but login, health and static files."""
    anonymous = Api(app.test_client())
    response = anonymous.get("/api/openapi.json")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    assert "deal" not in response.get_data(as_text=True).lower()
    assert anonymous.get("/api/docs").status_code == 401


def test_reference_page_is_served_without_a_cdn(app, root):
    page = root.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "/api/v1/records/deal/{id}" in html and "DealRecordInput" in html
    assert "https://" not in html and "http://" not in html and "<script" not in html.lower()
    anonymous = Api(app.test_client()).get("/api/docs")
    assert anonymous.status_code == 401 and "/api/v1/records/deal" not in anonymous.get_data(as_text=True)
    browser = app.test_client()  # a logged-in browser sees the objects it may read
    browser.post("/login", data={"username": "root", "password": PASSWORD})
    assert "/api/v1/records/deal" in browser.get("/api/docs").get_data(as_text=True)
