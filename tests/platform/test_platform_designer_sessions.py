"""The configurator uses the app's engine services and one engine session per request:
its rights questions (the configure guard, the object being configured, the start page,
the log) and its record reads (the formula and card previews) share the request's read
session, and a schema change never runs after a write session of the request (on SQLite
the change would wait for its own request's lock)."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from designer_testlib import client_for, designer_app, field_form, page

from cardbase.schema_engine.actor import SYSTEM


@pytest.fixture
def app(db):
    return designer_app(db)


@pytest.fixture
def opened(app, monkeypatch):
    """Every engine session the app's store opens, as "read" / "write"."""
    store = app.extensions["cardbase_store"]
    real = store.session
    log: list[str] = []

    @contextmanager
    def spy(actor, *, write=False, **kwargs):
        log.append("write" if write else "read")
        with real(actor, write=write, **kwargs) as s:
            yield s

    monkeypatch.setattr(store, "session", spy)
    return log


@pytest.fixture
def deal(app):
    with app.extensions["cardbase_store"].session(SYSTEM, write=True) as s:
        org = s.create("organisation", {"name": "ACME", "city": "Berlin"})
        return s.create("deal", {"title": "Big one", "amount": {"amount": "100.50", "currency": "EUR"},
                                 "quantity": "3", "organisation": org["id"]})


@pytest.mark.parametrize("user", ["root", "kim"])
def test_the_formula_preview_reads_through_the_request_session(app, opened, deal, user):
    client = client_for(app, user)
    opened.clear()
    result = client.post("/designer/objects/deal/formula/check",
                         json={"formula": 'UPPER([Organisation].[City]) & "!"', "record": deal["id"]}).get_json()
    assert result["preview"]["ok"] is True and result["preview"]["value"] == "BERLIN!"
    # the configure guard, the object's right and the record and its linked record: one session
    assert opened == ["read"]


@pytest.mark.parametrize("url", ["/designer/", "/designer/log", "/designer/objects/deal",
                                 "/designer/objects/deal/cards/new", "/designer/objects/deal/table"])
def test_a_designer_page_opens_one_read_session(app, opened, deal, url):
    kim = client_for(app, "kim")  # configure right on deals only: every rights question is asked
    opened.clear()
    assert kim.get(url).status_code == 200
    assert opened == ["read"], url


def test_a_schema_change_runs_beside_the_read_session_never_after_a_write_session(app, opened, db):
    kim = client_for(app, "kim")
    _html, state = page(kim, "/designer/objects/deal/new-field")
    opened.clear()
    response = kim.post("/designer/objects/deal/new-field",
                        data=field_form(state, label="Region", name="region", **{"string.length": "80"}))
    assert response.status_code == 302, response.get_data(as_text=True)[:1000]
    assert "write" not in opened and opened.count("read") <= 1
    assert db.schema().object("deal").fields_by_name["region"].label == "Region"
    # the page after the change is a new request: it shows the new field
    opened.clear()
    assert "Region" in kim.get(response.headers["Location"]).get_data(as_text=True)
    assert opened == ["read"]


def test_no_configure_right_no_designer(app, opened):
    sam = client_for(app, "sam")  # reads and edits deals, configures nothing
    opened.clear()
    assert sam.get("/designer/").status_code == 403
    assert sam.post("/designer/objects/deal/formula/check", json={"formula": "1"}).status_code == 403
    assert set(opened) <= {"read"}
