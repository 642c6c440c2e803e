"""Issue 18, points 1 and 2: the worker delivers the outbox to notifying webhooks at least
once -- retries with backoff, dead letter, signature, delivery log, redelivery, pause, the
allow list and private addresses, slow, silent and flooding receivers, pruning."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from automation_testlib import actor, allow_loopback, crm, worker

from cardbase.automation import clock, jobs, notifications, signing, webhooks
from cardbase.schema_engine.automation_models import Job, Webhook
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import OutboxEvent


@pytest.fixture
def setup(webhook_crm):
    return webhook_crm


def make_hook(store, who, receiver, **spec):
    with store.session(who, write=True) as tx:
        return webhooks.create(tx, {"name": "ERP", "object": "deal", "events": ["created", "updated"],
                                    "url": receiver.url, **spec})


def later(monkeypatch, seconds: float) -> None:
    """Move the automation clock forward (backoff waits are then over)."""
    base = clock.now()
    monkeypatch.setattr(clock, "now", lambda: base + timedelta(seconds=seconds))


def job_rows(db):
    with db.read() as conn:
        return conn.execute(sa.select(Job.__table__).order_by(Job.id)).mappings().all()


def test_receiver_failing_then_succeeding_gets_the_event_again_after_backoff(db, setup, receiver, monkeypatch):
    store, root = setup
    hook = make_hook(store, root, receiver)
    receiver.plan = [(500, b"down"), (503, b"busy")]
    store.create(root, "deal", {"title": "Big deal"})
    w = worker(store)

    w.run_once()
    assert len(receiver.received) == 1
    [job] = job_rows(db)
    assert (job["status"], job["attempts"], job["last_error"]) == ("pending", 1, "the receiver answered 500")
    assert job["next_at"] - clock.now() > timedelta(seconds=1)  # waits 2 s before the second try

    w.run_once()  # not due yet: nothing sent
    assert len(receiver.received) == 1
    later(monkeypatch, 3)
    w.run_once()
    assert len(receiver.received) == 2
    [job] = job_rows(db)
    assert job["status"] == "pending" and job["next_at"] - clock.now() > timedelta(seconds=3)  # then 4 s
    later(monkeypatch, 10)
    w.run_once()
    [job] = job_rows(db)
    assert job["status"] == "done" and job["attempts"] == 3
    assert len(receiver.received) == 3
    bodies = {r.body for r in receiver.received}
    assert len(bodies) == 1  # the same event every time
    assert {r.headers["X-Cardbase-Delivery"] for r in receiver.received} == {str(receiver.received[0].json()["event_id"])}

    with store.session(root) as tx:
        log = webhooks.deliveries(tx, hook["id"])
    assert [(d["attempt"], d["status"], d["response_status"]) for d in reversed(log)] == [
        (1, "failed", 500), (2, "failed", 503), (3, "delivered", 200)]
    assert log[0]["response_excerpt"] == "ok" and log[-1]["response_excerpt"] == "down"
    assert all(d["duration_ms"] >= 0 for d in log)


def test_signature_over_timestamp_and_body_verifies_and_tampering_or_replay_fails(db, setup, receiver):
    store, root = setup
    hook = make_hook(store, root, receiver)
    store.create(root, "deal", {"title": "Signed", "probability": 40})
    worker(store).run_once()
    [got] = receiver.received
    ts, sig = got.headers["X-Cardbase-Timestamp"], got.headers["X-Cardbase-Signature"]
    assert sig.startswith("v1=")
    assert signing.verify(hook["secret"], ts, got.body, sig)
    assert not signing.verify(hook["secret"], ts, got.body.replace(b"Signed", b"Forged"), sig)
    assert not signing.verify("another-secret", ts, got.body, sig)
    assert not signing.verify(hook["secret"], ts, got.body, sig, now=int(ts) + signing.REPLAY_WINDOW + 1)
    body = got.json()
    assert body["event"] == "record.created" and body["object"] == "deal"
    assert body["after"]["title"] == "Signed" and body["after"]["probability"] == 40 and body["before"] is None


def test_update_sends_before_and_after_and_field_changed_filters(db, setup, receiver):
    store, root = setup
    make_hook(store, root, receiver, name="stage watcher", events=["field_changed"], field="stage")
    deal = store.create(root, "deal", {"title": "Deal"})
    deal = store.update(root, "deal", deal["id"], {"probability": 10}, version=deal["version"])  # not stage: no event
    store.update(root, "deal", deal["id"], {"stage": "won"}, version=deal["version"])
    worker(store).run_once()
    [got] = receiver.received
    body = got.json()
    assert body["event"] == "record.updated" and body["changed"] == ["stage"]
    assert body["before"]["stage"] == "lead" and body["after"]["stage"] == "won"
    assert body["before"]["probability"] == body["after"]["probability"] == 10


def test_job_goes_to_dead_letter_after_its_attempts(db, setup, receiver, monkeypatch):
    store, root = setup
    make_hook(store, root, receiver)
    receiver.default = (500, b"always down")
    store.create(root, "deal", {"title": "Never"})
    w = worker(store)
    for step in range(1, 12):
        later(monkeypatch, step * 4000)  # past any backoff
        w.run_once()
    [job] = job_rows(db)
    assert job["status"] == "dead" and job["attempts"] == job["max_attempts"] == 8
    assert len(receiver.received) == 8


def test_manual_redelivery_sends_the_same_body_again(db, setup, receiver):
    store, root = setup
    hook = make_hook(store, root, receiver)
    store.create(root, "deal", {"title": "Again"})
    w = worker(store)
    w.run_once()
    with store.session(root, write=True) as tx:
        [first] = webhooks.deliveries(tx, hook["id"])
        webhooks.redeliver(tx, hook["id"], first["id"])
        with pytest.raises(ValidationError) as refused:
            webhooks.redeliver(tx, hook["id"], 999999)
    assert "delivery" in refused.value.errors
    w.run_once()
    assert len(receiver.received) == 2 and receiver.received[0].body == receiver.received[1].body


def test_repeated_failures_pause_the_webhook_and_notify_its_owner(db, setup, receiver):
    store, root = setup
    hook = make_hook(store, root, receiver)
    receiver.default = (500, b"down")
    for i in range(webhooks.PAUSE_AFTER):
        store.create(root, "deal", {"title": f"Deal {i}"})
    w = worker(store)
    w.run_once()
    assert len(receiver.received) == webhooks.PAUSE_AFTER
    with store.session(root, write=True) as tx:
        [shown] = webhooks.list_all(tx)
        assert shown["paused"] and shown["failures"] == webhooks.PAUSE_AFTER
        notes = notifications.list_for(tx.conn, root.user_id)
        assert notes[0]["kind"] == "webhook_paused" and "ERP" in notes[0]["text"]
        assert notifications.unread_count(tx.conn, root.user_id) == 1
    store.create(root, "deal", {"title": "While paused"})
    w.run_once()
    assert len(receiver.received) == webhooks.PAUSE_AFTER  # nothing sent while paused
    with store.session(root, write=True) as tx:
        assert webhooks.update(tx, hook["id"], {"active": True})["paused"] is False


@pytest.mark.parametrize("url, problem", [
    ("ftp://example.com/hook", "must use http or https, not 'ftp'"),
    ("javascript:alert(1)", "must use http or https"),
    ("http:///nohost", "has no host"),
    ("http://user:pw@example.com/", "user name or password"),
])
def test_webhook_url_with_bad_scheme_or_form_is_refused(db, setup, url, problem):
    store, root = setup
    with store.session(root, write=True) as tx, pytest.raises(ValidationError) as refused:
        webhooks.create(tx, {"name": "x", "object": "deal", "events": ["created"], "url": url})
    assert problem in refused.value.errors["url"][0]


def test_private_loopback_and_cardbase_itself_are_refused_unless_allowed(db):
    store = crm(db)
    root = actor(db, "root")
    spec = {"name": "x", "object": "deal", "events": ["created"]}
    with store.session(root, write=True) as tx:
        for url in ("http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://[::1]/hook", "http://169.254.169.254/"):
            with pytest.raises(ValidationError) as refused:
                webhooks.create(tx, {**spec, "url": url})
            assert "private or loopback" in refused.value.errors["url"][0]
        with pytest.raises(ValidationError) as itself:
            webhooks.create(tx, {**spec, "url": "http://crm.example.com:8000/api/v1/records/deal"},
                            own=("http://crm.example.com:8000",))
        assert itself.value.errors["url"] == ["must not point at cardbase itself"]
    allow_loopback(db)
    with store.session(root, write=True) as tx:
        assert webhooks.create(tx, {**spec, "url": "http://127.0.0.1:9/hook"})["url"] == "http://127.0.0.1:9/hook"
        with pytest.raises(ValidationError) as listed:  # the allow list has entries now: others are refused
            webhooks.create(tx, {**spec, "url": "http://example.org/hook"})
        assert "not on the administrator's allow list" in listed.value.errors["url"][0]


def test_other_bad_settings_name_their_field(db, setup, receiver):
    store, root = setup
    base = {"name": "x", "object": "deal", "events": ["created"], "url": receiver.url}
    cases = [({"object": "nothing"}, "object"), ({"events": ["exploded"]}, "events"), ({"events": []}, "events"),
             ({"events": ["field_changed"]}, "field"), ({"kind": "shout"}, "kind"), ({"timeout_ms": 0}, "timeout_ms"),
             ({"colour": "red"}, "colour"), ({"name": ""}, "name")]
    with store.session(root, write=True) as tx:
        for change, field in cases:
            with pytest.raises(ValidationError) as refused:
                webhooks.create(tx, {**base, **change})
            assert field in refused.value.errors, (change, refused.value.errors)
    sam = actor(db, "sam")
    with store.session(sam, write=True) as tx, pytest.raises(Exception) as forbidden:
        webhooks.create(tx, base)
    assert "configure" in str(forbidden.value)


def test_receiver_that_never_answers_trickles_or_floods_costs_at_most_the_deadline(db, setup, receiver):
    store, root = setup
    make_hook(store, root, receiver)
    receiver.plan = ["hang", ("slow", 20), ("huge", 100 * 1024 * 1024)]
    for i in range(3):
        store.create(root, "deal", {"title": f"Deal {i}"})
    w = worker(store, timeout=1.0)
    w.run_once()
    with store.session(root) as tx:  # the three ran side by side: sort them by outcome
        log = sorted(webhooks.deliveries(tx, 1), key=lambda d: d["status"], reverse=True)
    assert [d["status"] for d in log] == ["failed", "failed", "delivered"]
    assert log[0]["error"] == "no complete answer within 1 s" and log[0]["duration_ms"] < 2500
    assert log[1]["error"] == "no complete answer within 1 s" and log[1]["duration_ms"] < 2500
    assert log[2]["response_status"] == 200 and "the rest was not read" in log[2]["error"]
    assert len(log[2]["response_excerpt"]) <= 1000 and log[2]["duration_ms"] < 2500


def test_delivered_events_and_finished_jobs_are_pruned_after_the_retention(db, setup, receiver, monkeypatch):
    store, root = setup
    make_hook(store, root, receiver)
    store.create(root, "deal", {"title": "Old"})
    w = worker(store)
    w.run_once()
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent.__table__)).scalar() == 1
    later(monkeypatch, jobs.RETENTION.total_seconds() + 60)
    stats = w.run_once()
    assert stats["pruned_events"] == 1 and stats["pruned_jobs"] == 1 and stats["pruned_deliveries"] == 1
    with db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent.__table__)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(Job.__table__)).scalar() == 0


def test_the_body_holds_only_what_the_owner_may_read(db, setup, receiver):
    """The owner loses the right to read deals: the event is not sent at all."""
    store, root = setup
    hook = make_hook(store, root, receiver)
    with db.write() as conn:  # the owner becomes a plain user with no rights on deals
        from cardbase.schema_engine.meta_models import User
        conn.execute(sa.update(Webhook.__table__).where(Webhook.id == hook["id"])
                     .values(owner_id=conn.execute(sa.select(User.id).where(User.username == "kim")).scalar()))
    store.create(root, "deal", {"title": "Hidden"})
    worker(store).run_once()
    assert receiver.received == []
    assert list(job_rows(db)) == []


def test_fields_hidden_from_the_owner_are_left_out_of_before_and_after(db, setup, receiver):
    from automation_testlib import sales_group

    from cardbase.schema_engine.actor import SYSTEM
    from cardbase.schema_engine.meta_models import User
    from cardbase.schema_engine.rights.admin import set_field_right

    store, root = setup
    sales_group(db)
    set_field_right(db, SYSTEM, "Sales", "deal", "secret_note", "hidden")
    hook = make_hook(store, root, receiver)
    with db.write() as conn:  # the webhook now belongs to sam, who may not see the secret note
        conn.execute(sa.update(Webhook.__table__).where(Webhook.id == hook["id"])
                     .values(owner_id=conn.execute(sa.select(User.id).where(User.username == "sam")).scalar()))
    deal = store.create(root, "deal", {"title": "Masked", "secret_note": "margin 40 %"})
    store.update(root, "deal", deal["id"], {"secret_note": "margin 45 %", "probability": 5}, version=deal["version"])
    worker(store).run_once()
    created, updated = (r.json() for r in sorted(receiver.received, key=lambda r: r.json()["event_id"]))
    assert "secret_note" not in created["after"] and created["after"]["title"] == "Masked"
    assert updated["changed"] == ["probability"]
    assert "secret_note" not in updated["before"] and "secret_note" not in updated["after"]
    assert b"margin" not in b"".join(r.body for r in receiver.received)
