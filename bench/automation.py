"""Webhook delivery through the worker (not a test: prints figures and ratios), issue 18 point 10.

On a fresh SQLite database with one object and one notifying webhook to a local receiver:

* throughput: ``--events`` records are created (each one outbox event), then one worker
  delivers them all (fan-out to jobs, signature, HTTP POST, delivery log, job state);
  events delivered per second, against the baseline of the same signed POSTs sent by a
  plain loop to the same receiver in the same run (target >= 200 events/s);
* latency: with the worker running (polling every 0.1 s), records are created one at a time
  for ``--seconds``; end to end = the receiver's clock minus the record's commit time;
  p50 and p95 (target p50 <= 1 s).

    .venv/bin/python bench/automation.py
    .venv/bin/python bench/automation.py --events 5000 --seconds 10
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import load_note  # noqa: E402  (puts this checkout on sys.path)

import sqlalchemy as sa  # noqa: E402

from cardbase.automation import http_out, signing, webhooks  # noqa: E402
from cardbase.automation.worker import Services, Worker  # noqa: E402
from cardbase.schema_engine.accounts import users  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM, Actor  # noqa: E402
from cardbase.schema_engine.automation_models import AllowedHost  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402


class Receiver:
    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.count = 0
        receiver = self

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.times[self.headers.get("X-Cardbase-Delivery", "")] = time.time()
                receiver.count += 1
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait(self, n: int, timeout: float = 600) -> None:
        end = time.monotonic() + timeout
        while self.count < n and time.monotonic() < end:
            time.sleep(0.005)


def setup(db: Database, url: str) -> tuple[RecordStore, Actor]:
    db.create_system_tables()
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "probability", "label": "Probability", "type": "integer"}]})
    row = users.create_user(db, SYSTEM, "owner", "bench-password-1", is_admin=True)
    owner = Actor(user_id=row.id, username="owner", is_admin=True)
    with db.write() as conn:
        conn.execute(sa.insert(AllowedHost.__table__).values(pattern="127.0.0.1", allow_private=True))
    store = RecordStore(db)
    with store.session(owner, write=True) as tx:
        webhooks.create(tx, {"name": "bench", "object": "deal", "events": ["created"], "url": url})
    return store, owner


def baseline(url: str, n: int) -> float:
    """The same signed POSTs from a plain loop: what one sender can reach on this machine."""
    target = http_out.parse_target(url)
    body = b'{"event":"record.created","after":{"title":"Deal"}}'
    started = time.perf_counter()
    for i in range(n):
        http_out.post(target, body, signing.headers("s" * 64, body, event="record.created", delivery=f"b{i}"),
                      timeout=10)
    return n / (time.perf_counter() - started)


def throughput(store: RecordStore, owner: Actor, receiver: Receiver, n: int) -> float:
    for start in range(0, n, 500):
        store.bulk_create(owner, "deal", [{"title": f"Deal {i}"} for i in range(start, min(n, start + 500))])
    before = receiver.count
    started = time.perf_counter()
    Worker(Services(store=store)).run_once()
    receiver.wait(before + n)
    return n / (time.perf_counter() - started)


def latency(store: RecordStore, owner: Actor, receiver: Receiver, seconds: float) -> list[float]:
    worker = Worker(Services(store=store))
    thread = threading.Thread(target=worker.run_forever, kwargs={"poll": 0.1}, daemon=True)
    thread.start()
    created: list[int] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        created.append(store.create(owner, "deal", {"title": "Live"})["id"])
        time.sleep(0.02)
    receiver.wait(receiver.count + 0, timeout=0)
    time.sleep(2)
    worker.stopping.set()
    thread.join(10)
    from cardbase.schema_engine.meta_models import OutboxEvent
    out = OutboxEvent.__table__
    with store.db.read() as conn:
        rows = conn.execute(sa.select(out.c.id, out.c.created_at).where(out.c.record_id.in_(created))).all()
    delays = []
    for event_id, at in rows:
        got = receiver.times.get(str(event_id))
        if got is not None:
            delays.append(got - at.replace(tzinfo=timezone.utc).timestamp())
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args, _unknown = parser.parse_known_args()  # make bench passes every script the same BENCH_ARGS
    print(f"# webhook delivery through the worker, SQLite — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(load_note())
    receiver = Receiver()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        try:
            store, owner = setup(db, receiver.url)
            base = baseline(receiver.url, min(args.events, 1000))
            rate = throughput(store, owner, receiver, args.events)
            delays = latency(store, owner, receiver, args.seconds)
        finally:
            db.dispose()
    print(f"baseline: signed POSTs from a plain loop      {base:8.0f} /s")
    print(f"worker:   events delivered ({args.events:,})          {rate:8.0f} /s   "
          f"ratio to baseline {rate / base:.2f}   (target >= 200 /s: {'met' if rate >= 200 else 'NOT met'})")
    if delays:
        p50 = statistics.median(delays)
        p95 = sorted(delays)[int(len(delays) * 0.95) - 1]
        print(f"latency:  end to end, {len(delays)} records created live    p50 {p50 * 1000:6.0f} ms   "
              f"p95 {p95 * 1000:6.0f} ms   (target p50 <= 1 s: {'met' if p50 <= 1 else 'NOT met'})")
    else:
        print("latency:  no deliveries measured")


if __name__ == "__main__":
    main()
