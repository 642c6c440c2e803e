"""Bulk updates through the store's change pipeline (not a test: prints figures and ratios).

For each engine: 20,000 deals (with a formula field, so the pipeline has dependants to
compute) are changed in batches of 1,000 through ``RecordStore.bulk_write`` -- validation,
rights, optimistic locking, own formulas, history, outbox, search index, action record --
and, as the baseline in the same run, by a raw SQLAlchemy Core executemany UPDATE of the
same columns. Also counts the SQL statements of one 1,000-row batch (set-based: the same
as for a 10-row batch).

    .venv/bin/python bench/bulk_update.py                     # SQLite and PostgreSQL
    .venv/bin/python bench/bulk_update.py --rows 100000 --engines sqlite
    CARDBASE_ROOT=/path/to/older/checkout .venv/bin/python bench/bulk_update.py  # "before"
"""
from __future__ import annotations

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import bench_parser, each_engine, finish  # noqa: E402  (puts this checkout on sys.path)

if os.environ.get("CARDBASE_ROOT"):  # measure another checkout with the same script
    sys.path.insert(0, os.environ["CARDBASE_ROOT"])
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]

import sqlalchemy as sa  # noqa: E402

from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

BATCH = 1000


def setup(db: Database, rows: int) -> tuple[RecordStore, list[int]]:
    db.create_system_tables()
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "title", "label": "Title", "type": "string", "required": True},
        {"name": "amount", "label": "Amount", "type": "decimal", "options": {"precision": 14, "scale": 2}},
        {"name": "probability", "label": "Probability", "type": "integer"},
        {"name": "weighted", "label": "Weighted", "type": "formula",
         "options": {"formula": "[Amount] * [Probability] / 100"}}]})
    store = RecordStore(db)
    ids: list[int] = []
    for start in range(0, rows, BATCH):
        ids += store.bulk_create(SYSTEM, "deal", [{"title": f"Deal {i}", "amount": Decimal(i % 5000), "probability": 10}
                                                  for i in range(start, min(rows, start + BATCH))])
    return store, ids


def versions(db: Database, ids: list[int]) -> dict[int, int]:
    with db.read() as conn:
        table = db.schema(conn).table(db.schema(conn).object("deal"))
        return dict(conn.execute(sa.select(table.c.id, table.c.version)).all())


def through_store(db: Database, store: RecordStore, ids: list[int], step: int) -> float:
    current = versions(db, ids)
    t0 = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        store.bulk_write(SYSTEM, "deal", [{"id": i, "version": current[i], "probability": 10 + step + i % 50}
                                          for i in ids[start:start + BATCH]])
    return len(ids) / (time.perf_counter() - t0)


def raw(db: Database, ids: list[int]) -> float:
    schema = db.schema()
    obj = schema.object("deal")
    table = schema.table(obj)
    column = obj.fields_by_name["probability"].column
    stmt = sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
        {column: sa.bindparam("_p"), "version": table.c.version + 1})
    t0 = time.perf_counter()
    for start in range(0, len(ids), BATCH):
        with db.write() as conn:
            conn.execute(stmt, [{"_id": i, "_p": 70 + i % 50} for i in ids[start:start + BATCH]])
    return len(ids) / (time.perf_counter() - t0)


def statements(db: Database, store: RecordStore, ids: list[int]) -> int:
    seen: list[str] = []
    listen = lambda *a: seen.append(a[2])  # noqa: E731
    current = versions(db, ids)
    sa.event.listen(db.engine, "before_cursor_execute", listen)
    try:
        store.bulk_write(SYSTEM, "deal", [{"id": i, "version": current[i], "probability": 99} for i in ids[:BATCH]])
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listen)
    return len(seen)


def run_engine(engine: str, url: str, rows: int) -> dict:
    db = Database(url)
    store, ids = setup(db, rows)
    first = through_store(db, store, ids, 1)
    second = through_store(db, store, ids, 2)
    raw_rps = raw(db, ids)
    count = statements(db, store, ids)
    db.dispose()
    return {"engine": engine, "rows": rows, "store_rps": max(first, second), "raw_rps": raw_rps,
            "statements": count}


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, rows=20_000)
    args, _others = parser.parse_known_args(argv)
    root = os.environ.get("CARDBASE_ROOT") or "this checkout"
    results = each_engine(args.engines, f"bulk update of {args.rows} rows ({root})",
                          lambda engine, url: run_engine(engine, url, args.rows))
    print()
    print(f"{'engine':<11}{'rows':>8} | {'store upd/s':>11} {'raw upd/s':>10} {'ratio':>6} | statements per 1,000-row batch")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>8} | {r['store_rps']:>11.0f} {r['raw_rps']:>10.0f} "
              f"{r['store_rps'] / r['raw_rps']:>6.2f} | {r['statements']}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
