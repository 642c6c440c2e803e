"""Issue 18, point 4: scenarios -- triggers (created, updated, field changed to a value, a
date reached with a frozen clock, a schedule, an incoming webhook), conditions in the
filter language, actions (set fields with formulas, create a record, a task, notify,
e-mail, call a webhook), the run log, loop protection and the actor's rights."""
from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa
from automation_testlib import actor, crm, sales_group, worker

from cardbase.automation import clock, notifications, scenarios, tasks
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.automation_models import EmailMessage, Job
from cardbase.schema_engine.errors import Forbidden, ValidationError
from cardbase.schema_engine.rights.admin import set_field_right, set_object_rights


@pytest.fixture
def setup(db):
    store = crm(db)
    sales_group(db)
    return store, actor(db, "root"), actor(db, "sam")


def make(store, who, **spec):
    with store.session(who, write=True) as tx:
        return scenarios.create(tx, {"name": "Scenario", "object": "deal", **spec})


def run_log(store, who, sid):
    with store.session(who) as tx:
        return scenarios.runs(tx, sid)


def test_new_deal_gets_fields_a_task_a_notification_and_an_email(db, setup):
    store, root, sam = setup
    made = make(store, root, actor="sam", trigger={"type": "created"},
                condition={"field": "stage", "op": "eq", "value": "lead"},
                actions=[{"type": "set_fields", "values": {"probability": "=LEN([Title]) * 10"}},
                         {"type": "create_task", "title": "Call about {title}", "assignee": "sam", "due_in_days": 3},
                         {"type": "notify", "users": ["root"], "text": "New lead {title}"},
                         {"type": "send_email", "to": "boss@example.com", "subject": "Lead {title}",
                          "body": "Probability {probability}"}])
    deal = store.create(sam, "deal", {"title": "Acme"})
    store.create(sam, "deal", {"title": "Won already", "stage": "won"})  # fails the condition
    worker(store).run_once()
    assert store.get(sam, "deal", deal["id"])["probability"] == 40
    [ok, skipped] = sorted(run_log(store, root, made["id"]), key=lambda r: r["status"])
    assert ok["status"] == "ok" and [s["ok"] for s in ok["steps"]] == [True] * 4
    assert ok["steps"][0]["result"] == "set probability = 40"
    assert skipped["status"] == "skipped" and skipped["steps"][0]["step"] == "condition"
    with store.session(sam, write=True) as tx:
        [task] = tasks.for_record(tx, "deal", deal["id"])
        assert task["title"] == "Call about Acme" and task["assignee"] == sam.user_id
        assert notifications.list_for(tx.conn, root.user_id)[0]["text"] == "New lead Acme"
        mail = tx.conn.execute(sa.select(EmailMessage.__table__)).mappings().one()
    assert (mail["to_address"], mail["subject"], mail["body"], mail["record_id"]) == (
        "boss@example.com", "Lead Acme", "Probability 40", deal["id"])


def test_a_scenario_that_triggers_itself_is_stopped(db, setup):
    store, root, sam = setup
    made = make(store, root, trigger={"type": "updated"},
                actions=[{"type": "set_fields", "values": {"probability": "=[Probability] + 1"}}])
    deal = store.create(root, "deal", {"title": "Loop", "probability": 0})
    store.update(root, "deal", deal["id"], {"stage": "review"}, version=deal["version"])
    worker(store).run_once()
    log = run_log(store, root, made["id"])
    assert [r["status"] for r in reversed(log)] == ["ok"] * scenarios.LOOP_LIMIT + ["stopped"]
    assert store.get(root, "deal", deal["id"])["probability"] == scenarios.LOOP_LIMIT
    with db.read() as conn:
        assert notifications.list_for(conn, root.user_id)[0]["kind"] == "scenario_stopped"
        assert conn.execute(sa.select(sa.func.count()).select_from(Job.__table__)
                            .where(Job.status != "done")).scalar() == 0  # the chain ended


def test_a_step_writing_a_field_its_actor_may_not_write_is_refused(db, setup):
    store, root, sam = setup
    set_object_rights(db, SYSTEM, "Sales", "deal", ["read", "create", "edit", "configure"])  # a power user
    set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "read_only")
    with store.session(sam, write=True) as tx, pytest.raises(ValidationError) as refused:
        scenarios.create(tx, {"name": "Sneaky", "object": "deal", "trigger": {"type": "created"},
                              "actions": [{"type": "set_fields", "values": {"secret_note": "x"}}]})
    assert "may not write 'deal.secret_note'" in refused.value.errors["actions[0].values"][0]
    with store.session(sam, write=True) as tx, pytest.raises(ValidationError) as other:
        scenarios.create(tx, {"name": "As root", "object": "deal", "trigger": {"type": "created"}, "actor": "root",
                              "actions": [{"type": "set_fields", "values": {"probability": 1}}]})
    assert "only an administrator" in other.value.errors["actor"][0]


def test_rights_taken_away_after_saving_fail_the_run_and_keep_nothing(db, setup):
    store, root, sam = setup
    made = make(store, root, actor="sam", trigger={"type": "created"},
                actions=[{"type": "set_fields", "values": {"probability": 5}},
                         {"type": "set_fields", "values": {"secret_note": "written by the scenario"}}])
    set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "read_only")
    deal = store.create(root, "deal", {"title": "Guarded"})
    worker(store).run_once()
    [failed] = run_log(store, root, made["id"])
    assert failed["status"] == "failed"
    assert failed["steps"][0]["ok"] is True and failed["steps"][1]["ok"] is False
    assert "secret_note" in failed["steps"][1]["result"]
    after = store.get(root, "deal", deal["id"])
    assert after["probability"] is None and after["secret_note"] is None  # the whole run rolled back


