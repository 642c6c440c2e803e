"""Saved views through the REST API: personal views for anyone who may read the object
(private to their owner), shared views only with the configure right -- exactly the rules
of the browser's list page, since both call ``layouts.tables`` -- views read without what
the caller may not read, and clear errors."""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import layouts, rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import api_for, crm_app, error_of

URL = "/api/v1/records/deal/views"
DEFINITION = {"columns": [{"field": "title"}, {"field": "amount", "width": 120}], "sort": "-amount",
              "filter": {"field": "stage", "op": "eq", "value": "won"}, "page_size": 20}


@pytest.fixture
def app(db):
    app = crm_app(db)
    for group, member in (("Sales", "sam"), ("Junior", "kim")):
        users.create_group(db, SYSTEM, group)
        users.add_member(db, SYSTEM, member, group)
        rights.set_object_rights(db, SYSTEM, group, "deal", ["read"])
    return app


@pytest.fixture
def sam(app, db):
    return api_for(app, db, "sam")


@pytest.fixture
def kim(app, db):
    return api_for(app, db, "kim")


def actor(db, name: str):
    return actor_for(users.find_user(db, name), db)


def test_personal_views_belong_to_their_owner(sam, kim, root, db):
    created = sam.post(URL, {"name": "My wins", "definition": DEFINITION})
    assert created.status_code == 201, created.get_json()
    view = created.get_json()
    assert created.headers["Location"] == f"{URL}/{view['id']}"
    assert view["shared"] is False and view["mine"] is True and view["filter_incomplete"] is False
    assert view["definition"] == DEFINITION
    assert sam.get(URL).get_json()["data"] == [{"id": view["id"], "name": "My wins", "shared": False,
                                                "owner_id": view["owner_id"], "mine": True}]
    assert layouts.list_views(db, actor(db, "sam"), "deal")[0]["name"] == "My wins"  # the browser's list offers it
    for other in (kim, root):  # private: not even an administrator sees it
        assert other.get(URL).get_json()["data"] == []
        assert error_of(other.get(f"{URL}/{view['id']}"))["code"] == "not_found"
        assert other.patch(f"{URL}/{view['id']}", {"name": "Taken"}).status_code == 404
        assert other.delete(f"{URL}/{view['id']}").status_code == 404
    renamed = sam.patch(f"{URL}/{view['id']}", {"name": "Wins"})
    assert renamed.status_code == 200 and renamed.get_json()["definition"] == DEFINITION
    replaced = sam.put(f"{URL}/{view['id']}", {"name": "Wins", "definition": {"sort": "title"}})
    assert replaced.get_json()["definition"]["sort"] == "title"
    assert replaced.get_json()["definition"]["columns"][0] == {"field": "title"}  # no columns: the table's
    assert sam.delete(f"{URL}/{view['id']}").status_code == 204
    assert sam.get(URL).get_json()["data"] == []


def test_shared_views_need_the_configure_right(sam, kim, root, db):
    refused = sam.post(URL, {"name": "Team view", "definition": DEFINITION, "shared": True})
    assert refused.status_code == 403 and "configure right" in error_of(refused)["message"]
    assert layouts.list_views(db, actor(db, "sam"), "deal") == []
    shared = root.post(URL, {"name": "Team view", "definition": DEFINITION, "shared": True}).get_json()
    for reader in (sam, kim):
        assert [v["name"] for v in reader.get(URL).get_json()["data"]] == ["Team view"]
        assert reader.get(f"{URL}/{shared['id']}").get_json()["definition"] == DEFINITION
    url = f"{URL}/{shared['id']}"
    assert sam.patch(url, {"name": "Mine now"}).status_code == 403
    assert sam.put(url, {"name": "Mine now", "definition": {}}).status_code == 403
    assert sam.delete(url).status_code == 403
    personal = sam.post(URL, {"name": "Mine", "definition": DEFINITION}).get_json()
    assert sam.patch(f"{URL}/{personal['id']}", {"shared": True}).status_code == 403  # sharing it needs it too
    assert [v["name"] for v in kim.get(URL).get_json()["data"]] == ["Team view"]
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    assert sam.put(url, {"name": "Team view 2", "definition": DEFINITION}).get_json()["shared"] is True  # kept
    assert sam.patch(f"{URL}/{personal['id']}", {"shared": True}).get_json()["shared"] is True
    assert sorted(v["name"] for v in kim.get(URL).get_json()["data"]) == ["Mine", "Team view 2"]
    assert sam.delete(url).status_code == 204
    log = root.get("/api/v1/config-log", query={"object": "deal"}).get_json()["data"]
    assert [e["action"] for e in log[:3]] == ["delete_view", "save_view", "save_view"]


