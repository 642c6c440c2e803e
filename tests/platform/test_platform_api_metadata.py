"""Metadata through the REST API (objects and fields by API name, the options of every
field type in their portable form), and users, groups and rights management."""
from __future__ import annotations

import pytest

from cardbase.platform import users

from api_testlib import PASSWORD, Api, build_crm, error_of, make_app, make_users


@pytest.fixture
def app(db):
    make_users(db)
    return make_app(db)


CLIENT = {"name": "client", "label": "Client", "label_plural": "Clients", "code_pattern": "CL-{00000}", "fields": [
    {"name": "name", "label": "Name", "type": "string", "required": True, "options": {"length": 80}},
    {"name": "rate", "label": "Rate", "type": "decimal", "options": {"precision": 8, "scale": 3}},
    {"name": "budget", "label": "Budget", "type": "money", "options": {"currency": "CHF"}},
    {"name": "status", "label": "Status", "type": "choice", "default": "new",
     "options": {"choices": [{"value": "new", "label": "New", "color": "blue"}, {"value": "old", "label": "Old"}]}},
    {"name": "topics", "label": "Topics", "type": "multi_choice",
     "options": {"choices": [{"value": "a", "label": "Alpha", "color": "green"}, {"value": "b"}]}},
    {"name": "vat_id", "label": "VAT id", "type": "string", "unique": True},
    {"name": "number", "label": "Number", "type": "autonumber", "options": {"pattern": "N-{0000}"}},
]}
ORDER = {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
    {"name": "client", "label": "Client", "type": "link", "required": True,
     "options": {"target": "client", "on_delete": "cascade"}},
    {"name": "price", "label": "Price", "type": "decimal"},
    {"name": "quantity", "label": "Quantity", "type": "integer"},
    {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity]"}},
    {"name": "client_name", "label": "Client name", "type": "lookup", "options": {"link": "client", "field": "name"}},
]}


def test_objects_and_fields_round_trip_with_portable_options(root):
    created = root.post("/api/v1/objects", CLIENT)
    assert created.status_code == 201 and created.headers["Location"] == "/api/v1/objects/client"
    client = created.get_json()
    assert {k: client[k] for k in ("name", "label", "label_plural", "code_pattern")} == \
        {"name": "client", "label": "Client", "label_plural": "Clients", "code_pattern": "CL-{00000}"}
    options = {f["name"]: f["options"] for f in client["fields"]}
    assert options["name"] == {"length": 80}
    assert options["rate"] == {"precision": 8, "scale": 3}
    assert options["budget"]["currency"] == "CHF"
    assert options["status"] == {"choices": [{"value": "new", "label": "New", "color": "blue"},
                                             {"value": "old", "label": "Old"}]}
    assert options["topics"] == {"choices": [{"value": "a", "label": "Alpha", "color": "green"},
                                             {"value": "b", "label": "b"}]}
    assert options["number"] == {"pattern": "N-{0000}"}
    fields = {f["name"]: f for f in client["fields"]}
    assert fields["status"]["default"] == "new"
    assert (fields["vat_id"]["unique"], fields["name"]["unique"]) == (True, False)
    assert (fields["name"]["required"], fields["vat_id"]["required"]) == (True, False)
    # unique holds: a second client with the same VAT id is refused, naming the field
    assert root.post("/api/v1/records/client", {"name": "A", "vat_id": "DE1"}).status_code == 201
    clash = root.post("/api/v1/records/client", {"name": "B", "vat_id": "DE1"})
    assert clash.status_code == 422 and "vat_id" in error_of(clash)["fields"]
    order = root.post("/api/v1/objects", ORDER).get_json()
    options = {f["name"]: f["options"] for f in order["fields"]}
    assert options["client"] == {"target": "client", "on_delete": "cascade"}  # by name, not id
    assert options["cost"] == {"formula": "[Price] * [Quantity]", "scale": 2}
    assert options["client_name"] == {"link": "client", "field": "name"}
    rollup = root.post("/api/v1/objects/client/fields", {
        "name": "turnover", "label": "Turnover", "type": "rollup",
        "options": {"child": "order", "link": "client", "field": "cost", "aggregate": "sum",
                    "filter": {"field": "quantity", "op": "gt", "value": 0}}})
    assert rollup.status_code == 201
    assert rollup.get_json()["options"] == {"child": "order", "link": "client", "field": "cost", "aggregate": "sum",
                                           "filter": {"field": "quantity", "op": "gt", "value": 0}}
    assert rollup.headers["Location"] == "/api/v1/objects/client/fields/turnover"
    assert [o["name"] for o in root.get("/api/v1/objects").get_json()["data"]] == ["client", "order"]
    assert root.get("/api/v1/objects/order/fields/cost").get_json()["type"] == "formula"


