"""Issue 14, point 9: child rows on a new parent's card before its first save. The new
deal's card offers its lines' sub-table with "Add" (a template row); saving creates the
deal and its lines together; a row that does not parse or that the store refuses saves
nothing at all and comes back marked, with everything typed kept."""
from __future__ import annotations

from decimal import Decimal

import lxml.html

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_cards import client_for, html, site  # noqa: F401 (fixture)

ROW = "p-line.deal-{n}-{field}"


def counts(db) -> tuple[int, int]:
    store = RecordStore(db)
    return len(store.list(SYSTEM, "deal").data), len(store.list(SYSTEM, "line").data)


def test_a_new_card_offers_rows_to_add(site):  # noqa: F811
    app, _db, _ids = site
    doc = lxml.html.fromstring(html(client_for(app, "sam").get("/o/deal/new")))
    add = doc.xpath('//button[contains(@class, "cb-pending-add")]')
    assert len(add) == 1 and add[0].get("aria-controls") == "cb-pending-line-deal"
    template = html(client_for(app, "sam").get("/o/deal/new"))
    assert 'name="p-line.deal-__n__-price"' in template and 'name="p-line.deal-__n__-deal"' not in template
    # a saved deal's card keeps the usual in-place editor instead
    assert "cb-pending-add" not in html(client_for(app, "sam").get(f"/o/deal/{_ids['deal']}"))


def test_saving_creates_the_record_and_its_rows_together(site):  # noqa: F811
    app, db, _ids = site
    before = counts(db)
    sam = client_for(app, "sam")
    response = sam.post("/o/deal/new", data={
        "f-title": "With lines", ROW.format(n=0, field="price"): "10", ROW.format(n=0, field="quantity"): "2",
        ROW.format(n=3, field="price"): "5", ROW.format(n=3, field="quantity"): "1",
        ROW.format(n=4, field="price"): "", ROW.format(n=4, field="quantity"): ""})  # added and left empty
    assert response.status_code == 302, html(response)[-3000:]
    shown = html(sam.get(response.headers["Location"]))
    assert "was created with 2 rows." in shown and "cb-undo" not in shown  # no Undo that would undo one row only
    store = RecordStore(db)
    deal = next(r for r in store.list(SYSTEM, "deal").data if r["title"] == "With lines")
    lines = [r for r in store.list(SYSTEM, "line").data if r["deal"] and r["deal"].id == deal["id"]]
    assert sorted(r["price"] for r in lines) == [Decimal("5.00"), Decimal("10.00")]
    assert counts(db) == (before[0] + 1, before[1] + 2)
    assert store.get(SYSTEM, "deal", deal["id"])["total"] == Decimal("25.00")  # the rollup saw them


def test_a_row_that_does_not_parse_saves_nothing_and_keeps_the_input(site):  # noqa: F811
    app, db, _ids = site
    before = counts(db)
    response = client_for(app, "sam").post("/o/deal/new", data={
        "f-title": "Broken", ROW.format(n=0, field="price"): "lots", ROW.format(n=0, field="quantity"): "2"})
    assert response.status_code == 422
    body = html(response)
    assert 'value="lots"' in body and 'value="Broken"' in body
    assert 'id="cb-pend-line-deal-0-price-error"' in body
    assert counts(db) == before


def test_a_row_the_store_refuses_saves_nothing_and_names_the_list(site):  # noqa: F811
    app, db, _ids = site
    before = counts(db)
    response = client_for(app, "sam").post("/o/deal/new", data={
        "f-title": "Half", ROW.format(n=0, field="price"): "10", ROW.format(n=1, field="quantity"): "3"})  # no price
    assert response.status_code == 422
    body = html(response)
    assert "Nothing was saved" in body and "Lines" in body
    assert 'id="cb-pend-line-deal-1-price-error"' in body and 'value="Half"' in body
    assert counts(db) == before  # not the deal, not the first line
