"""Conditional field rules (visible_when, required_when, readonly_when): defined and checked
by the schema service, enforced by the record store on every write path (create, update,
bulk create, import, bulk write), mirrored for cards, protected from removal, carried by
solutions -- on both engines."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import InUse, SchemaError, ValidationError
from cardbase.schema_engine.field_rules import field_rules_state, rules_json
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.store import RecordStore

from rights_fixture import actor, add_group, add_user, join, state

STAGES = [{"value": v, "label": v.title()} for v in ("open", "won", "lost")]
LOST = {"field": "stage", "op": "eq", "value": "lost"}
WON = {"field": "stage", "op": "eq", "value": "won"}


def build(db):
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "stage", "label": "Stage", "type": "choice", "default": "open", "options": {"choices": STAGES}},
        {"name": "amount", "label": "Amount", "type": "decimal", "options": {"precision": 12, "scale": 2},
         "rules": {"readonly_when": WON}},
        {"name": "lost_reason", "label": "Lost reason", "type": "text",
         "rules": {"visible_when": LOST, "required_when": LOST}},
        {"name": "double", "label": "Double", "type": "formula", "options": {"formula": "[Amount] * 2"}},
    ]})
    return svc, RecordStore(db)


@pytest.fixture
def deal(db):
    return build(db)


def errors_of(call) -> dict:
    with pytest.raises(ValidationError) as err:
        call()
    return err.value.errors


def test_required_when_is_enforced_on_create_and_update(deal, db):
    _svc, store = deal
    before = state(db)
    assert errors_of(lambda: store.create(SYSTEM, "deal", {"title": "A", "stage": "lost"})) == {
        "lost_reason": ["is required when Stage = lost"]}
    assert errors_of(lambda: store.create(SYSTEM, "deal", {"title": "A", "stage": "lost", "lost_reason": ""})) == {
        "lost_reason": ["is required when Stage = lost"]}
    assert state(db) == before  # nothing half-written
    ok = store.create(SYSTEM, "deal", {"title": "A", "stage": "lost", "lost_reason": "price"})
    assert ok["lost_reason"] == "price"
    rec = store.create(SYSTEM, "deal", {"title": "B"})
    assert rec["stage"] == "open"
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"stage": "lost"}, version=1)) == {
        "lost_reason": ["is required when Stage = lost"]}
    done = store.update(SYSTEM, "deal", rec["id"], {"stage": "lost", "lost_reason": "too late"}, version=1)
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"lost_reason": None}, version=done["version"])) \
        == {"lost_reason": ["is required when Stage = lost"]}


def test_visible_when_refuses_values_for_a_field_not_shown_but_allows_clearing(deal):
    _svc, store = deal
    assert errors_of(lambda: store.create(SYSTEM, "deal", {"title": "A", "lost_reason": "x"})) == {
        "lost_reason": ["is not shown unless Stage = lost"]}
    rec = store.create(SYSTEM, "deal", {"title": "A", "stage": "lost", "lost_reason": "x"})
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"stage": "open", "lost_reason": "y"},
                                          version=1)) == {"lost_reason": ["is not shown unless Stage = lost"]}
    reopened = store.update(SYSTEM, "deal", rec["id"], {"stage": "open", "lost_reason": None}, version=1)
    assert reopened["lost_reason"] is None
    # a value kept while the field is not shown stays, untouched writes are fine
    kept = store.update(SYSTEM, "deal", rec["id"], {"stage": "lost", "lost_reason": "z"}, version=2)
    assert store.update(SYSTEM, "deal", rec["id"], {"stage": "open"}, version=kept["version"])["lost_reason"] == "z"


def test_readonly_when_is_evaluated_on_the_record_before_the_write(deal):
    _svc, store = deal
    rec = store.create(SYSTEM, "deal", {"title": "A", "amount": "10", "stage": "won"})  # new: not won before
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"amount": "11"}, version=1)) == {
        "amount": ["is read-only when Stage = won"]}
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"stage": "open", "amount": "11"},
                                          version=1)) == {"amount": ["is read-only when Stage = won"]}
    assert store.update(SYSTEM, "deal", rec["id"], {"amount": "10.00", "title": "same"}, version=1)["title"] == "same"
    reopened = store.update(SYSTEM, "deal", rec["id"], {"stage": "open"}, version=2)
    assert store.update(SYSTEM, "deal", rec["id"], {"amount": "12"}, version=reopened["version"])["amount"] == \
        Decimal("12.00")


def test_every_write_path_enforces_the_rules_with_errors_per_row(deal, db):
    _svc, store = deal
    rec = store.create(SYSTEM, "deal", {"title": "W", "stage": "won", "amount": "5"})
    before = state(db)
    rows = [{"title": "ok"}, {"title": "bad", "stage": "lost"}]
    for call in (lambda: store.bulk_create(SYSTEM, "deal", rows),
                 lambda: store.bulk_create(SYSTEM, "deal", rows, importing=True)):
        with pytest.raises(ValidationError) as err:
            call()
        assert err.value.rows == {1: {"lost_reason": ["is required when Stage = lost"]}}
    with pytest.raises(ValidationError) as err:
        store.bulk_write(SYSTEM, "deal", [{"title": "new", "lost_reason": "x"},
                                          {"id": rec["id"], "version": 1, "amount": "6"}])
    assert err.value.rows == {0: {"lost_reason": ["is not shown unless Stage = lost"]},
                              1: {"amount": ["is read-only when Stage = won"]}}
    assert state(db) == before


def test_a_write_is_not_blamed_for_a_violation_it_did_not_cause(deal, db):
    svc, store = deal
    rec = store.create(SYSTEM, "deal", {"title": "A", "stage": "won"})
    svc.update_field(SYSTEM, "deal", "title", {"rules": {"required_when": WON}})
    # title is set, fine; add a rule an existing record already breaks:
    svc.add_field(SYSTEM, "deal", {"name": "won_on", "label": "Won on", "type": "date",
                                   "rules": {"required_when": WON}})
    assert store.update(SYSTEM, "deal", rec["id"], {"title": "B"}, version=1)["title"] == "B"
    assert errors_of(lambda: store.update(SYSTEM, "deal", rec["id"], {"won_on": None}, version=2)) == {
        "won_on": ["is required when Stage = won"]}


def test_writers_see_rules_applied_with_their_rights(deal, db):
    """Rules are evaluated on the real record; a field hidden from the writer is never named."""
    svc, store = deal
    uid = add_user(db, "ann")
    join(db, uid, add_group(db, "Sales"))
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "lost_reason", "hidden")
    ann = actor(db, uid)
    rec = store.create(ann, "deal", {"title": "A", "stage": "lost"})  # the rule is not hers to meet
    assert "lost_reason" not in rec
    with pytest.raises(SchemaError) as err:  # a rule may not read what a group cannot see
        svc.update_field(SYSTEM, "deal", "title", {"rules": {"required_when": {"field": "lost_reason",
                                                                                "op": "is_not_empty"}}})
    assert "uses 'lost_reason', which group 'Sales' may not see while it sees 'title'" in \
        err.value.errors["rules.required_when"][0]
    with pytest.raises(ValidationError) as err:  # nor may rights later hide what a visible rule reads
        rights.set_field_right(db, SYSTEM, "Sales", "deal", "stage", "hidden")
    assert "the rule 'readonly_when' of field 'amount' reads 'stage'" in err.value.message


@pytest.mark.parametrize("rules, key, message", [
    ({"required_when": {"field": "nope", "op": "eq", "value": 1}}, "rules.required_when",
     "'nope': object 'deal' has no field 'nope'"),
    ({"required_when": {"field": "stage", "op": "gt", "value": "lost"}}, "rules.required_when",
     "'stage': operator 'gt' is not supported by a choice field"),
    ({"visible_when": {"field": "stage", "op": "eq", "value": "maybe"}}, "rules.visible_when", "'stage':"),
    ({"readonly_when": {"field": "double", "op": "gt", "value": 1}}, "rules.readonly_when",
     "'double' is calculated by the system"),
    ({"readonly_when": {"field": "modified_at", "op": "is_empty"}}, "rules.readonly_when",
     "'modified_at' is calculated by the system"),
    ({"visible_when": {"field": "title", "op": "is_not_empty"}}, "rules.visible_when",
     "'title' cannot be shown depending on its own value"),
    ({"hidden_when": LOST}, "rules.hidden_when", "is not a rule; use visible_when, required_when, readonly_when"),
    ({"required_when": "stage = lost"}, "rules.required_when", "must be a non-empty condition object"),
    ("stage = lost", "rules", "must be an object"),
])
def test_bad_rules_are_refused_naming_the_rule_and_the_problem(deal, db, rules, key, message):
    svc, _store = deal
    before = state(db)
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "title", {"rules": rules})
    assert any(message in m for m in err.value.errors[key]), err.value.errors
    assert state(db) == before


def test_paths_through_links_and_rules_on_calculated_fields_are_refused(deal, db):
    svc, _store = deal
    svc.create_object(SYSTEM, {"name": "org", "label": "Org", "label_plural": "Orgs",
                               "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    svc.add_field(SYSTEM, "deal", {"name": "org", "label": "Org", "type": "link", "options": {"target": "org"}})
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "title", {"rules": {"required_when": {
            "field": "org.name", "op": "eq", "value": "x"}}})
    assert "only fields of the record itself" in err.value.errors["rules.required_when"][0]
    with pytest.raises(SchemaError) as err:
        svc.update_field(SYSTEM, "deal", "double", {"rules": {"required_when": LOST}})
    assert "'Double' is calculated by the system" in err.value.errors["rules.required_when"][0]


def test_a_field_a_rule_reads_cannot_be_removed_and_renames_keep_the_rules(deal):
    svc, store = deal
    with pytest.raises(InUse) as err:
        svc.remove_field(SYSTEM, "deal", "stage")
    assert "rule 'readonly_when' of field 'Deal.Amount' uses it" in err.value.usages
    assert "rule 'required_when' of field 'Deal.Lost reason' uses it" in err.value.usages
    svc.update_field(SYSTEM, "deal", "stage", {"name": "phase", "label": "Phase"})
    field = store.db.schema().object("deal").field("lost_reason")
    assert field.rules["required_when"]["field"].startswith("#")
    assert errors_of(lambda: store.create(SYSTEM, "deal", {"title": "A", "phase": "lost"})) == {
        "lost_reason": ["is required when Phase = lost"]}
    svc.update_field(SYSTEM, "deal", "lost_reason", {"rules": None})
    svc.update_field(SYSTEM, "deal", "amount", {"rules": {}})
    svc.remove_field(SYSTEM, "deal", "phase")  # no rule reads it any more


def test_card_state_and_browser_json(deal, db):
    schema = db.schema()
    obj = schema.object("deal")
    assert field_rules_state(schema, obj, {"stage": "lost"}) == {
        "amount": {"visible": True, "required": False, "readonly": False},
        "lost_reason": {"visible": True, "required": True, "readonly": False}}
    assert field_rules_state(schema, obj, {"stage": "Won", "amount": "3"})["amount"]["readonly"] is True
    assert field_rules_state(schema, obj, {})["lost_reason"] == {"visible": False, "required": False,
                                                                 "readonly": False}
    assert rules_json(schema, obj) == {"amount": {"readonly_when": WON},
                                       "lost_reason": {"visible_when": LOST, "required_when": LOST}}


def test_rules_travel_with_solutions(deal, db, make_database, engine_name):
    exported = export_solution(db)
    fields = {f["name"]: f for f in exported["objects"][0]["fields"]}
    assert fields["lost_reason"]["rules"] == {"visible_when": LOST, "required_when": LOST}
    assert "rules" not in fields["title"]
    other = Database(make_database(engine_name))
    try:
        other.create_system_tables()
        import_solution(other, exported)
        again = export_solution(other)
        assert again["objects"] == exported["objects"]
        assert import_solution(other, exported)["changed"] == []
        with pytest.raises(ValidationError) as err:
            RecordStore(other).create(SYSTEM, "deal", {"title": "x", "stage": "lost"})
        assert err.value.errors == {"lost_reason": ["is required when Stage = lost"]}
    finally:
        other.dispose()
