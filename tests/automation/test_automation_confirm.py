"""Issue 18, point 3: webhooks that confirm a change before it commits -- approve, refuse
with a message the user sees, set fields, and the timeout policy (refuse or allow)."""
from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa

from cardbase.automation import signing, webhooks
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import OutboxEvent


@pytest.fixture
def setup(webhook_crm):
    return webhook_crm


def confirming(store, who, receiver, **spec):
    with store.session(who, write=True) as tx:
        return webhooks.create(tx, {"name": "Credit check", "kind": "confirm", "object": "deal",
                                    "events": ["created", "updated"], "url": receiver.url, "timeout_ms": 500, **spec})


def deals(db, store, who):
    return [d["title"] for d in store.list(who, "deal").data]


def test_approved_change_commits_and_the_receiver_saw_it_signed(db, setup, receiver):
    store, root = setup
    hook = confirming(store, root, receiver)
    receiver.default = (200, {"allow": True})
    store.create(root, "deal", {"title": "Approved", "probability": 30})
    assert deals(db, store, root) == ["Approved"]
    [got] = receiver.received
    body = got.json()
    assert body["event"] == "record.created" and body["records"][0]["after"]["title"] == "Approved"
    assert signing.verify(hook["secret"], got.headers["X-Cardbase-Timestamp"], got.body,
                          got.headers["X-Cardbase-Signature"])


def test_refusal_rolls_the_change_back_and_shows_the_message(db, setup, receiver):
    store, root = setup
    confirming(store, root, receiver)
    receiver.plan = [(200, {"allow": True})]
    deal = store.create(root, "deal", {"title": "Small"})
    receiver.default = (200, {"allow": False, "message": "credit limit exceeded"})
    with pytest.raises(ValidationError) as refused:
        store.create(root, "deal", {"title": "Too big"})
    assert refused.value.errors["record"] == ["refused by 'Credit check': credit limit exceeded"]
    with pytest.raises(ValidationError):
        store.update(root, "deal", deal["id"], {"probability": 99}, version=deal["version"])
    assert deals(db, store, root) == ["Small"]
    assert store.get(root, "deal", deal["id"])["probability"] is None
    with db.read() as conn:  # nothing of the refused changes reached the outbox
        assert conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent.__table__)).scalar() == 1


def test_the_receiver_may_set_fields_the_owner_may_write(db, setup, receiver):
    store, root = setup
    confirming(store, root, receiver, events=["created"])
    receiver.default = (200, {"allow": True, "set": {"stage": "review"}})
    created = store.create(root, "deal", {"title": "Needs review"})
    assert store.get(root, "deal", created["id"])["stage"] == "review"
    assert len(receiver.received) == 1  # the webhook's own change is not sent to it again
    receiver.default = (200, {"allow": True, "set": {"stage": "nonsense"}})
    with pytest.raises(ValidationError) as bad:
        store.create(root, "deal", {"title": "Bad set"})
    assert "'Credit check' set fields that cannot be saved" in bad.value.errors["record"][0]
    assert deals(db, store, root) == ["Needs review"]


@pytest.mark.parametrize("policy, saved", [("refuse", False), ("allow", True)])
def test_no_answer_in_time_follows_the_webhooks_policy(db, setup, receiver, policy, saved):
    store, root = setup
    confirming(store, root, receiver, on_timeout=policy, timeout_ms=300)
    receiver.default = "hang"
    started = time.monotonic()
    if saved:
        store.create(root, "deal", {"title": "Allowed anyway"})
        assert deals(db, store, root) == ["Allowed anyway"]
    else:
        with pytest.raises(ValidationError) as refused:
            store.create(root, "deal", {"title": "Refused"})
        assert "could not be confirmed by 'Credit check' (no valid answer in time)" in refused.value.errors["record"][0]
        assert deals(db, store, root) == []
    assert time.monotonic() - started < 3


def test_an_answer_that_is_not_the_expected_json_follows_the_policy(db, setup, receiver):
    store, root = setup
    confirming(store, root, receiver)
    for answer in [(200, b"yes please"), (500, {"allow": True}), (200, {"allow": "yes"}), (200, json.dumps([1]).encode())]:
        receiver.default = answer
        with pytest.raises(ValidationError):
            store.create(root, "deal", {"title": "Unclear"})
    assert deals(db, store, root) == []


def test_field_changed_confirms_only_changes_of_that_field(db, setup, receiver):
    store, root = setup
    confirming(store, root, receiver, events=["field_changed"], field="stage")
    receiver.default = (200, {"allow": False, "message": "stage is locked"})
    deal = store.create(root, "deal", {"title": "Open"})
    deal = store.update(root, "deal", deal["id"], {"probability": 5}, version=deal["version"])
    with pytest.raises(ValidationError) as refused:
        store.update(root, "deal", deal["id"], {"stage": "won"}, version=deal["version"])
    assert "stage is locked" in refused.value.errors["record"][0]
    assert len(receiver.received) == 1
