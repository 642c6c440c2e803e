"""Issue 14, point 8, in Chromium: on German screens at 1280 and 1400 px no search box or
button of the navigation bar and the list toolbar collapses -- each is measured: the
global search box keeps a usable width, every link and button shows its whole text on one
line, and nothing spills out of the bar. Also the list's filter builder takes German dates
(TT.MM.JJJJ) and sends them as ISO."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM

MIN_SEARCH = 160  # px: room for "Alles durchsuchen" and a few typed words

MEASURE = """(selector) => Array.from(document.querySelectorAll(selector)).filter(el => el.offsetParent !== null)
  .map(el => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return {id: el.id || el.className, text: (el.innerText || el.value || el.placeholder || '').trim(),
            width: r.width, height: r.height, right: r.right, top: r.top,
            clipped: el.scrollWidth > el.clientWidth + 1, lineHeight: parseFloat(s.lineHeight) || 24}; })"""


@pytest.fixture
def german(site):
    for name in ("admin", "sam"):
        users.update_user(site.db, SYSTEM, site.users[name], language="de")
    yield site
    for name in ("admin", "sam"):
        users.update_user(site.db, SYSTEM, site.users[name], language="en")


@pytest.mark.parametrize("width", [1280, 1400])
@pytest.mark.parametrize("username", ["admin", "sam"])
def test_nothing_in_the_navbar_or_the_toolbar_collapses(german, page, login, screenshot, width, username):
    page.set_viewport_size({"width": width, "height": 900})
    login(page, username)
    page.goto(f"{german.url}/o/deal")
    page.wait_for_selector("#cb-list-table")
    assert page.evaluate("document.documentElement.lang") == "de"
    screenshot(page, f"german-navbar-{username}-{width}")
    search = page.evaluate(MEASURE, "#cb-global-search")
    assert search and search[0]["width"] >= MIN_SEARCH, search
    objects = page.evaluate("(() => { const el = document.querySelector('.cb-topbar .cb-objects'); "
                            "return {scroll: el.scrollWidth, client: el.clientWidth}; })()")
    assert objects["scroll"] <= objects["client"] + 1, objects  # every object link in view
    items = page.evaluate(MEASURE, ".cb-topbar .nav-link, .cb-topbar .btn, .cb-topbar .navbar-brand")
    items += page.evaluate(MEASURE, "#cb-list .btn, #cb-list .form-select, #cb-list .form-control")
    assert len(items) > 8
    for item in items:
        if not item["text"]:
            continue
        assert item["width"] >= 24, item  # not collapsed
        assert not item["clipped"], item  # the whole text shows
        assert item["height"] < 2 * item["lineHeight"] + 16, item  # on one line
        assert item["right"] <= width + 1, item  # inside the window
    assert page.js_errors == []


def test_the_filter_builder_takes_german_dates(german, page, login):
    login(page, "sam")
    page.goto(f"{german.url}/o/deal")
    page.click("#cb-filter-toggle")
    page.wait_for_selector("#cb-filter-panel.show")
    row = page.locator(".cb-filter-row").first
    row.locator(".cb-f-field").select_option("expected_close")
    row.locator(".cb-f-op").select_option("ge")
    box = row.locator(".cb-f-value input")
    assert box.get_attribute("type") == "text" and box.get_attribute("placeholder") == "TT.MM.JJJJ"
    box.fill("24.12.2026")
    with page.expect_navigation():
        page.locator("#cb-filter-form button[type=submit]").first.click()
    sent = json.loads(parse_qs(urlparse(page.url).query)["filter"][0])
    assert sent == {"field": "expected_close", "op": "ge", "value": "2026-12-24"}
    shown = page.locator(".cb-filter-row .cb-f-value input").first
    assert shown.input_value() == "24.12.2026"  # the saved ISO value shows the German way again
    assert page.js_errors == []
