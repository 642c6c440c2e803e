"""The rights hold through the REST API exactly as in the store (and so the browser): one
test per kind of right -- object rights (read, create, edit, delete, configure), the
access mode, shares, rule views, hidden and read-only fields, restricted links -- and the
admin-only endpoints."""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app, error_of, seed_orgs


@pytest.fixture
def app(db):
    return crm_app(db)


@pytest.fixture
def sales(db, app) -> int:
    group = users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    return group.id


@pytest.fixture
def orgs(db, app):
    return seed_orgs(db, 3)


def grant(db, group: int, obj: str, *names: str) -> None:
    rights.set_object_rights(db, SYSTEM, group, obj, list(names))


def deals(db, orgs, n=3, **values):
    return RecordStore(db).bulk_create(SYSTEM, "deal", [
        {"title": f"Deal {i}", "organisation": orgs[0], "amount": str(50 * (i + 1)), **values} for i in range(n)])


def test_read_right(db, app, sales, orgs):
    ids = deals(db, orgs)
    sam = api_for(app, db, "sam")
    for url in ("/api/v1/records/deal", f"/api/v1/records/deal/{ids[0]}", f"/api/v1/records/deal/{ids[0]}/history"):
        response = sam.get(url)
        assert response.status_code == 403, url
        assert error_of(response) == {"code": "forbidden", "message": "you may not read Deals", "fields": {}}
    grant(db, sales, "deal", "read")
    assert sam.get("/api/v1/records/deal").get_json()["count"] == 3
    assert sam.get(f"/api/v1/records/deal/{ids[0]}").status_code == 200


def test_create_right(db, app, sales, orgs):
    grant(db, sales, "deal", "read")
    grant(db, sales, "organisation", "read")
    sam = api_for(app, db, "sam")
    body = {"title": "Mine", "organisation": orgs[0]}
    assert sam.post("/api/v1/records/deal", body).status_code == 403
    assert sam.post("/api/v1/records/deal/bulk", {"records": [body]}).status_code == 403
    grant(db, sales, "deal", "read", "create")
    created = sam.post("/api/v1/records/deal", body)
    assert created.status_code == 201
    assert created.get_json()["owner"]["display"] == "Sam"  # the creator owns it


def test_edit_right(db, app, sales, orgs):
    ids = deals(db, orgs)
    grant(db, sales, "deal", "read")
    sam = api_for(app, db, "sam")
    assert sam.patch(f"/api/v1/records/deal/{ids[0]}", {"title": "x", "version": 1}).status_code == 403
    bulk = sam.post("/api/v1/records/deal/bulk", {"records": [{"id": ids[0], "version": 1, "title": "x"}]})
    assert bulk.status_code == 403
    grant(db, sales, "deal", "read", "edit")
    assert sam.patch(f"/api/v1/records/deal/{ids[0]}", {"title": "x", "version": 1}).status_code == 200


def test_delete_right(db, app, sales, orgs):
    ids = deals(db, orgs)
    grant(db, sales, "deal", "read", "edit")
    sam = api_for(app, db, "sam")
    assert sam.delete(f"/api/v1/records/deal/{ids[0]}").status_code == 403
    grant(db, sales, "deal", "read", "edit", "delete")
    assert sam.delete(f"/api/v1/records/deal/{ids[0]}").status_code == 204
    grant(db, sales, "deal", "read", "edit")
    assert sam.post(f"/api/v1/records/deal/{ids[0]}/restore").status_code == 403  # restoring needs delete too


def test_configure_right(db, app, sales):
    sam = api_for(app, db, "sam")
    assert sam.get("/api/v1/objects").status_code == 403
    assert sam.get("/api/v1/objects/deal").status_code == 403
    assert sam.post("/api/v1/objects/deal/fields", {"label": "Region", "type": "string"}).status_code == 403
    grant(db, sales, "deal", "read", "configure")
    assert [o["name"] for o in sam.get("/api/v1/objects").get_json()["data"]] == ["deal"]
    added = sam.post("/api/v1/objects/deal/fields", {"label": "Region", "type": "string"})
    assert added.status_code == 201 and added.get_json()["name"] == "region"
    assert sam.get("/api/v1/objects/organisation").status_code == 403  # configure is per object
    assert sam.post("/api/v1/objects", {"label": "Ticket"}).status_code == 403  # new objects: admins
    assert sam.delete("/api/v1/objects/deal").status_code == 403
    assert sam.get("/api/v1/objects/deal/rights").status_code == 403  # rights: admins


