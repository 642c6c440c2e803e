"""Reports and dashboards travel in solutions (issue 15, point 1): the shared ones are
exported with field names and groups by name, and imported into another database in the
import's one transaction (checked against the imported metadata; a report that does not
fit refuses the whole document)."""
from __future__ import annotations

import pytest

from cardbase.report_builder import dashboards, library
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.errors import SchemaError
from cardbase.schema_engine.solution import export_solution, import_solution
from cardbase.schema_engine.store.records import RecordStore

from report_fixture import sales_crm

PIPELINE = {"object": "deal", "rows": [{"field": "stage"}], "columns": [{"field": "organisation.industry"}],
            "measures": [{"op": "sum", "field": "amount", "weight": "probability"}]}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def test_shared_reports_and_dashboards_travel_and_personal_ones_stay(crm, make_database, engine_name):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        library.save_report(s, {"name": "Mine", "definition": PIPELINE})
        shared = library.save_report(s, {"name": "Pipeline", "shared_with": ["Sales"], "definition": PIPELINE})
    with crm.store.session(crm.actor("root"), write=True) as s:
        dashboards.set_embed_hosts(s, ["https://maps.example.com/"])
        dashboards.save_dashboard(s, {"name": "Board", "shared_with": [{"group": "Sales", "default": True}],
                                      "layout": {"widgets": [{"kind": "chart", "report": shared["id"]},
                                                             {"kind": "web", "url": "https://maps.example.com/x"}]}})
    document = export_solution(crm.db)
    assert [r["name"] for r in document["reports"]] == ["Pipeline"]
    assert document["reports"][0]["definition"]["measures"][0]["weight"] == "probability"
    assert document["reports"][0]["groups"] == ["Sales"]
    assert document["dashboards"][0]["layout"]["widgets"][0]["report"] == {"object": "deal", "name": "Pipeline"}

    target = Database(make_database(engine_name))
    try:
        target.create_system_tables()
        result = import_solution(target, document)
        assert "report deal: Pipeline (groups not here, left out: Sales)" in result["added"]
        assert any(n.startswith("dashboard Board") and "maps.example.com" in n for n in result["added"])
        with RecordStore(target).session(SYSTEM) as s:
            [imported] = library.list_reports(s)
            assert imported["owner"] is None and imported["definition"]["rows"] == [{"field": "stage"}]
            assert run_report(s, library.load_definition(s, imported)).total == [None]  # no deals there yet
            [board] = dashboards.list_dashboards(s)
            assert board["layout"]["widgets"] == [{**document["dashboards"][0]["layout"]["widgets"][0],
                                                   "report": imported["id"]}]
        again = import_solution(target, document)  # the same document again changes nothing new
        assert not any(n.startswith("report") for n in again["added"])
        broken = {**document, "reports": [{**document["reports"][0], "definition": {
            **document["reports"][0]["definition"], "rows": [{"field": "nope"}]}}]}
        with pytest.raises(SchemaError) as info:
            import_solution(target, broken)
        assert "report 'Pipeline'" in info.value.message and "nope" in info.value.message
    finally:
        target.dispose()
