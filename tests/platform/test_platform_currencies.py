"""Issue 14, point 1: money is never mixed. A money field has one fixed currency (the
default) or, chosen explicitly, a currency per record from an allowed list; aggregates,
board totals and rollups give figures per currency; a filter or rule view compares an
amount only with amounts in its own currency. Both engines (the db fixture)."""
from __future__ import annotations

from decimal import Decimal

import pytest

from cardbase.platform import users
from cardbase.platform.context import actor_for
from cardbase.schema_engine import rights
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.errors import SchemaError, ValidationError
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.query.model import AggregateQuery, ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

from api_testlib import api_for, crm_app_with_sales, error_of


@pytest.fixture
def app(db):
    return crm_app_with_sales(db)


def _deals(db, *rows):
    return RecordStore(db).bulk_create(SYSTEM, "deal", [{"title": f"D{i}", **r} for i, r in enumerate(rows)])


# ---- options and bad input -----------------------------------------------------------------------
def test_a_new_money_field_has_one_fixed_currency_and_refuses_others(app, db):
    svc = SchemaService(db)
    field = svc.add_field(SYSTEM, "deal", {"name": "fee", "label": "Fee", "type": "money"})
    assert field.options["currency_mode"] == "fixed" and field.options["currency"] == "EUR"
    store = RecordStore(db)
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"title": "x", "fee": {"amount": "10", "currency": "USD"}})
    assert err.value.errors == {"fee": ["is in EUR only; USD is not allowed"]}
    assert store.create(SYSTEM, "deal", {"title": "y", "fee": "10"})["fee"] == Money(Decimal("10.00"), "EUR")
    api = api_for(app, db, "root")
    response = api.post("/api/v1/records/deal", {"title": "z", "fee": {"amount": "1", "currency": "GBP"}})
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"fee": ["is in EUR only; GBP is not allowed"]}
    with pytest.raises(SchemaError) as err:  # the fixed currency is never blank: the default fills it
        svc.update_field(SYSTEM, "deal", "fee", {"options": {"currency": "E"}})
    assert "options.currency" in err.value.errors


def test_a_per_record_field_allows_only_its_currencies(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "amount", "label": "Amount", "type": "money",
         "options": {"currency_mode": "per_record", "currencies": "eur gbp,USD", "currency": "EUR"}}]})
    field = db.schema().object("deal").field("amount")
    assert field.options["currencies"] == "EUR, GBP, USD"
    assert store.create(SYSTEM, "deal", {"amount": {"amount": "5", "currency": "GBP"}})["amount"].currency == "GBP"
    with pytest.raises(ValidationError) as err:
        store.create(SYSTEM, "deal", {"amount": {"amount": "5", "currency": "CHF"}})
    assert err.value.errors == {"amount": ["CHF is not allowed; use one of EUR, GBP, USD"]}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "b", "label": "B", "type": "money", "options": {
            "currency_mode": "per_record", "currencies": "GBP, USD", "currency": "EUR"}})
    assert err.value.errors == {"options.currencies": ["must include the default currency EUR"]}
    with pytest.raises(SchemaError) as err:
        svc.add_field(SYSTEM, "deal", {"name": "c", "label": "C", "type": "money", "options": {
            "currency_mode": "per_record", "currencies": "EUR, XYZ"}})
    assert "XYZ" in str(err.value.errors["options.currencies"])


# ---- figures per currency --------------------------------------------------------------------------
def test_aggregates_give_one_row_per_currency(app, db):
    _deals(db, {"stage": "lead", "amount": {"amount": "1040", "currency": "EUR"}},
           {"stage": "lead", "amount": {"amount": "99600", "currency": "GBP"}},
           {"stage": "lead", "amount": {"amount": "100", "currency": "USD"}},
           {"stage": "won", "amount": "10"}, {"stage": "won"})
    rows = RecordStore(db).aggregate(SYSTEM, "deal", AggregateQuery(
        group_by=["stage"], metrics=[{"op": "count"}, {"op": "sum", "field": "amount"}, {"op": "avg", "field": "amount"}]))
    got = [(r["stage"], r["amount:currency"], r["count"], r["sum_amount"]) for r in rows]
    assert sorted(got) == [("lead", "EUR", 1, Decimal("1040.00")), ("lead", "GBP", 1, Decimal("99600.00")),
                           ("lead", "USD", 1, Decimal("100.00")), ("won", "EUR", 2, Decimal("10.00"))]
    api = api_for(app, db, "root")
    data = api.get("/api/v1/records/deal/aggregate", query={"sum": "amount"}).get_json()["data"]
    assert sorted((r["amount:currency"], r["sum_amount"]) for r in data) == [
        ("EUR", "1050.00"), ("GBP", "99600.00"), ("USD", "100.00")]


