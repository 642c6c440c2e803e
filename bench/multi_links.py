"""Benchmark of many-to-many links (not a test: prints figures, asserts nothing).

N deals (100,000 by default), each linked to 0-4 of 200 tags through a multi-link field
(about 2 links per deal). Measured through the record store as an admin:

* a page of 50 deals (with its capped count) with and without the multi-link column (the links cost one more
  query per page, the junction rows of those 50 deals joined to their tags);
* a page filtered by ``has_any`` of two tags and by ``is_empty`` (EXISTS subqueries);
* replacing one deal's set (validation, delete and insert, history with display names).

    .venv/bin/python bench/multi_links.py                   # 100,000 deals, both engines
    .venv/bin/python bench/multi_links.py --rows 20000 --engines sqlite
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines import bench_parser, each_engine, finish, timed  # noqa: E402  (also puts the repo on sys.path)

from cardbase.schema_engine import naming  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.query.model import ListQuery  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

TAGS = 200
CHUNK = 1000


def build(db: Database, rows: int) -> tuple[RecordStore, list[int], list[int]]:
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "tag", "label": "Tag", "fields": [
        {"name": "name", "label": "Name", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "fields": [
        {"name": "title", "label": "Title", "type": "string"},
        {"name": "tags", "label": "Tags", "type": "links", "options": {"target": "tag"}}]})
    tags = store.bulk_create(SYSTEM, "tag", [{"name": f"tag {i}"} for i in range(TAGS)])
    rnd = random.Random(7)
    deals: list[int] = []
    for start in range(0, rows, CHUNK):
        deals += store.bulk_create(SYSTEM, "deal", [
            {"title": f"Deal {i}", "tags": rnd.sample(tags, rnd.randint(0, 4))}
            for i in range(start, min(rows, start + CHUNK))])
    return store, tags, deals


def run(engine: str, url: str, rows: int) -> None:
    db = Database(url)
    db.create_system_tables()
    try:
        store, tags, deals = build(db, rows)
        db.optimize()
        field = db.schema().object("deal").field("tags")
        with db.read() as conn:
            links = conn.exec_driver_sql(f"SELECT count(*) FROM {naming.links_table_name(field.stored_id)}").scalar()
        print(f"  {rows:,} deals, {links:,} links to {TAGS} tags")
        cases = {
            "page of 50, title only": ListQuery(limit=50, fields=["title"], sort=["-id"]),
            "page of 50, title + tags": ListQuery(limit=50, fields=["title", "tags"], sort=["-id"]),
            "has_any of 2 tags, 50 rows": ListQuery(limit=50, fields=["title", "tags"], sort=["-id"],
                                                    filter={"field": "tags", "op": "has_any", "value": tags[:2]}),
            "is_empty, 50 rows": ListQuery(limit=50, fields=["title", "tags"], sort=["-id"],
                                           filter={"field": "tags", "op": "is_empty"}),
        }
        for name, query in cases.items():
            p50, p95, cpu = timed(lambda q=query: store.list(SYSTEM, "deal", q), 30)
            print(f"  {name:<28} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  cpu {cpu:7.2f} ms")
        target = deals[len(deals) // 2]
        state = {"version": store.get(SYSTEM, "deal", target)["version"], "i": 0}

        def replace() -> None:
            state["i"] += 1
            chosen = [tags[(state["i"] + k) % TAGS] for k in range(3)]
            state["version"] = store.update(SYSTEM, "deal", target, {"tags": chosen}, version=state["version"])["version"]
        p50, p95, cpu = timed(replace, 30)
        print(f"  {'replace one set of 3':<28} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  cpu {cpu:7.2f} ms")
    finally:
        db.dispose()


def main() -> int:
    args = bench_parser(__doc__, 100_000).parse_args()
    each_engine(args.engines, f"{args.rows:,} deals with multi-links", lambda e, u: run(e, u, args.rows))
    return finish()


if __name__ == "__main__":
    raise SystemExit(main())
