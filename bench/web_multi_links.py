"""Benchmark of multi-links in the browser's pages (not a test: prints figures, asserts nothing).

Through the Flask test client, for a signed-in user of group Sales (read, create, edit on
both objects): N deals (2,000 by default), each linked to 0-4 of 200 products through the
multi-link "Products"; one deal linked to 100 of them. Measured:

* the card of the deal with 100 linked products (the editor's table with two further
  product columns: one read for the names, one for the columns), beside one with 2;
* the link picker's answer with those columns (``links/products?cells=1``);
* a list page of 50 deals with the "Products" column, and one filtered by "has any of";
* saving the card with one product more (the whole set is posted and replaced).

Each line gives p50 / p95 wall-clock ms, the process's p50 CPU ms and how many SQL
statements the request ran.

    .venv/bin/python bench/web_multi_links.py
    .venv/bin/python bench/web_multi_links.py --rows 20000 --engines sqlite
"""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from engines import bench_parser, each_engine, finish, timed  # noqa: E402  (also puts the repo on sys.path)
from sql_recorder import recorded  # noqa: E402

from cardbase.platform import users  # noqa: E402
from cardbase.platform.app import create_app  # noqa: E402
from cardbase.schema_engine import rights  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

PRODUCTS = 200
BIG_SET = 100
PASSWORD = "quiet-harbour-83"
CHUNK = 1000


def build(db: Database, rows: int) -> tuple[list[int], int]:
    db.create_system_tables()
    svc, store = SchemaService(db), RecordStore(db)
    svc.create_object(SYSTEM, {"name": "product", "label": "Product", "label_plural": "Products", "fields": [
        {"name": "name", "label": "Name", "type": "string"}, {"name": "sku", "label": "SKU", "type": "string"},
        {"name": "price", "label": "Price", "type": "decimal", "options": {"scale": 2}}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "display_field": "title",
                               "fields": [{"name": "title", "label": "Title", "type": "string"},
                                          {"name": "products", "label": "Products", "type": "links",
                                           "options": {"target": "product"}}]})
    products = store.bulk_create(SYSTEM, "product", [{"name": f"Product {i:03d}", "sku": f"SKU-{i:04d}",
                                                      "price": f"{10 + i}.50"} for i in range(PRODUCTS)])
    rnd = random.Random(7)
    for start in range(0, rows, CHUNK):
        store.bulk_create(SYSTEM, "deal", [{"title": f"Deal {i}", "products": rnd.sample(products, rnd.randint(0, 4))}
                                           for i in range(start, min(rows, start + CHUNK))])
    big = store.create(SYSTEM, "deal", {"title": "Big deal", "products": products[:BIG_SET]})["id"]
    store.create(SYSTEM, "deal", {"title": "Small deal", "products": products[:2]})
    users.create_user(db, "bench", PASSWORD)
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "bench", "Sales")
    for name in ("product", "deal"):
        rights.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit"])
    db.optimize()
    return products, big


def run(engine: str, url: str, rows: int) -> None:
    db = Database(url)
    try:
        products, big = build(db, rows)
        app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda s: None}, db=db)
        client = app.test_client()
        assert client.post("/login", data={"username": "bench", "password": PASSWORD}).status_code == 302
        has_any = json.dumps({"field": "products", "op": "has_any", "value": products[:2]})
        pages = {
            "card, 2 linked products": f"/o/deal/{big + 1}",
            f"card, {BIG_SET} linked products": f"/o/deal/{big}",
            "picker with columns": "/o/deal/links/products?q=Product&cells=1",
            "list of 50 with Products": "/o/deal?cols=title,products&limit=50",
            "list of 50, has any of 2": f"/o/deal?cols=title,products&limit=50&filter={has_any}",
        }
        print(f"  {rows:,} deals, {PRODUCTS} products")
        for name, target in pages.items():
            def get(t=target) -> None:
                response = client.get(t)
                assert response.status_code == 200, response.get_data(as_text=True)[-1000:]
            p50, p95, cpu = timed(get, 30)
            with recorded(db.engine) as seen:  # warm: the caches a first request fills are filled
                get()
            print(f"  {name:<30} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  cpu {cpu:7.2f} ms  {len(seen):3d} statements")
        state = {"n": 0}

        def save() -> None:
            state["n"] += 1
            version = RecordStore(db).get(SYSTEM, "deal", big)["version"]
            chosen = products[:BIG_SET] + [products[BIG_SET + state["n"] % (PRODUCTS - BIG_SET)]]
            response = client.post(f"/o/deal/{big}", data={"_version": str(version), "f-products-present": "1",
                                                            "f-products": [str(i) for i in chosen]})
            assert response.status_code == 302, response.get_data(as_text=True)[-1000:]
        with recorded(db.engine) as seen:
            save()
        p50, p95, cpu = timed(save, 20)
        print(f"  {'save the card, 101 products':<30} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  cpu {cpu:7.2f} ms  "
              f"{len(seen):3d} statements")
    finally:
        db.dispose()


def main() -> int:
    args = bench_parser(__doc__, 2_000).parse_args()
    each_engine(args.engines, f"{args.rows:,} deals with a multi-link, in the web pages",
                lambda e, u: run(e, u, args.rows))
    return finish()


if __name__ == "__main__":
    raise SystemExit(main())
