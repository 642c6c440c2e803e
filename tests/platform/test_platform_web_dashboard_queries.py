"""A dashboard page reads its widgets' reports at once (issue 15, point 10): one query for
the reports the viewer may run and one for their groups, however many widgets there are;
then one grouped query per distinct report widget (the result cache serves a report shown
twice, and every widget on the next visit while no data changed). A report the viewer may
not read still says so."""
from __future__ import annotations

import pytest

from cardbase.platform.app import create_app
from cardbase.report_builder import dashboards, library

from api_testlib import TEST_CONFIG, signed_in
from report_fixture import sales_crm
from sql_recorder import recorded

PIPELINE = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}]}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def test_a_six_widget_dashboard_reads_its_reports_in_one_query(db, crm):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        private = library.save_report(s, {"name": "Ann only", "definition": PIPELINE})
    with crm.store.session(crm.actor("root"), write=True) as s:
        shared = [library.save_report(s, {"name": f"Shared {i}", "shared_with": ["Sales"], "definition": {
            **PIPELINE, "chart": {"type": kind}}}) for i, kind in enumerate(["bar", "funnel", "pie", "line"])]
        board = dashboards.save_dashboard(s, {"name": "Six", "shared_with": ["Sales"], "layout": {"widgets": [
            {"kind": "chart", "report": shared[0]["id"]}, {"kind": "chart", "report": shared[1]["id"]},
            {"kind": "pivot", "report": shared[2]["id"]}, {"kind": "kpi", "report": shared[3]["id"], "title": "Deals"},
            {"kind": "chart", "report": shared[0]["id"], "title": "Again"},
            {"kind": "chart", "report": private["id"], "title": "Private"}]}})
    bob = signed_in(create_app(dict(TEST_CONFIG), db=db), "bob")
    with recorded(db.engine) as statements:
        html = bob.get(f"/dashboards/{board['id']}").get_data(as_text=True)
    reports = [q for q in statements if q.lstrip().startswith("SELECT cb_report.id")]
    groups = [q for q in statements if q.lstrip().startswith("SELECT cb_report_group.report_id")]
    grouped = [q for q in statements if "GROUP BY" in q and "count(*)" in q]
    assert (len(reports), len(groups), len(grouped)) == (1, 1, 4)  # five widgets of four readable reports
    assert html.count('class="col-12 col-md-') == 6
    assert "Shared 1" in html and "Again" in html
    assert "This widget&#39;s report is not available to you." in html  # ann's personal report
    with recorded(db.engine) as statements:
        again = bob.get(f"/dashboards/{board['id']}").get_data(as_text=True)
    assert [q for q in statements if "GROUP BY" in q and "count(*)" in q] == []  # all from the cache
    assert again.count('class="col-12 col-md-') == 6 and "Shared 1" in again
