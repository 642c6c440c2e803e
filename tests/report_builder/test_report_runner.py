"""Reports run as one grouped query through the engine session (purpose "report"), on
SQLite and PostgreSQL; every figure below is added up by hand from report_fixture's table."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from cardbase.report_builder.definition import parse_definition
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, ValidationError

from report_fixture import sales_crm

STAGE_BY_QUARTER = {"object": "deal", "rows": [{"field": "stage"}],
                    "columns": [{"field": "close_date", "bucket": "quarter"}],
                    "measures": [{"op": "sum", "field": "amount"}, {"op": "count"}]}


@pytest.fixture
def crm(db):
    return sales_crm(db)


def run(crm, document, actor=SYSTEM, **kw):
    with crm.store.session(actor) as s:
        return run_report(s, parse_definition(document), **kw)


def test_sum_of_amounts_by_stage_and_quarter_stays_per_currency(crm):
    result = run(crm, STAGE_BY_QUARTER)
    assert result.row_keys == [("lead",), ("proposal",), ("won",), ("lost",)]
    assert result.column_keys == [("2026-Q1",), ("2026-Q2",), ("2026-Q3",), (None,)]
    assert result.cell(("lead",), ("2026-Q1",)) == [{"EUR": D("150.50")}, 2]
    assert result.cell(("proposal",), ("2026-Q2",)) == [{"EUR": D("300.00")}, 1]
    assert result.cell(("proposal",), (None,)) == [{"USD": D("25.25")}, 1]
    assert result.cell(("won",), ("2026-Q2",)) == [{"EUR": D("1000.00"), "USD": D("200.00")}, 2]  # H is trashed
    assert result.cell(("lost",), ("2026-Q3",)) == [None, 1]
    assert result.cell(("lead",), ("2026-Q3",)) == [None, None]  # no deals there
    assert result.row_totals[("proposal",)] == [{"EUR": D("300.00"), "USD": D("25.25")}, 2]
    assert result.column_totals[("2026-Q2",)] == [{"EUR": D("1300.00"), "USD": D("200.00")}, 3]
    assert result.total == [{"EUR": D("1450.50"), "USD": D("225.25")}, 7]


def test_measures_count_distinct_avg_min_max_and_percent(crm):
    result = run(crm, {"object": "deal", "rows": [{"field": "organisation.industry"}], "measures": [
        {"op": "count_distinct", "field": "stage"}, {"op": "avg", "field": "probability"},
        {"op": "min", "field": "close_date"}, {"op": "count", "percent": True}]})
    assert result.row_keys == [("it",), ("retail",), (None,)]
    # IT: A, C, E (lead, won, proposal); Retail: B, D, G (lead, won, proposal); none: F
    assert result.row_totals[("it",)] == [3, D("53.33"), dt.date(2026, 1, 15), D("42.86")]  # 3 of 7 deals
    assert result.row_totals[(None,)] == [1, D("0.00"), dt.date(2026, 7, 1), D("14.29")]
    assert result.total[0] is None and result.total[3] == D("100.00")  # distinct counts do not add up
    assert any("distinct" in p for p in result.problems)
    money = run(crm, {"object": "deal", "rows": [{"field": "organisation.industry"}], "measures": [
        {"op": "max", "field": "amount"}, {"op": "avg", "field": "amount"}, {"op": "sum", "field": "amount",
                                                                              "percent": True}]})
    assert money.row_totals[("it",)] == [{"EUR": D("1000.00")}, {"EUR": D("466.6667")}, {"EUR": D("96.52")}]
    assert money.row_totals[("retail",)] == [{"EUR": D("50.50"), "USD": D("200.00")},
                                             {"EUR": D("50.5000"), "USD": D("112.6250")},
                                             {"EUR": D("3.48"), "USD": D("100.00")}]


def test_top_n_sorted_by_a_measure_and_groups_by_owner_and_link(crm):
    result = run(crm, {"object": "deal", "rows": [{"field": "organisation"}],
                       "measures": [{"op": "sum", "field": "probability"}],
                       "sort": {"by": "measure", "measure": 0, "descending": True}, "top": 2})
    assert sorted(k[0].display for k in result.row_keys) == ["Acme", "Beta"]  # 160 each; no org: 0
    lowest = run(crm, {"object": "deal", "rows": [{"field": "stage"}], "measures": [{"op": "count"}],
                       "sort": {"by": "measure", "measure": 0}, "top": 1})
    assert lowest.row_keys == [("lost",)] and lowest.total == [7]
    backwards = run(crm, {"object": "deal", "rows": [{"field": "stage"}], "sort": {"by": "group", "descending": True}})
    assert backwards.row_keys == [("lost",), ("won",), ("proposal",), ("lead",)]
    assert len(result.row_keys) == 2 and result.total == [320]  # the total covers every deal
    owners = run(crm, {"object": "deal", "rows": [{"field": "owner"}], "measures": [{"op": "count"}]})
    assert [(k[0].display, owners.row_totals[k][0]) for k in owners.row_keys] == [("Ann", 4), ("Bob", 3)]
    months = run(crm, {"object": "deal", "rows": [{"field": "close_date", "bucket": "month"}],
                       "filter": {"field": "stage", "op": "in", "value": ["lead", "won"]}})
    assert [(k[0], months.row_totals[k][0]) for k in months.row_keys] == [
        ("2026-01", 1), ("2026-02", 1), ("2026-04", 1), ("2026-05", 1)]


def test_drill_down_filters_count_what_the_figure_counts(crm):
    result = run(crm, {**STAGE_BY_QUARTER, "rows": [{"field": "stage"}, {"field": "owner"}], "subtotals": True})
    with crm.store.session(SYSTEM) as s:
        for r in result.row_keys:
            for c in result.column_keys:
                count = result.cell(r, c)[1]
                assert s.count("deal", result.drill_filter(r, c))[0] == (count or 0), (r, c)
            assert s.count("deal", result.drill_filter(r, None))[0] == result.row_totals[r][1]
        for c in result.column_keys:
            assert s.count("deal", result.drill_filter(None, c))[0] == result.column_totals[c][1]
        assert s.count("deal", result.drill_filter())[0] == 7
    assert result.subtotals[(("won",), None)] == [{"EUR": D("1000.00"), "USD": D("200.00")}, 2]


def test_record_scopes_rule_views_and_field_masks_apply(crm, db):
    ann = crm.actor("ann")
    assert run(crm, STAGE_BY_QUARTER, ann).total == [{"EUR": D("1450.50"), "USD": D("225.25")}, 7]
    rights.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    own = run(crm, STAGE_BY_QUARTER, ann)  # A, C, F, G
    assert own.total == [{"EUR": D("1100.00"), "USD": D("25.25")}, 4]
    rights.save_rule_view(db, SYSTEM, "Sales", "deal", "Small", {"field": "amount", "op": "le", "value": "150"})
    assert run(crm, STAGE_BY_QUARTER, ann).total == [{"EUR": D("1150.50"), "USD": D("25.25")}, 5]  # + B
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    rights.set_field_right(db, SYSTEM, "Sales", "deal", "probability", "hidden")
    for document, key in (({"object": "deal", "rows": [{"field": "secret_note"}]}, "rows.0.field"),
                          ({"object": "deal", "columns": [{"field": "secret_note"}]}, "columns.0.field"),
                          ({"object": "deal", "measures": [{"op": "sum", "field": "probability"}]}, "measures.0.field")):
        with pytest.raises(ValidationError) as info:
            run(crm, document, ann)
        assert list(info.value.errors) == [key]
        assert document.get("rows", document.get("columns", document.get("measures")))[0]["field"] in info.value.message
    assert run(crm, {"object": "deal", "rows": [{"field": "secret_note"}]}).total == [7]  # the admin still may
    rights.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    with pytest.raises(Forbidden):
        run(crm, STAGE_BY_QUARTER, ann)


def test_bad_definitions_are_refused_naming_the_key(crm):
    cases = [
        ({"object": "deal", "rows": [{"field": "stage"}, {"field": "owner"}], "columns": [
            {"field": "close_date", "bucket": "year"}, {"field": "organisation"}]}, "rows", "at most 3"),
        ({"object": "deal", "rows": [{"field": "title", "bucket": "month"}]}, "rows.0.bucket", "only dates"),
        ({"object": "deal", "measures": [{"op": "sum", "field": "title"}]}, "measures.0.field", "needs a number"),
        ({"object": "deal", "measures": [{"op": "median", "field": "amount"}]}, "measures.0.op", "Must be one of"),
        ({"object": "deal", "measures": [{"op": "avg", "field": "amount", "percent": True}]}, "measures.0.percent",
         "count and sum"),
        ({"object": "deal", "rows": [{"field": "nope"}]}, "rows.0.field", "has no field 'nope'"),
        ({"object": "deal", "chart": {"type": "radar"}}, "chart.type", "Must be one of"),
        ({"object": "deal", "colour": "red"}, "colour", "Unknown field"),
        ({"object": "deal", "measures": [{"op": "count_distinct", "field": "stage"}, {"op": "sum", "field": "amount"}]},
         "measures", "count distinct"),
    ]
    for document, key, words in cases:
        with pytest.raises(ValidationError) as info:
            run(crm, document)
        assert key in info.value.errors and words in " ".join(info.value.errors[key]), (document, info.value.errors)


def test_more_groups_than_the_limit_an_empty_result_and_percent_of_an_empty_total(crm):
    with pytest.raises(ValidationError) as info:
        run(crm, {"object": "deal", "rows": [{"field": "title"}]}, limit=3)
    assert "more than 3 groups" in info.value.message
    empty = run(crm, {**STAGE_BY_QUARTER, "measures": [{"op": "sum", "field": "probability", "percent": True},
                                                       {"op": "count", "percent": True}]},
                filter={"field": "title", "op": "eq", "value": "nobody"})
    assert empty.empty and empty.row_keys == [] and empty.total == [None, None]
    assert any("total is empty" in p for p in empty.problems)
    zero = run(crm, {"object": "deal", "rows": [{"field": "stage"}],
                     "measures": [{"op": "sum", "field": "probability", "percent": True}]},
               filter={"field": "stage", "op": "eq", "value": "lost"})
    assert zero.row_totals[("lost",)] == [None] and zero.raw_total == [0]  # 0 of 0 is no percentage
    nothing = run(crm, {"object": "deal"}, filter={"field": "title", "op": "eq", "value": "nobody"})
    assert nothing.total == [0]
