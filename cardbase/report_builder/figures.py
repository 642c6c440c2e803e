"""How a measure's figures combine: one small accumulator class per calculation.

The grouped query returns one row per finest group (and per currency of every money
measure); cells, subtotals and totals are sums of those rows, so the accumulators say how
two partial figures make one. Money stays per currency (``MoneyFigure``: currency ->
amount): money is never mixed. ``CurrencyPolicy`` is the seam where the money issue's
conversion to a base currency plugs in; the default keeps every currency apart.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

Number = int | Decimal
MoneyFigure = dict[str, Decimal]  # currency code -> amount, in code order
AVG_PLACES = 2


class CurrencyPolicy(Protocol):
    """Turns per-currency amounts into what a report shows."""

    def present(self, figure: MoneyFigure) -> MoneyFigure: ...


class PerCurrency:
    """No conversion: one figure per currency (the default until exchange rates exist)."""

    def present(self, figure: MoneyFigure) -> MoneyFigure:
        return dict(sorted(figure.items()))


class Accumulator:
    """Adds partial figures of one measure; ``value`` is the combined figure."""

    def add(self, parts: tuple[Any, ...], currency: str | None) -> None:
        raise NotImplementedError

    def value(self) -> Any:
        raise NotImplementedError


class _Plain(Accumulator):
    """count, sum, min, max of a non-money value (or of a money amount in one currency)."""

    def __init__(self, op: str):
        self.op, self.current = op, None

    def add(self, parts: tuple[Any, ...], currency: str | None) -> None:
        self.current = combine(self.op, self.current, parts[0])

    def value(self) -> Any:
        return self.current


class _Average(Accumulator):
    """avg = sum / count of the non-empty values: partial averages cannot be averaged."""

    def __init__(self) -> None:
        self.total: Any = None
        self.count = 0

    def add(self, parts: tuple[Any, ...], currency: str | None) -> None:
        self.total = combine("sum", self.total, parts[0])
        self.count += int(parts[1] or 0)

    def value(self) -> Decimal | None:
        if not self.count or self.total is None:
            return None
        return (Decimal(self.total) / self.count).quantize(Decimal(1).scaleb(-AVG_PLACES - _scale(self.total)))


class _Distinct(Accumulator):
    """count distinct: exact for one source row; two partial counts cannot be added
    (the same value may be in both), so such a figure is unknown (None)."""

    def __init__(self) -> None:
        self.current: int | None = None
        self.rows = 0

    def add(self, parts: tuple[Any, ...], currency: str | None) -> None:
        self.rows += 1
        self.current = int(parts[0]) if self.rows == 1 else None

    def value(self) -> int | None:
        return self.current


class _Money(Accumulator):
    """A money measure: one inner accumulator per currency."""

    def __init__(self, make: Any, policy: CurrencyPolicy):
        self.make, self.policy = make, policy
        self.by_currency: dict[str, Accumulator] = {}

    def add(self, parts: tuple[Any, ...], currency: str | None) -> None:
        if parts[0] is None:
            return
        inner = self.by_currency.get(currency or "")
        if inner is None:
            inner = self.by_currency[currency or ""] = self.make()
        inner.add(parts, currency)

    def value(self) -> MoneyFigure | None:
        figure = {c: v for c, a in self.by_currency.items() if (v := a.value()) is not None}
        return self.policy.present(figure) if figure else None


def _scale(value: Any) -> int:
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        return -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return 0


def combine(op: str, a: Any, b: Any) -> Any:
    """Two partial figures of ``op`` as one; None is "no value"."""
    if b is None:
        return a
    if a is None:
        return b
    if op in ("count", "sum"):
        return a + b
    if op == "min":
        return min(a, b)
    if op == "max":
        return max(a, b)
    raise ValueError(f"{op} figures cannot be combined")


def accumulator(op: str, money: bool, policy: CurrencyPolicy) -> Accumulator:
    """A fresh accumulator for one measure."""
    def make() -> Accumulator:
        if op == "avg":
            return _Average()
        if op == "count_distinct":
            return _Distinct()
        return _Plain(op)
    return _Money(make, policy) if money else make()


def percent(value: Any, total: Any) -> Any:
    """``value`` as a percentage of ``total`` (per currency for money); None when the
    total is empty or zero -- a percentage of nothing is not a number."""
    if isinstance(value, dict):
        if not isinstance(total, dict):
            return None
        return {c: percent(v, total.get(c)) for c, v in value.items()}
    if value is None or total is None or total == 0:
        return None
    return (Decimal(value) * 100 / Decimal(total)).quantize(Decimal("0.01"))
