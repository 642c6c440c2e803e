"""Dashboard-wide filters as real pickers (issue 15, point 6): a user picker, a link picker
and a choice select beside the date range, like the report page's live filters; the value
picked reaches every widget (chart, KPI, pivot and record list); a value that is not one
of the picker's options is named in a notice and filters nothing (never a 500)."""
from __future__ import annotations

import re

import pytest

from cardbase.platform import users
from cardbase.report_builder import dashboards, library
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import ListQuery

from api_testlib import signed_in
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)

PIPELINE = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}]}
FILTERS = [{"field": "close_date"}, {"field": "owner"}, {"field": "organisation"}, {"field": "stage"}]


@pytest.fixture
def board(crm):
    with crm.store.session(crm.actor("root"), write=True) as s:
        shared = library.save_report(s, {"name": "Deals by stage", "shared_with": ["Sales"], "definition": PIPELINE})
        return dashboards.save_dashboard(s, {"name": "Sales board", "shared_with": [{"group": "Sales"}],
                                             "layout": {"filters": FILTERS, "widgets": [
                                                 {"kind": "kpi", "report": shared["id"], "title": "Deals"},
                                                 {"kind": "pivot", "report": shared["id"]},
                                                 {"kind": "chart", "report": shared["id"]},
                                                 {"kind": "list", "object": "deal", "title": "Open deals", "limit": 10,
                                                  "filter": {"field": "stage", "op": "in",
                                                             "value": ["lead", "proposal"]}}]}})


def _ids(crm) -> dict[str, int]:
    with crm.store.session(SYSTEM) as s:
        orgs = {r["name"]: r["id"] for r in s.list("organisation", ListQuery(limit=10, fields=["name"])).data}
    return {**orgs, **{name: users.find_user(crm.db, name).id for name in ("ann", "bob")}}


def _select(html: str, name: str) -> list[tuple[str, str]]:
    found = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert found, f"no picker for {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', found.group(1))


def _kpi(html: str) -> str:
    found = re.search(r'class="cb-kpi[^>]*>([^<]*)<', html)
    assert found
    return found.group(1)


def test_the_filters_are_user_link_and_choice_pickers(app, crm, board):
    ids = _ids(crm)
    html = signed_in(app, "bob").get(f"/dashboards/{board['id']}").get_data(as_text=True)
    assert 'name="close_date__from"' in html and 'name="close_date__to"' in html
    assert ("", "all") in _select(html, "owner")
    assert (str(ids["ann"]), "Ann") in _select(html, "owner") and (str(ids["bob"]), "Bob") in _select(html, "owner")
    assert _select(html, "organisation")[1:] == [(str(ids["Acme"]), "Acme"), (str(ids["Beta"]), "Beta")]
    assert _select(html, "stage")[1:] == [("lead", "Lead"), ("proposal", "Proposal"), ("won", "Won"), ("lost", "Lost")]
    assert 'data-picker="user"' in html and 'data-picker="link"' in html
    assert not re.search(r'<input[^>]*name="(owner|organisation|stage)"', html)  # no plain text boxes left


@pytest.mark.parametrize("query, kpi, listed", [
    ("organisation={Acme}", "3", ["A", "E"]),       # A, C, E; open: A, E
    ("owner={bob}", "3", ["B", "E"]),                # B, D, E; open: B, E
    ("stage=won", "2", []),                           # C, D; none open
    ("owner={ann}&organisation={Beta}", "1", ["G"]),  # G only
])
def test_a_picked_value_reaches_every_widget(app, crm, board, query, kpi, listed):
    ids = _ids(crm)
    html = signed_in(app, "bob").get(f"/dashboards/{board['id']}?" + query.format(**ids)).get_data(as_text=True)
    assert _kpi(html) == kpi
    assert sorted(re.findall(r"<li><a href=\"[^\"]*\">([^<]*)</a>", html)) == listed
    total = re.search(r'<tr class="fw-bold"><th>[^<]*</th>.*?<a href="[^"]*"><span class="cb-figure">(\d+)</span></a></td></tr>',
                      html, re.S)
    assert total and total.group(1) == kpi  # the pivot widget, under the same filter
    points = re.search(r'data-points="([^"]*)"', html)
    assert points and all(f"%22{name}%22" in points.group(1)  # the chart's drill-down carries it too
                          for name in re.findall(r"(\w+)=", query))
    assert f'<option value="{query.split("=")[1].split("&")[0].format(**ids)}" selected>' in html


def test_a_value_not_offered_is_named_and_filters_nothing(app, crm, board):
    bob = signed_in(app, "bob")
    response = bob.get(f"/dashboards/{board['id']}?organisation=999999")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="cb-filter-problem"' in html and "organisation" in html
    assert _kpi(html) == "7"
    bob.post("/account/language", data={"language": "de", "next": "/"})
    german = bob.get(f"/dashboards/{board['id']}?stage=nonsense").get_data(as_text=True)
    assert 'id="cb-filter-problem"' in german and "ist keine der Auswahlmöglichkeiten" in german
    assert ("", "alle") in _select(german, "owner")
