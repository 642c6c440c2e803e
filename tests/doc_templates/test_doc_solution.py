"""Word templates travel with solutions (issue 16, point 1: "so solutions ... carry
them"): exported with the configuration, imported in the import's one transaction and
checked against the imported metadata; a template that does not fit refuses the document."""
from __future__ import annotations

import base64
import copy

import pytest
from invoice_fixture import build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import documents, storage
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.store import RecordStore


def test_templates_go_out_and_come_in_with_the_solution(db, make_database):
    build(db)
    source = RecordStore(db)
    content = invoice_docx()
    storage.create_template(source, SYSTEM, "order", name="Invoice", description="tutorial", language="de",
                            groups=["Clerks"], filename="invoice.docx", content=content)
    document = export_solution(db)
    [entry] = document["templates"]
    assert {k: entry[k] for k in ("object", "name", "description", "language", "groups", "filename")} == {
        "object": "order", "name": "Invoice", "description": "tutorial", "language": "de", "groups": ["Clerks"],
        "filename": "invoice.docx"}
    assert base64.b64decode(entry["content"]) == content

    from cardbase.schema_engine.db import Database
    target_db = Database(make_database(db.engine.dialect.name))
    try:
        target_db.create_system_tables()
        report = import_solution(target_db, document)
        assert "template order: Invoice (groups not here, left out: Clerks)" in report["added"]
        target = RecordStore(target_db)
        [imported] = storage.list_templates(target, SYSTEM, "order", manage=True)
        assert (imported["name"], imported["language"], imported["groups"], imported["problems"]) == (
            "Invoice", "de", [], [])
        order_id = order_with_lines(target, 3)
        with target.session(SYSTEM) as s:
            paragraphs, _rows = texts(documents.render_document(s, "order", imported["id"], order_id).content)
        assert paragraphs[3] == "Total: 143,00\xa0€"
        again = import_solution(target_db, document)  # the same document again: nothing changes
        assert not [line for line in again["added"] + again["changed"] if line.startswith("template")]
        changed = copy.deepcopy(document)
        changed["templates"][0]["content"] = base64.b64encode(docx_with(["v2 {{ order.code }}"])).decode()
        assert "template order: Invoice (groups not here, left out: Clerks)" in import_solution(
            target_db, changed)["changed"]
        assert storage.list_templates(target, SYSTEM, "order", manage=True)[0]["version"] == 2
    finally:
        target_db.dispose()


def test_a_template_that_does_not_fit_refuses_the_document(db):
    build(db)
    store = RecordStore(db)
    document = export_solution(db)
    document["templates"] = [{"object": "order", "name": "Bad", "filename": "bad.docx", "language": "en",
                              "content": base64.b64encode(docx_with(["{{ order.nope }}"])).decode()}]
    with pytest.raises(SchemaError) as info:
        import_solution(db, document)
    assert "templates[0]" in info.value.errors
    assert "'order' has no field or child list 'nope'" in info.value.errors["templates[0]"][0]
    document["templates"] = [{"object": "order", "name": "Bad", "filename": "bad.docx", "content": "%%%"}]
    with pytest.raises(SchemaError, match="must be the .docx file in base64"):
        import_solution(db, document)
    document["templates"] = [{"object": "ghost", "name": "X", "filename": "x.docx", "content": ""}]
    with pytest.raises(SchemaError, match="there is no object 'ghost' in the solution"):
        import_solution(db, document)
    assert storage.list_templates(store, SYSTEM, "order", manage=True) == []


def test_the_cli_and_scripts_register_templates_with_solutions_and_usages():
    """The composition root imports doc_templates: `cardbase solution export` carries
    templates and `cardbase` schema changes see what templates use, in a fresh process."""
    import subprocess
    import sys

    code = ("import cardbase.platform.cli\n"
            "from cardbase.schema_engine import solution, usage\n"
            "print(sorted(p.key for p in solution._parts))\n"
            "print(sorted(f.__name__ for f in usage._field_finders))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "'templates'" in out.splitlines()[0]
    assert "_templates_using_field" in out.splitlines()[1]
