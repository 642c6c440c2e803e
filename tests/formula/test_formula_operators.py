"""Every operator: results, empty operands, division by zero, type errors."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from formula_testlib import D, VALUES, compile_, err, ev


@pytest.mark.parametrize("text, expected", [
    ("1 + 2", D(3)), ("7 - 10", D(-3)), ("2 * 3.5", D("7.0")), ("7 / 2", D("3.5")),
    ("7 % 3", D(1)), ("-7 % 3", D(2)), ("7 % -3", D(-2)), ("7.5 % 2", D("1.5")),  # sign of divisor
    ("2 ^ 10", D(1024)), ("2 ^ -1", D("0.5")), ("4 ^ 0.5", D(2)), ("0 ^ 0.5", D(0)), ("-3", D(-3)),
    ("+[Quantity]", D(4)),
    ("[Unit price] * [Quantity]", D("10.00")),
    ("0.1 + 0.2", D("0.3")),  # decimal arithmetic: money sums are exact
    ("0.1 + 0.2 = 0.3", True),
])
def test_arithmetic(text, expected):
    assert ev(text) == expected


def test_division_result_is_decimal_with_bounded_precision():
    value = ev("1 / 3")
    assert isinstance(value, D) and str(value).startswith("0.3333") and len(str(value)) < 40


@pytest.mark.parametrize("text", [
    "1 / 0", "[Quantity] / 0", "1 % 0", "0 ^ -1", "0 ^ 0", "(-8) ^ (1 / 3)",
    "[Quantity] + BLANK()", "[Quantity] * BLANK()", "-BLANK()", "BLANK() ^ 2", "[Unit price] - BLANK()",
])
def test_runtime_problems_give_empty(text):
    assert ev(text) is None


def test_empty_operand_propagates():
    f = compile_("[Unit price] * [Quantity]")
    assert f.evaluate({"1": None, "2": 3}) is None
    assert f.evaluate({"2": 3}) is None  # missing value = empty
    assert compile_("1 / [Quantity]").evaluate({"2": 0}) is None


@pytest.mark.parametrize("text, expected", [
    ('"a" & "b"', "ab"), ('"n=" & 1.50', "n=1.5"), ('"n=" & 100', "n=100"), ('"x" & TRUE', "xTRUE"),
    ('"d: " & DATE(2024, 1, 2)', "d: 2024-01-02"), ('"t: " & [Created at]', "t: 2024-05-14 01:45:30"),
    ('"a" & BLANK() & "b"', "ab"), ("[Product] & [Notes]", "Widget"), ("1 & 2", "12"),
    ('"" & ""', None),  # empty text is empty
])
def test_concatenation(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("1 = 1", True), ("1 = 2", False), ("1 <> 2", True), ("1 <> 1", False),
    ("1 < 2", True), ("2 < 1", False), ("1 <= 1", True), ("2 <= 1", False),
    ("2 > 1", True), ("1 > 2", False), ("1 >= 1", True), ("1 >= 2", False),
    ("1.0 = 1", True),
    ('"abc" = "ABC"', True),  # text compares case-insensitively, as in Excel
    ('"a" < "b"', True), ('"b" <= "a"', False), ('"B" > "a"', True),
    ("TRUE = TRUE", True), ("TRUE <> FALSE", True), ("FALSE < TRUE", True),
    ("DATE(2024, 1, 1) < DATE(2024, 1, 2)", True), ("[Ship date] = DATE(2024, 1, 31)", True),
    ("DATE(2024, 5, 14) < [Created at]", True),  # a date and a datetime compare
    ("[Created at] >= DATE(2024, 5, 15)", False),
])
def test_comparisons(text, expected):
    assert ev(text) is expected


@pytest.mark.parametrize("text, expected", [
    ('BLANK() = ""', True), ("BLANK() = BLANK()", True), ('[Notes] = ""', True), ("[Notes] <> \"\"", False),
    ('[Notes] = "x"', False), ('[Notes] <> "x"', True), ("[Quantity] = 0", False),
    ("[Quantity] > 1", None), ("[Quantity] <= 1", None),  # an empty value cannot be ordered
])
def test_comparisons_with_empty(text, expected):
    values = dict(VALUES, **{"2": None})
    assert ev(text, values) is expected


@pytest.mark.parametrize("text, expected", [
    ("[Ship date] + 7", date(2024, 2, 7)), ("7 + [Ship date]", date(2024, 2, 7)),
    ("[Ship date] - 31", date(2023, 12, 31)), ("[Ship date] + 1.9", date(2024, 2, 1)),
    ("[Ship date] - DATE(2024, 1, 1)", D(30)),
    ("[Created at] + 0.5", datetime(2024, 5, 14, 13, 45, 30)),
    ("NOW() - [Created at]", D("1.5")),
    ("[Ship date] - [Created at] < 0", True),
    ("DATE(9999, 12, 31) + 1", None),  # out of the calendar: empty
])
def test_date_arithmetic(text, expected):
    assert ev(text) == expected


@pytest.mark.parametrize("text, message, position", [
    ('"a" + 1', "text where a number is needed", 0),
    ('1 + "a"', "text where a number is needed", 4),
    ('2 * "x"', "text where a number is needed", 4),
    ('"x" / 2', "text where a number is needed", 0),
    ("TRUE * 2", "TRUE/FALSE where a number is needed", 0),
    ('2 ^ "3"', "text where a number is needed", 4),
    ('7 % "3"', "text where a number is needed", 4),
    ('-"a"', "text where a number is needed", 1),
    ("[Ship date] * 2", "a date where a number is needed", 0),
    ("[Ship date] + [Ship date]", "cannot add two dates", 12),
    ("1 - [Ship date]", "cannot subtract a date from a number", 2),
    ('[Ship date] + "1"', "text where a number is needed", 14),
    ('1 = "1"', "cannot compare a number with text", 2),
    ("[Ship date] > 3", "cannot compare a date with a number", 12),
    ("TRUE = 1", "cannot compare TRUE/FALSE with a number", 5),
    ("[Order lines].[Cost] + 1", "is a list of numbers", 0),
    ('"a" & [Order lines].[Product]', "is a list of texts", 6),
    ("[Order lines].[Cost] = 1", "use it inside SUM", 0),
])
def test_operator_type_errors(text, message, position):
    e = err(text)
    assert message in e.message
    assert e.position == position


def test_exponent_and_magnitude_limits_at_runtime():
    f = compile_("[Unit price] ^ [Quantity]")
    assert f.evaluate({"1": 10, "2": 100}) == D("1E+100")
    assert f.evaluate({"1": 10, "2": 101}) is None  # beyond MAX_NUMBER
    assert f.evaluate({"1": 2, "2": 100000}) is None  # beyond MAX_EXPONENT
    assert compile_("[Unit price] * [Quantity]").evaluate({"1": D("1e60"), "2": D("1e60")}) is None
