"""solution_diff: what importing a solution document would add, change or remove,
computed from two JSON documents without touching a database, and the document checks."""
from __future__ import annotations

import copy

import pytest

from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.solution_diff import check_document, diff_solution

CURRENT = {
    "format": "cardbase-solution", "format_version": 1,
    "objects": [
        {"name": "organisation", "label": "Organisation", "label_plural": "Organisations", "description": "",
         "code_pattern": "ORG-{0000}", "display_field": "name", "position": 1, "fields": [
             {"name": "name", "label": "Name", "type": "string", "required": True, "unique": False, "default": None,
              "help_text": "", "options": {"length": 100}},
             {"name": "city", "label": "City", "type": "string", "required": False, "unique": False,
              "default": None, "help_text": "", "options": {}}]},
        {"name": "task", "label": "Task", "label_plural": "Tasks", "fields": [
            {"name": "title", "label": "Title", "type": "string", "options": {}}]},
    ],
    "cards": [{"object": "organisation", "name": "Full", "is_default": True,
               "layout": {"tabs": [{"label": "", "sections": [{"items": [{"field": "@organisation.name"}]}]}]}}],
    "views": [{"object": "organisation", "name": "(table)", "shared": True, "definition": {"columns": []}}],
    "translations": [{"object": "organisation", "field": None, "language": "de", "label": "Organisation"},
                     {"object": "organisation", "field": "city", "language": "de", "label": "Stadt"},
                     {"object": "organisation", "field": "city", "language": "fr", "label": "Ville"}],
}


def names(entries, kind=None):
    return [e["name"] for e in entries if kind is None or e["kind"] == kind]


def test_the_same_document_changes_nothing():
    diff = diff_solution(copy.deepcopy(CURRENT), CURRENT)
    assert diff["added"] == diff["changed"] == diff["removed"] == []
    assert diff["kept"] == []


def test_added_changed_removed_and_kept():
    doc = copy.deepcopy(CURRENT)
    org = doc["objects"][0]
    org["label_plural"] = "Companies"
    org["description"] = None  # not set in the document: import leaves it alone
    org["fields"][1]["label"] = "Town"
    org["fields"][1]["options"] = {"length": 80}
    org["fields"].append({"name": "email", "label": "E-mail", "type": "email"})
    del doc["objects"][1]  # task: not in the document
    doc["objects"].append({"name": "supplier", "label": "Supplier", "fields": [
        {"name": "name", "label": "Name", "type": "string"}, {"name": "phone", "label": "Phone", "type": "phone"}]})
    doc["cards"][0]["is_default"] = False
    doc["cards"].append({"object": "supplier", "name": "Quick", "layout": {}})
    doc["views"] = []
    doc["translations"] = [{"object": "organisation", "field": None, "language": "de", "label": "Firma"},
                           {"object": "organisation", "field": "city", "language": "de", "label": "Stadt"},
                           {"object": "supplier", "field": None, "language": "de", "label": "Lieferant"}]
    diff = diff_solution(doc, CURRENT)
    assert names(diff["added"]) == ["organisation.email", "supplier", "supplier.name", "supplier.phone",
                                    "supplier/Quick", "supplier [de]"]
    changed = {e["name"]: e["changes"] for e in diff["changed"]}
    assert changed["organisation"] == {"label_plural": {"from": "Organisations", "to": "Companies"}}
    assert changed["organisation.city"] == {"label": {"from": "City", "to": "Town"},
                                            "options": {"from": {}, "to": {"length": 80}}}
    assert changed["organisation/Full"] == {"is_default": {"from": True, "to": False}}
    assert changed["organisation [de]"] == {"label": {"from": "Organisation", "to": "Firma"}}
    assert "organisation.city [de]" not in changed
    # the French label of City goes: the document translates City but not into French
    assert names(diff["removed"]) == ["organisation.city [fr]"]
    assert names(diff["kept"], "object") == ["task"] and names(diff["kept"], "view") == ["organisation/(table)"]


def test_rules_and_layout_changes_are_changes():
    doc = copy.deepcopy(CURRENT)
    doc["objects"][0]["fields"][1]["rules"] = {"required_when": {"field": "name", "op": "is_not_empty"}}
    doc["cards"][0]["layout"]["tabs"][0]["label"] = "Main"
    changed = {e["name"]: e["changes"] for e in diff_solution(doc, CURRENT)["changed"]}
    assert set(changed["organisation.city"]) == {"rules"}
    assert set(changed["organisation/Full"]) == {"layout"}


def test_a_document_without_translations_leaves_them_alone():
    doc = copy.deepcopy(CURRENT)
    del doc["translations"]
    diff = diff_solution(doc, CURRENT)
    assert diff["removed"] == [] and diff["added"] == [] and diff["changed"] == []


@pytest.mark.parametrize("document, key, words", [
    ([1, 2], "document", "must be a JSON object"),
    ({"format": "other", "format_version": 1, "objects": []}, "format", "not a cardbase solution"),
    ({"format": "cardbase-solution", "format_version": 99, "objects": []}, "format_version", "99 is not supported"),
    ({"format": "cardbase-solution", "format_version": 1, "objects": {}}, "objects", "must be a list"),
    ({"format": "cardbase-solution", "format_version": 1, "objects": [
        {"name": "x", "fields": [{"name": "f", "type": "hologram"}]}]},
     "objects[0].fields[0].type", "unknown field type 'hologram' of field 'f'"),
    ({"format": "cardbase-solution", "format_version": 1, "objects": [
        {"name": "x", "fields": [{"name": "f", "type": "string"}, {"name": "f", "type": "string"}]}]},
     "objects[0].fields[1].name", "'f' appears twice"),
    ({"format": "cardbase-solution", "format_version": 1, "objects": [{"name": "x"}, {"name": "x"}]},
     "objects[1].name", "'x' appears twice"),
    ({"format": "cardbase-solution", "format_version": 1, "objects": [], "cards": [{"object": "x"}]},
     "cards[0].name", "must be a non-empty text"),
])
def test_bad_documents_are_refused_naming_the_place(document, key, words):
    with pytest.raises(SchemaError) as info:
        check_document(document)
    assert key in info.value.errors, info.value.errors
    assert words in " ".join(info.value.errors[key])


def test_a_good_document_passes_the_checks():
    check_document(CURRENT)
