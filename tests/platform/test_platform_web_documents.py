"""Documents in the browser (issue 16, point 6): the card's Documents menu (templates the
user may fill; PDF only where LibreOffice is installed) and the list's documents for a
selection as one .zip."""
from __future__ import annotations

import io
import zipfile

import pytest
from api_testlib import PASSWORD, make_app, signed_in
from invoice_fixture import build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import pdf, storage
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store import RecordStore


@pytest.fixture
def app(db):
    build(db)
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "carla", PASSWORD)
    users.add_member(db, SYSTEM, "carla", "Clerks")
    users.create_user(db, "nina", PASSWORD)  # no group: may not even read orders
    return make_app(db)


@pytest.fixture
def orders(db):
    store = RecordStore(db)
    ids = [order_with_lines(store, 3), order_with_lines(store, 1, title="Second")]
    invoice = storage.create_template(store, SYSTEM, "order", name="Invoice", filename="i.docx", content=invoice_docx())
    label = storage.create_template(store, SYSTEM, "order", name="Label", filename="l.docx",
                                    content=docx_with(["{{ order.code }}: {{ order.title }}"]), groups=["Juniors"])
    return ids, invoice["id"], label["id"]


def test_the_card_offers_the_users_templates_and_downloads_a_document(app, orders, monkeypatch):
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    (first, _second), invoice, label = orders
    client = signed_in(app, "carla")
    page = client.get(f"/o/order/{first}").get_data(as_text=True)
    assert 'id="cb-documents-button"' in page and ">Documents<" in page
    assert f"/o/order/{first}/documents/{invoice}" in page
    assert f"/documents/{label}" not in page  # the label is for the Juniors only
    assert "(PDF)" not in page  # no LibreOffice: no PDF option
    response = client.get(f"/o/order/{first}/documents/{invoice}")
    assert response.status_code == 200
    assert 'attachment; filename="Invoice INV-0001.docx"' == response.headers["Content-Disposition"]
    paragraphs, rows = texts(response.data)
    assert paragraphs[0] == "Invoice INV-0001 of March 14, 2026" and len(rows) == 5


def test_the_pdf_option_shows_only_with_libreoffice(app, orders, monkeypatch):
    (first, _second), invoice, _label = orders
    monkeypatch.setattr(pdf, "soffice", lambda: "/usr/bin/soffice")
    page = signed_in(app, "carla").get(f"/o/order/{first}").get_data(as_text=True)
    assert f"/o/order/{first}/documents/{invoice}?format=pdf" in page and "Invoice (PDF)" in page
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    client = signed_in(app, "carla")
    assert "(PDF)" not in client.get(f"/o/order/{first}").get_data(as_text=True)
    refused = client.get(f"/o/order/{first}/documents/{invoice}?format=pdf")
    assert refused.status_code == 422
    assert "PDF is not available: LibreOffice is not installed on the server" in refused.get_data(as_text=True)


def test_no_documents_without_the_rights(app, orders):
    (first, _second), invoice, _label = orders
    nina = signed_in(app, "nina")
    assert nina.get(f"/o/order/{first}/documents/{invoice}").status_code == 403
    root = signed_in(app, "root")
    assert root.get(f"/o/order/{first}/documents/999").status_code == 404
    assert root.get(f"/o/order/999/documents/{invoice}").status_code == 404


def test_the_documents_of_a_list_selection_as_one_zip(app, orders):
    (first, second), invoice, _label = orders
    client = signed_in(app, "carla")
    page = client.get("/o/order").get_data(as_text=True)
    assert 'id="cb-bulk-documents-button"' in page and 'formaction="/o/order/documents"' in page
    response = client.post("/o/order/documents", data={"r": [f"{first}:1", f"{second}:1"], "template": str(invoice),
                                                       "next": "/o/order"})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert archive.namelist() == ["Invoice INV-0001.docx", "Invoice INV-0002.docx"]
        assert texts(archive.read("Invoice INV-0002.docx"))[0][0] == "Invoice INV-0002 of March 14, 2026"


def test_bad_selections_are_refused_with_a_message(app, orders):
    (first, _second), invoice, label = orders
    client = signed_in(app, "carla")
    for data, message in [
        ({"template": str(invoice)}, "No documents were made: select at least one record first."),
        ({"r": "x:1", "template": str(invoice)}, "&#39;x:1&#39; is not a record of this list."),
        ({"r": f"{first}:1"}, "Choose a template."),
        ({"r": f"{first}:1", "template": str(label)},
         "No documents were made: the template &#39;Label&#39; is for the groups Juniors only"),
        ({"r": ["999:1"], "template": str(invoice)}, "No documents were made: there is no &#39;Order&#39; record"),
    ]:
        response = client.post("/o/order/documents", data={**data, "next": "/o/order"})
        assert response.status_code == 302 and response.headers["Location"] == "/o/order"
        assert message in client.get("/o/order").get_data(as_text=True)
