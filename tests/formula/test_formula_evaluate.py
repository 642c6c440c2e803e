"""Evaluation: input conversion, empty values, result normalisation, never raising."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone

import pytest

from cardbase.formula import DictResolver, Ref, compile_formula

from formula_testlib import D, VALUES, compile_, ev


@pytest.mark.parametrize("raw, expected", [
    (3, D(3)), (2.5, D("2.5")), (0.1, D("0.1")), (D("1.10"), D("1.10")), ("42", D(42)), (" 7.5 ", D("7.5")),
    (None, None), ("abc", None), (True, None), (float("nan"), None), (float("inf"), None),
    ("NaN", None), ("1e999999", None), (10 ** 200, None), ([1], None), (object(), None),
])
def test_number_inputs(raw, expected):
    assert compile_("[Quantity] * 1").evaluate({"2": raw}) == expected


@pytest.mark.parametrize("raw, expected", [
    (date(2024, 2, 3), date(2024, 2, 3)), (datetime(2024, 2, 3, 23, 0), date(2024, 2, 3)),
    ("2024-02-03", date(2024, 2, 3)), ("garbage", None), (5, None), (None, None),
    (datetime(2024, 2, 3, 23, 30, tzinfo=timezone(timedelta(hours=-2))), date(2024, 2, 4)),  # as UTC
])
def test_date_inputs(raw, expected):
    assert compile_("[Ship date] + 0").evaluate({"6": raw}) == expected


def test_datetime_and_text_and_boolean_inputs():
    assert compile_("[Created at] + 0").evaluate({"7": date(2024, 1, 1)}) == datetime(2024, 1, 1)
    assert compile_("[Created at] + 0").evaluate(
        {"7": datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=1)))}) == datetime(2024, 1, 1, 11)
    assert compile_("[Product] & \"\"").evaluate({"4": 12}) == "12"
    assert compile_("[Product] & \"\"").evaluate({"4": D("1.50")}) == "1.5"
    assert compile_("IF([Delivered], 1, 2)").evaluate({"5": 1}) == D(1)
    assert compile_("IF([Delivered], 1, 2)").evaluate({"5": "yes"}) == D(2)


def test_list_inputs():
    f = compile_("SUM([Order lines].[Cost])")
    assert f.evaluate({"40.3": [1, 2.5, "3", None, "x"]}) == D("6.5")
    assert f.evaluate({"40.3": None}) == D(0)
    assert f.evaluate({"40.3": 5}) == D(5)  # a single value counts as a list of one
    assert f.evaluate({"40.3": (x for x in [1, 2])}) == D(3)
    assert f.evaluate({"40.3": [[1, 2], [3]]}) == D(6)
    assert f.evaluate({}) == D(0)
    assert compile_("COUNT([Order lines].[Cost])").evaluate({"40.3": []}) == D(0)


def test_untyped_references_pass_simple_values_through():
    f = compile_("COALESCE([Order], 0)")
    assert f.result_type == "number"
    assert f.evaluate({"8": 17}) == D(17)
    assert f.evaluate({"8": "Acme"}) is None  # not a number at run time: empty, not text
    assert compile_("[Order]").evaluate({"8": ["a", "b"]}) == "a, b"


def test_results_are_normalised():
    assert ev('""') is None
    assert ev('"a"') == "a"
    assert ev("1 = 1") is True
    assert isinstance(ev("1"), D)
    assert ev("IF(TRUE, [Ship date], [Created at])") == datetime(2024, 1, 31)


def test_evaluate_without_values():
    assert compile_("[Quantity] + 1").evaluate() is None
    assert compile_("1 + 1").evaluate(None) == D(2)


def test_bad_clock_gives_empty_not_an_exception(caplog):
    with caplog.at_level(logging.WARNING, logger="cardbase.formula"):
        assert compile_("TODAY()").evaluate({}, now="tomorrow") is None


def test_runtime_text_limit_gives_empty():
    f = compile_('REPT([Product], [Quantity]) & "!"')
    assert f.evaluate({"4": "ab", "2": 3}) == "ababab!"
    assert f.evaluate({"4": "ab", "2": 10 ** 6}) is None
    big = "x" * 60_000
    assert compile_("[Product] & [Product]").evaluate({"4": big}) is None
    assert compile_("CONCAT([Order lines].[Product])").evaluate({"40.4": [big, big]}) is None
    assert compile_("LEN([Product])").evaluate({"4": big}) == D(60_000)


def test_if_is_lazy_so_an_untaken_branch_cannot_break_the_result():
    f = compile_('IF([Quantity] < 100, REPT("ab", [Quantity]), "too many")')
    assert f.evaluate({"2": 10 ** 9}) == "too many"
    g = compile_('IFS([Quantity] > 100, "too many", TRUE, REPT("ab", [Quantity]))')
    assert g.evaluate({"2": 2}) == "abab"
    assert g.evaluate({"2": 10 ** 9}) == "too many"


def test_compiled_formula_is_shareable_and_describes_itself():
    f = compile_("[Unit price] * [Quantity]")
    assert f.evaluate(VALUES) == f.evaluate(VALUES) == D("10.00")
    assert "v0" in f.expression and "Unit" not in f.expression
    assert "{#1}" in repr(f)
    assert compile_formula("[x] + 1", DictResolver({"x": Ref("1", "number")})).evaluate({"1": 1}) == D(2)
