"""The report designer's filter is the end-user lists' visual filter builder (issue 15,
point 3): a condition with a choice picker ("is one of" Won, Lost), a second one on the
owner with the current user ("me") and-ed in a nested group with a date condition, "any
condition" for the outer or-group; the pivot follows
live, and the saved report holds the filter in the one filter language and figures what
the engine figures for it; the builder fits a phone's width."""
from __future__ import annotations

import re

from cardbase.report_builder import library
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.store.records import RecordStore

WANTED = {"or": [{"field": "stage", "op": "in", "value": ["won", "lost"]},
                 {"and": [{"field": "owner", "op": "eq", "value": "me"},
                          {"field": "expected_close", "op": "is_not_empty"}]}]}


def _pivot_rows(page) -> list[str]:
    return [t.strip() for t in page.locator("#cb-pivot tbody tr th").all_inner_texts()]


def test_build_a_report_filter_with_the_filter_builder(page, login, site, screenshot, new_page):
    login(page, "admin")
    page.goto(f"{site.url}/reports/new?object=deal")
    page.select_option("#cb-add-rows", "stage")
    page.click("#cb-add-rows-button")
    page.wait_for_function("() => document.querySelectorAll('#cb-pivot tbody tr').length > 3")
    everything = _pivot_rows(page)
    first = page.locator("#cb-filter-rows .cb-filter-row").first              # the builder's starter row
    first.locator(".cb-f-field").select_option("stage")
    first.locator(".cb-f-op").select_option("in")
    first.locator(".cb-f-value select").select_option(["won", "lost"])        # the value picker of a choice
    page.wait_for_function("() => { const t = [...document.querySelectorAll('#cb-pivot tbody tr th')]"
                           ".map(th => th.textContent.trim()); return t.length === 3 && t.includes('Won'); }")
    assert _pivot_rows(page) == ["Won", "Lost", "Total"]
    page.click("#cb-filter-add-group")                                          # + a nested group ...
    group = page.locator("#cb-filter-rows .cb-filter-group").first
    group.locator(".cb-g-match").select_option("and")                          # ... "all of"
    second = group.locator(".cb-filter-row").first
    second.locator(".cb-f-field").select_option("owner")
    second.locator(".cb-f-op").select_option("eq")
    second.locator(".cb-f-value input").fill("me")                             # the current user
    group.locator(".cb-g-add").click()
    third = group.locator(".cb-filter-row").nth(1)
    third.locator(".cb-f-field").select_option("expected_close")
    third.locator(".cb-f-op").select_option("is_not_empty")
    page.select_option("#cb-filter-match", "or")                               # any condition: an or-group
    page.fill("#cb-report-title", "Closed or mine")
    page.click("#cb-save")
    page.wait_for_url(re.compile(r".*/reports/\d+$"))
    assert page.js_errors == []
    report_id = int(page.url.rsplit("/", 1)[1])
    with RecordStore(site.db).session(site.actor("admin")) as s:
        report = library.get_report(s, report_id)
        result = run_report(s, library.load_definition(s, report))
    assert report["definition"]["filter"] == WANTED
    rows = [r for r in _pivot_rows(page) if r != "Total"]
    assert {"Won", "Lost"} <= set(rows) and len(rows) <= len(everything)
    total = page.inner_text("#cb-pivot tbody tr:last-child td:last-child").replace(",", "")
    assert int(total) == result.total[0]
    page.goto(f"{site.url}/reports/{report_id}/edit")                          # the builder shows it again
    page.wait_for_selector("#cb-filter-rows .cb-filter-row >> nth=1")
    assert page.locator("#cb-filter-match").input_value() == "or"
    assert page.locator("#cb-filter-rows .cb-filter-row").nth(1).locator(".cb-f-value input").input_value() == "me"
    screenshot(page, "report_filter_builder")
    phone = new_page(viewport={"width": 390, "height": 844})                 # the builder fits a phone
    login(phone, "admin", ready=".navbar-toggler")
    phone.goto(f"{site.url}/reports/{report_id}/edit")
    phone.wait_for_selector("#cb-filter-rows .cb-filter-row >> nth=1")
    assert phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert phone.locator("#cb-filter-rows .cb-filter-row").first.bounding_box()["width"] <= 390
    screenshot(phone, "report_filter_builder_phone")
