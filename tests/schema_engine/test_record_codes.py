"""Issue 14, point 3: record codes never collide across objects. The proposed prefix is
unique among objects (Order ORD-, Order line OL-), a pattern whose prefix another object
uses or without a counter is refused naming the field, and a changed pattern applies to
records created from then on. Both engines."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.schema_service import SchemaService, default_code_pattern
from cardbase.schema_engine.store.records import RecordStore


def _object(svc, label: str, **extra):
    return svc.create_object(SYSTEM, {"label": label, "label_plural": label + "s", "fields": [
        {"name": "title", "label": "Title", "type": "string"}], **extra})


def test_order_and_order_line_get_different_prefixes(db):
    svc, store = SchemaService(db), RecordStore(db)
    order, line = _object(svc, "Order"), _object(svc, "Order line")
    assert order.code_pattern == "ORD-{00000}" and line.code_pattern == "OL-{00000}"
    third = _object(svc, "Ordinance")  # ORD- is taken, its single word has no initials
    assert third.code_pattern == "ORDI-{00000}"
    codes = {store.create(SYSTEM, o.api_name, {"title": "x"})["code"] for o in (order, line, third)}
    assert codes == {"ORD-00001", "OL-00001", "ORDI-00001"}  # one code, one record
    assert default_code_pattern("Order", {"ORD-", "ORDE-", "ORDER-"}) == "ORD2-{00000}"


def test_a_pattern_equal_to_another_objects_prefix_is_refused(db):
    svc = SchemaService(db)
    _object(svc, "Order", code_pattern="ORD-{YYYY}-{00000}")
    with pytest.raises(SchemaError) as err:
        _object(svc, "Order line", code_pattern="ord-{000000}")
    message = err.value.errors["code_pattern"][0]
    assert "the prefix ORD- is already used by the object 'Order'" in message
    line = _object(svc, "Order line", code_pattern="LINE-{000000}")
    with pytest.raises(SchemaError) as err:
        svc.update_object(SYSTEM, line.api_name, {"code_pattern": "ORD-{0000}"})
    assert "already used by the object 'Order'" in err.value.errors["code_pattern"][0]
    assert db.schema().object(line.api_name).code_pattern == "LINE-{000000}"  # nothing changed


def test_a_pattern_without_a_counter_is_refused(db):
    svc = SchemaService(db)
    with pytest.raises(SchemaError) as err:
        _object(svc, "Order", code_pattern="ORD-{YYYY}")
    assert "must contain exactly one counter" in err.value.errors["code_pattern"][0]
    order = _object(svc, "Order")
    with pytest.raises(SchemaError) as err:
        svc.update_object(SYSTEM, "order", {"code_pattern": "ORDER"})
    assert "must contain exactly one counter" in err.value.errors["code_pattern"][0]
    assert db.schema().object("order").code_pattern == order.code_pattern


def test_a_changed_pattern_and_title_apply_to_new_records(db):
    svc, store = SchemaService(db), RecordStore(db)
    _object(svc, "Order")
    first = store.create(SYSTEM, "order", {"title": "First"})
    obj = svc.update_object(SYSTEM, "order", {"code_pattern": "SO-{YY}-{0000}", "display_field": "title"})
    assert obj.code_pattern == "SO-{YY}-{0000}" and obj.display_field.api_name == "title"
    second = store.create(SYSTEM, "order", {"title": "Second"})
    assert first["code"] == "ORD-00001"
    assert store.get(SYSTEM, "order", first["id"])["code"] == "ORD-00001"  # kept
    assert second["code"].startswith("SO-") and second["code"].endswith("-0002")