def test_an_order_total_over_lines_in_two_currencies_is_not_one_number(db):
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "fields": [
        {"name": "title", "label": "Title", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}},
        {"name": "price", "label": "Price", "type": "money", "options": {"currency_mode": "per_record"}},
        {"name": "net", "label": "Net", "type": "money", "options": {"currency": "GBP"}}]})
    svc.add_field(SYSTEM, "order", {"name": "total", "label": "Total", "type": "rollup", "options": {
        "child": "line", "link": "order", "field": "price", "aggregate": "sum"}})
    svc.add_field(SYSTEM, "order", {"name": "net_total", "label": "Net total", "type": "rollup", "options": {
        "child": "line", "link": "order", "field": "net", "aggregate": "sum"}})
    mixed = store.create(SYSTEM, "order", {"title": "Mixed"})
    single = store.create(SYSTEM, "order", {"title": "Single"})
    store.bulk_create(SYSTEM, "line", [
        {"order": mixed["id"], "price": {"amount": "1040", "currency": "EUR"}, "net": "1"},
        {"order": mixed["id"], "price": {"amount": "100", "currency": "USD"}, "net": "2"},
        {"order": single["id"], "price": {"amount": "100", "currency": "USD"}},
        {"order": single["id"], "price": {"amount": "20.50", "currency": "USD"}}])
    assert store.get(SYSTEM, "order", mixed["id"])["total"] is None  # never 1,140.00
    assert store.get(SYSTEM, "order", mixed["id"])["net_total"] == Money(Decimal("3.00"), "GBP")
    assert store.get(SYSTEM, "order", single["id"])["total"] == Money(Decimal("120.50"), "USD")
    usd = store.list(SYSTEM, "line", ListQuery(filter={"field": "price", "op": "eq", "value": {
        "amount": "100", "currency": "USD"}})).data
    assert len(usd) == 2
    line = next(r for r in store.list(SYSTEM, "line").data if r["price"].currency == "USD" and r["order"].id == mixed["id"])
    store.update(SYSTEM, "line", line["id"], {"price": {"amount": "100", "currency": "EUR"}}, version=line["version"])
    assert store.get(SYSTEM, "order", mixed["id"])["total"] == Money(Decimal("1140.00"), "EUR")


def test_a_filter_and_a_rule_view_compare_within_one_currency(app, db):
    ids = _deals(db, {"amount": {"amount": "99600", "currency": "GBP"}}, {"amount": "50000"},
                 {"amount": {"amount": "150000", "currency": "EUR"}}, {})
    store = RecordStore(db)
    below = {"field": "amount", "op": "lt", "value": 100000}
    assert [r["id"] for r in store.list(SYSTEM, "deal", ListQuery(filter=below)).data] == [ids[1]]
    in_gbp = {"field": "amount", "op": "lt", "value": {"amount": 100000, "currency": "GBP"}}
    assert [r["id"] for r in store.list(SYSTEM, "deal", ListQuery(filter=in_gbp)).data] == [ids[0]]
    other = {"field": "amount", "op": "ne", "value": 50000}
    assert sorted(r["id"] for r in store.list(SYSTEM, "deal", ListQuery(filter=other)).data) == [ids[0], ids[2], ids[3]]
    with pytest.raises(ValidationError):
        store.list(SYSTEM, "deal", ListQuery(filter={"field": "amount", "op": "between", "value": [
            {"amount": 1, "currency": "EUR"}, {"amount": 2, "currency": "GBP"}]}))
    # a rule view "amount < 100000" lets sam see the 50,000 EUR deal, not the 99,600 GBP one
    rights.admin.set_object_rights(db, SYSTEM, "Sales", "deal", ["read"])
    rights.admin.set_access_mode(db, SYSTEM, "deal", "own_and_shared")
    rights.save_rule_view(db, SYSTEM, "Sales", "deal", "Small", below)
    sam = actor_for(users.find_user(db, "sam"), db)
    assert [r["id"] for r in store.list(sam, "deal").data] == [ids[1]]


