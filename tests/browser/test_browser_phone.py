"""Phone width (390 x 844, an iPhone 12-14): the menu collapses behind the toggler, the
list turns into stacked cards, a card into one column, the board scrolls sideways inside
itself (the page never does), the calendar becomes a list by day."""
from __future__ import annotations

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

PHONE = {"width": 390, "height": 844}


def on_phone(page, login):
    login(page, "sam")  # signs in at desktop width (the user menu is visible there)
    page.set_viewport_size(PHONE)
    return page


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def boxes(locator) -> list[dict]:
    return [b for b in (locator.nth(i).bounding_box() for i in range(locator.count())) if b and b["width"] > 0]


def test_the_menu_collapses_behind_the_toggler(page, site, login, screenshot):
    on_phone(page, login)
    page.goto(site.url + "/")
    toggler = page.locator(".navbar-toggler")
    assert toggler.is_visible()
    assert page.locator("#cb-nav").is_hidden()
    assert page.locator(".cb-objects .nav-link").first.is_hidden()
    toggler.click()
    page.locator(".cb-objects .nav-link", has_text="Deals").wait_for()
    page.wait_for_function("() => !document.querySelector('#cb-nav').classList.contains('collapsing')")
    assert page.locator("#cb-user-menu").is_visible()
    screenshot(page, "phone-menu")
    page.locator(".cb-objects .nav-link", has_text="Deals").click()
    page.wait_for_url(site.url + "/o/deal")
    assert page_width(page) <= PHONE["width"]
    assert page.js_errors == []


def test_the_list_shows_stacked_cards(page, site, login, screenshot):
    on_phone(page, login)
    page.goto(site.url + "/o/deal")
    rows = page.locator("#cb-list-table tbody tr")
    rows.first.wait_for()
    assert page.locator("#cb-list-table thead").is_hidden()
    first, second = boxes(rows)[:2]
    assert second["y"] >= first["y"] + first["height"] - 1  # one below the other
    assert first["width"] > PHONE["width"] * 0.8 and first["height"] > 60  # a card of its own, not a table line
    cells = boxes(rows.first.locator("td"))
    assert len({round(c["x"]) for c in cells}) == 1  # the values stack inside the card
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "phone-list")
    assert page.js_errors == []


def test_a_card_shows_one_column(page, site, login, screenshot):
    deal = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(limit=1)).data[0]
    on_phone(page, login)
    page.goto(f"{site.url}/o/deal/{deal['id']}")
    fields = page.locator(".cb-tab.active .cb-field, .cb-card-layout > div > .cb-tab .cb-field")
    fields.first.wait_for()
    shown = boxes(fields)
    assert len(shown) >= 3
    assert len({round(b["x"]) for b in shown}) == 1  # every field starts at the same left edge
    assert all(b["width"] > PHONE["width"] * 0.7 for b in shown)
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "phone-card")
    assert page.js_errors == []


def test_the_board_scrolls_sideways_inside_itself(page, site, login, screenshot):
    on_phone(page, login)
    page.goto(site.url + "/o/deal/board")
    board = page.locator("#cb-board")
    board.locator(".cb-board-card").first.wait_for()
    assert page_width(page) <= PHONE["width"]  # the page does not scroll sideways
    scroll = board.evaluate("b => [b.scrollWidth, b.clientWidth]")
    assert scroll[0] > scroll[1] * 3  # six stages side by side
    lane = boxes(page.locator(".cb-lane"))[0]
    assert PHONE["width"] * 0.6 < lane["width"] < PHONE["width"]  # one lane nearly fills the screen
    screenshot(page, "phone-board")
    board.evaluate("b => { b.scrollLeft = b.clientWidth; }")
    assert board.evaluate("b => b.scrollLeft") > 0
    # moving works without dragging: the "Move to" select of a card
    card = board.locator(".cb-board-card").first
    assert card.locator("select[name=value]").is_visible()
    assert page.js_errors == []


def test_the_calendar_becomes_a_list_by_day(page, site, login, screenshot):
    task = RecordStore(site.db).list(SYSTEM, "task", ListQuery(
        filter={"field": "due_date", "op": "is_not_empty"}, sort="due_date", limit=1)).data[0]
    on_phone(page, login)
    page.goto(f"{site.url}/o/task/calendar?month={task['due_date']:%Y-%m}")
    assert page.locator("#cb-cal-grid").is_hidden()
    assert page.locator("#cb-cal-list").is_visible()
    day = page.locator(f'#cb-cal-list section[data-date="{task["due_date"].isoformat()}"]')
    assert day.is_visible() and day.locator(f'.cb-cal-item[data-id="{task["id"]}"]').count() == 1
    assert page_width(page) <= PHONE["width"]
    screenshot(page, "phone-calendar")
    assert page.js_errors == []
