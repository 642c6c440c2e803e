"""Word templates in the browser (issue 16, point 6), with Chromium: a power user uploads a
template in the configurator and sees its report and the cheat-sheet; an end user opens an
order's card, chooses the template from Documents and gets the filled .docx; at phone
width the configurator page and the card's menu fit the screen."""
from __future__ import annotations

import io
from pathlib import Path

import docx

from cardbase.doc_templates import storage
from cardbase.doc_templates.starter import starter_template
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

PHONE = {"width": 390, "height": 844}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _first_order(site) -> dict:
    return RecordStore(site.db).list(SYSTEM, "order", ListQuery(limit=1, sort="id")).data[0]


def _paragraphs_and_rows(path: str) -> tuple[list[str], list[list[str]]]:
    document = docx.Document(io.BytesIO(Path(path).read_bytes()))
    return ([p.text for p in document.paragraphs],
            [[c.text for c in row.cells] for table in document.tables for row in table.rows])


def test_upload_a_template_and_fill_it_from_an_orders_card(page, site, login, screenshot):
    schema = site.db.schema()
    starter = starter_template(schema, schema.object("order"), "en")
    login(page, "admin")
    page.goto(site.url + "/designer/objects/order/templates")
    assert "{%tr for item in order_line %}" in page.locator("#cb-cheatsheet").inner_text()
    page.fill("#cb-template-name", "Order sheet")
    page.set_input_files("#cb-template-file", files=[{"name": "order.docx", "mimeType": DOCX, "buffer": starter}])
    with page.expect_navigation(wait_until="load"):
        page.click("#cb-template-save")
    assert page.locator("#cb-report-status").inner_text().startswith("Every placeholder names a field")
    screenshot(page, "designer-template")
    order = _first_order(site)
    page.goto(f"{site.url}/o/order/{order['id']}")
    page.click("#cb-documents-button")
    with page.expect_download() as info:
        page.locator(".cb-document-link", has_text="Order sheet").click()
    download = info.value
    assert download.suggested_filename == f"Order sheet {order['code']}.docx"
    paragraphs, rows = _paragraphs_and_rows(download.path())
    assert paragraphs[0] == f"Order {order['code']}"
    assert rows[0][0] == "Order date" and len(rows) > 4
    screenshot(page, "card-documents")
    assert page.js_errors == []


def test_at_phone_width_the_pages_fit(page, site, login, screenshot):
    store = RecordStore(site.db)
    if not any(t["name"] == "Label" for t in storage.list_templates(store, SYSTEM, "order", manage=True)):
        schema = site.db.schema()
        storage.create_template(store, SYSTEM, "order", name="Label", filename="label.docx",
                                content=starter_template(schema, schema.object("order"), "en"))
    login(page, "admin")
    page.set_viewport_size(PHONE)
    page.goto(site.url + "/designer/objects/order/templates")
    assert page.locator("#cb-cheatsheet").is_visible() and page.locator("#cb-template-upload").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-designer-templates")
    page.goto(f"{site.url}/o/order/{_first_order(site)['id']}")
    page.click("#cb-documents-button")
    item = page.locator(".cb-document-link", has_text="Label")
    item.wait_for()
    box = item.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "phone-card-documents")
    assert page.js_errors == []
