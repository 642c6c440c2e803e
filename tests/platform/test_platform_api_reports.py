"""The reports and dashboards REST API (issue 15, point 9): CRUD, results with filter
overrides and drill-down filters, rights (owner, groups, the report right, field masks),
and the OpenAPI description."""
from __future__ import annotations


from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import Api, error_of, token_for
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)

DEFINITION = {"object": "deal", "rows": [{"field": "stage"}], "columns": [{"field": "close_date", "bucket": "quarter"}],
              "measures": [{"op": "sum", "field": "amount"}, {"op": "count"}]}


def api(app, db, name):
    return Api(app.test_client(), token_for(db, name))


def test_crud_and_result_with_a_filter_override(app, db):
    ann, bob = api(app, db, "ann"), api(app, db, "bob")
    created = ann.post("/api/v1/reports", {"name": "Stage x quarter", "definition": DEFINITION})
    assert created.status_code == 201, created.get_json()
    rid = created.get_json()["id"]
    assert created.headers["Location"].endswith(f"/api/v1/reports/{rid}")
    assert bob.get(f"/api/v1/reports/{rid}").status_code == 404  # personal
    shared = ann.put(f"/api/v1/reports/{rid}", {"name": "Stage x quarter", "definition": DEFINITION,
                                                 "shared_with": ["Sales"]})
    assert shared.status_code == 200 and shared.get_json()["version"] == 2
    assert [r["id"] for r in bob.get("/api/v1/reports").get_json()["data"]] == [rid]
    assert bob.delete(f"/api/v1/reports/{rid}").status_code == 403
    result = bob.get(f"/api/v1/reports/{rid}/result").get_json()
    assert [r["key"] for r in result["rows"]] == [["lead"], ["proposal"], ["won"], ["lost"]]
    assert [c["label"] for c in result["columns"]] == ["Q1 2026", "Q2 2026", "Q3 2026", "—"]
    assert [c["key"] for c in result["columns"]] == [["2026-Q1"], ["2026-Q2"], ["2026-Q3"], [None]]
    assert result["cells"][2][1] == [{"EUR": "1000.00", "USD": "200.00"}, 2]
    assert result["total"] == [{"EUR": "1450.50", "USD": "225.25"}, 7]
    narrowed = bob.get(f"/api/v1/reports/{rid}/result",
                       query={"filter": {"field": "organisation.name", "op": "eq", "value": "Acme"}}).get_json()
    assert narrowed["total"] == [{"EUR": "1400.00"}, 3]
    won = result["rows"][2]["filter"]  # drill-down: the list API counts what the row counts
    listed = bob.get("/api/v1/records/deal", query={"filter": won}).get_json()
    assert listed["count"] == result["row_totals"][2][1] == 2
    assert ann.delete(f"/api/v1/reports/{rid}").status_code == 204
    assert ann.get(f"/api/v1/reports/{rid}").status_code == 404


def test_bad_input_and_rights(app, db):
    ann = api(app, db, "ann")
    bad = ann.post("/api/v1/reports", {"name": "x", "definition": {**DEFINITION, "rows": [{"field": "nope"}]}})
    assert bad.status_code == 422 and "definition.rows.0.field" in error_of(bad)["fields"]
    too_many = ann.post("/api/v1/reports", {"name": "x", "definition": {**DEFINITION, "rows": [
        {"field": "stage"}, {"field": "owner"}, {"field": "organisation"}]}})
    assert too_many.status_code == 422 and "at most 3" in error_of(too_many)["message"]
    rid = ann.post("/api/v1/reports", {"name": "Notes", "shared_with": ["Sales"], "definition": {
        "object": "deal", "rows": [{"field": "secret_note"}]}}).get_json()["id"]
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    hidden = api(app, db, "bob").get(f"/api/v1/reports/{rid}/result")
    assert hidden.status_code == 400 and error_of(hidden)["fields"] == {
        "rows.0.field": ["'secret_note': object 'deal' has no field 'secret_note'"]}
    assert ann.get(f"/api/v1/reports/{rid}/result", query={"filter": "[1]"}).status_code == 400
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    assert ann.get("/api/v1/reports").get_json()["data"] == []  # no report right: not listed
    assert ann.get(f"/api/v1/reports/{rid}/result").status_code == 404
    assert ann.get("/api/v1/reports/abc").status_code in (400, 404)


def test_dashboards_allow_list_and_unreadable_widgets(app, db):
    root, ann, bob = api(app, db, "root"), api(app, db, "ann"), api(app, db, "bob")
    rid = ann.post("/api/v1/reports", {"name": "Mine", "definition": DEFINITION}).get_json()["id"]
    web = {"kind": "web", "url": "https://maps.example.com/berlin"}
    refused = root.post("/api/v1/dashboards", {"name": "Board", "layout": {"widgets": [web]}})
    assert refused.status_code == 422 and "allow list" in error_of(refused)["fields"]["widgets.0.url"][0]
    assert bob.put("/api/v1/embed-hosts", {"prefixes": ["https://maps.example.com/"]}).status_code == 403
    assert root.put("/api/v1/embed-hosts", {"prefixes": ["https://maps.example.com/"]}).status_code == 200
    script = root.post("/api/v1/dashboards", {"name": "B", "layout": {"widgets": [
        {"kind": "web", "url": "javascript:alert(1)//https://maps.example.com/"}]}})
    assert script.status_code == 422 and "'javascript' is not allowed" in error_of(script)["fields"]["widgets.0.url"][0]
    board = ann.post("/api/v1/dashboards", {"name": "Sales board", "shared_with": [{"group": "Sales"}], "layout": {
        "widgets": [{"kind": "chart", "report": rid, "width": 8}, {"kind": "list", "object": "deal", "limit": 5}],
        "filters": [{"field": "close_date"}]}})
    assert board.status_code == 201, board.get_json()
    assert bob.post("/api/v1/dashboards", {"name": "Theirs", "layout": {"widgets": [
        {"kind": "kpi", "report": rid}]}}).status_code == 422  # bob may not read ann's personal report
    seen = bob.get(f"/api/v1/dashboards/{board.get_json()['id']}").get_json()
    assert [w["kind"] for w in seen["layout"]["widgets"]] == ["chart", "list"] and seen["editable"] is False
    assert root.post("/api/v1/dashboards", {"name": "Web", "layout": {"widgets": [web]}}).status_code == 201


def test_openapi_describes_the_reports_api(app, db):
    paths = api(app, db, "ann").get("/api/openapi.json").get_json()["paths"]
    for path in ("/api/v1/reports", "/api/v1/reports/{report_ref}", "/api/v1/reports/{report_ref}/result",
                 "/api/v1/dashboards", "/api/v1/dashboards/{dashboard_ref}"):
        assert path in paths, path
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.set_object_rights(db, SYSTEM, "Sales", "organisation", ["read"])
    assert "/api/v1/reports" not in api(app, db, "ann").get("/api/openapi.json").get_json()["paths"]
