"""Reports (issue 15, point 10; not a test: prints figures and ratios).

The stage x month pivot summing amounts (a money field: per currency) over N deals through
the report engine (definition -> one grouped query through the engine session, purpose
"report", folded into the pivot; the result cache off, so the query really runs) versus a
hand-written GROUP BY of the same figures in the same run, on each engine. Target: <= 1.2x.

Also, in-process through Flask (the whole request: routing, session, rights, JSON or the
rendered page): a six-widget dashboard page (p50; target <= 500 ms at 1M deals on SQLite)
and the REST result call of the pivot. Each is measured twice: warm (nothing changed since
the last request: the report result cache answers) and cold (a deal was written just before
each request, untimed, so every report of deals runs its grouped query again).

Then over loopback, the way bench/api.py measures: `cardbase serve` (gunicorn, 2 workers)
on the same database and one sequential client on a kept-alive HTTP/1.1 connection calling
GET /api/v1/reports/{id}/result (warm, and cold: a deal written by this process, untimed,
before each call), against Directus 12 on the same machine, engine and rows in the same run
(``--peer directus``, the default: installed on first use into the git-ignored bench/.peers
by bench/peers/directus.py) with the same client calling its aggregate for the same figures:

    GET /items/deal?aggregate[sum]=amount&groupBy[]=stage&groupBy[]=year(close_date)
        &groupBy[]=month(close_date)&groupBy[]=currency&limit=-1

Target: >= 2x the peer: cold against Directus as it ships (no cache), warm against Directus
with its data cache on (memory store, purged on writes). When Directus cannot be installed
or started (``--peer none``, or no npm registry), the issue's figure stands in for it (9 req/s
on 100k deals), with a notice.

    .venv/bin/python bench/reports.py                      # 100k deals, SQLite and PostgreSQL
    .venv/bin/python bench/reports.py --rows 1000000 --engines sqlite --peer none
"""
from __future__ import annotations

import datetime as dt
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import bench_parser, each_engine, finish, timed  # noqa: E402  (puts this checkout on sys.path)

from api import Client, bearer, free_port, start_server  # noqa: E402
from peers import directus  # noqa: E402

import sqlalchemy as sa  # noqa: E402

from cardbase.platform.config import ensure_secret_key  # noqa: E402
from cardbase.report_builder.definition import parse_definition  # noqa: E402
from cardbase.report_builder.runner import run_report  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.exact_sums import numeric_aggregate  # noqa: E402
from cardbase.schema_engine.query.buckets import bucket_expression  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

BATCH = 5000
DIRECTUS_AGGREGATE = 9.0  # req/s, the issue's figure for the same workload (100k deals), when the peer cannot run
PEER_AGGREGATE = ("/items/deal?aggregate[sum]=amount&groupBy[]=stage&groupBy[]=year(close_date)"
                  "&groupBy[]=month(close_date)&groupBy[]=currency&limit=-1")
PASSWORD = "quiet-harbour-93"
STAGES = ["lead", "qualified", "proposal", "negotiation", "won", "lost"]
PIVOT = {"object": "deal", "rows": [{"field": "stage"}], "columns": [{"field": "close_date", "bucket": "month"}],
         "measures": [{"op": "sum", "field": "amount"}]}


def setup(db: Database, rows: int) -> RecordStore:
    db.create_system_tables()
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "amount", "label": "Amount", "type": "money", "options": {"currency": "EUR"}},
        {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": STAGES}},
        {"name": "close_date", "label": "Close date", "type": "date"}]})
    schema = db.schema()
    obj = schema.object("deal")
    table = schema.table(obj)
    cols = {f.api_name: f.column_names for f in obj.user_fields}
    now = dt.datetime(2026, 1, 1)
    with db.write() as conn:  # raw rows: the bench measures reading, not the insert path
        for first in range(0, rows, BATCH):
            conn.execute(sa.insert(table), [{
                "code": f"D-{i}", "version": 1, "created_at": now, "modified_at": now, cols["title"][0]: d["title"],
                cols["amount"][0]: d["amount"], cols["amount"][1]: d["currency"],
                cols["stage"][0]: d["stage"], cols["close_date"][0]: d["close_date"]}
                for i, d in ((i, deal(i)) for i in range(first, min(rows, first + BATCH)))])
    db.optimize()  # planner statistics after the bulk load, as the peer's loader does (ANALYZE)
    return RecordStore(db)


