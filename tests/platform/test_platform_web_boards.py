"""Board and calendar views (cardbase.platform.web.boards) through the Flask test client,
on SQLite and PostgreSQL: columns in the choice order with counts and sums from the store's
aggregate, moves that are ordinary edits (history, optimistic locking, validation,
rights), and a month calendar of date and datetime fields in the display time zone."""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import lxml.html
import pytest

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.web import boards
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import signed_in

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}

DEAL = {"name": "deal", "label": "Deal", "label_plural": "Deals", "code_pattern": "D-{0000}", "fields": [
    {"name": "title", "label": "Title", "type": "string", "required": True},
    {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": [
        {"value": "lead", "label": "Lead", "color": "blue"},
        {"value": "won", "label": "Won", "color": "green"},
        {"value": "lost", "label": "Lost", "color": "#aa3300"}]}},
    {"name": "priority", "label": "Priority", "type": "choice", "options": {"choices": ["low", "high"]}},
    {"name": "amount", "label": "Amount", "type": "money", "options": {"currency": "EUR", "currency_mode": "per_record"}},
    {"name": "close_date", "label": "Close date", "type": "date"},
    {"name": "meeting", "label": "Meeting", "type": "datetime"},
    {"name": "note", "label": "Note", "type": "text"},
]}


@pytest.fixture
def app(db, monkeypatch):
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    SchemaService(db).create_object(SYSTEM, DEAL)
    users.create_user(db, "root", PASSWORD, is_admin=True)
    for name, group, granted in (("sam", "Sales", ["read", "edit"]), ("kim", "Readers", ["read"])):
        users.create_user(db, name, PASSWORD, display_name=name.title())
        users.create_group(db, SYSTEM, group)
        users.add_member(db, SYSTEM, name, group)
        rights.set_object_rights(db, SYSTEM, group, "deal", granted)
    return create_app(TEST_CONFIG, db=db)


def client_for(app, username: str):
    return signed_in(app, username, PASSWORD)


def deals(db, *rows: dict) -> list[dict]:
    store = RecordStore(db)
    return [store.create(SYSTEM, "deal", row) for row in rows]


_COMPOUND = re.compile(r'^(?P<tag>[a-z][a-z0-9]*|\*)?(?P<rest>(?:\.[\w-]+|#[\w-]+|\[[\w-]+(?:="?[^"\]]*"?)?\])*)$')
_PART = re.compile(r'\.([\w-]+)|#([\w-]+)|\[([\w-]+)(?:="?([^"\]]*)"?)?\]')


def _xpath(selector: str) -> str:
    """A small CSS subset (tag, .class, #id, [attr], [attr=value], descendants) as XPath."""
    steps = []
    for compound in selector.split():
        m = _COMPOUND.match(compound)
        assert m, compound
        tests = []
        for cls, ident, attr, value in _PART.findall(m["rest"]):
            if cls:
                tests.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {cls} ')")
            elif ident:
                tests.append(f"@id='{ident}'")
            elif value or "=" in compound:
                tests.append(f"@{attr}='{value}'")
            else:
                tests.append(f"@{attr}")
        steps.append((m["tag"] or "*") + "".join(f"[{t}]" for t in tests))
    return ".//" + "//".join(steps)


def css(el, selector: str) -> list:
    return el.xpath(_xpath(selector))


def page(response) -> lxml.html.HtmlElement:
    assert response.status_code == 200, response.get_data(as_text=True)[:3000]
    return lxml.html.fromstring(response.get_data(as_text=True))


def text(el) -> str:
    return " ".join(el.text_content().split())


def columns(doc) -> dict[str, dict]:
    out = {}
    for col in css(doc, ".cb-lane"):
        total = css(col, ".cb-lane-total")
        out[col.get("data-column")] = {
            "title": text(css(col, ".cb-lane-title")[0]),
            "count": text(css(col, ".cb-lane-count")[0]),
            "total": text(total[0]) if total else None,
            "cards": [text(css(c, ".cb-board-title")[0]) for c in css(col, ".cb-board-card")],
            "more": text(css(col, ".cb-more")[0]) if css(col, ".cb-more") else "",
            "head": css(col, ".cb-lane-head")[0],
        }
    return out


