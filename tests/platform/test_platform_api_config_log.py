"""The configuration change log through the REST API: newest first, paged, per object;
administrators see every change, others only the changes to the objects they may
configure (the designer log's rule), people without a configure right nothing."""
from __future__ import annotations

import pytest

from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import api_for, crm_app_with_sales, error_of

URL = "/api/v1/config-log"


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


def test_entries_newest_first_with_paging(root):
    root.patch("/api/v1/objects/deal", {"label": "Opportunity"})
    root.put("/api/v1/objects/organisation/table", {"columns": ["name"]})
    log = root.get(URL).get_json()
    assert log["count"] == len(log["data"]) >= 4
    newest = log["data"][0]
    assert newest["action"] == "save_table" and newest["target"] == "organisation/table"
    assert newest["actor"]["username"] == "root" and newest["details"] == {"object": "organisation",
                                                                          "columns": ["name"]}
    assert newest["at"].endswith("Z")
    assert log["data"][1]["action"] == "update_object"
    assert log["data"][-1]["actor"] == {"id": None, "username": "system", "display": "system"}  # build_crm
    page = root.get(URL, query={"limit": 2, "offset": 1}).get_json()
    assert page["count"] == log["count"] and page["data"] == log["data"][1:3]
    deal = root.get(URL, query={"object": "deal"}).get_json()
    assert {e["target"].split("/")[0].split(".")[0] for e in deal["data"]} == {"deal"}
    assert deal["data"][0]["action"] == "update_object"


def test_others_see_the_changes_of_objects_they_configure(app, db, root):
    root.patch("/api/v1/objects/organisation", {"label": "Company"})
    sam = api_for(app, db, "sam")
    refused = sam.get(URL)
    assert refused.status_code == 403 and "configure right" in error_of(refused)["message"]
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "configure"])
    mine = sam.get(URL).get_json()
    assert mine["data"] and all(e["target"].startswith("deal") for e in mine["data"])
    assert mine == sam.get(URL, query={"object": "deal"}).get_json()
    assert sam.get(URL, query={"object": "organisation"}).status_code == 403
    assert error_of(sam.get(URL, query={"object": "nothing"}))["code"] == "not_found"
    enum = sam.get("/api/openapi.json").get_json()["paths"][URL]["get"]["parameters"][0]["schema"]["enum"]
    assert enum == ["deal"]


def test_bad_paging_is_refused(root):
    for query in ({"limit": 0}, {"limit": 501}, {"offset": -1}, {"limit": "x"}):
        response = root.get(URL, query=query)
        assert response.status_code == 400 and error_of(response)["code"] == "bad_request", query