def deal(i: int) -> dict:
    """Deal number ``i`` of the workload (ours and the peer's get the same rows)."""
    return {"title": f"Deal {i}", "amount": (i * 37) % 100_000 / 100, "currency": "EUR", "stage": STAGES[i % 6],
            "close_date": dt.date(2026, 1, 1) + dt.timedelta(days=i % 365)}


def hand_written(db: Database, exact: bool = False) -> list:
    """The same figures by hand: SUM per stage, month and currency (``exact``: with the
    exact decimal sum the engine uses on SQLite, where plain SUM adds floats)."""
    schema = db.schema()
    obj = schema.object("deal")
    table = schema.table(obj)
    f = obj.fields_by_name
    stage = table.c[f["stage"].column_names[0]]
    month = bucket_expression(schema.dialect, table.c[f["close_date"].column_names[0]], "month")
    amount, currency = (table.c[c] for c in f["amount"].column_names)
    total = numeric_aggregate(schema.dialect, "sum", amount) if exact else sa.func.sum(amount)
    stmt = (sa.select(stage, month, currency, total).where(table.c.deleted_at.is_(None))
            .group_by(stage, month, currency).order_by(stage, month))
    with db.read() as conn:
        return conn.execute(stmt).all()


def through_engine(store: RecordStore) -> int:
    definition = parse_definition(PIVOT)
    with store.session(SYSTEM) as s:
        result = run_report(s, definition, cache=False)
    return len(result.cells)


def touch_a_deal(db: Database) -> None:
    """One committed write to the deals (what invalidates their cached reports)."""
    table = db.schema().table(db.schema().object("deal"))
    with db.write() as conn:
        conn.execute(sa.update(table).where(table.c.id == 1).values(version=table.c.version + 1))


def timed_after(write: Callable[[], Any], fn: Callable[[], Any], runs: int) -> float:
    """p50 wall-clock ms of ``fn`` right after an untimed ``write``."""
    wall = []
    for _ in range(runs):
        write()
        t0 = time.perf_counter()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
    return statistics.median(wall)


def web_figures(db: Database, runs: int) -> dict[str, float]:
    """Dashboard page and REST result p50 ms, warm and cold, through the Flask app in this
    process (and the pivot report's id)."""
    from cardbase.platform import users
    from cardbase.platform.api import tokens
    from cardbase.platform.app import create_app
    from cardbase.platform.context import actor_for
    from cardbase.report_builder import dashboards, library

    users.create_user(db, "bench", PASSWORD, is_admin=True)
    admin = users.find_user(db, "bench")
    store = RecordStore(db)
    with store.session(actor_for(admin, db), write=True) as s:
        ids = [library.save_report(s, {"name": name, "definition": {"object": "deal", **definition}})["id"]
               for name, definition in [
                   ("pivot", {k: v for k, v in PIVOT.items() if k != "object"}),
                   ("by stage", {"rows": [{"field": "stage"}], "chart": {"type": "funnel"}}),
                   ("by month", {"rows": [{"field": "close_date", "bucket": "month"}], "chart": {"type": "line"}}),
                   ("amount by stage", {"rows": [{"field": "stage"}], "measures": [{"op": "sum", "field": "amount"}],
                                        "chart": {"type": "bar"}}),
                   ("total", {"measures": [{"op": "sum", "field": "amount"}]}),
                   ("quarters", {"rows": [{"field": "close_date", "bucket": "quarter"}], "chart": {"type": "pie"}})]]
        kinds = ["pivot", "chart", "chart", "chart", "kpi", "chart"]
        board = dashboards.save_dashboard(s, {"name": "bench", "layout": {"widgets": [
            {"kind": kind, "report": rid} for kind, rid in zip(kinds, ids)]}})
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, db=db)
    browser = app.test_client()
    assert browser.post("/login", data={"username": "bench", "password": PASSWORD}).status_code == 302
    page = f"/dashboards/{board['id']}"
    assert browser.get(page).status_code == 200
    token, _expires = tokens.issue_session_token(db, admin)
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    result = f"/api/v1/reports/{ids[0]}/result"
    assert api.get(result, headers=headers).status_code == 200
    page_warm, _p95, _cpu = timed(lambda: browser.get(page), runs)
    result_warm, _p95b, _cpub = timed(lambda: api.get(result, headers=headers), runs)
    page_cold = timed_after(lambda: touch_a_deal(db), lambda: browser.get(page), runs)
    result_cold = timed_after(lambda: touch_a_deal(db), lambda: api.get(result, headers=headers), runs)
    return {"dashboard_warm": page_warm, "dashboard_cold": page_cold, "result_warm": result_warm,
            "result_cold": result_cold, "report_id": ids[0]}


