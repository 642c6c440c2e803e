"""Benchmark of the list page (not a test: prints figures and a ratio, asserts nothing).

The whole list page of 50 rows, rendered server-side through the Flask test client for
a signed-in NON-admin user (group "Sales": read right on deals and organisations), on
an object of N deals (1,000,000 by default): the filter stage = proposal and amount >=
1000, newest close date first, columns title, stage, amount, close date, organisation
and the organisation's name (a link path). That is everything a request costs: session
and user, the rights, the table design and saved views, the store's page and capped
count, the menu, the filter builder's field list and the page template.

Side by side in the same run, the baseline: the same 50 rows fetched with hand-written
SQL (page and capped count, as bench/run.py writes it) and rendered with a minimal Jinja
table. The ratio says what the generic machinery costs over the bare minimum.

    .venv/bin/python bench/web_list.py                  # 1M deals, SQLite
    .venv/bin/python bench/web_list.py --rows 100000    # smaller, quicker
    .venv/bin/python bench/web_list.py --engines sqlite,postgresql
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engines import each_engine, load_note, timed  # noqa: E402  (also puts the repo on sys.path)
import run as base  # noqa: E402  (bench/run.py: the deal fields, rows and loading)

import jinja2  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from cardbase.platform import users  # noqa: E402
from cardbase.platform.app import create_app  # noqa: E402
from cardbase.schema_engine import rights  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

TARGET_P50_MS = 50.0
PASSWORD = "bench-password-1"
COLUMNS = ["title", "stage", "amount", "close_date", "organisation", "organisation.name"]
FILTER = {"and": [{"field": "stage", "op": "eq", "value": "proposal"},
                  {"field": "amount", "op": "ge", "value": "1000"}]}
SORT = "-close_date"
BASELINE_TEMPLATE = jinja2.Environment(autoescape=True).from_string(
    "<!doctype html><html><head><title>Deals</title></head><body><h1>Deals</h1><p>{{ count }} records</p>"
    "<table><thead><tr>{% for h in heads %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>"
    "{% for row in rows %}<tr>{% for v in row %}<td>{{ v if v is not none else '' }}</td>{% endfor %}</tr>"
    "{% endfor %}</tbody></table></body></html>")


def setup(db: Database, rows: int) -> None:
    db.create_system_tables()
    svc = SchemaService(db)
    svc.create_object(SYSTEM, {"name": "organisation", "label": "Organisation", "label_plural": "Organisations",
                               "fields": [{"name": "name", "label": "Name", "type": "string"}]})
    svc.create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals",
                               "fields": base.deal_fields("organisation")})
    store = RecordStore(db)
    org_ids = store.bulk_create(SYSTEM, "organisation", [{"name": f"Organisation {i}"} for i in range(1000)])
    t0 = time.perf_counter()
    for start in range(0, rows, 100_000):  # rows made in slices so memory stays flat
        data = base.make_rows(min(100_000, rows - start), org_ids, seed=7 + start)
        for i in range(0, len(data), base.CHUNK):
            store.bulk_create(SYSTEM, "deal", data[i:i + base.CHUNK])
        print(f"  {start + len(data):>9} deals loaded ({time.perf_counter() - t0:.0f}s)", flush=True)
    users.create_user(db, "bench", PASSWORD, display_name="Bench User")
    users.create_group(db, SYSTEM, "Sales")
    users.add_member(db, SYSTEM, "bench", "Sales")
    for name in ("organisation", "deal"):
        rights.set_object_rights(db, SYSTEM, "Sales", name, ["read", "create", "edit", "export"])
    db.optimize()


def page_url() -> str:
    return "/o/deal?" + urlencode({"cols": ",".join(COLUMNS), "sort": SORT, "filter": json.dumps(FILTER),
                                   "limit": 50})


def baseline(db: Database):
    """Hand-written SQL for the same page (and capped count), a minimal Jinja table."""
    schema = db.schema()
    deal, org = schema.object("deal"), schema.object("organisation")
    f = {x.api_name: x.column for x in deal.user_fields}
    oname = org.field("name").column
    page_sql = sa.text(
        f"SELECT d.id, d.{f['title']}, d.{f['stage']}, d.{f['amount']}, d.{f['close_date']}, "
        f"d.{f['organisation']}, o.{oname} FROM {deal.table_name} d "
        f"LEFT OUTER JOIN {org.table_name} o ON o.id = d.{f['organisation']} "
        f"WHERE d.deleted_at IS NULL AND d.{f['stage']} = :stage AND d.{f['amount']} >= :amount "
        f"ORDER BY d.{f['close_date']} DESC NULLS LAST, d.id DESC LIMIT 51")
    count_sql = sa.text(f"SELECT count(*) FROM (SELECT 1 FROM {deal.table_name} d WHERE d.deleted_at IS NULL "
                        f"AND d.{f['stage']} = :stage AND d.{f['amount']} >= :amount LIMIT 1001) s")
    params = {"stage": "proposal", "amount": 1000}
    heads = ["Title", "Stage", "Amount", "Close date", "Organisation", "Organisation › Name"]

    def run() -> str:
        with db.read() as conn:
            rows = conn.execute(page_sql, params).all()
            count = conn.execute(count_sql, params).scalar()
        shown = [(r[1], r[2], r[3], r[4], r[6], r[6]) for r in rows[:50]]
        html = BASELINE_TEMPLATE.render(heads=heads, rows=shown, count=count)
        assert len(rows) == 51
        return html
    return run


def run_engine(name: str, url: str, rows: int, runs: int) -> dict:
    db = Database(url)
    setup(db, rows)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "CARDBASE_LOGIN_SLEEP": lambda s: None}, db=db)
    client = app.test_client()
    assert client.post("/login", data={"username": "bench", "password": PASSWORD}).status_code == 302
    target = page_url()

    def web_page():
        response = client.get(target)
        assert response.status_code == 200, response.get_data(as_text=True)[-2000:]
        return response

    body = web_page().get_data(as_text=True)
    shown_rows = body.count("<tr data-href=")
    assert shown_rows == 50, f"the page shows {shown_rows} rows, not 50"
    store = RecordStore(db)
    from cardbase.platform.context import actor_for
    from cardbase.schema_engine.query.model import ListQuery
    actor = actor_for(users.find_user(db, "bench"), db)
    query = ListQuery(filter=FILTER, sort=SORT, limit=50, fields=COLUMNS)

    def store_only():
        assert len(store.list(actor, "deal", query).data) == 50

    w50, w95, wcpu = timed(web_page, runs)
    s50, s95, scpu = timed(store_only, runs)
    b50, b95, bcpu = timed(baseline(db), runs)
    db.dispose()
    return {"engine": name, "rows": rows, "web_p50": w50, "web_p95": w95, "store_p50": s50, "store_p95": s95,
            "base_p50": b50, "base_p95": b95, "web_cpu": wcpu, "store_cpu": scpu, "base_cpu": bcpu,
            "load": load_note()}


def report(results: list[dict]) -> None:
    print()
    print(f"{'engine':<11}{'rows':>9} | {'page p50':>9} {'p95':>7} | {'store p50':>9} {'p95':>7} | "
          f"{'SQL+Jinja p50':>13} {'p95':>7} | {'ratio':>6}")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>9} | {r['web_p50']:>7.2f}ms {r['web_p95']:>7.2f} | "
              f"{r['store_p50']:>7.2f}ms {r['store_p95']:>7.2f} | {r['base_p50']:>11.2f}ms {r['base_p95']:>7.2f} | "
              f"{r['web_p50'] / r['base_p50']:>6.2f}")
        print(f"{'  CPU p50':<20} | {r['web_cpu']:>7.2f}ms {'':>7} | {r['store_cpu']:>7.2f}ms {'':>7} | "
              f"{r['base_cpu']:>11.2f}ms {'':>7} | {r['web_cpu'] / max(r['base_cpu'], 0.001):>6.2f}")
        if r["load"] is not None:
            print(r["load"])
    print()
    print(f"target: the list page of 50 rows on a 1M-record object, p50 <= {TARGET_P50_MS:.0f} ms "
          "(page = the whole request through Flask as a non-admin user; ratio = page / hand-written SQL "
          "rendered with a minimal Jinja table)")
    for r in results:
        verdict = "met" if r["web_p50"] <= TARGET_P50_MS else "MISSED"
        note = "" if r["rows"] >= 1_000_000 else f" (at {r['rows']} rows, not 1M)"
        print(f"  {r['engine']:<11}page p50: {verdict}{note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=60, help="timed requests (at least 50 recommended)")
    parser.add_argument("--engines", default="sqlite")
    args, _others = parser.parse_known_args(argv)  # `make bench` passes one BENCH_ARGS to every script
    if args.rows < 50:
        raise SystemExit("--rows must be at least 50 (one page)")
    report(each_engine(args.engines, f"{args.rows} deals",
                       lambda engine, url: run_engine(engine, url, args.rows, args.runs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
