"""Issue "The configurator", point 9, end to end in a real browser: a power user creates
"Supplier" with six fields (text, e-mail, phone, choice, a link to Organisation and a
formula), designs its card with two sections and its table; then an end user without
the configure right creates a supplier through the generated card and finds it in the
list. Screenshots of the designer are kept as test artefacts."""
from __future__ import annotations

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.layouts import cards as card_layouts
from cardbase.schema_engine.layouts import tables as table_layouts
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.rights.admin import can_configure

FIELDS = [  # label, type, extra steps
    ("Name", "string"), ("E-mail", "email"), ("Phone", "phone"), ("Rating", "choice"),
    ("Organisation", "link"), ("Display name", "formula"),
]


def add_field(page, site, label: str, type_name: str) -> None:
    page.goto(site.url + "/designer/objects/supplier/new-field")
    page.fill("#f-label", label)
    page.select_option("#f-type", type_name)
    if type_name == "choice":
        for i, (value, text) in enumerate((("a", "A supplier"), ("b", "B supplier"), ("c", "C supplier"))):
            page.fill(f"#choice-value-{i}", value)
            page.fill(f"#choice-label-{i}", text)
    elif type_name == "link":
        page.select_option("#opt-link-target", "organisation")
    elif type_name == "formula":
        page.fill("#opt-formula-formula", 'UPPER([Name]) & " (" & [Rating] & ")"')
    if label == "Name":
        page.check("#f-required")
    page.click("#cb-save-field")
    page.wait_for_selector(".flash")
    assert "alert-danger" not in page.content(), page.inner_text("main")[:2000]


def test_power_user_builds_supplier_and_an_end_user_works_with_it(page, site, login, new_page, screenshot):
    # ---- the power user: object, six fields -----------------------------------------------
    login(page, "admin")
    page.goto(site.url + "/designer/")
    page.goto(site.url + "/designer/new-object")
    page.fill("#f-label", "Supplier")
    page.fill("#f-label_plural", "Suppliers")
    page.click("#cb-create-object")
    page.wait_for_url("**/designer/objects/supplier")
    for label, type_name in FIELDS:
        add_field(page, site, label, type_name)
    supplier = site.db.schema().object("supplier")
    assert [(f.label, f.type) for f in supplier.user_fields] == FIELDS

    # ---- its card: two sections ---------------------------------------------------------
    page.click("text=Cards")
    page.wait_for_selector("#cb-card-new")
    page.click("#cb-card-new")
    page.wait_for_selector("#cb-i-f_e_mail")
    page.fill("#cb-card-name", "Full")
    page.fill("#cb-s0-0-label", "Supplier")
    page.click("#cb-t0-add-section")
    page.fill("#cb-s0-1-label", "Contact")
    page.select_option("#cb-s0-1-columns", "1")
    for key in ("e_mail", "phone"):  # by keyboard: the "Move to section" select
        page.focus(f"#cb-i-f_{key}-move")
        page.select_option(f"#cb-i-f_{key}-move", "0:1")
    page.set_viewport_size({"width": 1280, "height": 2000})
    target = page.locator('[data-drop="0:1"]')
    height = target.bounding_box()["height"]
    page.locator("#cb-i-f_organisation .cb-grip").drag_to(target, target_position={"x": 30, "y": height - 4})  # by mouse
    page.set_viewport_size({"width": 1280, "height": 900})
    page.locator("#cb-preview", has_text="Contact").wait_for()
    screenshot(page, "supplier-card-designer")
    page.click("#cb-card-save")
    page.wait_for_selector(".flash")
    card = card_layouts.get_card(site.db, "supplier")
    sections = card["layout"]["tabs"][0]["sections"]
    assert [s["label"] for s in sections] == ["Supplier", "Contact"]
    assert [i["field"] for i in sections[1]["items"]] == ["e_mail", "phone", "organisation"]

    # ---- its table ----------------------------------------------------------------------
    page.click("text=Table")
    page.wait_for_selector("#cb-table-columns .cb-table-column")
    page.fill("#cb-table-available-filter", "City")
    page.click("#cb-avail-organisation_city-add")
    page.fill("#cb-col-name-width", "220")
    while page.locator("#cb-table-sort .cb-sort-level").count():
        page.click("#cb-sort-0-remove")
    page.click("#cb-add-sort")
    page.select_option("#cb-sort-0-field", "name")
    screenshot(page, "supplier-table-designer")
    page.click("#cb-table-save")
    page.wait_for_selector(".flash")
    table = table_layouts.default_table(site.db, "supplier")
    assert {"field": "organisation.city"} in table["columns"] and table["sort"] == "name"
    assert page.js_errors == []

    # ---- the end user (no configure right) --------------------------------------------
    # object rights are given by an administrator (the rights screens are not part of this test)
    rights_admin.set_object_rights(site.db, SYSTEM, "Sales", "supplier", ["read", "create", "edit"])
    assert not can_configure(site.db, site.actor("sam"))
    user = new_page(locale="en-GB")
    user.js_errors = []
    user.on("pageerror", lambda exc: user.js_errors.append(str(exc)))
    login(user, "sam")
    assert user.locator("#cb-nav-designer").count() == 0
    user.click('.cb-objects a[data-object="supplier"]')
    user.wait_for_url("**/o/supplier")
    user.goto(site.url + "/o/supplier/new")
    assert user.locator(".cb-section-legend").all_inner_texts()[:2] == ["Supplier", "Contact"]
    user.fill('[data-field="name"] input', "Nordic Timber")
    user.fill('[data-field="e_mail"] input', "sales@nordic-timber.example")
    user.fill('[data-field="phone"] input', "+49 30 1234567")
    user.select_option('[data-field="rating"] select', "a")
    user.fill('[data-field="organisation"] input[role=combobox]', "Kr")
    user.locator('[data-field="organisation"] .cb-link-list button').first.click()
    user.click("button[type=submit].btn-primary")
    user.wait_for_selector(".flash")
    assert "was created" in user.inner_text(".flash")
    assert "NORDIC TIMBER (a)" in user.inner_text("main")  # the formula
    user.goto(site.url + "/o/supplier")
    row = user.locator("tr", has_text="Nordic Timber")
    assert row.count() == 1
    screenshot(user, "supplier-list")
    assert user.js_errors == [] and page.js_errors == []
