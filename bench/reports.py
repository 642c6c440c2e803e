"""Reports (issue 15, point 10, first part; not a test: prints figures and ratios).

The stage x month pivot summing amounts (a money field: per currency) over N deals through
the report engine (definition -> one grouped query through the engine session, purpose
"report", folded into the pivot) versus a hand-written GROUP BY of the same figures in the
same run, on each engine. Target: <= 1.2x.

Not measured yet (see the issue): the six-widget dashboard p50 and the REST result call
against Directus.

    .venv/bin/python bench/reports.py                      # 100k deals, SQLite and PostgreSQL
    .venv/bin/python bench/reports.py --rows 1000000 --engines sqlite
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import each_engine, load_note, timed  # noqa: E402  (puts this checkout on sys.path)

import sqlalchemy as sa  # noqa: E402

from cardbase.report_builder.definition import parse_definition  # noqa: E402
from cardbase.report_builder.runner import run_report  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.exact_sums import numeric_aggregate  # noqa: E402
from cardbase.schema_engine.query.buckets import bucket_expression  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

BATCH = 5000
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
    start, now = dt.date(2026, 1, 1), dt.datetime(2026, 1, 1)
    with db.write() as conn:  # raw rows: the bench measures reading, not the insert path
        for first in range(0, rows, BATCH):
            conn.execute(sa.insert(table), [{
                "code": f"D-{i}", "version": 1, "created_at": now, "modified_at": now, cols["title"][0]: f"Deal {i}",
                cols["amount"][0]: (i * 37) % 100_000 / 100, cols["amount"][1]: "EUR",
                cols["stage"][0]: STAGES[i % 6], cols["close_date"][0]: start + dt.timedelta(days=i % 365)}
                for i in range(first, min(rows, first + BATCH))])
    return RecordStore(db)


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
        result = run_report(s, definition)
    return len(result.cells)


def run_engine(engine: str, url: str, rows: int, runs: int) -> dict:
    db = Database(url)
    store = setup(db, rows)
    cells = through_engine(store)
    assert cells == len(hand_written(db)), "the engine and the hand-written query disagree"
    engine_p50, _p95, _cpu = timed(lambda: through_engine(store), runs)
    hand_p50, _p95b, _cpub = timed(lambda: hand_written(db), runs)
    exact_p50, _p95c, _cpuc = timed(lambda: hand_written(db, exact=True), runs)
    db.dispose()
    return {"engine": engine, "rows": rows, "cells": cells, "engine_ms": engine_p50, "hand_ms": hand_p50,
            "exact_ms": exact_p50}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args, _others = parser.parse_known_args(argv)
    results = each_engine(args.engines, f"stage x month pivot over {args.rows} deals",
                          lambda engine, url: run_engine(engine, url, args.rows, args.runs))
    print()
    print(f"{'engine':<11}{'rows':>9} {'cells':>6} | {'report p50 ms':>13} {'GROUP BY SUM':>12} {'ratio':>6} | "
          f"{'GROUP BY exact sum':>18} {'ratio':>6}  (target <= 1.2)")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>9} {r['cells']:>6} | {r['engine_ms']:>13.1f} {r['hand_ms']:>12.1f} "
              f"{r['engine_ms'] / r['hand_ms']:>6.2f} | {r['exact_ms']:>18.1f} {r['engine_ms'] / r['exact_ms']:>6.2f}")
    note = load_note()
    if note:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
