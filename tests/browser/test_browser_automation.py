"""Issue 18 in Chromium: a comment with an @mention on a deal's card reaches the mentioned
user's bell (desktop and phone width, no horizontal scrolling, no script errors), a task
added on the card shows in "My tasks", and the public form works in German."""
from __future__ import annotations

PHONE = {"width": 390, "height": 844}


def _first_deal(site) -> int:
    from cardbase.schema_engine.query.model import ListQuery
    from cardbase.schema_engine.store.records import RecordStore

    return RecordStore(site.db).list(site.actor("admin"), "deal", ListQuery(limit=1)).data[0]["id"]


def test_a_mention_on_the_card_rings_the_bell_of_a_reader(page, new_page, site, login, screenshot):
    deal = _first_deal(site)
    login(page, "admin")
    page.goto(f"{site.url}/o/deal/{deal}")
    page.locator("#cb-comment-body").fill("@sam please call them back")
    page.locator("#cb-comment-save").click()
    page.locator(".cb-feed-comment", has_text="@sam please call them back").wait_for()
    page.locator("#cb-task-title").fill("Call back tomorrow")
    page.locator("#cb-task-form button[type=submit]").click()
    page.locator("#cb-card-tasks", has_text="Call back tomorrow").wait_for()
    screenshot(page, "card-activity")
    assert page.js_errors == []

    sam = new_page(viewport=PHONE)
    login(sam, "sam", ready=".navbar-toggler")
    sam.goto(f"{site.url}/notifications")
    sam.locator("#cb-notifications", has_text="admin mentioned you").wait_for()
    assert sam.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    sam.locator(".navbar-toggler").click()
    assert sam.locator("#cb-bell-count").inner_text().strip() != ""
    sam.locator("#cb-read-all").click()
    sam.wait_for_url(f"{site.url}/notifications")
    assert sam.locator("#cb-bell-count").count() == 0
    sam.goto(f"{site.url}/o/deal/{deal}")
    sam.locator("#cb-activity").wait_for()
    assert sam.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(sam, "card-activity-phone")


def test_the_public_form_in_german_creates_a_record(new_page, site):
    from cardbase.automation import forms
    from cardbase.schema_engine.store.records import RecordStore

    from cardbase.schema_engine.query.model import ListQuery

    store = RecordStore(site.db)
    org = store.list(site.actor("admin"), "organisation", ListQuery(limit=1)).data[0]["id"]
    with store.session(site.actor("admin"), write=True) as tx:  # the demo's deals need an organisation: fixed
        forms.create(tx, {"slug": "kontakt", "title": "Kontakt", "object": "deal", "fields": ["title"],
                          "fixed": {"organisation": org}, "confirmation": "Danke!"})
    page = new_page(locale="de-DE")  # an anonymous visitor whose browser speaks German
    page.goto(f"{site.url}/f/kontakt")
    assert page.locator("#cb-public-send").inner_text() == "Senden"
    box = page.locator("#cb-honeypot").bounding_box()  # the honeypot's box: clipped to nothing for people
    assert box is None or (box["width"] <= 1 and box["height"] <= 1)
    page.locator("#f-title").fill("Anfrage von der Website")
    page.locator("#cb-public-send").click()
    page.locator("#cb-form-done", has_text="Danke!").wait_for()
    assert [d["title"] for d in store.list(site.actor("admin"), "deal").data if d["title"].startswith("Anfrage")] == [
        "Anfrage von der Website"]
