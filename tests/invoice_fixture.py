"""An order book for the document tests: clients, orders with lines, money in two
currencies, a clerk who may print orders and a junior whose group hides a field and sees
only part of the lines. ``docx_with`` builds small .docx files for the tests with
python-docx (paragraphs and tables of text, tags split across runs on request)."""
from __future__ import annotations

import io
from datetime import date
from typing import Iterable

import docx
import sqlalchemy as sa
from db_templates import from_template

from cardbase.schema_engine.actor import SYSTEM, Actor
from cardbase.schema_engine.meta_models import Group, User, UserGroup
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

INVOICE_TAGS = [
    "Invoice {{ order.code }} of {{ order.date|date('long') }}",
    "To: {{ client.company }}, phone {{ order.client.phone }}",
    "{% if order.urgent %}URGENT{% endif %}",
]


def build(db) -> None:
    from_template(db, "doc_invoice", _build)


def _build(db) -> None:
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "client", "label": "Client", "label_plural": "Clients", "fields": [
        {"name": "company", "label": "Company", "type": "string", "required": True},
        {"name": "phone", "label": "Phone", "type": "string"},
        {"name": "rating", "label": "Rating", "type": "integer"},
    ]})
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders",
                               "code_pattern": "INV-{0000}", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "client", "label": "Client", "type": "link", "options": {"target": "client", "on_delete": "cascade"}},
        {"name": "date", "label": "Date", "type": "date"},
        {"name": "urgent", "label": "Urgent", "type": "boolean"},
        {"name": "deposit", "label": "Deposit", "type": "money", "options": {"currency": "PLN"}},
        {"name": "margin", "label": "Margin", "type": "decimal", "options": {"precision": 12, "scale": 2}},
    ]})
    svc.create_object(SYSTEM, {"name": "order_line", "label": "Order line", "label_plural": "Order lines", "fields": [
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}},
        {"name": "product", "label": "Product", "type": "string"},
        {"name": "price", "label": "Price", "type": "money", "options": {"currency": "EUR"}},
        {"name": "quantity", "label": "Quantity", "type": "integer"},
        {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity]"}},
    ]})
    svc.add_field(SYSTEM, "order", {"name": "total", "label": "Total", "type": "rollup", "options": {
        "child": "order_line", "link": "order", "field": "cost", "aggregate": "sum"}})
    with db.write() as conn:
        clerks = conn.execute(sa.insert(Group).values(name="Clerks").returning(Group.id)).scalar_one()
        juniors = conn.execute(sa.insert(Group).values(name="Juniors").returning(Group.id)).scalar_one()
        for name, gid in (("clerk", clerks), ("junior", juniors)):
            uid = conn.execute(sa.insert(User).values(username=name, display_name=name.title())
                               .returning(User.id)).scalar_one()
            conn.execute(sa.insert(UserGroup).values(user_id=uid, group_id=gid))
    for group in ("Clerks", "Juniors"):
        rights_admin.set_object_rights(db, SYSTEM, group, "order", ["read", "print"])
        rights_admin.set_object_rights(db, SYSTEM, group, "client", ["read"])
        rights_admin.set_object_rights(db, SYSTEM, group, "order_line", ["read"])
    rights_admin.set_field_right(db, SYSTEM, "Juniors", "client", "phone", "hidden")
    # juniors see only the lines with a quantity below 3
    rights_admin.set_access_mode(db, SYSTEM, "order_line", "own_and_shared")
    rights_admin.save_rule_view(db, SYSTEM, "Juniors", "order_line", "small lines",
                                {"field": "quantity", "op": "lt", "value": 3})
    rights_admin.save_rule_view(db, SYSTEM, "Clerks", "order_line", "all lines",
                                {"field": "quantity", "op": "ge", "value": 0})


def actor(db, username: str) -> Actor:
    with db.read() as conn:
        row = conn.execute(sa.select(User).where(User.username == username)).mappings().one()
        groups = frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == row["id"])).scalars())
    return Actor(user_id=row["id"], username=username, group_ids=groups, is_admin=bool(row["is_admin"]))


def order_with_lines(store: RecordStore, lines: int = 3, *, title: str = "Spring order") -> int:
    client = store.create(SYSTEM, "client", {"company": "Müller & Söhne <GmbH>", "phone": "+49 30 1234567",
                                             "rating": 4})
    order = store.create(SYSTEM, "order", {"title": title, "client": client["id"], "date": date(2026, 3, 14),
                                           "urgent": True, "deposit": {"amount": "250.00", "currency": "PLN"},
                                           "margin": "1234.5"})
    store.bulk_create(SYSTEM, "order_line", [
        {"order": order["id"], "product": f"Product {i + 1}", "price": {"amount": f"{10 * (i + 1)}.50", "currency": "EUR"},
         "quantity": i + 1} for i in range(lines)])
    return order["id"]


def docx_with(paragraphs: Iterable[str] = (), table: list[list[str]] | None = None,
              split: dict[str, list[str]] | None = None) -> bytes:
    """A .docx of ``paragraphs`` and one ``table`` (rows of cell texts). ``split`` maps a
    paragraph to the runs it is written in, with a spelling mark between them (as Word
    leaves it after spell-checking)."""
    document = docx.Document()
    for text in paragraphs:
        if split and text in split:
            paragraph = document.add_paragraph()
            for i, part in enumerate(split[text]):
                if i:
                    paragraph._p.append(paragraph._p.makeelement(
                        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}proofErr",
                        {"{http://schemas.openxmlformats.org/wordprocessingml/2006/main}type": "spellStart"}))
                paragraph.add_run(part).bold = bool(i % 2)
        else:
            document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=max(len(r) for r in table))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                grid.rows[r].cells[c].text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def invoice_docx() -> bytes:
    """The tutorial's invoice: header fields, a table of lines repeated per child record,
    totals and the amount in words below."""
    return docx_with(INVOICE_TAGS + [
        "Total: {{ order.total|money('EUR') }}",
        "In words: {{ order.total|in_words('EUR') }}",
        "Lines total: {{ order_line|total('price') }}",
        "Deposit: {{ order.deposit }} ({{ order.deposit|in_words }})",
    ], table=[
        ["Product", "Price", "Quantity", "Cost"],
        ["{%tr for line in order_line %}", "", "", ""],
        ["{{ line.product }}", "{{ line.price }}", "{{ line.quantity }}", "{{ line.cost|number(2) }}"],
        ["{%tr endfor %}", "", "", ""],
        ["Total", "", "{{ order_line|total('quantity') }}", "{{ order.total|money('EUR') }}"],
    ])


def texts(content: bytes) -> tuple[list[str], list[list[str]]]:
    """Paragraph texts and table rows of a .docx, read back with python-docx."""
    document = docx.Document(io.BytesIO(content))
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    return [p.text for p in document.paragraphs], rows
