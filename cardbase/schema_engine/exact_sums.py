"""Exact sums and averages of decimal and money columns on SQLite.

SQLite keeps NUMERIC values as 64-bit floats and its SUM/AVG add them in floating point:
20,000 amounts around 10^10 came out 6.40 off. Each value it stores is the float nearest
the decimal that was written, so rounding it back to the column's scale gives that
decimal exactly (up to 15 significant digits, the float's guarantee); these aggregates
do that per value and add with Python's Decimal. They are registered on every SQLite
connection (``db.py``); PostgreSQL's numeric SUM/AVG are exact already.
"""
from __future__ import annotations

import sqlite3
from decimal import Context, Decimal
from typing import Any

import sqlalchemy as sa

_CTX = Context(prec=80)  # far beyond any sum of 18-digit amounts: no rounding while adding
SUM_NAME = "cb_exact_sum"
AVG_NAME = "cb_exact_avg"


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


def install(dbapi_conn: sqlite3.Connection) -> None:
    """Register the aggregates on a new SQLite connection."""
    dbapi_conn.create_aggregate(SUM_NAME, 2, ExactSum)  # type: ignore[arg-type]
    dbapi_conn.create_aggregate(AVG_NAME, 2, ExactAvg)  # type: ignore[arg-type]


def numeric_aggregate(dialect: str, op: str, column: Any) -> Any:
    """``sum``/``avg`` of ``column`` that is exact on both engines: on SQLite over a
    NUMERIC column with a scale, the Decimal aggregates above (their result is text,
    decoded by the caller with ``Decimal(text)``); otherwise the database's own."""
    col_type = getattr(column, "type", None)
    if (dialect == "sqlite" and op in ("sum", "avg") and isinstance(col_type, sa.Numeric)
            and not isinstance(col_type, (sa.Integer, sa.Float)) and col_type.scale is not None):
        name = SUM_NAME if op == "sum" else AVG_NAME
        return getattr(sa.func, name)(column, col_type.scale, type_=sa.String())
    return getattr(sa.func, op)(column)
