"""Issue 18, point 5: tasks on any record, reminders at a time (frozen clock), recurring
tasks (RRULE), "My tasks", and the bell's notifications."""
from __future__ import annotations

from datetime import datetime

import pytest
from automation_testlib import actor, crm, sales_group, worker

from cardbase.automation import clock, notifications, tasks
from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError


@pytest.fixture
def setup(db):
    store = crm(db)
    sales_group(db)
    root, sam, kim = actor(db, "root"), actor(db, "sam"), actor(db, "kim")
    deal = store.create(sam, "deal", {"title": "Follow up"})
    return store, root, sam, kim, deal


def freeze(monkeypatch, when: datetime) -> None:
    monkeypatch.setattr(clock, "now", lambda: when)


def test_a_task_on_a_record_shows_for_its_readers_and_in_my_tasks(db, setup):
    store, root, sam, kim, deal = setup
    with store.session(root, write=True) as tx:
        made = tasks.create(tx, {"title": "Call back", "object": "deal", "record": deal["id"], "assignee": "sam",
                                 "due_at": "2026-12-10T09:00:00Z"})
        tasks.create(tx, {"title": "Own errand", "due_at": "2026-12-09T09:00:00Z"})
    assert made["object"] == "deal" and made["record"] == deal["id"] and made["assignee"] == sam.user_id
    with store.session(sam, write=True) as tx:
        assert [t["title"] for t in tasks.for_record(tx, "deal", deal["id"])] == ["Call back"]
        assert [t["title"] for t in tasks.my_tasks(tx)] == ["Call back"]
        assert notifications.list_for(tx.conn, sam.user_id)[0]["text"] == "root gave you a task: Call back"
        with pytest.raises(NotFound):  # root's own errand is not sam's to see
            tasks.get(tx, made["id"] + 1)
    with store.session(kim, write=True) as tx:
        with pytest.raises(Forbidden):  # kim may not read deals, so not their tasks either
            tasks.for_record(tx, "deal", deal["id"])
        with pytest.raises(NotFound):
            tasks.get(tx, made["id"])
        with pytest.raises(Forbidden):
            tasks.create(tx, {"title": "Sneak", "object": "deal", "record": deal["id"]})


def test_a_reminder_fires_once_when_the_frozen_clock_reaches_it(db, setup, monkeypatch):
    store, root, sam, kim, deal = setup
    with store.session(sam, write=True) as tx:
        tasks.create(tx, {"title": "Send offer", "object": "deal", "record": deal["id"],
                          "due_at": "2026-12-10T10:00:00Z", "remind_at": "2026-12-10T09:30:00+00:00"})
    w = worker(store)
    freeze(monkeypatch, datetime(2026, 12, 10, 9, 29))
    w.run_once()
    with db.read() as conn:
        assert notifications.unread_count(conn, sam.user_id) == 0
    freeze(monkeypatch, datetime(2026, 12, 10, 9, 30))
    w.run_once()
    w.run_once()
    with db.read() as conn:
        [note] = notifications.list_for(conn, sam.user_id)
    assert note["kind"] == "reminder" and note["text"] == "Reminder: Send offer (due 2026-12-10 10:00 UTC)"


def test_completing_a_recurring_task_makes_the_next_one(db, setup, monkeypatch):
    store, root, sam, kim, deal = setup
    with store.session(sam, write=True) as tx:
        weekly = tasks.create(tx, {"title": "Weekly report", "due_at": "2026-12-07T09:00:00Z",
                                   "remind_at": "2026-12-07T08:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO"})
        done = tasks.complete(tx, weekly["id"])
        assert done["done"] is True
        assert done["next"]["due_at"] == "2026-12-14T09:00:00Z" and done["next"]["remind_at"] == "2026-12-14T08:00:00Z"
        assert [t["due_at"] for t in tasks.my_tasks(tx)] == ["2026-12-14T09:00:00Z"]
        with pytest.raises(ValidationError) as again:
            tasks.complete(tx, weekly["id"])
        assert "already done" in again.value.errors["done"][0]
    with store.session(kim, write=True) as tx, pytest.raises(NotFound):
        tasks.complete(tx, done["next"]["id"])


@pytest.mark.parametrize("spec, field, problem", [
    ({"title": ""}, "title", "is required"),
    ({"title": "x", "due_at": "next tuesday"}, "due_at", "is not a date and time"),
    ({"title": "x", "rrule": "FREQ=WEEKLY"}, "rrule", "needs a due date"),
    ({"title": "x", "due_at": "2026-12-07T09:00:00Z", "rrule": "FREQ=SOMETIMES"}, "rrule", "is not a valid RRULE"),
    ({"title": "x", "due_at": "2026-12-07T09:00:00Z", "rrule": "FREQ=SECONDLY"}, "rrule", "at most hourly"),
    ({"title": "x", "assignee": "ghost"}, "assignee", "no active user"),
    ({"title": "x", "object": "nothing", "record": 1}, "object", "there is no object"),
    ({"title": "x", "priority": "high"}, "priority", "is not a task field"),
])
def test_bad_task_input_names_the_field(db, setup, spec, field, problem):
    store, root, sam, kim, deal = setup
    with store.session(sam, write=True) as tx, pytest.raises(ValidationError) as bad:
        tasks.create(tx, spec)
    assert problem in bad.value.errors[field][0]
