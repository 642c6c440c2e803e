"""The card in a real browser: open, edit and save; add an order line and watch the order
total change; a version conflict from a second session; the link picker's type-ahead;
conditional rules mirrored live; screenshots at desktop and phone width."""
from __future__ import annotations

import re

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


def _order(site) -> dict:
    store = RecordStore(site.db)
    order = store.list(SYSTEM, "order", ListQuery(limit=1, sort="id")).data[0]
    return store.get(SYSTEM, "order", order["id"])


def _total_text(page) -> str:
    return page.inner_text('[data-cb-value="total"]').strip()


def test_open_a_card_edit_and_save(page, site, login, screenshot):
    login(page, "sam")
    org = RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=1, sort="id")).data[0]
    page.goto(f"{site.url}/o/organisation/{org['id']}")
    assert page.input_value("#cb-f-name") == org["name"]
    page.fill("#cb-f-city", "Potsdam")
    page.click("#cb-save")
    page.wait_for_selector(".alert-success")
    assert page.input_value("#cb-f-city") == "Potsdam"
    assert RecordStore(site.db).get(SYSTEM, "organisation", org["id"])["city"] == "Potsdam"
    page.click("#cb-tab-history-tab")
    page.wait_for_selector("#cb-tab-history.show")
    assert "Potsdam" in page.inner_text("#cb-tab-history")
    # bad input: the message under the field, the input kept
    page.click("#cb-tab-0-tab")
    page.fill("#cb-f-name", "")
    page.fill("#cb-f-city", "Kept city")
    page.click("#cb-save")
    page.wait_for_selector("#cb-error-summary")
    assert page.input_value("#cb-f-city") == "Kept city"
    assert "is required" in page.inner_text("#cb-f-name-error")
    assert page.js_errors == []


def test_add_an_order_line_and_see_the_total_change(page, site, login, screenshot):
    order = _order(site)
    login(page, "sam")
    page.goto(f"{site.url}/o/order/{order['id']}")
    before = _total_text(page)
    rows = page.locator(".cb-part tbody tr.cb-row").count()
    page.click(".cb-part .cb-row-add")
    page.wait_for_selector("tr.cb-row-editing")
    page.fill("tr.cb-row-editing input[name=c-price]", "100")
    page.fill("tr.cb-row-editing input[name=c-quantity]", "2")
    page.click("tr.cb-row-editing input[name=c-product-text]")
    page.keyboard.type("Soft")
    page.wait_for_selector("tr.cb-row-editing .cb-link-list.show button")
    page.click("tr.cb-row-editing .cb-link-list.show button >> nth=0")
    page.click("tr.cb-row-editing .cb-row-save")
    page.wait_for_function("() => !document.querySelector('tr.cb-row-editing')")
    assert page.locator(".cb-part tbody tr.cb-row").count() == rows + 1
    page.wait_for_function("(before) => document.querySelector('[data-cb-value=total]').innerText.trim() !== before",
                           arg=before)
    after = RecordStore(site.db).get(SYSTEM, "order", order["id"])["total"].amount  # money (issue 14, point 1)
    assert after == order["total"].amount + 200
    assert _total_text(page).replace(",", "").startswith(f"{after:.2f}".replace(",", "")[:3])
    # edit the new line in place, then delete it: the total follows
    last = page.locator(".cb-part tbody tr.cb-row").last
    last.locator(".cb-row-edit").click()
    page.wait_for_selector("tr.cb-row-editing")
    page.fill("tr.cb-row-editing input[name=c-quantity]", "3")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('tr.cb-row-editing')")
    assert RecordStore(site.db).get(SYSTEM, "order", order["id"])["total"].amount == order["total"].amount + 300
    page.on("dialog", lambda dialog: dialog.accept())
    page.locator(".cb-part tbody tr.cb-row").last.locator(".cb-row-delete").click()
    page.wait_for_function("(n) => document.querySelectorAll('.cb-part tbody tr.cb-row').length === n", arg=rows)
    page.wait_for_function("(t) => document.querySelector('[data-cb-value=total]').innerText.trim() === t", arg=before)
    assert RecordStore(site.db).get(SYSTEM, "order", order["id"])["total"] == order["total"]
    assert page.js_errors == []


def test_a_version_conflict_from_a_second_session(page, new_page, site, login, screenshot):
    store = RecordStore(site.db)
    org = store.list(SYSTEM, "organisation", ListQuery(limit=1, sort="-id")).data[0]
    url = f"{site.url}/o/organisation/{org['id']}"
    login(page, "sam")
    page.goto(url)
    other = new_page()
    login(other, "admin")
    other.goto(url)
    other.fill("#cb-f-city", "Their city")
    other.fill("#cb-f-country", "Their country")
    other.click("#cb-save")
    other.wait_for_selector(".alert-success")
    page.fill("#cb-f-city", "My city")
    page.click("#cb-save")
    page.wait_for_selector("#cb-conflict-summary")
    assert page.input_value("#cb-f-city") == "My city"  # my input kept
    assert page.input_value("#cb-f-country") == "Their country"  # their other change taken over
    assert "Their city" in page.inner_text('.cb-field[data-field="city"] .cb-conflict')
    assert store.get(SYSTEM, "organisation", org["id"])["city"] == "Their city"  # nothing overwritten
    screenshot(page, "card-conflict")
    page.click("#cb-save")  # saving again merges
    page.wait_for_selector(".alert-success")
    saved = store.get(SYSTEM, "organisation", org["id"])
    assert saved["city"] == "My city" and saved["country"] == "Their country"
    # taking their value instead
    other.goto(url)
    other.fill("#cb-f-city", "Third city")
    other.click("#cb-save")
    other.wait_for_selector(".alert-success")
    page.fill("#cb-f-city", "Mine again")
    page.click("#cb-save")
    page.wait_for_selector("#cb-conflict-summary")
    page.click('.cb-field[data-field="city"] .cb-use-theirs')
    assert page.input_value("#cb-f-city") == "Third city"
    assert page.js_errors == []


