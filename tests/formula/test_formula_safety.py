"""Safety: whatever text or tree comes in, only FormulaError comes out of compiling, and
evaluation returns a value of the result type or None; escape attempts are refused."""
from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardbase.formula import (FUNCTIONS, MAX_TEXT_LENGTH, CompiledFormula, FormulaError,
                              compile_formula, load_canonical, render)
from cardbase.formula.evaluator import EVAL_FUNCTIONS, OPERATORS

from formula_testlib import FIELDS, NOW, RESOLVER, VALUES

SETTINGS = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

PY_TYPES = {"number": (Decimal,), "text": (str,), "date": (date,), "datetime": (datetime,),
            "boolean": (bool,), "any": (Decimal, str, date, datetime, bool)}


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@contextlib.contextmanager
def no_unexpected_failures():
    """Evaluation never raises; an unexpected internal error is logged. Fail on those."""
    handler = _Collect()
    logger = logging.getLogger("cardbase.formula")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]


def compile_or_refuse(text: str) -> CompiledFormula | None:
    try:
        return compile_formula(text, RESOLVER)
    except FormulaError as exc:
        assert isinstance(exc.message, str) and exc.message
        assert exc.position is None or 0 <= exc.position <= len(text)
        str(exc), exc.snippet, exc.to_dict()
        return None


def check_value(compiled: CompiledFormula, value) -> None:
    if value is not None:
        assert isinstance(value, PY_TYPES[compiled.result_type]), (compiled, value)
        if compiled.result_type == "date":
            assert not isinstance(value, datetime)
        if isinstance(value, str):
            assert 0 < len(value) <= MAX_TEXT_LENGTH
        if isinstance(value, Decimal):
            assert value.is_finite()


# ---- strategies ------------------------------------------------------------------------
NAMES = sorted({(k if isinstance(k, str) else ".".join(f"[{p}]" for p in k)) for k in FIELDS})
REF_TEXT = [n if n.startswith("[") else (n if n.isidentifier() else "[" + n.replace("]", "]]") + "]")
            for n in NAMES]
FUNCTION_NAMES = sorted(FUNCTIONS) + ["AVERAGE", "concatenate", "sum", "Foo", "eval", "open"]
OPERATORS_TEXT = ["+", "-", "*", "/", "%", "^", "&", "=", "<>", "<", "<=", ">", ">="]

numbers = st.one_of(
    st.integers(0, 10 ** 6).map(str),
    st.decimals(min_value=0, max_value=10 ** 6, places=3, allow_nan=False).map(str),
    st.sampled_from(["0", "1", "0.5", "1e100", "9", "1000", "1001", "99999", "1e-50", ".5"]),
)
strings = st.text(max_size=12).map(lambda s: '"' + s.replace('"', '""') + '"')
literals = st.one_of(numbers, strings, st.sampled_from(["TRUE", "FALSE", "BLANK()", "TODAY()", "NOW()",
                                                        '"day"', '"month"', '"0.00"', '"YYYY-MM-DD"']))
leaves = st.one_of(literals, st.sampled_from(REF_TEXT))