def test_a_view_leaves_out_what_the_reader_may_not_read(sam, root, db):
    definition = {"columns": [{"field": "title"}, {"field": "secret_note"}], "sort": "secret_note,title",
                  "filter": {"and": [{"field": "secret_note", "op": "contains", "value": "x"},
                                     {"field": "stage", "op": "eq", "value": "won"}]}}
    shared = root.post(URL, {"name": "Secret", "definition": definition, "shared": True}).get_json()
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    seen = sam.get(f"{URL}/{shared['id']}").get_json()
    assert seen["definition"] == {"columns": [{"field": "title"}], "sort": "title",
                                  "filter": {"and": [{"field": "stage", "op": "eq", "value": "won"}]},
                                  "page_size": 50}
    assert seen["filter_incomplete"] is True
    assert root.get(f"{URL}/{shared['id']}").get_json()["filter_incomplete"] is False
    peek = sam.post(URL, {"name": "Peek", "definition": {"columns": ["title", "secret_note"]}})
    assert peek.status_code == 422  # refused like an unknown field: its existence does not leak
    assert error_of(peek)["fields"] == {"columns[1].field": ["'secret_note': object 'deal' has no field 'secret_note'"]}
    assert "Peek" not in [v["name"] for v in sam.get(URL).get_json()["data"]]


SECRET = {"columns": [{"field": "title"}, {"field": "secret_note"}], "sort": "secret_note,title",
          "filter": {"and": [{"field": "stage", "op": "eq", "value": "won"},
                             {"field": "secret_note", "op": "contains", "value": "x"}]}, "page_size": 50}


def test_a_patch_keeps_the_conditions_the_caller_may_not_read(sam, root, db):
    shared = root.post(URL, {"name": "Secret", "definition": SECRET, "shared": True}).get_json()
    url = f"{URL}/{shared['id']}"
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    renamed = sam.patch(url, {"name": "Renamed"})
    assert renamed.status_code == 200, renamed.get_json()
    assert "secret_note" not in renamed.get_data(as_text=True) and renamed.get_json()["filter_incomplete"] is True
    stored = layouts.get_view(db, SYSTEM, "deal", shared["id"])  # as an administrator
    assert stored["name"] == "Renamed" and stored["definition"] == SECRET
    assert sam.patch(url, {"shared": True}).status_code == 200
    assert layouts.get_view(db, SYSTEM, "deal", shared["id"])["definition"] == SECRET
    # a new definition from what the caller sees: theirs changes, the hidden parts stay
    seen = sam.get(url).get_json()["definition"]
    changed = sam.put(url, {"name": "Renamed", "definition": {**seen, "filter": {"field": "stage", "op": "eq",
                                                                                  "value": "lead"}}})
    assert changed.status_code == 200 and "secret_note" not in changed.get_data(as_text=True)
    assert layouts.get_view(db, SYSTEM, "deal", shared["id"])["definition"] == {
        **SECRET, "filter": {"and": [{"field": "stage", "op": "eq", "value": "lead"},
                                     {"field": "secret_note", "op": "contains", "value": "x"}]}}
    refused = sam.patch(url, {"definition": {**seen, "sort": "-secret_note"}})
    assert refused.status_code == 422 and set(error_of(refused)["fields"]) == {"sort"}


