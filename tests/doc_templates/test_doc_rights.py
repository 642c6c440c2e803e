"""Rendering runs as the user (issue 16, point 5): through the session with purpose
"print"; a template using a field hidden from the user is refused naming the field; child
records the user cannot see are not listed; a record the user cannot see is not found."""
from __future__ import annotations

import pytest
from invoice_fixture import actor, build, docx_with, invoice_docx, order_with_lines, texts

from cardbase.doc_templates import documents, storage
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, NotFound
from cardbase.schema_engine.rights import admin as rights_admin
from cardbase.schema_engine.store import RecordStore

LINES = docx_with(["{{ order.title }}"], table=[
    ["{%tr for line in order_line %}"], ["{{ line.product }}: {{ line.quantity }}"], ["{%tr endfor %}"],
    ["{{ order_line|length }} lines, {{ order_line|total('quantity') }} pieces"]])


@pytest.fixture
def store(db):
    build(db)
    return RecordStore(db)


def _template(store, content, name="Invoice", groups=None):
    return storage.create_template(store, SYSTEM, "order", name=name, filename="t.docx", content=content,
                                   groups=groups)["id"]


def _render(store, who, template_id, order_id):
    with store.session(actor(store.db, who)) as s:
        return documents.render_document(s, "order", template_id, order_id)


def test_a_template_using_a_hidden_field_is_refused_naming_it(store):
    order_id = order_with_lines(store)
    template_id = _template(store, invoice_docx())
    with pytest.raises(Forbidden) as info:
        _render(store, "junior", template_id, order_id)
    assert info.value.message == "the template uses the field 'order.client.phone', which is hidden from you"
    paragraphs, _rows = texts(_render(store, "clerk", template_id, order_id).content)  # the clerk sees it
    assert paragraphs[1] == "To: Müller & Söhne <GmbH>, phone +49 30 1234567"


def test_a_hidden_field_in_a_child_table_is_refused_too(store):
    rights_admin.set_field_right(store.db, SYSTEM, "Juniors", "order_line", "quantity", "hidden")
    order_id = order_with_lines(store)
    with pytest.raises(Forbidden, match="the field 'order.order_line.quantity', which is hidden from you"):
        _render(store, "junior", _template(store, LINES), order_id)


def test_child_records_the_user_cannot_see_are_not_listed(store):
    order_id = order_with_lines(store, 4)
    template_id = _template(store, LINES)
    _paragraphs, junior = texts(_render(store, "junior", template_id, order_id).content)
    assert junior == [["Product 1: 1"], ["Product 2: 2"], ["2 lines, 3 pieces"]]  # the rule view: quantity < 3
    _paragraphs, clerk = texts(_render(store, "clerk", template_id, order_id).content)
    assert clerk[-1] == ["4 lines, 10 pieces"]


def test_a_record_the_user_cannot_see_is_not_found(store):
    order_id = order_with_lines(store)
    template_id = _template(store, LINES)
    rights_admin.set_access_mode(store.db, SYSTEM, "order", "own_and_shared")  # clerks own no order
    with pytest.raises(NotFound, match="there is no 'Order' record with id"):
        _render(store, "clerk", template_id, order_id)
    with pytest.raises(NotFound, match="there is no 'Order' record with id 999"):
        _render(store, "clerk", template_id, 999)


def test_printing_needs_the_print_right(store):
    order_id = order_with_lines(store)
    template_id = _template(store, LINES)
    rights_admin.set_object_rights(store.db, SYSTEM, "Clerks", "order", ["read"])
    with pytest.raises(Forbidden, match="you may not print Orders"):
        _render(store, "clerk", template_id, order_id)
    with store.session(actor(store.db, "clerk")) as s:
        assert storage.usable_templates(s, s.object("order")) == []


def test_a_template_for_some_groups_only(store):
    order_id = order_with_lines(store)
    template_id = _template(store, LINES, groups=["Clerks"])
    everyone = _template(store, docx_with(["{{ order.code }}"]), name="Label")
    with pytest.raises(Forbidden, match="the template 'Invoice' is for the groups Clerks only"):
        _render(store, "junior", template_id, order_id)
    assert texts(_render(store, "clerk", template_id, order_id).content)[0] == ["Spring order"]
    with store.session(actor(store.db, "junior")) as s:
        assert storage.usable_templates(s, s.object("order")) == [{"id": everyone, "name": "Label"}]
    assert [t["name"] for t in storage.list_templates(store, actor(store.db, "clerk"), "order")] == ["Invoice", "Label"]


def test_only_who_may_configure_the_object_manages_templates(store):
    clerk = actor(store.db, "clerk")
    with pytest.raises(Forbidden, match="you may not configure Orders"):
        storage.create_template(store, clerk, "order", name="X", filename="x.docx", content=LINES)
    template_id = _template(store, LINES)
    with pytest.raises(Forbidden, match="you may not configure Orders"):
        storage.delete_template(store, clerk, "order", template_id)
    with pytest.raises(Forbidden, match="you may not configure Orders"):
        storage.get_template(store, clerk, "order", template_id)
    rights_admin.set_object_rights(store.db, SYSTEM, "Clerks", "order", ["read", "print", "configure"])
    storage.update_template(store, clerk, "order", template_id, description="by the clerk")
    assert storage.get_template(store, clerk, "order", template_id)["description"] == "by the clerk"
