"""Benchmark of the REST API over loopback (not a test: prints figures and ratios).

The demo CRM plus DEALS (default 100,000) deals, served by gunicorn with 2 workers
(`cardbase serve --workers 2`, the production command, access log included); the load
comes from this process (http.client, a new connection per request as gunicorn's sync
workers close them), first one sequential client, then 8 concurrent ones (threads):

  * GET one deal                 GET /api/v1/records/deal/{random id}
  * list 50 with filter and sort GET /api/v1/records/deal?filter={stage = <s>}&sort=-expected_close&limit=50
                                 (and the same sorted by -amount, a money field: not indexed)
  * create one                   POST /api/v1/records/deal
  * bulk insert                  POST /api/v1/records/deal/bulk, 500 rows a batch, BULK rows in all

Reference (the issue): Directus 12 serving the same workload through its REST API on
SQLite on this kind of machine, one sequential client: about 330 GET/s, 100 list/s,
155 creates/s and 1,100 bulk rows/s. The target is at least twice each, sequentially.

    .venv/bin/python bench/api.py                          # SQLite, 100k deals
    .venv/bin/python bench/api.py --engines sqlite,postgresql --seconds 10
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import engine_names, fresh_database  # noqa: E402  (also puts the repo on sys.path)

from cardbase.platform import users  # noqa: E402
from cardbase.platform.cli import load_demo  # noqa: E402
from cardbase.platform.config import ensure_secret_key  # noqa: E402
from cardbase.platform.context import actor_for  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

DIRECTUS = {"get": 330.0, "list": 100.0, "create": 155.0, "bulk": 1100.0}  # per second, one sequential client
TARGET_RATIO = 2.0
PASSWORD = "bench-password-1"
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
CURRENCIES = ["EUR", "EUR", "EUR", "GBP", "USD"]
BATCH = 500


# ---- data -----------------------------------------------------------------------------------------
def deal_row(rnd: random.Random, orgs: list[int], n: int) -> dict:
    return {"title": f"Bench deal {n} {rnd.choice(['alpha', 'beta', 'gamma', 'delta'])}",
            "stage": rnd.choice(STAGES),
            "amount": {"amount": f"{rnd.randint(100, 10_000_000) / 100:.2f}", "currency": rnd.choice(CURRENCIES)},
            "expected_close": (date(2026, 1, 1) + timedelta(days=rnd.randint(0, 700))).isoformat(),
            "probability": rnd.randint(0, 100), "organisation": rnd.choice(orgs)}


def prepare(url: str, deals: int) -> tuple[list[int], list[int]]:
    """The demo CRM plus ``deals`` deals (through the record store). Returns (deal ids, org ids)."""
    db = Database(url)
    try:
        db.create_system_tables()
        ensure_secret_key(db)
        admin = users.create_user(db, "admin", PASSWORD, is_admin=True)
        load_demo(db, 300)
        store, actor = RecordStore(db), actor_for(admin, db)
        page = store.list(actor, "organisation", _query(limit=500))
        orgs = [r["id"] for r in page.data]
        rnd = random.Random(11)
        started = time.perf_counter()
        existing = store.count(actor, "deal")[0]
        for start in range(0, max(0, deals - existing), 1000):
            store.bulk_create(actor, "deal", [deal_row(rnd, orgs, start + i)
                                              for i in range(min(1000, deals - existing - start))])
        db.optimize()
        print(f"  setup: demo CRM + {deals:,} deals in {time.perf_counter() - started:.1f}s")
        with db.read() as conn:
            table = db.schema(conn).table("deal")
            ids = [r[0] for r in conn.execute(table.select().with_only_columns(table.c.id))]
        return ids, orgs
    finally:
        db.dispose()


def _query(**kw):
    from cardbase.schema_engine.query.model import ListQuery

    return ListQuery(**kw)


# ---- the server -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int) -> subprocess.Popen:
    cli = Path(sys.executable).with_name("cardbase")
    command = [str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else ["-m", "cardbase.platform.cli"]),
               "--database-url", url, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "CARDBASE_DATABASE_URL": url})
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if request(port, "GET", "/health")[0] == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"the server stopped: {command}")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not answer /health within 60 s")


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


# ---- load ------------------------------------------------------------------------------------------
class Result:
    def __init__(self, name: str, clients: int):
        self.name, self.clients = name, clients
        self.latencies: list[float] = []
        self.errors = 0
        self.units = 0  # requests, or rows for bulk
        self.elapsed = 0.0
        self.lock = threading.Lock()

    def add(self, seconds: float, ok: bool, units: int) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.units += units if ok else 0
            self.errors += 0 if ok else 1

    @property
    def rate(self) -> float:
        return self.units / self.elapsed if self.elapsed else 0.0

    def line(self, unit: str) -> str:
        lat = sorted(self.latencies) or [0.0]
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        return (f"  {self.name:<8} {self.clients} client{'s' if self.clients > 1 else ' '}  "
                f"{self.rate:9,.0f} {unit:<7}  latency p50 {pick(0.5):7.1f} ms  p95 {pick(0.95):7.1f} ms  "
                f"p99 {pick(0.99):7.1f} ms  ({len(lat):,} requests, {self.errors} errors)")


def run_load(name: str, clients: int, work: Callable[[int], tuple[bool, int]], *, seconds: float | None = None,
             batches: int | None = None) -> Result:
    """``work(i)`` does one request and returns (ok, units). Runs for ``seconds`` or ``batches`` calls."""
    result = Result(name, clients)
    counter = iter(range(10**9))
    counter_lock = threading.Lock()
    deadline = time.perf_counter() + (seconds or 0)

    def worker() -> None:
        while True:
            with counter_lock:
                i = next(counter)
            if batches is not None and i >= batches:
                return
            if seconds is not None and time.perf_counter() >= deadline:
                return
            started = time.perf_counter()
            try:
                ok, units = work(i)
            except OSError:
                ok, units = False, 0
            result.add(time.perf_counter() - started, ok, units)

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.elapsed = time.perf_counter() - started
    return result


def bench_engine(engine: str, args: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    with fresh_database(engine) as url:
        if url is None:
            return figures
        print(f"\n== {engine}")
        ids, orgs = prepare(url, args.deals)
        port = free_port()
        server = start_server(url, port)
        try:
            status, body = request(port, "POST", "/api/v1/auth/token",
                                   json.dumps({"username": "admin", "password": PASSWORD}).encode(),
                                   {"Content-Type": "application/json"})
            assert status == 200, body
            auth = {"Authorization": f"Bearer {json.loads(body)['token']}"}
            post = {**auth, "Content-Type": "application/json"}
            rnd_lock = threading.Lock()
            rnd = random.Random(5)

            def pick(seq):
                with rnd_lock:
                    return rnd.choice(seq)

            def get_one(_i: int) -> tuple[bool, int]:
                status, _ = request(port, "GET", f"/api/v1/records/deal/{pick(ids)}", headers=auth)
                return status == 200, 1

            def lister(sort: str) -> Callable[[int], tuple[bool, int]]:
                urls = [(f"/api/v1/records/deal?limit=50&sort={sort}&filter="
                         + quote(json.dumps({"field": "stage", "op": "eq", "value": s}))) for s in STAGES]

                def list_50(i: int) -> tuple[bool, int]:
                    status, body = request(port, "GET", urls[i % len(urls)], headers=auth)
                    return status == 200 and body.count(b'"code"') == 50, 1
                return list_50

            def create(i: int) -> tuple[bool, int]:
                with rnd_lock:
                    row = deal_row(rnd, orgs, 10_000_000 + i)
                status, _ = request(port, "POST", "/api/v1/records/deal", json.dumps(row).encode(), post)
                return status == 201, 1

            def bulk(i: int) -> tuple[bool, int]:
                with rnd_lock:
                    rows = [deal_row(rnd, orgs, 20_000_000 + i * BATCH + j) for j in range(BATCH)]
                status, _ = request(port, "POST", "/api/v1/records/deal/bulk",
                                    json.dumps({"records": rows}).encode(), post)
                return status == 200, BATCH

            for clients in (1, 8):
                for name, work, key in (("GET", get_one, "get"), ("list 50", lister("-expected_close"), "list"),
                                        ("list 50*", lister("-amount"), "list_amount"),
                                        ("create", create, "create")):
                    run_load(name, clients, work, seconds=1.0)  # warm up (connections, caches)
                    result = run_load(name, clients, work, seconds=args.seconds)
                    print(result.line("req/s"))
                    figures[f"{key}_{clients}"] = result.rate
                rows = args.bulk if clients == 1 else args.bulk_concurrent
                result = run_load("bulk", clients, bulk, batches=max(1, rows // BATCH))
                print(result.line("rows/s"))
                figures[f"bulk_{clients}"] = result.rate
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    if not figures:
        return figures
    print("  list 50: stage = <s>, sorted by -expected_close (a date: indexed); list 50*: the same sorted by\n"
          "  -amount (money: the field types do not index numbers, so SQLite sorts every matching row)")
    print(f"  vs Directus 12 on SQLite (one sequential client; target {TARGET_RATIO:.0f}x):")
    for key, reference in [*DIRECTUS.items(), ("list_amount", DIRECTUS["list"])]:
        mine = figures.get(f"{key}_1", 0.0)
        ratio = mine / reference
        verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"    {key:<11} {mine:9,.0f} /s  vs {reference:7,.0f} /s  = {ratio:5.1f}x  {verdict}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", "--rows", type=int, default=100_000, help="deals in the database before measuring")
    parser.add_argument("--bulk", type=int, default=100_000, help="rows bulk-inserted by one client")
    parser.add_argument("--bulk-concurrent", type=int, default=40_000, help="rows bulk-inserted by 8 clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each GET, list and create run")
    parser.add_argument("--engines", default="sqlite")
    args, _others = parser.parse_known_args(argv)  # `make bench` passes one BENCH_ARGS to every script
    print(f"REST API benchmark: gunicorn, 2 workers, loopback; {args.deals:,} deals; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    for engine in engine_names(args.engines):
        bench_engine(engine, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
