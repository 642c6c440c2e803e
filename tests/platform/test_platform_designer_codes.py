"""Issue 14, point 3 in the configurator: the object's settings edit the record code
pattern and the title field; a pattern another object's prefix uses, or one without a
counter, is refused beside the input and nothing changes."""
from __future__ import annotations

import re

import pytest
from designer_testlib import client_for, designer_app, page

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def app(db):
    return designer_app(db)


def _settings(obj, state: dict, **changes) -> dict:
    data = {"label": obj.label, "label_plural": obj.label_plural, "name": obj.api_name,
            "description": obj.description, "label_de": "", "label_plural_de": "",
            "code_pattern": obj.code_pattern, "display_field": obj.display_field.api_name, **state}
    data.update(changes)
    return data


def test_the_settings_change_the_code_pattern_and_the_title(app, db):
    client = client_for(app, "root")
    html, state = page(client, "/designer/objects/deal")
    assert re.search(r'name="code_pattern"\s+value="D-\{00000\}"', html)
    assert '<option value="title" selected>' in html or '<option value="code" selected>' in html
    deal = db.schema().object("deal")
    response = client.post("/designer/objects/deal", data=_settings(deal, state, code_pattern="DL-{YYYY}-{0000}",
                                                                    display_field="title"))
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    obj = db.schema().object("deal")
    assert obj.code_pattern == "DL-{YYYY}-{0000}" and obj.display_field.api_name == "title"
    created = RecordStore(db).create(SYSTEM, "deal", {"title": "New"})
    assert created["code"].startswith("DL-") and created["code"].endswith("-0001")


@pytest.mark.parametrize("pattern, message", [
    ("ORG-{0000}", "is already used by the object"),
    ("DEALS", "must contain exactly one counter"),
])
def test_a_bad_pattern_is_refused_beside_its_input(app, db, pattern, message):
    client = client_for(app, "root")
    _html, state = page(client, "/designer/objects/deal")
    deal = db.schema().object("deal")
    response = client.post("/designer/objects/deal", data=_settings(deal, state, code_pattern=pattern))
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert message in body and 'id="f-code_pattern"' in body and "is-invalid" in body
    assert db.schema().object("deal").code_pattern == "D-{00000}"
