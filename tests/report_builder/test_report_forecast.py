"""The sales forecast template (issue 15, point 7): weighted pipeline (amount x probability
/ 100, exact, per currency) by month and by owner, won versus forecast by stage; figures
added up by hand from report_fixture's table."""
from __future__ import annotations

from decimal import Decimal as D

import pytest

from cardbase.report_builder.definition import parse_definition
from cardbase.report_builder.forecast import find_fields, forecast_reports
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import ValidationError

from report_fixture import sales_crm


@pytest.fixture
def crm(db):
    return sales_crm(db)


def test_weighted_pipeline_by_month_and_owner(crm):
    with crm.store.session(SYSTEM) as s:
        obj = s.object("deal")
        assert find_fields(obj) == {"amount": "amount", "probability": "probability", "close_date": "close_date",
                                    "stage": "stage"}
        reports = forecast_reports(obj)
        by_month = run_report(s, parse_definition(reports["forecast_by_month"]))
        assert [(k[0], by_month.row_totals[k][0]) for k in by_month.row_keys] == [
            ("2026-01", {"EUR": D("10.00")}), ("2026-02", {"EUR": D("10.10")}),
            ("2026-04", {"EUR": D("1150.00")}), ("2026-05", {"USD": D("200.00")}), ("2026-07", None),
            (None, {"USD": D("10.10")})]
        assert by_month.total == [{"EUR": D("1170.10"), "USD": D("210.10")}, {"EUR": D("1450.50"), "USD": D("225.25")}]
        by_owner = run_report(s, parse_definition(reports["forecast_by_owner"]))
        assert [(k[0].display, by_owner.row_totals[k][0]) for k in by_owner.row_keys] == [
            ("Ann", {"EUR": D("1010.00"), "USD": D("10.10")}), ("Bob", {"EUR": D("160.10"), "USD": D("200.00")})]
        won = run_report(s, parse_definition(reports["won_vs_forecast"]))
        assert won.cell(("2026-04",), ("won",)) == [{"EUR": D("1000.00")}]
        assert won.cell(("2026-04",), ("proposal",)) == [{"EUR": D("150.00")}]


def test_a_forecast_needs_its_fields_and_a_whole_number_weight(crm):
    with crm.store.session(SYSTEM) as s:
        with pytest.raises(ValidationError) as info:
            find_fields(s.object("organisation"))
        assert "no amount, probability, close_date field" in info.value.message
        with pytest.raises(ValidationError) as info:
            run_report(s, parse_definition({"object": "deal", "measures": [
                {"op": "sum", "field": "amount", "weight": "title"}]}))
        assert list(info.value.errors) == ["measures.0.weight"]
        with pytest.raises(ValidationError) as info:
            parse_definition({"object": "deal", "measures": [{"op": "avg", "field": "amount", "weight": "probability"}]})
        assert list(info.value.errors) == ["measures.0.weight"]
