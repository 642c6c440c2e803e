"""The rollup's condition in the field designer is built with the condition builder, one
per child object, not typed as JSON (issue 13, point 5): the form carries each child's
fields for the builder, saves the condition the builder writes, and shows a saved one
again in the builder of its child."""
from __future__ import annotations

import json
import re

import pytest
from designer_testlib import client_for, designer_app, field_form, page, text_of



@pytest.fixture
def root(db):
    return client_for(designer_app(db), "root")


def test_the_rollup_condition_is_edited_with_the_builder(root, db):
    html, state = page(root, "/designer/objects/organisation/new-field")
    boxes = re.findall(r'data-cb-condition data-fields="cb-rollup-fields-(\w+)"', html)
    assert "deal" in boxes
    fields = json.loads(re.search(r'<script type="application/json" id="cb-rollup-fields-deal">(.*?)</script>', html,
                                  re.S).group(1))
    assert {"stage", "organisation.city"} <= {f["path"] for f in fields}
    assert "conditions.js" in html and "rollup_filter.js" in html
    schema = db.schema()
    link = schema.object("deal").field("organisation")
    amount = schema.object("deal").field("amount")
    won = {"field": "stage", "op": "eq", "value": "won"}
    response = root.post("/designer/objects/organisation/new-field", data=field_form(
        state, label="Won volume", type="rollup", **{"rollup.child": "deal", "rollup.link": str(link.id),
                                                     "rollup.aggregate": "sum", "rollup.field": str(amount.id),
                                                     "rollup.filter": json.dumps(won)}))
    assert response.status_code == 302, text_of(response)[:2000]
    assert db.schema().object("organisation").field("won_volume").options["filter"]  # stored (fields by id)
    html, _state = page(root, "/designer/objects/organisation/fields/won_volume")
    box = re.search(r'data-rollup-filter-for="deal".*?<textarea[^>]*>(.*?)</textarea>', html, re.S).group(1)
    assert json.loads(box.replace("&#34;", '"').replace("&quot;", '"')) == won