def test_field_changed_to_a_value_creates_a_linked_record(db, setup):
    store, root, sam = setup
    made = make(store, root, trigger={"type": "field_changed", "field": "stage", "to": "won"},
                actions=[{"type": "create_record", "object": "organisation",
                          "values": {"name": "=CONCAT(\"Client of \", [Title])"}}])
    deal = store.create(root, "deal", {"title": "Orbit"})
    deal = store.update(root, "deal", deal["id"], {"stage": "review"}, version=deal["version"])
    store.update(root, "deal", deal["id"], {"stage": "won"}, version=deal["version"])
    worker(store).run_once()
    [run] = run_log(store, root, made["id"])
    assert run["status"] == "ok"
    assert [o["name"] for o in store.list(root, "organisation").data] == ["Client of Orbit"]


def test_a_date_trigger_fires_three_days_before_the_close_date_with_a_frozen_clock(db, setup, monkeypatch):
    store, root, sam = setup
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 15, 8, 0))
    made = make(store, root, trigger={"type": "date_reached", "field": "close_date", "days": -3},
                actions=[{"type": "notify", "users": ["sam"], "text": "{title} closes soon"}])
    store.create(root, "deal", {"title": "Soon", "close_date": "2026-12-20"})
    store.create(root, "deal", {"title": "Later", "close_date": "2027-01-20"})
    w = worker(store)
    for day in (16, 17, 17, 18):
        monkeypatch.setattr(clock, "now", lambda day=day: datetime(2026, 12, day, 8, 0))
        w.run_once()
    log = run_log(store, root, made["id"])
    assert [r["status"] for r in log] == ["ok"]  # once, on the 17th (three days before the 20th)
    with db.read() as conn:
        assert [n["text"] for n in notifications.list_for(conn, sam.user_id)] == ["Soon closes soon"]


def test_a_schedule_runs_when_its_time_passes(db, setup, monkeypatch):
    store, root, sam = setup
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 14, 7, 0))
    made = make(store, root, object=None, trigger={"type": "schedule", "cron": "0 8 * * *"},
                actions=[{"type": "notify", "users": ["sam"], "text": "Good morning"}])
    w = worker(store)
    w.run_once()
    assert run_log(store, root, made["id"]) == []
    monkeypatch.setattr(clock, "now", lambda: datetime(2026, 12, 14, 8, 1))
    w.run_once()
    w.run_once()
    assert [r["status"] for r in run_log(store, root, made["id"])] == ["ok"]


def test_an_incoming_webhook_starts_its_scenario(db, setup):
    store, root, sam = setup
    made = make(store, root, trigger={"type": "webhook"},
                actions=[{"type": "create_record", "object": "deal", "values": {"title": "From the website"}}])
    w = worker(store)
    scenarios.incoming(w.services, made["trigger"]["token"], {"hello": "world"})
    w.run_once()
    assert [d["title"] for d in store.list(root, "deal").data] == ["From the website"]
    with pytest.raises(Exception) as unknown:
        scenarios.incoming(w.services, "wrong-token", {})
    assert "no scenario" in str(unknown.value)


@pytest.mark.parametrize("change, field, problem", [
    ({"trigger": {"type": "whenever"}}, "trigger", "one of created"),
    ({"trigger": {"type": "schedule", "cron": "every day"}}, "trigger.cron", "is not a cron schedule"),
    ({"trigger": {"type": "date_reached", "field": "title"}}, "trigger.field", "not a date"),
    ({"actions": []}, "actions", "1 to 20 steps"),
    ({"actions": [{"type": "launch"}]}, "actions[0]", "one of set_fields"),
    ({"actions": [{"type": "send_email", "to": "a@example.com", "subject": "Hi {nickname}", "body": "x"}]},
     "actions[0].subject", "unknown placeholder {nickname}"),
    ({"actions": [{"type": "send_email", "to": "not an address", "subject": "Hi", "body": "x"}]},
     "actions[0].to", "is not an e-mail address"),
    ({"actions": [{"type": "set_fields", "values": {"probability": "=[Nope] + 1"}}]},
     "actions[0].values", "formula for 'probability' is refused"),
    ({"actions": [{"type": "call_webhook", "url": "gopher://example.com"}]}, "actions[0].url", "http or https"),
    ({"condition": {"field": "nothing", "op": "eq", "value": 1}}, "condition", "nothing"),
])
def test_bad_scenarios_are_refused_naming_the_setting(db, setup, change, field, problem):
    store, root, sam = setup
    spec = {"name": "Bad", "object": "deal", "trigger": {"type": "created"},
            "actions": [{"type": "notify", "users": ["sam"], "text": "hi"}], **change}
    with store.session(root, write=True) as tx, pytest.raises(ValidationError) as refused:
        scenarios.create(tx, spec)
    assert problem in refused.value.errors[field][0], refused.value.errors


def test_only_who_may_configure_the_object_manages_its_scenarios(db, setup):
    store, root, sam = setup
    with store.session(sam, write=True) as tx, pytest.raises(Forbidden):
        scenarios.create(tx, {"name": "Mine", "object": "deal", "trigger": {"type": "created"},
                              "actions": [{"type": "notify", "users": ["sam"], "text": "hi"}]})