def sequential_rate(port: int, path: str, headers: dict[str, str], seconds: float,
                    answer_ok: Callable[[bytes], bool], before: Callable[[], Any] | None = None) -> float:
    """Requests per second of one client calling ``path`` back to back on one kept-alive
    connection for ``seconds`` (after a 1 s warm-up), counting only the time spent waiting
    for answers (``before``, when given, runs untimed ahead of each call); every answer is
    checked."""
    client = Client(port)
    for warm in (True, False):
        waited, calls = 0.0, 0
        started = time.perf_counter()
        while time.perf_counter() - started < (1.0 if warm else seconds):
            if before is not None:
                before()
            t0 = time.perf_counter()
            status, body = client("GET", path, headers=headers)
            waited += time.perf_counter() - t0
            calls += 1
            if status != 200 or not answer_ok(body):
                raise SystemExit(f"GET {path}: HTTP {status} {body[:300]!r}")
    return calls / waited


def expected_sums(rows: int) -> dict[tuple[str, int, int], float]:
    """Sum of amounts per (stage, year, month) of the workload, computed here."""
    sums: dict[tuple[str, int, int], float] = {}
    for i in range(rows):
        d = deal(i)
        key = (d["stage"], d["close_date"].year, d["close_date"].month)
        sums[key] = sums.get(key, 0.0) + d["amount"]
    return sums


def filled_cells(answer: dict) -> int:
    """Cells of a result answer with a figure in a currency (the engine's cell count)."""
    return sum(len(cell[0] or {}) for row in answer["cells"] for cell in row)


def ours_over_http(url: str, db: Database, report_id: int, cells: int, seconds: float) -> tuple[float, float]:
    """Requests per second of GET /api/v1/reports/{id}/result through `cardbase serve`:
    (warm, cold), cold with a deal written from here before each call."""
    port = free_port()
    server = start_server(url, port)
    try:
        auth = bearer(port, "bench", PASSWORD)
        path, ok = f"/api/v1/reports/{report_id}/result", lambda body: filled_cells(json.loads(body)) == cells
        return (sequential_rate(port, path, auth, seconds, ok),
                sequential_rate(port, path, auth, seconds, ok, before=lambda: touch_a_deal(db)))
    finally:
        server.terminate()
        server.wait(timeout=30)


def peer_over_http(url: str, rows: int, cells: int, seconds: float) -> dict[str, Any]:
    """Requests per second of Directus's aggregate on the same rows and engine, as it ships
    (its cache off: every call runs the query, like our cold figure) and with its data cache
    on (memory store, purged on writes: like our warm figure). Falls back to the issue's
    figure, with a notice, when Directus cannot run here."""
    try:
        with directus.running(directus.sibling_database(url)) as peer:
            peer.load("deal", (deal(i) for i in range(rows)))
            groups = peer.call("GET", PEER_AGGREGATE)["data"]
            expected = expected_sums(rows)
            answered = {(g["stage"], int(g["close_date_year"]), int(g["close_date_month"])): float(g["sum"]["amount"])
                        for g in groups}
            if answered.keys() != expected.keys() or any(abs(answered[k] - v) > 0.01 for k, v in expected.items()):
                raise SystemExit(f"Directus's aggregate differs from the workload's sums: {groups[:3]} ...")
            auth = {"Authorization": f"Bearer {peer.token}"}
            ok = lambda body: len(json.loads(body)["data"]) == cells  # noqa: E731
            cold = sequential_rate(peer.port, PEER_AGGREGATE, auth, seconds, ok)
            peer.restart(CACHE_ENABLED="true", CACHE_STORE="memory", CACHE_AUTO_PURGE="true")
            warm = sequential_rate(peer.port, PEER_AGGREGATE, auth, seconds, ok)
            return {"cold": cold, "warm": warm,
                    "source": f"Directus {directus.version()} on {directus.engine_label(peer.url)}, this run"}
    except directus.PeerUnavailable as problem:
        print(f"  NOTICE: Directus could not run here, the issue's figure stands in for it: {problem}")
        return {"cold": DIRECTUS_AGGREGATE, "warm": DIRECTUS_AGGREGATE, "source": "the issue's Directus figure"}


