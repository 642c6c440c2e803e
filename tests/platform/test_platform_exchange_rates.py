"""Issue 14, point 1: the base currency and exchange rates with validity dates, kept by
administrators through the API (and the configurator page), all or nothing with every
bad row named; a conversion says which rate it used. Both engines."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cardbase.schema_engine import currencies
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import Forbidden, ValidationError

from api_testlib import api_for, crm_app, error_of

RATES = [{"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01", "valid_to": "2026-06-30"},
         {"currency": "GBP", "rate": "1.15", "valid_from": "2026-07-01"},
         {"currency": "USD", "rate": "0.92", "valid_from": "2026-01-01"}]


@pytest.fixture
def app(db):
    return crm_app(db)


def test_rates_are_kept_and_converted_with_the_rate_of_the_day(app, db):
    api = api_for(app, db, "root")
    response = api.put("/api/v1/currencies", {"base_currency": "eur", "rates": RATES})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = api.get("/api/v1/currencies").get_json()
    assert body["base_currency"] == "EUR" and len(body["rates"]) == 3
    assert body["rates"][0] == {"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01", "valid_to": "2026-06-30"}
    with db.read() as conn:
        spring = currencies.convert(conn, {"EUR": Decimal("100"), "GBP": Decimal("100")}, dt.date(2026, 3, 1))
        autumn = currencies.convert(conn, {"GBP": Decimal("100"), "USD": Decimal("10")}, dt.date(2026, 9, 1))
        before = currencies.convert(conn, {"GBP": Decimal("1")}, dt.date(2025, 12, 31))
    assert spring == {"amount": Decimal("217.00"), "currency": "EUR", "rates": {"GBP": "1.17"}}
    assert autumn == {"amount": Decimal("124.20"), "currency": "EUR", "rates": {"GBP": "1.15", "USD": "0.92"}}
    assert before is None  # no rate that day: the figures stay per currency


def test_overlapping_dates_zero_rates_and_other_bad_rows_are_refused_all_at_once(app, db):
    api = api_for(app, db, "root")
    api.put("/api/v1/currencies", {"base_currency": "EUR", "rates": RATES[:1]})
    response = api.put("/api/v1/currencies", {"base_currency": "EUR", "rates": [
        {"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01", "valid_to": "2026-06-30"},
        {"currency": "GBP", "rate": "1.16", "valid_from": "2026-06-01"},
        {"currency": "USD", "rate": "0", "valid_from": "2026-01-01"},
        {"currency": "EUR", "rate": "1", "valid_from": "2026-01-01"},
        {"currency": "CHF", "rate": "0.95", "valid_from": "2026-05-01", "valid_to": "2026-04-01"}]})
    assert response.status_code == 422
    fields = error_of(response)["fields"]
    assert fields["rates[1].valid_from"] == [
        "overlaps the rate of GBP in row 1 (valid from 2026-01-01 to 2026-06-30)"]
    assert fields["rates[2].rate"] == ["must be greater than 0"]
    assert fields["rates[3].currency"] == ["is the base currency: its rate is always 1"]
    assert fields["rates[4].valid_to"] == ["must not be before valid_from"]
    assert api.get("/api/v1/currencies").get_json()["rates"] == [RATES[0]]  # nothing was written
    response = api.put("/api/v1/currencies", {"rates": RATES})
    assert error_of(response)["fields"] == {"base_currency": ["is required when there are exchange rates"]}


def test_only_administrators_change_them(app, db):
    response = api_for(app, db, "sam").put("/api/v1/currencies", {"base_currency": "EUR", "rates": []})
    assert response.status_code == 403
    with pytest.raises(Forbidden):
        currencies.replace(db, _sam(db), "EUR", [])
    with pytest.raises(ValidationError):
        currencies.replace(db, SYSTEM, "EURO", [])


def _sam(db):
    from cardbase.platform import users
    from cardbase.platform.context import actor_for
    return actor_for(users.find_user(db, "sam"), db)


def _form(base: str, rows: list[dict]) -> dict:
    return {"base_currency": base, **{f"rate_{k}": [r.get(k) or "" for r in rows]
                                      for k in ("currency", "rate", "valid_from", "valid_to")}}


def test_the_configurator_page_edits_them_in_the_browser(app, db):
    from api_testlib import signed_in
    client = signed_in(app, "root")
    page = client.get("/designer/currencies")
    assert page.status_code == 200 and 'id="cb-currency-form"' in page.get_data(as_text=True)
    bad = client.post("/designer/currencies", data=_form("EUR", [
        {"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01"},
        {"currency": "GBP", "rate": "1.10", "valid_from": "2026-03-01"},
        {"currency": "USD", "rate": "0", "valid_from": "2026-01-01"}, {}]))
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert 'id="cb-rate-1-valid_from-error"' in body and "overlaps the rate of GBP in row 1" in body
    assert 'id="cb-rate-2-rate-error"' in body and "must be greater than 0" in body
    assert 'value="1.10"' in body  # the input is kept
    with db.read() as conn:
        assert currencies.read(conn)["rates"] == []
    good = client.post("/designer/currencies", data=_form("EUR", [
        {"currency": "GBP", "rate": "1.17", "valid_from": "2026-01-01", "valid_to": "2026-02-28"},
        {"currency": "GBP", "rate": "1.10", "valid_from": "2026-03-01"}, {}]))
    assert good.status_code == 302
    with db.read() as conn:
        saved = currencies.read(conn)
    assert saved["base_currency"] == "EUR" and [r["rate"] for r in saved["rates"]] == [Decimal("1.17"), Decimal("1.1")]
    assert signed_in(app, "sam").get("/designer/currencies").status_code == 403


def test_the_openapi_document_describes_the_currencies(app, db):
    doc = api_for(app, db, "root").get("/api/openapi.json").get_json()
    path = doc["paths"]["/api/v1/currencies"]
    assert {"get", "put"} <= set(path) and "422" in path["put"]["responses"]
    assert doc["components"]["schemas"]["Currencies"]["properties"]["rates"]["items"]["required"] == [
        "currency", "rate", "valid_from"]
