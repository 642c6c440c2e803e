"""Issue 18 polish, point 2: the engine's notifications are stored as a message and its
parameters and translated when read, so each reader's bell shows their own language (a
German user's page German, an English user's English), while the REST API and the stored
text stay English; a scenario's text (the power user's own) is shown as written."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from api_testlib import PASSWORD, api_for, crm_app, signed_in

from cardbase.automation import notifications, tasks
from cardbase.platform import users
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.automation_models import Notification


def _bell(client) -> str:
    page = client.get("/notifications")
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_task_and_its_reminder_ring_the_bell_in_the_readers_language(db):
    app = crm_app(db)
    root = api_for(app, db, "root")
    deal = root.post("/api/v1/records/deal", {"title": "Acme"}).get_json()
    for who in ("sam", "kim"):
        made = root.post("/api/v1/tasks", {"title": "Call Acme", "object": "deal", "record": deal["id"],
                                           "assignee": who, "due_at": "2026-12-24T09:00:00Z",
                                           "remind_at": "2026-12-23T09:00:00Z"})
        assert made.status_code == 201, made.get_json()
    with db.write() as conn:
        assert tasks.due_reminders(conn, datetime(2026, 12, 23, 10, 0)) == 2
    users.update_user(db, SYSTEM, users.find_user(db, "sam").id, language="de")

    german = _bell(signed_in(app, "sam", PASSWORD))
    assert "root hat Ihnen eine Aufgabe gegeben: Call Acme" in german
    assert "Erinnerung: Call Acme (fällig 2026-12-24 09:00 UTC)" in german
    assert "gave you a task" not in german and "Reminder:" not in german
    english = _bell(signed_in(app, "kim", PASSWORD))
    assert "root gave you a task: Call Acme" in english and "Reminder: Call Acme (due 2026-12-24 09:00 UTC)" in english

    api = api_for(app, db, "sam").get("/api/v1/notifications").get_json()["data"]  # the API's contract: English
    assert [n["text"] for n in api] == ["Reminder: Call Acme (due 2026-12-24 09:00 UTC)", "root gave you a task: Call Acme"]
    with db.read() as conn:
        stored = conn.execute(sa.select(Notification.message, Notification.params, Notification.text)
                              .where(Notification.kind == "task").order_by(Notification.id)).all()
    assert stored[0] == ("%(who)s gave you a task: %(title)s", {"who": "root", "title": "Call Acme"},
                         "root gave you a task: Call Acme")


def test_own_texts_and_notes_written_before_messages_were_kept_stay_as_written(db):
    app = crm_app(db)
    root_id = users.find_user(db, "root").id
    users.update_user(db, SYSTEM, root_id, language="de")
    with db.write() as conn:  # a scenario's "notify users" text, and a note written before messages were kept
        notifications.notify(conn, [root_id], "scenario", "New deal Acme (typed by the power user)")
        conn.execute(sa.insert(Notification.__table__).values(user_id=root_id, kind="task", text="old English note",
                                                              created_at=datetime(2026, 1, 1)))
    bell = _bell(signed_in(app, "root", PASSWORD))
    assert "New deal Acme (typed by the power user)" in bell and "old English note" in bell


def test_a_translation_that_cannot_be_filled_in_falls_back_to_the_stored_text():
    assert notifications.shown_text("%(who)s gave you a task: %(title)s", {"who": "x"}, "x gave you a task: y") == (
        "x gave you a task: y")
    assert notifications.shown_text(None, None, "as written") == "as written"


def test_the_run_log_reads_in_the_readers_language_and_the_api_keeps_english(db):
    from cardbase.automation.worker import Services, Worker
    from cardbase.schema_engine.store import RecordStore

    app = crm_app(db)
    root = api_for(app, db, "root")
    made = root.post("/api/v1/scenarios", {"name": "Qualify", "object": "deal", "trigger": {"type": "created"},
                                           "condition": {"field": "title", "op": "ne", "value": "Skip me"},
                                           "actions": [{"type": "set_fields", "values": {"quantity": 2}},
                                                       {"type": "notify", "users": ["root"], "text": "New {title}"}]})
    assert made.status_code == 201, made.get_json()
    sid = made.get_json()["id"]
    root.post("/api/v1/records/deal", {"title": "Acme"})
    root.post("/api/v1/records/deal", {"title": "Skip me"})
    Worker(Services(store=RecordStore(db))).run_once()
    runs = root.get(f"/api/v1/scenarios/{sid}/runs").get_json()["data"]
    assert [(r["status"], [(s["step"], s["result"]) for s in r["steps"]]) for r in runs] == [
        ("skipped", [("condition", "the record does not meet the conditions")]),
        ("ok", [("1. set_fields", "set quantity = 2"), ("2. notify", "notified 1 users")])]
    users.update_user(db, SYSTEM, users.find_user(db, "root").id, language="de")
    page = signed_in(app, "root", PASSWORD).get(f"/designer/objects/deal/scenarios/{sid}").get_data(as_text=True)
    for german in ("Bedingung: der Datensatz erfüllt die Bedingungen nicht", "übersprungen", "abgeschlossen",
                   "1. set_fields: gesetzt: quantity = 2", "2. notify: 1 Benutzer benachrichtigt"):
        assert german in page, german
    assert "does not meet" not in page
