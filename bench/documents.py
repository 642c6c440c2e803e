"""Word documents (issue 16, point 9; not a test: prints figures and ratios).

An order with 20 lines filled into the tutorial's invoice (fields through a link, the
lines table, totals, the amount in words):

* documents per second through the whole path -- one engine session per document (as a
  card's Documents button or the API), the template checked against the metadata and the
  user's rights, the context read with purpose "print", docxtpl in the sandbox with its
  limits -- target >= 20 documents/s on SQLite;
* the baseline in the same run: plain docxtpl with an ordinary Jinja environment on a
  context built by hand in memory (no database, no checks, no sandbox);
* the time of one .zip of 100 such documents (one session, the template checked once).

    .venv/bin/python bench/documents.py                   # SQLite and PostgreSQL
    .venv/bin/python bench/documents.py --engines sqlite --documents 200
"""
from __future__ import annotations

import argparse
import io
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import each_engine, load_note  # noqa: E402  (puts this checkout and tests/ on sys.path)

from docxtpl import DocxTemplate  # noqa: E402
from invoice_fixture import _build, invoice_docx, order_with_lines  # noqa: E402
from jinja2 import Environment  # noqa: E402

from cardbase.doc_templates import documents, storage  # noqa: E402
from cardbase.doc_templates.formatting import Formatter  # noqa: E402
from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.field_types.money import Money  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

LINES = 20
ZIP = 100


def baseline_context() -> dict:
    """What the template needs, built by hand (the same values the store gives)."""
    lines = [{"product": f"Product {i + 1}", "price": Money(Decimal(f"{10 * (i + 1)}.50"), "EUR"), "quantity": i + 1,
              "cost": Decimal(f"{10 * (i + 1)}.50") * (i + 1)} for i in range(LINES)]
    total = sum((line["cost"] for line in lines), Decimal(0))
    client = {"company": "Müller & Söhne <GmbH>", "phone": "+49 30 1234567"}
    order = {"code": "INV-0001", "date": date(2026, 3, 14), "urgent": True, "client": client, "total": total,
             "deposit": Money(Decimal("250.00"), "PLN")}
    return {"order": order, "client": client, "order_line": lines}


def plain_docxtpl(content: bytes, context: dict) -> bytes:
    formatter = Formatter("en")
    env = Environment(autoescape=True, finalize=formatter.display)
    env.filters.update(formatter.filters())
    doc = DocxTemplate(io.BytesIO(content))
    doc.render(context, jinja_env=env)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def run(engine: str, url: str, count: int) -> dict:
    db = Database(url)
    try:
        db.create_system_tables()
        _build(db)
        store = RecordStore(db)
        ids = [order_with_lines(store, LINES, title=f"Order {i}") for i in range(max(count, ZIP))]
        content = invoice_docx()
        template_id = storage.create_template(store, SYSTEM, "order", name="Invoice", filename="invoice.docx",
                                              content=content)["id"]
        for rid in ids[:3]:  # warm up
            with store.session(SYSTEM) as s:
                documents.render_document(s, "order", template_id, rid)
        started, cpu = time.perf_counter(), time.process_time()
        for rid in ids[:count]:
            with store.session(SYSTEM) as s:
                document = documents.render_document(s, "order", template_id, rid)
        store_rate = count / (time.perf_counter() - started)
        store_cpu_rate = count / (time.process_time() - cpu)
        assert b"word/document.xml" in document.content
        context = baseline_context()
        for _ in range(3):
            plain_docxtpl(content, context)
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            plain_docxtpl(content, context)
        plain_rate = count / (time.perf_counter() - started)
        plain_cpu_rate = count / (time.process_time() - cpu)
        started, cpu = time.perf_counter(), time.process_time()
        with store.session(SYSTEM) as s:
            archive = documents.render_archive(s, "order", template_id, ids[:ZIP])
        zip_seconds, zip_cpu = time.perf_counter() - started, time.process_time() - cpu
        return {"engine": engine, "store": store_rate, "plain": plain_rate, "zip": zip_seconds,
                "zip_mb": len(archive.content) / 2**20, "store_cpu": store_cpu_rate, "plain_cpu": plain_cpu_rate,
                "zip_cpu": zip_cpu}
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=60, help="documents to time one by one")
    parser.add_argument("--engines", default="sqlite,postgresql")
    args, _unknown = parser.parse_known_args()  # make bench passes every benchmark the same arguments
    results = each_engine(args.engines, f"invoice with {LINES} lines, {args.documents} documents and a "
                                        f"{ZIP}-document zip", lambda e, u: run(e, u, args.documents))
    note = load_note()
    print(f"\nWord documents: an order with {LINES} lines into the invoice template{note or ''}")
    print("wall clock (what a user waits; on a busy machine it includes waiting for a core) and, in brackets, "
          "per CPU second of this process")
    print(f"{'engine':<11} {'documents/s':>18} {'plain docxtpl/s':>18} {'ratio':>6} {'100-document zip':>20}")
    for r in results:
        verdict = "meets" if r["store"] >= 20 else "BELOW"
        print(f"{r['engine']:<11} {r['store']:>7.1f} ({r['store_cpu']:>6.1f}) {r['plain']:>9.1f} ({r['plain_cpu']:>6.1f}) "
              f"{r['store'] / r['plain']:>6.2f} {r['zip']:>8.2f} s ({r['zip_cpu']:.2f} s), {r['zip_mb']:.1f} MB"
              + (f"  target >= 20/s on SQLite: {verdict}" if r["engine"] == "sqlite" else ""))


if __name__ == "__main__":
    main()
