"""The configure right never grants read (issue 19, point 1): refused type changes and the
unique check report only records and values the actor may read (counts otherwise), and a
field hidden from the actor cannot be changed or removed; read-only fields cannot be
converted or removed either."""
from __future__ import annotations

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ConversionRefused, Forbidden, SchemaError

from crm_fixture import crm
from rights_fixture import actor, add_group, add_user, join


@pytest.fixture
def seniors(db):
    """Seniors: configure on deals, no read; Amount hidden, Stage read-only. 40 deals,
    ten of them owned by the senior (who, with read in own_and_shared mode, sees them)."""
    svc, store = crm(db)
    svc.add_field(SYSTEM, "deal", {"name": "stage", "label": "Stage", "type": "string"})
    group = add_group(db, "Seniors")
    uid = add_user(db, "sam")
    join(db, uid, group)
    rights.set_object_rights(db, SYSTEM, "Seniors", "deal", ["configure"])
    rights.set_field_right(db, SYSTEM, "Seniors", "deal", "amount", "hidden")
    rights.set_field_right(db, SYSTEM, "Seniors", "deal", "stage", "read_only")
    store.bulk_create(SYSTEM, "deal", [{"title": f"Secret deal {i}", "amount": str(1000 + i),
                                        "stage": "lead" if i % 2 else "won"} for i in range(40)])
    return svc, store, actor(db, uid)


def _own_ten(db, store, sam):
    """The senior may now read the deals he owns: the first ten."""
    rights.set_object_rights(db, SYSTEM, "Seniors", "deal", ["read", "configure"])
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    from cardbase.schema_engine.query.model import ListQuery
    ids = [r["id"] for r in store.list(SYSTEM, "deal", ListQuery(sort="id", limit=10)).data]
    for rid in ids:
        store.set_owner(SYSTEM, "deal", rid, sam.user_id)
    return ids


def test_a_refused_type_change_lists_no_record_the_actor_cannot_read(seniors):
    svc, _store, sam = seniors
    with pytest.raises(ConversionRefused) as err:
        svc.update_field(sam, "deal", "title", {"type": "string", "options": {"length": 3}})
    assert err.value.failures == [] and err.value.hidden == 40 and err.value.total == 40
    assert "Secret" not in str(err.value.to_dict())
    assert "40 of them in records you cannot see" in err.value.message


def test_a_refused_type_change_lists_only_the_records_the_actor_may_read(db, seniors):
    svc, store, sam = seniors
    own = _own_ten(db, store, sam)
    with pytest.raises(ConversionRefused) as err:
        svc.update_field(sam, "deal", "title", {"type": "integer"})
    assert sorted(f["id"] for f in err.value.failures) == sorted(own)
    assert err.value.hidden == 30 and "30 of them in records you cannot see" in err.value.message
    preview = svc.preview_type_change("deal", "title", {"type": "integer"}, sam)
    assert sorted(f["id"] for f in preview["failures"]) == sorted(own) and preview["hidden_failures"] == 30
    # an admin (and the system) sees every one, as before
    with pytest.raises(ConversionRefused) as err:
        svc.update_field(SYSTEM, "deal", "title", {"type": "integer"})
    assert len(err.value.failures) == 40 and err.value.hidden == 0


def test_the_preview_needs_configure_and_shows_nothing_unreadable(db, seniors):
    svc, _store, sam = seniors
    preview = svc.preview_type_change("deal", "title", {"type": "integer"}, sam)
    assert preview["failures"] == [] and preview["hidden_failures"] == 40 and preview["convertible"] == 0
    rights.set_object_rights(db, SYSTEM, "Seniors", "deal", [])
    with pytest.raises(Forbidden, match="configure right"):
        svc.preview_type_change("deal", "title", {"type": "integer"}, sam)


def test_the_unique_check_shows_no_values_of_records_the_actor_cannot_read(db, seniors):
    svc, store, sam = seniors
    rights.set_field_right(db, SYSTEM, "Seniors", "deal", "stage", None)
    with pytest.raises(SchemaError) as err:
        svc.update_field(sam, "deal", "stage", {"unique": True})
    message = " ".join(err.value.errors["unique"])
    assert "lead" not in message and "won" not in message and "40 records you cannot see" in message
    _own_ten(db, store, sam)  # deals 0-9: five 'won', five 'lead'
    with pytest.raises(SchemaError) as err:
        svc.update_field(sam, "deal", "stage", {"unique": True})
    message = " ".join(err.value.errors["unique"])
    assert "'lead' (5× in records you can see)" in message and "30 records you cannot see" in message
    with pytest.raises(SchemaError, match=r"'lead' \(20×\)"):
        svc.update_field(SYSTEM, "deal", "stage", {"unique": True})


@pytest.mark.parametrize("change", [{"type": "integer"}, {"type": "string"}, {"label": "Value"},
                                    {"unique": True}, {"required": True}])
def test_a_field_hidden_from_the_actor_cannot_be_changed(db, seniors, change):
    svc, _store, sam = seniors
    before = db.schema().object("deal").field("amount")
    with pytest.raises(Forbidden, match="field 'Deal.Amount' is hidden from you"):
        svc.update_field(sam, "deal", "amount", change)
    with pytest.raises(Forbidden, match="field 'Deal.Amount' is hidden from you"):
        svc.remove_field(sam, "deal", "amount")
    with pytest.raises(Forbidden, match="field 'Deal.Amount' is hidden from you"):
        svc.set_translations(sam, "deal", {"de": {"label": "Betrag"}}, field_ref="amount")
    with pytest.raises(Forbidden, match="field 'Deal.Amount' is hidden from you"):
        svc.preview_type_change("deal", "amount", {"type": "integer"}, sam)
    assert db.schema().object("deal").field("amount") == before


def test_a_read_only_field_may_be_relabelled_but_not_converted_or_removed(db, seniors):
    svc, _store, sam = seniors
    with pytest.raises(Forbidden, match="field 'Deal.Stage' is read-only for you"):
        svc.update_field(sam, "deal", "stage", {"type": "text"})
    with pytest.raises(Forbidden, match="field 'Deal.Stage' is read-only for you"):
        svc.remove_field(sam, "deal", "stage")
    assert svc.update_field(sam, "deal", "stage", {"label": "Phase"}).label == "Phase"
    # the title (no field right) converts for them
    assert svc.update_field(sam, "deal", "title", {"type": "text"}).type == "text"
