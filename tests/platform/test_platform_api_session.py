"""The REST API on the request's one engine session: statements per request, every read
channel checking its right (API and the end-user web pages), and actions with undo."""
from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import event

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of, seed_orgs, signed_in


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


@pytest.fixture
def deals(db, app):
    orgs = seed_orgs(db, 2)
    return RecordStore(db).bulk_create(SYSTEM, "deal", [
        {"title": "Alpha", "stage": "lead", "amount": "10", "organisation": orgs[0], "close_date": "2026-05-04"},
        {"title": "Beta", "stage": "won", "amount": "20", "organisation": orgs[1], "close_date": "2026-05-06"},
    ])


@contextmanager
def statements(db) -> Iterator[list[str]]:
    """The SQL statements the database runs inside the block."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _params, _context, _many):
        seen.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def _kind(sql: str) -> str:
    text = sql.lower()
    if text.startswith("select schema_version from") or "; select schema_version from" in text:  # with the PG lock
        return "schema_version"
    if "cb_rights_state" in text:
        return "rights_version"
    if re.search(r"\bfrom obj_\d+\b", text):
        return "record"
    return "other"


# ---- (a) statements of one request --------------------------------------------------------------
def test_get_one_record_is_one_schema_check_one_rights_check_one_read(app, db, deals):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    sam = api_for(app, db, "sam")
    url = f"/api/v1/records/deal/{deals[0]}"
    assert sam.get(url).status_code == 200  # warm the caches (snapshot, rights model, token)
    with statements(db) as seen:
        response = sam.get(url)
    assert response.status_code == 200 and response.get_json()["title"] == "Alpha"
    kinds = [_kind(s) for s in seen]
    print(len(seen), "statements:", *seen, sep="\n  ")
    assert kinds.count("schema_version") == 1, seen
    assert kinds.count("rights_version") == 1, seen
    assert kinds.count("record") == 1, seen


def test_a_list_page_reads_the_versions_once(app, db, deals):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    sam = api_for(app, db, "sam")
    url = "/api/v1/records/deal"
    query = {"filter": {"field": "stage", "op": "eq", "value": "lead"}, "sort": "close_date"}
    assert sam.get(url, query=query).status_code == 200
    with statements(db) as seen:
        response = sam.get(url, query=query)
    assert [d["title"] for d in response.get_json()["data"]] == ["Alpha"]
    kinds = [_kind(s) for s in seen]
    print(len(seen), "statements:", *seen, sep="\n  ")
    assert kinds.count("schema_version") == 1, seen
    assert kinds.count("rights_version") == 1, seen


def test_writes_read_the_versions_once(app, db, deals):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "delete"])
    sam = api_for(app, db, "sam")
    assert sam.post("/api/v1/records/deal", {"title": "Warm"}).status_code == 201
    counts = {}
    with statements(db) as seen:
        created = sam.post("/api/v1/records/deal", {"title": "Gamma", "amount": "5"})
    assert created.status_code == 201
    counts["create"] = list(seen)
    rid = created.get_json()["id"]
    with statements(db) as seen:
        changed = sam.patch(f"/api/v1/records/deal/{rid}", {"title": "Gamma 2", "version": 1})
    assert changed.status_code == 200
    counts["update"] = list(seen)
    with statements(db) as seen:
        assert sam.delete(f"/api/v1/records/deal/{rid}").status_code == 204
    counts["delete"] = list(seen)
    for name, seen in counts.items():
        print(name, len(seen), "statements:", *seen, sep="\n  ")
        kinds = [_kind(s) for s in seen]
        assert kinds.count("schema_version") == 1, (name, seen)
        assert kinds.count("rights_version") == 1, (name, seen)


# ---- (b) every right against every read channel ------------------------------------------------
ALL_RIGHTS = ("read", "create", "edit", "delete", "export", "print", "report", "configure")


def _outcome(needs: set[str], granted: frozenset[str]) -> str:
    """"all": the channel shows every record; "own": it answers, with the actor's own
    records only (create gives read of what one created -- none of the seeded deals);
    "refused": 403. Edit and delete imply read (docs/rights.md)."""
    held = set(granted) | ({"read"} if granted & {"edit", "delete"} else set())
    if needs <= held:
        return "all"
    if "create" in held and needs - {"read"} <= held:
        return "own"
    return "refused"


def _grants() -> list[frozenset[str]]:
    """Each right alone, and every right but one: each channel's right is missing in some
    and present in others, together with or without the rest."""
    out = [frozenset({r}) for r in ALL_RIGHTS] + [frozenset(ALL_RIGHTS) - {r} for r in ALL_RIGHTS]
    return [*out, frozenset()]


API_CHANNELS = {  # channel -> (the rights it needs, the request)
    "list": ({"read"}, lambda api, rid: api.get("/api/v1/records/deal")),
    "get": ({"read"}, lambda api, rid: api.get(f"/api/v1/records/deal/{rid}")),
    "aggregate": ({"read", "report"}, lambda api, rid: api.get("/api/v1/records/deal/aggregate",
                                                               query={"group_by": "stage"})),
    "export": ({"read", "export"}, lambda api, rid: api.get("/api/v1/records/deal/export")),
}


def test_every_api_read_channel_needs_its_right(app, db, deals):
    sam = api_for(app, db, "sam")
    for granted in _grants():
        rights.set_object_rights(db, SYSTEM, "Sales", "deal", sorted(granted))
        for name, (needs, call) in API_CHANNELS.items():
            response = call(sam, deals[0])
            outcome = _outcome(needs, granted)
            if outcome == "all":
                assert response.status_code == 200, (name, sorted(granted), response.get_data(as_text=True)[:300])
                assert b"Alpha" in response.get_data() or name == "aggregate", (name, sorted(granted))
                if name == "aggregate":
                    assert sum(r["count"] for r in response.get_json()["data"]) == 2
            elif outcome == "own":
                assert response.status_code == (404 if name == "get" else 200), (name, sorted(granted))
                assert b"Alpha" not in response.get_data()
                if name == "aggregate":
                    assert response.get_json()["data"] == [{"count": 0}]
            else:
                assert response.status_code == 403, (name, sorted(granted), response.status_code)
                assert error_of(response)["code"] == "forbidden"
                assert b"Alpha" not in response.get_data()


WEB_CHANNELS = {  # channel -> (the rights it needs, the URL); a refusal is a 403/404 or a page without the deal
    "list": ({"read"}, lambda rid: "/o/deal"),
    "card": ({"read"}, lambda rid: f"/o/deal/{rid}"),
    "board": ({"read"}, lambda rid: "/o/deal/board/stage"),
    "calendar": ({"read"}, lambda rid: "/o/deal/calendar/close_date?month=2026-05"),
    "search": ({"read"}, lambda rid: "/search?q=Alpha"),
    "export": ({"read", "export"}, lambda rid: "/o/deal/export.csv"),
}


def test_every_web_read_channel_needs_its_right(app, db, deals):
    client = signed_in(app, "sam")
    for granted in _grants():
        rights.set_object_rights(db, SYSTEM, "Sales", "deal", sorted(granted))
        for name, (needs, url) in WEB_CHANNELS.items():
            response = client.get(url(deals[0]))
            body = response.get_data(as_text=True)
            # the deal is shown (the search page repeats the search text: there, look for the hit's link)
            shown = f"/o/deal/{deals[0]}" in body if name == "search" else "Alpha" in body
            outcome = _outcome(needs, granted)
            if outcome == "all":
                assert response.status_code == 200, (name, sorted(granted), response.status_code, body[:300])
                assert shown, (name, sorted(granted))
            else:
                assert not shown, (name, sorted(granted), response.status_code)
                if name == "search":
                    assert response.status_code == 200  # the search answers, without the deals
                elif outcome == "own":  # the object is readable, the seeded deals are not the user's
                    assert response.status_code == (404 if name == "card" else 200), (name, sorted(granted))
                else:
                    assert response.status_code in (403, 404), (name, sorted(granted), response.status_code)


# ---- (c) actions and undo ----------------------------------------------------------------------
@pytest.fixture
def writers(app, db):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "delete"])
    from cardbase.platform import users

    users.add_member(db, SYSTEM, "kim", "Sales")
    return api_for(app, db, "sam"), api_for(app, db, "kim")


def _undo(api, action):
    return api.post(f"/api/v1/actions/{action}/undo")


def test_update_then_undo_restores_the_old_value_and_redo_puts_it_back(writers, deals):
    sam, _kim = writers
    url = f"/api/v1/records/deal/{deals[0]}"
    changed = sam.patch(url, {"title": "Changed", "version": 1})
    assert changed.status_code == 200
    action = int(changed.headers["X-Cardbase-Action"])
    listed = sam.get("/api/v1/actions", query={"limit": 5}).get_json()["data"]
    assert listed[0]["id"] == action and listed[0]["kind"] == "update" and listed[0]["undoable"] is True
    assert listed[0]["object"] == "deal" and listed[0]["records"] == 1
    undone = _undo(sam, action)
    assert undone.status_code == 200, undone.get_json()
    body = undone.get_json()
    assert body["undone"] == action and isinstance(body["action"], int)
    assert undone.headers["X-Cardbase-Action"] == str(body["action"])
    assert sam.get(url).get_json()["title"] == "Alpha"
    again = _undo(sam, action)  # already undone
    assert again.status_code == 409 and error_of(again)["code"] == "conflict"
    redo = _undo(sam, body["action"])  # undoing the undo is redo
    assert redo.status_code == 200, redo.get_json()
    assert sam.get(url).get_json()["title"] == "Changed"
    newest = sam.get("/api/v1/actions").get_json()["data"]
    assert [a["id"] for a in newest[:3]] == [redo.get_json()["action"], body["action"], action]
    assert newest[1]["undoes"] == action and newest[1]["undone_by"] == redo.get_json()["action"]


def test_undo_after_someone_else_changed_the_record_is_a_conflict(writers, deals):
    sam, kim = writers
    url = f"/api/v1/records/deal/{deals[0]}"
    action = sam.patch(url, {"title": "Sam's", "version": 1}).headers["X-Cardbase-Action"]
    assert kim.patch(url, {"title": "Kim's", "version": 2}).status_code == 200
    refused = _undo(sam, action)
    assert refused.status_code == 409 and error_of(refused)["code"] == "conflict"
    record = sam.get(url).get_json()
    assert record["title"] == "Kim's" and record["version"] == 3  # nothing changed
    assert sam.get("/api/v1/actions").get_json()["data"][0]["id"] == int(action)  # no new action either


def test_undo_of_another_users_action_is_forbidden_and_unknown_is_not_found(writers, deals):
    sam, kim = writers
    action = sam.patch(f"/api/v1/records/deal/{deals[0]}", {"title": "Sam's", "version": 1}).headers["X-Cardbase-Action"]
    refused = _undo(kim, action)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    assert kim.get("/api/v1/actions").get_json()["data"] == []  # only one's own actions are listed
    assert sam.get(f"/api/v1/records/deal/{deals[0]}").get_json()["title"] == "Sam's"
    unknown = _undo(sam, 999_999)
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "not_found"
    for bad in ("abc", "0", "-1", "99999999999999999999"):
        response = _undo(sam, bad)
        assert response.status_code == 400 and error_of(response)["code"] == "invalid_id", bad
    bad_limit = sam.get("/api/v1/actions", query={"limit": 0})
    assert bad_limit.status_code == 400 and error_of(bad_limit)["code"] == "invalid_query"


def test_undo_of_a_record_no_longer_visible_is_forbidden(app, db, writers, deals):
    sam, _kim = writers
    action = sam.patch(f"/api/v1/records/deal/{deals[0]}", {"title": "Sam's", "version": 1}).headers["X-Cardbase-Action"]
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")  # sam owns none of the seeded deals
    refused = _undo(sam, action)
    assert refused.status_code == 403 and error_of(refused)["code"] == "forbidden"
    root = api_for(app, db, "root")
    assert root.get(f"/api/v1/records/deal/{deals[0]}").get_json()["title"] == "Sam's"


def test_delete_then_undo_restores_from_the_trash(writers, deals):
    sam, _kim = writers
    url = f"/api/v1/records/deal/{deals[1]}"
    deleted = sam.delete(url)
    assert deleted.status_code == 204
    action = deleted.headers["X-Cardbase-Action"]
    assert sam.get(url).status_code == 404
    assert [d["title"] for d in sam.get("/api/v1/records/deal/trash").get_json()["data"]] == ["Beta"]
    undone = _undo(sam, action)
    assert undone.status_code == 200, undone.get_json()
    assert sam.get(url).get_json()["title"] == "Beta"
    assert sam.get("/api/v1/records/deal/trash").get_json()["data"] == []


def test_every_write_names_its_action(writers, deals):
    sam, _kim = writers
    created = sam.post("/api/v1/records/deal", {"title": "New"})
    bulk = sam.post("/api/v1/records/deal/bulk", {"records": [{"title": "B1"}, {"title": "B2"}]})
    rid = created.get_json()["id"]
    same = sam.patch(f"/api/v1/records/deal/{rid}", {"title": "New", "version": 1})  # nothing changes
    deleted = sam.delete(f"/api/v1/records/deal/{rid}")
    restored = sam.post(f"/api/v1/records/deal/{rid}/restore")
    ids = [int(r.headers["X-Cardbase-Action"]) for r in (created, bulk, deleted, restored)]
    assert "X-Cardbase-Action" not in same.headers  # no change, no action
    kinds = {a["id"]: a["kind"] for a in sam.get("/api/v1/actions").get_json()["data"]}
    assert [kinds[i] for i in ids] == ["create", "bulk", "delete", "restore"], kinds
    undo_bulk = _undo(sam, ids[1])  # a bulk create is undone by trashing its records
    assert undo_bulk.status_code == 200
    assert sam.get("/api/v1/records/deal", query={"q": "B1"}).get_json()["data"] == []


# ---- the description -----------------------------------------------------------------------------
def test_openapi_comes_from_the_sessions_capabilities_and_describes_actions(app, db, deals):
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "read_only")
    sam = api_for(app, db, "sam")
    doc = sam.get("/api/openapi.json").get_json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    assert "secret_note" not in schemas["DealRecord"]["properties"]
    assert "amount" in schemas["DealRecord"]["properties"] and "amount" not in schemas["DealRecordInput"]["properties"]
    assert "/api/v1/records/deal/aggregate" not in paths and "/api/v1/records/deal/export" not in paths
    assert "/api/v1/records/organisation" not in paths  # not readable
    assert paths["/api/v1/actions"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == \
        {"$ref": "#/components/schemas/ActionList"}
    undo = paths["/api/v1/actions/{action_id}/undo"]["post"]
    assert {"200", "403", "404", "409"} <= set(undo["responses"])
    create = paths["/api/v1/records/deal"]["post"]["responses"]["201"]
    assert "X-Cardbase-Action" in create["headers"]
    assert "X-Cardbase-Action" in paths["/api/v1/records/deal/{id}"]["delete"]["responses"]["204"]["headers"]
    # a rights change elsewhere changes the document at once (the cache key holds the rights version)
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "report", "export"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", None)
    doc = sam.get("/api/openapi.json").get_json()
    assert "secret_note" in doc["components"]["schemas"]["DealRecord"]["properties"]
    assert {"/api/v1/records/deal/aggregate", "/api/v1/records/deal/export"} <= set(doc["paths"])
