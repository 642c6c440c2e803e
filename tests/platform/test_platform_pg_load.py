"""A load test of ``cardbase serve --workers 4`` on PostgreSQL ends with nothing lost and no
server error (issue 19, "Also").

A real gunicorn server (four worker processes) serves a fresh PostgreSQL database with the
test CRM and the rollup organisation.dsum = sum(deal.probability) on 127.0.0.1. Six client
threads, each with its own API token, create, patch (with versions: a 409 makes the client
read the record again and retry; so does a bulk write's 422 that names only stale versions),
bulk-write and list deals for about 15 s -- patches and bulk updates pick any deal, so
clients do conflict. Afterwards:

- no response was >= 500, every request got an answer, and no other answer was unexpected;
- every deal a 201 or a bulk write reported exists, with the version and values of the
  successful write that reported the highest version (nothing a 200 said was written is lost
  unless a later successful write replaced it, and no write happened that was not reported);
- every organisation's rollup equals a recomputation from its deals.

It prints the request counts and p50/p95 latencies per kind (``pytest -s`` shows them).
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from api_testlib import build_crm, make_users, token_for
from designer_testlib import served

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store.records import RecordStore

pytestmark = pytest.mark.slow

CLIENTS = 6
SECONDS = 15
MAX_OPS = 600  # per client: the run is bounded in count as well as in time
WORKERS = 4


class Client:
    """One API client on its own keep-alive connection to the server on loopback."""

    def __init__(self, port: int, token: str, log: "Log") -> None:
        self.port, self.token, self.log = port, token, log
        self.conn: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):  # a keep-alive connection the server closed: once more
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
            except (http.client.HTTPException, ConnectionError) as exc:
                self.conn.close()
                self.conn = None
                if attempt or method != "GET":  # a write may have happened: that is a failure
                    self.log.failure(f"{kind} {method} {path}: no answer ({exc!r})")
                    return 0, None
                continue
            self.log.note(kind, response.status, time.perf_counter() - started,
                          raw.decode(errors="replace")[:300])
            if response.getheader("Connection", "").lower() == "close":
                self.conn.close()
                self.conn = None
            try:
                return response.status, json.loads(raw) if raw else None
            except ValueError:
                return response.status, None
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class Log:
    """What every client saw, shared between the threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.statuses: Counter[tuple[str, int]] = Counter()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.failures: list[str] = []
        # every successful write: deal id -> [(version, probability, organisation)]
        self.writes: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        self.ids: list[int] = []

    def note(self, kind: str, status: int, seconds: float, text: str) -> None:
        with self.lock:
            self.counts[kind] += 1
            self.statuses[(kind, status)] += 1
            self.latencies[kind].append(seconds)
            if status >= 500:
                self.failures.append(f"{kind} {status}: {text}")

    def failure(self, text: str) -> None:
        with self.lock:
            self.failures.append(text)

    def wrote(self, record: dict[str, Any], created: bool = False) -> None:
        with self.lock:
            self.writes[record["id"]].append((record["version"], record["probability"], record["organisation"]))
            if created:
                self.ids.append(record["id"])

    def some_ids(self, rnd: random.Random, n: int) -> list[int]:
        with self.lock:
            return rnd.sample(self.ids, min(n, len(self.ids)))


def _link_id(value: Any) -> Any:
    return value["id"] if isinstance(value, dict) else value


def _written(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "version": record["version"], "probability": record["probability"],
            "organisation": _link_id(record["organisation"])}


def _client(port: int, token: str, log: Log, orgs: list[int], seed: int, deadline: float) -> None:
    rnd = random.Random(seed)
    api = Client(port, token, log)
    try:
        for _ in range(MAX_OPS):
            if time.monotonic() > deadline:
                break
            what = rnd.choice(("create", "create", "patch", "patch", "patch", "bulk", "list"))
            if what == "create" or not log.ids:
                prob, org = rnd.randint(0, 100), rnd.choice(orgs)
                status, body = api.call("create", "POST", "/api/v1/records/deal",
                                        {"title": f"c{seed}", "probability": prob, "organisation": org})
                if status != 201:
                    log.failure(f"create {status}: {body}")
                else:
                    assert (body["probability"], _link_id(body["organisation"])) == (prob, org), body
                    log.wrote(_written(body), created=True)
            elif what == "patch":
                (rid,) = log.some_ids(rnd, 1)
                status, body = api.call("read", "GET", f"/api/v1/records/deal/{rid}")
                for _attempt in range(5):
                    if status != 200:
                        log.failure(f"read {status}: {body}")
                        break
                    prob, org = rnd.randint(0, 100), rnd.choice(orgs)
                    status, body = api.call("patch", "PATCH", f"/api/v1/records/deal/{rid}", {
                        "probability": prob, "organisation": org, "version": body["version"]})
                    if status == 200:
                        assert (body["probability"], _link_id(body["organisation"])) == (prob, org), body
                        log.wrote(_written(body))
                        break
                    if status != 409:
                        log.failure(f"patch {status}: {body}")
                        break
                    status, body = api.call("read", "GET", f"/api/v1/records/deal/{rid}")  # read again
            elif what == "bulk":
                ids = log.some_ids(rnd, 3)
                for _attempt in range(5):  # a stale version (422 naming only versions): read again
                    versions = {}
                    for rid in ids:
                        status, body = api.call("read", "GET", f"/api/v1/records/deal/{rid}")
                        if status == 200:
                            versions[rid] = body["version"]
                    rows: list[dict[str, Any]] = [
                        {"id": rid, "version": v, "probability": rnd.randint(0, 100), "organisation": rnd.choice(orgs)}
                        for rid, v in versions.items()]
                    rows += [{"title": f"b{seed}", "probability": rnd.randint(0, 100),
                              "organisation": rnd.choice(orgs)} for _ in range(2)]
                    status, body = api.call("bulk", "POST", "/api/v1/records/deal/bulk", {"records": rows})
                    if status == 422 and all(k.endswith(".version") for k in body["error"]["fields"]):
                        continue
                    if status != 200:
                        log.failure(f"bulk {status}: {body}")
                        break
                    assert len(body["data"]) == len(rows), body
                    for row, record in zip(rows, body["data"]):  # {id, code, version, action} in row order
                        assert row.get("id", record["id"]) == record["id"], (row, record)
                        assert record["action"] == ("updated" if "id" in row else "created"), (row, record)
                        log.wrote({"id": record["id"], "version": record["version"],
                                   "probability": row["probability"], "organisation": row["organisation"]},
                                  created="id" not in row)
                    break
            else:
                status, body = api.call("list", "GET", "/api/v1/records/deal?limit=50&sort=-id")
                if status != 200:
                    log.failure(f"list {status}: {body}")
    except Exception as exc:  # noqa: BLE001 - reported as a failure of the test
        log.failure(f"client {seed}: {exc!r}")
    finally:
        api.close()


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


