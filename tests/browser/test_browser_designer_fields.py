"""The configurator in a real browser: an admin creates an object, adds a text field, a
choice field with coloured choices and a formula field whose live check marks an error
at its position and then shows the value computed on a real record."""
from __future__ import annotations

from designer_browserlib import follow

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore


def test_an_admin_builds_an_object_with_text_choice_and_formula_fields(page, site, login, screenshot):
    login(page, "admin")
    follow(page, "#cb-nav-designer")
    follow(page, "#cb-new-object")
    page.fill("#f-label", "Project")
    assert page.input_value("#f-name") == "project"  # proposed from the label as it is typed
    page.fill("#f-label_plural", "Projects")
    page.fill("#f-label_de", "Projekt")
    page.click("#cb-create-object")
    page.wait_for_selector("text=Object 'Project' created")

    # a text field
    follow(page, "#cb-add-field")
    page.fill("#f-label", "Project name")
    assert page.input_value("#f-name") == "project_name"
    assert page.is_visible("#opt-string-length") and not page.is_visible("#opt-formula-formula")
    page.fill("#opt-string-length", "80")
    page.check("#f-required")
    page.click("#cb-save-field")
    page.wait_for_selector("text=Field 'Project name' added")

    # a choice field: choosing the type shows the choices editor; rows added, coloured, reordered
    follow(page, "#cb-add-field")
    page.fill("#f-label", "Status")
    page.select_option("#f-type", "choice")
    assert page.is_visible("#cb-add-choice") and not page.is_visible("#opt-string-length")
    page.fill("#choice-label-0", "Open")
    assert page.input_value("#choice-value-0") == "Open"  # the value follows the label
    page.fill("#choice-value-0", "open")
    page.select_option("#choice-color-0", "green")
    page.fill("#choice-label-1", "Done")
    page.select_option("#choice-color-1", "blue")
    page.click("#cb-add-choice")
    rows = page.locator(".cb-choice-row")
    assert rows.count() == 4
    rows.nth(3).locator("[name=choice_label]").fill("Blocked")
    rows.nth(3).locator("[name=choice_color]").select_option("red")
    rows.nth(3).locator(".cb-choice-up").click()  # Blocked before the empty third row
    assert "cb-color-green" in page.get_attribute("#choice-color-0", "class")
    page.click("#cb-save-field")
    page.wait_for_selector("text=Field 'Status' added")
    status = site.db.schema().object("project").field("status")
    assert [(c["value"], c.get("color")) for c in status.options["choices"]] == [
        ("open", "green"), ("Done", "blue"), ("Blocked", "red")]

    RecordStore(site.db).create(SYSTEM, "project", {"project_name": "Apollo", "status": "open"})

    # a formula field: the live check marks the error, then previews a good formula
    follow(page, "#cb-add-field")
    page.fill("#f-label", "Headline")
    page.select_option("#f-type", "formula")
    area = page.locator("#opt-formula-formula")
    area.fill('UPPER([Project name]) & " / " & [Budget]')
    page.wait_for_selector("#cb-formula-status.text-danger")
    assert "unknown field [Budget]" in page.inner_text("#cb-formula-status")
    assert page.get_attribute("#cb-formula-status", "data-position") == "32"
    assert page.inner_text("#cb-formula-mark mark") == "["  # the marked character
    assert "Line 1, column 33" in page.inner_text("#cb-formula-status")
    screenshot(page, "designer-formula-error")

    area.fill('UPPER([Project name]) & " / "')
    page.select_option("#cb-formula-picker", "[Status]")
    area.press("End")
    page.click("#cb-formula-insert")  # the picker inserts at the cursor
    assert area.input_value() == 'UPPER([Project name]) & " / "[Status]'
    area.press("End")
    for _ in range(len("[Status]")):
        area.press("ArrowLeft")
    area.type(" & ")
    assert area.input_value() == 'UPPER([Project name]) & " / " & [Status]'
    page.wait_for_selector("#cb-formula-status.text-success")
    page.wait_for_selector(".cb-preview-value")
    assert page.inner_text(".cb-preview-value").startswith("APOLLO / ")
    assert "Result: text" in page.inner_text("#cb-formula-status")
    page.click(".cb-functions summary")
    page.fill("#cb-function-filter", "upper")
    assert page.locator("#cb-function-list .cb-function:visible").count() == 1
    screenshot(page, "designer-formula")
    page.click("#cb-save-field")
    page.wait_for_selector("text=Field 'Headline' added")

    # the field list, reordered with the keyboard-accessible arrow buttons
    page.click("button[aria-label='Move Headline up']")
    page.wait_for_selector("text=Field order saved.")
    names = page.locator(".cb-designer-fields tbody tr").evaluate_all("rows => rows.map(r => r.dataset.field)")
    assert names == ["project_name", "headline", "status"]
    screenshot(page, "designer-object")
    follow(page, "a:text('Status')")
    page.wait_for_selector("#cb-choice-rows")
    assert page.is_visible("#cb-add-choice")
    assert "cb-color-red" in page.get_attribute("#choice-color-2", "class")
    screenshot(page, "designer-fields")
    assert page.js_errors == []


def test_the_configurator_is_not_offered_to_users_without_the_configure_right(page, site, login):
    login(page, "sam")
    assert page.locator("#cb-nav-designer").count() == 0
    response = page.goto(site.url + "/designer/")
    assert response.status == 403