def test_a_board_column_converts_its_currencies_at_the_rates_it_names(app, db):
    from cardbase.schema_engine import currencies
    from api_testlib import signed_in
    _deals(db, {"stage": "lead", "amount": "100"}, {"stage": "lead", "amount": {"amount": "50", "currency": "GBP"}})
    client = signed_in(app, "root")
    assert "100.00 EUR + 50.00 GBP" in client.get("/o/deal/board").get_data(as_text=True)
    currencies.replace(db, SYSTEM, "EUR", [{"currency": "GBP", "rate": "1.17", "valid_from": "2020-01-01"}])
    body = client.get("/o/deal/board").get_data(as_text=True)
    assert "100.00 EUR + 50.00 GBP = 158.50 EUR at 1 GBP = 1.17 EUR" in body


def test_the_api_aggregate_converts_per_currency_sums_at_named_rates(app, db):
    from cardbase.schema_engine import currencies
    _deals(db, {"stage": "lead", "amount": "100"}, {"stage": "lead", "amount": {"amount": "50", "currency": "GBP"}},
           {"stage": "won", "amount": {"amount": "10", "currency": "USD"}})
    api = api_for(app, db, "root")
    body = api.get("/api/v1/records/deal/aggregate", query={"group_by": "stage", "sum": "amount"}).get_json()
    assert "converted" not in body  # no rates: per currency only
    currencies.replace(db, SYSTEM, "EUR", [{"currency": "GBP", "rate": "1.17", "valid_from": "2020-01-01"}])
    body = api.get("/api/v1/records/deal/aggregate", query={"group_by": "stage", "sum": "amount"}).get_json()
    assert len(body["data"]) == 3  # the per-currency rows stay as they were
    assert body["converted"] == [{"stage": "lead", "sum_amount": {"amount": "158.50", "currency": "EUR",
                                                                  "rates": {"GBP": "1.17"}}}]  # no USD rate: won stays


def test_the_card_shows_a_fixed_currency_and_offers_only_allowed_ones(app, db):
    from api_testlib import signed_in
    svc = SchemaService(db)
    svc.add_field(SYSTEM, "deal", {"name": "fee", "label": "Fee", "type": "money", "options": {"currency": "CHF"}})
    svc.update_field(SYSTEM, "deal", "amount", {"options": {"currency": "EUR", "currency_mode": "per_record",
                                                            "currencies": "EUR, GBP"}})
    html = signed_in(app, "root").get("/o/deal/new").get_data(as_text=True)
    assert '<span class="input-group-text cb-currency">CHF</span>' in html
    assert 'name="f-fee-currency" value="CHF"' in html
    assert '<select class="form-select cb-currency" name="f-fee-currency"' not in html
    amount_select = html[html.index('name="f-amount-currency"'):]
    amount_select = amount_select[:amount_select.index("</select>")]
    assert '<option value="GBP"' in amount_select and "USD" not in amount_select


def test_a_money_field_saved_before_currency_modes_keeps_a_currency_per_record(app, db):
    """Existing instances: a money field stored without currency_mode keeps its records'
    own currencies (figures per currency), and editing the field does not convert them away."""
    import sqlalchemy as sa
    from cardbase.schema_engine.meta_models import FieldRow
    field = db.schema().object("deal").field("amount")
    with db.write() as conn:
        conn.execute(sa.update(FieldRow).where(FieldRow.id == field.id).values(options={"currency": "EUR", "scale": 2}))
        conn.execute(sa.text("UPDATE cb_meta_state SET schema_version = schema_version + 1"))
    db.schema_cache.invalidate()
    store = RecordStore(db)
    _deals(db, {"amount": "10"}, {"amount": {"amount": "5", "currency": "GBP"}})
    rows = store.aggregate(SYSTEM, "deal", AggregateQuery(metrics=[{"op": "sum", "field": "amount"}]))
    assert sorted((r["amount:currency"], r["sum_amount"]) for r in rows) == [("EUR", Decimal("10.00")),
                                                                             ("GBP", Decimal("5.00"))]
    SchemaService(db).update_field(SYSTEM, "deal", "amount", {"label": "Value"})
    assert db.schema().object("deal").field("amount").options["currency_mode"] == "per_record"
    assert sorted(str(r["amount"]) for r in store.list(SYSTEM, "deal").data) == ["10.00 EUR", "5.00 GBP"]
