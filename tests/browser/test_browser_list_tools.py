"""Issue 14, point 9, in Chromium: ticked rows exported in one click, the filter builder's
relative dates, a calendar entry dragged to another day, and "+ New" inside a link picker
choosing the record it creates."""
from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore


def test_export_selected_downloads_only_the_ticked_rows(page, site, login):
    login(page, "sam")
    page.goto(f"{site.url}/o/deal?sort=title&cols=title,stage")
    boxes = page.locator("input.cb-row-select")
    boxes.nth(1).check()
    boxes.nth(3).check()
    titles = [page.locator("#cb-list-table tbody tr").nth(i).locator("td").first.inner_text().strip() for i in (1, 3)]
    assert page.locator("#cb-bulk-export-csv").is_visible()
    with page.expect_download() as info:
        page.click("#cb-bulk-export-csv")
    rows = list(csv.reader(io.StringIO(open(info.value.path(), encoding="utf-8-sig").read())))
    assert [r[0] for r in rows[1:]] == titles
    assert page.js_errors == []


def test_the_filter_builder_offers_next_n_days(page, site, login):
    login(page, "sam")
    page.goto(f"{site.url}/o/deal")
    page.click("#cb-filter-toggle")
    page.wait_for_selector("#cb-filter-panel.show")
    row = page.locator(".cb-filter-row").first
    row.locator(".cb-f-field").select_option("expected_close")
    row.locator(".cb-f-op").select_option("next_days")
    days = row.locator("input.cb-f-days")
    assert days.input_value() == "7"
    days.fill("30")
    with page.expect_navigation():
        page.locator("#cb-filter-form button[type=submit]").first.click()
    sent = json.loads(parse_qs(urlparse(page.url).query)["filter"][0])
    assert sent == {"field": "expected_close", "op": "next_days", "value": 30}
    row.locator(".cb-f-op").select_option("overdue")
    assert page.locator(".cb-filter-row .cb-f-value input").count() == 0  # no value to enter
    assert page.js_errors == []


def test_drag_a_calendar_entry_to_another_day(page, site, login):
    store = RecordStore(site.db)
    deal = store.list(SYSTEM, "deal", ListQuery(sort="expected_close", limit=1,
                                                filter={"field": "expected_close", "op": "is_not_empty"})).data[0]
    day = deal["expected_close"]
    target = day + timedelta(days=1) if day.day < 28 else day - timedelta(days=1)
    login(page, "sam")
    page.goto(f"{site.url}/o/deal/calendar/expected_close?month={day:%Y-%m}")
    item = page.locator(f'#cb-cal-grid .cb-cal-item[data-id="{deal["id"]}"]')
    page.drag_and_drop(f'#cb-cal-grid .cb-cal-item[data-id="{deal["id"]}"]',
                       f'#cb-cal-grid .cb-cal-day[data-date="{target.isoformat()}"]')
    page.wait_for_function("() => !document.querySelector('.cb-cal-item.cb-saving')")
    page.wait_for_selector("#cb-cal-undo:not(.d-none)")
    assert item.evaluate("el => el.closest('.cb-cal-day').dataset.date") == target.isoformat()
    assert store.get(SYSTEM, "deal", deal["id"])["expected_close"] == target
    assert page.js_errors == []


def test_new_inside_a_link_picker_chooses_what_it_creates(page, site, login):
    login(page, "sam")
    page.goto(f"{site.url}/o/deal/new")
    with page.expect_popup() as info:
        page.click('a.cb-link-new[data-pick="cb-f-organisation"]')
    popup = info.value
    popup.wait_for_selector("#cb-f-name")
    popup.fill("#cb-f-name", "Picked Anew GmbH")
    popup.click("#cb-save")
    popup.wait_for_event("close")
    page.wait_for_function("() => document.querySelector('#cb-f-organisation').value === 'Picked Anew GmbH'")
    chosen = page.locator('input[name="f-organisation"]').input_value()
    created = [r for r in RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=500)).data
               if r["name"] == "Picked Anew GmbH"]
    assert len(created) == 1 and chosen == str(created[0]["id"])
    assert page.js_errors == []


def _choose(page, text_input: str, typed: str) -> None:
    """Type into a link picker and take its first offer."""
    page.fill(text_input, typed)
    page.wait_for_selector(f"{text_input} ~ .cb-link-list.show button")
    page.click(f"{text_input} ~ .cb-link-list.show button >> nth=0")


def test_rows_added_on_a_new_card_are_saved_with_it(page, site, login):
    login(page, "sam")
    page.goto(f"{site.url}/o/order/new")
    page.fill("#cb-f-order_date", "2026-12-03")
    page.select_option("#cb-f-status", index=1)
    _choose(page, "#cb-f-organisation", "a")
    page.click(".cb-pending-add")
    page.click(".cb-pending-add")
    rows = page.locator("tr.cb-row-pending")
    assert rows.count() == 2
    rows.nth(1).locator(".cb-pending-remove").click()  # one added too many
    assert rows.count() == 1
    page.fill("#cb-pend-order_line-order-0-quantity", "3")
    _choose(page, "#cb-pend-order_line-order-0-product", "a")
    with page.expect_navigation():
        page.click("#cb-save")
    assert "/o/order/" in page.url and "/new" not in page.url, page.url
    order_id = int(page.url.rstrip("/").split("/")[-1].split("?")[0])
    lines = RecordStore(site.db).list(SYSTEM, "order_line", ListQuery(
        filter={"field": "order", "op": "eq", "value": order_id})).data
    assert [str(line["quantity"]) for line in lines] == ["3.00"]
    assert page.js_errors == []
