"""Issue 18, point 1: ``cardbase worker`` -- at least once across a kill -9 mid-delivery,
``--once``, and several workers sharing the queue on PostgreSQL (FOR UPDATE SKIP LOCKED)."""
from __future__ import annotations

import os
from datetime import datetime
import signal
import subprocess
import sys
import time

import sqlalchemy as sa
from automation_testlib import actor, allow_loopback, crm, worker
from click.testing import CliRunner

from cardbase.automation import jobs, webhooks
from cardbase.platform.cli import main
from cardbase.schema_engine.automation_models import Job
from cardbase.schema_engine.db import Database


def _hook(store, root, receiver):
    with store.session(root, write=True) as tx:
        return webhooks.create(tx, {"name": "ERP", "object": "deal", "events": ["created"], "url": receiver.url})


def test_worker_killed_mid_delivery_loses_nothing_and_delivers_again(db, db_url, receiver):
    store = crm(db)
    allow_loopback(db)
    root = actor(db, "root")
    _hook(store, root, receiver)
    receiver.plan = ["hang"]  # the first delivery never gets its answer: the worker dies waiting
    store.create(root, "deal", {"title": "Survivor"})
    env = {**os.environ, "CARDBASE_DATABASE_URL": db_url}
    proc = subprocess.Popen([sys.executable, "-m", "cardbase.platform.cli", "worker", "--lease", "1", "--poll", "0.1"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        receiver.wait_for(1, timeout=30)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with db.read() as conn:
        [job] = conn.execute(sa.select(Job.__table__)).mappings().all()
    assert job["status"] == "running" and job["attempts"] == 1  # claimed, never finished
    time.sleep(1.2)  # the dead worker's lease runs out
    stats = worker(store).run_once()
    assert stats["jobs"] == 1
    assert len(receiver.received) == 2  # at least once: delivered again, nothing lost
    assert receiver.received[0].body == receiver.received[1].body
    assert receiver.received[0].headers["X-Cardbase-Delivery"] == receiver.received[1].headers["X-Cardbase-Delivery"]
    with db.read() as conn:
        [job] = conn.execute(sa.select(Job.__table__)).mappings().all()
    assert job["status"] == "done" and job["attempts"] == 2


def test_worker_once_from_the_command_line(db, db_url, receiver):
    store = crm(db)
    allow_loopback(db)
    root = actor(db, "root")
    _hook(store, root, receiver)
    store.create(root, "deal", {"title": "Via CLI"})
    result = CliRunner().invoke(main, ["--database-url", db_url, "worker", "--once"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "events 1, jobs 1" in result.output
    assert receiver.received[0].json()["after"]["title"] == "Via CLI"


def test_two_workers_never_claim_the_same_job_on_postgresql(pg_server, pg_template):
    url = pg_server.create_database("skip_locked", template=pg_template)
    db = Database(url)
    try:
        with db.write() as conn:
            for i in range(10):
                jobs.enqueue(conn, "noop", {"n": i})
        first = db.engine.connect()
        tx = first.begin()
        mine = jobs.claim(first, limit=6)  # held, not committed: the rows stay locked
        with db.write() as conn:
            theirs = jobs.claim(conn, limit=10)  # skips the locked rows instead of waiting
        tx.commit()
        first.close()
        assert len(mine) == 6 and len(theirs) == 4
        assert not set(jobs.ids_of(mine)) & set(jobs.ids_of(theirs))
    finally:
        db.dispose()
        pg_server.drop_database("skip_locked")


def test_an_event_no_dispatcher_can_handle_goes_to_the_dead_letter_and_holds_no_others(db):
    from automation_testlib import worker as make_worker

    from cardbase.schema_engine.meta_models import OutboxEvent

    store = crm(db)
    root = actor(db, "root")
    good = store.create(root, "deal", {"title": "Fine"})
    bad = store.create(root, "deal", {"title": "Poison"})

    def dispatcher(services, conn, events):  # what it writes rolls back with a failed batch
        for e in events:
            if e["record_id"] == bad["id"]:
                raise RuntimeError("cannot handle this one")
            jobs.enqueue(conn, "noop", {"record": e["record_id"]})
        return 0
    w = make_worker(store, dispatchers=[dispatcher], tickers=[])
    for _ in range(6):
        w.dispatch_events()
    with db.read() as conn:
        queued = [j["payload"] for j in conn.execute(sa.select(Job.__table__).where(Job.kind == "noop")).mappings()]
    assert queued == [{"record": good["id"]}]  # handled once, not held back by the bad one
    with db.read() as conn:
        rows = {r.record_id: r for r in conn.execute(sa.select(OutboxEvent.__table__))}
        [dead] = conn.execute(sa.select(Job.__table__).where(Job.status == "dead")).mappings().all()
    assert rows[bad["id"]].attempts == 5 and rows[bad["id"]].delivered_at is not None
    assert dead["kind"] == "outbox_event" and "cannot handle this one" in dead["last_error"]


def test_two_workers_share_the_outbox_on_postgresql(pg_server, pg_template):
    """Each takes its own events (SKIP LOCKED): neither waits for nor repeats the other's."""
    from cardbase.automation.worker import claim_events
    from cardbase.schema_engine.store.outbox import write as write_events

    url = pg_server.create_database("outbox_share", template=pg_template)
    db = Database(url)
    try:
        with db.write() as conn:
            write_events(conn, [{"topic": "record.created", "object_id": 1, "record_id": i,
                                 "created_at": datetime(2026, 12, 3)}
                                for i in range(10)])
        first = db.engine.connect()
        tx = first.begin()
        mine = claim_events(first, 4)
        with db.write() as conn:
            theirs = claim_events(conn, 10)
        tx.commit()
        first.close()
        assert len(mine) == 4 and len(theirs) == 6
        assert not {e["id"] for e in mine} & {e["id"] for e in theirs}
    finally:
        db.dispose()
        pg_server.drop_database("outbox_share")
