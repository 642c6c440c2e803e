"""Configure must not grant read, through the REST API (issue 19, point 1): a group with
the configure right on Deals, no read and Amount hidden, learns no deal's values from a
refused type change or the unique check, and cannot change the hidden field."""
from __future__ import annotations

import pytest

from cardbase.platform import users
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of


@pytest.fixture
def apis(db):
    app = crm_app_with_sales(db)
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["configure"])
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "amount", "hidden")
    RecordStore(db).bulk_create(SYSTEM, "deal", [
        {"title": f"Secret deal {i}", "amount": {"amount": str(1000 + i), "currency": "EUR"},
         "stage": "lead" if i % 2 else "won"} for i in range(40)])
    assert users.find_user(db, "sam") is not None
    return api_for(app, db, "sam"), api_for(app, db, "root")


def test_a_refused_type_change_shows_no_deal(apis):
    sam, root = apis
    response = sam.patch("/api/v1/objects/deal/fields/title", {"type": "string", "options": {"length": 3}})
    assert response.status_code == 409, response.get_json()
    error = error_of(response)
    assert error["code"] == "conversion_refused"
    assert "Secret" not in response.get_data(as_text=True) and "D-0" not in response.get_data(as_text=True)
    assert error["failures"] == [] and error["hidden_failures"] == 40 and error["total"] == 40
    assert "40 of them in records you cannot see" in error["message"]
    # the admin is shown every one, as before
    response = root.patch("/api/v1/objects/deal/fields/title", {"type": "string", "options": {"length": 3}})
    assert len(error_of(response)["failures"]) == 40


def test_the_unique_check_shows_no_value_counts(apis):
    sam, _root = apis
    response = sam.patch("/api/v1/objects/deal/fields/stage", {"type": "string"})
    assert response.status_code == 200, response.get_json()
    response = sam.patch("/api/v1/objects/deal/fields/stage", {"unique": True})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "lead" not in text and "won" not in text and "40 records you cannot see" in text


@pytest.mark.parametrize("change", [{"type": "integer"}, {"type": "string", "options": {"length": 3}},
                                    {"label": "Value"}])
def test_a_hidden_field_cannot_be_changed(db, apis, change):
    sam, root = apis
    before = root.get("/api/v1/objects/deal/fields/amount").get_json()
    response = sam.patch("/api/v1/objects/deal/fields/amount", change)
    assert response.status_code == 403
    assert "field 'Deal.Amount' is hidden from you" in error_of(response)["message"]
    assert sam.delete("/api/v1/objects/deal/fields/amount").status_code == 403
    assert root.get("/api/v1/objects/deal/fields/amount").get_json() == before
