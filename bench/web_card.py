"""Benchmark of the card page (not a test: prints figures and a ratio, asserts nothing).

The card of an order with 100 lines (the demo solution: Order with its Total rollup, the
Order lines sub-table with price, quantity, product and cost), rendered server-side
through the Flask test client for a signed-in NON-admin user (group "Sales": read right
on every demo object, nothing else). That is everything a request costs: session and
user, the rights and field mask, the card layout, the record, the 100 child records with
their product links, the record rights, the history tab, the menu and the templates.

Side by side in the same run, the baseline: the same order and its 100 lines fetched
with hand-written SQL (the order with its organisation, the lines with their products)
and rendered with a minimal Jinja template. The ratio says what the generic machinery
costs over the bare minimum.

    .venv/bin/python bench/web_card.py
    .venv/bin/python bench/web_card.py --runs 100 --engines sqlite,postgresql
"""
from __future__ import annotations

import argparse
import random
import sys
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines import each_engine, load_note, timed  # noqa: E402  (also puts the repo on sys.path)

import jinja2  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from cardbase.platform import users  # noqa: E402
from cardbase.platform.app import create_app  # noqa: E402
from cardbase.platform.demo import demo_solution  # noqa: E402
from cardbase.schema_engine import rights  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.solution import import_solution  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

TARGET_P50_MS = 80.0
LINES = 100
PASSWORD = "bench-password-1"
BASELINE_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><html><head><title>{{ order.code }}</title></head><body><h1>{{ order.code }}</h1>"
    "<dl><dt>Order date</dt><dd>{{ order.order_date }}</dd><dt>Status</dt><dd>{{ order.status }}</dd>"
    "<dt>Organisation</dt><dd><a href=\"/o/organisation/{{ order.org_id }}\">{{ order.org }}</a></dd>"
    "<dt>Total</dt><dd>{{ order.total }}</dd></dl>"
    "<table><thead><tr><th>Price</th><th>Quantity</th><th>Product</th><th>Cost</th></tr></thead><tbody>"
    "{% for l in lines %}<tr><td><a href=\"/o/order_line/{{ l.id }}\">{{ l.price }} {{ l.currency }}</a></td>"
    "<td>{{ l.quantity }}</td><td><a href=\"/o/product/{{ l.product_id }}\">{{ l.product }}</a></td>"
    "<td>{{ l.cost }}</td></tr>{% endfor %}</tbody></table></body></html>")


def setup(db: Database) -> int:
    """The demo solution, a few organisations and products, one order with LINES lines."""
    db.create_system_tables()
    import_solution(db, demo_solution())
    store = RecordStore(db)
    orgs = store.bulk_create(SYSTEM, "organisation", [{"name": f"Organisation {i}", "city": "Berlin"}
                                                      for i in range(20)])
    products = store.bulk_create(SYSTEM, "product", [{"name": f"Product {i}", "sku": f"P-{i:03d}",
                                                      "price": {"amount": str(10 + i), "currency": "EUR"},
                                                      "active": True} for i in range(30)])
    order = store.create(SYSTEM, "order", {"order_date": date(2026, 11, 1).isoformat(), "status": "confirmed",
                                           "organisation": orgs[0]})
    rnd = random.Random(7)
    store.bulk_create(SYSTEM, "order_line", [
        {"order": order["id"], "product": rnd.choice(products), "quantity": str(rnd.randint(1, 9)),
         "price": {"amount": f"{rnd.randint(100, 99999) / 100:.2f}", "currency": "EUR"}} for _ in range(LINES)])
    users.create_user(db, "bench", PASSWORD, display_name="Bench User")
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "bench", "Sales")
    for obj in db.schema().objects:
        rights.set_object_rights(db, SYSTEM, "Sales", obj.api_name, ["read"])
    db.optimize()
    return order["id"]


