"""Benchmark of computed fields (not a test: prints figures and ratios, asserts nothing).

Bulk-creates order lines through the record store into two identical order books, one
plain and one where each line has Cost = [Price] * [Quantity] and each order a Total =
sum of its lines' Cost (and each organisation a Revenue = sum of its orders' Total), and
prints rows/s and the ratio; then the time to change the Cost formula on all lines
(recomputed in batches, the totals following at the swap).

    .venv/bin/python bench/formulas.py                    # 10k lines, SQLite and PostgreSQL
    .venv/bin/python bench/formulas.py --rows 100000 --engines sqlite
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import engine_names, fresh_database  # noqa: E402  (also puts the repo on sys.path)

from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

CHUNK = 1000
ORDERS = 500


def book(svc: SchemaService, prefix: str, computed: bool) -> None:
    svc.create_object(SYSTEM, {"name": f"{prefix}org", "label": f"{prefix} Organisation",
                               "label_plural": f"{prefix} Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": f"{prefix}order", "label": f"{prefix} Order", "label_plural": f"{prefix} Orders",
                               "fields": [{"name": "title", "label": "Title", "type": "string"},
                                          {"name": "customer", "label": "Customer", "type": "link",
                                           "options": {"target": f"{prefix}org"}}]})
    line_fields = [
        {"name": "order", "label": "Order", "type": "link", "options": {"target": f"{prefix}order"}},
        {"name": "price", "label": "Price", "type": "decimal", "options": {"precision": 12, "scale": 2}},
        {"name": "quantity", "label": "Quantity", "type": "integer"},
    ]
    if computed:
        line_fields.append({"name": "cost", "label": "Cost", "type": "formula",
                            "options": {"formula": "[Price] * [Quantity]"}})
    svc.create_object(SYSTEM, {"name": f"{prefix}line", "label": f"{prefix} Order line",
                               "label_plural": f"{prefix} Order lines", "fields": line_fields})
    if computed:
        svc.add_field(SYSTEM, f"{prefix}order", {"name": "total", "label": "Total", "type": "rollup", "options": {
            "child": f"{prefix}line", "field": "cost", "aggregate": "sum"}})
        svc.add_field(SYSTEM, f"{prefix}org", {"name": "revenue", "label": "Revenue", "type": "rollup", "options": {
            "child": f"{prefix}order", "field": "total", "aggregate": "sum"}})


def insert_lines(store: RecordStore, prefix: str, rows: int) -> float:
    orgs = store.bulk_create(SYSTEM, f"{prefix}org", [{"name": f"Org {i}"} for i in range(50)])
    orders = store.bulk_create(SYSTEM, f"{prefix}order", [{"title": f"O{i}", "customer": orgs[i % 50]}
                                                          for i in range(ORDERS)])
    rnd = random.Random(7)
    lines = [{"order": rnd.choice(orders), "price": Decimal(rnd.randrange(1, 100_000)) / 100,
              "quantity": rnd.randrange(1, 50)} for _ in range(rows)]
    start = time.perf_counter()
    for i in range(0, rows, CHUNK):
        store.bulk_create(SYSTEM, f"{prefix}line", lines[i:i + CHUNK])
    return rows / (time.perf_counter() - start)


def run(engine: str, url: str, rows: int) -> None:
    db = Database(url)
    db.create_system_tables()
    svc, store = SchemaService(db), RecordStore(db)
    book(svc, "p", computed=False)
    book(svc, "c", computed=True)
    plain = insert_lines(store, "p", rows)
    computed = insert_lines(store, "c", rows)
    print(f"{engine:10} insert {rows} lines: plain {plain:8.0f} rows/s, with Cost + Total + Revenue "
          f"{computed:8.0f} rows/s, ratio {computed / plain:.2f}")
    start = time.perf_counter()
    svc.update_field(SYSTEM, "cline", "cost", {"options": {"formula": "[Price] * [Quantity] * 1.19"}})
    print(f"{engine:10} change the Cost formula on {rows} lines (batches of 1000, totals follow): "
          f"{time.perf_counter() - start:.1f} s")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args, _others = parser.parse_known_args()  # `make bench` passes one BENCH_ARGS to every script
    for engine in engine_names(args.engines):
        with fresh_database(engine) as url:
            if url is not None:
                run(engine, url, args.rows)

if __name__ == "__main__":
    main()
