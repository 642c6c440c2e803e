"""The configurator offers the multi-link type (issue 14, point 10) with its target picker,
adds one from the form (its junction table made in the same change) and lists it with its
target on the object's page."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from designer_testlib import client_for, designer_app, error_under, field_form, page, text_of

from cardbase.schema_engine import naming


@pytest.fixture
def app(db):
    return designer_app(db)


@pytest.fixture
def root(app):
    return client_for(app, "root")


def test_add_a_multi_link_from_the_designer(root, db):
    html, state = page(root, "/designer/objects/deal/new-field")
    assert '<option value="links"' in html and 'id="opt-links-target"' in html
    assert 'for="opt-links-target"' in html and 'id="opt-links-max_links"' in html
    refused = root.post("/designer/objects/deal/new-field", data=field_form(state, label="Partners", type="links"))
    assert "is required" in error_under(refused, "options.target")
    assert "partners" not in db.schema().object("deal").fields_by_name
    _html, state = page(root, "/designer/objects/deal/new-field")
    response = root.post("/designer/objects/deal/new-field", data=field_form(
        state, label="Partners", type="links", **{"links.target": "organisation", "links.max_links": "5"}))
    assert response.status_code == 302, text_of(response)[:3000]
    schema = db.schema()
    field = schema.object("deal").field("partners")
    assert field.type == "links" and dict(field.options) == {"target": schema.object("organisation").id, "max_links": 5}
    with db.read() as conn:
        assert naming.links_table_name(field.id) in sa.inspect(conn).get_table_names()
    listing = text_of(root.get("/designer/objects/deal"))
    assert "Partners" in listing and "Links (several records)" in listing
