"""Point 10 of the configurator: every control of every designer page has an accessible
name (checked in the browser, after the page's scripts have drawn their controls), and
the card designer works with the keyboard alone: moving a section, moving entries and
sections between tabs, and adding a field from the palette."""
from __future__ import annotations

import json
from typing import Any, Callable

import pytest
from designer_browserlib import duplicate_ids, focused_id, items_of, sign_in, unnamed_controls

from cardbase.designer_ui.fields import TYPE_ORDER
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.field_types import all_types
from cardbase.schema_engine.layouts import cards as card_layouts
from cardbase.schema_engine.schema_service import SchemaService

# One existing field of every type a power user can add (the demo CRM's, plus two added
# by the `extra` fixture for the types the demo does not use).
FIELD_OF_TYPE = {
    "string": "organisation/name", "text": "interaction/note", "integer": "deal/probability",
    "decimal": "order_line/quantity", "money": "deal/amount", "date": "deal/expected_close",
    "datetime": "interaction/date", "boolean": "product/active", "choice": "deal/stage",
    "multi_choice": "organisation/labels", "email": "organisation/email", "phone": "organisation/phone",
    "url": "organisation/website", "link": "deal/organisation", "user": "task/assignee",
    "autonumber": "task/number", "formula": "order_line/cost", "lookup": "contact_person/city",
    "rollup": "order/total", "links": "deal/products",
}
ADDABLE = [name for name in TYPE_ORDER if name in all_types() and not all_types()[name].system_only]


def _add_condition(page: Any) -> None:
    """Draw one row of each condition builder, so its controls are checked too."""
    for box in page.locator(".cb-condition").all():
        box.locator(".cb-condition-add").click()


def _upload_solution(page: Any) -> None:
    """The import preview: upload the current solution with one field more."""
    document = json.loads(page.request.get(page.url.replace("/solution", "/solution/export.json")).text())
    document["objects"][0]["fields"].append({"name": "motto", "label": "Motto", "type": "string"})
    page.set_input_files("#cb-solution-file", files=[{"name": "solution.json", "mimeType": "application/json",
                                                      "buffer": json.dumps(document).encode()}])
    page.click("#cb-solution-preview")
    page.wait_for_selector("#cb-solution-apply")


# (id, path, selector that shows the page's script has run, action before the sweep)
PAGES: list[tuple[str, str, str, Callable[[Any], None] | None]] = [
    ("index", "/designer/", "#cb-new-object", None),
    ("object-new", "/designer/new-object", "#cb-create-object", None),
    ("object-edit", "/designer/objects/organisation", "#cb-add-field", None),
    ("object-delete", "/designer/objects/product/delete", "#cb-confirm-delete", None),
    *[(f"field-new-{t}", f"/designer/objects/deal/new-field?type={t}", "#cb-save-field", None) for t in ADDABLE],
    *[(f"field-edit-{t}", "/designer/objects/{}/fields/{}".format(*FIELD_OF_TYPE[t].split("/")), "#cb-save-field", None)
      for t in ADDABLE],
    ("formula-editor", "/designer/objects/order_line/fields/cost", "#cb-formula-status.text-success", None),
    ("field-delete", "/designer/objects/deal/fields/probability/delete", "main form button[type=submit]", None),
    ("cards", "/designer/objects/organisation/cards", "#cb-card-default-save", None),
    ("card-new", "/designer/objects/organisation/cards/new", "#cb-i-f_city", None),
    ("card-edit", "/designer/objects/organisation/cards/{card}", "#cb-i-l_contact_person_organisation", None),
    ("table", "/designer/objects/deal/table", "#cb-table-columns .cb-table-column", _add_condition),
    ("rules", "/designer/objects/deal/rules", "main table", None),
    ("rule-edit", "/designer/objects/deal/fields/expected_close/rules", ".cb-condition-add", _add_condition),
    ("log", "/designer/log", "main h1", None),
    ("solution", "/designer/solution", "#cb-solution-file", None),
    ("solution-preview", "/designer/solution", "#cb-solution-file", _upload_solution),
]


@pytest.fixture(scope="module")
def extra(site: Any) -> dict[str, Any]:
    """The two field types the demo lacks, and a designed card with tabs and lists."""
    service = SchemaService(site.db)
    service.add_field(SYSTEM, "organisation", {"name": "labels", "label": "Labels", "type": "multi_choice",
                                               "options": {"choices": ["key account", "partner"]}})
    service.add_field(SYSTEM, "task", {"name": "number", "label": "Number", "type": "autonumber",
                                       "options": {"pattern": "T-{0000}"}})
    schema = site.db.schema()
    layout = card_layouts.default_layout(schema, schema.object("organisation"))
    layout["tabs"][0]["label"] = "Main"
    layout["tabs"].append({"label": "More", "sections": [{"label": "Extra", "columns": 2, "items": []}]})
    card = card_layouts.save_card(site.db, SYSTEM, "organisation", "Full", layout)
    return {"card": card["id"]}


