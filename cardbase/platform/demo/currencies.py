"""The demo's base currency and exchange rates (issue 14, point 1): deals are in EUR, GBP
and USD (by the organisation's country); EUR is the base and GBP and USD have rates, one
of them changed at the start of 2026, so figures can be converted and say which rate."""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine import currencies
from cardbase.schema_engine.actor import Actor

BASE = "EUR"
RATES: list[dict[str, Any]] = [
    {"currency": "GBP", "rate": "1.19", "valid_from": "2020-01-01", "valid_to": "2025-12-31"},
    {"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01"},
    {"currency": "USD", "rate": "0.92", "valid_from": "2020-01-01"},
]


def install_demo_currencies(db, actor: Actor) -> dict[str, Any]:
    return currencies.replace(db, actor, BASE, RATES)