def move(client, record: dict, value, version=None, **query):
    url = "/o/deal/board/stage/move" + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.post(url, json={"id": record["id"], "version": record["version"] if version is None else version,
                                  "value": value})


# ---- board -----------------------------------------------------------------------------------
def test_board_has_a_column_per_choice_in_order_with_counts_and_sums(app, db):
    deals(db, {"title": "Alpha", "stage": "lead", "amount": "100.50"},
          {"title": "Beta", "stage": "lead", "amount": "200"},
          {"title": "Gamma", "stage": "lead"},
          {"title": "Delta", "stage": "won", "amount": "1000"},
          {"title": "Nowhere", "amount": "5"})
    doc = page(client_for(app, "sam").get("/o/deal/board"))
    cols = columns(doc)
    assert list(cols) == ["lead", "won", "lost", ""]
    assert [c["title"] for c in cols.values()] == ["Lead", "Won", "Lost", "(none)"]
    assert [c["count"] for c in cols.values()] == ["3", "1", "0", "1"]
    assert [c["total"] for c in cols.values()] == ["300.50 EUR", "1,000.00 EUR", "0.00 EUR", "5.00 EUR"]
    assert sorted(cols["lead"]["cards"]) == ["Alpha", "Beta", "Gamma"]
    # coloured headers: palette classes, or data-color for #rrggbb (painted by cardbase.js)
    assert "cb-color-blue" in cols["lead"]["head"].get("class")
    assert cols["lost"]["head"].get("data-color") == "#aa3300"
    # a card links to its record and shows further fields, never the long text
    card = css(doc, ".cb-lane[data-column=won] .cb-board-card")[0]
    if "cards.card" in app.view_functions:
        assert css(card, "a.cb-board-title")[0].get("href") == f"/o/deal/{card.get('data-id')}"
    assert "1,000.00 EUR" in text(card)
    assert card.get("draggable") == "true"
    assert [o.get("value") for o in css(card, "select[name=value] option")] == ["lead", "won", "lost", ""]
    # two choice fields: a picker between them; the second one gives its own columns
    assert [a.get("data-field") for a in css(doc, "[aria-labelledby=cb-board-field] a")] == ["stage", "priority"]
    cols = columns(page(client_for(app, "sam").get("/o/deal/board/priority")))
    assert list(cols) == ["low", "high", ""] and cols[""]["count"] == "5"


def test_board_totals_follow_the_users_language(app, db):
    users.update_user(db, SYSTEM, "sam", language="de")
    deals(db, {"title": "Alpha", "stage": "won", "amount": "1234.5"})
    cols = columns(page(client_for(app, "sam").get("/o/deal/board")))
    assert cols["won"]["total"] == "1.234,50 EUR" and cols["lead"]["total"] == "0,00 EUR"


def test_a_required_choice_has_no_none_column(app, db):
    SchemaService(db).create_object(SYSTEM, {"name": "ticket", "label": "Ticket", "label_plural": "Tickets", "fields": [
        {"name": "state", "label": "State", "type": "choice", "required": True, "options": {"choices": ["open", "done"]}}]})
    RecordStore(db).create(SYSTEM, "ticket", {"state": "open"})
    cols = columns(page(client_for(app, "root").get("/o/ticket/board")))
    assert list(cols) == ["open", "done"] and cols["open"]["count"] == "1"


def test_totals_count_every_record_not_only_the_cards_shown(app, db, monkeypatch):
    monkeypatch.setattr(boards, "CARDS_PER_COLUMN", 2)
    deals(db, *({"title": f"Deal {i}", "stage": "lead", "amount": "10"} for i in range(5)))
    cols = columns(page(client_for(app, "sam").get("/o/deal/board")))
    assert cols["lead"]["count"] == "5" and cols["lead"]["total"] == "50.00 EUR"
    assert len(cols["lead"]["cards"]) == 2 and cols["lead"]["more"] == "and 3 more"


