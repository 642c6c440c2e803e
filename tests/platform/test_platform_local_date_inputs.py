"""Date inputs outside cards -- a task's due and reminder times on the card, a report's and
a dashboard's date-range filters -- are written the user's way like the card's own date
controls (issue 14, point 8): the browser's picker in English, "24.12.2026 14:30" as text in
German (a browser draws its picker in its own locale, so a German screen would ask for
mm/dd/yyyy), and the German text reaches the engine as the ISO value it means."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from api_testlib import PASSWORD, api_for, crm_app, signed_in

from cardbase.platform.web.widgets.dates import iso_from_local, local_input
from cardbase.schema_engine.automation_models import Task


def test_local_input_is_the_native_picker_in_english_and_german_text_in_german():
    english = str(local_input("datetime", "due_at", "cb-task-due", "", "en", "form-control"))
    assert 'type="datetime-local"' in english and 'id="cb-task-due"' in english and 'name="due_at"' in english
    assert 'type="date"' in str(local_input("date", "d__from", "x", "2026-04-01", "en"))
    german = str(local_input("date", "d__from", "x", "2026-04-01", "de", "form-control form-control-sm"))
    assert 'type="text"' in german and 'placeholder="TT.MM.JJJJ"' in german and 'value="01.04.2026"' in german
    german_time = str(local_input("datetime", "due_at", "y", "2026-12-24T14:30", "de"))
    assert 'placeholder="TT.MM.JJJJ hh:mm"' in german_time and 'value="24.12.2026 14:30"' in german_time
    hostile = str(local_input("date", "d", "z", '"><script>alert(1)</script>', "de"))
    assert "<script>" not in hostile  # escaped like every value


@pytest.mark.parametrize("kind, typed, iso", [
    ("date", "1.4.2026", "2026-04-01"), ("date", "2026-04-01", "2026-04-01"),
    ("datetime", "24.12.2026 14:30", "2026-12-24T14:30"), ("datetime", "24.12.2026, 9:05", "2026-12-24T09:05"),
    ("datetime", "24.12.2026", "2026-12-24T00:00"), ("datetime", "2026-12-24T14:30", "2026-12-24T14:30"),
    ("date", "31.02.2026", "31.02.2026"),  # not a day: passed on for its receiver to refuse and name
    ("date", "", None), ("datetime", None, None)])
def test_iso_from_local(kind, typed, iso):
    assert iso_from_local(kind, typed) == iso


def _german(app, user):
    browser = signed_in(app, user, PASSWORD)
    browser.post("/account/language", data={"language": "de", "next": "/"})
    return browser


def test_a_german_card_asks_for_task_times_in_german_and_saves_them(db):
    app = crm_app(db)
    deal = api_for(app, db, "root").post("/api/v1/records/deal", {"title": "Zeiten"}).get_json()
    browser = _german(app, "root")
    html = browser.get(f"/o/deal/{deal['id']}").get_data(as_text=True)
    assert 'type="datetime-local"' not in html
    due = re.search(r'<input[^>]*id="cb-task-due"[^>]*>', html)
    assert due and 'placeholder="TT.MM.JJJJ hh:mm"' in due.group(0)
    posted = browser.post(f"/o/deal/{deal['id']}/tasks", data={
        "title": "Anrufen", "due_at": "24.12.2026 14:30", "remind_at": "24.12.2026 09:00"})
    assert posted.status_code == 302
    with db.read() as conn:
        row = conn.execute(sa.select(Task.__table__).where(Task.__table__.c.title == "Anrufen")).one()
    assert row.due_at is not None and (row.due_at.day, row.due_at.month, row.due_at.year) == (24, 12, 2026)
    assert row.due_at - row.remind_at == __import__("datetime").timedelta(hours=5, minutes=30)
    bad = browser.post(f"/o/deal/{deal['id']}/tasks", data={"title": "Falsch", "due_at": "31.02.2026 10:00"},
                       follow_redirects=True).get_data(as_text=True)
    assert "due_at" in bad or "Fällig" in bad  # refused, naming the field
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Task.__table__)
                            .where(Task.__table__.c.title == "Falsch")).scalar() == 0


def test_the_german_card_activity_names_changed_fields_in_german(db):
    """The card's activity feed names changed fields as the card does, in the reader's
    language -- not by the label the field had when the change was written."""
    from cardbase.schema_engine.actor import SYSTEM
    from cardbase.schema_engine.schema_service import SchemaService

    app = crm_app(db)
    SchemaService(db).set_translations(SYSTEM, "deal", {"de": {"label": "Bezeichnung"}}, "title")
    api = api_for(app, db, "root")
    deal = api.post("/api/v1/records/deal", {"title": "Vorher"}).get_json()
    assert api.patch(f"/api/v1/records/deal/{deal['id']}", {"title": "Nachher", "version": deal["version"]}).status_code == 200
    html = _german(app, "root").get(f"/o/deal/{deal['id']}").get_data(as_text=True)
    feed = html[html.index('id="cb-activity"'):]
    assert "hat geändert: Bezeichnung" in feed and ": Title" not in feed
    back = signed_in(app, "root", PASSWORD)
    back.post("/account/language", data={"language": "en", "next": "/"})  # the language is the user's
    english = back.get(f"/o/deal/{deal['id']}").get_data(as_text=True)
    assert "changed: Title" in english[english.index('id="cb-activity"'):]
