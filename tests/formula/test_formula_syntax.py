"""Tokenizer and parser: literals, precedence, references, syntax errors with positions."""
from __future__ import annotations

import pytest

from cardbase.formula import MAX_DEPTH, MAX_FORMULA_LENGTH, FormulaError
from cardbase.formula.nodes import Binary, Call, FieldRef, Literal, Unary
from cardbase.formula.parser import parse
from cardbase.formula.tokenizer import format_path, tokenize

from formula_testlib import D, err, ev


def test_tokens_carry_positions():
    toks = tokenize('[Unit price] * 2 & "a""b"')
    assert [(t.kind, t.value, t.pos) for t in toks] == [
        ("name", "Unit price", 0), ("op", "*", 13), ("number", D(2), 15), ("op", "&", 17),
        ("string", 'a"b', 19), ("eof", None, 25)]


@pytest.mark.parametrize("text, value", [
    ("42", D(42)), ("3.25", D("3.25")), (".5", D("0.5")), ("1e3", D(1000)), ("2.5E-1", D("0.25")),
    ('"hello"', "hello"), ('"say ""hi"""', 'say "hi"'), ('""', ""),
    ("TRUE", True), ("false", False), ("True", True),
])
def test_literals(text, value):
    node = parse(text)
    assert isinstance(node, Literal) and node.value == value


def test_leading_equals_sign_is_allowed():
    assert ev("=1+1") == D(2)


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", D(7)), ("(1 + 2) * 3", D(9)), ("10 - 2 - 3", D(5)), ("100 / 10 / 2", D(5)),
    ("2 ^ 3 ^ 2", D(64)),  # left-associative, as in Excel
    ("-2 ^ 2", D(4)),  # unary minus binds tighter than ^, as in Excel
    ("2 * 3 ^ 2", D(18)), ("- - 3", D(3)), ("+3", D(3)), ("7 % 4 * 2", D(6)),
    ("1 + 2 & 3 * 4", "312"), ("1 + 1 = 2", True), ('"a" & "b" = "AB"', True),
    ("1\n+\t2", D(3)),
])
def test_precedence(text, expected):
    assert ev(text) == expected


def test_tree_shape():
    node = parse("1 + [A].[B] * f(2, 3)")
    assert isinstance(node, Binary) and node.op == "+" and node.op_pos == 2
    assert isinstance(node.right, Binary) and node.right.op == "*"
    assert node.right.left == FieldRef(4, 11, path=("A", "B"), depth=1)
    call = node.right.right
    assert isinstance(call, Call) and call.name == "F" and call.written == "f" and len(call.args) == 2
    assert isinstance(parse("-x"), Unary)


@pytest.mark.parametrize("text, path", [
    ("[Unit price]", ("Unit price",)),
    ("unit_price", ("unit_price",)),
    ("[Order].[Order date]", ("Order", "Order date")),
    ("[Order] . [Order date]", ("Order", "Order date")),
    ("order.order_date", ("order", "order_date")),
    ("[a]]b]", ("a]b",)),
    ("[  many   spaces ]", ("many spaces",)),
    ("[Straße]", ("Straße",)),
])
def test_reference_syntax(text, path):
    node = parse(text)
    assert isinstance(node, FieldRef) and node.path == path and node.key is None


def test_stored_reference_token():
    node = parse("{#12.34}")
    assert isinstance(node, FieldRef) and node.key == "12.34" and node.path == ()


def test_format_path_escapes_brackets():
    assert format_path(["Order", "a]b"]) == "[Order].[a]]b]"
    assert parse(format_path(["Order", "a]b"])).path == ("Order", "a]b")


@pytest.mark.parametrize("text, message, position", [
    ("", "the formula is empty", 0),
    ("   ", "the formula is empty", 0),
    ("1 +", "the formula ends too early", 3),
    ("(1 + 2", "'(' is not closed", 0),
    ("1 + 2)", "unexpected ')'", 5),
    ("1 2", "an operator is missing", 2),
    ("[A] [B]", "an operator is missing", 4),
    ("* 2", "a value is missing before '*'", 0),
    ('"abc', "text is not closed", 0),
    ("[abc", "field name is not closed", 0),
    ("[]", "empty field name", 0),
    ("1 != 2", "use <> for 'not equal'", 2),
    ("1 == 1", "use = to compare", 2),
    ("2 ** 3", "use ^ for powers", 2),
    ("TRUE && FALSE", "use AND", 5),
    ("'text'", "double quotes", 0),
    ("\u201ctext\u201d", "straight double quotes", 0),
    ("1; 2", "separate arguments with ','", 1),
    ("SUM(1,,2)", "an argument of SUM is missing", 6),
    ("SUM(1,)", "an argument of SUM is missing", 6),
    ("SUM(1 2)", "expected ',' or ')'", 6),
    ("SUM(1, 2", "'SUM(' is not closed", 3),
    ("[A].", "'.' must be followed by a field name", 3),
    ("[A].SUM(1)", "'.' must be followed by a field name", 3),
    ("[A].5", "an operator is missing", 3),
    ("{#12}.[B]", "cannot be followed by '.'", 5),
    ("{12}", "'{' is not allowed", 0),
    ("2x", "'2x' is not a number", 0),
    ("1.2.3", "is not a number", 0),
    ("1e999", "out of range", 0),
    ("1e150", "too large", 0),
    ("@", "unexpected character '@'", 0),
    ("1 + $", "unexpected character '$'", 4),
    ("a:b", "unexpected character ':'", 1),
    (",", "unexpected ','", 0),
    ("1, 2", "unexpected ',' outside a function call", 1),
    ("__class__", "names may not start with '__'", 0),
])
def test_syntax_errors_name_position_and_reason(text, message, position):
    e = err(text)
    assert message in e.message
    assert e.position == position


def test_error_line_column_and_snippet():
    e = err("IF([Quantity] > 1,\n   [Nope], 0)")
    assert e.message == "unknown field [Nope]"
    assert (e.position, e.line, e.column) == (22, 2, 4)
    assert str(e) == "unknown field [Nope] (line 2, column 4)"
    assert e.snippet == "   [Nope], 0)\n   ^"
    assert e.to_dict() == {"error": "FormulaError", "message": "unknown field [Nope]",
                           "position": 22, "line": 2, "column": 4}


def test_formula_length_is_bounded():
    ev("1" + "+1" * 20)  # fine
    e = err("1" * (MAX_FORMULA_LENGTH + 1))
    assert "too long" in e.message


def test_nesting_depth_is_bounded():
    ok = "(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)
    assert ev(ok) == D(1)
    deep = "(" * (MAX_DEPTH + 1) + "1" + ")" * (MAX_DEPTH + 1)
    assert "nested too deeply" in err(deep).message
    assert "nested too deeply" in err("ABS(" * 60 + "1" + ")" * 60).message
    assert "nested too deeply" in err("-" * 60 + "1").message


def test_long_operator_chains_count_as_depth():
    assert ev("+".join(["1"] * 40)) == D(40)
    e = err("+".join(["1"] * 200))
    assert "nested too deeply" in e.message and "SUM" not in e.message


def test_non_text_formula_is_refused():
    with pytest.raises(FormulaError):
        parse(None)  # type: ignore[arg-type]
    assert isinstance(FormulaError("x"), ValueError)
