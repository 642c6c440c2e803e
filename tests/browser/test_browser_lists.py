"""The list view in a real browser: filter through the builder, sort by clicking a
header, save a view, export with a visible progress indicator, and the phone layout
(rows as stacked cards). Screenshots: list, list-phone."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from cardbase.platform import users
from cardbase.schema_engine import layouts
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import MAX_BULK, RecordStore

EXPORT_ROWS = 3000


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


# ---- a long export shows its progress ------------------------------------------------------------
@pytest.fixture(scope="module")
def ledger(site) -> str:
    """An object of EXPORT_ROWS records (made with the store's bulk path) that Sales may export."""
    SchemaService(site.db).create_object(SYSTEM, {
        "name": "ledger_entry", "label": "Ledger entry", "label_plural": "Ledger entries", "fields": [
            {"name": "name", "label": "Name", "type": "string"},
            {"name": "amount", "label": "Amount", "type": "integer"},
            {"name": "memo", "label": "Memo", "type": "string"}]})
    rights_admin.set_object_rights(site.db, SYSTEM, "Sales", "ledger_entry", ("read", "export"))
    store = RecordStore(site.db)
    rows = [{"name": f"Entry {i:05d}", "amount": i, "memo": f"Posting {i} of the ledger, for the export test"}
            for i in range(EXPORT_ROWS)]
    for start in range(0, len(rows), MAX_BULK):
        store.bulk_create(SYSTEM, "ledger_entry", rows[start:start + MAX_BULK])
    return "ledger_entry"


WATCH_EXPORT = """() => {
  const box = document.getElementById("cb-export-status");
  const bar = document.getElementById("cb-export-progress");
  window.__exportLog = [];
  const snap = () => window.__exportLog.push({
    state: box.getAttribute("data-state"), shown: !box.classList.contains("d-none"),
    text: document.getElementById("cb-export-text").textContent,
    value: bar.hasAttribute("value") ? bar.value : null, bar: !bar.classList.contains("d-none"),
    spinner: !document.getElementById("cb-export-spinner").classList.contains("d-none")});
  new MutationObserver(snap).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def throttle(page, bytes_per_second: int) -> None:
    """Slow the browser's network down (Chromium's own throttling, as in its dev tools), so
    a download takes long enough to watch it."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "connectionType": "ethernet",
                                                   "downloadThroughput": bytes_per_second,
                                                   "uploadThroughput": bytes_per_second})


def export_with_progress(page, fmt: str) -> tuple[list[dict], str]:
    """Start the export in ``fmt``; the progress states the page showed, and the file."""
    page.evaluate(WATCH_EXPORT)
    with page.expect_download(timeout=60_000) as info:
        page.click("#cb-export")
        page.click(f"#cb-export-{fmt}")
    page.wait_for_selector("#cb-export-status[data-state=done]", timeout=60_000)
    return page.evaluate("window.__exportLog"), info.value.path()


def running(log: list[dict]) -> list[dict]:
    """The states shown while the file was on its way, with a known share done."""
    return [s for s in log if s["state"] == "running" and s["value"] is not None and 0 < s["value"] < 100]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_long_export_shows_its_progress_before_it_is_ready(page, site, login, ledger, fmt):
    login(page, "sam")
    page.goto(f"{site.url}/o/{ledger}?sort=name&cols=name,amount,memo")
    page.wait_for_selector("#cb-list-table")
    assert page.is_hidden("#cb-export-status")
    throttle(page, 48 * 1024)  # CSV ~240 KB, XLSX ~90 KB: a few seconds each
    log, path = export_with_progress(page, fmt)
    assert log[0]["state"] == "running" and log[0]["shown"] and log[0]["text"] == "Preparing the export…"
    during = running(log)
    assert len(during) >= 3, log
    assert all(s["shown"] and s["bar"] and s["spinner"] for s in during), during
    values = [s["value"] for s in during]
    assert values == sorted(values) and values[0] < 50, values  # the bar grows from the start
    if fmt == "csv":
        counts = []
        for s in during:
            m = re.fullmatch(r"([\d,]+) of about ([\d,]+) rows exported", s["text"])
            assert m and m.group(2) == f"{EXPORT_ROWS:,}", s
            counts.append(int(m.group(1).replace(",", "")))
            assert s["value"] == pytest.approx(100 * counts[-1] / EXPORT_ROWS)
        assert counts == sorted(counts) and 0 < counts[0] < EXPORT_ROWS, counts
    else:
        assert all(re.fullmatch(r"[\d,]+ KB received", s["text"]) for s in during), during
    done = log[-1]
    assert done["state"] == "done" and done["value"] == 100 and not done["spinner"]
    assert re.fullmatch(r"Export ready: ledger-entries-\d{4}-\d\d-\d\d\." + fmt, done["text"]), done
    # and the file holds every row
    if fmt == "csv":
        lines = [line for line in open(path, encoding="utf-8-sig").read().splitlines() if line]
        assert len(lines) == EXPORT_ROWS + 1 and lines[1].startswith("Entry 00000")
    else:
        with open(path, "rb") as fh:  # (openpyxl goes by the name's extension; the download has none)
            rows = list(load_workbook(fh, read_only=True).active.iter_rows(values_only=True))
        assert len(rows) == EXPORT_ROWS + 1 and rows[-1][:2] == (f"Entry {EXPORT_ROWS - 1:05d}", EXPORT_ROWS - 1)
    assert page.js_errors == []