def test_view_saves_with_a_stale_etag_are_refused(sam, db):
    created = sam.post(URL, {"name": "Mine", "definition": DEFINITION})
    url, tag = created.headers["Location"], created.headers["ETag"]
    read = sam.get(url)
    assert read.headers["ETag"] == tag and tag.startswith('"') and len(tag) > 10
    moved = sam.patch(url, {"name": "Mine 2"}, headers={"If-Match": tag})  # fresh: saved
    assert moved.status_code == 200 and moved.headers["ETag"] not in (tag, None)
    for stale in (sam.patch(url, {"name": "Lost"}, headers={"If-Match": tag}),
                  sam.put(url, {"name": "Lost", "definition": {}}, headers={"If-Match": f"W/{tag}"})):
        assert stale.status_code == 409, stale.get_json()
        error = error_of(stale)
        assert error["code"] == "conflict" and "changed by someone else" in error["message"]
        assert error["current"]["name"] == "Mine 2"
    assert sam.get(url).get_json()["name"] == "Mine 2"
    assert layouts.get_view(db, actor(db, "sam"), "deal", moved.get_json()["id"])["definition"] == DEFINITION
    both = sam.patch(url, {"name": "Mine 3"}, headers={"If-Match": f'{tag}, {moved.headers["ETag"]}'})
    assert both.status_code == 200  # one of the listed tags is current
    assert sam.patch(url, {"name": "Mine 4"}, headers={"If-Match": "*"}).status_code == 200
    assert sam.patch(url, {"name": "Mine 5"}).status_code == 200  # no If-Match: the last write wins
    bad = sam.patch(url, {"name": "x"}, headers={"If-Match": '"a" "b"'})
    assert bad.status_code == 400 and "If-Match" in error_of(bad)["fields"]


def test_bad_views_are_refused_clearly(sam, app, db):
    bad = sam.post(URL, {"name": "x", "definition": {"columns": [{"field": "nope"}], "page_size": 9999}})
    assert bad.status_code == 422 and set(error_of(bad)["fields"]) == {"columns[0].field", "page_size"}
    assert error_of(sam.post(URL, {"name": "x"}))["fields"] == {"definition": ["is required"]}
    assert error_of(sam.post(URL, {"name": "", "definition": {}}))["fields"] == {"name": ["is required"]}
    assert "owner" in error_of(sam.post(URL, {"name": "x", "definition": {}, "owner": 1}))["fields"]
    assert sam.post(URL, {"name": "Mine", "definition": {}}).status_code == 201
    assert sam.post(URL, {"name": "mine", "definition": {}}).status_code == 422  # names are unique per user
    assert error_of(sam.get(f"{URL}/x"))["code"] == "invalid_id"
    assert error_of(sam.get("/api/v1/records/nothing/views"))["code"] == "not_found"
    assert sam.get("/api/v1/records/organisation/views").status_code == 403  # no read right there
    assert sam.post("/api/v1/records/organisation/views", {"name": "x", "definition": {}}).status_code == 403


def test_the_description_lists_the_view_endpoints_of_readable_objects(sam, root):
    paths = sam.get("/api/openapi.json").get_json()["paths"]
    assert set(paths[URL]) == {"get", "post"}
    assert set(paths[URL + "/{view_ref}"]) == {"get", "put", "patch", "delete"}
    assert "/api/v1/records/organisation/views" not in paths
    assert "/api/v1/records/organisation/views" in root.get("/api/openapi.json").get_json()["paths"]
    view = paths[URL + "/{view_ref}"]
    assert "ETag" in view["get"]["responses"]["200"]["headers"]
    for method in ("put", "patch"):
        assert "If-Match" in [p["name"] for p in view[method]["parameters"]]
        assert "409" in view[method]["responses"] and "ETag" in view[method]["responses"]["200"]["headers"]
