"""Benchmark of parent-following access (not a test: prints figures and ratios, asserts
nothing).

Orders with lines; the group Juniors reads and edits orders with the record scope "only
matching rule views" and a rule view Total < RULE_MAX (a tenth of the orders), and order
lines follow their order (issue 13). Measured: the first page of order lines (50 rows,
newest first, with the capped count and the order's title through the link) for a junior,
against the baseline measured in the same run -- an admin listing the same lines with the
rule written as an explicit filter through the link (``order.total < RULE_MAX``: the same
rows read) -- and an admin's unfiltered page.

    .venv/bin/python bench/parent_access.py                    # 20,000 orders x 5 lines, both engines
    .venv/bin/python bench/parent_access.py --orders 100000 --engines sqlite
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines import each_engine, load_note, timed  # noqa: E402  (also puts the repo on sys.path)

from cardbase.schema_engine import rights  # noqa: E402
from cardbase.schema_engine.accounts import groups, users  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM, Actor  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.query.model import ListQuery  # noqa: E402
from cardbase.schema_engine.rights.scopes import set_parent_access, set_record_scope  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

RULE_MAX = 1000
BATCH = 1000
FIELDS = ["item", "quantity", "order", "order.title"]


def setup(db: Database, orders: int, lines: int) -> tuple[RecordStore, Actor, int]:
    db.create_system_tables()
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "order", "label": "Order", "label_plural": "Orders", "display_field": "title",
                               "fields": [{"name": "title", "label": "Title", "type": "string"},
                                          {"name": "total", "label": "Total", "type": "integer"}]})
    svc.create_object(SYSTEM, {"name": "line", "label": "Order line", "label_plural": "Order lines", "fields": [
        {"name": "item", "label": "Item", "type": "string"},
        {"name": "quantity", "label": "Quantity", "type": "integer"},
        {"name": "order", "label": "Order", "type": "link", "options": {"target": "order", "on_delete": "cascade"}}]})
    store = RecordStore(db)
    rnd = random.Random(13)
    order_ids: list[int] = []
    totals = [rnd.randint(1, RULE_MAX * 10) for _ in range(orders)]
    for start in range(0, orders, BATCH):
        order_ids += store.bulk_create(SYSTEM, "order", [
            {"title": f"Order {i}", "total": totals[i]} for i in range(start, min(orders, start + BATCH))])
    visible = sum(lines for total in totals if total < RULE_MAX)
    pending = [{"item": f"Item {n}", "quantity": rnd.randint(1, 9), "order": oid}
               for oid in order_ids for n in range(lines)]
    rnd.shuffle(pending)  # lines of one order are not next to each other
    for start in range(0, len(pending), BATCH):
        store.bulk_create(SYSTEM, "line", pending[start:start + BATCH])
    user = users.create_user(db, SYSTEM, "junior", "bench-pass-2024-x")
    groups.create_group(db, SYSTEM, "Juniors")
    groups.add_member(db, SYSTEM, "junior", "Juniors")
    rights.set_object_rights(db, SYSTEM, "Juniors", "order", ["read", "edit"])
    rights.set_object_rights(db, SYSTEM, "Juniors", "line", ["read", "edit"])
    rights.save_rule_view(db, SYSTEM, "Juniors", "order", "Small", {"field": "total", "op": "lt", "value": RULE_MAX},
                          level="change")
    set_record_scope(db, SYSTEM, "Juniors", "order", "rule_views")
    set_parent_access(db, SYSTEM, "line", "order")
    junior = Actor(user_id=user.id, username="junior", group_ids=users.group_ids(db, user.id))
    return store, junior, visible


def run(engine: str, url: str, orders: int, lines: int, runs: int) -> None:
    db = Database(url)
    try:
        store, junior, visible = setup(db, orders, lines)
        admin = Actor(user_id=None, username="admin", is_admin=True)
        page = ListQuery(sort="-id", limit=50, fields=FIELDS)
        same_rows = ListQuery(sort="-id", limit=50, fields=FIELDS,
                              filter={"field": "order.total", "op": "lt", "value": RULE_MAX})
        seen = store.list(junior, "line", page)
        want = store.list(admin, "line", same_rows)
        assert [r["id"] for r in seen.data] == [r["id"] for r in want.data], "junior and baseline disagree"
        user_ms = timed(lambda: store.list(junior, "line", page), runs)
        base_ms = timed(lambda: store.list(admin, "line", same_rows), runs)
        plain_ms = timed(lambda: store.list(admin, "line", page), runs)
        print(f"  {orders:,} orders x {lines} lines; the junior sees {visible:,} lines "
              f"(orders with total < {RULE_MAX})")
        print(f"  junior (lines follow their order)  p50 {user_ms[0]:.2f} ms  p95 {user_ms[1]:.2f} ms")
        print(f"  admin, same rows as a filter       p50 {base_ms[0]:.2f} ms  p95 {base_ms[1]:.2f} ms"
              f"  -> junior / baseline = {user_ms[0] / base_ms[0]:.2f}")
        print(f"  admin, first page unfiltered       p50 {plain_ms[0]:.2f} ms  p95 {plain_ms[1]:.2f} ms"
              f"  -> junior / admin = {user_ms[0] / plain_ms[0]:.2f}")
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--rows", type=int, default=None, help="(make bench's common argument: ignored)")
    args, _others = parser.parse_known_args()  # `make bench` passes one BENCH_ARGS to every script (--peer ...)
    note = load_note()
    if note:
        print(note)
    each_engine(args.engines, "parent-following access",
                lambda engine, url: run(engine, url, args.orders, args.lines, args.runs))


if __name__ == "__main__":
    main()
