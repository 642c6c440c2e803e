"""JSON typed into the configurator's forms goes through the API's strict reader (issue 19,
point 6): a lone UTF-16 surrogate, NaN or a NUL character -- text no database can store --
is refused with a clear message naming the form field, never a 500, and nothing is saved."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.layouts import cards as layouts

from designer2_testlib import crm_app, hidden, signed_in

BAD = ['{"tabs": [{"label": "\\udcff", "sections": []}]}', '{"tabs": NaN}', '{"tabs": [{"label": "a\\u0000b"}]}']


@pytest.fixture
def root(db):
    return signed_in(crm_app(db), "root")


@pytest.mark.parametrize("text", BAD, ids=["surrogate", "nan", "nul"])
def test_a_card_layout_no_database_can_store_is_refused(root, db, text):
    html = root.get("/designer/objects/deal/cards/new").get_data(as_text=True)
    before = layouts.list_cards(db, "deal")
    response = root.post("/designer/objects/deal/cards/new",
                         data={"name": "Broken", "layout": text, "state": hidden(html, "state")})
    assert response.status_code == 422, response.status_code
    assert "the layout sent by the form is not valid JSON" in response.get_data(as_text=True)
    assert layouts.list_cards(db, "deal") == before


@pytest.mark.parametrize("text", ['{"field": "title", "op": "eq", "value": "\\udcff"}', '{"value": NaN}'],
                         ids=["surrogate", "nan"])
def test_a_condition_no_database_can_store_is_refused_in_the_rule_form(root, db, text):
    from cardbase.platform.jsonio import JsonInputError
    from cardbase.designer_ui.support import parse_json_field
    from cardbase.schema_engine.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        parse_json_field(text, "readonly_when")
    assert "readonly_when" in err.value.errors
    assert not isinstance(err.value, JsonInputError)
