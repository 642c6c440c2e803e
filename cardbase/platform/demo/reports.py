"""The demo CRM's reports and its sales dashboard: pipeline funnel, forecast by month
(weighted by probability), revenue by organisation industry and deals by owner, with a
KPI of the weighted pipeline and the viewer's open tasks ("me" in the filter). Saved through the report library in one
write session of the demo's admin, so they are ordinary reports anyone may copy."""
from __future__ import annotations

from typing import Any

from cardbase.report_builder import dashboards, library
from cardbase.report_builder.forecast import forecast_reports
from cardbase.schema_engine.store.session import Session

OPEN = {"field": "stage", "op": "not_in", "value": ["won", "lost"]}


def demo_reports(forecast: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        "Pipeline funnel": {"object": "deal", "filter": OPEN, "rows": [{"field": "stage"}],
                            "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],
                            "chart": {"type": "funnel", "measure": 0}, "live_filters": ["expected_close", "owner"]},
        "Forecast by month": {**forecast["forecast_by_month"], "filter": OPEN},
        "Revenue by industry": {"object": "deal", "filter": {"field": "stage", "op": "eq", "value": "won"},
                                "rows": [{"field": "organisation.industry"}],
                                "measures": [{"op": "sum", "field": "amount"}, {"op": "count"}],
                                "sort": {"by": "measure", "measure": 1, "descending": True},
                                "chart": {"type": "donut", "measure": 1}, "live_filters": ["expected_close"]},
        "Deals by owner": {"object": "deal", "rows": [{"field": "owner"}], "columns": [{"field": "stage"}],
                           "measures": [{"op": "count"}], "chart": {"type": "stacked_bar"},
                           "live_filters": ["expected_close", "organisation"]},
        "Won versus forecast": forecast["won_vs_forecast"],
    }


def install_demo_reports(s: Session) -> dict[str, int]:
    """The demo's reports and the "Sales dashboard" (in the demo load's write session, as
    its actor); returns their ids by name."""
    forecast = forecast_reports(s.object("deal"), {"amount": "amount", "probability": "probability",
                                                   "close_date": "expected_close", "stage": "stage"})
    ids = {name: library.save_report(s, {"name": name, "definition": definition})["id"]
           for name, definition in demo_reports(forecast).items()}
    board = dashboards.save_dashboard(s, {"name": "Sales dashboard", "layout": {
        "filters": [{"field": "expected_close"}],
        "widgets": [
            {"kind": "kpi", "report": ids["Forecast by month"], "title": "Weighted pipeline", "width": 4,
             "height": 1},
            {"kind": "list", "object": "task", "title": "My open tasks",
             "filter": {"and": [{"field": "done", "op": "eq", "value": False},
                                {"field": "assignee", "op": "eq", "value": "me"}]},
             "limit": 8, "width": 8, "height": 1},
            {"kind": "chart", "report": ids["Pipeline funnel"], "width": 6},
            {"kind": "chart", "report": ids["Forecast by month"], "width": 6},
            {"kind": "chart", "report": ids["Revenue by industry"], "width": 6},
            {"kind": "chart", "report": ids["Deals by owner"], "width": 6},
        ]}})
    ids["Sales dashboard"] = board["id"]
    return ids