def test_rules_are_mirrored_live_in_the_card(page, site, login, screenshot):
    service = SchemaService(site.db)
    lost = {"field": "stage", "op": "eq", "value": "lost"}
    service.add_field(SYSTEM, "deal", {"name": "lost_reason", "label": "Lost reason", "type": "string",
                                       "rules": {"visible_when": lost, "required_when": lost}})
    try:
        deal = RecordStore(site.db).list(SYSTEM, "deal", ListQuery(limit=1, sort="id",
                                                                  filter={"field": "stage", "op": "ne", "value": "lost"})).data[0]
        login(page, "sam")
        page.goto(f"{site.url}/o/deal/{deal['id']}")
        box = page.locator('.cb-field[data-field="lost_reason"]')
        assert not box.is_visible()
        page.select_option("#cb-f-stage", "lost")
        assert box.is_visible() and "cb-required" in box.get_attribute("class")
        page.click("#cb-save")
        page.wait_for_selector("#cb-error-summary")
        assert "is required when Stage = lost" in page.inner_text("#cb-f-lost_reason-error")
        screenshot(page, "card-errors")
        page.fill("#cb-f-lost_reason", "Too expensive")
        page.click("#cb-save")
        page.wait_for_selector(".alert-success")
        page.select_option("#cb-f-stage", "won")
        assert not box.is_visible()
        assert page.js_errors == []
    finally:
        service.remove_field(SYSTEM, "deal", "lost_reason")


def test_a_reader_sees_no_actions_and_screenshots(page, new_page, site, login, screenshot):
    order = _order(site)
    login(page, "junior")
    page.goto(f"{site.url}/o/order/{order['id']}")
    assert page.locator("#cb-save").count() == 0 and page.locator("#cb-delete").count() == 0
    assert page.locator(".cb-row-add, .cb-row-edit, .cb-row-delete").count() == 0
    sam = new_page()
    login(sam, "sam")
    sam.goto(f"{site.url}/o/order/{order['id']}")
    sam.wait_for_selector(".cb-part")
    screenshot(sam, "card")
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    login(phone, "sam", ready=".navbar-toggler")  # the menu is collapsed at phone width
    phone.goto(f"{site.url}/o/order/{order['id']}")
    width = phone.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, width  # nothing wider than the phone
    boxes = phone.locator(".cb-grid .cb-column").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert all(w > 300 for w in boxes if w)  # one column
    screenshot(phone, "card-phone")
    phone.click(".cb-part .cb-row-add")
    phone.wait_for_selector("tr.cb-row-editing input[name=c-price]")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    screenshot(phone, "card-phone-row")
    assert page.js_errors == []
    assert re.search(r"\d", _total_text(page))


def test_delete_to_the_trash_and_restore(page, site, login, screenshot):
    store = RecordStore(site.db)
    task = store.list(SYSTEM, "task", ListQuery(limit=1, sort="-id")).data[0]
    login(page, "sam")
    page.goto(f"{site.url}/o/task/{task['id']}")
    page.once("dialog", lambda dialog: dialog.dismiss())  # cancelled: nothing happens
    page.click("#cb-delete")
    assert store.get(SYSTEM, "task", task["id"])["id"] == task["id"]
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#cb-delete")
    page.wait_for_selector(".alert-success")
    page.goto(f"{site.url}/o/task/trash")
    row = page.locator(f'#cb-trash tr[data-row="{task["id"]}"]')
    assert row.count() == 1
    screenshot(page, "trash")
    row.locator(".cb-restore").click()
    page.wait_for_selector("#cb-card-form")
    assert store.get(SYSTEM, "task", task["id"])["title"] == task["title"]
    assert page.js_errors == []


def test_undo_a_save_from_its_notice(page, site, login, screenshot):
    """Save, then the notice's Undo button: the old value is back, on the card and in the
    store; the notice at desktop and phone width."""
    login(page, "sam")
    org = RecordStore(site.db).list(SYSTEM, "organisation", ListQuery(limit=1, sort="-id")).data[0]
    before = RecordStore(site.db).get(SYSTEM, "organisation", org["id"])["city"]
    page.goto(f"{site.url}/o/organisation/{org['id']}")
    page.fill("#cb-f-city", "Undo-Stadt")
    page.click("#cb-save")
    notice = page.wait_for_selector(".cb-undo")
    assert "Saved." in notice.inner_text()
    assert RecordStore(site.db).get(SYSTEM, "organisation", org["id"])["city"] == "Undo-Stadt"
    screenshot(page, "card-undo-notice-desktop")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "card-undo-notice-phone")
    button = page.get_by_role("button", name="Undo")
    assert button.is_visible()
    button.click()
    page.wait_for_selector(".alert-success:has-text('Undone.')")
    assert page.input_value("#cb-f-city") == (before or "")
    assert RecordStore(site.db).get(SYSTEM, "organisation", org["id"])["city"] == before
    assert page.query_selector(".cb-undo") is None
    assert page.js_errors == []
