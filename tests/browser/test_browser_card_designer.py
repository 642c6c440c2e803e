"""The card and table designers in a real browser: a field dragged into a second
section, another moved with the keyboard controls, saved, and the end-user card shows
the two sections; the table designer's columns, sort and filter saved the same way."""
from __future__ import annotations

import re

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import cards as card_layouts
from cardbase.schema_engine.layouts import tables as table_layouts
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore


def items_of(page, section: str) -> list[str]:
    return page.locator(f'[data-drop="{section}"] > .cb-item').evaluate_all("els => els.map(e => e.dataset.key)")


def test_drag_and_keyboard_arrange_two_sections_and_the_card_shows_them(page, site, login, screenshot):
    login(page, "admin")
    page.goto(site.url + "/designer/objects/organisation/cards/new")
    page.wait_for_selector("#cb-i-f_city")
    page.fill("#cb-card-name", "Two sections")
    page.fill("#cb-s0-0-label", "Company")
    page.click("#cb-t0-add-section")
    page.wait_for_selector('[data-drop="0:1"]')
    assert page.evaluate("document.activeElement.id") == "cb-s0-1-label"  # focus follows the new section
    page.fill("#cb-s0-1-label", "Reach")
    # the mouse: drag City into the empty second section (a tall window: both in view at once)
    page.set_viewport_size({"width": 1280, "height": 2600})
    page.locator("#cb-i-f_city .cb-grip").drag_to(page.locator('[data-drop="0:1"]'))
    assert items_of(page, "0:1") == ["f:city"]
    page.set_viewport_size({"width": 1280, "height": 900})
    # the keyboard: Phone to the second section with its "Move to section" select, then up before City
    page.focus("#cb-i-f_phone-move")
    page.select_option("#cb-i-f_phone-move", "0:1")
    assert page.evaluate("document.activeElement.id") == "cb-i-f_phone-move"
    page.focus("#cb-i-f_phone-up")
    page.keyboard.press("Enter")
    assert items_of(page, "0:1") == ["f:phone", "f:city"]
    assert page.evaluate("document.activeElement.id") == "cb-i-f_phone-up"
    # and Country down one place in the first section, by keyboard too
    first = items_of(page, "0:0")
    at = first.index("f:country")
    page.focus("#cb-i-f_country-down")
    page.keyboard.press("Space")
    assert items_of(page, "0:0")[at + 1] == "f:country"
    # a field removed goes back to the palette and can be added again by keyboard
    page.click("#cb-i-f_website-remove")
    page.wait_for_selector("#cb-p-f_website")
    page.select_option("#cb-palette-target", "0:1")
    page.click("#cb-p-f_website-add")
    assert items_of(page, "0:1") == ["f:phone", "f:city", "f:website"]
    # every control has a label
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('#cb-card-form input:not([type=hidden]), #cb-card-form select, #cb-card-form textarea, #cb-card-form button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id || e.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    # the live preview (a real record) shows the new section
    page.locator("#cb-preview", has_text="Reach").wait_for()
    screenshot(page, "card-designer")
    page.check("#cb-card-default")
    page.click("#cb-card-save")
    page.wait_for_selector(".flash")
    assert "The card Two sections was saved." in page.inner_text(".flash")
    card_id = int(re.search(r"/cards/(\d+)$", page.url).group(1))
    card = card_layouts.get_card(site.db, "organisation", card_id)
    sections = card["layout"]["tabs"][0]["sections"]
    assert [s["label"] for s in sections] == ["Company", "Reach"]
    assert [i["field"] for i in sections[1]["items"]] == ["phone", "city", "website"]
    assert card["is_default"]
    # at phone width the designer stacks into one column, still without errors
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector("#cb-i-f_city")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    screenshot(page, "card-designer-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # the end user's card shows the two sections
    record = RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=1)).data[0]
    page.goto(f"{site.url}/o/organisation/{record['id']}")
    legends = page.locator(".cb-section-legend").all_inner_texts()
    assert legends[:2] == ["Company", "Reach"]
    reach = page.locator("fieldset.cb-section", has=page.locator(".cb-section-legend", has_text="Reach"))
    assert reach.locator('[data-field="city"]').count() == 1
    assert reach.locator('[data-field="name"]').count() == 0
    assert page.js_errors == []


