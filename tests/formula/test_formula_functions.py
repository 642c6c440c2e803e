"""Every function: good cases, empty values, argument count and type errors."""
from __future__ import annotations

from datetime import date, datetime

import pytest

from cardbase.formula import FUNCTIONS, compile_formula, DictResolver, Ref

from formula_testlib import D, NOW, compile_, err, ev


@pytest.mark.parametrize("text, expected", [
    # logic
    ('IF([Quantity] > 3, "many", "few")', "many"), ('IF([Quantity] > 9, "many", "few")', "few"),
    ('IF([Quantity] > 9, "many")', None), ("IF(BLANK(), 1, 2)", D(2)), ("IF([Delivered], 1)", D(1)),
    ("IF(TRUE, 1, BLANK())", D(1)), ("IF(TRUE, [Ship date], [Created at])", datetime(2024, 1, 31)),
    ('IFS([Quantity] > 9, "A", [Quantity] > 3, "B", TRUE, "C")', "B"),
    ('IFS([Quantity] > 9, "A")', None), ("IFS(FALSE, 1, TRUE, 2, TRUE, 3)", D(2)),
    ("IFS(TRUE, BLANK(), TRUE, 2)", None),  # the first TRUE wins even when its value is empty
    ("AND(TRUE, TRUE)", True), ("AND(TRUE, FALSE)", False), ("AND(TRUE, BLANK())", False),
    ("OR(FALSE, TRUE)", True), ("OR(FALSE, FALSE)", False), ("OR(BLANK())", False),
    ("NOT(TRUE)", False), ("NOT(FALSE)", True), ("NOT(BLANK())", True),
    ("ISBLANK([Notes])", True), ('ISBLANK("")', True), ("ISBLANK([Product])", False), ("ISBLANK(0)", False),
    ('COALESCE([Notes], "none")', "none"), ('COALESCE("", BLANK(), "x", "y")', "x"),
    ("COALESCE(BLANK())", None), ("COALESCE([Ship date], [Created at])", datetime(2024, 1, 31)),
    ("TRUE()", True), ("FALSE()", False), ("BLANK()", None),
    # numbers
    ("ROUND(2.5)", D(3)), ("ROUND(-2.5)", D(-3)), ("ROUND(2.345, 2)", D("2.35")), ("ROUND(1234.5, -2)", D(1200)),
    ("ROUND(2.4)", D(2)), ("ROUND(1.23456, 100)", D("1.23456")), ("ROUND(5, -200)", D(0)),
    ("ROUNDUP(2.01)", D(3)), ("ROUNDUP(-2.01)", D(-3)), ("ROUNDUP(1.231, 2)", D("1.24")),
    ("ROUNDDOWN(2.99)", D(2)), ("ROUNDDOWN(-2.99)", D(-2)), ("ROUNDDOWN(1.239, 2)", D("1.23")),
    ("ROUND(BLANK(), 2)", None), ("ROUND(1.5, BLANK())", None),
    ("ABS(-3.5)", D("3.5")), ("ABS(2)", D(2)), ("ABS(BLANK())", None),
    # aggregates over arguments and child lists
    ("SUM(1, 2, 3)", D(6)), ("SUM([Order lines].[Cost])", D("1.30")), ("SUM([Order lines].[Cost], 1)", D("2.30")),
    ("SUM(BLANK())", D(0)), ("SUM([Order].[Lines].[Cost])", D("3.30")),
    ("AVG(1, 2)", D("1.5")), ("AVG([Order lines].[Cost])", D("0.4333333333333333333333333333333333")),
    ("AVERAGE(2, 4)", D(3)), ("AVG(BLANK())", None),
    ("MIN(3, 1, 2)", D(1)), ("MAX(3, 1, 2)", D(3)), ("MIN([Order lines].[Cost])", D("0.10")),
    ("MAX([Order lines].[Cost])", D("1.00")), ("MAX([Order lines].[Ship date])", date(2024, 3, 1)),
    ("MIN([Order lines].[Ship date])", date(2024, 1, 2)), ("MAX(BLANK())", None),
    ("MAX([Ship date], [Created at])", datetime(2024, 5, 14, 1, 45, 30)),
    ("COUNT([Order lines].[Cost])", D(3)), ("COUNT([Order lines].[Product])", D(2)), ("COUNT(1, BLANK(), \"\")", D(1)),
    ("COUNT([Order lines].[Delivered])", D(2)),
    # text
    ('CONCAT("a", 1, TRUE, BLANK())', "a1TRUE"), ("CONCAT([Order lines].[Product])", "WidgetGadget"),
    ('CONCATENATE("a", "b")', "ab"),
    ('TEXTJOIN(", ", TRUE, [Order lines].[Product])', "Widget, Gadget"),
    ('TEXTJOIN("-", FALSE, "a", BLANK(), "b")', "a--b"),
    ('UPPER("straße")', "STRASSE"), ('LOWER("ABC")', "abc"), ("UPPER([Notes])", None),
    ('TRIM("  a   b  ")', "a b"), ('LEN("héllo")', D(5)), ("LEN([Notes])", D(0)),
    ('LEFT("abcdef", 2)', "ab"), ('LEFT("abc")', "a"), ('LEFT("abc", 10)', "abc"), ('LEFT("abc", -1)', None),
    ('RIGHT("abcdef", 2)', "ef"), ('RIGHT("abc")', "c"), ('RIGHT("abc", 0)', None), ('RIGHT("abc", -1)', None),
    ('MID("abcdef", 2, 3)', "bcd"), ('MID("abc", 3, 5)', "c"), ('MID("abc", 0, 1)', None), ('MID("abc", 5, 1)', None),
    ('REPT("ab", 3)', "ababab"), ('REPT("x", 0)', None), ('REPT("x", -1)', None),
    # TEXT
    ('TEXT(1234.567, "0.00")', "1234.57"), ('TEXT(1234.567, "#,##0.00")', "1,234.57"),
    ('TEXT(1234567, "#,##0")', "1,234,567"), ('TEXT(0.256, "0%")', "26%"), ('TEXT(0.256, "0.0%")', "25.6%"),
    ('TEXT(5, "000")', "005"), ('TEXT(-1234.5, "$#,##0.00")', "-$1,234.50"), ('TEXT(2.5, "0.## EUR")', "2.5 EUR"),
    ('TEXT(-0.001, "0.00")', "0.00"), ('TEXT(0.5, "#.##")', ".5"), ('TEXT(2, "0")', "2"),
    ('TEXT([Ship date], "YYYY-MM-DD")', "2024-01-31"), ('TEXT([Ship date], "DD.MM.YYYY")', "31.01.2024"),
    ('TEXT([Ship date], "MMM YYYY")', "Jan 2024"), ('TEXT([Ship date], "MMMM D, YY")', "January 31, 24"),
    ('TEXT([Ship date], "dddd")', "Wednesday"), ('TEXT([Ship date], "ddd d/m")', "Wed 31/1"),
    ('TEXT([Created at], "yyyy-mm-dd hh:mm:ss")', "2024-05-14 01:45:30"),
    ('TEXT([Created at], "h:mm")', "1:45"), ('TEXT([Created at], """Day"" D")', "Day 14"),
    ('TEXT([Created at], "\\Wk D")', "Wk 14"),
    ('TEXT("abc", "0.00")', "abc"), ('TEXT(TRUE, "0")', "TRUE"), ('TEXT(BLANK(), "0")', None),
    # dates
    ("TODAY()", date(2024, 5, 15)), ("NOW()", NOW),
    ("DATE(2024, 2, 29)", date(2024, 2, 29)), ("DATE(2024, 13, 1)", date(2025, 1, 1)),
    ("DATE(2024, 0, 1)", date(2023, 12, 1)), ("DATE(2024, 3, 0)", date(2024, 2, 29)),
    ("DATE(2023, 2, 29)", date(2023, 3, 1)), ("DATE(0, 1, 1)", None), ("DATE(10000, 1, 1)", None),
    ("DATE(BLANK(), 1, 1)", None),
    ("YEAR([Ship date])", D(2024)), ("MONTH([Ship date])", D(1)), ("DAY([Ship date])", D(31)),
    ("YEAR([Created at])", D(2024)), ("YEAR(BLANK())", None),
    ("WEEKDAY(DATE(2024, 5, 13))", D(1)), ("WEEKDAY(DATE(2024, 5, 19))", D(7)), ("WEEKDAY(TODAY())", D(3)),
    ('DATEADD([Ship date], 1, "month")', date(2024, 2, 29)), ('DATEADD([Ship date], 1, "day")', date(2024, 2, 1)),
    ('DATEADD([Ship date], 2, "weeks")', date(2024, 2, 14)), ('DATEADD([Ship date], -1, "year")', date(2023, 1, 31)),
    ('DATEADD(DATE(2024, 2, 29), 1, "Year")', date(2025, 2, 28)), ('DATEADD([Ship date], 13, "months")', date(2025, 2, 28)),
    ('DATEADD([Created at], 1, "day")', datetime(2024, 5, 15, 1, 45, 30)),
    ('DATEADD(BLANK(), 1, "day")', None), ('DATEADD([Ship date], 1, [Product])', None),
    ('DATEADD([Ship date], 100000, "year")', None),
    ("DAYS(DATE(2024, 3, 1), DATE(2024, 2, 1))", D(29)), ("DAYS([Ship date], TODAY())", D(-105)),
    ("DAYS(NOW(), [Created at])", D(1)), ("DAYS(BLANK(), TODAY())", None),
])
def test_function_values(text, expected):
    value = ev(text)
    assert value == expected and type(value) is type(expected)


