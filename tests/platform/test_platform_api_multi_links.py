"""Many-to-many links through the REST API (issue 14, point 10): a multi-link field reads
as a list of {id, display} and is written as a list of ids (single writes, bulk create and
update, filters has_any/has_all); a link to a trashed, invisible or missing record is a 422
naming the field and the id; the OpenAPI document describes it as an array of integers."""
from __future__ import annotations

import jsonschema_rs
import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.scopes import set_record_scope
from cardbase.schema_engine.schema_service import SchemaService

from api_testlib import api_for, crm_app, error_of, seed_orgs


@pytest.fixture
def app(db):
    app = crm_app(db)
    SchemaService(db).add_field(SYSTEM, "deal", {"name": "partners", "label": "Partners", "type": "links",
                                                 "options": {"target": "organisation"}})
    return app


@pytest.fixture
def orgs(db, app):
    return seed_orgs(db, 4)


def test_write_a_list_of_ids_and_read_the_linked_records(root, orgs):
    created = root.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[2], str(orgs[0])]})
    assert created.status_code == 201, created.get_json()
    record = created.get_json()
    assert record["partners"] == [{"id": orgs[2], "display": "Org 2"}, {"id": orgs[0], "display": "Org 0"}]
    changed = root.patch(f"/api/v1/records/deal/{record['id']}", {"partners": [{"id": orgs[1]}], "version": 1})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["partners"] == [{"id": orgs[1], "display": "Org 1"}]
    emptied = root.patch(f"/api/v1/records/deal/{record['id']}", {"partners": [], "version": 2})
    assert emptied.get_json()["partners"] is None


def test_bulk_create_and_update_and_filters(root, orgs):
    bulk = root.post("/api/v1/records/deal/bulk", {"records": [
        {"title": "A", "partners": [orgs[0], orgs[1]]}, {"title": "B", "partners": [orgs[1]]}, {"title": "C"}]})
    assert bulk.status_code in (200, 201), bulk.get_json()
    a, b, c = (row["id"] for row in bulk.get_json()["data"])
    again = root.post("/api/v1/records/deal/bulk", {"records": [{"id": c, "version": 1, "partners": [orgs[3]]}]})
    assert again.status_code in (200, 201), again.get_json()

    def found(cond):
        response = root.get("/api/v1/records/deal", query={"filter": cond, "sort": "title"})
        assert response.status_code == 200, response.get_json()
        return [r["title"] for r in response.get_json()["data"]]

    assert found({"field": "partners", "op": "has_any", "value": [orgs[1], orgs[3]]}) == ["A", "B", "C"]
    assert found({"field": "partners", "op": "has_all", "value": [orgs[0], orgs[1]]}) == ["A"]
    assert found({"field": "partners", "op": "is_empty"}) == []
    assert a and b
    bad = root.get("/api/v1/records/deal", query={"filter": {"field": "partners", "op": "eq", "value": 1}})
    assert bad.status_code == 400
    assert "operator 'eq' is not supported by a links field" in str(error_of(bad)["fields"])


def test_trashed_missing_and_invisible_targets_are_refused_naming_the_id(db, app, root, orgs):
    root.delete(f"/api/v1/records/organisation/{orgs[3]}")
    trashed = root.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[0], orgs[3]]})
    assert trashed.status_code == 422
    assert error_of(trashed)["fields"]["partners"] == ["'Organisation' record ORG-00004 is in the trash"]
    missing = root.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[0], 987654]})
    assert error_of(missing)["fields"]["partners"] == ["there is no 'Organisation' record with id 987654"]
    bulk = root.post("/api/v1/records/deal/bulk", {"records": [{"title": "ok", "partners": [orgs[0]]},
                                                              {"title": "bad", "partners": ["x"]}]})
    assert bulk.status_code == 422  # all or nothing
    assert root.get("/api/v1/records/deal").get_json()["data"] == []
    group = users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    rights.set_object_rights(db, SYSTEM, group.id, "deal", ["read", "create", "edit"])
    rights.set_object_rights(db, SYSTEM, group.id, "organisation", ["read"])
    rights.save_rule_view(db, SYSTEM, group.id, "organisation", "Berlin", {"field": "city", "op": "eq", "value": "Berlin"})
    set_record_scope(db, SYSTEM, group.id, "organisation", "rule_views")
    sam = api_for(app, db, "sam")
    hidden = orgs[0]  # Org 0 is in Hamburg: not Sam's
    refused = sam.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[1], hidden]})
    assert refused.status_code == 422
    assert error_of(refused)["fields"]["partners"] == [f"there is no 'Organisation' record with id {hidden}"]
    assert sam.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[1]]}).status_code == 201


def test_openapi_describes_an_array_of_integers(db, root, orgs):
    root.post("/api/v1/records/deal", {"title": "D", "partners": [orgs[0]]})
    doc = root.get("/api/openapi.json").get_json()
    schemas = doc["components"]["schemas"]
    written = schemas["DealRecordInput"]["properties"]["partners"]
    assert written["type"] == ["array", "null"] and written["items"]["type"] == "integer"
    assert written["items"]["minimum"] == 1 and written["maxItems"] == 1000
    read = schemas["DealRecord"]["properties"]["partners"]
    assert read["items"] == {"$ref": "#/components/schemas/LinkRef"}
    ops = doc["components"]["schemas"]
    assert any("has_any" in str(s) for s in ops.values())
    components = {"components": doc["components"]}
    page = root.get("/api/v1/records/deal").get_json()
    jsonschema_rs.validator_for({"$ref": "#/components/schemas/DealRecordList", **components}).validate(page)
