"""Benchmark of the REST API over loopback (not a test: prints figures and ratios).

The demo CRM plus DEALS (default 100,000) deals, served by gunicorn with 2 workers
(`cardbase serve --workers 2`, the production command: gthread workers with keep-alive,
access log included); the load comes from separate client processes (forked from this
one), each one HTTP/1.1 connection kept open like any real client's (http.client), first
one sequential client, then 8 concurrent ones. The client processes' CPU is printed too
(so a saturated client would show), and the server's.

  * GET one deal                 GET /api/v1/records/deal/{random id}
  * list 50 with filter and sort GET /api/v1/records/deal?filter={stage = <s>}&sort=-expected_close&limit=50
                                 (and the same sorted by -amount, a money field)
  * create one                   POST /api/v1/records/deal
  * bulk insert                  POST /api/v1/records/deal/bulk, 500 rows a batch, BULK rows in all

The peer, measured in the same run (``--peer directus``, the default): Directus 12 on the
same machine and engine (bench/peers/directus.py installs it on first use into the
git-ignored bench/.peers), its collections ``organisation`` and ``deal`` holding the same
generated rows, loaded with SQL, with the same columns indexed; the same client processes
call GET /items/deal/{id}, GET /items/deal?filter[stage][_eq]=<s>&sort=-close_date&limit=50
(and sort=-amount), POST /items/deal with one row and with 500. The target is at least
twice each, sequentially. Directus runs as one Node process (its own `directus start`).

When Directus cannot run here (``--peer none``, or no npm registry), the issue's figures
stand in for it, with a notice: Directus 12 on SQLite on this kind of machine, one
sequential client, about 330 GET/s, 100 list/s, 155 creates/s and 1,100 bulk rows/s.

    .venv/bin/python bench/api.py                          # SQLite, 100k deals
    .venv/bin/python bench/api.py --engines sqlite,postgresql --seconds 10
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import resource
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Callable
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import engine_names, fresh_database  # noqa: E402  (also puts the repo on sys.path)
from peers import directus  # noqa: E402

from cardbase.platform import users  # noqa: E402
from cardbase.platform.cli import load_demo  # noqa: E402
from cardbase.platform.config import ensure_secret_key  # noqa: E402
from cardbase.platform.context import actor_for  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

# per second, one sequential client: the figures, used when the peer cannot run here
DIRECTUS = {"get": 330.0, "list": 100.0, "create": 155.0, "bulk": 1100.0}
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


def bearer(port: int, username: str, password: str) -> dict[str, str]:
    """The Authorization header of a token signed in at ``POST /api/v1/auth/token``."""
    status, body = request(port, "POST", "/api/v1/auth/token",
                           json.dumps({"username": username, "password": password}).encode(),
                           {"Content-Type": "application/json"})
    assert status == 200, body
    return {"Authorization": f"Bearer {json.loads(body)['token']}"}


def request(port: int, method: str, path: str, body: bytes | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One request on a connection of its own (setup and checks)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Client:
    """One client: a kept-alive HTTP/1.1 connection (http.client reconnects by itself
    if the server closes it), as a browser or an integration's HTTP library has."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def __call__(self, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            response = self.conn.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        pids += [int(p) for p in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        pass
    for p in pids:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


# ---- load ------------------------------------------------------------------------------------------
class Result:
    def __init__(self, name: str, clients: int):
        self.name, self.clients = name, clients
        self.latencies: list[float] = []
        self.errors = 0
        self.units = 0  # requests, or rows for bulk
        self.elapsed = 0.0
        self.client_cpu = 0.0  # seconds, all client processes
        self.server_cpu = 0.0  # seconds, the gunicorn master and workers

    @property
    def rate(self) -> float:
        return self.units / self.elapsed if self.elapsed else 0.0

    def line(self, unit: str) -> str:
        lat = sorted(self.latencies) or [0.0]
        pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000  # noqa: E731
        cpu = lambda s: f"{100 * s / self.elapsed:3.0f}%" if self.elapsed else "  -"  # noqa: E731
        return (f"  {self.name:<8} {self.clients} client{'s' if self.clients > 1 else ' '}  "
                f"{self.rate:9,.0f} {unit:<7}  latency p50 {pick(0.5):7.1f} ms  p95 {pick(0.95):7.1f} ms  "
                f"p99 {pick(0.99):7.1f} ms  ({len(lat):,} requests, {self.errors} errors; "
                f"CPU: server {cpu(self.server_cpu)}, clients {cpu(self.client_cpu)})")


Work = Callable[[Client, random.Random, int], tuple[bool, int]]


def _client_process(port: int, work: Work, seed: int, go, deadline, counter, batches: int | None, out) -> None:
    client, rnd = Client(port), random.Random(seed)
    latencies, units, errors = [], 0, 0
    go.wait()
    while True:
        if batches is not None:
            with counter.get_lock():
                i = counter.value
                counter.value += 1
            if i >= batches:
                break
        else:
            i = len(latencies)
            if time.monotonic() >= deadline.value:
                break
        started = time.perf_counter()
        try:
            ok, n = work(client, rnd, i)
        except (OSError, http.client.HTTPException, ValueError, KeyError):  # an error, not a lost client
            ok, n = False, 0
        latencies.append(time.perf_counter() - started)
        units += n if ok else 0
        errors += 0 if ok else 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.put((latencies, units, errors, usage.ru_utime + usage.ru_stime, time.monotonic()))


