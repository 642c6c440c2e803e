"""The board and the calendar in a real browser: drag a deal to another column (HTML5
drag and drop), see the column figures change, reload and find it saved; move with the
keyboard fallback; a conflicting move goes back with the message; the calendar opens cards."""
from __future__ import annotations

import re

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.store.records import RecordStore


def figures(page, key: str) -> tuple[str, str]:
    column = page.locator(f'.cb-lane[data-column="{key}"]')
    return column.locator(".cb-lane-count").inner_text().strip(), column.locator(".cb-lane-total").inner_text().strip()


def stage_totals(site) -> dict[str, tuple[int, object]]:
    rows = RecordStore(site.db).aggregate(SYSTEM, "deal", AggregateQuery(
        group_by=["stage"], metrics=[{"op": "count", "as": "n"}, {"op": "sum", "field": "amount", "as": "total"}]))
    out: dict[str, tuple[int, object]] = {}
    for r in rows:  # one row per stage and currency (issue 14, point 1): counts add up, sums stay apart
        n, sums = out.get(r["stage"] or "", (0, {}))
        out[r["stage"] or ""] = (n + r["n"], {**sums, r["amount:currency"]: r["total"]})
    return out


def pick_columns(site) -> tuple[str, str]:
    """A source column with cards and a target column, both on screen at 1280 pixels (the
    board scrolls sideways; a drag to a column out of view would scroll under the pointer)."""
    totals = stage_totals(site)
    source = next(k for k in ("lead", "qualified") if totals.get(k, (0,))[0] > 0)
    return source, "proposal"


def test_drag_a_deal_to_another_column_and_it_stays_there(page, site, login, screenshot):
    login(page, "sam")
    page.goto(site.url + "/o/deal/board")
    page.wait_for_selector("#cb-board .cb-board-card")
    assert page.locator(".cb-lane").first.get_attribute("data-column") == "lead"
    source, target = pick_columns(site)
    before = stage_totals(site)
    source_count, source_total = figures(page, source)
    target_count, target_total = figures(page, target)
    assert source_count == f"{before[source][0]:,}"

    card = page.locator(f'.cb-lane[data-column="{source}"] .cb-board-card').first
    record_id = card.get_attribute("data-id")
    version = int(card.get_attribute("data-version"))
    card.drag_to(page.locator(f'.cb-lane[data-column="{target}"] .cb-lane-body'))
    moved = page.locator(f'.cb-lane[data-column="{target}"] .cb-board-card[data-id="{record_id}"]')
    moved.wait_for()
    page.wait_for_function(
        "([id, v]) => { const c = document.querySelector(`.cb-board-card[data-id='${id}']`);"
        " return c && c.getAttribute('data-version') === String(v) && !c.classList.contains('cb-saving'); }",
        arg=[record_id, version + 1])
    after = stage_totals(site)
    assert after[source][0] == before[source][0] - 1 and after[target][0] == before.get(target, (0,))[0] + 1
    assert figures(page, source)[0] == f"{after[source][0]:,}" != source_count
    assert figures(page, target)[0] == f"{after[target][0]:,}" != target_count
    assert figures(page, source)[1] != source_total or figures(page, target)[1] != target_total
    record = RecordStore(site.db).get(SYSTEM, "deal", int(record_id))
    assert record["stage"] == target and record["version"] == version + 1
    assert moved.locator("select[name=value]").input_value() == target
    assert page.locator("#cb-board-message").is_hidden()

    page.reload()
    page.wait_for_selector("#cb-board .cb-board-card")
    assert page.locator(f'.cb-lane[data-column="{target}"] .cb-board-card[data-id="{record_id}"]').count() == 1
    assert page.locator(f'.cb-lane[data-column="{source}"] .cb-board-card[data-id="{record_id}"]').count() == 0
    assert figures(page, target)[0] == f"{after[target][0]:,}"
    screenshot(page, "board")
    assert page.js_errors == []


