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


def _visible(page, selector: str) -> bool:
    return page.locator(selector).is_visible()


def test_a_scenario_is_built_in_the_editor_with_the_keyboard(page, new_page, site, login, screenshot):
    """Issue 18 polish, point 1: each action row shows only its type's inputs and help; rows
    come from "+ Add action"; the whole scenario is typed with the keyboard."""
    import sqlalchemy as sa

    from cardbase.schema_engine.automation_models import Scenario
    from designer_browserlib import duplicate_ids, focused_id, unnamed_controls

    login(page, "admin")
    page.goto(f"{site.url}/designer/objects/deal/scenarios/new")
    assert page.locator(".cb-sc-action").count() == 1  # the spare empty rows are gone
    assert not _visible(page, "#cb-a0-values") and not _visible(page, "#cb-a0-url")
    assert not _visible(page, "#cb-sc-cron")  # trigger "created": no field, value, days or schedule
    page.locator("#cb-sc-name").focus()
    page.keyboard.type("Follow up new deals")
    page.locator("#cb-a0-type").focus()
    for _ in range(3):  # (none) -> set fields -> create a record -> create a task
        page.keyboard.press("ArrowDown")
    assert page.locator("#cb-a0-type").input_value() == "create_task"
    assert _visible(page, "#cb-a0-title") and not _visible(page, "#cb-a0-values") and not _visible(page, "#cb-a0-to")
    assert page.locator("#cb-sc-action-0 .cb-sc-help p:visible").all_inner_texts() == [
        "Creates a task on this record for a user (empty: the scenario's actor)."]
    page.keyboard.press("Tab")  # the row's remove button
    page.keyboard.press("Tab")
    assert focused_id(page) == "cb-a0-title"
    page.keyboard.type("Call the new client")
    page.keyboard.press("Tab")
    page.keyboard.type("admin")
    page.keyboard.press("Tab")
    page.keyboard.type("3")
    page.keyboard.press("Tab")
    assert focused_id(page) == "cb-sc-add"
    page.keyboard.press("Enter")
    assert focused_id(page) == "cb-a1-type" and page.locator(".cb-sc-action").count() == 2
    assert page.locator("#cb-sc-action-1 .cb-sc-step-no").inner_text() == "2"
    page.keyboard.press("ArrowDown")  # set fields
    assert _visible(page, "#cb-a1-values") and not _visible(page, "#cb-a1-object")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert focused_id(page) == "cb-a1-values"
    page.keyboard.type("probability = 20")
    page.keyboard.press("Tab")
    assert focused_id(page) == "cb-sc-add"
    page.keyboard.press("Tab")
    assert focused_id(page) == "cb-scenario-save"
    screenshot(page, "scenario-editor-typed")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/scenarios/" in page.url and page.locator(".alert-success").count() == 1
    with site.db.read() as conn:
        row = conn.execute(sa.select(Scenario.__table__).where(Scenario.name == "Follow up new deals")).mappings().one()
    assert row["actions"] == [{"type": "create_task", "title": "Call the new client", "assignee": "admin",
                               "due_in_days": 3},
                              {"type": "set_fields", "values": {"probability": "20"}}]
    # saved rows open with their own inputs only; removing the first renumbers the second
    assert _visible(page, "#cb-a0-title") and not _visible(page, "#cb-a0-values")
    assert _visible(page, "#cb-a1-values") and not _visible(page, "#cb-a1-title")
    screenshot(page, "scenario-editor")
    assert unnamed_controls(page, "#cb-scenario-form") == [] and duplicate_ids(page) == []
    page.locator("#cb-sc-action-0 .cb-sc-remove").click()
    assert page.locator(".cb-sc-action").count() == 1 and focused_id(page) == "cb-a1-type"
    assert page.locator("#cb-sc-action-1 .cb-sc-step-no").inner_text() == "1"
    assert page.js_errors == []

    from cardbase.platform import users
    from cardbase.schema_engine.actor import SYSTEM

    before = users.find_user(site.db, "admin").language
    users.update_user(site.db, SYSTEM, "admin", language="de")  # labels and help in German at phone width
    try:
        phone = new_page(viewport=PHONE)
        login(phone, "admin", ready=".navbar-toggler")
        phone.goto(page.url)
        phone.locator("#cb-sc-add").wait_for()
    finally:
        users.update_user(site.db, SYSTEM, "admin", language=before)
    assert phone.locator("#cb-sc-add").inner_text() == "+ Aktion hinzufügen"
    assert phone.locator("#cb-sc-action-0 .cb-sc-help p:visible").all_inner_texts() == [
        "Legt an diesem Datensatz eine Aufgabe für einen Benutzer an (leer: der Akteur des Szenarios)."]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator(".cb-sc-action").count() == 2 and not phone.locator("#cb-a0-url").is_visible()  # not saved
    screenshot(phone, "scenario-editor-phone")
