"""The card and table designers in a real browser: a field dragged into a second
section, another moved with the keyboard controls, saved, and the end-user card shows
the two sections; tabs, a child part set, a related list and a second column the same
way; the table designer's columns, sort and filter saved and followed by the end user's
list; rules built with the condition builder and mirrored by the card as the user types."""
from __future__ import annotations

import re
from typing import Any

from designer_browserlib import focused_id, items_of

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import cards as card_layouts
from cardbase.schema_engine.layouts import tables as table_layouts
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


def save_card(page: Any, site: Any, object_name: str, name: str) -> dict[str, Any]:
    """Press Save on the card designer; the card as stored once the page says it was saved."""
    page.click("#cb-card-save")
    page.wait_for_selector(".flash")
    assert f"The card {name} was saved." in page.inner_text(".flash")
    card_id = int(re.search(r"/cards/(\d+)$", page.url).group(1))
    return card_layouts.get_card(site.db, object_name, card_id)


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
    unlabelled = page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 80))""",
                               "#cb-card-form input:not([type=hidden]), #cb-card-form select, #cb-card-form textarea, "
                               "#cb-card-form button")
    assert unlabelled == []
    # the live preview (a real record) shows the new section
    page.locator("#cb-preview", has_text="Reach").wait_for()
    screenshot(page, "card-designer")
    page.check("#cb-card-default")
    card = save_card(page, site, "organisation", "Two sections")
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


def test_tabs_lists_and_a_second_column_are_designed_and_the_card_shows_them(page, site, login, screenshot):
    """A second tab; a section moved into it; a third tab added and removed; the child part
    set (contacts) dragged from the palette and a related list (deals) placed by its Add
    button; a field dragged into a two-column section and put in its second column."""
    login(page, "admin")
    page.set_viewport_size({"width": 1280, "height": 4000})  # every drop zone in view for the mouse
    page.goto(site.url + "/designer/objects/organisation/cards/new")
    page.wait_for_selector("#cb-i-f_city")
    page.fill("#cb-card-name", "Tabbed")
    contacts, deals = "l:contact_person.organisation", "l:deal.organisation"
    assert {contacts, deals} <= set(items_of(page, "0:0"))  # the generated card has every list
    page.click("#cb-i-l_contact_person_organisation-remove")
    page.click("#cb-i-l_deal_organisation-remove")
    assert page.locator("#cb-p-l_contact_person_organisation").count() == 1  # back in the palette
    # a second tab
    page.click("#cb-add-tab")
    page.wait_for_selector('[data-drop="1:0"]')
    assert focused_id(page) == "cb-t1-label"
    page.fill("#cb-t0-label", "Company")
    page.fill("#cb-t1-label", "People")
    page.fill("#cb-s1-0-label", "Lists")
    # the child part set by the mouse, the related list by the palette's Add button
    page.locator("#cb-p-l_contact_person_organisation").drag_to(page.locator('[data-drop="1:0"]'))
    page.select_option("#cb-palette-target", "1:0")
    page.click("#cb-p-l_deal_organisation-add")
    assert items_of(page, "1:0") == [contacts, deals]
    # a new section on the first tab, then moved down into the second tab
    page.click("#cb-t0-add-section")
    page.fill("#cb-s0-1-label", "Reach")
    page.select_option("#cb-i-f_phone-move", "0:1")
    page.click("#cb-s0-1-down")
    assert focused_id(page) == "cb-s1-0-down"  # focus follows the section
    assert page.input_value("#cb-s1-0-label") == "Reach" and page.input_value("#cb-s1-1-label") == "Lists"
    # two columns; Website dragged in and put into the second column
    page.select_option("#cb-s1-0-columns", "2")
    zone = page.locator('[data-drop="1:0"]')
    bottom = zone.bounding_box()["height"] - 3  # dropped below Phone, so after it
    page.locator("#cb-i-f_website .cb-grip").drag_to(zone, target_position={"x": 40, "y": bottom})
    assert items_of(page, "1:0") == ["f:phone", "f:website"]
    page.select_option("#cb-i-f_website-column", "2")
    # a third tab, removed again
    page.click("#cb-add-tab")
    page.wait_for_selector("#cb-t2-remove")
    page.click("#cb-t2-remove")
    assert page.locator("#cb-card-designer .cb-tab").count() == 2
    assert focused_id(page) == "cb-add-tab"
    page.locator("#cb-preview", has_text="Reach").wait_for()
    screenshot(page, "card-designer-tabs")
    card = save_card(page, site, "organisation", "Tabbed")
    tabs = card["layout"]["tabs"]
    assert [t["label"] for t in tabs] == ["Company", "People"]
    assert [s["label"] for s in tabs[1]["sections"]] == ["Reach", "Lists"]
    reach, lists = tabs[1]["sections"]
    assert reach["columns"] == 2
    assert [(i["field"], i["column"]) for i in reach["items"]] == [("phone", 1), ("website", 2)]
    assert [(i.get("children") or i.get("related"))["object"] for i in lists["items"]] == ["contact_person", "deal"]
    assert "children" in lists["items"][0] and "related" in lists["items"][1]

    # the end user's card, with this layout
    record = RecordStore(site.db).list(SYSTEM, "contact_person", ListQuery(limit=1)).data[0]
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{site.url}/o/organisation/{record['organisation'].id}?card={card['id']}")
    assert page.locator(".cb-card-tabs .nav-link").all_inner_texts()[:2] == ["Company", "People"]
    page.click(".cb-card-tabs .nav-link:text-is('People')")
    page.wait_for_selector(".cb-card-tabs .nav-link.active:text-is('People')")
    pane = page.locator(".tab-pane.active.show")  # shown once Bootstrap's fade is done
    pane.locator("section[data-kind=children]").wait_for()
    columns = pane.locator("fieldset.cb-section").first.locator(".cb-column")
    assert columns.count() == 2
    assert columns.nth(0).locator("[data-field]").evaluate_all("els => els.map(e => e.dataset.field)") == ["phone"]
    assert columns.nth(1).locator("[data-field]").evaluate_all("els => els.map(e => e.dataset.field)") == ["website"]
    assert pane.locator("section[data-kind=children] .cb-part-table tbody tr").count() >= 1  # the contacts
    assert pane.locator("section[data-kind=related]").count() == 1
    assert page.locator(".tab-pane:not(.active) section[data-kind=children]").count() == 0
    screenshot(page, "card-tabs-end-user")
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
    # the end user's list follows the design: the linked column first at its width, won deals only
    page.goto(site.url + "/o/deal")
    city = page.locator('#cb-list-table th[data-path="organisation.city"]')
    assert page.locator("#cb-list-table thead th[data-path]").first.get_attribute("data-path") == "organisation.city"
    assert city.evaluate("th => th.style.width") == "180px"
    assert abs(city.bounding_box()["width"] - 180) <= 1
    stages = page.locator('#cb-list-table tbody td[data-label="Stage"]').all_inner_texts()
    assert stages and set(stages) == {"Won"}
    won = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(filter=table["filter"], sort="-amount,id", limit=20))
    ids = page.locator("#cb-list-table tbody tr[data-id]").evaluate_all("rows => rows.map(r => Number(r.dataset.id))")
    assert ids == [r["id"] for r in won.data]  # the designed filter and sort, page size 20
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
    unlabelled = page.evaluate("""(selector) => [...document.querySelectorAll(selector)]
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
        .map(e => e.id || e.outerHTML.slice(0, 80))""",
                               "main input:not([type=hidden]), main select, main textarea, main button")
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
        SchemaService(site.db).update_field(SYSTEM, "deal", "expected_close", {"rules": None})
    assert page.js_errors == []


def build_rule(page: Any, site: Any, object_name: str, field: str, kind: str, path: str, op: str, value: str) -> None:
    """Give ``field`` the one-condition rule ``kind`` with the designer's condition builder."""
    page.goto(f"{site.url}/designer/objects/{object_name}/fields/{field}/rules")
    box = page.locator(f"#cb-condition-{kind}")
    box.locator(".cb-condition-add").click()
    box.locator(".cb-condition-field").select_option(path)
    box.locator(".cb-condition-op").select_option(op)
    box.locator(".cb-condition-value").fill(value)
    page.click("#cb-rules-save")
    page.wait_for_selector(".flash")
    assert kind in site.db.schema().object(object_name).field(field).rules


