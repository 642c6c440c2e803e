"""While a long change holds the database (a solution import, a type change), other
requests get a clear 503 with Retry-After -- in the API and on web pages -- never a 500,
and nothing is written (issue 19, point 10). SQLite: its busy timeout, made short for the
test; PostgreSQL waits on the schema lock instead (tests/platform/test_platform_pg_concurrency.py)."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.db import Database

from api_testlib import api_for, crm_app, error_of, make_app, signed_in


@pytest.fixture
def busy_sqlite(make_database):
    """(the app over a database whose writers wait only 0.2 s, a Database holding locks)."""
    url = make_database("sqlite")
    holder = Database(url)
    holder.create_system_tables()
    crm_app(holder)  # the test CRM and its users
    short = Database(url, busy_timeout=0.2)
    yield make_app(short), short, holder
    short.dispose()
    holder.dispose()


def hold_the_write_lock(db: Database):
    conn = db.write()
    held = conn.__enter__()
    held.exec_driver_sql("UPDATE cb_meta_state SET schema_version = schema_version WHERE id = 1")
    return conn


def test_an_api_write_while_a_long_change_holds_the_lock_is_a_503_with_retry_after(busy_sqlite):
    """A 500 "database is locked" before."""
    app, short, holder = busy_sqlite
    api = api_for(app, short, "root")
    assert api.get("/api/v1/objects/deal").status_code == 200
    lock = hold_the_write_lock(holder)
    try:
        response = api.post("/api/v1/records/organisation", {"name": "Busy Ltd"})
    finally:
        lock.__exit__(None, None, None)
    assert response.status_code == 503, response.get_json()
    assert response.headers["Retry-After"] == "5"
    error = error_of(response)
    assert error["code"] == "busy" and "try again" in error["message"]
    assert api.post("/api/v1/records/organisation", {"name": "Calm Ltd"}).status_code == 201
    names = [r["name"] for r in api.get("/api/v1/records/organisation").get_json()["data"]]
    assert "Busy Ltd" not in names and "Calm Ltd" in names


def test_a_web_save_while_a_long_change_holds_the_lock_is_a_503_page(busy_sqlite):
    app, _short, holder = busy_sqlite
    client = signed_in(app, "root")
    lock = hold_the_write_lock(holder)
    try:
        response = client.post("/o/organisation/new", data={"f-name": "Busy Ltd"})
    finally:
        lock.__exit__(None, None, None)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "The database is busy with a long change" in response.get_data(as_text=True)