def test_table_designer_saves_columns_sort_and_filter(page, site, login, screenshot):
    login(page, "admin")
    page.goto(site.url + "/designer/objects/deal/table")
    page.wait_for_selector("#cb-table-columns .cb-table-column")
    # a linked field as a column, moved to the front with the keyboard
    page.fill("#cb-table-available-filter", "city")
    page.click("#cb-avail-organisation_city-add")
    for _ in range(10):
        if page.locator("#cb-table-columns > li").first.get_attribute("data-field") == "organisation.city":
            break
        page.focus("#cb-col-organisation_city-up")
        page.keyboard.press("Enter")
    assert page.locator("#cb-table-columns > li").first.get_attribute("data-field") == "organisation.city"
    page.fill("#cb-col-organisation_city-width", "180")
    # sort by amount, descending, as the only level
    while page.locator("#cb-table-sort .cb-sort-level").count():
        page.click("#cb-sort-0-remove")
    page.click("#cb-add-sort")
    page.select_option("#cb-sort-0-field", "amount")
    page.select_option("#cb-sort-0-dir", "desc")
    # the default filter with the condition builder: Stage equals Won
    page.click("#cb-condition-filter .cb-condition-add")
    page.select_option("#cb-condition-filter .cb-condition-field", "stage")
    page.select_option("#cb-condition-filter .cb-condition-op", "eq")
    page.select_option("#cb-condition-filter .cb-condition-value", "won")
    page.fill("#cb-table-page-size", "20")
    screenshot(page, "table-designer")
    page.click("#cb-table-save")
    page.wait_for_selector(".flash")
    table = table_layouts.default_table(site.db, "deal")
    assert table["columns"][0] == {"field": "organisation.city", "width": 180}
    assert table["sort"] == "-amount"
    assert table["filter"] == {"field": "stage", "op": "eq", "value": "won"}
    assert table["page_size"] == 20
    assert page.js_errors == []


def test_rules_are_built_with_the_condition_builder(page, site, login, screenshot):
    login(page, "admin")
    page.goto(site.url + "/designer/objects/deal/fields/expected_close/rules")
    box = page.locator("#cb-condition-required_when")
    box.locator(".cb-condition-add").click()
    box.locator(".cb-condition-field").select_option("stage")
    box.locator(".cb-condition-op").select_option("eq")
    box.locator(".cb-condition-value").select_option("won")
    box.locator(".cb-condition-add").click()
    rows = box.locator(".cb-condition-row")
    assert rows.count() == 2
    rows.nth(1).locator(".cb-condition-field").select_option("amount")
    rows.nth(1).locator(".cb-condition-op").select_option("gt")
    rows.nth(1).locator(".cb-condition-value").fill("1000")
    box.locator(".cb-condition-join").select_option("or")
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('main input:not([type=hidden]), main select, main textarea, main button')]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim()).map(e => e.id || e.outerHTML.slice(0, 80))""")
    assert unlabelled == []
    screenshot(page, "field-rules")
    page.click("#cb-rules-save")
    page.wait_for_selector(".flash")
    field = site.db.schema().object("deal").field("expected_close")
    try:
        assert "Stage = won or Amount > 1000" in page.inner_text("main")
        assert set(field.rules) == {"required_when"}
        # the saved rule comes back into the builder; removing its rows clears it
        page.goto(site.url + "/designer/objects/deal/fields/expected_close/rules")
        assert box.locator(".cb-condition-row").count() == 2
        box.locator(".cb-condition-remove").first.click()
        box.locator(".cb-condition-remove").first.click()
        page.click("#cb-rules-save")
        page.wait_for_selector(".flash")
        assert not site.db.schema().object("deal").field("expected_close").rules
    finally:
        from cardbase.schema_engine.schema_service import SchemaService
        SchemaService(site.db).update_field(SYSTEM, "deal", "expected_close", {"rules": None})
    assert page.js_errors == []
