"""Issue 14, point 4: a source field is filled from the linked record when the link is
chosen -- an order line's Price from its Product's Price -- and stays editable afterwards;
in the store, the web card, the API and bulk writes; unlike a lookup it keeps its value
when the product's price changes. A source of another type is refused. Both engines."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import PASSWORD, TEST_CONFIG, api_for, signed_in

EUR = lambda text: Money(Decimal(text), "EUR")  # noqa: E731


def build(db) -> dict[str, int]:
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "product", "label": "Product", "label_plural": "Products", "fields": [
        {"name": "name", "label": "Name", "type": "string", "required": True},
        {"name": "price", "label": "Price", "type": "money"},
        {"name": "sku", "label": "SKU", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Order line", "label_plural": "Order lines", "fields": [
        {"name": "product", "label": "Product", "type": "link", "options": {"target": "product", "on_delete": "restrict"}},
        {"name": "price", "label": "Price", "type": "money", "source": {"link": "product", "field": "price"}},
        {"name": "quantity", "label": "Quantity", "type": "integer"}]})
    chair = store.create(SYSTEM, "product", {"name": "Chair", "price": "49.90"})
    desk = store.create(SYSTEM, "product", {"name": "Desk", "price": "310"})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    return {"chair": chair["id"], "desk": desk["id"]}


@pytest.fixture
def site(db):
    ids = build(db)
    return create_app(TEST_CONFIG, db=db), ids


def test_the_price_comes_from_the_product_and_stays_editable(site, db):
    _app, ids = site
    store = RecordStore(db)
    line = store.create(SYSTEM, "line", {"product": ids["chair"], "quantity": 2})
    assert line["price"] == EUR("49.90")
    typed = store.create(SYSTEM, "line", {"product": ids["chair"], "price": "45"})
    assert typed["price"] == EUR("45.00")  # what the writer typed wins
    line = store.update(SYSTEM, "line", line["id"], {"price": "39.90"}, version=line["version"])
    assert line["price"] == EUR("39.90")  # editable afterwards
    line = store.update(SYSTEM, "line", line["id"], {"quantity": 3}, version=line["version"])
    assert line["price"] == EUR("39.90")  # the link did not change: nothing copied again
    line = store.update(SYSTEM, "line", line["id"], {"product": ids["desk"]}, version=line["version"])
    assert line["price"] == EUR("310.00")  # a new product: its price
    chair = store.get(SYSTEM, "product", ids["desk"])
    store.update(SYSTEM, "product", ids["desk"], {"price": "999"}, version=chair["version"])
    assert store.get(SYSTEM, "line", line["id"])["price"] == EUR("310.00")  # not a live lookup


def test_the_api_and_bulk_writes_fill_it_too(site, db):
    app, ids = site
    api = api_for(app, db, "root")
    created = api.post("/api/v1/records/line", {"product": ids["desk"], "quantity": 1}).get_json()
    assert created["price"] == {"amount": "310.00", "currency": "EUR"}
    changed = api.patch(f"/api/v1/records/line/{created['id']}", {"product": ids["chair"],
                                                                   "version": created["version"]}).get_json()
    assert changed["price"] == {"amount": "49.90", "currency": "EUR"}
    store = RecordStore(db)
    results = store.bulk_write(SYSTEM, "line", [
        {"product": ids["chair"]}, {"product": ids["desk"], "price": "1"},
        {"id": created["id"], "version": changed["version"], "product": ids["desk"]}])
    got = {r["id"]: store.get(SYSTEM, "line", r["id"])["price"] for r in results}
    assert list(got.values()) == [EUR("49.90"), EUR("1.00"), EUR("310.00")]
    field = api.get("/api/v1/objects/line").get_json()
    shown = next(f for f in field["fields"] if f["name"] == "price")
    assert shown["source"] == {"link": "product", "field": "price"}


def test_the_web_card_fills_it_when_the_product_is_chosen(site, db):
    app, ids = site
    client = signed_in(app, "root")
    response = client.post("/o/line/new", data={"f-product": str(ids["desk"]), "f-price": "", "f-quantity": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
    rid = int(response.headers["Location"].rsplit("/", 1)[1])
    assert RecordStore(db).get(SYSTEM, "line", rid)["price"] == EUR("310.00")


def test_a_source_of_another_type_or_not_through_a_link_is_refused(site, db):
    svc = SchemaService(db)
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "line", {"name": "number", "label": "Number", "type": "integer",
                                       "source": {"link": "product", "field": "sku"}})
    assert err.value.errors == {"source.field": [
        "'Product.SKU' is a string field; 'Number' is a integer field: a source must have the same type"]}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "line", {"name": "n", "label": "N", "type": "integer",
                                       "source": {"link": "quantity", "field": "price"}})
    assert err.value.errors == {"source.link": ["'quantity' is not a link field of 'Order line'"]}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "line", {"name": "m", "label": "M", "type": "money", "source": "product.price"})
    assert "must be an object like" in err.value.errors["source"][0]


def test_the_configurator_sets_and_shows_a_source(site, db):
    from designer_testlib import field_form, page
    app, ids = site
    client = signed_in(app, "root")
    _html, state = page(client, "/designer/objects/line/new-field")
    bad = client.post("/designer/objects/line/new-field", data=field_form(
        state, label="List price", type="integer", source="product.price"))
    assert bad.status_code == 422 and "a source must have the same type" in bad.get_data(as_text=True)
    good = client.post("/designer/objects/line/new-field", data=field_form(
        state, label="List price", type="money", source="product.price", **{"money.currency": "EUR"}))
    assert good.status_code == 302, good.get_data(as_text=True)[-2000:]
    field = db.schema().object("line").field("list_price")
    assert field.source is not None
    html, _state = page(client, "/designer/objects/line/fields/list_price")
    assert re.search(r'name="source"\s+value="product.price"', html)
    line = RecordStore(db).create(SYSTEM, "line", {"product": ids["chair"]})
    assert line["list_price"] == EUR("49.90")


def test_a_source_travels_in_a_solution(site, db, tmp_path):
    from cardbase.schema_engine.db import Database
    from cardbase.schema_engine.solution import export_solution, import_solution
    document = export_solution(db)
    line = next(o for o in document["objects"] if o["name"] == "line")
    assert next(f for f in line["fields"] if f["name"] == "price")["source"] == {"link": "product", "field": "price"}
    other = Database(f"sqlite:///{tmp_path}/copy.db")
    other.create_system_tables()
    import_solution(other, document)
    assert RecordStore(other).create(SYSTEM, "product", {"name": "Lamp", "price": "12"})["id"]
    copied = RecordStore(other).create(SYSTEM, "line", {"product": 1})
    assert copied["price"] == EUR("12.00")
    other.dispose()


def test_the_link_picker_offers_the_values_to_fill_in(site, db):
    app, ids = site
    client = signed_in(app, "root")
    found = client.get("/o/line/links/product?q=Desk").get_json()
    assert found == [{"id": ids["desk"], "display": "Desk", "fill": {"price": ["310.00", "EUR"]}}]
    other = client.get("/o/line/links/quantity?q=x")
    assert other.status_code in (400, 404, 422)  # not a link: no choices
