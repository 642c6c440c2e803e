"""The function library: for each function its argument rule (checked when the formula is
saved) and its implementation (run inside simpleeval). Names are case-insensitive.

Implementations get converted values (Decimal, str, bool, date, datetime, None; a list for a
child-list reference) and must never raise for ordinary bad data: they return None. They
raise LimitExceeded only when a size limit is hit.
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, ROUND_UP, Decimal, InvalidOperation
from typing import Any, Callable, Sequence

from .errors import FormulaError
from .limits import MAX_TEXT_LENGTH
from .nodes import Literal, Node
from .runtime import (LimitExceeded, as_date, as_datetime, check_number, check_text,
                      is_empty, to_text, truth, naive_utc)
from .textformat import format_value, is_date_format, is_number_format
from .valuetypes import (ANY, BOOLEAN, DATE, DATES, DATETIME, NUMBER, TEXT, describe, unify)


@dataclass(frozen=True)
class Spec:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    check: Callable[["Spec", Sequence[Node]], str]  # -> result type, or FormulaError
    impl: Callable[..., Any] | None  # None: compiled specially (IF, IFS)
    summary: str
    example: str
    lists: bool = False  # accepts child-list references
    clock: bool = False  # gets the evaluation clock (TODAY, NOW)


FUNCTIONS: dict[str, Spec] = {}
ALIASES = {"AVERAGE": "AVG", "CONCATENATE": "CONCAT"}


def lookup(name: str) -> Spec | None:
    name = name.upper()
    return FUNCTIONS.get(ALIASES.get(name, name))


# ---- argument rules ------------------------------------------------------------------
_NEEDED = {
    frozenset({NUMBER}): "a number", frozenset({TEXT}): "text", frozenset({BOOLEAN}): "TRUE/FALSE",
    frozenset(DATES): "a date", frozenset({NUMBER, DATE, DATETIME}): "a number or a date",
}


def _need(spec: Spec, args: Sequence[Node], i: int, allowed: frozenset[str]) -> None:
    arg = args[i]
    if arg.type != ANY and arg.type not in allowed:
        raise FormulaError(f"{spec.name}: argument {i + 1} is {describe(arg.vtype, arg.many)} "
                           f"where {_NEEDED[allowed]} is needed", arg.pos)


def _unify_all(spec: Spec, args: Sequence[Node], what: str = "values") -> str:
    result = ANY
    for arg in args:
        combined = unify(result, arg.vtype)
        if combined is None:
            raise FormulaError(f"{spec.name}: the {what} have different types "
                               f"({describe(result)} and {describe(arg.vtype)})", arg.pos)
        result = combined
    return result


N, T, B, D = frozenset({NUMBER}), frozenset({TEXT}), frozenset({BOOLEAN}), frozenset(DATES)
ND = frozenset({NUMBER, DATE, DATETIME})


def rule(result: str, *params: frozenset[str] | None, rest: frozenset[str] | None = None):
    """Positional parameter types (None: any type), then ``rest`` for further arguments."""
    def check(spec: Spec, args: Sequence[Node]) -> str:
        for i in range(len(args)):
            allowed = params[i] if i < len(params) else rest
            if allowed is not None:
                _need(spec, args, i, allowed)
        return result
    return check


def _check_if(spec, args):
    _need(spec, args, 0, B)
    return _unify_all(spec, args[1:], "results")


def _check_ifs(spec, args):
    if len(args) % 2:
        raise FormulaError("IFS takes pairs of condition and value: a value is missing", args[-1].end)
    for i in range(0, len(args), 2):
        _need(spec, args, i, B)
    return _unify_all(spec, args[1::2], "results")


def _check_unified(allowed: frozenset[str] | None):
    def check(spec, args):
        if allowed is not None:
            for i in range(len(args)):
                _need(spec, args, i, allowed)
        return _unify_all(spec, args)
    return check


def _check_text(spec, args):
    if args[0].many:
        raise FormulaError(f"{spec.name}: argument 1 is a list", args[0].pos)
    _need(spec, args, 1, T)
    fmt, value = args[1], args[0]
    if isinstance(fmt, Literal) and isinstance(fmt.value, str):
        if value.type == NUMBER and not is_number_format(fmt.value):
            raise FormulaError(f'TEXT: "{fmt.value}" is not a number format (use 0, #, "," "." and %, '
                               'e.g. "#,##0.00")', fmt.pos)
        if value.type in DATES and not is_date_format(fmt.value):
            raise FormulaError(f'TEXT: "{fmt.value}" is not a date format (use YYYY, MM, DD …, '
                               'e.g. "DD.MM.YYYY")', fmt.pos)
    return TEXT


_UNITS = {"day": "day", "days": "day", "week": "week", "weeks": "week",
          "month": "month", "months": "month", "year": "year", "years": "year"}


def _check_dateadd(spec, args):
    _need(spec, args, 0, D)
    _need(spec, args, 1, N)
    _need(spec, args, 2, T)
    unit = args[2]
    if isinstance(unit, Literal) and isinstance(unit.value, str) \
            and unit.value.strip().lower() not in _UNITS:
        raise FormulaError(f'DATEADD: unit "{unit.value}" is not one of "day", "week", "month", "year"',
                           unit.pos)
    return args[0].type if args[0].type in DATES else DATE


# ---- helpers for implementations ---------------------------------------------------------
def _int(value: Any) -> int | None:
    """A number as a whole number (truncated), None if empty or absurdly large."""
    if isinstance(value, Decimal) and abs(value) < 10 ** 15:
        return int(value)
    return None


def _flat(args: Sequence[Any]):
    for a in args:
        if isinstance(a, (list, tuple)):
            yield from _flat(a)
        else:
            yield a


def _text(value: Any) -> str:
    return value if isinstance(value, str) else to_text(value)


# ---- implementations -------------------------------------------------------------------
def f_and(*args):
    return all(truth(a) for a in args)


def f_or(*args):
    return any(truth(a) for a in args)


def f_not(a):
    return not truth(a)


def f_isblank(a):
    return is_empty(a)


def f_coalesce(*args):
    return next((a for a in args if not is_empty(a)), None)


def _round(mode):
    def impl(x, digits=Decimal(0)):
        d = _int(digits)
        if not isinstance(x, Decimal) or d is None:
            return None
        if d > 60:
            return x
        if d < -120:
            return Decimal(0)
        try:
            r = x.quantize(Decimal(1).scaleb(-d), rounding=mode)
        except InvalidOperation:
            return x  # more digits asked for than the number has
        return r.quantize(Decimal(1)) if d < 0 and abs(r) < Decimal("1e30") else r
    return impl


def f_abs(x):
    return abs(x) if isinstance(x, Decimal) else None


def _numbers(args):
    return [v for v in _flat(args) if isinstance(v, Decimal)]


def f_sum(*args):
    total = Decimal(0)
    for v in _numbers(args):
        total = check_number(total + v)
    return total


def f_avg(*args):
    nums = _numbers(args)
    return check_number(f_sum(nums) / len(nums)) if nums else None


def _extreme(pick):
    def impl(*args):
        values = [v for v in _flat(args) if not is_empty(v)]
        nums = [v for v in values if isinstance(v, Decimal)]
        if nums:
            return pick(nums)
        dates = [v for v in values if isinstance(v, date)]
        if not dates:
            return None
        if any(isinstance(v, datetime) for v in dates) and not all(isinstance(v, datetime) for v in dates):
            dates = [as_datetime(v) for v in dates]
        return pick(dates)
    return impl


def f_count(*args):
    return Decimal(sum(1 for v in _flat(args) if not is_empty(v)))


def _join(parts: list[str], sep: str = "") -> str:
    if sum(len(p) for p in parts) + len(sep) * max(0, len(parts) - 1) > MAX_TEXT_LENGTH:
        raise LimitExceeded(f"the text is too long (at most {MAX_TEXT_LENGTH} characters)")
    return sep.join(parts)


def f_concat(*args):
    return _join([to_text(v) for v in _flat(args)])


def f_textjoin(sep, ignore_empty, *args):
    parts = [to_text(v) for v in _flat(args)]
    if truth(ignore_empty):
        parts = [p for p in parts if p != ""]
    return _join(parts, _text(sep))


def f_upper(s):
    return check_text(_text(s).upper())


def f_lower(s):
    return check_text(_text(s).lower())


def f_trim(s):
    return re.sub(r"[ \t]+", " ", _text(s)).strip()


def f_len(s):
    return Decimal(len(_text(s)))


def f_left(s, n=Decimal(1)):
    k = _int(n)
    return None if k is None or k < 0 else _text(s)[:k]


def f_right(s, n=Decimal(1)):
    k = _int(n)
    if k is None or k < 0:
        return None
    return _text(s)[-k:] if k else ""


def f_mid(s, start, n):
    a, k = _int(start), _int(n)
    if a is None or k is None or a < 1 or k < 0:
        return None
    return _text(s)[a - 1:a - 1 + k]


def f_rept(s, n):
    k, text = _int(n), _text(s)
    if k is None or k < 0:
        return None
    if len(text) * k > MAX_TEXT_LENGTH:
        raise LimitExceeded(f"the text is too long (at most {MAX_TEXT_LENGTH} characters)")
    return text * k


def f_text(value, fmt):
    if value is None or not isinstance(fmt, str):
        return None
    return format_value(value, fmt)


def f_today(clock):
    return clock.date()


def f_now(clock):
    return naive_utc(clock)


def f_date(y, m, d):
    y, m, d = _int(y), _int(m), _int(d)
    if None in (y, m, d):
        return None
    try:
        year, month = divmod(y * 12 + (m - 1), 12)  # months beyond 12 roll into the next year
        return date(year, month + 1, 1) + timedelta(days=d - 1)
    except (ValueError, OverflowError):
        return None


def _part(getter):
    def impl(d):
        return Decimal(getter(d)) if isinstance(d, date) else None
    return impl


def f_dateadd(d, n, unit):
    k = _int(n)
    unit = _UNITS.get(unit.strip().lower()) if isinstance(unit, str) else None
    if not isinstance(d, date) or k is None or unit is None:
        return None
    try:
        if unit in ("day", "week"):
            return d + timedelta(days=k * (7 if unit == "week" else 1))
        months = k * (12 if unit == "year" else 1)
        year, month = divmod(d.year * 12 + d.month - 1 + months, 12)
        month += 1
        return d.replace(year=year, month=month, day=min(d.day, calendar.monthrange(year, month)[1]))
    except (ValueError, OverflowError):
        return None


def f_days(end, start):
    a, b = as_date(end), as_date(start)
    if a is None or b is None or not isinstance(end, date) or not isinstance(start, date):
        return None
    return Decimal((a - b).days)


def f_blank():
    return None


# ---- the table -------------------------------------------------------------------------
def _add(name, lo, hi, check, impl, summary, example, **kw):
    FUNCTIONS[name] = Spec(name, lo, hi, check, impl, summary, example, **kw)


_add("IF", 2, 3, _check_if, None, "value_if_true when the condition is TRUE, else value_if_false (or empty)",
     'IF([Quantity] > 10, "bulk", "single")')
_add("IFS", 2, None, _check_ifs, None, "the value of the first TRUE condition; empty when none is TRUE",
     'IFS([Score] >= 90, "A", [Score] >= 80, "B", TRUE, "C")')
_add("AND", 1, None, rule(BOOLEAN, rest=B), f_and, "TRUE when all conditions are TRUE", "AND([Paid], [Shipped])")
_add("OR", 1, None, rule(BOOLEAN, rest=B), f_or, "TRUE when any condition is TRUE", 'OR([Status] = "won", [Status] = "lost")')
_add("NOT", 1, 1, rule(BOOLEAN, B), f_not, "TRUE when the condition is FALSE (or empty)", "NOT([Paid])")
_add("ISBLANK", 1, 1, rule(BOOLEAN, None), f_isblank, "TRUE when the value is empty (or empty text)", "ISBLANK([Email])")
_add("COALESCE", 1, None, _check_unified(None), f_coalesce, "the first value that is not empty",
     "COALESCE([Mobile], [Phone], \"-\")")
_add("ROUND", 1, 2, rule(NUMBER, N, N), _round(ROUND_HALF_UP),
     "round to n decimals (default 0), halves away from zero; n < 0 rounds to tens, hundreds …", "ROUND([Price] * 1.19, 2)")
_add("ROUNDUP", 1, 2, rule(NUMBER, N, N), _round(ROUND_UP), "round away from zero", "ROUNDUP([Hours], 0)")
_add("ROUNDDOWN", 1, 2, rule(NUMBER, N, N), _round(ROUND_DOWN), "round towards zero", "ROUNDDOWN([Score] / 10, 0)")
_add("ABS", 1, 1, rule(NUMBER, N), f_abs, "the number without its sign", "ABS([Balance])")
_add("SUM", 1, None, rule(NUMBER, rest=N), f_sum, "the total of the numbers; empty values count as 0",
     "SUM([Order lines].[Cost])", lists=True)
_add("AVG", 1, None, rule(NUMBER, rest=N), f_avg,
     "the average of the non-empty numbers", "AVG([Order lines].[Price])", lists=True)
_add("MIN", 1, None, _check_unified(ND), _extreme(min), "the smallest non-empty number or earliest date",
     "MIN([Order lines].[Price])", lists=True)
_add("MAX", 1, None, _check_unified(ND), _extreme(max), "the largest non-empty number or latest date",
     "MAX([Orders].[Order date])", lists=True)
_add("COUNT", 1, None, rule(NUMBER, rest=None), f_count,
     "how many values are not empty", "COUNT([Order lines].[Product])", lists=True)
_add("CONCAT", 1, None, rule(TEXT, rest=None), f_concat,
     "the values joined as text", 'CONCAT([First name], " ", [Last name])', lists=True)
_add("TEXTJOIN", 3, None, rule(TEXT, T, B, rest=None), f_textjoin,
     "the values joined with a separator, skipping empty ones when the 2nd argument is TRUE",
     'TEXTJOIN(", ", TRUE, [Order lines].[Product])', lists=True)
_add("UPPER", 1, 1, rule(TEXT, T), f_upper, "the text in capitals", "UPPER([Country code])")
_add("LOWER", 1, 1, rule(TEXT, T), f_lower, "the text in small letters", "LOWER([Email])")
_add("TRIM", 1, 1, rule(TEXT, T), f_trim, "the text without leading, trailing and repeated spaces", "TRIM([Name])")
_add("LEN", 1, 1, rule(NUMBER, T), f_len, "the number of characters", "LEN([Postcode])")
_add("LEFT", 1, 2, rule(TEXT, T, N), f_left, "the first n characters (default 1)", "LEFT([Postcode], 2)")
_add("RIGHT", 1, 2, rule(TEXT, T, N), f_right, "the last n characters (default 1)", "RIGHT([IBAN], 4)")
_add("MID", 3, 3, rule(TEXT, T, N, N), f_mid, "n characters starting at position start (1 = first)", "MID([Code], 3, 2)")
_add("REPT", 2, 2, rule(TEXT, T, N), f_rept, "the text repeated n times", 'REPT("*", [Rating])')
_add("TEXT", 2, 2, _check_text, f_text, "a number or date as text in a format",
     'TEXT([Amount], "#,##0.00") & " EUR"')
_add("TODAY", 0, 0, rule(DATE), f_today, "today's date", "DAYS([Due date], TODAY())", clock=True)
_add("NOW", 0, 0, rule(DATETIME), f_now, "the current date and time", "NOW()", clock=True)
_add("DATE", 3, 3, rule(DATE, N, N, N), f_date, "the date of year, month, day (months and days beyond the end roll over)",
     "DATE(YEAR(TODAY()), 12, 31)")
_add("YEAR", 1, 1, rule(NUMBER, D), _part(lambda d: d.year), "the year of a date", "YEAR([Order date])")
_add("MONTH", 1, 1, rule(NUMBER, D), _part(lambda d: d.month), "the month of a date, 1-12", "MONTH([Order date])")
_add("DAY", 1, 1, rule(NUMBER, D), _part(lambda d: d.day), "the day of the month, 1-31", "DAY([Order date])")
_add("WEEKDAY", 1, 1, rule(NUMBER, D), _part(lambda d: d.isoweekday()),
     "the day of the week: Monday = 1 … Sunday = 7", "WEEKDAY([Order date]) >= 6")
_add("DATEADD", 3, 3, _check_dateadd, f_dateadd,
     'the date moved by n "day"s, "week"s, "month"s or "year"s (month ends are kept in range)',
     'DATEADD([Start], 3, "month")')
_add("DAYS", 2, 2, rule(NUMBER, D, D), f_days, "whole days from start to end (end - start)",
     "DAYS([Due date], TODAY())")
_add("BLANK", 0, 0, rule(ANY), f_blank, "the empty value", "IF([Quantity] = 0, BLANK(), [Total] / [Quantity])")
_add("TRUE", 0, 0, rule(BOOLEAN), lambda: True, "TRUE (same as the word TRUE)", "TRUE()")
_add("FALSE", 0, 0, rule(BOOLEAN), lambda: False, "FALSE (same as the word FALSE)", "FALSE()")
