"""Issue 14, point 9, through the REST API: relative dates and "me" are part of the one
filter language, so ``GET /api/v1/records/{object}?filter=`` and the POST query answer
them for the token's user, and a bad number of days is a 400 naming the path."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query import relative
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app, error_of

URL = "/api/v1/records/deal"


@pytest.fixture
def app(db, monkeypatch):
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 3, 10, 12, 0, tzinfo=timezone.utc))
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    app = crm_app(db)
    users.create_group(db, SYSTEM, "Readers")
    users.add_member(db, SYSTEM, "sam", "Readers")
    rights.set_object_rights(db, SYSTEM, "Readers", "deal", ["read"])
    sam = users.find_user(db, "sam").id
    store = RecordStore(db)
    rows = store.bulk_create(SYSTEM, "deal", [{"title": f"Deal {d:02d}", "close_date": f"2026-03-{d:02d}"}
                                              for d in (1, 9, 10, 11, 17, 20)])
    with store.session(SYSTEM, write=True) as s:
        for rid in rows[:3]:
            s.set_owner("deal", rid, sam)
    return app


def titles(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return sorted(r["title"] for r in response.get_json()["data"])


def test_relative_dates_and_me_through_the_api(app, db):
    root, sam = api_for(app, db, "root"), api_for(app, db, "sam")
    assert titles(root.get(URL, query={"filter": {"field": "close_date", "op": "overdue"}})) == ["Deal 01", "Deal 09"]
    assert titles(root.get(URL, query={"filter": {"field": "close_date", "op": "next_days", "value": 7}})) == [
        "Deal 10", "Deal 11", "Deal 17"]
    assert titles(root.post(URL + "/query", {"filter": {"field": "close_date", "op": "this_week"}})) == [
        "Deal 09", "Deal 10", "Deal 11"]  # Monday 9 .. Sunday 15 March
    mine = {"field": "owner", "op": "eq", "value": "me"}
    assert titles(root.get(URL, query={"filter": mine})) == []  # root owns none
    assert titles(sam.get(URL, query={"filter": mine})) == ["Deal 01", "Deal 09", "Deal 10"]


def test_a_bad_relative_filter_is_a_400_naming_the_path(app, db):
    root = api_for(app, db, "root")
    response = root.get(URL, query={"filter": {"field": "close_date", "op": "next_days", "value": "soon"}})
    assert response.status_code == 400
    error = error_of(response)
    assert "close_date" in error["message"] and "number of days" in error["message"]
    response = root.get(URL, query={"filter": {"field": "title", "op": "today"}})
    assert response.status_code == 400 and "not supported by a string field" in error_of(response)["message"]
