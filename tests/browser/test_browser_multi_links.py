"""Issue 14, point 10 in the browser: a deal's multi-link "Products". Sam creates a deal,
adds two products with the card's picker (the first by keyboard, the second by mouse) and
a third through the picker's "+ New" (removed again), saves, reloads, removes one and
saves again; filters the deals list by "has any of" with the builder's record picker;
replaces the set with the list's bulk change. A field rule reading the multi-link follows
the rows at once. Screenshots of the card and the filtered list at 1280 and 390 px, in
English and German (multi-links-<card|list>-<en|de>-<width>), and of the bulk change.
"""
from __future__ import annotations

import json

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


def _products(site) -> list[dict]:
    svc = SchemaService(site.db)
    schema = site.db.schema()
    if not schema.object("deal").fields_by_name.get("products"):
        svc.add_field(SYSTEM, "deal", {"name": "products", "label": "Products", "type": "links",
                                       "options": {"target": "product"}})
        svc.set_translations(SYSTEM, "deal", {"de": {"label": "Produkte"}}, field_ref="products")
    found = RecordStore(site.db).list(SYSTEM, "product", ListQuery(limit=50, sort="name")).data
    names = [p["name"] for p in found]
    # two products whose first six letters find each of them
    return [p for p in found if names.count(p["name"]) == 1][:2]


def _rows(page) -> list[str]:
    return page.eval_on_selector_all('div[data-field="products"] tr.cb-multi-row', "rs => rs.map(r => r.dataset.id)")


def _pick(page, text: str, *, keyboard: bool) -> None:
    """Search the products' picker and choose the first match, by keyboard or by mouse."""
    search = page.locator("#cb-f-products")
    search.click()
    search.fill("")
    page.keyboard.type(text)
    option = page.locator("#cb-f-products-list.show button").first
    option.wait_for()
    if keyboard:
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
    else:
        option.click()