@pytest.mark.parametrize("engine_name", [pytest.param("postgresql", marks=pytest.mark.postgresql)])
def test_four_workers_under_load_lose_nothing_and_answer_no_server_error(db, db_url, tmp_path):
    build_crm(db)
    make_users(db)
    SchemaService(db).add_field(SYSTEM, "organisation", {
        "name": "dsum", "label": "Deal sum", "type": "rollup",
        "options": {"child": "Deals", "link": "organisation", "field": "probability", "aggregate": "sum"}})
    orgs = RecordStore(db).bulk_create(SYSTEM, "organisation", [{"name": f"Org {i}"} for i in range(4)])
    tokens = [token_for(db, "root") for _ in range(CLIENTS)]
    log = Log()
    with served(db_url, tmp_path, workers=WORKERS) as server:
        deadline = time.monotonic() + SECONDS
        threads = [threading.Thread(target=_client, args=(server.port, tokens[i], log, orgs, i, deadline))
                   for i in range(CLIENTS)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=SECONDS + 90)
        elapsed = time.monotonic() - started
        assert not any(t.is_alive() for t in threads), "a client hung"
        server_output = server.output()
    summary = [f"{WORKERS} workers, {CLIENTS} clients, {elapsed:.1f} s, "
               f"{sum(log.counts.values())} requests, statuses {dict(sorted(log.statuses.items()))}"]
    for kind in sorted(log.latencies):
        values = log.latencies[kind]
        summary.append(f"  {kind:6} {len(values):5} requests  p50 {_percentile(values, 0.5) * 1000:7.1f} ms"
                       f"  p95 {_percentile(values, 0.95) * 1000:7.1f} ms")
    print("\n" + "\n".join(summary))
    assert not log.failures, (f"{len(log.failures)} failures; " + "\n".join(summary) + "\n"
                              + "\n".join(log.failures[:20]) + "\n--- server log ---\n" + server_output[-5000:])
    assert log.counts["create"] and log.counts["patch"] and log.counts["bulk"] and log.counts["list"], summary
    assert log.statuses[("patch", 200)] and log.statuses[("bulk", 200)], summary

    # nothing lost: each deal holds what the write with the highest version reported
    schema = db.schema()
    deal, org = schema.object("deal"), schema.object("organisation")
    deals, org_table = schema.table(deal), schema.table(org)
    prob = deals.c[deal.field("probability").column]
    link = deals.c[deal.field("organisation").column]
    dsum = org_table.c[org.field("dsum").column_names[0]]
    with db.read() as conn:
        stored = {r.id: (r.version, r.probability, r.organisation) for r in conn.execute(
            sa.select(deals.c.id, deals.c.version, prob.label("probability"), link.label("organisation"))
            .where(deals.c.deleted_at.is_(None)))}
        expected_sums = dict(conn.execute(sa.select(link, sa.func.sum(prob)).where(deals.c.deleted_at.is_(None))
                                          .group_by(link)).all())
        sums = dict(conn.execute(sa.select(org_table.c.id, dsum)).all())
    missing = sorted(set(log.ids) - set(stored))
    assert not missing, f"{len(missing)} created deals are gone: {missing[:20]}"
    assert len(set(log.ids)) == len(log.ids) == len(stored), (len(log.ids), len(stored))
    lost = {rid: (stored[rid], max(writes)) for rid, writes in log.writes.items() if stored[rid] != max(writes)}
    assert not lost, f"{len(lost)} deals do not hold their last reported write: {list(lost.items())[:20]}"
    for oid in orgs:
        assert (sums[oid] or 0) == (expected_sums.get(oid) or 0), (oid, sums, expected_sums)
