"""The option declarations of the field types (field_types/options.py): one generic check
for every type -- unknown names, the kind of each value, ranges, allowed values, required
options and defaults, every problem named ``options.<name>`` and reported at once -- and
the JSON schema the OpenAPI description is made of. Also through the schema service and a
solution import: a refused option writes nothing."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import NotFound, SchemaError
from cardbase.schema_engine.field_types import all_types, get_type
from cardbase.schema_engine.field_types.base import FieldType, OptionContext
from cardbase.schema_engine.field_types.options import (BOOL, CHOICE, CONDITION, INT, OBJECT, TEXT, OptionSpec,
                                                        clean_declared, options_json_schema)
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.solution import export_solution, import_solution


class Ctx(OptionContext):
    def object_id(self, name_or_id):
        if name_or_id in ("client", 5):
            return 5
        raise NotFound(f"there is no object '{name_or_id}'")


SPECS = (
    OptionSpec("size", INT, default=10, minimum=1, maximum=100),
    OptionSpec("part", INT, default=20, minimum=0, maximum_of="size"),
    OptionSpec("wrap", BOOL),
    OptionSpec("mode", CHOICE, default="a", choices=("a", "b"), aliases={"alpha": "a"}),
    OptionSpec("title", TEXT, max_length=5),
    OptionSpec("target", OBJECT, required=True, doc="the object it points to"),
    OptionSpec("where", CONDITION),
)


def errors_of(options) -> dict[str, list[str]]:
    with pytest.raises(SchemaError) as exc:
        clean_declared(SPECS, options, Ctx())
    return exc.value.errors


def test_defaults_are_filled_and_values_normalised():
    assert clean_declared(SPECS, {"target": "client"}, Ctx()) == {"size": 10, "part": 10, "mode": "a", "target": 5}
    assert clean_declared(SPECS, {"target": "5", "size": 50, "part": 7, "wrap": False, "mode": "alpha",
                                  "title": " Hi ", "where": {"field": "x", "op": "is_empty"}}, Ctx()) == {
        "size": 50, "part": 7, "wrap": False, "mode": "a", "title": "Hi", "target": 5,
        "where": {"field": "x", "op": "is_empty"}}
    # empty means "not given": the default, or nothing
    assert clean_declared(SPECS, {"target": "client", "size": None, "title": "  "}, Ctx()) == {
        "size": 10, "part": 10, "mode": "a", "target": 5}


@pytest.mark.parametrize("options,key,message", [
    ({"target": 5, "colour": "red"}, "options.colour", "is not an option of this field type"),
    ({"target": 5, "size": 0}, "options.size", "must be a whole number from 1 to 100"),
    ({"target": 5, "size": 101}, "options.size", "must be a whole number from 1 to 100"),
    ({"target": 5, "size": "10"}, "options.size", "must be a whole number from 1 to 100"),
    ({"target": 5, "size": True}, "options.size", "must be a whole number from 1 to 100"),
    ({"target": 5, "size": 4, "part": 5}, "options.part", "must be a whole number from 0 to 4"),
    ({"target": 5, "wrap": "yes"}, "options.wrap", "must be true or false, not 'yes'"),
    ({"target": 5, "mode": "c"}, "options.mode", "'c' is not allowed; use one of a, b"),
    ({"target": 5, "title": "too long"}, "options.title", "is 8 characters long; at most 5 are allowed"),
    ({"target": 5, "title": 7}, "options.title", "must be a text, not 7"),
    ({}, "options.target", "is required: the object it points to"),
    ({"target": "nobody"}, "options.target", "there is no object 'nobody'"),
    ({"target": [5]}, "options.target", "must name an object (its API name or id), not [5]"),
    ({"target": 5, "where": "x = 1"}, "options.where", "must be a condition in the filter language (a JSON object)"),
])
def test_each_problem_names_the_option(options, key, message):
    assert errors_of(options) == {key: [message]}


def test_every_problem_is_reported_at_once():
    assert set(errors_of({"size": 0, "mode": "z", "extra": 1})) == {
        "options.size", "options.mode", "options.extra", "options.target"}
    assert errors_of(["size"]) == {"options": ["must be an object"]}


def test_the_default_is_capped_by_the_option_that_caps_the_value():
    assert clean_declared(SPECS, {"target": 5, "size": 3}, Ctx())["part"] == 3
    assert get_type("decimal").clean_options({"precision": 1}, Ctx()) == {"precision": 1, "scale": 1}


def test_json_schema_of_the_declaration():
    schema = options_json_schema(SPECS)
    assert schema["additionalProperties"] is False and schema["required"] == ["target"]
    assert schema["properties"]["size"] == {"anyOf": [{"type": "integer", "minimum": 1, "maximum": 100},
                                                      {"type": "null"}], "default": 10}
    assert schema["properties"]["mode"]["anyOf"][0] == {"type": "string", "enum": ["a", "b", "alpha"]}
    assert schema["properties"]["target"]["description"] == "the object it points to"
    assert schema["properties"]["where"] == {"type": ["object", "null"]}


def test_a_declaration_is_checked_when_written():
    with pytest.raises(TypeError, match="unknown kind"):
        OptionSpec("x", "colour")
    with pytest.raises(TypeError, match="needs its choices"):
        OptionSpec("x", CHOICE)


def test_every_type_declares_its_options_once():
    for name, ftype in all_types().items():
        assert ftype.option_names() == tuple(s.name for s in ftype.options), name
        assert len(set(ftype.option_names())) == len(ftype.options), name
    assert get_type("string").option("length").maximum == 10_000
    assert get_type("choice").options is get_type("multi_choice").options  # one declaration, one fieldset
    assert get_type("text").options == () and get_type("text").option("length") is None


def test_a_type_without_declared_options_refuses_any(db):
    assert FieldType().clean_options({}, Ctx()) == {}
    with pytest.raises(SchemaError) as exc:
        get_type("email").clean_options({"length": 5}, Ctx())
    assert exc.value.errors == {"options.length": ["is not an option of this field type"]}


def test_export_gives_the_declared_options_only():
    assert get_type("string").export_options({"length": 20, "stale": 1}, Ctx()) == {"length": 20}


# ---- through the schema service and a solution import: nothing half-written -------------------------
@pytest.fixture
def service(db):
    s = SchemaService(db)
    s.create_object(SYSTEM, {"name": "client", "label": "Client", "label_plural": "Clients",
                             "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    return s


@pytest.mark.parametrize("options,key", [
    ({"length": 0}, "options.length"),
    ({"length": "long"}, "options.length"),
    ({"length": 20, "colour": "red"}, "options.colour"),
])
def test_the_schema_service_refuses_bad_options_and_writes_nothing(db, service, options, key):
    version = db.schema().version
    with pytest.raises(SchemaError) as exc:
        service.add_field(SYSTEM, "client", {"label": "Short name", "type": "string", "options": options})
    assert key in exc.value.errors
    assert db.schema().version == version and [f.api_name for f in db.schema().object("client").user_fields] == [
        "name"]
    with pytest.raises(SchemaError) as exc:
        service.update_field(SYSTEM, "client", "name", {"options": options})
    assert key in exc.value.errors
    assert db.schema().object("client").field("name").options.get("length") == 255


def test_a_solution_import_checks_options_against_the_declaration(db, service):
    document = export_solution(db)
    assert document["objects"][0]["fields"][0]["options"] == {"length": 255}  # exported as declared
    document["objects"][0]["fields"].append({"name": "short_name", "label": "Short name", "type": "string",
                                             "options": {"length": 20, "case": "upper"}})
    before = export_solution(db)
    with pytest.raises(SchemaError) as exc:
        import_solution(db, document)
    assert "options.case" in exc.value.errors, exc.value.errors
    assert export_solution(db) == before
