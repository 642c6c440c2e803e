"""Issue 14, point 9: the calendar works like the best tools -- drag an entry to another
day (an ordinary edit: rights, optimistic locking, history, Undo; a date-time keeps its
time of day), click a day's "+" to create a record on that day, and a week view."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_boards import app, cells, client_for, css, deals, page, text  # noqa: F401 (fixture)

MOVE = "/o/deal/calendar/{field}/move"


def reschedule(client, record: dict, day: str, field: str = "close_date", version=None):
    return client.post(MOVE.format(field=field), json={
        "id": record["id"], "version": record["version"] if version is None else version, "date": day})


def test_dragging_to_another_day_reschedules_with_undo(app, db):  # noqa: F811
    deal, = deals(db, {"title": "Pitch", "close_date": "2026-11-10"})
    sam = client_for(app, "sam")
    doc = page(sam.get("/o/deal/calendar?month=2026-11"))
    grid = css(doc, "#cb-cal-grid")[0]
    assert grid.get("data-can-move") == "true" and grid.get("data-move-url") == MOVE.format(field="close_date")
    item = css(doc, '#cb-cal-grid .cb-cal-item[data-id="%d"]' % deal["id"])[0]
    assert item.get("draggable") == "true" and item.get("data-version") == "1"
    response = reschedule(sam, deal, "2026-11-12")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["ok"] and body["version"] == 2 and body["date"] == "2026-11-12" and body["undo_url"]
    assert "D-0001" in body["message"]
    stored = RecordStore(db).get(SYSTEM, "deal", deal["id"])
    assert stored["close_date"].isoformat() == "2026-11-12"
    assert cells(page(sam.get("/o/deal/calendar?month=2026-11")))["2026-11-12"] == ["Pitch"]
    history = RecordStore(db).history(SYSTEM, "deal", deal["id"])
    assert history[0]["changes"][0]["field"] == "close_date"
    # the Undo puts it back
    assert sam.post(body["undo_url"], data={"next": "/o/deal/calendar"}).status_code == 302
    assert RecordStore(db).get(SYSTEM, "deal", deal["id"])["close_date"].isoformat() == "2026-11-10"


def test_a_date_time_keeps_its_time_of_day(app, db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("CARDBASE_TIMEZONE", "Europe/Berlin")
    deal, = deals(db, {"title": "Call", "meeting": "2026-11-10T13:45:00Z"})  # 14:45 in Berlin
    response = reschedule(client_for(app, "sam"), deal, "2026-11-30", field="meeting")
    assert response.status_code == 200, response.get_json()
    moved = RecordStore(db).get(SYSTEM, "deal", deal["id"])["meeting"]
    assert moved.isoformat() == "2026-11-30T13:45:00"  # 14:45 in Berlin, still winter time


@pytest.mark.parametrize("body, status, words", [
    ({"id": 1, "version": 1, "date": "12/11/2026"}, 422, ["date", "YYYY-MM-DD"]),
    ({"id": 1, "version": 1}, 422, ["date"]),
    ({"id": 1, "version": 7, "date": "2026-11-12"}, 409, []),
    ({"id": 999, "version": 1, "date": "2026-11-12"}, 404, []),
    ([1, 2], 422, ["body"]),
])
def test_bad_moves_change_nothing_and_say_why(app, db, body, status, words):  # noqa: F811
    deals(db, {"title": "Pitch", "close_date": "2026-11-10"})
    response = client_for(app, "sam").post(MOVE.format(field="close_date"), json=body)
    assert response.status_code == status, response.get_json()
    message = str(response.get_json())
    for word in words:
        assert word in message, message
    assert RecordStore(db).list(SYSTEM, "deal").data[0]["close_date"].isoformat() == "2026-11-10"


def test_readers_cannot_drag_or_create(app, db):  # noqa: F811
    deal, = deals(db, {"title": "Pitch", "close_date": "2026-11-10"})
    kim = client_for(app, "kim")  # read only
    doc = page(kim.get("/o/deal/calendar?month=2026-11"))
    assert css(doc, "#cb-cal-grid")[0].get("data-can-move") == "false"
    assert not css(doc, ".cb-cal-item[draggable]") and not css(doc, ".cb-cal-add")
    assert reschedule(kim, deal, "2026-11-12").status_code == 403
    assert RecordStore(db).get(SYSTEM, "deal", deal["id"])["close_date"].isoformat() == "2026-11-10"


def test_a_days_plus_opens_a_new_record_on_that_day(app, db):  # noqa: F811
    root = client_for(app, "root")
    doc = page(root.get("/o/deal/calendar?month=2026-11"))
    add = css(doc, '.cb-cal-day[data-date="2026-11-17"] .cb-cal-add')[0]
    assert add.get("href") == "/o/deal/new?close_date=2026-11-17"
    card = page(root.get(add.get("href")))
    assert css(card, 'input[name="f-close_date"]')[0].get("value") in ("2026-11-17", "17.11.2026", "11/17/2026")
    doc = page(root.get("/o/deal/calendar/meeting?month=2026-11"))
    assert css(doc, '.cb-cal-day[data-date="2026-11-17"] .cb-cal-add')[0].get("href") == \
        "/o/deal/new?meeting=2026-11-17T09:00"


def test_the_week_view_shows_every_entry_of_seven_days(app, db):  # noqa: F811
    deals(db, *({"title": f"Busy {i}", "close_date": "2026-11-11"} for i in range(6)),
          {"title": "Sunday", "close_date": "2026-11-15"}, {"title": "Next Monday", "close_date": "2026-11-16"})
    sam = client_for(app, "sam")
    doc = page(sam.get("/o/deal/calendar?view=week&day=2026-11-12", headers={"Accept-Language": "en-GB"}))
    grid = cells(doc)
    assert list(grid) == [f"2026-11-{d:02d}" for d in range(9, 16)]  # Monday 9 .. Sunday 15
    assert len(grid["2026-11-11"]) == 6 and not css(doc, "#cb-cal-grid .cb-cal-more")  # all six, no "+more"
    assert grid["2026-11-15"] == ["Sunday"] and "Next Monday" not in text(css(doc, "#cb-cal-grid")[0])
    assert css(doc, "#cb-cal-next")[0].get("href").endswith("view=week&day=2026-11-16")
    assert css(doc, "#cb-cal-prev")[0].get("href").endswith("view=week&day=2026-11-02")
    assert "active" in css(doc, "#cb-cal-week-view")[0].get("class")
    bad = sam.get("/o/deal/calendar?view=week&day=12.11.2026")
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_data(as_text=True)