def run_load(name: str, clients: int, port: int, work: Work, *, server_pid: int, seconds: float | None = None,
             batches: int | None = None) -> Result:
    """``clients`` processes, each with its kept-alive connection, call ``work(client, rnd,
    i)`` (one request; returns (ok, units)) for ``seconds`` or until ``batches`` calls in all."""
    ctx = multiprocessing.get_context("fork")  # the work functions are closures
    go, out, counter = ctx.Event(), ctx.Queue(), ctx.Value("q", 0)
    deadline = ctx.Value("d", 0.0)
    procs = [ctx.Process(target=_client_process, args=(port, work, 1000 + c, go, deadline, counter, batches, out))
             for c in range(clients)]
    for p in procs:
        p.start()
    time.sleep(0.2)  # every client process is up and waiting
    result = Result(name, clients)
    server_before = cpu_seconds(server_pid)
    started = time.monotonic()
    deadline.value = started + (seconds or 0)
    go.set()
    ends = []
    for _ in procs:
        latencies, units, errors, cpu, ended = out.get()
        result.latencies += latencies
        result.units += units
        result.errors += errors
        result.client_cpu += cpu
        ends.append(ended)
    result.server_cpu = cpu_seconds(server_pid) - server_before
    for p in procs:
        p.join()
    result.elapsed = max(ends) - started
    return result


def peer_row(row: dict) -> dict:
    """One of our deal rows as the peer's deal item (amount and currency in two columns)."""
    return {"title": row["title"], "stage": row["stage"], "amount": row["amount"]["amount"],
            "currency": row["amount"]["currency"], "close_date": row["expected_close"],
            "probability": row["probability"], "organisation": row["organisation"]}