def _stages(site, ids: list[int]) -> list[str]:
    return [RecordStore(site.db).get(SYSTEM, "deal", i)["stage"] for i in ids]


def test_bulk_change_of_two_rows_and_undo(site, page, new_page, login, screenshot):
    """Tick two deals, set their Stage for both, see "2 records changed. Undo", undo: the
    old stages are back. Screenshots at desktop and phone width, English and German."""
    login(page, "sam")
    page.set_viewport_size({"width": 1400, "height": 900})
    url = site.url + "/o/deal?sort=title&cols=title,stage,amount,organisation&limit=10"
    page.goto(url)
    page.wait_for_selector("#cb-list-table")
    assert page.locator("#cb-bulk-form.cb-bulk-idle").count() == 1  # no row ticked: no toolbar
    assert not page.is_visible("#cb-bulk-form")
    rows = page.locator("#cb-list-table tbody tr")
    ids = [int(rows.nth(i).get_attribute("data-id")) for i in range(2)]
    before = _stages(site, ids)
    target = "won" if "won" not in before else "lost"
    # by keyboard: tab to the first tick box, space ticks it
    page.locator("#cb-select-%d" % ids[0]).focus()
    page.keyboard.press("Space")
    page.check("#cb-select-%d" % ids[1])
    page.wait_for_selector("#cb-bulk-form:not(.cb-bulk-idle)")
    assert page.inner_text("#cb-bulk-count") == "2 records selected"
    assert page.get_attribute("#cb-select-all", "aria-label") == "Select all on this page"
    assert page.evaluate("document.getElementById('cb-select-all').indeterminate")
    page.select_option("#cb-bulk-field", "stage")
    assert page.is_visible("#cb-bulk-v-stage") and not page.is_visible("#cb-bulk-v-title")
    page.select_option("#cb-bulk-v-stage", target)
    screenshot(page, "list-bulk-selected")
    page.click("#cb-bulk-apply")
    page.wait_for_selector(".cb-undo")
    assert page.inner_text(".cb-undo-text") == "2 records changed."
    assert "sort=title" in page.url and "limit=10" in page.url  # the same list
    assert _stages(site, ids) == [target, target]
    screenshot(page, "list-bulk-changed")
    page.click(".cb-undo-button")
    page.wait_for_selector(".flash:has-text('Undone.')")
    assert _stages(site, ids) == before
    stage_col = [h.strip() for h in page.locator("#cb-list-table thead th").all_inner_texts()].index("Stage") + 1
    shown = [t.strip() for t in page.locator(
        f"#cb-list-table tbody tr td:nth-child({stage_col})").all_inner_texts()][:2]
    labels = {"lead": "Lead", "qualified": "Qualified", "proposal": "Proposal", "negotiation": "Negotiation",
              "won": "Won", "lost": "Lost"}
    assert [s.casefold() for s in shown] == [labels.get(b, b).casefold() for b in before]
    assert page.js_errors == []

    # phone width: the tick box sits on each card, the toolbar wraps; then German
    phone = new_page()
    errors: list[str] = []
    phone.on("pageerror", lambda exc: errors.append(str(exc)))
    login(phone, "sam")
    phone.set_viewport_size({"width": 390, "height": 844})
    phone.goto(url)
    phone.wait_for_selector("#cb-list-table")
    phone.check("#cb-select-%d" % ids[0])
    phone.wait_for_selector("#cb-bulk-form:not(.cb-bulk-idle)")
    assert phone.is_visible("#cb-select-all-phone")
    phone.check("#cb-select-all-phone")
    assert phone.inner_text("#cb-bulk-count") == "10 records selected"
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing sticks out sideways
    screenshot(phone, "list-bulk-phone")
    users.update_user(site.db, SYSTEM, "sam", language="de")
    try:
        phone.goto(url)
        phone.wait_for_selector("#cb-list-table")
        phone.check("#cb-select-%d" % ids[0])
        phone.check("#cb-select-%d" % ids[1])
        assert phone.inner_text("#cb-bulk-count") == "2 Datensätze ausgewählt"
        screenshot(phone, "list-bulk-phone-de")
        page.goto(url)
        page.wait_for_selector("#cb-list-table")
        page.check("#cb-select-%d" % ids[0])
        page.check("#cb-select-%d" % ids[1])
        page.select_option("#cb-bulk-field", "stage")
        screenshot(page, "list-bulk-selected-de")
    finally:
        users.update_user(site.db, SYSTEM, "sam", language="en")
    assert errors == []
