"""The rights through the REST API: it reads and writes through the record store, so a
hidden field cannot be filtered, sorted, searched or written, a restricted link stays
restricted, and a refused request changes nothing."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

PASSWORD = "s3cret-password"
TEST_CONFIG = {"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda seconds: None}


@pytest.fixture
def api(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string"},
        {"name": "organisation", "label": "Organisation", "type": "link", "options": {"target": "organisation"}},
        {"name": "amount", "label": "Amount", "type": "integer"},
        {"name": "note", "label": "Note", "type": "text"}]})
    org = store.create(SYSTEM, "organisation", {"name": "Hidden Corp"})["id"]
    for title, amount in (("small", 10), ("large", 900000)):
        store.create(SYSTEM, "deal", {"title": title, "amount": amount, "organisation": org,
                                      "note": f"walnut {title}"})
    users.create_user(db, "root", PASSWORD, is_admin=True)
    users.create_user(db, "sam", PASSWORD)
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "sam", "Sales")
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "edit"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "note", "hidden")
    client = create_app(TEST_CONFIG, db=db).test_client()
    reply = client.post("/api/v1/auth/token", json={"username": "sam", "password": PASSWORD})
    assert reply.status_code == 200, reply.get_data(as_text=True)
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {reply.get_json()['token']}"
    return client


def _records(db):
    with db.read() as conn:
        table = db.schema(conn).table("deal")
        return conn.execute(sa.select(table).order_by(table.c.id)).all()


def test_filtering_sorting_or_searching_by_a_hidden_field_through_the_api_is_refused(db, api):
    before = _records(db)
    for query in ({"filter": json.dumps({"field": "amount", "op": "gt", "value": 100000})},
                  {"filter": json.dumps({"not": {"field": "amount", "op": "is_empty"}})},
                  {"sort": "-amount"}, {"fields": "title,amount"}):
        reply = api.get("/api/v1/records/deal", query_string=query)
        assert reply.status_code == 400, (query, reply.get_data(as_text=True))
        body = reply.get_json()
        assert "object 'deal' has no field 'amount'" in json.dumps(body), body
        assert "data" not in body
    listed = api.get("/api/v1/records/deal").get_json()["data"]
    assert sorted(r["title"] for r in listed) == ["large", "small"]
    assert all("amount" not in r and "note" not in r for r in listed)
    assert api.get("/api/v1/records/deal", query_string={"q": "walnut"}).get_json()["data"] == []
    assert all(r["organisation"]["restricted"] is True and r["organisation"]["display"] is None for r in listed)
    small = next(r for r in listed if r["title"] == "small")
    reply = api.patch(f"/api/v1/records/deal/{small['id']}", json={"amount": 5},
                      headers={"If-Match": f'"{small["version"]}"'})
    assert reply.status_code == 422, reply.get_data(as_text=True)
    assert reply.get_json()["error"]["fields"] == {"amount": ["is not a field of 'deal'"]}
    assert _records(db) == before
