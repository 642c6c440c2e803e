"""The issue 13 scenario in every channel: Juniors read Clients, change Orders with a
Total under 1000 (record scope "only matching rule views"), do not see the Notes field,
and see an Order's lines exactly when they see the Order (parent-following) -- in the
list, the card, global search, the board, the export and the REST API, and nothing else."""
from __future__ import annotations

import csv
import io

import pytest
from api_testlib import PASSWORD, api_for, make_app, signed_in

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.scopes import set_parent_access, set_record_scope
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def shop(db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "client", "label": "Client", "label_plural": "Clients", "display_field": "name",
                               "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "display_field": "title",
                               "code_pattern": "O-{0000}", "fields": [
        {"name": "title", "label": "Title", "type": "string"},
        {"name": "total", "label": "Total", "type": "integer"},
        {"name": "status", "label": "Status", "type": "choice", "options": {"choices": ["open", "done"]}},
        {"name": "notes", "label": "Notes", "type": "text"},
        {"name": "client", "label": "Client", "type": "link", "options": {"target": "client", "on_delete": "restrict"}}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Order line", "label_plural": "Order lines",
                               "display_field": "item", "fields": [
        {"name": "item", "label": "Item", "type": "string"},
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}}]})
    store = RecordStore(db)
    acme = store.create(SYSTEM, "client", {"name": "Acme"})["id"]
    orders = {}
    for title, total in (("pencils", 300), ("printer", 5000), ("paper", 900)):
        orders[title] = store.create(SYSTEM, "order", {"title": title, "total": total, "status": "open",
                                                       "notes": f"note about {title}", "client": acme})["id"]
        store.create(SYSTEM, "line", {"item": f"{title}-line", "order": orders[title]})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "junior", PASSWORD)
    users.create_group(db, SYSTEM, "Juniors")
    users.add_member(db, SYSTEM, "junior", "Juniors")
    rights.set_object_rights(db, SYSTEM, "Juniors", "client", ["read", "export"])
    rights.set_object_rights(db, SYSTEM, "Juniors", "order", ["read", "edit", "export"])
    rights.set_object_rights(db, SYSTEM, "Juniors", "line", ["read", "edit", "export"])
    rights.set_field_right(db, SYSTEM, "Juniors", "order", "notes", "hidden")
    rights.save_rule_view(db, SYSTEM, "Juniors", "order", "Small orders", {"field": "total", "op": "lt", "value": 1000},
                          level="change")
    set_record_scope(db, SYSTEM, "Juniors", "order", "rule_views")
    set_parent_access(db, SYSTEM, "line", "order")
    app = make_app(db)
    lines = {r["item"]: r["id"] for r in store.list(SYSTEM, "line").data}
    return app, db, orders, lines


def body(response) -> str:
    return response.get_data(as_text=True)


def test_juniors_see_exactly_the_allowed_orders_and_lines_in_every_channel(shop):
    app, db, orders, lines = shop
    junior = signed_in(app, "junior")
    listing = body(junior.get("/o/order"))
    assert "pencils" in listing and "paper" in listing and "printer" not in listing
    assert "note about" not in listing and ">Notes<" not in listing
    line_list = body(junior.get("/o/line"))
    assert "pencils-line" in line_list and "paper-line" in line_list and "printer-line" not in line_list
    card = junior.get(f"/o/order/{orders['pencils']}")
    assert card.status_code == 200 and "note about" not in body(card)
    assert junior.get(f"/o/order/{orders['printer']}").status_code == 404
    assert junior.get(f"/o/line/{lines['printer-line']}").status_code == 404
    assert junior.get(f"/o/line/{lines['pencils-line']}").status_code == 200
    hidden = (f'/o/order/{orders["printer"]}"', f'/o/line/{lines["printer-line"]}"')
    for q in ("printer", "line", "note", "pencils"):
        found = body(junior.get("/search", query_string={"q": q}))
        assert not any(url in found for url in hidden), q
    assert f'/o/line/{lines["pencils-line"]}"' in body(junior.get("/search", query_string={"q": "line"}))
    assert f'/o/order/{orders["pencils"]}"' in body(junior.get("/search", query_string={"q": "pencils"}))
    assert f'/o/order/{orders["pencils"]}"' not in body(junior.get("/search", query_string={"q": "note"}))
    board = body(junior.get("/o/order/board"))
    assert "pencils" in board and "printer" not in board
    exported = body(junior.get("/o/order/export.csv"))
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert sorted(r["Title"] for r in rows) == ["paper", "pencils"] and all("Notes" not in r for r in rows)
    line_rows = list(csv.DictReader(io.StringIO(body(junior.get("/o/line/export.csv")).lstrip("\ufeff"))))
    assert sorted(r["Item"] for r in line_rows) == ["paper-line", "pencils-line"]
    api = api_for(app, db, "junior")
    assert sorted(r["title"] for r in api.get("/api/v1/records/order").get_json()["data"]) == ["paper", "pencils"]
    assert sorted(r["item"] for r in api.get("/api/v1/records/line").get_json()["data"]) == ["paper-line",
                                                                                          "pencils-line"]
    assert api.get(f"/api/v1/records/line/{lines['printer-line']}").status_code == 404
    root = signed_in(app, "root")
    assert "printer" in body(root.get("/o/order")) and "printer-line" in body(root.get("/o/line"))
