"""The demo's Word template (issue 16): the tutorial's invoice of an order -- the
organisation through the order's link, a table row per order line, the total and the
amount in words -- made with python-docx and stored like an upload (checked against the
demo's metadata)."""
from __future__ import annotations

import io

import docx

from cardbase.doc_templates import storage
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.store import RecordStore


def invoice_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Invoice {{ order.code }}", level=1)
    document.add_paragraph("Date: {{ order.order_date|date('long') }}")
    document.add_paragraph("To: {{ organisation.name }}, {{ order.organisation.city }}, "
                           "{{ order.organisation.country }}")
    table = document.add_table(rows=4, cols=4)
    table.style = "Table Grid"
    for i, label in enumerate(("Product", "Price", "Quantity", "Cost")):
        table.rows[0].cells[i].text = label
    table.rows[1].cells[0].text = "{%tr for line in order_line %}"
    for i, cell in enumerate(("{{ line.product }}", "{{ line.price }}", "{{ line.quantity }}",
                              "{{ line.cost|money('EUR') }}")):
        table.rows[2].cells[i].text = cell
    table.rows[3].cells[0].text = "{%tr endfor %}"
    total = table.add_row().cells
    total[0].text, total[3].text = "Total", "{{ order.total|money('EUR') }}"
    document.add_paragraph("Amount in words: {{ order.total|in_words('EUR') }}")
    document.add_paragraph("{% if order.status == 'Paid' %}Paid with thanks.{% else %}Payable within 14 days."
                           "{% endif %}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def install_demo_templates(store: RecordStore, actor: Actor) -> dict:
    return storage.create_template(store, actor, "order", name="Invoice",
                                   description="The tutorial's invoice: lines, total and the amount in words",
                                   language="en", filename="invoice.docx", content=invoice_docx())
