"""Issue 14, point 8: date inputs in the user's locale. A browser shows its own date
picker in the browser's locale (mm/dd/yyyy in an American browser), whatever the page's
language; a German user gets text inputs in the German form (TT.MM.JJJJ) instead, and the
card accepts German and ISO dates; a date that does not exist is refused naming the field."""
from __future__ import annotations

from datetime import date, datetime

import lxml.html
import pytest

from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.store.records import RecordStore

from test_platform_web_cards import client_for, form_of, html, site  # noqa: F401 (fixture)


def control(page: str, name: str):
    found = lxml.html.fromstring(page).xpath(f'//*[@name="f-{name}"]')
    assert found, name
    return found[0]


def test_an_english_user_keeps_the_browsers_pickers(site):  # noqa: F811
    app, db, ids = site
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"close": "2026-03-01", "met": "2026-03-01T13:45:00Z"},
                           version=1)
    page = html(client_for(app, "root").get(f"/o/deal/{ids['deal']}"))
    assert (control(page, "close").get("type"), control(page, "close").get("value")) == ("date", "2026-03-01")
    assert control(page, "met").get("type") == "datetime-local"


def test_a_german_user_reads_and_types_german_dates(site, monkeypatch):  # noqa: F811
    monkeypatch.delenv("CARDBASE_TIMEZONE", raising=False)
    app, db, ids = site
    users.update_user(db, SYSTEM, "root", language="de")
    RecordStore(db).update(SYSTEM, "deal", ids["deal"], {"close": "2026-03-01", "met": "2026-03-01T13:45:00Z"},
                           version=1)
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    close, met = control(page, "close"), control(page, "met")
    assert (close.get("type"), close.get("value"), close.get("placeholder")) == ("text", "01.03.2026", "TT.MM.JJJJ")
    assert (met.get("type"), met.get("value"), met.get("placeholder")) == ("text", "01.03.2026 13:45", "TT.MM.JJJJ hh:mm")
    assert '<input type="date"' not in page and '<input type="datetime-local"' not in page
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-close": "24.12.2026",
                                                             "f-met": "24.12.2026 14:30"})
    assert response.status_code == 302, html(response)[-2000:]
    stored = RecordStore(db).get(SYSTEM, "deal", ids["deal"])
    assert stored["close"] == date(2026, 12, 24) and stored["met"] == datetime(2026, 12, 24, 14, 30)
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-close": "2027-01-05"})  # ISO still works
    assert response.status_code == 302
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["close"] == date(2027, 1, 5)
    # a new card prefilled with an ISO day (the calendar's "+") shows it the German way
    assert control(html(client.get("/o/deal/new?close=2026-11-17")), "close").get("value") == "17.11.2026"


@pytest.mark.parametrize("typed, words", [("31.02.2026", ["31.02.2026", "gültiges Datum"]),
                                          ("12/24/2026", ["12/24/2026"])])
def test_a_date_that_does_not_exist_is_refused_naming_the_field(site, typed, words):  # noqa: F811
    app, db, ids = site
    users.update_user(db, SYSTEM, "root", language="de")
    client = client_for(app, "root")
    page = html(client.get(f"/o/deal/{ids['deal']}"))
    response = client.post(f"/o/deal/{ids['deal']}", data={**form_of(page), "f-close": typed})
    assert response.status_code == 422
    body = html(response)
    assert 'id="cb-f-close-error"' in body and f'value="{typed}"' in body  # kept, marked at the field
    error = lxml.html.fromstring(body).xpath('//*[@id="cb-f-close-error"]')[0].text_content()
    for word in words:
        assert word in error, error
    assert RecordStore(db).get(SYSTEM, "deal", ids["deal"])["close"] is None
