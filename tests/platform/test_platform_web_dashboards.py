"""Dashboards in the browser (issue 15, point 6): a grid of chart, pivot, KPI, record-list
and allow-listed web-page widgets; dashboard-wide filters reach every widget; a widget
whose report the viewer may not read says so; the group's default dashboard replaces the
home page's count tiles; the owner reorders and resizes widgets (saved as JSON)."""
from __future__ import annotations

import re

import pytest

from cardbase.report_builder import dashboards, library
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import signed_in
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)

PIPELINE = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}]}


@pytest.fixture
def board(crm):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        private = library.save_report(s, {"name": "Ann only", "definition": PIPELINE})
    with crm.store.session(crm.actor("root"), write=True) as s:
        dashboards.set_embed_hosts(s, ["https://maps.example.com/"])
        shared = library.save_report(s, {"name": "Deals by stage", "shared_with": ["Sales"],
                                         "definition": {**PIPELINE, "chart": {"type": "funnel"}}})
        return dashboards.save_dashboard(s, {"name": "Sales board", "shared_with": [{"group": "Sales", "default": True}],
                                             "layout": {"filters": [{"field": "close_date"}], "widgets": [
                                                 {"kind": "chart", "report": shared["id"]},
                                                 {"kind": "kpi", "report": shared["id"], "title": "Deals"},
                                                 {"kind": "pivot", "report": shared["id"]},
                                                 {"kind": "list", "object": "deal", "title": "Open deals", "limit": 3,
                                                  "filter": {"field": "stage", "op": "in", "value": ["lead", "proposal"]}},
                                                 {"kind": "web", "url": "https://maps.example.com/berlin"},
                                                 {"kind": "chart", "report": private["id"], "title": "Private"}]}})


def test_the_groups_default_dashboard_is_the_home_page(app, board):
    response = signed_in(app, "bob").get("/")
    html = response.get_data(as_text=True)
    assert "Sales board" in html and "cb-tile" not in html
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("; frame-src https://maps.example.com") and "img-src 'self' data: blob:" in policy
    assert html.count('class="col-12 col-md-') == 6
    assert 'data-kind="chart"' in html and "/reports/plotly.min.js" in html
    assert re.search(r'class="cb-kpi[^>]*>7<', html)  # seven live deals
    assert html.count("<li><a href=") == 3  # the list widget's limit
    assert 'src="https://maps.example.com/berlin"' in html and 'sandbox="allow-scripts' in html
    assert "This widget&#39;s report is not available to you." in html  # ann's personal report
    tiles = signed_in(app, "root").get("/").get_data(as_text=True)  # no group: the count tiles
    assert "cb-tile" in tiles


def test_dashboard_filters_reach_every_widget(app, board):
    html = signed_in(app, "bob").get(f"/dashboards/{board['id']}?close_date__from=2026-04-01"
                                     "&close_date__to=2026-06-30").get_data(as_text=True)
    assert re.search(r'class="cb-kpi[^>]*>3<', html)  # C, D, E
    assert html.count("<li><a href=") == 1  # E is the only open deal closing then


def test_the_owner_arranges_widgets_and_others_may_not(app, board):
    url = f"/dashboards/{board['id']}/layout"
    bob = signed_in(app, "bob")
    refused = bob.post(url, json={"order": [5, 4, 3, 2, 1, 0], "sizes": [6] * 6})
    assert refused.status_code == 403
    root = signed_in(app, "root")
    assert root.post(url, json={"order": [0, 1], "sizes": [6, 6]}).status_code == 400
    saved = root.post(url, json={"order": [1, 0, 2, 3, 4, 5], "sizes": [3, 9, 6, 6, 6, 12]})
    assert saved.status_code == 200, saved.get_json()
    widgets = saved.get_json()["layout"]["widgets"]
    assert [w["kind"] for w in widgets][:2] == ["kpi", "chart"] and [w["width"] for w in widgets][:2] == [3, 9]
    listed = bob.get("/dashboards").get_data(as_text=True)
    assert "Sales board" in listed


def test_a_dashboard_the_user_may_not_see(app, crm, board):
    with crm.store.session(SYSTEM, write=True) as s:
        hidden = dashboards.save_dashboard(s, {"name": "Board of the board", "layout": {"widgets": []}})
    assert signed_in(app, "bob").get(f"/dashboards/{hidden['id']}").status_code == 404


def test_a_user_makes_a_dashboard_and_adds_widgets_in_the_browser(app, crm, board):
    ann = signed_in(app, "ann")
    made = ann.post("/dashboards/new", data={"name": "Mine"})
    assert made.status_code == 302
    url = made.headers["Location"]
    board_id = int(url.rsplit("/", 1)[1])
    with crm.store.session(crm.actor("ann")) as s:
        [report] = [r for r in library.list_reports(s) if r["name"] == "Deals by stage"]
    added = ann.post(f"/dashboards/{board_id}/widgets", data={"kind": "kpi", "report": report["id"], "width": "4"})
    assert added.status_code == 302
    html = ann.get(url).get_data(as_text=True)
    assert re.search(r'class="cb-kpi[^>]*>7<', html) and 'data-width="4"' in html
    refused = ann.post(f"/dashboards/{board_id}/widgets", data={"kind": "web", "url": "javascript:alert(1)"},
                       follow_redirects=True).get_data(as_text=True)
    assert "javascript" in refused and refused.count('cb-widget" data-index') == 1  # nothing added
    assert signed_in(app, "bob").post(f"/dashboards/{board_id}/widgets",
                                      data={"kind": "kpi", "report": report["id"]}).status_code == 404