def run_engine(engine: str, url: str, rows: int, runs: int, peer: str = "directus", seconds: float = 8.0) -> dict:
    db = Database(url)
    store = setup(db, rows)
    cells = through_engine(store)
    assert cells == len(hand_written(db)), "the engine and the hand-written query disagree"
    engine_p50, _p95, _cpu = timed(lambda: through_engine(store), runs)
    hand_p50, _p95b, _cpub = timed(lambda: hand_written(db), runs)
    exact_p50, _p95c, _cpuc = timed(lambda: hand_written(db, exact=True), runs)
    web = web_figures(db, runs)
    ensure_secret_key(db)
    http_warm, http_cold = ours_over_http(url, db, int(web["report_id"]), cells, seconds)
    db.dispose()
    peer_figures = (peer_over_http(url, rows, cells, seconds) if peer == "directus" else
                    {"cold": DIRECTUS_AGGREGATE, "warm": DIRECTUS_AGGREGATE,
                     "source": "the issue's Directus figure (--peer none)"})
    return {"engine": engine, "rows": rows, "cells": cells, "engine_ms": engine_p50, "hand_ms": hand_p50,
            "exact_ms": exact_p50, **web, "http_warm": http_warm, "http_cold": http_cold,
            "peer": peer_figures}


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, rows=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--peer", choices=["directus", "none"], default="directus",
                        help="measure Directus 12 in the same run (installed on first use), or use the issue's figure")
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each sequential HTTP run")
    args, _others = parser.parse_known_args(argv)
    results = each_engine(args.engines, f"stage x month pivot over {args.rows} deals",
                          lambda engine, url: run_engine(engine, url, args.rows, args.runs, args.peer, args.seconds))

    print()
    print(f"{'engine':<11}{'rows':>9} {'cells':>6} | {'report p50 ms':>13} {'GROUP BY SUM':>12} {'ratio':>6} | "
          f"{'GROUP BY exact sum':>18} {'ratio':>6}  (target <= 1.2)")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>9} {r['cells']:>6} | {r['engine_ms']:>13.1f} {r['hand_ms']:>12.1f} "
              f"{r['engine_ms'] / r['hand_ms']:>6.2f} | {r['exact_ms']:>18.1f} {r['engine_ms'] / r['exact_ms']:>6.2f}")
    print()
    print(f"{'engine':<11}{'rows':>9} | {'6-widget dashboard p50 ms':>25} {'ratio':>6} | "
          f"{'REST result req/s, in-process':>29}")
    print(f"{'':<21}| {'(target <= 500 at 1M, SQLite)':>32} |")
    for r in results:
        for state in ("warm", "cold"):
            page_ms, per_second = r[f"dashboard_{state}"], 1000 / r[f"result_{state}"]
            print(f"{r['engine']:<11}{r['rows']:>9} | {state + ' ' + format(page_ms, ',.1f'):>25} "
                  f"{page_ms / 500:>6.2f} | {per_second:>29.1f}")
    print()
    print("REST aggregate over loopback, one sequential keep-alive client (target >= 2x the peer). Cold: ours\n"
          "with a deal written before each call vs Directus as it ships (no cache); warm: ours vs Directus\n"
          "with its data cache on (CACHE_ENABLED, memory store):")
    for r in results:
        for state in ("warm", "cold"):
            ours, theirs = r[f"http_{state}"], r["peer"][state]
            ratio = ours / theirs
            print(f"  {r['engine']:<11}{r['rows']:>9} deals, {state}: cardbase {ours:7.1f} req/s  vs  "
                  f"{theirs:7.1f} req/s ({r['peer']['source']})  = {ratio:6.2f}x  "
                  f"{'ok' if ratio >= 2 else 'BELOW TARGET'}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
