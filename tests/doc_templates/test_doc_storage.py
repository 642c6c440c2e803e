"""Templates in the database (issue 16, point 1): per object, with a name, a description,
a language and the groups that may use them, versioned; bad metadata is refused naming
the field."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from invoice_fixture import build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import documents, storage
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import ConfigChange
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.template_models import DocTemplateVersion


@pytest.fixture
def store(db):
    build(db)
    return RecordStore(db)


def test_a_template_is_stored_versioned_in_the_database(store, db):
    first_file = invoice_docx()
    first = storage.create_template(store, SYSTEM, "order", name="Invoice", description="The tutorial's invoice",
                                    language="de", groups=["Clerks", "Juniors"], filename="invoice.docx",
                                    content=first_file)
    assert {k: first[k] for k in ("object", "name", "description", "language", "groups", "version", "filename",
                                  "problems")} == {
        "object": "order", "name": "Invoice", "description": "The tutorial's invoice", "language": "de",
        "groups": ["Clerks", "Juniors"], "version": 1, "filename": "invoice.docx", "problems": []}
    second_file = docx_with(["Invoice v2 {{ order.code }}"])
    second = storage.update_template(store, SYSTEM, "order", first["id"], filename="invoice-2.docx",
                                     content=second_file, groups=["Clerks"], name="Invoice (new)")
    assert (second["version"], second["filename"], second["groups"], second["name"]) == (
        2, "invoice-2.docx", ["Clerks"], "Invoice (new)")
    assert [v["number"] for v in second["versions"]] == [2, 1]
    assert storage.template_content(store, SYSTEM, "order", first["id"], 1) == ("invoice.docx", first_file)
    assert storage.template_content(store, SYSTEM, "order", first["id"]) == ("invoice-2.docx", second_file)
    with db.read() as conn:  # the files are in the database itself
        stored = conn.execute(sa.select(DocTemplateVersion.number, DocTemplateVersion.content)
                              .order_by(DocTemplateVersion.number)).all()
        actions = conn.execute(sa.select(ConfigChange.action).where(ConfigChange.action.like("template.%"))).scalars()
        assert [n for n, _c in stored] == [1, 2] and stored[1][1] == second_file
        assert list(actions) == ["template.create", "template.update"]
    order_id = order_with_lines(store, 1)
    with store.session(SYSTEM) as s:  # the newest version is the one in use
        assert texts(documents.render_document(s, "order", first["id"], order_id).content)[0] == ["Invoice v2 INV-0001"]


def test_a_refused_new_version_keeps_the_old_one(store):
    template = storage.create_template(store, SYSTEM, "order", name="Invoice", filename="i.docx",
                                       content=invoice_docx())
    with pytest.raises(ValidationError, match="'order' has no field or child list 'nope'"):
        storage.update_template(store, SYSTEM, "order", template["id"], filename="i.docx",
                                content=docx_with(["{{ order.nope }}"]), name="Renamed")
    again = storage.get_template(store, SYSTEM, "order", template["id"])
    assert (again["version"], again["name"], len(again["versions"])) == (1, "Invoice", 1)


BAD_METADATA = [
    ({"name": ""}, {"name": ["a template needs a name"]}),
    ({"name": "x" * 201}, {"name": ["at most 200 characters"]}),
    ({"description": 5}, {"description": ["text of at most 2000 characters"]}),
    ({"language": "fr"}, {"language": ["'fr' is not a document language; use one of en, de, pl"]}),
    ({"groups": ["Nobody"]}, {"groups": ["there is no group 'Nobody'"]}),
    ({"groups": "Clerks"}, {"groups": ["a list of group names"]}),
]


@pytest.mark.parametrize("change, errors", BAD_METADATA, ids=[next(iter(c)) + str(i) for i, (c, _e) in
                                                              enumerate(BAD_METADATA)])
def test_bad_metadata_is_refused_naming_the_field(store, change, errors):
    values = {"name": "Invoice", "filename": "i.docx", "content": invoice_docx(), **change}
    with pytest.raises(ValidationError) as info:
        storage.create_template(store, SYSTEM, "order", **values)
    assert info.value.errors == errors
    assert storage.list_templates(store, SYSTEM, "order", manage=True) == []


def test_names_are_unique_per_object(store):
    storage.create_template(store, SYSTEM, "order", name="Invoice", filename="i.docx", content=invoice_docx())
    with pytest.raises(ValidationError, match="Orders already have a template named 'Invoice'"):
        storage.create_template(store, SYSTEM, "order", name="Invoice", filename="i.docx", content=invoice_docx())
    storage.create_template(store, SYSTEM, "client", name="Invoice", filename="c.docx",
                            content=docx_with(["{{ client.company }}"]))
