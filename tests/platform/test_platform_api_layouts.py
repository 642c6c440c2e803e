"""Card layouts and the table design through the REST API: the same engine functions as
the card and table designers (validation naming each problem's place, the configure
right, the change log), layouts by field name (never ids), JSON errors, and the paths in
the OpenAPI description for the objects the caller may configure."""
from __future__ import annotations

import json

import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from cardbase.platform import users
from cardbase.schema_engine import layouts, rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import api_for, crm_app, error_of

LAYOUT = {"tabs": [{"label": "", "sections": [
    {"label": "Main", "columns": 2, "items": [{"field": "title"}, {"field": "stage", "column": 2, "label": "Phase"},
                                             "amount"]}]}]}


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def sam(app, db):
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    return api_for(app, db, "sam")


def test_the_default_card_is_generated_until_one_is_designed(root):
    assert root.get("/api/v1/objects/deal/cards").get_json() == {"data": []}
    card = root.get("/api/v1/objects/deal/cards/default").get_json()
    assert card["id"] is None and card["is_default"] is True
    items = card["layout"]["tabs"][0]["sections"][0]["items"]
    assert items[0] == {"field": "title", "column": 1}
    organisation = root.get("/api/v1/objects/organisation/cards/default").get_json()
    related = organisation["layout"]["tabs"][0]["sections"][0]["items"][-1]
    assert related["related"] == {"object": "deal", "link": "organisation"}  # by name, not by field id
    assert "#" not in json.dumps(organisation)


