"""Icons the user sees are drawn, not guessed from a font: the header bell is an inline SVG
with an accessible name (Debian's Chromium has no emoji font and drew the old emoji as an
empty box), at desktop and phone width, in English and German."""
from __future__ import annotations

import pytest

from cardbase.automation.notifications import mark_read, notify
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights import admin as rights_admin

PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": PHONE}
NAMES = {"en": "Notifications: 2 unread", "de": "Benachrichtigungen: 2 ungelesen"}


@pytest.fixture
def sam_has_two_notes(site):
    with site.db.write() as conn:
        mark_read(conn, site.users["sam"])
        notify(conn, [site.users["sam"]], "info", "First note")
        notify(conn, [site.users["sam"]], "info", "Second note")
    yield
    users.update_user(site.db, SYSTEM, "sam", language="en")


def _bell_facts(page) -> dict:
    return page.evaluate("""() => {
      const bell = document.querySelector('#cb-bell');
      const svg = bell.querySelector('svg.cb-icon-bell');
      const box = svg ? svg.getBoundingClientRect() : null;
      return {label: bell.getAttribute('aria-label'), svg: !!svg,
              hidden: svg ? svg.getAttribute('aria-hidden') : null,
              width: box ? box.width : 0, height: box ? box.height : 0,
              paths: svg ? svg.querySelectorAll('path').length : 0,
              fill: svg ? getComputedStyle(svg).fill : '',
              text: bell.textContent};
    }""")


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_bell_is_an_inline_svg_with_a_name(page, site, login, screenshot, sam_has_two_notes, language, width):
    users.update_user(site.db, SYSTEM, "sam", language=language)
    login(page, "sam")
    page.set_viewport_size(WIDTHS[width])
    page.goto(site.url + "/tasks")
    if width == "phone":
        page.locator(".navbar-toggler").click()
        page.wait_for_function("() => !document.querySelector('#cb-nav').classList.contains('collapsing')")
    page.locator("#cb-bell").wait_for()
    facts = _bell_facts(page)
    assert facts["svg"] and facts["paths"] == 1 and facts["hidden"] == "true"
    assert facts["width"] >= 12 and facts["height"] >= 12  # drawn at text size, not collapsed
    assert facts["label"] == NAMES[language]
    assert all(ord(c) < 0x2000 for c in facts["text"])  # no emoji or symbol glyph left in the link
    assert page.locator("#cb-bell-count").inner_text().strip() == "2"
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTHS[width]["width"]
    screenshot(page, f"bell-{width}-{language}")
    assert page.js_errors == []


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_a_restricted_link_shows_a_drawn_lock(page, site, login, screenshot, language, width):
    """The lock before "restricted" (a link to a record the reader may not see) was the
    emoji U+1F512 in a CSS ::before; it is an inline SVG now."""
    rights_admin.set_object_rights(site.db, SYSTEM, "Junior", "organisation", [])
    users.update_user(site.db, SYSTEM, "junior", language=language)
    try:
        login(page, "junior")
        page.set_viewport_size(WIDTHS[width])
        page.goto(site.url + "/o/deal")
        cell = page.locator(".cb-restricted").first
        cell.wait_for()
        assert cell.inner_text().strip() == {"en": "restricted", "de": "eingeschränkt"}[language]
        box = cell.locator("svg.cb-icon-lock").bounding_box()
        assert box and box["width"] >= 12 and box["height"] >= 12
        text = cell.bounding_box()
        assert text["height"] < 2 * box["height"]  # the lock stays on the line of its word
        assert page.evaluate("getComputedStyle(document.querySelector('.cb-restricted'), '::before').content") == "none"
        cell.scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot(page, f"restricted-lock-{width}-{language}")))  # the visible screen
        assert page.js_errors == []
    finally:
        rights_admin.set_object_rights(site.db, SYSTEM, "Junior", "organisation", ["read"])
        users.update_user(site.db, SYSTEM, "junior", language="en")