def test_move_with_the_keyboard_fallback_and_a_conflict_goes_back(page, site, login):
    login(page, "sam")
    page.goto(site.url + "/o/deal/board")
    source, target = pick_columns(site)
    card = page.locator(f'.cb-lane[data-column="{source}"] .cb-board-card').first
    record_id = card.get_attribute("data-id")
    # the "Move to" select (keyboard, touch): moves without dragging
    card.locator("select[name=value]").select_option(target)
    moved = page.locator(f'.cb-lane[data-column="{target}"] .cb-board-card[data-id="{record_id}"]')
    moved.wait_for()
    page.wait_for_function("id => !document.querySelector(`.cb-board-card[data-id='${id}']`).classList"
                           ".contains('cb-saving')", arg=record_id)
    assert RecordStore(site.db).get(SYSTEM, "deal", int(record_id))["stage"] == target
    # someone else changes the deal: the next move is refused, the card goes back, the message shows
    current = RecordStore(site.db).get(SYSTEM, "deal", int(record_id))
    RecordStore(site.db).update(SYSTEM, "deal", int(record_id), {"probability": 42}, version=current["version"])
    before = figures(page, target)
    moved.locator("select[name=value]").select_option(source)
    message = page.locator("#cb-board-message")
    message.wait_for()
    assert "changed by someone else" in message.inner_text()
    assert page.locator(f'.cb-lane[data-column="{target}"] .cb-board-card[data-id="{record_id}"]').count() == 1
    assert moved.locator("select[name=value]").input_value() == target
    assert figures(page, target) == before
    assert RecordStore(site.db).get(SYSTEM, "deal", int(record_id))["stage"] == target
    assert page.js_errors == []


def test_a_reader_cannot_drag(page, site, login):
    login(page, "junior")
    page.goto(site.url + "/o/deal/board")
    page.wait_for_selector("#cb-board .cb-board-card")
    assert page.locator(".cb-board-card[draggable=true]").count() == 0
    assert page.locator("select[name=value]").count() == 0
    assert page.locator("#cb-board-readonly").is_visible()
    assert page.js_errors == []


def test_calendar_shows_tasks_and_opens_the_card(page, site, login, screenshot):
    # a task on a known day of a month no demo task falls in
    store = RecordStore(site.db)
    task = store.create(SYSTEM, "task", {"title": "Calendar check: call Ada", "due_date": "2031-03-17"})
    other = store.create(SYSTEM, "task", {"title": "Calendar check: next month", "due_date": "2031-04-16"})
    login(page, "sam")
    page.goto(f"{site.url}/o/task/calendar?month=2031-03")
    assert page.locator("#cb-cal-month").get_attribute("data-month") == "2031-03"
    assert page.inner_text("#cb-cal-month").strip() == "March 2031"
    items = page.locator("#cb-cal-grid .cb-cal-item")
    assert items.count() == 1  # only this task falls in the weeks shown
    day = page.locator('#cb-cal-grid .cb-cal-day[data-date="2031-03-17"]')
    item = day.locator(f'.cb-cal-item[data-id="{task["id"]}"]')
    assert item.count() == 1 and item.inner_text().strip() == "Calendar check: call Ada"
    assert day.locator(".cb-cal-more").count() == 0
    assert item.get_attribute("href") == f"/o/task/{task['id']}"
    screenshot(page, "calendar")

    # the next month shows the other task, not this one; back again
    page.click("#cb-cal-next")
    page.wait_for_url(re.compile(r"month=2031-04"))
    assert page.locator("#cb-cal-month").get_attribute("data-month") == "2031-04"
    assert page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{task["id"]}"]').count() == 0
    assert page.locator(f'#cb-cal-grid .cb-cal-day[data-date="2031-04-16"] .cb-cal-item[data-id="{other["id"]}"]'
                        ).count() == 1
    page.click("#cb-cal-prev")
    page.wait_for_url(re.compile(r"month=2031-03"))

    # clicking the task opens its card
    page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{task["id"]}"]').click()
    page.wait_for_url(f"{site.url}/o/task/{task['id']}")
    assert page.inner_text("#cb-card-title").strip() == "Calendar check: call Ada"
    assert page.input_value("#cb-f-due_date") == "2031-03-17"
    assert page.js_errors == []