def test_money_in_several_currencies_is_never_added_up_as_one(app, db, monkeypatch):
    deals(db, {"title": "Euro", "stage": "lead", "amount": "100"},
          {"title": "Pound", "stage": "lead", "amount": {"amount": "50", "currency": "GBP"}},
          {"title": "Pound 2", "stage": "won", "amount": {"amount": "20", "currency": "GBP"}},
          {"title": "Plain", "stage": "lost", "amount": "1"})
    cols = columns(page(client_for(app, "sam").get("/o/deal/board")))
    assert cols["lead"]["total"] == "100.00 EUR + 50.00 GBP"
    assert cols["won"]["total"] == "20.00 GBP" and cols["lost"]["total"] == "1.00 EUR"
    monkeypatch.setattr(boards, "CARDS_PER_COLUMN", 1)  # not every card loaded: the sums come from SQL
    cols = columns(page(client_for(app, "sam").get("/o/deal/board")))
    assert cols["lead"]["total"] == "100.00 EUR + 50.00 GBP"  # never "150.00" (issue 14, point 1)


def test_sum_picker_search_and_counts_only(app, db):
    deals(db, {"title": "Alpha", "stage": "lead", "amount": "100"}, {"title": "Beta", "stage": "lead", "amount": "7"})
    client = client_for(app, "sam")
    cols = columns(page(client.get("/o/deal/board?sum=")))
    assert cols["lead"]["total"] is None and cols["lead"]["count"] == "2"
    cols = columns(page(client.get("/o/deal/board?q=Beta")))
    assert cols["lead"]["count"] == "1" and cols["lead"]["total"] == "7.00 EUR"
    cols = columns(page(client.get("/o/deal/board?filter=" + json.dumps(
        {"field": "amount", "op": "gt", "value": "50"}))))
    assert cols["lead"]["cards"] == ["Alpha"]
    response = client.get("/o/deal/board?sum=title")
    assert response.status_code == 400
    assert "sum: &#39;title&#39; is not a number or money field" in response.get_data(as_text=True)
    response = client.get("/o/deal/board?filter={nope")
    assert response.status_code == 400 and "filter: is not a valid condition (not valid JSON" in response.get_data(as_text=True)
    response = client.get("/o/deal/board?filter=" + json.dumps({"field": "nope", "op": "eq", "value": 1}))
    assert response.status_code == 422 and "nope" in response.get_data(as_text=True)


def test_board_of_a_field_that_is_not_a_choice_or_an_object_without_one(app, db):
    client = client_for(app, "sam")
    response = client.get("/o/deal/board/title")
    assert response.status_code == 404
    assert "&#39;Title&#39; is not a choice field" in response.get_data(as_text=True)
    response = client.get("/o/deal/board/nonsense")
    assert response.status_code == 404 and "Deals have no field &#39;nonsense&#39;" in response.get_data(as_text=True)
    SchemaService(db).create_object(SYSTEM, {"name": "memo", "label": "Memo", "label_plural": "Memos",
                                             "fields": [{"name": "text", "label": "Text", "type": "string"}]})
    response = client_for(app, "root").get("/o/memo/board")
    assert response.status_code == 404 and "Memos have no choice field" in response.get_data(as_text=True)
    response = client_for(app, "root").get("/o/memo/calendar")
    assert response.status_code == 404 and "Memos have no date field" in response.get_data(as_text=True)
    assert client.get("/o/nothing/board").status_code == 404


def test_rights_hold_on_the_board(app, db):
    deals(db, {"title": "Alpha", "stage": "lead", "amount": "100"})
    # a reader sees the board but cannot move cards
    doc = page(client_for(app, "kim").get("/o/deal/board"))
    assert css(doc, ".cb-board-card") and not css(doc, ".cb-board-card[draggable]")
    assert not css(doc, "form.cb-move") and css(doc, "#cb-board-readonly")
    assert css(doc, "#cb-board")[0].get("data-can-move") == "false"
    # a hidden money field is neither summed nor shown; a read-only choice cannot be moved
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "stage", "read_only")
    doc = page(client_for(app, "sam").get("/o/deal/board"))
    assert not css(doc, ".cb-lane-total") and "100" not in text(css(doc, "#cb-board")[0])
    assert not css(doc, "#cb-board-sum") and not css(doc, ".cb-board-card[draggable]")
    response = client_for(app, "sam").get("/o/deal/board?sum=amount")
    assert response.status_code == 400  # a hidden field is refused like an unknown one
    # a user without any right on deals is refused
    users.create_user(db, "eve", PASSWORD)
    assert client_for(app, "eve").get("/o/deal/board").status_code == 403


