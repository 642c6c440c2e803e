"""Report labels in the reader's language (issue 15, point 4) and the link-picker live
filter (point 5): date buckets read "Q2 2026" / "Mai 2026" / "KW 18 2026" in the pivot, on
the chart's axis and in the CSV and XLSX exports, while the ISO key stays underneath (the
REST answer's key, the drill-down's date range); filtering by a linked record gives
figures whose drill-down lists count exactly what they show."""
from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook

from cardbase.report_builder import library
from cardbase.schema_engine.actor import SYSTEM

from api_testlib import api_for, signed_in
from report_fixture import app_fixture, crm_fixture  # noqa: F401 (the crm and app fixtures)
from test_platform_web_reports import DOC, page_data


def _doc(name: str, bucket: str) -> dict:
    return {"name": name, "shared_with": ["Sales"], "definition": {
        "object": "deal", "rows": [{"field": "close_date", "bucket": bucket}], "columns": [{"field": "stage"}],
        "measures": [{"op": "count"}], "chart": {"type": "bar"}, "live_filters": ["organisation"]}}


@pytest.fixture
def reports(crm):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        return {bucket: library.save_report(s, _doc(f"By {bucket}", bucket))["id"]
                for bucket in ("day", "week", "month", "quarter", "year")}


def count_of(crm, url: str) -> int:
    query = parse_qs(urlsplit(url).query)
    with crm.store.session(crm.actor("bob")) as s:
        return s.count("deal", json.loads(query["filter"][0]) if "filter" in query else None)[0]


EXPECTED = {
    "en": {"day": "Jan 15, 2026", "week": "W3 2026", "month": "January 2026", "quarter": "Q1 2026", "year": "2026"},
    "de": {"day": "15.01.2026", "week": "KW 3 2026", "month": "Januar 2026", "quarter": "Q1 2026", "year": "2026"},
}


@pytest.mark.parametrize("language", ["en", "de"])
def test_date_buckets_in_the_readers_language_on_pivot_chart_and_exports(app, crm, reports, language):
    bob = signed_in(app, "bob")
    if language == "de":
        bob.post("/account/language", data={"language": "de", "next": "/"})
    for bucket, rid in reports.items():
        data = page_data(bob.get(f"/reports/{rid}").get_data(as_text=True))
        first = data["rows"][0]
        assert first["label"] == EXPECTED[language][bucket]
        assert data["figure"]["data"][0]["x"][0] == EXPECTED[language][bucket]  # the chart's axis
        assert count_of(crm, first["url"]) == int(first["texts"][0])  # drill-down still by the ISO key
        rows = list(csv.reader(io.StringIO(bob.get(f"/reports/{rid}/export.csv").get_data(as_text=True))))
        assert rows[1][0] == EXPECTED[language][bucket]
        sheet = load_workbook(io.BytesIO(bob.get(f"/reports/{rid}/export.xlsx").data)).active
        assert sheet.cell(row=2, column=1).value == EXPECTED[language][bucket]
    months = page_data(bob.get(f"/reports/{reports['month']}").get_data(as_text=True))
    may = "May 2026" if language == "en" else "Mai 2026"
    assert [r["label"] for r in months["rows"]][:4] == [EXPECTED[language]["month"], "February 2026"
                                                        if language == "en" else "Februar 2026", "April 2026", may]
    assert months["figure"]["layout"]["separators"] == (".," if language == "en" else ",.")
    answer = bob.get(f"/reports/{reports['quarter']}/data").get_json()
    assert [r["key"] for r in answer["result"]["rows"]] == [["2026-Q1"], ["2026-Q2"], ["2026-Q3"], [None]]


def test_the_rest_answer_keeps_the_iso_key_under_an_english_label(app, db, crm, reports):
    root = api_for(app, db, "root")
    result = root.get(f"/api/v1/reports/{reports['week']}/result").get_json()
    assert result["rows"][0] == {**result["rows"][0], "key": ["2026-W03"], "label": "W3 2026"}


def test_a_link_picker_live_filter_gives_figures_its_drill_down_lists_count(app, crm):
    with crm.store.session(crm.actor("ann"), write=True) as s:
        rid = library.save_report(s, DOC)["id"]
    with crm.store.session(SYSTEM) as s:
        orgs = {r["name"]: r["id"] for r in s.list("organisation", _names()).data}
    bob = signed_in(app, "bob")
    page = bob.get(f"/reports/{rid}").get_data(as_text=True)
    assert f'<option value="{orgs["Acme"]}"' in page and ">Beta</option>" in page  # the link picker
    acme = bob.get(f"/reports/{rid}/data?organisation={orgs['Acme']}").get_json()["data"]
    assert acme["total"]["texts"] == ["1,400.00 EUR", "3"]  # A, C, E
    assert count_of(crm, acme["total"]["url"]) == 3
    for i, row in enumerate(acme["rows"]):
        assert count_of(crm, row["url"]) == int(row["texts"][1])
        for cell in acme["cells"][i]:
            assert count_of(crm, cell["url"]) == int(cell["texts"][1] or 0)
    beta = bob.get(f"/reports/{rid}/data?organisation={orgs['Beta']}").get_json()["data"]
    assert beta["total"]["texts"][1] == "3" and count_of(crm, beta["total"]["url"]) == 3  # B, D, G
    assert [r["label"] for r in beta["rows"]] == ["Lead", "Proposal", "Won"]
    bad = bob.get(f"/reports/{rid}/data?organisation=999999")
    assert bad.status_code == 400 and "organisation" in bad.get_json()["error"]


def _names():
    from cardbase.schema_engine.query.model import ListQuery
    return ListQuery(limit=100, fields=["name"])