def test_function_names_are_case_insensitive():
    assert ev("sum(1, 2)") == ev("Sum(1, 2)") == ev("SUM(1, 2)") == D(3)
    assert ev("if(true, 1, 2)") == D(1)


@pytest.mark.parametrize("text, message, position", [
    ("FOO(1)", "unknown function FOO", 0),
    ("SUMM(1)", "unknown function SUMM (did you mean SUM?)", 0),
    ("IF(TRUE)", "IF takes 2 or 3 arguments, got 1", 0),
    ("IF(TRUE, 1, 2, 3)", "IF takes 2 or 3 arguments, got 4", 15),
    ("IFS(TRUE, 1, FALSE)", "IFS takes pairs of condition and value", 18),
    ("IFS(TRUE)", "IFS takes at least 2 arguments, got 1", 0),
    ("NOT(TRUE, FALSE)", "NOT takes exactly 1 argument, got 2", 10),
    ("TODAY(1)", "TODAY takes no arguments, got 1", 6),
    ("SUM()", "SUM takes at least 1 argument, got 0", 0),
    ("MID(\"a\", 1)", "MID takes exactly 3 arguments, got 2", 0),
    ("TEXTJOIN(\",\", TRUE)", "TEXTJOIN takes at least 3 arguments", 0),
    ("IF(1, 2, 3)", "IF: argument 1 is a number where TRUE/FALSE is needed", 3),
    ('IF(TRUE, 1, "a")', "IF: the results have different types (a number and text)", 12),
    ('IFS(TRUE, 1, TRUE, "a")', "IFS: the results have different types", 19),
    ('IFS("x", 1)', "IFS: argument 1 is text where TRUE/FALSE is needed", 4),
    ("AND(TRUE, 1)", "AND: argument 2 is a number where TRUE/FALSE is needed", 10),
    ('OR("yes")', "OR: argument 1 is text", 3),
    ("NOT(0)", "NOT: argument 1 is a number", 4),
    ('COALESCE(1, "a")', "COALESCE: the values have different types", 12),
    ('ROUND("1.5")', "ROUND: argument 1 is text where a number is needed", 6),
    ('ROUND(1.5, "2")', "ROUND: argument 2 is text where a number is needed", 11),
    ("ROUNDUP([Ship date])", "ROUNDUP: argument 1 is a date where a number is needed", 8),
    ("ROUNDDOWN(TRUE)", "ROUNDDOWN: argument 1 is TRUE/FALSE", 10),
    ('ABS("x")', "ABS: argument 1 is text where a number is needed", 4),
    ('SUM(1, "2")', "SUM: argument 2 is text where a number is needed", 7),
    ("SUM([Order lines].[Product])", "SUM: argument 1 is a list of texts where a number is needed", 4),
    ("AVG([Ship date])", "AVG: argument 1 is a date where a number is needed", 4),
    ('MIN(1, "a")', "MIN: argument 2 is text where a number or a date is needed", 7),
    ("MAX(1, [Ship date])", "MAX: the values have different types (a number and a date)", 7),
    ("UPPER(1)", "UPPER: argument 1 is a number where text is needed", 6),
    ("LOWER(TRUE)", "LOWER: argument 1 is TRUE/FALSE where text is needed", 6),
    ("TRIM([Ship date])", "TRIM: argument 1 is a date where text is needed", 5),
    ("LEN(12)", "LEN: argument 1 is a number where text is needed", 4),
    ('LEFT("a", "b")', "LEFT: argument 2 is text where a number is needed", 10),
    ("RIGHT(1, 1)", "RIGHT: argument 1 is a number where text is needed", 6),
    ('MID("a", "1", 1)', "MID: argument 2 is text", 9),
    ('REPT("a", "3")', "REPT: argument 2 is text", 10),
    ("TEXT(1, 2)", "TEXT: argument 2 is a number where text is needed", 8),
    ('TEXT(1, "abc")', 'TEXT: "abc" is not a number format', 8),
    ('TEXT([Ship date], "0.00")', 'TEXT: "0.00" is not a date format', 18),
    ('TEXT([Order lines].[Cost], "0")', "is a list of numbers", 5),
    ('DATE(2024, "1", 1)', "DATE: argument 2 is text where a number is needed", 11),
    ("YEAR(2024)", "YEAR: argument 1 is a number where a date is needed", 5),
    ('MONTH("2024-01-01")', "MONTH: argument 1 is text where a date is needed", 6),
    ("DAY(TRUE)", "DAY: argument 1 is TRUE/FALSE where a date is needed", 4),
    ("WEEKDAY(1)", "WEEKDAY: argument 1 is a number where a date is needed", 8),
    ('DATEADD(1, 1, "day")', "DATEADD: argument 1 is a number where a date is needed", 8),
    ('DATEADD([Ship date], "1", "day")', "DATEADD: argument 2 is text", 21),
    ("DATEADD([Ship date], 1, 1)", "DATEADD: argument 3 is a number where text is needed", 24),
    ('DATEADD([Ship date], 1, "fortnight")', 'DATEADD: unit "fortnight" is not one of', 24),
    ("DAYS(1, [Ship date])", "DAYS: argument 1 is a number where a date is needed", 5),
    ("ISBLANK([Order lines].[Cost])", "use it inside SUM", 8),
    ("BLANK(1)", "BLANK takes no arguments", 6),
])
def test_function_errors_name_position_and_reason(text, message, position):
    e = err(text)
    assert message in e.message, e.message
    assert e.position == position