# ---- moves ------------------------------------------------------------------------------------
def test_move_changes_the_value_through_the_store_and_answers_new_totals(app, db):
    alpha, _beta = deals(db, {"title": "Alpha", "stage": "lead", "amount": "100"},
                         {"title": "Beta", "stage": "won", "amount": "50"})
    client = client_for(app, "sam")
    response = move(client, alpha, "won")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] is True and body["value"] == "won" and body["version"] == alpha["version"] + 1
    assert body["totals"]["won"] == {"count": 2, "total": "150.00 EUR"}
    assert body["totals"]["lead"] == {"count": 0, "total": "0.00 EUR"}
    store = RecordStore(db)
    assert store.get(SYSTEM, "deal", alpha["id"])["stage"] == "won"
    latest = store.history(SYSTEM, "deal", alpha["id"])[0]  # newest first
    assert latest["action"] == "update" and latest["actor"]["username"] == "sam"
    assert [(c["field"], c["old"], c["new"]) for c in latest["changes"]] == [("stage", "lead", "won")]
    # to "(none)" and back
    response = move(client, {"id": alpha["id"], "version": body["version"]}, None)
    assert response.status_code == 200 and response.get_json()["value"] == ""
    assert store.get(SYSTEM, "deal", alpha["id"])["stage"] is None
    assert response.get_json()["totals"][""] == {"count": 1, "total": "100.00 EUR"}


def test_move_with_a_stale_version_is_a_conflict_and_changes_nothing(app, db):
    (alpha,) = deals(db, {"title": "Alpha", "stage": "lead"})
    RecordStore(db).update(SYSTEM, "deal", alpha["id"], {"title": "Alpha 2"}, version=alpha["version"])
    response = move(client_for(app, "sam"), alpha, "won")
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] == "Conflict" and "changed by someone else" in body["message"]
    assert RecordStore(db).get(SYSTEM, "deal", alpha["id"])["stage"] == "lead"


def test_move_to_a_value_that_is_no_choice_is_refused_with_the_field_named(app, db):
    (alpha,) = deals(db, {"title": "Alpha", "stage": "lead"})
    client = client_for(app, "sam")
    response = move(client, alpha, "nirvana")
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "ValidationError" and "stage" in body["errors"], body
    assert "nirvana" in body["message"]
    response = move(client, alpha, {"evil": 1})
    assert response.status_code == 422 and "stage" in response.get_json()["errors"]
    response = client.post("/o/deal/board/stage/move", json={"id": alpha["id"], "value": "won"})
    assert response.status_code == 422 and "version" in response.get_json()["errors"]
    response = client.post("/o/deal/board/stage/move", json=["not", "an", "object"])
    assert response.status_code == 422 and "body" in response.get_json()["errors"]
    response = client.post("/o/deal/board/stage/move", json={"id": 999999, "version": 1, "value": "won"})
    assert response.status_code == 404 and "999999" in response.get_json()["message"]
    response = client.post("/o/deal/board/title/move", json={"id": alpha["id"], "version": 1, "value": "won"})
    assert response.status_code == 404 and "not a choice field" in response.get_json()["message"]
    assert RecordStore(db).get(SYSTEM, "deal", alpha["id"])["stage"] == "lead"


def test_move_without_the_edit_right_is_refused(app, db):
    (alpha,) = deals(db, {"title": "Alpha", "stage": "lead"})
    response = move(client_for(app, "kim"), alpha, "won")
    assert response.status_code == 403 and response.get_json()["error"] == "Forbidden"
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "stage", "read_only")
    response = move(client_for(app, "sam"), alpha, "won")
    assert response.status_code in (403, 422), response.get_json()
    assert "stage" in response.get_json()["message"]
    assert RecordStore(db).get(SYSTEM, "deal", alpha["id"])["stage"] == "lead"


