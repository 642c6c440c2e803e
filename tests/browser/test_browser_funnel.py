"""The funnel in Chromium, English and German, at desktop and phone width: each step shows
its share of all the charted records, as the chart's subtitle says -- never above 100 %, also
when a later stage holds more records than the first (sorted by count, ascending)."""
from __future__ import annotations

import re

import pytest

from cardbase.platform import users
from cardbase.report_builder import library
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

HOVER = {"en": "of total", "de": "vom Gesamtwert"}
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
NOTE = {"en": "Percentages: each step's share of the total", "de": "Prozente: Anteil jeder Stufe an der Gesamtsumme"}
FUNNEL = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}],
          "sort": {"by": "measure", "measure": 0, "descending": False}, "chart": {"type": "funnel"}}


@pytest.fixture(scope="module")
def growing_funnel(site):
    """Stages sorted by count, fewest first: every later step holds at least as many deals."""
    with RecordStore(site.db).session(site.actor("admin"), write=True) as s:
        return library.save_report(s, {"name": "Stages, smallest first", "definition": FUNNEL})["id"]


def _percent(text: str, language: str) -> float:
    number = re.search(r"·\s*([\d.,]+)\s*%", text).group(1)
    return float(number.replace(",", ".") if language == "de" else number.replace(",", ""))


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_funnel_steps_show_their_share_of_the_total(page, site, login, screenshot, growing_funnel, language, width):
    users.update_user(site.db, SYSTEM, "admin", language=language)
    try:
        login(page, "admin")
        page.set_viewport_size(WIDTHS[width])
        page.goto(f"{site.url}/reports/{growing_funnel}")
        page.wait_for_selector("#cb-chart .main-svg")
        counts = [int(t.replace(",", "").replace(".", "")) for t in
                  page.locator("#cb-pivot tbody tr:not(:last-child) td").all_inner_texts()]
        assert counts == sorted(counts) and counts[-1] > counts[0]  # later steps hold more records
        texts = page.locator("#cb-chart .point text").all_text_contents()  # "4 · 10.0%"
        assert [int(re.sub(r"\D", "", t.split("·")[0])) for t in texts] == counts
        note = page.locator("#cb-chart .gtitle-subtitle, #cb-chart .g-gtitle").all_text_contents()
        assert any(NOTE[language] in t for t in note), note  # what the percentages mean
        shares = [_percent(t, language) for t in texts]
        assert all(0 < s <= 100 for s in shares), (texts, shares)
        assert abs(sum(shares) - 100) <= 0.1 * len(shares)  # rounded to one decimal
        expected = [round(100 * c / sum(counts), 1) for c in counts]
        assert shares == pytest.approx(expected, abs=0.051)
        step = page.locator("#cb-chart .point path").first.bounding_box()
        page.mouse.move(step["x"] + step["width"] / 2, step["y"] + step["height"] / 2)
        hover = page.locator("#cb-chart .hoverlayer .hovertext")
        hover.wait_for()
        shown = hover.text_content()
        assert HOVER[language] in shown and f": {counts[0]}" in shown  # the step's count and what its share is
        if language == "de":
            assert re.search(r"\d,\d%", texts[0])  # the German decimal comma
        page.locator("#cb-chart").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshot(page, f"funnel-{width}-{language}")))
        assert page.js_errors == []
    finally:
        users.update_user(site.db, SYSTEM, "admin", language="en")
