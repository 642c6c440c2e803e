"""The report page (issue 15, points 4, 5, 8): pivot and plotly chart from the report's
result, plotly.js served from the installed package, live filters answered as JSON (no
reload), drill-down links whose list counts what the figure counts, CSV/XLSX export, the
print view, German labels, and a report whose field was hidden since shown with its
problem (never a 500)."""
from __future__ import annotations

import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from cardbase.report_builder import library
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import signed_in
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)

DOC = {"name": "Stage by quarter", "shared_with": ["Sales"], "definition": {
    "object": "deal", "rows": [{"field": "stage"}], "columns": [{"field": "close_date", "bucket": "quarter"}],
    "measures": [{"op": "sum", "field": "amount"}, {"op": "count"}], "chart": {"type": "stacked_bar"},
    "live_filters": ["close_date", "owner", "stage", "organisation"]}}


@pytest.fixture
def report(crm):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        return library.save_report(s, DOC)


def page_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="cb-report-data">(.*?)</script>', html, re.S)
    assert found, html[:2000]
    return json.loads(found.group(1))


def count_of(crm, url: str) -> int:
    query = parse_qs(urlsplit(url).query)
    with crm.store.session(crm.actor("bob")) as s:
        return s.count("deal", json.loads(query["filter"][0]) if "filter" in query else None)[0]


def test_report_page_draws_pivot_and_chart_and_drills_down(app, crm, report):
    bob = signed_in(app, "bob")
    listed = bob.get("/reports").get_data(as_text=True)
    assert "Stage by quarter" in listed
    page = bob.get(f"/reports/{report['id']}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/reports/plotly.min.js" in html and "cdn" not in html.lower()
    data = page_data(html)
    assert [r["label"] for r in data["rows"]] == ["Lead", "Proposal", "Won", "Lost"]
    assert data["cells"][2][1]["texts"] == ["1,000.00 EUR · 200.00 USD", "2"]
    assert data["cells"][2][1]["parts"] == [["1,000.00 EUR", "200.00 USD"], ["2"]]  # unbreakable amounts
    assert data["figure"]["layout"]["barmode"] == "stack" and data["figure"]["data"][0]["customdata"]
    for i, row in enumerate(data["rows"]):  # every figure's list counts what the figure counts
        assert count_of(crm, row["url"]) == int(row["texts"][1])
        for cell in data["cells"][i]:
            assert count_of(crm, cell["url"]) == int(cell["texts"][1] or 0)
    assert count_of(crm, data["total"]["url"]) == 7
    assert bob.get(data["cells"][2][1]["url"]).status_code == 200  # the list opens with the cell's filter
    script = bob.get("/reports/plotly.min.js")
    assert script.status_code == 200 and script.mimetype == "text/javascript" and b"plotly" in script.data[:2000]


def test_live_filters_rerun_the_report_as_json(app, crm, report):
    bob = signed_in(app, "bob")
    won = bob.get(f"/reports/{report['id']}/data?stage=won").get_json()["data"]
    assert [r["label"] for r in won["rows"]] == ["Won"] and won["total"]["texts"] == ["1,000.00 EUR · 200.00 USD", "2"]
    spring = bob.get(f"/reports/{report['id']}/data?close_date__from=2026-04-01&close_date__to=2026-06-30").get_json()
    assert spring["data"]["total"]["texts"][1] == "3"  # C, D, E
    assert count_of(crm, spring["data"]["total"]["url"]) == 3
    bad = bob.get(f"/reports/{report['id']}/data?stage=nonsense")
    assert bad.status_code == 400 and "stage" in bad.get_json()["error"]


def test_export_print_and_german(app, crm, report):
    bob = signed_in(app, "bob")
    csv_text = bob.get(f"/reports/{report['id']}/export.csv?stage=won").get_data(as_text=True)
    assert csv_text.splitlines()[1].startswith("Won,") and "1,000.00 EUR" in csv_text
    xlsx = bob.get(f"/reports/{report['id']}/export.xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet.cell(row=1, column=1).value == "Stage" and sheet.cell(row=sheet.max_row, column=1).value == "Total"
    assert bob.get(f"/reports/{report['id']}/export.pdf").status_code == 404
    assert "cb-print" in bob.get(f"/reports/{report['id']}?print=1").get_data(as_text=True)
    bob.post("/account/language", data={"language": "de", "next": "/"})
    german = page_data(bob.get(f"/reports/{report['id']}").get_data(as_text=True))
    assert german["measures"] == ["Summe von Amount", "Anzahl"]
    assert german["cells"][2][1]["texts"][0] == "1.000,00 EUR · 200,00 USD"
    assert german["figure"]["layout"]["separators"] == ",."


def test_a_field_hidden_since_and_a_report_the_user_may_not_see(app, db, crm, report):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        mine = library.save_report(s, {**DOC, "shared_with": []})
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "close_date", "hidden")
    page = signed_in(app, "bob").get(f"/reports/{report['id']}")
    assert page.status_code == 200 and "close_date" in page.get_data(as_text=True)
    assert "cb-report-data" not in page.get_data(as_text=True)
    assert signed_in(app, "bob").get(f"/reports/{mine['id']}").status_code == 404


def test_german_date_range_filters_are_german_text_and_mean_the_same_days(app, crm, report):
    """A German screen asks for the range as TT.MM.JJJJ (not the browser's mm/dd/yyyy) and
    "01.04.2026" to "30.06.2026" filters exactly like the ISO dates."""
    bob = signed_in(app, "bob")
    bob.post("/account/language", data={"language": "de", "next": "/"})
    html = bob.get(f"/reports/{report['id']}?close_date__from=2026-04-01").get_data(as_text=True)
    start = re.search(r'<input[^>]*name="close_date__from"[^>]*>', html)
    assert start and 'type="text"' in start.group(0) and 'value="01.04.2026"' in start.group(0)
    assert 'placeholder="TT.MM.JJJJ"' in start.group(0) and 'type="date"' not in html
    german = bob.get(f"/reports/{report['id']}/data?close_date__from=01.04.2026&close_date__to=30.06.2026").get_json()
    iso = bob.get(f"/reports/{report['id']}/data?close_date__from=2026-04-01&close_date__to=2026-06-30").get_json()
    assert german["data"]["total"]["texts"][1] == iso["data"]["total"]["texts"][1] == "3"