def baseline(db: Database, order_id: int):
    """Hand-written SQL for the same order and lines, a minimal Jinja page."""
    schema = db.schema()
    order, line, org, product = (schema.object(n) for n in ("order", "order_line", "organisation", "product"))
    o = {f.api_name: f.column for f in order.user_fields}
    ln = {f.api_name: f.column for f in line.user_fields}
    order_sql = sa.text(
        f"SELECT r.id, r.code, r.{o['order_date']}, r.{o['status']}, r.{o['total']}, g.id, g.{org.field('name').column} "
        f"FROM {order.table_name} r LEFT OUTER JOIN {org.table_name} g ON g.id = r.{o['organisation']} "
        f"WHERE r.id = :id AND r.deleted_at IS NULL")
    lines_sql = sa.text(
        f"SELECT l.id, l.{ln['price']}, l.{ln['price']}_currency, l.{ln['quantity']}, l.{ln['cost']}, p.id, "
        f"p.{product.field('name').column} FROM {line.table_name} l "
        f"LEFT OUTER JOIN {product.table_name} p ON p.id = l.{ln['product']} "
        f"WHERE l.{ln['order']} = :id AND l.deleted_at IS NULL ORDER BY l.id LIMIT 501")

    def run() -> str:
        with db.read() as conn:
            r = conn.execute(order_sql, {"id": order_id}).one()
            rows = conn.execute(lines_sql, {"id": order_id}).all()
        page = BASELINE_TEMPLATE.render(
            order={"code": r[1], "order_date": r[2], "status": r[3], "total": r[4], "org_id": r[5], "org": r[6]},
            lines=[{"id": x[0], "price": x[1], "currency": x[2], "quantity": x[3], "cost": x[4],
                    "product_id": x[5], "product": x[6]} for x in rows])
        assert len(rows) == LINES
        return page
    return run


def run_engine(name: str, url: str, runs: int) -> dict:
    db = Database(url)
    order_id = setup(db)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda s: None}, db=db)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench", "password": PASSWORD}).status_code == 302
    target = f"/o/order/{order_id}"

    def card_page():
        response = client.get(target)
        assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
        return response

    body = card_page().get_data(as_text=True)
    shown = body.count('<tr class="cb-row" data-row=')
    assert shown == LINES, f"the card shows {shown} lines, not {LINES}"
    assert 'id="cb-save"' not in body, "a read-only user must get no Save button"
    w50, w95, wcpu = timed(card_page, runs)
    b50, b95, bcpu = timed(baseline(db, order_id), runs)
    db.dispose()
    return {"engine": name, "web_p50": w50, "web_p95": w95, "web_cpu": wcpu,
            "base_p50": b50, "base_p95": b95, "base_cpu": bcpu, "load": load_note()}


def report(results: list[dict]) -> None:
    print()
    print(f"{'engine':<11} | {'card p50':>9} {'p95':>8} {'CPU':>8} | {'SQL+Jinja p50':>13} {'p95':>7} {'CPU':>7} | "
          f"{'ratio':>6} {'CPU ratio':>9}")
    for r in results:
        print(f"{r['engine']:<11} | {r['web_p50']:>7.2f}ms {r['web_p95']:>8.2f} {r['web_cpu']:>8.2f} | "
              f"{r['base_p50']:>11.2f}ms {r['base_p95']:>7.2f} {r['base_cpu']:>7.2f} | "
              f"{r['web_p50'] / r['base_p50']:>6.1f} {r['web_cpu'] / max(r['base_cpu'], 0.001):>9.1f}")
        if r["load"] is not None:
            print(r["load"])
    print()
    print(f"target: the card of an order with {LINES} lines, p50 <= {TARGET_P50_MS:.0f} ms (the whole request "
          "through Flask as a non-admin user; ratio = card / hand-written SQL rendered with a minimal Jinja page)")
    for r in results:
        print(f"  {r['engine']:<11}card p50: {'met' if r['web_p50'] <= TARGET_P50_MS else 'MISSED'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=60, help="timed requests (at least 50 recommended)")
    parser.add_argument("--engines", default="sqlite")
    args, _others = parser.parse_known_args(argv)  # `make bench` passes one BENCH_ARGS to every script
    report(each_engine(args.engines, f"an order with {LINES} lines",
                       lambda engine, url: run_engine(engine, url, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
