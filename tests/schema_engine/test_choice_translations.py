"""Issue 14, point 8: choice labels translate per language like object and field labels
("choice.<value>" among the field's translations): the type formats them in the reader's
language, input in either language finds the value, a solution carries them, and a
translation for a value that is no choice is refused naming it."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.field_types.choice import choices_of
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.solution import export_solution, import_solution

from crm_fixture import crm

STAGES = {"choices": [{"value": "lead", "label": "Lead"}, {"value": "won", "label": "Won"},
                      {"value": "lost", "label": "Lost"}]}


@pytest.fixture
def stage(db):
    svc, store = crm(db)
    svc.add_field(SYSTEM, "deal", {"name": "stage", "label": "Stage", "type": "choice", "options": STAGES})
    svc.add_field(SYSTEM, "deal", {"name": "tags", "label": "Tags", "type": "multi_choice",
                                   "options": {"choices": ["hot", "cold"]}})
    svc.set_translations(SYSTEM, "deal", {"de": {"label": "Phase", "choice.won": "Gewonnen", "choice.lost": "Verloren"}},
                         "stage")
    svc.set_translations(SYSTEM, "deal", {"de": {"choice.hot": "heiß"}}, "tags")
    return svc, store


def test_choice_labels_show_in_the_readers_language(stage, db):
    field = db.schema().object("deal").field("stage")
    assert [c["label"] for c in choices_of(field, "de")] == ["Lead", "Gewonnen", "Verloren"]  # Lead: untranslated
    assert [c["label"] for c in choices_of(field, "en")] == ["Lead", "Won", "Lost"]
    assert [c["label"] for c in choices_of(field)] == ["Lead", "Won", "Lost"]
    assert field.label_in("de") == "Phase"
    assert field.ftype.format(field, "won", "de") == "Gewonnen" and field.ftype.format(field, "won", "en") == "Won"
    tags = db.schema().object("deal").field("tags")
    assert tags.ftype.format(tags, ["hot", "cold"], "de") == "heiß, cold"


def test_input_finds_the_value_by_a_label_in_either_language(stage, db):
    _svc, store = stage
    created = store.create(SYSTEM, "deal", {"title": "A", "stage": "Gewonnen"})
    assert created["stage"] == "won"
    assert store.create(SYSTEM, "deal", {"title": "B", "stage": "verloren"})["stage"] == "lost"
    field = db.schema().object("deal").field("stage")
    assert field.ftype.import_value(field, "Gewonnen") == "won"
    page = store.list(SYSTEM, "deal", ListQuery(filter={"field": "stage", "op": "eq", "value": "Gewonnen"}))
    assert [r["title"] for r in page.data] == ["A"]


def test_a_solution_carries_choice_labels(stage, db, make_database, engine_name):
    from cardbase.schema_engine.db import Database
    from cardbase.schema_engine.system_tables import create_system_tables

    document = export_solution(db)
    entry = next(t for t in document["translations"] if t["field"] == "stage")
    assert entry["choice.won"] == "Gewonnen" and entry["label"] == "Phase"
    other = Database(make_database(engine_name))
    try:
        create_system_tables(other)
        import_solution(other, document)
        field = other.schema().object("deal").field("stage")
        assert [c["label"] for c in choices_of(field, "de")] == ["Lead", "Gewonnen", "Verloren"]
    finally:
        other.dispose()


@pytest.mark.parametrize("texts, key, words", [
    ({"de": {"choice.maybe": "Vielleicht"}}, "translations.de.choice.maybe", ["'maybe' is not a choice", "lead"]),
    ({"de": {"choice.won": "x" * 300}}, "translations.de.choice.won", []),
    ({"fr": {"choice.won": "Gagné"}}, "translations.fr", ["not a language"]),
])
def test_bad_choice_translations_are_refused_naming_them(stage, db, texts, key, words):
    svc, _store = stage
    before = db.schema().object("deal").field("stage").translations
    with pytest.raises(SchemaError) as info:
        svc.set_translations(SYSTEM, "deal", texts, "stage")
    assert key in info.value.errors, info.value.errors
    message = " ".join(info.value.errors[key]) if isinstance(info.value.errors[key], list) else info.value.errors[key]
    for word in words:
        assert word in message, message
    assert db.schema().object("deal").field("stage").translations == before  # nothing changed


def test_a_field_without_choices_has_no_choice_labels(stage, db):
    svc, _store = stage
    with pytest.raises(SchemaError) as info:
        svc.set_translations(SYSTEM, "deal", {"de": {"choice.won": "Gewonnen"}}, "title")
    assert "translations.de.choice.won" in info.value.errors
