"""Field types own their configuration: a type declared here, in the test only, with one
option shows in the configurator with its option, is checked by the API (a bad option is a
422 naming it, and nothing is written) and is described in the OpenAPI document -- no
other module knows it. Also: every built-in type's options are described in OpenAPI, and
the metadata the API answers matches those descriptions."""
from __future__ import annotations

import jsonschema_rs
import pytest
from designer_testlib import client_for, designer_app, error_under, field_form, page
from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

from api_testlib import api_for, error_of
from cardbase.schema_engine.field_types import all_types, registry
from cardbase.schema_engine.field_types.integer import IntegerType
from cardbase.schema_engine.field_types.options import INT, OptionSpec


class RatingType(IntegerType):
    """A whole number shown as stars; ``stars`` is how many there are."""

    name = "rating"
    label = "Rating"
    options = (OptionSpec("stars", INT, default=5, minimum=1, maximum=10, label="Number of stars",
                          help="1 to 10; default 5"),)


@pytest.fixture
def rating_type():
    registry.register(RatingType)
    try:
        yield all_types()["rating"]
    finally:
        registry._TYPES.pop("rating", None)


@pytest.fixture
def app(db):
    return designer_app(db)


@pytest.fixture
def root(app, db):
    return api_for(app, db, "root")


def _fields(db, obj: str) -> list[str]:
    return [f.api_name for f in db.schema().object(obj).user_fields]


def _components(api) -> dict:
    response = api.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_a_type_declared_in_a_test_shows_in_the_designer_with_its_option(app, db, rating_type):
    browser = client_for(app, "root")
    html, state = page(browser, "/designer/objects/deal/new-field")
    assert '<option value="rating"' in html
    assert 'data-types="rating"' in html
    assert 'id="opt-rating-stars"' in html and 'for="opt-rating-stars"' in html
    assert 'name="rating.stars"' in html and 'min="1"' in html and 'max="10"' in html
    assert "Number of stars" in html and "1 to 10; default 5" in html
    # the built-in special widgets still take their options from the declarations
    assert 'id="opt-formula-scale"' in html and 'max="10"' in html and 'id="cb-choice-rows"' in html
    assert 'data-types="choice multi_choice"' in html and 'data-lookup-link="1"' in html

    before = _fields(db, "deal")
    refused = browser.post("/designer/objects/deal/new-field",
                           data=field_form(state, label="Score", type="rating", **{"rating.stars": "11"}))
    assert refused.status_code == 422
    assert error_under(refused, "options.stars") == "must be a whole number from 1 to 10"
    assert _fields(db, "deal") == before  # nothing half-written

    _html, state = page(browser, "/designer/objects/deal/new-field")
    added = browser.post("/designer/objects/deal/new-field",
                         data=field_form(state, label="Score", type="rating", **{"rating.stars": "7"}))
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    score = db.schema().object("deal").field("score")
    assert score.type == "rating" and dict(score.options) == {"stars": 7}
    html, _state = page(browser, "/designer/objects/deal/fields/score")
    assert 'id="opt-rating-stars"' in html and 'value="7"' in html


@pytest.mark.parametrize("options,problem", [
    ({"stars": 11}, "must be a whole number from 1 to 10"),  # out of range
    ({"stars": 0}, "must be a whole number from 1 to 10"),
    ({"stars": "many"}, "must be a whole number from 1 to 10"),  # wrong kind
    ({"stars": True}, "must be a whole number from 1 to 10"),
    ({"stars": 3.5}, "must be a whole number from 1 to 10"),
])
def test_the_api_checks_the_declared_option(root, db, rating_type, options, problem):
    version, before = db.schema().version, _fields(db, "deal")
    response = root.post("/api/v1/objects/deal/fields", {"label": "Score", "type": "rating", "options": options})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"options.stars": [problem]}
    assert _fields(db, "deal") == before and db.schema().version == version  # nothing written


def test_the_api_refuses_an_unknown_option_naming_it(root, db, rating_type):
    before = _fields(db, "deal")
    response = root.post("/api/v1/objects/deal/fields",
                         {"label": "Score", "type": "rating", "options": {"stars": 12, "colour": "gold"}})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"options.colour": ["is not an option of this field type"],
                                            "options.stars": ["must be a whole number from 1 to 10"]}
    assert _fields(db, "deal") == before


def test_the_api_adds_and_changes_a_field_of_the_new_type(root, db, rating_type):
    created = root.post("/api/v1/objects/deal/fields", {"label": "Score", "type": "rating"})
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["options"] == {"stars": 5}  # the declared default
    changed = root.patch("/api/v1/objects/deal/fields/score", {"options": {"stars": 3}})
    assert changed.status_code == 200 and changed.get_json()["options"] == {"stars": 3}
    refused = root.patch("/api/v1/objects/deal/fields/score", {"options": {"stars": 30}})
    assert refused.status_code == 422 and "options.stars" in error_of(refused)["fields"]
    assert root.get("/api/v1/objects/deal/fields/score").get_json()["options"] == {"stars": 3}


def test_the_openapi_document_describes_the_new_type_and_its_option(root, db, rating_type):
    doc = _components(root)
    OPENAPI_31_VALIDATOR.validate(doc)
    schemas = doc["components"]["schemas"]
    rating = schemas["RatingFieldOptions"]
    assert rating["properties"]["stars"]["anyOf"][0] == {"type": "integer", "minimum": 1, "maximum": 10}
    assert rating["properties"]["stars"]["default"] == 5 and rating["additionalProperties"] is False
    assert "1 to 10" in rating["properties"]["stars"]["description"]
    assert "rating" in schemas["FieldDefInput"]["properties"]["type"]["enum"]
    refs = [item.get("$ref") for item in schemas["FieldDefInput"]["properties"]["options"]["anyOf"]]
    assert "#/components/schemas/RatingFieldOptions" in refs
    assert "rating {stars}" in schemas["FieldDefInput"]["properties"]["options"]["description"]
    checker = jsonschema_rs.validator_for({"$ref": "#/components/schemas/RatingFieldOptions", **doc})
    assert checker.is_valid({"stars": 3}) and not checker.is_valid({"stars": 11})
    assert not checker.is_valid({"colour": "gold"})


def test_every_built_in_type_has_its_options_described(root):
    schemas = _components(root)["components"]["schemas"]
    for name, ftype in all_types().items():
        if ftype.system_only:
            continue
        described = "".join(p[:1].upper() + p[1:] for p in name.split("_")) + "FieldOptions"
        assert set(schemas[described]["properties"]) == set(ftype.option_names()), name
    assert schemas["StringFieldOptions"]["properties"]["length"]["anyOf"][0] == {
        "type": "integer", "minimum": 1, "maximum": 10_000}
    assert schemas["LinkFieldOptions"]["required"] == ["target"]
    assert "set_null" in schemas["LinkFieldOptions"]["properties"]["on_delete"]["anyOf"][0]["enum"]


def test_the_fields_the_api_answers_match_their_described_options(root):
    doc = _components(root)
    field_def = jsonschema_rs.validator_for({"$ref": "#/components/schemas/FieldDef", **doc})
    for obj in root.get("/api/v1/objects").get_json()["data"]:
        for field in obj["fields"]:
            field_def.validate(field)
