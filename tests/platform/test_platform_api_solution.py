"""Solutions through the REST API (administrators, as the designer's solution page):
export, the dry-run preview (the diff, nothing written) and the import in one
transaction, with malformed documents refused naming each problem."""
from __future__ import annotations

import copy

import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.solution import export_solution

from api_testlib import api_for, crm_app, error_of

URL = "/api/v1/solution"


@pytest.fixture
def app(db):
    return crm_app(db)


def changed(document: dict) -> dict:
    """The document with the deal relabelled and a field added."""
    doc = copy.deepcopy(document)
    deal = next(o for o in doc["objects"] if o["name"] == "deal")
    deal["label_plural"] = "Opportunities"
    deal["fields"].append({"name": "source", "label": "Source", "type": "string"})
    return doc


def test_export_matches_the_designers_download(root, db):
    response = root.get(URL)
    assert response.status_code == 200
    document = response.get_json()
    assert document["format"] == "cardbase-solution"
    assert [o["name"] for o in document["objects"]] == ["organisation", "deal"]
    expected = export_solution(db)
    assert {k: v for k, v in document.items() if k != "exported_at"} == \
        {k: v for k, v in expected.items() if k != "exported_at"}


def test_dry_run_shows_the_diff_and_writes_nothing(root):
    document = changed(root.get(URL).get_json())
    before = root.get("/api/v1/config-log").get_json()["count"]
    preview = root.post(URL, document, query={"dry_run": "true"})
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["dry_run"] is True and "report" not in body
    assert body["diff"]["added"] == [{"kind": "field", "name": "deal.source"}]
    assert body["diff"]["changed"] == [{"kind": "object", "name": "deal",
                                        "changes": {"label_plural": {"from": "Deals", "to": "Opportunities"}}}]
    assert root.get("/api/v1/objects/deal").get_json()["label_plural"] == "Deals"
    assert root.get("/api/v1/config-log").get_json()["count"] == before


def test_import_applies_the_document_in_one_transaction(root):
    document = changed(root.get(URL).get_json())
    applied = root.post(URL, document)
    assert applied.status_code == 200, applied.get_json()
    body = applied.get_json()
    assert body["dry_run"] is False and body["diff"]["added"] == [{"kind": "field", "name": "deal.source"}]
    assert "field deal.source" in body["report"]["added"]
    deal = root.get("/api/v1/objects/deal").get_json()
    assert deal["label_plural"] == "Opportunities" and deal["fields"][-1]["name"] == "source"
    assert root.get("/api/v1/config-log", query={"limit": 1}).get_json()["data"][0]["action"] == "batch"
    again = root.post(URL, document, query={"dry_run": "true"}).get_json()["diff"]
    assert again["added"] == [] and again["changed"] == []
    # refused mid-way: nothing of it stays
    bad = changed(root.get(URL).get_json())
    deal_spec = next(o for o in bad["objects"] if o["name"] == "deal")
    deal_spec["label"] = "Deal (new)"
    deal_spec["fields"].append({"name": "broken", "label": "Broken", "type": "formula",
                                "options": {"formula": "[Nothing here] * 2"}})
    refused = root.post(URL, bad)
    assert refused.status_code == 422 and error_of(refused)["code"] == "validation_error"
    assert root.get("/api/v1/objects/deal").get_json()["label"] == "Deal"


def test_malformed_documents_are_refused_naming_each_problem(root):
    refused = root.post(URL, {"format": "other", "objects": [{"name": "x", "fields": [{"name": "y",
                                                                                      "type": "nope"}]}]})
    assert refused.status_code == 422
    assert set(error_of(refused)["fields"]) == {"format", "format_version", "objects[0].fields[0].type"}
    assert error_of(root.post(URL, [1, 2]))["fields"] == {"document": ["must be a JSON object (a cardbase solution)"]}
    assert error_of(root.post(URL, raw=b"{"))["code"] == "invalid_json"
    assert error_of(root.post(URL))["code"] == "missing_body"
    assert error_of(root.post(URL, raw=b"{}", content_type="text/plain"))["code"] == "unsupported_media_type"
    assert error_of(root.post(URL, {"format": "cardbase-solution"}, query={"dry_run": "maybe"}))["code"] == \
        "bad_request"


def test_solutions_are_for_administrators_only(app, db, root):
    users.create_group(db, SYSTEM, "Builders")
    users.add_member(db, SYSTEM, "sam", "Builders")
    for obj in ("organisation", "deal"):
        rights.set_object_rights(db, SYSTEM, "Builders", obj, ["read", "configure"])  # configure everything
    sam = api_for(app, db, "sam")
    document = root.get(URL).get_json()
    for response in (sam.get(URL), sam.post(URL, document), sam.post(URL, document, query={"dry_run": "true"})):
        assert response.status_code == 403
        assert error_of(response)["message"] == "only administrators may export and import solutions"
    assert URL not in sam.get("/api/openapi.json").get_json()["paths"]
    assert set(root.get("/api/openapi.json").get_json()["paths"][URL]) == {"get", "post"}


def test_dry_run_refuses_what_the_import_refuses_and_leaves_nothing(root, db):
    """Issue 19/10: the dry run showed a 200 diff for names the real import refuses."""
    document = root.get(URL).get_json()
    document["objects"].append({"name": "ticket", "label": "Ticket", "label_plural": "Tickets", "fields": [
        {"name": "subject", "label": "Subject", "type": "string"},
        {"name": "Bad Name", "label": "Bad", "type": "string"}]})
    version = db.schema().version
    dry = root.post(URL, document, query={"dry_run": "true"})
    assert dry.status_code == 422, dry.get_json()
    real = root.post(URL, document)
    assert real.status_code == 422
    assert error_of(dry) == error_of(real) and "Bad Name" in str(error_of(dry))
    assert db.schema().version == version and not db.schema().has_object("ticket")
