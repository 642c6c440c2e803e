"""PDF (issue 16, point 7): where LibreOffice is installed (soffice), documents are also
produced as PDF; .ci/run installs Debian's libreoffice-writer-nogui, so under CI=true a
missing soffice fails this test instead of passing silently. Without LibreOffice the PDF
option is not offered and a PDF request is refused with a clear message."""
from __future__ import annotations

import io
import os
import re
import zipfile

import pytest
from invoice_fixture import build, invoice_docx, order_with_lines

from cardbase.doc_templates import documents, pdf, storage
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.store import RecordStore


def on_ci() -> bool:
    """As tests/conftest.py reads it (CI=true: a missing system package is an error)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


@pytest.fixture
def invoice(db):
    build(db)
    store = RecordStore(db)
    order_id = order_with_lines(store, 3)
    template_id = storage.create_template(store, SYSTEM, "order", name="Invoice", filename="i.docx",
                                          content=invoice_docx())["id"]
    return store, template_id, order_id


def _render(store, template_id, order_id, fmt):
    with store.session(SYSTEM) as s:
        return documents.render_document(s, "order", template_id, order_id, fmt)


def test_documents_as_pdf_when_libreoffice_is_installed(invoice):
    store, template_id, order_id = invoice
    if not pdf.available():
        assert not on_ci(), ".ci/run installs libreoffice-writer-nogui: soffice must be there under CI"
        assert documents.formats() == ("docx",)
        with pytest.raises(ValidationError, match="PDF is not available: LibreOffice is not installed"):
            _render(store, template_id, order_id, "pdf")
        return
    assert documents.formats() == ("docx", "pdf")
    document = _render(store, template_id, order_id, "pdf")
    assert (document.filename, document.mimetype) == ("Invoice INV-0001.pdf", "application/pdf")
    assert document.content.startswith(b"%PDF-") and document.content.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", document.content)) == 1  # one page: the invoice


def test_without_libreoffice_the_pdf_option_is_not_offered(invoice, monkeypatch):
    store, template_id, order_id = invoice
    monkeypatch.setattr(pdf, "soffice", lambda: None)
    assert documents.formats() == ("docx",)
    with pytest.raises(ValidationError) as info:
        _render(store, template_id, order_id, "pdf")
    assert info.value.errors == {"format": ["PDF is not available: LibreOffice is not installed on the server"]}


def test_a_zip_of_pdfs_is_made_in_one_libreoffice_run(invoice, monkeypatch):
    store, template_id, first = invoice
    second = order_with_lines(store, 1, title="Second")
    if not pdf.available():
        assert not on_ci(), ".ci/run installs libreoffice-writer-nogui: soffice must be there under CI"
        with store.session(SYSTEM) as s, pytest.raises(ValidationError, match="PDF is not available"):
            documents.render_archive(s, "order", template_id, [first, second], "pdf")
        return
    runs = []
    real = pdf.to_pdfs
    monkeypatch.setattr(pdf, "to_pdfs", lambda docs: runs.append(len(docs)) or real(docs))
    with store.session(SYSTEM) as s:
        archive = documents.render_archive(s, "order", template_id, [first, second], "pdf")
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        assert z.namelist() == ["Invoice INV-0001.pdf", "Invoice INV-0002.pdf"]
        assert all(z.read(n).startswith(b"%PDF-") for n in z.namelist())
    assert runs == [2]
