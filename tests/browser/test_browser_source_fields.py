"""Issue 14, point 4 in the browser: choosing a product on a new order line fills its price
from the product while the row is edited (a field whose source is the link); the price
stays editable and is saved as shown."""
from __future__ import annotations

from decimal import Decimal

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


def test_choosing_a_product_fills_the_price_and_it_stays_editable(page, site, login, screenshot):
    SchemaService(site.db).update_field(SYSTEM, "order_line", "price", {"source": {"link": "product", "field": "price"}})
    store = RecordStore(site.db)
    order = store.list(SYSTEM, "order", ListQuery(limit=1, sort="id")).data[0]
    product = store.list(SYSTEM, "product", ListQuery(limit=1, sort="id")).data[0]
    login(page, "sam")
    page.goto(f"{site.url}/o/order/{order['id']}")
    page.click(".cb-part .cb-row-add")
    page.wait_for_selector("tr.cb-row-editing")
    page.fill("tr.cb-row-editing input[name=c-quantity]", "2")
    page.click("tr.cb-row-editing input[name=c-product-text]")
    page.keyboard.type(product["name"][:6])
    page.wait_for_selector("tr.cb-row-editing .cb-link-list.show button")
    page.click("tr.cb-row-editing .cb-link-list.show button >> nth=0")
    page.wait_for_function("() => document.querySelector('tr.cb-row-editing input[name=c-price]').value !== ''")
    shown = page.input_value("tr.cb-row-editing input[name=c-price]")
    chosen = store.get(SYSTEM, "product", int(page.input_value("tr.cb-row-editing input[name=c-product]")))
    assert Decimal(shown.replace(",", "")) == chosen["price"].amount
    page.fill("tr.cb-row-editing input[name=c-price]", "12.34")  # editable afterwards
    page.click("tr.cb-row-editing .cb-row-save")
    page.wait_for_function("() => !document.querySelector('tr.cb-row-editing')")
    lines = store.list(SYSTEM, "order_line", ListQuery(filter={"field": "order", "op": "eq", "value": order["id"]},
                                                       sort="-id", limit=1)).data
    assert lines[0]["price"].amount == Decimal("12.34")
    screenshot(page, "source-field")
    assert page.js_errors == []