def test_access_mode_own_and_shared(db, app, sales, orgs):
    users.add_member(db, SYSTEM, "kim", "Sales")
    grant(db, sales, "deal", "read", "create", "edit")
    grant(db, sales, "organisation", "read")
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    sam, kim = api_for(app, db, "sam"), api_for(app, db, "kim")
    mine = sam.post("/api/v1/records/deal", {"title": "Sam's", "organisation": orgs[0]}).get_json()
    theirs = kim.post("/api/v1/records/deal", {"title": "Kim's", "organisation": orgs[0]}).get_json()
    assert [r["title"] for r in sam.get("/api/v1/records/deal").get_json()["data"]] == ["Sam's"]
    assert sam.get(f"/api/v1/records/deal/{theirs['id']}").status_code == 404
    assert sam.patch(f"/api/v1/records/deal/{theirs['id']}", {"title": "x", "version": 1}).status_code == 404
    assert sam.patch(f"/api/v1/records/deal/{mine['id']}", {"title": "Sam's deal", "version": 1}).status_code == 200


def test_shares(db, app, sales, orgs):
    ids = deals(db, orgs)
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    sam = api_for(app, db, "sam")
    assert sam.get(f"/api/v1/records/deal/{ids[1]}").status_code == 403  # nothing of Deals reachable at all
    root = api_for(app, db, "root")
    assert root.post(f"/api/v1/records/deal/{ids[1]}/shares", {"user": "sam", "level": "read"}).status_code == 201
    assert sam.get(f"/api/v1/records/deal/{ids[1]}").status_code == 200
    assert [r["id"] for r in sam.get("/api/v1/records/deal").get_json()["data"]] == [ids[1]]
    assert sam.patch(f"/api/v1/records/deal/{ids[1]}", {"title": "x", "version": 1}).status_code == 403
    assert sam.post(f"/api/v1/records/deal/{ids[1]}/shares", {"user": "kim", "level": "change"}).status_code == 403
    root.post(f"/api/v1/records/deal/{ids[1]}/shares", {"group": sales, "level": "change"})
    assert sam.patch(f"/api/v1/records/deal/{ids[1]}", {"title": "x", "version": 1}).status_code == 200
    assert sam.get(f"/api/v1/records/deal/{ids[2]}").status_code == 404


def test_rule_views(db, app, sales, orgs):
    deals(db, orgs, n=4)  # amounts 50, 100, 150, 200
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    root = api_for(app, db, "root")
    saved = root.post("/api/v1/objects/deal/rule-views", {
        "group": "Sales", "name": "Small deals", "level": "change",
        "filter": {"field": "amount", "op": "lt", "value": "120"}})
    assert saved.status_code == 201
    assert saved.get_json()["filter"] == {"field": "amount", "op": "lt", "value": "120"}
    sam = api_for(app, db, "sam")
    page = sam.get("/api/v1/records/deal?sort=amount").get_json()
    assert [r["amount"]["amount"] for r in page["data"]] == ["50.00", "100.00"]
    small = page["data"][0]
    # WITH CHECK: a change that takes the record out of what sam may edit is refused.
    raised = sam.patch(f"/api/v1/records/deal/{small['id']}", {"amount": "500", "version": small["version"]})
    assert raised.status_code == 403
    assert sam.patch(f"/api/v1/records/deal/{small['id']}", {"amount": "60", "version": small["version"]}) \
        .status_code == 200
    assert root.delete(f"/api/v1/objects/deal/rule-views/{saved.get_json()['id']}").status_code == 204
    assert sam.get("/api/v1/records/deal").status_code == 403


