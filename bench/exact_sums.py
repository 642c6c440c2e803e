"""Exact money/decimal sums (issue 14, point 2): the cost of summing through cardbase's
aggregate (on SQLite a Decimal aggregate registered on each connection) against the
engine's own SUM over the same column in the same run, and how far the engine's own SUM
is from the exact figure. Not a test: prints figures and ratios.

    .venv/bin/python bench/exact_sums.py                    # 1M rows, SQLite and PostgreSQL
    .venv/bin/python bench/exact_sums.py --rows 100000 --engines sqlite
"""
from __future__ import annotations

import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import bench_parser, each_engine, finish  # noqa: E402  (puts this checkout on sys.path)

import sqlalchemy as sa  # noqa: E402

from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.query.model import AggregateQuery  # noqa: E402
from schema_engine.test_exact_sums import _build, _fill  # noqa: E402  (the test's schema and rows)


def best_of(fn, runs: int = 3) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(runs):
        t0 = time.perf_counter()
        value = fn()
        best = min(best, (time.perf_counter() - t0) * 1000)
    return best, value


def run_engine(engine: str, url: str, rows: int) -> dict:
    db = Database(url)
    db.create_system_tables()
    _svc, store = _build(db)
    order = store.create(SYSTEM, "order", {"title": "Big"})
    _fill(db, rows, order["id"], 10**11)
    line = db.schema().object("line")
    table, column = line.table_name, line.field("price").column

    def exact():
        with store.session(SYSTEM) as s:
            return s.aggregate("line", AggregateQuery(metrics=[{"op": "sum", "field": "price"}]))[0]["sum_price"]

    def native():
        with db.read() as conn:
            return conn.execute(sa.text(f'SELECT SUM("{column}") FROM "{table}" WHERE deleted_at IS NULL')).scalar()

    exact_ms, exact_value = best_of(exact)
    native_ms, native_value = best_of(native)
    db.dispose()
    off = Decimal(repr(native_value)) if isinstance(native_value, float) else Decimal(native_value)
    return {"engine": engine, "rows": rows, "exact_ms": exact_ms, "native_ms": native_ms,
            "off": (off.quantize(Decimal("0.01")) - Decimal(str(exact_value)))}


def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, rows=1_000_000)
    args, _others = parser.parse_known_args(argv)
    results = each_engine(args.engines, f"sum of {args.rows} amounts",
                          lambda engine, url: run_engine(engine, url, args.rows))
    print()
    print(f"{'engine':<11}{'rows':>9} | {'exact sum ms':>12} {'own SUM ms':>10} {'ratio':>6} | own SUM off by")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>9} | {r['exact_ms']:>12.1f} {r['native_ms']:>10.1f} "
              f"{r['exact_ms'] / r['native_ms']:>6.2f} | {r['off']}")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
