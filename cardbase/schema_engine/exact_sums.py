"""Exact sums and averages of decimal and money columns on SQLite.

SQLite keeps NUMERIC values as 64-bit floats and its SUM/AVG add them in floating point:
20,000 amounts around 10^10 came out 6.40 off. Each value it stores is the float nearest
the decimal that was written, so rounding value * 10^scale to the nearest integer gives
that decimal's whole units (cents) exactly (up to 15 significant digits, the float's
guarantee). PostgreSQL's numeric SUM/AVG are exact already.

Two ways to add those units on SQLite:

- natively: ``SUM(CAST(ROUND(col * 10^scale) AS INTEGER))`` -- SQLite adds integers in
  64 bits and raises "integer overflow" rather than losing a digit, so the sum is exact or
  an error. Used for columns of at most 18 digits (every unit count fits in 64 bits). The
  units are turned into a Decimal in Python (``ExactUnits``), averages as sum / count.
- in Python: the ``cb_exact_sum``/``cb_exact_avg`` aggregates below (Python ints, no limit),
  registered on every SQLite connection (``db.py``). Used for wider columns, and when the
  native sum overflowed: ``overflow_fallback`` runs a query again with them.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Context, Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

_CTX = Context(prec=80)  # far beyond any sum of 18-digit amounts: no rounding while adding
SUM_NAME = "cb_exact_sum"
AVG_NAME = "cb_exact_avg"
NATIVE_MAX_PRECISION = 18  # 10^18 units < 2^63: a value's units always fit SQLite's integers
_IN_PYTHON: ContextVar[bool] = ContextVar("cb_exact_sums_in_python", default=False)
T = TypeVar("T")


class ExactSum:
    """SUM(value, scale) in whole units of the scale (cents), added as Python ints, so
    nothing is lost however many rows there are; the result is text (no float touches it
    again). A stored float is within a hair of its decimal: rounding value * 10^scale to
    the nearest int gives that decimal's units exactly (up to 15 significant digits)."""

    def __init__(self) -> None:
        self.units = 0
        self.count = 0
        self.scale: int | None = None
        self.factor = 1

    def step(self, value: Any, scale: int) -> None:
        if value is None:
            return
        if self.scale is None:
            self.scale = int(scale or 0)
            self.factor = 10 ** self.scale
        if isinstance(value, float):
            self.units += round(value * self.factor)
        elif isinstance(value, int):
            self.units += value * self.factor
        else:  # text a NUMERIC column kept as it was (more digits than a float holds)
            self.units += int(Decimal(value.decode() if isinstance(value, bytes) else value).scaleb(self.scale))
        self.count += 1

    def total(self) -> Decimal:
        return Decimal(self.units).scaleb(-(self.scale or 0))

    def finalize(self) -> str | None:
        return None if not self.count else str(self.total())


class ExactAvg(ExactSum):
    """AVG(value, scale): the exact sum divided by the count (80 significant digits)."""

    def finalize(self) -> str | None:
        if not self.count:
            return None
        return str(_CTX.divide(self.total(), Decimal(self.count)))


class ExactUnits(sa.types.TypeDecorator):
    """The result of a native unit sum: ``units`` (a sum) or ``"units:count"`` (an
    average), turned into the same decimal text the Python aggregates give, so callers
    decode both alike."""

    impl = sa.String
    cache_ok = True

    def __init__(self, scale: int, average: bool) -> None:
        super().__init__()
        self.scale = scale
        self.average = average

    def process_result_value(self, value: Any, dialect: Any) -> str | None:
        if value is None:
            return None
        if not self.average:
            return str(Decimal(int(value)).scaleb(-self.scale))
        units, count = str(value).split(":")
        return str(_CTX.divide(Decimal(int(units)).scaleb(-self.scale), Decimal(int(count))))


def install(dbapi_conn: sqlite3.Connection) -> None:
    """Register the aggregates on a new SQLite connection."""
    dbapi_conn.create_aggregate(SUM_NAME, 2, ExactSum)  # type: ignore[arg-type]
    dbapi_conn.create_aggregate(AVG_NAME, 2, ExactAvg)  # type: ignore[arg-type]


def numeric_aggregate(dialect: str, op: str, column: Any) -> Any:
    """``sum``/``avg`` of ``column`` that is exact on both engines: on SQLite over a
    NUMERIC column with a scale, an exact sum of whole units (natively, or in Python for
    columns wider than 18 digits and inside ``overflow_fallback``'s second run); the
    result is decimal text, decoded by the caller with ``Decimal(text)``. Otherwise the
    database's own."""
    col_type = getattr(column, "type", None)
    if not (dialect == "sqlite" and op in ("sum", "avg") and isinstance(col_type, sa.Numeric)
            and not isinstance(col_type, (sa.Integer, sa.Float)) and col_type.scale is not None):
        return getattr(sa.func, op)(column)
    scale = int(col_type.scale)
    if _IN_PYTHON.get() or (col_type.precision or NATIVE_MAX_PRECISION + 1) > NATIVE_MAX_PRECISION:
        return getattr(sa.func, SUM_NAME if op == "sum" else AVG_NAME)(column, scale, type_=sa.String())
    units = sa.func.sum(sa.cast(sa.func.round(column * (10 ** scale)), sa.Integer))
    if op == "sum":
        return sa.type_coerce(units, ExactUnits(scale, average=False))
    text = sa.cast(units, sa.String) + sa.literal_column("':'", sa.String) + sa.cast(sa.func.count(column), sa.String)
    return sa.type_coerce(text, ExactUnits(scale, average=True))


def is_overflow(error: OperationalError) -> bool:
    return "integer overflow" in str(error.orig)


@contextmanager
def python_sums() -> Iterator[None]:
    """Within this block ``numeric_aggregate`` adds in Python (no overflow possible)."""
    token = _IN_PYTHON.set(True)
    try:
        yield
    finally:
        _IN_PYTHON.reset(token)


def overflow_fallback(run: Callable[[], T]) -> T:
    """``run()`` (which builds its statement with ``numeric_aggregate`` and executes it);
    if SQLite's native integer sum overflowed, once more with the Python aggregates."""
    try:
        return run()
    except OperationalError as error:
        if not is_overflow(error):
            raise
    with python_sums():
        return run()
