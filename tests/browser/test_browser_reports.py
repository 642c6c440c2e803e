"""Reports in the browser (issue 15, points 3-5): the designer builds "sum of deal amounts
by stage x quarter" in a handful of steps -- a drag, a keyboard add, a bucket choice, a
value -- with the pivot updating live; the saved report page draws the chart with
plotly.js from the installed package, live filters re-run it without a reload, a click on
a pivot cell opens the list with exactly its records, and it works at phone width."""
from __future__ import annotations

import re

from cardbase.report_builder import library
from cardbase.report_builder.runner import run_report


def test_build_sum_of_amounts_by_stage_and_quarter(page, login, site, screenshot):
    login(page, "admin")
    page.goto(f"{site.url}/reports/new?object=deal")
    page.drag_and_drop('#cb-palette .cb-chip[data-path="stage"]', "#cb-zone-rows")        # 1. drag
    page.select_option("#cb-add-columns", "expected_close")                                # 2. keyboard
    page.focus("#cb-add-columns-button")
    page.keyboard.press("Enter")
    page.select_option('#cb-zone-columns select[aria-label="bucket"]', "quarter")         # 3. bucket
    page.select_option("#cb-add-measures", "amount")                                       # 4. value
    page.click("#cb-add-measures-button")
    page.click('#cb-zone-measures .cb-chip:first-child button[aria-label="Remove"]')     # 5. drop the count
    page.wait_for_function("() => document.querySelector('#cb-pivot th.num a') && "
                           "/Q[1-4] \\d{4}/.test(document.querySelector('#cb-pivot thead').textContent)")
    header = page.inner_text("#cb-pivot thead")
    assert re.search(r"Q[1-4] \d{4}", header) and "Total" in header  # the quarter as the reader says it
    assert page.inner_text("#cb-pivot tbody tr:first-child th") == "Lead"
    page.fill("#cb-report-title", "Amounts by stage and quarter")
    page.click("#cb-save")                                                                 # 6. save
    page.wait_for_url(re.compile(r".*/reports/\d+$"))
    page.wait_for_selector("#cb-chart .main-svg")
    assert page.js_errors == []
    report_id = int(page.url.rsplit("/", 1)[1])
    with _session(site) as s:
        report = library.get_report(s, report_id)
        result = run_report(s, library.load_definition(s, report))
    assert report["definition"]["columns"] == [{"field": "expected_close", "bucket": "quarter"}]
    assert [m["op"] for m in report["definition"]["measures"]] == ["sum"]
    total = page.inner_text("#cb-pivot tbody tr:last-child td:last-child")
    assert total.split(" ")[0].replace(",", "") == f"{next(iter(result.total[0].values())):.2f}"
    screenshot(page, "report_designed")


def _session(site):
    from cardbase.schema_engine.store.records import RecordStore
    return RecordStore(site.db).session(site.actor("admin"))


def test_report_page_live_filter_drill_down_and_phone(page, login, site, screenshot, new_page):
    login(page, "admin")
    with _session(site) as s:
        report = next(r for r in library.list_reports(s) if r["name"] == "Pipeline funnel")
    page.goto(f"{site.url}/reports/{report['id']}")
    page.wait_for_selector("#cb-chart .main-svg")
    assert "/reports/plotly.min.js" in page.content()
    first = page.locator("#cb-pivot tbody tr:first-child td a").first
    count = int(first.inner_text().split(" ")[0].replace(",", ""))
    first.click()
    page.wait_for_url(re.compile(r".*/o/deal\?filter=.*"))
    assert re.search(rf"\b{count}\b", page.inner_text("main"))  # the list counts what the cell counted
    page.go_back()
    page.wait_for_selector("#cb-chart .main-svg")
    with page.expect_download() as download:  # the chart's image download, made in the browser (offline)
        page.hover("#cb-chart")
        page.click('#cb-chart .modebar-btn[data-title^="Download plot"]')
    assert download.value.suggested_filename.endswith(".png")
    step = page.locator("#cb-chart .point path").first.bounding_box()  # a funnel step: its records
    page.mouse.click(step["x"] + step["width"] / 2, step["y"] + step["height"] / 2)
    page.wait_for_url(re.compile(r".*/o/deal\?filter=.*"))
    assert re.search(rf"\b{count}\b", page.inner_text("main"))  # the first step is the first row: Lead
    page.go_back()
    page.wait_for_selector("#cb-chart .main-svg")
    page.select_option("#cb-live-filters select", label="Sam")  # Sam owns no deal: re-run without a reload
    page.wait_for_function("() => document.querySelectorAll('#cb-pivot tbody tr').length === 1")
    assert "owner=" in page.url and page.inner_text("#cb-pivot tbody tr:last-child th") == "Total"
    assert page.js_errors == []
    phone = new_page(viewport={"width": 390, "height": 844})
    login(phone, "admin", ready=".navbar-toggler")
    phone.goto(f"{site.url}/reports/{report['id']}")
    phone.wait_for_selector("#cb-chart .main-svg")
    width = phone.evaluate("() => document.querySelector('#cb-chart .main-svg').getBoundingClientRect().width")
    assert width <= 390
    screenshot(phone, "report_phone")


def test_dashboard_widgets_are_arranged_and_kept(page, login, site, screenshot):
    from cardbase.report_builder import dashboards
    login(page, "admin")
    with _session(site) as s:
        board = next(b for b in dashboards.list_dashboards(s) if b["name"] == "Sales dashboard")
    page.goto(f"{site.url}/dashboards/{board['id']}")
    page.wait_for_selector(".cb-widget-chart .main-svg")
    kinds = page.eval_on_selector_all(".cb-widget", "ws => ws.map(w => w.dataset.kind)")
    assert kinds == ["kpi", "list", "chart", "chart", "chart", "chart"]
    page.click("#cb-arrange")
    with page.expect_response(lambda r: r.url.endswith("/layout") and r.status == 200):
        page.click('.cb-widget:first-child button[data-size="1"]')        # the KPI one column wider
    with page.expect_response(lambda r: r.url.endswith("/layout") and r.status == 200):
        page.click('.cb-widget:first-child button[data-move="1"]')        # and after the list
    page.reload()
    page.wait_for_selector(".cb-widget-chart .main-svg")
    assert page.eval_on_selector_all(".cb-widget", "ws => ws.map(w => w.dataset.kind)")[:2] == ["list", "kpi"]
    assert page.get_attribute('.cb-widget[data-kind="kpi"]', "data-width") == "5"
    assert page.js_errors == []
    screenshot(page, "dashboard_sales")