def test_cards_are_created_read_changed_and_deleted(root, db):
    created = root.post("/api/v1/objects/deal/cards", {"name": "Sales card", "layout": LAYOUT})
    assert created.status_code == 201, created.get_json()
    card = created.get_json()
    assert created.headers["Location"] == f"/api/v1/objects/deal/cards/{card['id']}"
    assert card["is_default"] is True  # the first card always is
    assert card["layout"]["tabs"][0]["sections"][0]["items"] == [
        {"field": "title", "column": 1}, {"field": "stage", "column": 2, "label": "Phase"},
        {"field": "amount", "column": 1}]
    assert layouts.get_card(db, "deal", card["id"]) == card  # what the designer and the card page see
    url = created.headers["Location"]
    assert root.get(url).get_json() == card
    assert root.get("/api/v1/objects/deal/cards/default").get_json() == card

    second = root.post("/api/v1/objects/deal/cards", {"name": "Short", "is_default": True}).get_json()
    assert second["layout"]["tabs"][0]["sections"][0]["items"][0] == {"field": "title", "column": 1}  # generated
    assert [(c["name"], c["is_default"]) for c in root.get("/api/v1/objects/deal/cards").get_json()["data"]] == [
        ("Sales card", False), ("Short", True)]

    renamed = root.patch(url, {"name": "Full card"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "Full card"
    assert renamed.get_json()["layout"] == card["layout"]  # PATCH keeps what it does not name
    replaced = root.put(url, {"name": "Full card", "layout": {"tabs": [{"sections": [{"items": ["title"]}]}]}})
    assert replaced.status_code == 200
    assert replaced.get_json()["is_default"] is False  # PUT without is_default keeps the status
    assert replaced.get_json()["layout"]["tabs"][0]["sections"][0]["items"] == [{"field": "title", "column": 1}]

    assert root.delete(f"/api/v1/objects/deal/cards/{second['id']}").status_code == 204
    assert root.get("/api/v1/objects/deal/cards/default").get_json()["name"] == "Full card"  # the default again
    log = root.get("/api/v1/config-log", query={"object": "deal"}).get_json()["data"]
    assert [e["action"] for e in log[:4]] == ["delete_card", "save_card", "save_card", "save_card"]


def test_bad_cards_are_refused_naming_each_problem(root):
    url = "/api/v1/objects/deal/cards"
    bad = root.post(url, {"name": "x", "layout": {"tabs": [{"sections": [{"items": [{"field": "nope"}]}]}]}})
    assert bad.status_code == 422
    assert error_of(bad)["fields"] == {"layout.tabs[0].sections[0].items[0].field": ["no field 'nope' on Deal"]}
    assert error_of(root.post(url, {"layout": LAYOUT}))["fields"] == {"name": ["is required"]}
    assert "colour" in error_of(root.post(url, {"name": "x", "colour": "red"}))["fields"]
    assert root.post(url, {"name": "x", "is_default": "yes"}).status_code == 422
    assert root.post(url, {"name": "Card"}).status_code == 201
    duplicate = root.post(url, {"name": "card"})
    assert duplicate.status_code == 422 and "already has a card named 'Card'" in error_of(duplicate)["message"]
    assert error_of(root.get(f"{url}/99999"))["code"] == "not_found"
    assert error_of(root.get(f"{url}/abc"))["code"] == "invalid_id"
    assert error_of(root.put(f"{url}/99999", {"name": "x", "layout": LAYOUT}))["code"] == "not_found"
    assert error_of(root.delete(f"{url}/99999"))["code"] == "not_found"
    assert error_of(root.get("/api/v1/objects/nothing/cards"))["code"] == "not_found"
    assert error_of(root.post(url, raw=b"{oops"))["code"] == "invalid_json"
    assert root.put(f"{url}/1", {"name": "Card"}).status_code == 422  # PUT needs the layout


def test_cards_and_the_table_need_the_configure_right(root, sam, db):
    card = root.post("/api/v1/objects/deal/cards", {"name": "Card", "layout": LAYOUT}).get_json()
    calls = [("GET", "/api/v1/objects/deal/cards", None), ("GET", "/api/v1/objects/deal/cards/default", None),
             ("POST", "/api/v1/objects/deal/cards", {"name": "Mine"}),
             ("GET", f"/api/v1/objects/deal/cards/{card['id']}", None),
             ("PATCH", f"/api/v1/objects/deal/cards/{card['id']}", {"name": "Mine"}),
             ("DELETE", f"/api/v1/objects/deal/cards/{card['id']}", None),
             ("GET", "/api/v1/objects/deal/table", None),
             ("PUT", "/api/v1/objects/deal/table", {"columns": ["title"]}),
             ("DELETE", "/api/v1/objects/deal/table", None)]
    for method, url, body in calls:
        response = sam.call(method, url, body)
        assert response.status_code == 403, (method, url)
        assert "configure right" in error_of(response)["message"]
    assert [c["name"] for c in layouts.list_cards(db, "deal")] == ["Card"]
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    assert sam.patch(f"/api/v1/objects/deal/cards/{card['id']}", {"name": "Mine"}).status_code == 200
    assert sam.put("/api/v1/objects/deal/table", {"columns": ["title"]}).status_code == 200
    assert sam.get("/api/v1/objects/organisation/table").status_code == 403  # only where granted


def test_the_table_design_is_read_saved_and_reset(root, db):
    url = "/api/v1/objects/deal/table"
    generated = root.get(url).get_json()
    assert generated["columns"][0] == {"field": "title"} and generated["sort"] == "-created_at"
    design = {"columns": [{"field": "title", "width": 240}, "organisation.city", {"field": "amount"}],
              "sort": "-amount,title", "filter": {"field": "stage", "op": "eq", "value": "lead"}, "page_size": 25}
    saved = root.put(url, design)
    assert saved.status_code == 200, saved.get_json()
    expected = {"columns": [{"field": "title", "width": 240}, {"field": "organisation.city"}, {"field": "amount"}],
                "sort": "-amount,title", "filter": {"field": "stage", "op": "eq", "value": "lead"}, "page_size": 25}
    assert saved.get_json() == expected
    assert root.get(url).get_json() == expected == layouts.default_table(db, "deal")  # what the list page shows
    bad = root.put(url, {"columns": [{"field": "nope"}, {"field": "title", "width": 5}], "page_size": 0})
    assert bad.status_code == 422
    assert set(error_of(bad)["fields"]) == {"columns[0].field", "columns[1].width", "page_size"}
    assert error_of(root.put(url, {"columns": []}))["fields"] == {"columns": ["must list at least one column"]}
    assert error_of(root.put(url, [1]))["code"] == "validation_error"
    assert root.get(url).get_json() == expected  # nothing was written
    assert root.delete(url).status_code == 204
    assert root.get(url).get_json() == generated
    actions = [e["action"] for e in root.get("/api/v1/config-log").get_json()["data"][:2]]
    assert actions == ["reset_table", "save_table"]


def test_card_saves_with_a_stale_etag_are_refused(root, db):
    created = root.post("/api/v1/objects/deal/cards", {"name": "Sales card", "layout": LAYOUT})
    url, tag = created.headers["Location"], created.headers["ETag"]
    assert root.get(url).headers["ETag"] == tag
    assert root.get("/api/v1/objects/deal/cards/default").headers["ETag"] == tag  # the same card
    moved = root.patch(url, {"name": "Main"}, headers={"If-Match": tag})  # fresh: saved
    assert moved.status_code == 200 and moved.headers["ETag"] not in (tag, None)
    for stale in (root.patch(url, {"name": "Lost"}, headers={"If-Match": tag}),
                  root.put(url, {"name": "Lost", "layout": LAYOUT}, headers={"If-Match": tag})):
        assert stale.status_code == 409, stale.get_json()
        error = error_of(stale)
        assert error["code"] == "conflict" and "the card 'Main' was changed by someone else" in error["message"]
        assert error["current"] == moved.get_json()
    assert layouts.get_card(db, "deal", moved.get_json()["id"]) == moved.get_json()  # nothing changed
    put = root.put(url, {"name": "Main", "layout": {"tabs": [{"sections": []}]}},
                   headers={"If-Match": moved.headers["ETag"]})
    assert put.status_code == 200 and put.headers["ETag"] == root.get(url).headers["ETag"]
    assert root.patch(url, {"name": "No If-Match"}).status_code == 200  # the last write wins, as for records
    assert error_of(root.patch(url, {"name": "x"}, headers={"If-Match": '"'}))["code"] == "bad_request"


def test_table_saves_with_a_stale_etag_are_refused(root, db):
    url = "/api/v1/objects/deal/table"
    generated = root.get(url)
    tag = generated.headers["ETag"]
    saved = root.put(url, {"columns": ["title", "amount"]}, headers={"If-Match": tag})  # fresh: saved
    assert saved.status_code == 200 and saved.headers["ETag"] not in (tag, None)
    stale = root.put(url, {"columns": ["title"]}, headers={"If-Match": tag})
    assert stale.status_code == 409 and error_of(stale)["current"] == saved.get_json()
    assert [c["field"] for c in layouts.default_table(db, "deal")["columns"]] == ["title", "amount"]
    assert root.get(url).headers["ETag"] == saved.headers["ETag"]
    assert root.put(url, {"columns": ["title"]}, headers={"If-Match": saved.headers["ETag"]}).status_code == 200
    assert root.put(url, {"columns": ["amount"]}).status_code == 200  # no If-Match: the last write wins


def test_the_description_lists_the_layout_endpoints_for_configurable_objects(root, sam, db):
    doc = root.get("/api/openapi.json").get_json()
    paths = doc["paths"]
    for path in ("/api/v1/objects/{object_name}/cards", "/api/v1/objects/{object_name}/cards/default",
                 "/api/v1/objects/{object_name}/cards/{card_ref}", "/api/v1/objects/{object_name}/table"):
        assert path in paths, path
    assert set(paths["/api/v1/objects/{object_name}/cards/{card_ref}"]) == {"get", "put", "patch", "delete"}
    enum = paths["/api/v1/objects/{object_name}/table"]["get"]["parameters"][0]["schema"]["enum"]
    assert enum == ["organisation", "deal"]
    assert doc["components"]["schemas"]["CardFieldItem"]["properties"]["column"]["maximum"] == 4
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    doc = sam.get("/api/openapi.json").get_json()
    OPENAPI_31_VALIDATOR.validate(doc)  # valid for a caller who configures part of it, too
    mine = doc["paths"]["/api/v1/objects/{object_name}/table"]
    assert mine["get"]["parameters"][0]["schema"]["enum"] == ["deal"]
    for path, methods in (("/api/v1/objects/{object_name}/table", ["put"]),
                          ("/api/v1/objects/{object_name}/cards/{card_ref}", ["put", "patch"])):
        assert "ETag" in doc["paths"][path]["get"]["responses"]["200"]["headers"]
        for method in methods:
            operation = doc["paths"][path][method]
            assert "If-Match" in [p["name"] for p in operation["parameters"]] and "409" in operation["responses"]