def test_calendar_drag_moves_a_task_to_another_day(page, site, login):
    """The calendar's dragging goes through the shared cardbase.dragToMove (as the board's)."""
    store = RecordStore(site.db)
    task = store.create(SYSTEM, "task", {"title": "Calendar drag: call Bo", "due_date": "2031-05-13"})
    login(page, "sam")
    page.goto(f"{site.url}/o/task/calendar?month=2031-05")
    assert page.locator("#cb-cal-grid").get_attribute("data-can-move") == "true"
    item = page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{task["id"]}"]')
    item.drag_to(page.locator('#cb-cal-grid .cb-cal-day[data-date="2031-05-15"]'))
    page.locator(f'#cb-cal-grid .cb-cal-day[data-date="2031-05-15"] .cb-cal-item[data-id="{task["id"]}"]').wait_for()
    page.wait_for_function("() => !document.querySelector('.cb-cal-item.cb-saving')")
    assert page.locator(".cb-drop-over").count() == 0
    assert str(store.get(SYSTEM, "task", task["id"])["due_date"]) == "2031-05-15"
    assert page.js_errors == []


def test_a_board_move_offers_undo_and_undo_puts_the_card_back(page, site, login):
    """The board's Undo panel comes from the shared cardbase.offerUndo (static/js/cardbase.js)."""
    login(page, "sam")
    page.goto(site.url + "/o/deal/board")
    page.wait_for_selector("#cb-board .cb-board-card")
    assert page.evaluate("typeof window.cardbase.offerUndo") == "function"
    source, target = pick_columns(site)
    card = page.locator(f'.cb-lane[data-column="{source}"] .cb-board-card').first
    record_id = int(card.get_attribute("data-id"))
    card.drag_to(page.locator(f'.cb-lane[data-column="{target}"] .cb-lane-body'))
    undo = page.locator("#cb-board-undo:not(.d-none)")
    undo.wait_for()
    code = RecordStore(site.db).get(SYSTEM, "deal", record_id)["code"]
    assert undo.locator(".cb-undo-text").inner_text() == f"{code} moved."
    assert RecordStore(site.db).get(SYSTEM, "deal", record_id)["stage"] == target
    with page.expect_navigation():
        undo.locator(".cb-undo-button").click()
    assert page.url.split("?")[0].startswith(site.url + "/o/deal/board")  # back on the board (the server's undo_next)
    page.wait_for_selector(f'.cb-lane[data-column="{source}"] .cb-board-card[data-id="{record_id}"]')
    assert RecordStore(site.db).get(SYSTEM, "deal", record_id)["stage"] == source
    assert page.js_errors == []


def test_a_calendar_move_offers_undo_that_comes_back_to_the_same_month(page, site, login):
    """The calendar's Undo panel comes from the same cardbase.offerUndo; its way back is the
    page as shown (month included), not the calendar's first month."""
    store = RecordStore(site.db)
    task = store.create(SYSTEM, "task", {"title": "Calendar undo: write Al", "due_date": "2031-06-10"})
    login(page, "sam")
    page.goto(f"{site.url}/o/task/calendar?month=2031-06")
    page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{task["id"]}"]').drag_to(
        page.locator('#cb-cal-grid .cb-cal-day[data-date="2031-06-12"]'))
    undo = page.locator("#cb-cal-undo:not(.d-none)")
    undo.wait_for()
    assert undo.locator(".cb-undo-text").inner_text().startswith(f"{task['code']} moved to ")
    assert undo.locator("input[name=next]").input_value() == "/o/task/calendar?month=2031-06"
    assert str(store.get(SYSTEM, "task", task["id"])["due_date"]) == "2031-06-12"
    with page.expect_navigation():
        undo.locator(".cb-undo-button").click()
    assert page.url == f"{site.url}/o/task/calendar?month=2031-06"
    page.locator(f'#cb-cal-grid .cb-cal-day[data-date="2031-06-10"] .cb-cal-item[data-id="{task["id"]}"]').wait_for()
    assert str(store.get(SYSTEM, "task", task["id"])["due_date"]) == "2031-06-10"
    assert page.js_errors == []
