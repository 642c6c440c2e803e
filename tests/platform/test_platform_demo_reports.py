"""The demo CRM ships its reports and a sales dashboard (issue 15, point 7): pipeline
funnel, forecast by month (weighted by probability), revenue by organisation industry,
deals by owner, won versus forecast; the forecast equals a sum computed from the records."""
from __future__ import annotations

import re
from collections import defaultdict
from decimal import Decimal

import pytest

from cardbase.platform import users
from cardbase.platform.app import create_app
from cardbase.platform.context import actor_for
from cardbase.report_builder import dashboards, library
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import TEST_CONFIG, signed_in, templated

PASSWORD = "chief-pass-2024"


def _demo(db) -> None:
    from cardbase.platform.cli import initialise, load_demo
    initialise(db)
    users.set_password(db, "admin", PASSWORD)
    load_demo(db, 120)


@pytest.fixture
def demo(db):
    templated(db, "demo_reports_120", _demo)
    return db


def test_the_demo_reports_run_and_the_forecast_adds_up(demo):
    store = RecordStore(demo)
    admin = actor_for(users.find_user(demo, "admin"), demo)
    with store.session(admin) as s:
        reports = {r["name"]: r for r in library.list_reports(s)}
        assert set(reports) == {"Pipeline funnel", "Forecast by month", "Revenue by industry", "Deals by owner",
                                "Won versus forecast"}
        results = {name: run_report(s, library.load_definition(s, r)) for name, r in reports.items()}
        assert all(not r.problems or "distinct" in " ".join(r.problems) for r in results.values())
        expected: dict[str, Decimal] = defaultdict(Decimal)
        deals = s.list("deal", ListQuery(limit=500, fields=["amount", "probability", "stage"])).data
        for deal in deals:
            if deal["stage"] not in ("won", "lost") and deal["amount"] is not None and deal["probability"] is not None:
                expected[deal["amount"].currency] += deal["amount"].amount * deal["probability"] / 100
        total = results["Forecast by month"].total[0]
        assert total == {c: v.quantize(Decimal("0.01")) for c, v in sorted(expected.items())}
        funnel = results["Pipeline funnel"]
        assert [k[0] for k in funnel.row_keys] == ["lead", "qualified", "proposal", "negotiation"]
        assert funnel.total[0] == sum(1 for d in deals if d["stage"] not in ("won", "lost"))
        [board] = dashboards.list_dashboards(s)
        assert board["name"] == "Sales dashboard" and len(board["layout"]["widgets"]) == 6


def test_the_sales_dashboard_page(demo):
    app = create_app(dict(TEST_CONFIG), db=demo)
    admin = signed_in(app, "admin", PASSWORD)
    with RecordStore(demo).session(actor_for(users.find_user(demo, "admin"), demo)) as s:
        [board] = dashboards.list_dashboards(s)
    html = admin.get(f"/dashboards/{board['id']}").get_data(as_text=True)
    assert html.count('data-kind="chart"') == 4 and 'data-kind="kpi"' in html and "cb-widget-problem" not in html
    assert "My open tasks" in html and "Weighted pipeline" in html
    tasks = re.search(r'data-kind="list".*?<ul class="list-unstyled mb-1">(.*?)</ul>', html, re.S).group(1)
    with RecordStore(demo).session(actor_for(users.find_user(demo, "admin"), demo)) as s:
        mine = s.count("task", {"and": [{"field": "done", "op": "eq", "value": False},
                                        {"field": "assignee", "op": "eq", "value": "me"}]})[0]
    assert mine > 0 and tasks.count("<li>") == min(mine, 8)