def test_hidden_field(db, app, sales, orgs):
    ids = deals(db, orgs, secret_note="top secret")
    grant(db, sales, "deal", "read", "create", "edit")
    grant(db, sales, "organisation", "read")
    root = api_for(app, db, "root")
    set_level = root.patch("/api/v1/objects/deal/fields/secret_note/rights",
                           {"groups": [{"group": "Sales", "level": "hidden"}]})
    assert set_level.status_code == 200
    assert set_level.get_json() == {"groups": [{"group_id": sales, "group": "Sales", "level": "hidden"}]}
    sam = api_for(app, db, "sam")
    record = sam.get(f"/api/v1/records/deal/{ids[0]}").get_json()
    assert "secret_note" not in record and "top secret" not in str(record)
    assert all("secret_note" not in r for r in sam.get("/api/v1/records/deal").get_json()["data"])
    assert sam.get("/api/v1/records/deal?q=secret").get_json()["count"] == 0
    history = sam.get(f"/api/v1/records/deal/{ids[0]}/history").get_json()
    assert "top secret" not in str(history)
    write = sam.patch(f"/api/v1/records/deal/{ids[0]}", {"secret_note": "x", "version": 1})
    assert write.status_code == 422
    assert error_of(write)["fields"] == {"secret_note": ["is not a field of 'deal'"]}
    assert sam.get("/api/v1/records/deal?fields=secret_note").status_code == 400
    assert "secret_note" in str(root.get(f"/api/v1/records/deal/{ids[0]}").get_json())


def test_read_only_field(db, app, sales, orgs):
    ids = deals(db, orgs)
    grant(db, sales, "deal", "read", "edit")
    rights.set_field_right(db, SYSTEM, sales, "deal", "amount", "read_only")
    sam = api_for(app, db, "sam")
    assert sam.get(f"/api/v1/records/deal/{ids[0]}").get_json()["amount"] == {"amount": "50.00", "currency": "EUR"}
    refused = sam.patch(f"/api/v1/records/deal/{ids[0]}", {"amount": "1", "version": 1})
    assert refused.status_code == 422
    assert error_of(refused)["fields"] == {"amount": ["is read-only for you"]}
    assert sam.patch(f"/api/v1/records/deal/{ids[0]}", {"title": "ok", "version": 1}).status_code == 200


def test_restricted_link(db, app, sales, orgs):
    ids = deals(db, orgs)
    grant(db, sales, "deal", "read")
    sam = api_for(app, db, "sam")
    record = sam.get(f"/api/v1/records/deal/{ids[0]}").get_json()
    assert record["organisation"] == {"id": orgs[0], "display": None, "restricted": True}
    page = sam.get("/api/v1/records/deal?fields=organisation.city").get_json()
    assert all(r["organisation.city"] is None for r in page["data"])
    assert sam.get(f"/api/v1/records/organisation/{orgs[0]}").status_code == 403


def test_the_api_returns_exactly_what_the_store_gives_the_same_user(db, app, sales, orgs):
    deals(db, orgs, n=5, secret_note="s")
    grant(db, sales, "deal", "read")
    rights.set_field_right(db, SYSTEM, sales, "deal", "secret_note", "hidden")
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    rights.save_rule_view(db, SYSTEM, sales, "deal", "Small", {"field": "amount", "op": "le", "value": "150"})
    store = RecordStore(db)
    actor = actor_for(users.find_user(db, "sam"), db)
    expected = [store.to_json("deal", r) for r in store.list(actor, "deal", ListQuery(sort="title")).data]
    got = api_for(app, db, "sam").get("/api/v1/records/deal?sort=title").get_json()["data"]
    assert got == expected and len(got) == 3


def test_only_admins_manage_users_groups_and_rights(db, app, sales):
    sam = api_for(app, db, "sam")
    assert sam.post("/api/v1/users", {"username": "eve", "password": "password-1"}).status_code == 403
    assert sam.post("/api/v1/groups", {"name": "Mine"}).status_code == 403
    assert sam.put(f"/api/v1/groups/{sales}/members/{users.find_user(db, 'kim').id}").status_code == 403
    assert sam.patch("/api/v1/objects/deal/rights", {"mode": "all"}).status_code == 403
    kim_id = users.find_user(db, "kim").id
    assert sam.patch(f"/api/v1/users/{kim_id}", {"display_name": "Kimberly"}).status_code == 403
    assert sam.patch(f"/api/v1/users/{kim_id}", {"password": "new-password-1"}).status_code == 403
    own = sam.patch(f"/api/v1/users/{users.find_user(db, 'sam').id}", {"display_name": "Samuel", "language": "de"})
    assert own.status_code == 200 and own.get_json()["display_name"] == "Samuel"
    assert sam.patch(f"/api/v1/users/{users.find_user(db, 'sam').id}", {"is_admin": True}).status_code == 403
    listed = sam.get("/api/v1/users").get_json()["data"]
    assert {u["username"] for u in listed} == {"root", "sam", "kim"}
    assert "email" not in next(u for u in listed if u["username"] == "kim")  # others' details stay private