def _extend(children):
    return st.one_of(
        st.tuples(children, st.sampled_from(OPERATORS_TEXT), children).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(st.sampled_from(["-", "+"]), children).map("".join),
        st.tuples(st.sampled_from(FUNCTION_NAMES), st.lists(children, max_size=4)).map(
            lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(children, children, children).map(lambda t: f"IF({t[0]} = {t[1]}, {t[1]}, {t[2]})"),
    )


formula_trees = st.recursive(leaves, _extend, max_leaves=25)

TOKENS = OPERATORS_TEXT + REF_TEXT + FUNCTION_NAMES + [
    "(", ")", "(", ")", ",", ".", " ", " ", "\n", "[", "]", '"', '""', "{#1}", "{#", "}", "1", "2.5", "0",
    "1e100", "10", "TRUE", "FALSE", "__class__", "__import__", "lambda", ":", "for", "in", "x", "'", "!=",
    "==", "**", ";", "@", "`", "\\", "\x00", "é", "²", "٣", "[Order lines].[Cost]", '"a"',
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)

scalars = st.one_of(
    st.none(), st.integers(-10 ** 30, 10 ** 30), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.booleans(),
    st.dates(), st.datetimes(), st.datetimes(timezones=st.just(timezone(timedelta(hours=5)))),
    st.sampled_from(["2024-01-31", "1e99999", "NaN", "x" * 60_000, "", "12"]),
)
_TYPED = {
    "money": st.decimals(-10 ** 6, 10 ** 6, places=2), "integer": st.integers(-1000, 1000),
    "decimal": st.decimals(-10 ** 6, 10 ** 6, places=4), "number": st.decimals(-1000, 1000, places=2),
    "string": st.text(max_size=20), "text": st.text(max_size=20), "boolean": st.booleans(),
    "date": st.dates(), "datetime": st.datetimes(), "link": st.integers(1, 99) | st.text(max_size=5),
}


def _value_for(ref):
    typed = _TYPED[ref.type] | st.none()
    if ref.many:
        return st.lists(typed, max_size=6) | st.lists(scalars, max_size=3) | st.none()
    return typed | typed | scalars


input_values = st.fixed_dictionaries({ref.key: _value_for(ref) for ref in FIELDS.values()})

# Well-typed trees: most of them compile, so evaluation is exercised deeply.
_refs_of = lambda *types: [t for t, ref in zip(REF_TEXT, (FIELDS[k] for k in sorted(  # noqa: E731
    FIELDS, key=lambda k: k if isinstance(k, str) else ".".join(f"[{p}]" for p in k)))) if ref.type in types and not ref.many]
NUM_REFS = _refs_of("money", "integer", "decimal", "number")
TXT_REFS = _refs_of("string", "text")
DATE_REFS = _refs_of("date", "datetime")
LIST_REFS = ["[Order lines].[Cost]", "[Order].[Lines].[Cost]"]


def _call(name, *parts):
    return st.tuples(*parts).map(lambda args: f"{name}({', '.join(args)})")


def _op(left, ops, right):
    return st.tuples(left, st.sampled_from(ops), right).map(lambda t: f"({t[0]} {t[1]} {t[2]})")


num = st.deferred(lambda: st.one_of(
    numbers, numbers, st.sampled_from(NUM_REFS), st.sampled_from(NUM_REFS),
    _op(num, ["+", "-", "*", "/", "%", "^"], num), num.map(lambda n: f"-{n}"),
    _call("ROUND", num, num), _call("ROUNDUP", num), _call("ROUNDDOWN", num, num), _call("ABS", num),
    _call("SUM", num, num), _call("SUM", st.sampled_from(LIST_REFS)), _call("AVG", st.sampled_from(LIST_REFS), num),
    _call("MIN", num, num), _call("MAX", st.sampled_from(LIST_REFS)), _call("COUNT", st.sampled_from(LIST_REFS)),
    _call("LEN", txt), _call("YEAR", dat), _call("MONTH", dat), _call("DAY", dat), _call("WEEKDAY", dat),
    _call("DAYS", dat, dat), _op(dat, ["-"], dat), _call("IF", boo, num, num), _call("COALESCE", num, num),
    _call("IFS", boo, num, boo, num)))
txt = st.deferred(lambda: st.one_of(
    strings, strings, st.sampled_from(TXT_REFS), _op(txt, ["&"], num), _op(txt, ["&"], txt),
    _call("UPPER", txt), _call("LOWER", txt), _call("TRIM", txt), _call("LEFT", txt, num), _call("RIGHT", txt),
    _call("MID", txt, num, num), _call("REPT", txt, num), _call("CONCAT", txt, num, boo),
    _call("TEXT", num, st.sampled_from(['"0.00"', '"#,##0"', '"0%"', '"0.## x"'])),
    _call("TEXT", dat, st.sampled_from(['"YYYY-MM-DD"', '"DD.MM.YYYY"', '"MMM YYYY"', '"dddd hh:mm"'])),
    _call("TEXTJOIN", strings, boo, txt, st.just("[Order lines].[Product]")), _call("IF", boo, txt, txt)))
boo = st.deferred(lambda: st.one_of(
    st.sampled_from(["TRUE", "FALSE", "[Delivered]"]), _op(num, ["=", "<>", "<", "<=", ">", ">="], num),
    _op(txt, ["=", "<>", "<"], txt), _op(dat, ["=", "<", ">="], dat), _call("AND", boo, boo), _call("OR", boo),
    _call("NOT", boo), _call("ISBLANK", num), _call("ISBLANK", txt)))
dat = st.deferred(lambda: st.one_of(
    st.sampled_from(DATE_REFS), st.sampled_from(DATE_REFS), st.just("TODAY()"), st.just("NOW()"),
    _call("DATE", num, num, num), _op(dat, ["+", "-"], num),
    _call("DATEADD", dat, num, st.sampled_from(['"day"', '"week"', '"month"', '"year"'])),
    _call("IF", boo, dat, dat), _call("MAX", st.just("[Order lines].[Ship date]"))))
typed_formulas = st.one_of(num, txt, boo, dat)


# ---- properties ------------------------------------------------------------------------
@SETTINGS
@given(st.text(max_size=200))
def test_random_text_only_ever_raises_formula_error(text):
    compiled = compile_or_refuse(text)
    if compiled is not None:
        with no_unexpected_failures():
            check_value(compiled, compiled.evaluate({}, now=NOW))


@SETTINGS
@given(token_soup, input_values)
def test_formula_like_token_soup_only_ever_raises_formula_error(text, values):
    compiled = compile_or_refuse(text)
    if compiled is not None:
        with no_unexpected_failures():
            check_value(compiled, compiled.evaluate(values, now=NOW))


@SETTINGS
@given(formula_trees, input_values)
def test_random_trees_compile_or_refuse_and_evaluation_never_raises(text, values):
    compiled = compile_or_refuse(text)
    if compiled is None:
        return
    with no_unexpected_failures():
        value = compiled.evaluate(values, now=NOW)
        check_value(compiled, value)
        # the stored form loads back to the same formula and gives the same value
        loaded = load_canonical(compiled.canonical, RESOLVER)
        assert loaded.result_type == compiled.result_type
        assert loaded.evaluate(values, now=NOW) == value
        again = compile_formula(render(compiled.canonical, RESOLVER), RESOLVER)
        assert again.canonical.replace(" ", "") == compiled.canonical.replace(" ", "") or \
            again.references == compiled.references


@SETTINGS
@given(typed_formulas, input_values)
def test_well_typed_trees_evaluate_to_their_type_or_empty(text, values):
    compiled = compile_or_refuse(text)  # may still be refused: too deep, a constant too large
    if compiled is None:
        return
    with no_unexpected_failures():
        check_value(compiled, compiled.evaluate(values, now=NOW))


# ---- escape attempts -----------------------------------------------------------------------
ESCAPES = [
    '__import__("os")',
    '__import__("os").system("ls")',
    "().__class__.__bases__",
    '"".__class__.__mro__[1].__subclasses__()',
    "[Product].__class__",
    "[Product].__globals__",
    "[Product].upper()",
    '"abc".upper()',
    "lambda: 1",
    "(lambda x: x)(1)",
    '[x for x in "a"]',
    '{x: 1 for x in "a"}',
    "(x for x in [Product])",
    "9^9^9^9",
    "9^(9^9)",
    "10^100000",
    "2^1001",
    "1e100000",
    "10^99 * 10^99",
    '"a" & REPT("a", 100000)',
    'REPT("a", 10^9)',
    'REPT(REPT("ab", 1000), 1000)',
    'CONCAT(REPT("x", 60000), REPT("x", 60000))',
    'UPPER(REPT("ß", 60000))',
    'TEXTJOIN(REPT(",", 50000), TRUE, "a", "b", "c")',
    '"a" * 100000000',
    "(" * 10_000 + "1" + ")" * 10_000,
    "ABS(" * 1000 + "1" + ")" * 1000,
    "-" * 5000 + "1",
    "1" + "+1" * 3000,
    'open("/etc/passwd")',
    'exec("1")',
    'eval("1")',
    "eval",
    'getattr([Product], "upper")',
    'compile("1", "", "eval")',
    "globals()", "locals()", "vars()", "dir()", "type(1)", 'print("x")', "input()", "breakpoint()",
    "help()", "__builtins__", "__builtins__.open", 'os.system("ls")', 'sys.modules',
    "{#__class__}",
    '[Product]["__class__"]',
    "SUM(*[1])",
    '"%s" % "x"',
    "1 if TRUE else 2",
    "x := 1",
    "import os",
    "1; import os",
    'f"{1}"',
    "`1`",
    "1\x00",
    "[Unit price] ** 2",
    "[Order lines].[Cost].__len__",
    "COUNT([Order lines].[Cost]).real",
]


@pytest.mark.parametrize("text", ESCAPES, ids=lambda t: t[:40])
def test_escape_attempts_are_refused(text):
    with pytest.raises(FormulaError):
        compile_formula(text, RESOLVER)


def test_sandbox_knows_only_our_functions_and_operators():
    assert all(f.__module__.startswith("cardbase.formula") for f in EVAL_FUNCTIONS.values())
    assert all(f.__module__.startswith("cardbase.formula") for f in OPERATORS.values())


def test_user_text_never_reaches_the_python_expression():
    f = compile_formula('IF([Product] = "__import__(\'os\')", [Unit price] * 2, 0)', RESOLVER)
    assert "import" not in f.expression and "Product" not in f.expression
    assert f.expression == "((v0 * c1) if (v1 == c2) else c0)"


@pytest.mark.parametrize("text", [
    "IF([Delivered], " * 49 + "[Quantity]" + ", 1)" * 49,
    "IF(" * 49 + "[Order]" + ", TRUE, FALSE)" * 49,
    "ABS(" * 49 + "[Quantity]" + ")" * 49,
    "IFS(" * 48 + "[Delivered]" + ", TRUE)" * 48,
    "IFS(" + ", ".join(["[Delivered], 1"] * 49) + ")",
    "&".join(["[Product]"] * 50),
    "-" * 48 + "[Quantity]",
], ids=["if", "if-any", "abs", "ifs-nested", "ifs-long", "chain", "negations"])
def test_deepest_formulas_evaluate_even_from_a_deep_call_stack(text):
    """MAX_DEPTH bounds the Python stack simpleeval needs (a few frames per level), so a
    formula at the limit still runs when the caller is already 700 frames deep."""
    compiled = compile_formula(text, RESOLVER)

    def deep(n):
        return compiled.evaluate(VALUES) if n == 0 else deep(n - 1)

    with no_unexpected_failures():
        assert deep(700) is not None


def test_ifs_conditions_count_as_nesting():
    with pytest.raises(FormulaError) as info:
        compile_formula("IFS(" + ", ".join(["[Delivered], 1"] * 51) + ")", RESOLVER)
    assert "nested too deeply" in info.value.message
