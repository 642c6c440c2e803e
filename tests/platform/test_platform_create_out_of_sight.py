"""Issue 13 (record scopes): a user may create records they cannot read afterwards (record
scope "none"). Creating one in the web saves it and shows the list with a notice, in
English and German, instead of redirecting to a card that answers 404."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from api_testlib import crm_app_with_sales, signed_in

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.rights.scopes import set_record_scope


@pytest.fixture
def app(db):
    app = crm_app_with_sales(db)
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read", "create"])
    set_record_scope(db, SYSTEM, "Sales", "organisation", "none")
    return app


def organisations(db) -> list[str]:
    table = db.schema().table(db.schema().object("organisation"))
    name = table.c[f"f{db.schema().object('organisation').field('name').id}"]
    with db.read() as conn:
        return list(conn.execute(sa.select(name)).scalars())


def test_creating_a_record_one_cannot_see_shows_the_list_with_a_notice(app, db):
    sam = signed_in(app, "sam")
    response = sam.post("/o/organisation/new", data={"f-name": "Hidden Ltd"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/o/organisation")  # the list, not the card
    assert organisations(db) == ["Hidden Ltd"]  # saved
    listing = sam.get("/o/organisation")
    body = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert "Organisation was saved; you cannot see it under your rights." in body
    assert "Hidden Ltd" not in body  # and still out of sight


def test_the_notice_in_german(app, db):
    sam = signed_in(app, "sam")
    sam.post("/account/language", data={"language": "de"})
    response = sam.post("/o/organisation/new", data={"f-name": "Versteckt GmbH"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "wurde gespeichert; nach Ihren Rechten können Sie den Datensatz nicht sehen." in body
    assert organisations(db) == ["Versteckt GmbH"]


def test_a_record_one_can_see_still_opens_its_card(app, db):
    set_record_scope(db, SYSTEM, "Sales", "organisation", "all")
    sam = signed_in(app, "sam")
    response = sam.post("/o/organisation/new", data={"f-name": "Open Ltd"})
    assert response.status_code == 302 and "/o/organisation/" in response.headers["Location"]
    assert sam.get(response.headers["Location"]).status_code == 200
