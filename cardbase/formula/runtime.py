"""Values at run time: conversion of inputs, text rendering, and the null-safe, size-bounded
operators. An operator returns None for an ordinary runtime problem (an empty operand,
division by zero, a date out of range) and raises LimitExceeded when a size limit is hit."""
from __future__ import annotations

import decimal
import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Callable, Iterable, overload

from .limits import DECIMAL_PRECISION, MAX_EXPONENT, MAX_NUMBER, MAX_TEXT_LENGTH
from .valuetypes import ANY, BOOLEAN, DATE, DATETIME, NUMBER, TEXT

CONTEXT = decimal.Context(prec=DECIMAL_PRECISION, rounding=decimal.ROUND_HALF_EVEN,
                          Emax=999_999, Emin=-999_999,
                          traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])


class LimitExceeded(ArithmeticError):
    """A value outgrew a limit (number magnitude, exponent, text length)."""


# ---- checks -------------------------------------------------------------------------
def check_number(value: Decimal) -> Decimal:
    if not value.is_finite() or abs(value) > MAX_NUMBER:
        raise LimitExceeded(f"the number is too large (at most {MAX_NUMBER:.0E})")
    if value and value.adjusted() < -200:
        return Decimal(0)
    return value


def check_text(value: str) -> str:
    if len(value) > MAX_TEXT_LENGTH:
        raise LimitExceeded(f"the text is too long (at most {MAX_TEXT_LENGTH} characters)")
    return value


def is_empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple)) and not value)


# ---- text rendering -------------------------------------------------------------------
def number_text(value: Decimal) -> str:
    text = format(value.normalize(CONTEXT), "f")
    return "0" if text in ("-0", "0") else text


def to_text(value: Any) -> str:
    """The default text of a value, as & and CONCAT show it ('' for empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal):
        return number_text(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return ", ".join(to_text(v) for v in value)
    return ""


# ---- input conversion -----------------------------------------------------------------
def naive_utc(value: datetime) -> datetime:
    if value.tzinfo is not None:
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def as_number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, Decimal):
            d = value
        elif isinstance(value, int):
            d = Decimal(value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                return None
            d = Decimal(repr(value))
        elif isinstance(value, str) and value.strip() and len(value) < 400:
            d = Decimal(value.strip())
        else:
            return None
        return check_number(d)
    except (ArithmeticError, ValueError):
        return None


def as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return naive_utc(value).date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and 8 <= len(value.strip()) <= 40:
        try:
            return naive_utc(datetime.fromisoformat(value.strip())).date()
        except ValueError:
            return None
    return None


@overload
def as_datetime(value: date) -> datetime: ...
@overload
def as_datetime(value: Any) -> datetime | None: ...
def as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return naive_utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, str) and 8 <= len(value.strip()) <= 40:
        try:
            return naive_utc(datetime.fromisoformat(value.strip()))
        except ValueError:
            return None
    return None


def as_boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)) and value in (0, 1):
        return bool(value)
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = as_number(value)
    text = to_text(value)
    return text if len(text) <= MAX_TEXT_LENGTH else None


def as_any(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, Decimal)):
        return value
    if isinstance(value, (int, float)):
        return as_number(value)
    if isinstance(value, datetime):
        return naive_utc(value)
    if isinstance(value, date):
        return value
    if isinstance(value, (list, tuple)):
        return as_text(value)
    return None


CONVERTERS: dict[str, Callable[[Any], Any]] = {
    NUMBER: as_number, TEXT: as_text, DATE: as_date, DATETIME: as_datetime, BOOLEAN: as_boolean, ANY: as_any}


def convert(value: Any, type_: str, many: bool = False) -> Any:
    """An input value (from a record) -> the formula's representation of ``type_``."""
    conv = CONVERTERS[type_]
    if many:
        if value is None:
            return []
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            value = [value]
        return [conv(v) for v in _flatten(value)]
    if isinstance(value, (list, tuple)) and type_ != TEXT and type_ != ANY:
        return None
    return conv(value)


def _flatten(values: Iterable[Any]):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        else:
            yield v


def result(value: Any, type_: str) -> Any:
    """The value a formula hands back: of its result type, or None; '' counts as empty."""
    if value == "" or value is None:
        return None
    if type_ == ANY:
        return as_any(value)
    if type_ == TEXT and not isinstance(value, str):
        return None
    return CONVERTERS[type_](value)


