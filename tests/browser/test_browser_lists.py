"""The list view in a real browser: filter through the builder, sort by clicking a
header, save a view, export with a visible progress indicator, and the phone layout
(rows as stacked cards). Screenshots: list, list-phone."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from cardbase.schema_engine import layouts


def column(page, index: int) -> list[str]:
    return [t.strip() for t in page.locator(f"#cb-list-table tbody tr td:nth-child({index})").all_inner_texts()]


def test_filter_sort_save_view_and_export(page, site, login, screenshot):
    login(page, "sam")
    page.click(".cb-objects .nav-link[data-object=organisation]")
    page.wait_for_selector("#cb-list-table")
    assert page.inner_text("h1") == "Organisations"
    assert page.is_visible("#cb-export")  # sam may export

    # a filter through the builder: Country contains "germ" -- one starter row is there
    page.click("#cb-filter-toggle")
    row = page.locator(".cb-filter-row").first
    row.locator(".cb-f-field").select_option("country")
    row.locator(".cb-f-op").select_option("contains")
    row.locator(".cb-f-value input").fill("germ")
    # and a second condition on a choice field: Industry is not empty
    page.click("#cb-filter-add")
    second = page.locator(".cb-filter-row").nth(1)
    second.locator(".cb-f-field").select_option("industry")
    second.locator(".cb-f-op").select_option("is_not_empty")
    page.click("#cb-filter-apply")
    page.wait_for_selector("#cb-filter-toggle .badge")
    tree = json.loads(parse_qs(urlsplit(page.url).query)["filter"][0])
    assert tree == {"and": [{"field": "country", "op": "contains", "value": "germ"},
                            {"field": "industry", "op": "is_not_empty"}]}
    headings = page.locator("#cb-list-table thead th").all_inner_texts()
    country_col = [h.strip() for h in headings].index("Country") + 1
    countries = column(page, country_col)
    assert len(countries) > 5 and set(countries) == {"Germany"}

    # sort by clicking the Name header: ascending, then descending
    name_col = [h.strip() for h in headings].index("Name") + 1
    page.click("#cb-list-table thead th[data-path=name] a")
    page.wait_for_selector("th[data-path=name][aria-sort=ascending]")
    names = column(page, name_col)
    assert names == sorted(names, key=str.casefold) or names == sorted(names)
    page.click("#cb-list-table thead th[data-path=name] a")
    page.wait_for_selector("th[data-path=name][aria-sort=descending]")
    assert "▼" in page.inner_text("th[data-path=name]")
    descending = column(page, name_col)
    assert descending == sorted(descending, key=str.casefold, reverse=True) or descending == sorted(descending, reverse=True)
    assert json.loads(parse_qs(urlsplit(page.url).query)["filter"][0]) == tree  # the filter stays

    # save it as a personal view
    page.click("#cb-view-menu")
    page.fill("#cb-view-name", "German organisations")
    page.click("#cb-view-save")
    page.wait_for_selector("#cb-current-view")
    assert page.inner_text("#cb-current-view") == "German organisations"
    assert "saved" in page.inner_text(".flash")
    view_id = int(parse_qs(urlsplit(page.url).query)["view"][0])
    view = layouts.get_view(site.db, site.actor("sam"), "organisation", view_id)
    assert view["definition"]["filter"] == tree and view["definition"]["sort"] == "-name"
    assert column(page, name_col) == descending
    total = int(page.inner_text("#cb-count").split()[0].replace(",", ""))
    screenshot(page, "list")

    # export the view: the page shows the progress and then "ready"; the file has the rows
    with page.expect_download() as info:
        page.click("#cb-export")
        page.click("#cb-export-csv")
    page.wait_for_selector("#cb-export-status[data-state=done]")
    assert "Export ready" in page.inner_text("#cb-export-status")
    path = info.value.path()
    text = open(path, encoding="utf-8-sig").read()
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == total + 1 and lines[0].startswith("Name")
    assert lines[1].startswith(descending[0])
    assert page.js_errors == []


def test_phone_width_shows_rows_as_cards(site, new_page, login, screenshot):
    phone = new_page()
    errors = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    login(phone, "junior")  # (the login helper waits for the desktop menu)
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(site.url + "/o/organisation?sort=name&limit=5")
    phone.wait_for_selector("#cb-list-table")
    assert not phone.is_visible("#cb-list-table thead")
    first, second = phone.locator("#cb-list-table tbody tr").nth(0), phone.locator("#cb-list-table tbody tr").nth(1)
    box1, box2 = first.bounding_box(), second.bounding_box()
    assert box2["y"] >= box1["y"] + box1["height"]  # stacked
    assert box1["width"] <= 390
    label = phone.evaluate("getComputedStyle(document.querySelector('#cb-list-table td:nth-child(2)'), '::before').content")
    assert label.strip('"') == phone.locator("#cb-list-table td:nth-child(2)").first.get_attribute("data-label")
    # junior reads only: no New, no Export
    assert phone.locator("#cb-new").count() == 0 and phone.locator("#cb-export").count() == 0
    screenshot(phone, "list-phone")
    assert errors == []


def test_bad_filter_shows_a_message_not_an_error_page(page, site, login):
    login(page, "sam")
    page.goto(site.url + '/o/organisation?filter={"field": "nonsense", "op": "eq", "value": 1}')
    assert "nonsense" in page.inner_text(".cb-list-error")
    assert page.is_visible("#cb-filter-panel")
    assert page.js_errors == []