def test_move_by_form_without_script(app, db):
    (alpha,) = deals(db, {"title": "Alpha", "stage": "lead"})
    client = client_for(app, "sam")
    response = client.post("/o/deal/board/stage/move",
                           data={"id": str(alpha["id"]), "version": str(alpha["version"]), "value": "lost"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/o/deal/board/stage")
    assert RecordStore(db).get(SYSTEM, "deal", alpha["id"])["stage"] == "lost"
    html = client.get("/o/deal/board/stage").get_data(as_text=True)
    assert "D-0001 moved to Lost." in html
    response = client.post("/o/deal/board/stage/move",
                           data={"id": str(alpha["id"]), "version": str(alpha["version"]), "value": "won"})
    assert response.status_code == 302
    assert "changed by someone else" in client.get("/o/deal/board/stage").get_data(as_text=True)


# ---- calendar ---------------------------------------------------------------------------------
def cells(doc) -> dict[str, list[str]]:
    return {cell.get("data-date"): [text(i) for i in css(cell, ".cb-cal-item")]
            for cell in css(doc, "#cb-cal-grid .cb-cal-day")}


def test_calendar_places_dates_on_their_day_across_month_boundaries(app, db):
    deals(db, {"title": "Oct last", "close_date": "2026-10-31"}, {"title": "Nov first", "close_date": "2026-11-01"},
          {"title": "Nov last", "close_date": "2026-11-30"}, {"title": "Dec first", "close_date": "2026-12-01"},
          {"title": "Far away", "close_date": "2027-03-01"}, {"title": "No date"})
    client = client_for(app, "sam")
    doc = page(client.get("/o/deal/calendar?month=2026-11", headers={"Accept-Language": "en-GB"}))
    assert text(css(doc, "#cb-cal-month")[0]) == "November 2026"
    grid = cells(doc)
    # en-GB: weeks start on Monday; 1 November 2026 is a Sunday, so the grid starts on 26 October
    assert list(grid)[0] == "2026-10-26" and list(grid)[-1] == "2026-12-06" and len(grid) == 42
    assert [text(w) for w in css(doc, ".cb-cal-weekday")][0] == "Mon"
    assert grid["2026-10-31"] == ["Oct last"] and grid["2026-11-01"] == ["Nov first"]
    assert grid["2026-11-30"] == ["Nov last"] and grid["2026-12-01"] == ["Dec first"]
    assert "Far away" not in text(doc) and "No date" not in text(doc)
    assert "cb-out" in css(doc, '.cb-cal-day[data-date="2026-10-31"]')[0].get("class")
    # the phone list shows the month's days only
    listed = [s.get("data-date") for s in css(doc, "#cb-cal-list section")]
    assert listed == ["2026-11-01", "2026-11-30"]
    # en-US: weeks start on Sunday
    doc = page(client.get("/o/deal/calendar/close_date?month=2026-11", headers={"Accept-Language": "en-US"}))
    assert list(cells(doc))[0] == "2026-11-01" and text(css(doc, ".cb-cal-weekday")[0]) == "Sun"
    # navigation keeps the field and moves by month, across the year
    doc = page(client.get("/o/deal/calendar/close_date?month=2026-12"))
    assert css(doc, "#cb-cal-next")[0].get("href").endswith("month=2027-01")
    assert css(doc, "#cb-cal-prev")[0].get("href").endswith("month=2026-11")


def test_calendar_in_german_starts_on_monday(app, db):
    users.update_user(db, SYSTEM, "sam", language="de")
    deals(db, {"title": "Nov first", "close_date": "2026-11-01"})
    doc = page(client_for(app, "sam").get("/o/deal/calendar?month=2026-11", headers={"Accept-Language": "en-US"}))
    assert text(css(doc, ".cb-cal-weekday")[0]) == "Mo"
    assert list(cells(doc))[0] == "2026-10-26"
    assert "1. November 2026" in text(css(doc, "#cb-cal-list")[0])


def test_calendar_places_datetimes_by_the_display_time_zone(app, db, monkeypatch):
    monkeypatch.setenv("CARDBASE_TIMEZONE", "Europe/Berlin")
    deals(db, {"title": "Late call", "meeting": "2026-11-30T23:30:00Z"},   # 1 Dec 00:30 in Berlin
          {"title": "Early call", "meeting": "2026-10-31T23:15:00Z"},      # 1 Nov 00:15 in Berlin
          {"title": "Noon", "meeting": "2026-11-15T11:00:00Z"})
    doc = page(client_for(app, "sam").get("/o/deal/calendar/meeting?month=2026-11",
                                          headers={"Accept-Language": "en-GB"}))
    grid = cells(doc)
    assert grid["2026-12-01"] == ["00:30 Late call"] and grid["2026-11-30"] == []
    assert grid["2026-11-01"] == ["00:15 Early call"] and grid["2026-10-31"] == []
    assert grid["2026-11-15"] == ["12:00 Noon"]
    assert [a.get("data-field") for a in css(doc, "[aria-labelledby=cb-cal-field] a")] == ["close_date", "meeting"]


def test_calendar_shows_a_few_per_day_and_links_the_rest(app, db, monkeypatch):
    deals(db, *({"title": f"Busy {i}", "close_date": "2026-11-10"} for i in range(6)))
    doc = page(client_for(app, "sam").get("/o/deal/calendar?month=2026-11"))
    day = css(doc, '#cb-cal-grid .cb-cal-day[data-date="2026-11-10"]')[0]
    assert len(css(day, ".cb-cal-item")) == boards.SHOWN_PER_DAY
    assert text(css(day, ".cb-cal-more")[0]) == "+2 more"
    assert len(css(doc, '#cb-cal-list section[data-date="2026-11-10"] .cb-cal-item')) == 6
    # more records in the month than one page: the day counts stay right
    monkeypatch.setattr(boards, "CALENDAR_LIMIT", 3)
    deals(db, {"title": "Later", "close_date": "2026-11-20"})
    doc = page(client_for(app, "sam").get("/o/deal/calendar?month=2026-11"))
    day = css(doc, '#cb-cal-grid .cb-cal-day[data-date="2026-11-10"]')[0]
    assert len(css(day, ".cb-cal-item")) == 3 and text(css(day, ".cb-cal-more")[0]) == "+3 more"
    later = css(doc, '#cb-cal-grid .cb-cal-day[data-date="2026-11-20"]')[0]
    assert text(css(later, ".cb-cal-more")[0]) == "+1 more"
    assert "more than 3 records" in text(doc)


def test_calendar_refuses_a_bad_month_clearly(app, db):
    client = client_for(app, "sam")
    for bad in ("2026-13", "November", "2026-1", "20261-01"):
        response = client.get(f"/o/deal/calendar?month={bad}")
        assert response.status_code == 400, bad
        assert f"month: &#39;{bad}&#39; is not a month; write it as YYYY-MM" in response.get_data(as_text=True)
    response = client.get("/o/deal/calendar/title")
    assert response.status_code == 404 and "not a date field" in response.get_data(as_text=True)
    doc = page(client.get("/o/deal/calendar"))  # no month: this month
    assert css(doc, "#cb-cal-month")[0].get("data-month") == datetime.now(timezone.utc).strftime("%Y-%m")
    assert css(doc, ".cb-cal-day.cb-today")


def test_calendar_respects_rights(app, db):
    deals(db, {"title": "Secret", "close_date": "2026-11-10"})
    rights.set_field_right(db, SYSTEM, "Readers", "deal", "close_date", "hidden")
    response = client_for(app, "kim").get("/o/deal/calendar/close_date?month=2026-11")
    assert response.status_code == 404 and "Secret" not in response.get_data(as_text=True)
    doc = page(client_for(app, "kim").get("/o/deal/calendar?month=2026-11"))  # falls back to the visible field
    assert css(doc, "#cb-cal-month")[0].get("data-month") == "2026-11" and "Secret" not in text(doc)