# ---- operators ---------------------------------------------------------------------
def _days(n: Decimal, whole: bool) -> timedelta:
    return timedelta(days=int(n)) if whole else timedelta(days=float(n))


def _date_plus(d: date, n: Decimal) -> date | None:
    try:
        if isinstance(d, datetime):
            return d + _days(n, False)
        return d + _days(n, True)
    except (OverflowError, ValueError):
        return None


def op_add(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return check_number(a + b)
    if isinstance(a, date) and isinstance(b, Decimal):
        return _date_plus(a, b)
    if isinstance(a, Decimal) and isinstance(b, date):
        return _date_plus(b, a)
    return None


def op_sub(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return check_number(a - b)
    if isinstance(a, date) and isinstance(b, Decimal):
        return _date_plus(a, -b)
    if isinstance(a, date) and isinstance(b, date):
        if isinstance(a, datetime) or isinstance(b, datetime):
            delta = as_datetime(a) - as_datetime(b)
            return check_number(Decimal(delta.days) + Decimal(delta.seconds) / 86400
                                + Decimal(delta.microseconds) / 86_400_000_000)
        return Decimal((a - b).days)
    return None


def op_mul(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return check_number(a * b)
    return None


def op_div(a: Any, b: Any) -> Any:
    if isinstance(a, Decimal) and isinstance(b, Decimal) and b:
        return check_number(a / b)
    return None


def op_mod(a: Any, b: Any) -> Any:
    """Remainder with the sign of the divisor, like Excel's MOD."""
    if isinstance(a, Decimal) and isinstance(b, Decimal) and b:
        r = a % b
        if r and (r < 0) != (b < 0):
            r += b
        return check_number(r)
    return None


def op_pow(a: Any, b: Any) -> Any:
    if not (isinstance(a, Decimal) and isinstance(b, Decimal)):
        return None
    if abs(b) > MAX_EXPONENT:
        raise LimitExceeded(f"the exponent is too large (at most {MAX_EXPONENT})")
    if a == 0 and b <= 0:
        return None
    if a < 0 and b != b.to_integral_value():
        return None
    try:
        value = a ** b
    except decimal.Overflow:
        raise LimitExceeded(f"the number is too large (at most {MAX_NUMBER:.0E})") from None
    return check_number(value)


def op_neg(a: Any) -> Any:
    return -a if isinstance(a, Decimal) else None


def op_pos(a: Any) -> Any:
    return a if isinstance(a, Decimal) else None


def op_concat(a: Any, b: Any) -> str:
    left, right = to_text(a), to_text(b)
    if len(left) + len(right) > MAX_TEXT_LENGTH:
        raise LimitExceeded(f"the text is too long (at most {MAX_TEXT_LENGTH} characters)")
    return left + right


def compare(a: Any, b: Any) -> int | None:
    """-1/0/1, or None when the two cannot be ordered (an empty or a foreign value)."""
    if a == "":
        a = None
    if b == "":
        b = None
    if a is None or b is None:
        return 0 if a is None and b is None else None
    if isinstance(a, bool) or isinstance(b, bool):
        if not (isinstance(a, bool) and isinstance(b, bool)):
            return None
    elif isinstance(a, str) and isinstance(b, str):
        a, b = a.casefold(), b.casefold()
    elif isinstance(a, date) and isinstance(b, date):
        if isinstance(a, datetime) != isinstance(b, datetime):
            a, b = as_datetime(a), as_datetime(b)
    elif not (isinstance(a, Decimal) and isinstance(b, Decimal)):
        return None
    return (a > b) - (a < b)


def op_eq(a: Any, b: Any) -> bool:
    return compare(a, b) == 0


def op_ne(a: Any, b: Any) -> bool:
    return compare(a, b) != 0


def op_lt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c < 0


def op_le(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c <= 0


def op_gt(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c > 0


def op_ge(a: Any, b: Any) -> bool | None:
    c = compare(a, b)
    return None if c is None else c >= 0


BINARY_OPS = {
    "+": op_add, "-": op_sub, "*": op_mul, "/": op_div, "%": op_mod, "^": op_pow,
    "&": op_concat,
    "=": op_eq, "<>": op_ne, "<": op_lt, "<=": op_le, ">": op_gt, ">=": op_ge,
}
UNARY_OPS = {"-": op_neg, "+": op_pos}


def truth(value: Any) -> bool:
    """A condition's truth: TRUE, or a non-zero number; empty counts as FALSE."""
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal):
        return value != 0
    return False