@pytest.fixture(scope="module")
def admin_page(browser: Any, site: Any, extra: dict[str, Any]) -> Any:
    """One signed-in administrator for the whole sweep (a page per test would sign in ~45 times)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    sign_in(page, site.url, "admin", site.passwords["admin"])
    yield page
    context.close()


def test_every_type_has_an_existing_field_in_the_sweep():
    assert set(ADDABLE) == set(FIELD_OF_TYPE)


def test_the_sweep_finds_unnamed_controls(admin_page, site):
    """The check itself: controls named only by a placeholder, a title, an arrow or a
    label of another id are reported; properly named ones are not."""
    page = admin_page
    page.goto(site.url + "/designer/")
    page.evaluate("""() => document.querySelector('main').insertAdjacentHTML('beforeend', `
        <input id="x-placeholder" placeholder="Name"><button id="x-arrow" title="Up">↑</button>
        <label for="elsewhere">Text</label><textarea id="x-textarea"></textarea>
        <select id="x-by" aria-labelledby="nowhere"></select>
        <input id="ok-label"><label for="ok-label">Name</label><button id="ok-aria" aria-label="Move up">↑</button>
        <span id="ok-title">City</span><select id="ok-by" aria-labelledby="ok-title"></select>`)""")
    assert unnamed_controls(page, "main") == ["x-placeholder", "x-arrow", "x-textarea", "x-by"]


@pytest.mark.parametrize("path, ready, action", [p[1:] for p in PAGES], ids=[p[0] for p in PAGES])
def test_every_control_of_every_designer_page_has_a_name(admin_page, site, extra, path, ready, action):
    page = admin_page
    page.js_errors.clear()
    response = page.goto(site.url + path.format(**extra))
    assert response.status == 200, path
    page.wait_for_selector(ready, state="attached")
    if action is not None:
        action(page)
    assert unnamed_controls(page) == [], path
    assert duplicate_ids(page) == [], path
    assert page.js_errors == []


# ---- the card designer with the keyboard alone ---------------------------------------------------
def _press(page: Any, element_id: str, key: str = "Enter") -> None:
    """Put the focus on a control and press a key there."""
    page.focus(f"#{element_id}")
    page.keyboard.press(key)


def _sections(page: Any) -> list[str]:
    """Section labels of the designer, tab by tab ("tab:label")."""
    return page.evaluate("""() => [...document.querySelectorAll('#cb-card-designer .cb-section')]
        .map(s => s.dataset.section.split(':')[0] + ':' + s.querySelector('input').value)""")




def test_sections_and_entries_move_between_tabs_with_the_keyboard(admin_page, site):
    page = admin_page
    page.goto(site.url + "/designer/objects/organisation/cards/new")
    page.wait_for_selector("#cb-i-f_city")
    _press(page, "cb-add-tab")  # a second tab; the focus goes to its label
    assert focused_id(page) == "cb-t1-label"
    page.keyboard.press("Control+A")
    page.keyboard.type("Second")
    _press(page, "cb-t0-add-section")
    assert focused_id(page) == "cb-s0-1-label"
    page.keyboard.press("Control+A")
    page.keyboard.type("Reach")
    assert _sections(page) == ["0:Details", "0:Reach", "1:Section 1"]
    # a section up within its tab, then down, then down again into the next tab
    _press(page, "cb-s0-1-up")
    assert _sections(page) == ["0:Reach", "0:Details", "1:Section 1"] and focused_id(page) == "cb-s0-0-up"
    page.keyboard.press("Tab")  # from "Move section up" to "Move section down" of the same section
    assert focused_id(page) == "cb-s0-0-down"
    page.keyboard.press("Enter")
    assert _sections(page) == ["0:Details", "0:Reach", "1:Section 1"] and focused_id(page) == "cb-s0-1-down"
    page.keyboard.press("Space")
    assert _sections(page) == ["0:Details", "1:Reach", "1:Section 1"] and focused_id(page) == "cb-s1-0-down"
    # an entry to a section of the other tab with its "Move to section" select (arrow keys)
    page.focus("#cb-i-f_phone-move")
    options = page.locator("#cb-i-f_phone-move option").evaluate_all("os => os.map(o => o.value)")
    assert options == ["0:0", "1:0", "1:1"]
    page.keyboard.press("ArrowDown")
    assert items_of(page, "1:0") == ["f:phone"] and focused_id(page) == "cb-i-f_phone-move"
    page.keyboard.press("ArrowDown")
    assert items_of(page, "1:0") == [] and items_of(page, "1:1") == ["f:phone"]
    # the second tab to the left of the first
    _press(page, "cb-t1-up")
    assert page.input_value("#cb-t0-label") == "Second" and focused_id(page) == "cb-t0-up"
    assert _sections(page) == ["0:Reach", "0:Section 1", "1:Details"]
    assert page.js_errors == []


def test_a_field_is_added_from_the_palette_with_the_keyboard(admin_page, site):
    page = admin_page
    page.goto(site.url + "/designer/objects/organisation/cards/new")
    page.wait_for_selector("#cb-i-f_website")
    _press(page, "cb-t0-add-section")
    page.keyboard.press("Control+A")
    page.keyboard.type("Web")
    _press(page, "cb-i-f_website-remove")  # off the card: into the palette; the focus on "Add to section"
    assert focused_id(page) == "cb-palette-target"
    assert page.locator("#cb-p-f_website").count() == 1 and "f:website" not in items_of(page, "0:0")
    page.keyboard.press("ArrowDown")  # add to the second section
    assert page.input_value("#cb-palette-target") == "0:1"
    page.keyboard.press("Tab")  # the palette's first entry: Website, a user field before the system ones
    assert focused_id(page) == "cb-p-f_website-add"
    page.keyboard.press("Enter")
    assert items_of(page, "0:1") == ["f:website"]
    assert focused_id(page) == "cb-i-f_website-up"  # the focus follows the entry onto the card
    assert page.locator("#cb-p-f_website").count() == 0
    assert page.inner_text("#cb-designer-status") == "Added."
    assert page.js_errors == []
