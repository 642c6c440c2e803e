"""Charts (plotly figure JSON per chart type, drill-down indexes on every point, money per
currency, the reader's number separators) and the XLSX/CSV export of a pivot."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from cardbase.report_builder.charts import CHARTS, build_figure, figure_json
from cardbase.report_builder.definition import parse_definition
from cardbase.report_builder.export import to_csv, to_xlsx
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.actor import SYSTEM

from report_fixture import sales_crm

STAGES = {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}]}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def run(crm, document):
    with crm.store.session(SYSTEM) as s:
        return run_report(s, parse_definition(document))


def test_every_chart_type_builds_a_figure_with_drill_down_points(crm):
    result = run(crm, STAGES)
    for kind in CHARTS:
        figure = figure_json(result, kind=kind)
        assert figure["data"], kind
        assert figure["layout"]["autosize"] is True
        for locale in ("en", "de"):  # plotly's own validation accepts every chart type's JSON
            assert build_figure(result, kind=kind, measure=1, locale=locale).to_plotly_json()["data"], kind
    bar = figure_json(result, kind="bar")["data"][0]
    assert bar["type"] == "bar" and bar["x"] == ["Lead", "Proposal", "Won", "Lost"] and bar["y"] == [2, 2, 2, 1]
    assert bar["customdata"] == [[0, -1], [1, -1], [2, -1], [3, -1]]  # row index, column (-1: the total)
    money = figure_json(result, kind="stacked_bar", measure=1)
    assert [t["name"] for t in money["data"]] == ["EUR", "USD"]  # one series per currency
    assert money["data"][0]["y"] == [150.5, 300.0, 1000.0, None] and money["layout"]["barmode"] == "stack"
    assert figure_json(result, kind="donut")["data"][0]["hole"] == 0.45
    assert figure_json(result, kind="funnel")["data"][0]["type"] == "funnel"
    kpi = figure_json(result, kind="kpi", measure=1)["data"]
    assert [(k["value"], k["number"]["suffix"]) for k in kpi] == [(1450.5, " EUR"), (225.25, " USD")]
    assert figure_json(result, kind="line", locale="de")["layout"]["separators"] == ",."
    crossed = run(crm, {**STAGES, "columns": [{"field": "close_date", "bucket": "year"}]})
    lines = figure_json(crossed, kind="area")["data"]
    assert [t["name"] for t in lines] == ["2026", "—"] and lines[0]["customdata"][2] == [2, 0]


def test_xlsx_keeps_numbers_money_per_currency_and_totals(crm):
    result = run(crm, {**STAGES, "columns": [{"field": "close_date", "bucket": "year"}],
                       "measures": [{"op": "sum", "field": "amount"}]})
    sheet = load_workbook(io.BytesIO(to_xlsx(result, "=Pipeline"))).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["Stage", "2026 · Sum of Amount · EUR", "2026 · Sum of Amount · USD", "— · Sum of Amount · EUR",
                       "— · Sum of Amount · USD", "Total · Sum of Amount · EUR", "Total · Sum of Amount · USD"]
    assert rows[3][0] == "Won" and rows[3][1:3] == [1000, 200] and isinstance(rows[3][1], (int, float))
    assert rows[-1][0] == "Total" and rows[-1][-2:] == [1450.5, 225.25]
    assert sheet.cell(row=4, column=2).number_format == '#,##0.00 "EUR"'
    assert sheet.title == "'=Pipeline"


def test_csv_in_the_readers_locale_and_empty_results(crm):
    result = run(crm, {**STAGES, "measures": [{"op": "sum", "field": "amount"}, {"op": "count", "percent": True}]})
    rows = list(csv.reader(io.StringIO(to_csv(result, locale="de"))))
    assert rows[0] == ["Stage", "Sum of Amount · EUR", "Sum of Amount · USD", "Count"]
    assert rows[3] == ["Won", "1.000,00 EUR", "200,00 USD", "28,57 %"]
    assert rows[-1] == ["Total", "1.450,50 EUR", "225,25 USD", "100,00 %"]
    with crm.store.session(SYSTEM) as s:
        empty = run_report(s, parse_definition(STAGES), filter={"field": "title", "op": "eq", "value": "none"})
    assert list(csv.reader(io.StringIO(to_csv(empty))))[1:] == [["Total", "0", ""]]
    assert all(figure_json(empty, kind=k)["data"] is not None for k in CHARTS)


def test_the_funnel_shows_each_steps_share_of_the_total_never_above_100_percent(crm):
    """Lost (1 deal) sorted first, then steps of 2: "percent initial" said 200 %; each step
    now shows its share of all charted records (plotly's "percent total"), labelled so."""
    result = run(crm, {**STAGES, "sort": {"by": "measure", "measure": 0, "descending": False}})
    figure = figure_json(result, kind="funnel")
    trace = figure["data"][0]
    assert trace["y"][0] == "Lost" and trace["x"] == [1, 2, 2, 2]
    assert "initial" not in trace["textinfo"] and trace["textinfo"] == "value+percent total"
    assert trace["texttemplate"] == "%{value:,} · %{percentTotal:.1%}"
    assert trace["hovertemplate"] == "%{y}: %{x:,}<br>%{percentTotal:.1%} of total<extra></extra>"
    assert figure["layout"]["title"] == {"text": "Count", "subtitle": {"text": "Percentages: each step's share of the total"}}
    shares = [x / sum(trace["x"]) for x in trace["x"]]  # what percentTotal is, per plotly.js
    assert max(shares) <= 1 and abs(sum(shares) - 1) < 1e-9
    german = figure_json(result, kind="funnel", locale="de",
                         texts={"percent_of_total": "%(percent)s vom Gesamtwert", "funnel_percent_note": "Prozente"})
    assert german["data"][0]["hovertemplate"].endswith("%{percentTotal:.1%} vom Gesamtwert<extra></extra>")
    assert german["layout"]["title"]["subtitle"] == {"text": "Prozente"}
    assert german["layout"]["separators"] == ",."  # plotly.js writes 14,3% in German
    assert "subtitle" not in figure_json(result, kind="bar")["layout"]["title"]  # only the funnel needs the note
    assert build_figure(result, kind="funnel").to_plotly_json()["layout"]["title"]["subtitle"]  # plotly validates it