def test_change_and_remove_fields_and_objects(root):
    root.post("/api/v1/objects", CLIENT)
    renamed = root.patch("/api/v1/objects/client/fields/name", {"label": "Company name", "name": "company"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "company"
    assert root.get("/api/v1/objects/client/fields/name").status_code == 404
    longer = root.patch("/api/v1/objects/client/fields/company", {"options": {"length": 120}})
    assert longer.get_json()["options"] == {"length": 120}
    record = root.post("/api/v1/records/client", {"company": "ACME", "rate": "1.5"}).get_json()
    refused = root.patch("/api/v1/objects/client/fields/rate", {"type": "integer"})
    assert refused.status_code == 409 and error_of(refused)["code"] == "conversion_refused"
    assert root.delete("/api/v1/objects/client/fields/topics").status_code == 204
    assert "topics" not in root.get(f"/api/v1/records/client/{record['id']}").get_json()
    obj = root.patch("/api/v1/objects/client", {"label_plural": "Customers", "display_field": "company"})
    assert obj.status_code == 200 and obj.get_json()["label_plural"] == "Customers"
    order = {**ORDER, "fields": [f for f in ORDER["fields"] if f["type"] != "lookup"]}
    assert root.post("/api/v1/objects", order).status_code == 201
    in_use = root.delete("/api/v1/objects/client")
    assert in_use.status_code == 409 and error_of(in_use)["code"] == "in_use"
    assert root.delete("/api/v1/objects/order").status_code == 204
    assert root.delete("/api/v1/objects/client").status_code == 204
    assert root.get("/api/v1/objects").get_json()["data"] == []


def test_schema_errors_name_the_option(root):
    response = root.post("/api/v1/objects", {"label": "Thing", "fields": [
        {"name": "n", "label": "N", "type": "string", "options": {"length": 0}}]})
    assert response.status_code == 422
    assert "fields[0].options.length" in error_of(response)["fields"]
    assert root.get("/api/v1/objects").get_json()["data"] == []  # nothing half-created


def test_users_and_groups(db, root, app):
    created = root.post("/api/v1/users", {"username": "eve", "password": "echo-pass-9953", "display_name": "Eve",
                                          "email": "eve@example.com", "language": "de"})
    assert created.status_code == 201
    eve = created.get_json()
    assert eve["username"] == "eve" and eve["email"] == "eve@example.com" and eve["groups"] == []
    assert root.post("/api/v1/users", {"username": "EVE", "password": "echo-pass-9953"}).status_code == 422
    group = root.post("/api/v1/groups", {"name": "Support", "description": "first line"}).get_json()
    assert group == {"id": group["id"], "name": "Support", "description": "first line", "member_count": 0}
    assert root.put(f"/api/v1/groups/{group['id']}/members/{eve['id']}").status_code == 204
    assert root.get(f"/api/v1/groups/{group['id']}").get_json()["member_count"] == 1
    assert [u["username"] for u in root.get(f"/api/v1/groups/{group['id']}/members").get_json()["data"]] == ["eve"]
    assert root.get(f"/api/v1/users/{eve['id']}").get_json()["groups"] == [{"id": group["id"], "name": "Support"}]
    assert root.patch(f"/api/v1/groups/{group['id']}", {"name": "Service"}).get_json()["name"] == "Service"
    # Eve logs in, changes her own password (with the current one).
    eve_api = Api(app.test_client(), Api(app.test_client()).post(
        "/api/v1/auth/token", {"username": "eve", "password": "echo-pass-9953"}).get_json()["token"])
    assert eve_api.get("/api/v1/me").get_json()["groups"] == [{"id": group["id"], "name": "Service"}]
    wrong = eve_api.patch(f"/api/v1/users/{eve['id']}", {"password": "new-password", "current_password": "nope"})
    assert wrong.status_code == 422 and "current_password" in error_of(wrong)["fields"]
    assert eve_api.patch(f"/api/v1/users/{eve['id']}", {"password": "new-password",
                                                        "current_password": "echo-pass-9953"}).status_code == 200
    assert users.authenticate(db, "eve", "new-password") is not None
    assert root.delete(f"/api/v1/groups/{group['id']}/members/{eve['id']}").status_code == 204
    assert root.delete(f"/api/v1/users/{eve['id']}").status_code == 204  # deactivates
    assert root.get(f"/api/v1/users/{eve['id']}").get_json()["active"] is False
    assert root.delete(f"/api/v1/groups/{group['id']}").status_code == 204
    assert root.get(f"/api/v1/groups/{group['id']}").status_code == 404
    root_id = users.find_user(db, "root").id
    last_admin = root.patch(f"/api/v1/users/{root_id}", {"is_admin": False})
    assert last_admin.status_code == 422


def test_object_and_field_rights_endpoints(db, root):
    build_crm(db)
    sales = root.post("/api/v1/groups", {"name": "Sales"}).get_json()
    assert root.get("/api/v1/objects/deal/rights").get_json() == {"mode": "all", "groups": [], "parent": None}
    changed = root.patch("/api/v1/objects/deal/rights", {
        "mode": "own_and_shared", "groups": [{"group": "Sales", "rights": ["read", "edit"]}]})
    assert changed.status_code == 200
    assert changed.get_json() == {"mode": "own_and_shared", "parent": None, "groups": [
        {"group_id": sales["id"], "group": "Sales", "rights": ["read", "edit"], "scope": None}]}
    bad = root.patch("/api/v1/objects/deal/rights", {"groups": [{"group": sales["id"], "rights": ["fly"]}]})
    assert bad.status_code == 422 and "groups[0].rights" in error_of(bad)["fields"]
    field = root.patch("/api/v1/objects/deal/fields/amount/rights",
                       {"groups": [{"group": sales["id"], "level": "read_only"}]})
    assert field.get_json()["groups"][0]["level"] == "read_only"
    cleared = root.patch("/api/v1/objects/deal/fields/amount/rights", {"groups": [{"group": "Sales", "level": None}]})
    assert cleared.get_json() == {"groups": []}
    assert root.get("/api/v1/objects/deal/fields/code/rights").status_code == 404
    views = root.get("/api/v1/objects/deal/rule-views").get_json()
    assert views == {"data": []}
    bad_view = root.post("/api/v1/objects/deal/rule-views", {"group": "Sales", "name": "x",
                                                             "filter": {"field": "nope", "op": "eq", "value": 1}})
    assert bad_view.status_code == 422


def test_password_is_never_returned(db, root):
    listed = root.get("/api/v1/users").get_json()["data"]
    assert "password" not in str(listed) and "argon2" not in str(listed)
    assert PASSWORD not in str(listed)