def measure_peer(url: str, args: argparse.Namespace, orgs: list[int]) -> tuple[dict[str, float], str]:
    """The same calls against Directus on the same engine, holding the same rows (same
    generator and seed; the fresh tables number them 1..n). (figures, what they are); ({}, why
    not) when Directus cannot run here."""
    figures: dict[str, float] = {}
    try:
        with directus.running(directus.sibling_database(url)) as peer:
            started = time.perf_counter()
            peer.load("organisation", ({"name": f"Organisation {n + 1}"} for n in range(len(orgs))))
            peer_orgs = list(range(1, len(orgs) + 1))
            rnd = random.Random(11)
            peer.load("deal", ({**item, "close_date": date.fromisoformat(item["close_date"])}
                               for item in (peer_row(deal_row(rnd, peer_orgs, n)) for n in range(args.deals))))
            print(f"  peer setup: Directus {directus.version()} on {directus.engine_label(peer.url)}, "
                  f"{len(orgs)} organisations + {args.deals:,} deals (SQL) in {time.perf_counter() - started:.1f}s")
            auth = {"Authorization": f"Bearer {peer.token}"}
            post = {**auth, "Content-Type": "application/json"}

            def get_one(client: Client, rnd: random.Random, _i: int) -> tuple[bool, int]:
                status, _ = client("GET", f"/items/deal/{rnd.randint(1, args.deals)}", headers=auth)
                return status == 200, 1

            def lister(sort: str) -> Work:
                urls = [f"/items/deal?limit=50&sort={sort}&filter[stage][_eq]={s}" for s in STAGES]

                def list_50(client: Client, _rnd: random.Random, i: int) -> tuple[bool, int]:
                    status, body = client("GET", urls[i % len(urls)], headers=auth)
                    return status == 200 and len(json.loads(body)["data"]) == 50, 1
                return list_50

            def create(client: Client, rnd: random.Random, i: int) -> tuple[bool, int]:
                row = peer_row(deal_row(rnd, peer_orgs, 10_000_000 + i))
                status, _ = client("POST", "/items/deal", json.dumps(row).encode(), post)
                return status == 200, 1

            def bulk(client: Client, rnd: random.Random, i: int) -> tuple[bool, int]:
                rows = [peer_row(deal_row(rnd, peer_orgs, 20_000_000 + i * BATCH + j)) for j in range(BATCH)]
                status, _ = client("POST", "/items/deal", json.dumps(rows).encode(), post)
                return status == 200, BATCH

            pid = peer.process.pid if peer.process else 0
            for name, work, key in (("GET", get_one, "get"), ("list 50", lister("-close_date"), "list"),
                                    ("list 50*", lister("-amount"), "list_amount"), ("create", create, "create")):
                run_load(name, 1, peer.port, work, server_pid=pid, seconds=1.0)  # warm up
                result = run_load(name, 1, peer.port, work, server_pid=pid, seconds=args.seconds)
                print("  peer" + result.line("req/s")[1:], flush=True)
                figures[key] = result.rate
            result = run_load("bulk", 1, peer.port, bulk, server_pid=pid, batches=max(1, args.bulk // BATCH))
            print("  peer" + result.line("rows/s")[1:], flush=True)
            figures["bulk"] = result.rate
            return figures, f"Directus {directus.version()} on {directus.engine_label(peer.url)}, this run"
    except directus.PeerUnavailable as problem:
        print(f"  NOTICE: Directus could not run here, the issue's figures stand in for it: {problem}")
        return {}, "the issue's Directus 12 figures on SQLite"


def bench_engine(engine: str, args: argparse.Namespace) -> dict[str, float]:
    figures: dict[str, float] = {}
    peer: dict[str, float] = {}
    peer_source = "the issue's Directus 12 figures on SQLite (--peer none)"
    with fresh_database(engine) as url:
        if url is None:
            return figures
        print(f"\n== {engine}")
        ids, orgs = prepare(url, args.deals)
        port = free_port()
        server = start_server(url, port)
        try:
            auth = bearer(port, "admin", PASSWORD)
            post = {**auth, "Content-Type": "application/json"}

            def get_one(client: Client, rnd: random.Random, _i: int) -> tuple[bool, int]:
                status, _ = client("GET", f"/api/v1/records/deal/{rnd.choice(ids)}", headers=auth)
                return status == 200, 1

            def lister(sort: str) -> Work:
                urls = [(f"/api/v1/records/deal?limit=50&sort={sort}&filter="
                         + quote(json.dumps({"field": "stage", "op": "eq", "value": s}))) for s in STAGES]

                def list_50(client: Client, _rnd: random.Random, i: int) -> tuple[bool, int]:
                    status, body = client("GET", urls[i % len(urls)], headers=auth)
                    return status == 200 and body.count(b'"code"') == 50, 1
                return list_50

            def create(client: Client, rnd: random.Random, i: int) -> tuple[bool, int]:
                row = deal_row(rnd, orgs, 10_000_000 + i)
                status, _ = client("POST", "/api/v1/records/deal", json.dumps(row).encode(), post)
                return status == 201, 1

            def bulk(client: Client, rnd: random.Random, i: int) -> tuple[bool, int]:
                rows = [deal_row(rnd, orgs, 20_000_000 + i * BATCH + j) for j in range(BATCH)]
                status, _ = client("POST", "/api/v1/records/deal/bulk", json.dumps({"records": rows}).encode(), post)
                return status == 200, BATCH

            for clients in (1, 8):
                for name, work, key in (("GET", get_one, "get"), ("list 50", lister("-expected_close"), "list"),
                                        ("list 50*", lister("-amount"), "list_amount"),
                                        ("create", create, "create")):
                    run_load(name, clients, port, work, server_pid=server.pid, seconds=1.0)  # warm up
                    result = run_load(name, clients, port, work, server_pid=server.pid, seconds=args.seconds)
                    print(result.line("req/s"), flush=True)
                    figures[f"{key}_{clients}"] = result.rate
                rows = args.bulk if clients == 1 else args.bulk_concurrent
                result = run_load("bulk", clients, port, bulk, server_pid=server.pid, batches=max(1, rows // BATCH))
                print(result.line("rows/s"), flush=True)
                figures[f"bulk_{clients}"] = result.rate
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if args.peer == "directus":
            peer, peer_source = measure_peer(url, args, orgs)
    if not figures:
        return figures
    print("  list 50: stage = <s>, sorted by -expected_close (a date); list 50*: the same sorted by -amount\n"
          "  (money); both columns are indexed")
    print(f"  vs {peer_source} (one sequential client; target {TARGET_RATIO:.0f}x):")
    references = peer or {**DIRECTUS, "list_amount": DIRECTUS["list"]}
    for key in ("get", "list", "list_amount", "create", "bulk"):
        mine, reference = figures.get(f"{key}_1", 0.0), references.get(key, 0.0) or float("nan")
        ratio = mine / reference
        verdict = "ok" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print(f"    {key:<11} {mine:9,.0f} /s  vs {reference:7,.0f} /s  = {ratio:5.1f}x  {verdict}"
              f"   (8 clients: {figures.get(f'{key}_8', 0.0):,.0f} /s)")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", "--rows", type=int, default=100_000, help="deals in the database before measuring")
    parser.add_argument("--bulk", type=int, default=100_000, help="rows bulk-inserted by one client")
    parser.add_argument("--bulk-concurrent", type=int, default=40_000, help="rows bulk-inserted by 8 clients")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each GET, list and create run")
    parser.add_argument("--engines", default="sqlite")
    parser.add_argument("--peer", choices=["directus", "none"], default="directus",
                        help="measure Directus 12 in the same run (installed on first use), or use the issue's figures")
    args, _others = parser.parse_known_args(argv)  # `make bench` passes one BENCH_ARGS to every script
    print(f"REST API benchmark: gunicorn, 2 workers, loopback; {args.deals:,} deals; "
          f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}")
    for engine in engine_names(args.engines):
        bench_engine(engine, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