def test_link_several_products_save_remove_and_filter(page, site, login, screenshot):
    first, second = _products(site)
    # a field rule reading the multi-link: "Probability" shows once the first product is chosen
    SchemaService(site.db).update_field(SYSTEM, "deal", "probability", {"rules": {
        "visible_when": {"field": "products", "op": "has_any", "value": [first["id"]]}}})
    store = RecordStore(site.db)
    login(page, "sam")
    page.goto(f"{site.url}/o/deal/new")
    page.fill("input[name=f-title]", "Multi-link deal")
    organisation = store.list(SYSTEM, "organisation", ListQuery(limit=1, sort="name")).data[0]
    page.click("#cb-f-organisation")
    page.keyboard.type(organisation["name"][:6])
    page.locator("#cb-f-organisation-list.show button").first.click()
    assert page.is_visible('div[data-field="products"] .cb-multi-empty')
    assert not page.is_visible('div[data-field="probability"]')
    _pick(page, first["name"][:6], keyboard=True)
    page.wait_for_function("() => document.querySelectorAll('div[data-field=products] tr.cb-multi-row').length === 1")
    assert page.is_visible('div[data-field="probability"]')  # the rule follows the table at once
    assert page.evaluate("document.activeElement.id") == "cb-f-products"  # ready for the next one
    assert page.input_value("#cb-f-products") == ""
    _pick(page, second["name"][:6], keyboard=False)
    page.wait_for_function("() => document.querySelectorAll('div[data-field=products] tr.cb-multi-row').length === 2")
    assert _rows(page) == [str(first["id"]), str(second["id"])]
    assert not page.is_visible('div[data-field="products"] .cb-multi-empty')
    # the rows the picker added carry the product's table columns beside the name, as the card does
    heads = page.eval_on_selector_all('div[data-field="products"] thead th', "hs => hs.map(h => h.textContent.trim())")
    assert heads[0] == "Name" and len(heads) >= 3
    cells = page.eval_on_selector_all('div[data-field="products"] tr.cb-multi-row',
                                      "rs => rs.map(r => Array.from(r.children).map(c => c.textContent.trim()))")
    assert [len(row) for row in cells] == [len(heads)] * 2 and all(row[1] for row in cells)
    # "+ New" inside the picker: the product created in its window becomes a row here
    with page.expect_popup() as info:
        page.click('div[data-field="products"] a.cb-link-new')
    popup = info.value
    popup.wait_for_selector("#cb-f-name")
    popup.fill("#cb-f-name", "Brand-new product")
    popup.click("#cb-save")
    popup.wait_for_event("close")
    page.wait_for_function("() => document.querySelectorAll('div[data-field=products] tr.cb-multi-row').length === 3")
    made = [p for p in store.list(SYSTEM, "product", ListQuery(limit=500)).data if p["name"] == "Brand-new product"]
    assert len(made) == 1 and _rows(page)[2] == str(made[0]["id"])
    page.locator('div[data-field="products"] tr.cb-multi-row').nth(2).locator(".cb-multi-remove").click()
    assert _rows(page) == [str(first["id"]), str(second["id"])]
    page.click("#cb-save")
    page.wait_for_url(lambda url: "/o/deal/new" not in url)
    deal_id = int(page.url.split("?")[0].rstrip("/").split("/")[-1])
    assert [r.id for r in store.get(SYSTEM, "deal", deal_id)["products"]] == [first["id"], second["id"]]
    page.reload()
    assert _rows(page) == [str(first["id"]), str(second["id"])]
    assert page.eval_on_selector_all('div[data-field="products"] tr.cb-multi-row',
                                     "rs => rs.map(r => Array.from(r.children).map(c => c.textContent.trim()))") == cells
    links = page.eval_on_selector_all('div[data-field="products"] tr.cb-multi-row a', "as => as.map(a => a.textContent)")
    assert links == [first["name"], second["name"]]
    page.set_viewport_size({"width": 1280, "height": 900})
    screenshot(page, "multi-links-card-en-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "multi-links-card-en-390")
    page.set_viewport_size({"width": 1280, "height": 900})

    remove = page.locator('div[data-field="products"] .cb-multi-remove').first
    remove.focus()
    page.keyboard.press("Enter")  # keyboard: the button removes its row, focus moves to the next one
    assert _rows(page) == [str(second["id"])]
    assert page.evaluate("document.activeElement.classList.contains('cb-multi-remove')")
    assert not page.is_visible('div[data-field="probability"]')  # the first product is gone again
    page.click("#cb-save")
    page.wait_for_selector(".alert-success, .alert-info")
    assert [r.id for r in store.get(SYSTEM, "deal", deal_id)["products"]] == [second["id"]]

    # the list, filtered by "has any of" with the builder's record picker
    page.goto(f"{site.url}/o/deal?cols=title,products&sort=title")
    page.click("#cb-filter-toggle")
    row = page.locator("#cb-filter-rows > .cb-filter-row").first
    row.locator(".cb-f-field").select_option("products")
    row.locator(".cb-f-op").select_option("has_any")
    picker = row.locator(".cb-f-pick")
    picker.fill(f"{second['name']} #{second['id']}")
    picker.press("Enter")
    chips = row.locator(".cb-f-chip")
    assert chips.count() == 1 and second["name"] in chips.first.text_content()
    page.click("#cb-filter-apply")
    page.wait_for_url(lambda url: "filter=" in url)
    titles = page.eval_on_selector_all("#cb-list-table tbody tr", "rs => rs.map(r => r.textContent)")
    holders = store.list(SYSTEM, "deal", ListQuery(limit=200, filter={
        "field": "products", "op": "has_any", "value": [second["id"]]})).data  # the demo's deals link products too
    assert len(titles) == len(holders) and any("Multi-link deal" in t for t in titles)
    assert all(second["name"] in t for t in titles)
    expected = {"field": "products", "op": "has_any", "value": [second["id"]]}
    assert json.loads(page.input_value("#cb-filter-value")) == expected
    shown = page.locator("#cb-filter-rows .cb-f-chip")  # the filter as applied: the record by its name
    assert shown.count() == 1 and shown.first.text_content().startswith(second["name"])
    screenshot(page, "multi-links-list-en-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "multi-links-list-en-390")

    # the list's bulk change: tick the deal, choose Products, pick one, apply -- the set is replaced
    page.set_viewport_size({"width": 1280, "height": 900})
    page.check(f"#cb-select-{deal_id}")
    page.wait_for_selector("#cb-bulk-form:not(.cb-bulk-idle)")
    page.select_option("#cb-bulk-field", "products")
    bulk_search = page.locator("#cb-bulk-v-products")
    bulk_search.click()
    page.keyboard.type(first["name"][:6])
    page.locator("#cb-bulk-v-products-list.show button").first.click()
    page.wait_for_function("() => document.querySelectorAll('#cb-bulk-form tr.cb-multi-row').length === 1")
    screenshot(page, "multi-links-bulk-en-1280")
    page.click("#cb-bulk-apply")
    page.wait_for_selector(".cb-undo")
    assert [r.id for r in store.get(SYSTEM, "deal", deal_id)["products"]] == [first["id"]]

    users.update_user(site.db, SYSTEM, site.users["sam"], language="de")
    try:
        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.goto(f"{site.url}/o/deal/{deal_id}")
            assert page.get_attribute("#cb-f-products", "placeholder") == "Hinzufügen: zum Suchen tippen"
            assert "Produkte" in page.text_content('div[data-field="products"] label')
            screenshot(page, f"multi-links-card-de-{width}")
            page.goto(page.url.split("/o/")[0] + "/o/deal?cols=title,products&sort=title&filter=" + json.dumps(expected))
            ops = page.eval_on_selector_all("#cb-filter-rows .cb-f-op option", "os => os.map(o => o.textContent)")
            assert "hat einen von" in ops and "ist leer" in ops
            screenshot(page, f"multi-links-list-de-{width}")
    finally:
        users.update_user(site.db, SYSTEM, site.users["sam"], language="en")
    assert page.js_errors == []