@pytest.mark.parametrize("text, result_type", [
    ("IF(TRUE, 1, 2)", "number"), ('IF(TRUE, "a")', "text"), ("IF(TRUE, [Ship date], [Created at])", "datetime"),
    ("IF(TRUE, BLANK(), 2)", "number"), ('IFS(TRUE, "a", FALSE, BLANK())', "text"),
    ("AND(TRUE)", "boolean"), ("ISBLANK(1)", "boolean"), ("COALESCE([Notes], \"-\")", "text"),
    ("ROUND(1)", "number"), ("SUM([Order lines].[Cost])", "number"), ("COUNT([Order lines].[Product])", "number"),
    ("MAX([Order lines].[Ship date])", "date"), ("MIN(1, 2)", "number"), ("CONCAT(1)", "text"),
    ("TEXT(1, \"0\")", "text"), ("LEN(\"a\")", "number"), ("TODAY()", "date"), ("NOW()", "datetime"),
    ("DATE(1, 1, 1)", "date"), ("YEAR(TODAY())", "number"), ('DATEADD(NOW(), 1, "day")', "datetime"),
    ('DATEADD(TODAY(), 1, "day")', "date"), ("DAYS(TODAY(), TODAY())", "number"), ("BLANK()", "any"),
    ("[Order]", "any"), ("COALESCE([Order], 1)", "number"),
])
def test_function_result_types(text, result_type):
    assert compile_(text).result_type == result_type


