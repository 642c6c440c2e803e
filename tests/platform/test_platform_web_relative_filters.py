"""Issue 14, point 9: the list's filter builder offers the relative date operators and
"me" (English and German), a list filtered by them shows what they mean for the reader
today, and a saved view "My open deals" shows each user their own."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query import relative
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_lists import client_for, list_app, page_of, row_texts, save


@pytest.fixture
def app(db, monkeypatch):
    monkeypatch.setattr(relative, "utc_now", lambda: datetime(2026, 1, 4, 12, 0, tzinfo=timezone.utc))  # a Sunday
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    app = list_app(db)  # seven deals closing 2026-01-01 .. 2026-01-07
    rights.set_object_rights(db, SYSTEM, "Junior", "deal", ["read"])
    store = RecordStore(db)
    sam, kim = users.find_user(db, "sam").id, users.find_user(db, "kim").id
    deals = store.list(SYSTEM, "deal").data
    with store.session(SYSTEM, write=True) as s:
        for deal in deals:
            owner = sam if int(deal["title"][-1]) % 2 == 0 else kim
            s.set_owner("deal", deal["id"], owner)
    return app


def entries_of(body: str) -> dict[str, dict]:
    found = re.search(r'id="cb-filter-fields">(.*?)</script>', body, re.S)
    assert found
    return {e["path"]: e for e in json.loads(found.group(1))}


@pytest.mark.parametrize("language, overdue, next_days", [("en", "is overdue", "is in the next … days"),
                                                          ("de", "ist überfällig", "ist in den nächsten … Tagen")])
def test_the_builder_offers_relative_dates_and_me(app, db, language, overdue, next_days):
    users.update_user(db, SYSTEM, users.find_user(db, "sam").id, language=language)
    entries = entries_of(page_of(client_for(app, "sam"), "/o/deal"))
    ops = {o["op"]: o["label"] for o in entries["close_date"]["ops"]}
    assert {"today", "this_week", "this_month", "overdue", "next_days", "last_days"} <= set(ops)
    assert ops["overdue"] == overdue and ops["next_days"] == next_days
    assert entries["owner"]["me"] is True and entries["title"]["me"] is False
    assert "today" not in {o["op"] for o in entries["amount"]["ops"]}  # numbers have no relative dates


def test_a_list_filtered_by_relative_dates(app):
    sam = client_for(app, "sam")
    overdue = json.dumps({"field": "close_date", "op": "overdue"})
    assert sorted(row_texts(page_of(sam, f"/o/deal?filter={overdue}"))) == ["Deal 000", "Deal 001", "Deal 002"]
    week = json.dumps({"field": "close_date", "op": "this_week"})  # Mon 29 Dec .. Sun 4 Jan
    assert sorted(row_texts(page_of(sam, f"/o/deal?filter={week}"))) == ["Deal 000", "Deal 001", "Deal 002", "Deal 003"]
    soon = json.dumps({"field": "close_date", "op": "next_days", "value": 2})
    assert sorted(row_texts(page_of(sam, f"/o/deal?filter={soon}"))) == ["Deal 003", "Deal 004", "Deal 005"]
    bad = json.dumps({"field": "close_date", "op": "next_days", "value": "soon"})
    body = page_of(sam, f"/o/deal?filter={bad}", status=400)
    assert "close_date" in body and "number of days" in body


def test_a_saved_view_of_my_deals_shows_each_user_their_own(app):
    root, sam, kim = client_for(app, "root"), client_for(app, "sam"), client_for(app, "kim")
    definition = {"columns": [{"field": "title"}], "sort": "title",
                  "filter": {"and": [{"field": "owner", "op": "eq", "value": "me"},
                                     {"field": "close_date", "op": "next_days", "value": 30}]}}
    response = save(root, "deal", "My open deals", definition, shared="1")
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    view_url = response.headers["Location"]
    assert row_texts(page_of(sam, view_url)) == ["Deal 004", "Deal 006"]
    assert row_texts(page_of(kim, view_url)) == ["Deal 003", "Deal 005"]
    assert row_texts(page_of(root, view_url)) == []  # root owns none
