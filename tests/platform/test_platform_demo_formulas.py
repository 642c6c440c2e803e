"""The demo CRM's calculations: order line cost, order total, the contact's city."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store import RecordStore


@pytest.fixture
def demo_db(cli, new_url):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "chief-pass-2024"}).exit_code == 0
    assert cli("demo", "--records", "120").exit_code == 0
    db = Database(new_url)
    yield db
    db.dispose()


def test_demo_orders_total_their_lines_and_contacts_show_the_city(demo_db):
    store = RecordStore(demo_db)
    lines = store.list(SYSTEM, "order_line", ListQuery(limit=500, fields=["order", "price", "quantity", "cost"])).data
    assert lines
    totals: dict[int, Decimal] = {}
    for line in lines:
        # a formula over money is money in the price's currency (issue 14, point 1)
        assert (line["cost"].amount, line["cost"].currency) == (
            (line["price"].amount * line["quantity"]).quantize(Decimal("0.01")), line["price"].currency)
        totals[line["order"].id] = totals.get(line["order"].id, Decimal(0)) + line["cost"].amount
    for order in store.list(SYSTEM, "order", ListQuery(limit=500, fields=["total"])).data:
        assert order["total"].amount == totals.get(order["id"]) and order["total"].currency == "EUR", order
    contacts = store.list(SYSTEM, "contact_person", ListQuery(limit=500, fields=["city", "organisation.city"])).data
    assert contacts and all(c["city"] == c["organisation.city"] for c in contacts)
    # editing a line moves its order's total in the same transaction
    line = lines[0]
    full = store.get(SYSTEM, "order_line", line["id"])
    store.update(SYSTEM, "order_line", line["id"], {"quantity": line["quantity"] + 1}, version=full["version"])
    order = store.get(SYSTEM, "order", line["order"].id)
    assert order["total"].amount == totals[line["order"].id] + line["price"].amount
