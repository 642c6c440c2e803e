"""Issue 14, point 7: a phone number is found as it is displayed and as it is typed at
home ("+49 30 1234567", "030 1234567", "0301234567", "+4930 ..."), through the shared
search document and through the per-field search of a reader who may not see every
searchable field -- on both engines."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join

AS_SHOWN = ["+49 30 1234567", "030 1234567", "0301234567", "+4930 1234567", "030 123", "+4930123"]
NOT_IT = ["+49 40 1234567", "040 1234567", "030 7654321", "+33 30 1234567"]


@pytest.fixture
def phones(db):
    svc, store = crm(db)
    svc.add_field(SYSTEM, "contact", {"name": "phone", "label": "Phone", "type": "phone"})
    mine = store.create(SYSTEM, "contact", {"name": "Anna", "phone": "+49 30 1234567"})
    store.create(SYSTEM, "contact", {"name": "Bert", "phone": "+49 40 7654321"})
    store.create(SYSTEM, "contact", {"name": "Cleo", "phone": "+33 1 42 68 53 00"})
    return store, mine


def found(store, text: str) -> list[str]:
    return [r["name"] for r in store.list(SYSTEM, "contact", ListQuery(search=text)).data]


def test_the_displayed_format_is_the_one_searched(phones):
    store, mine = phones
    contact = store.get(SYSTEM, "contact", mine["id"])
    phone = store.db.schema().object("contact").fields_by_name["phone"]
    assert phone.ftype.format(phone, contact["phone"]) == "+49 30 1234567"  # what the list shows ...
    assert found(store, "+49 30 1234567") == ["Anna"]  # ... is what finds it


@pytest.mark.parametrize("typed", AS_SHOWN)
def test_a_phone_is_found_as_shown_and_as_typed_nationally(phones, typed):
    store, _mine = phones
    assert found(store, typed) == ["Anna"]


@pytest.mark.parametrize("typed", NOT_IT)
def test_other_numbers_do_not_match(phones, typed):
    store, _mine = phones
    assert "Anna" not in found(store, typed)


def test_a_reader_who_may_not_see_every_field_finds_it_the_same_way(phones, db):
    """Such a reader's search runs field by field (scope.visible_search), not on the
    shared document: the national and international forms find the number there too."""
    from cardbase.schema_engine import rights

    store, mine = phones
    pat_id, callers = add_user(db, "pat"), add_group(db, "Callers")
    join(db, pat_id, callers)
    rights.set_object_rights(db, SYSTEM, "Callers", "contact", ["read"])
    rights.set_field_right(db, SYSTEM, "Callers", "contact", "name", "hidden")
    pat = actor(db, pat_id)
    for typed in ("+49 30 1234567", "030 1234567", "0301234567"):
        page = store.list(pat, "contact", ListQuery(search=typed))
        assert [r["id"] for r in page.data] == [mine["id"]], typed
    assert store.list(pat, "contact", ListQuery(search="040 1234567")).data == []