def test_every_function_has_a_summary_and_a_compiling_example():
    resolver = DictResolver({name: Ref(str(i), t) for i, (name, t) in enumerate([
        ("Quantity", "number"), ("Order lines", "number"), ("Status", "text"), ("Paid", "boolean"),
        ("Shipped", "boolean"), ("Email", "text"), ("Mobile", "text"), ("Phone", "text"),
        ("Price", "number"), ("Hours", "number"), ("Score", "number"), ("Balance", "number"),
        ("First name", "text"), ("Last name", "text"), ("Country code", "text"), ("Name", "text"),
        ("Postcode", "text"), ("IBAN", "text"), ("Code", "text"), ("Rating", "number"),
        ("Amount", "number"), ("Due date", "date"), ("Order date", "date"), ("Start", "date"),
        ("Total", "number")])} | {
        ("Order lines", "Cost"): Ref("90.1", "number", True), ("Order lines", "Price"): Ref("90.2", "number", True),
        ("Order lines", "Product"): Ref("90.3", "text", True), ("Orders", "Order date"): Ref("91.1", "date", True)})
    for name, spec in FUNCTIONS.items():
        assert spec.summary and spec.example, name
        compiled = compile_formula(spec.example, resolver)
        compiled.evaluate({}, now=NOW)


def test_today_and_now_use_the_given_clock():
    f = compile_("TODAY()")
    assert f.volatile and not compile_("1").volatile
    assert f.evaluate({}, now=date(2020, 1, 2)) == date(2020, 1, 2)
    assert f.evaluate({}, now=lambda: datetime(2021, 3, 4, 5)) == date(2021, 3, 4)
    assert isinstance(f.evaluate({}), date)  # default clock: now (UTC)
    assert isinstance(compile_("NOW()").evaluate({}), datetime)


def test_text_format_is_checked_only_when_literal():
    f = compile_("TEXT([Quantity], [Product])")
    assert f.evaluate({"2": 3, "4": "0.0"}) == "3.0"
    assert f.evaluate({"2": 3, "4": "abc"}) is None  # not a number format: empty
