"""The demo CRM has the tutorial's invoice (issue 16): an order's Word template that fits
the demo's metadata and fills from a demo order with its lines and total."""
from __future__ import annotations

import io

import docx
from api_testlib import templated

from cardbase.doc_templates import documents, storage
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore


def _demo(db) -> None:
    from cardbase.platform.cli import initialise, load_demo
    initialise(db)
    users.set_password(db, "admin", "chief-pass-2024")
    load_demo(db, 60)


def test_the_demo_has_an_invoice_template_that_fills_from_an_order(db):
    templated(db, "demo_templates_60", _demo)
    store = RecordStore(db)
    [invoice] = storage.list_templates(store, SYSTEM, "order", manage=True)
    assert (invoice["name"], invoice["problems"]) == ("Invoice", [])
    order = store.list(SYSTEM, "order", ListQuery(limit=1, sort="id")).data[0]
    lines = store.list(SYSTEM, "order_line", ListQuery(filter={"field": "order", "op": "eq", "value": order["id"]}))
    with store.session(SYSTEM) as s:
        document = documents.render_document(s, "order", invoice["id"], order["id"])
    filled = docx.Document(io.BytesIO(document.content))
    paragraphs = [p.text for p in filled.paragraphs]
    rows = [[c.text for c in row.cells] for row in filled.tables[0].rows]
    assert paragraphs[0] == f"Invoice {order['code']}"
    assert paragraphs[2].startswith(f"To: {order['organisation'].display}, ")
    assert len(rows) == 1 + len(lines.data) + 1 and rows[-1][0] == "Total" and rows[-1][3].startswith("€")
    assert paragraphs[3].startswith("Amount in words: ") and "euro" in paragraphs[3]
