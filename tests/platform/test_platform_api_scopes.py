"""Record scopes and parent-following through the REST API (issue 13: what the admin does
in the browser, the API does too): PATCH /objects/<o>/rights takes each group's scope and
the link the object follows; a loop or an unknown scope is refused naming the key and
changes nothing."""
from __future__ import annotations

import pytest
from api_testlib import api_for, crm_app_with_sales, error_of

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


def test_scopes_and_parent_through_the_api(db, app):
    root, sam = api_for(app, db, "root"), api_for(app, db, "sam")
    store = RecordStore(db)
    for title, probability in (("likely", 90), ("unlikely", 10)):
        store.create(SYSTEM, "deal", {"title": title, "probability": probability})
    assert root.post("/api/v1/objects/deal/rule-views", {"group": "Sales", "name": "Unlikely", "level": "read",
                                                         "filter": {"field": "probability", "op": "lt",
                                                                    "value": 50}}).status_code == 201
    answer = root.patch("/api/v1/objects/deal/rights", {"groups": [{"group": "Sales", "rights": ["read"],
                                                                    "scope": "rule_views"}]})
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["groups"] == [{"group_id": answer.get_json()["groups"][0]["group_id"], "group": "Sales",
                                            "rights": ["read"], "scope": "rule_views"}]
    assert answer.get_json()["parent"] is None
    assert [r["title"] for r in sam.get("/api/v1/records/deal").get_json()["data"]] == ["unlikely"]
    bad = root.patch("/api/v1/objects/deal/rights", {"groups": [{"group": "Sales", "rights": ["read"],
                                                                 "scope": "some"}]})
    assert bad.status_code == 422 and "groups[0].scope" in error_of(bad)["fields"]
    assert root.patch("/api/v1/objects/deal/rights", {"parent": "organisation"}).get_json()["parent"] == "organisation"
    SchemaService(db).add_field(SYSTEM, "organisation", {"name": "main_deal", "label": "Main deal", "type": "link",
                                                         "options": {"target": "deal", "on_delete": "set_null"}})
    before = root.get("/api/v1/objects/organisation/rights").get_json()
    loop = root.patch("/api/v1/objects/organisation/rights", {"parent": "main_deal",
                                                              "groups": [{"group": "Sales", "rights": ["read"]}]})
    assert loop.status_code == 422 and "would loop" in " ".join(error_of(loop)["fields"]["parent"])
    assert root.get("/api/v1/objects/organisation/rights").get_json() == before