def test_the_card_mirrors_read_only_and_required_rules_while_the_user_types(page, site, login):
    """Rules made in the designer on a number (Amount) and a text (Title) take effect on the
    end user's card keystroke by keystroke, not only when a select changes."""
    login(page, "admin")
    try:
        build_rule(page, site, "deal", "probability", "readonly_when", "amount", "gt", "10000")
        build_rule(page, site, "deal", "expected_close", "required_when", "title", "contains", "urgent")
        page.goto(f"{site.url}/o/deal/new")
        probability = page.locator('.cb-field[data-field="probability"]')
        close = page.locator('.cb-field[data-field="expected_close"]')
        assert not page.is_disabled("#cb-f-probability")
        page.click("#cb-f-amount")
        page.keyboard.type("1000")  # 1,000: not above 10,000 yet
        assert not page.is_disabled("#cb-f-probability") and "cb-readonly" not in probability.get_attribute("class")
        page.keyboard.type("0")  # 10,000: still not above
        assert not page.is_disabled("#cb-f-probability")
        page.keyboard.type("1")  # 100,001: read-only at this keystroke
        assert page.is_disabled("#cb-f-probability") and "cb-readonly" in probability.get_attribute("class")
        page.keyboard.press("Backspace")
        page.keyboard.press("Backspace")  # 1,000 again: editable again
        assert not page.is_disabled("#cb-f-probability")
        # the text rule: required as soon as the title contains "urgent"
        page.click("#cb-f-title")
        page.keyboard.type("An urgen")
        assert "cb-required" not in close.get_attribute("class")
        assert page.get_attribute("#cb-f-expected_close", "aria-required") is None
        page.keyboard.type("t")
        assert "cb-required" in close.get_attribute("class")
        assert page.get_attribute("#cb-f-expected_close", "aria-required") == "true"
        page.keyboard.press("Backspace")
        assert "cb-required" not in close.get_attribute("class")
        assert page.js_errors == []
    finally:
        for field in ("probability", "expected_close"):
            SchemaService(site.db).update_field(SYSTEM, "deal", field, {"rules": None})
