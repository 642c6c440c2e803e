"""Issue 14, point 1 in the demo CRM: deals in EUR, GBP and USD (a currency per record from
an allowed list), EUR as the base currency with GBP and USD rates; the deal aggregate by
stage gives one figure per currency, which converts to EUR at the rates it names."""
from __future__ import annotations

from decimal import Decimal

from cardbase.platform import users
from cardbase.schema_engine import currencies
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import templated


def _demo(db) -> None:
    from cardbase.platform.cli import initialise, load_demo
    initialise(db)
    users.set_password(db, "admin", "chief-pass-2024")
    load_demo(db, 300)


def test_the_demo_has_deals_in_three_currencies_a_base_currency_and_rates(db):
    templated(db, "demo_currencies_300", _demo)
    amount = db.schema().object("deal").field("amount")
    assert amount.options["currency_mode"] == "per_record" and amount.options["currencies"] == "EUR, GBP, USD"
    rows = RecordStore(db).aggregate(SYSTEM, "deal", AggregateQuery(
        group_by=["stage"], metrics=[{"op": "sum", "field": "amount"}]))
    assert {r["amount:currency"] for r in rows} == {"EUR", "GBP", "USD"}
    per_stage: dict[str, dict[str, Decimal]] = {}
    for r in rows:
        per_stage.setdefault(r["stage"], {})[r["amount:currency"]] = r["sum_amount"] or Decimal(0)
    with db.read() as conn:
        saved = currencies.read(conn)
        assert saved["base_currency"] == "EUR" and {r["currency"] for r in saved["rates"]} == {"GBP", "USD"}
        stage, sums = next((s, v) for s, v in per_stage.items() if len(v) > 1)
        converted = currencies.convert(conn, sums)
    assert converted is not None and converted["currency"] == "EUR"
    assert set(converted["rates"]) == set(sums) - {"EUR"}
    expected = sum(amount * (Decimal(converted["rates"][c]) if c != "EUR" else 1) for c, amount in sums.items())
    assert converted["amount"] == expected.quantize(Decimal("0.01"))
