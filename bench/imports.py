"""Spreadsheet imports, backup and restore (not a test: prints figures and ratios).

For each engine, into an object of contacts (name, e-mail, phone, city, date, amount, a
choice): N rows imported from a CSV file and from an XLSX file through the whole import
(streaming reader, per-type parsing in the file's locale, phone numbers to E.164, the
change pipeline in chunks of 1,000: validation, rights, history, search index, outbox,
one action per chunk), against the baseline measured in the same run: the store's bulk
insert of the same rows, already parsed (``RecordStore.bulk_create``, target ratio >= 0.5).
Then, in a child process, the peak RSS of importing a CSV of ``--memory-rows`` rows (target
< 500 MB at 1M), and the time to back that database up and restore it into a new one.

    .venv/bin/python bench/imports.py                              # 100k rows, SQLite and PostgreSQL
    .venv/bin/python bench/imports.py --rows 20000 --memory-rows 1000000 --engines sqlite
"""
from __future__ import annotations

import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import bench_parser, each_engine, finish  # noqa: E402  (puts this checkout on sys.path)

from cardbase.schema_engine.actor import SYSTEM  # noqa: E402
from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.schema_service import SchemaService  # noqa: E402
from cardbase.schema_engine.store import RecordStore  # noqa: E402

BATCH = 1000
CITIES = ("Berlin", "München", "Köln", "Hamburg", "Leipzig")


def setup(db: Database) -> RecordStore:
    db.create_system_tables()
    SchemaService(db).create_object(SYSTEM, {"name": "contact", "label": "Contact", "label_plural": "Contacts", "fields": [
        {"name": "name", "label": "Name", "type": "string", "required": True},
        {"name": "email", "label": "E-mail", "type": "email"},
        {"name": "phone", "label": "Phone", "type": "phone"},
        {"name": "city", "label": "City", "type": "string"},
        {"name": "since", "label": "Since", "type": "date"},
        {"name": "amount", "label": "Amount", "type": "decimal", "options": {"precision": 14, "scale": 2}},
        {"name": "stage", "label": "Stage", "type": "choice", "options": {"choices": [
            {"value": "lead", "label": "Lead"}, {"value": "client", "label": "Client"}]}}]})
    return RecordStore(db)


def cells(i: int) -> list[str]:
    """One row as a German spreadsheet writes it."""
    day = date(2020, 1, 1) + timedelta(days=i % 2000)
    return [f"Contact {i}", f"c{i}@example.org", f"030 {1000000 + i % 8999999}", CITIES[i % 5],
            f"{day.day:02d}.{day.month:02d}.{day.year}", f"{i % 100000:,}.{i % 100:02d}".replace(",", "X")
            .replace(".", ",").replace("X", "."), "Client" if i % 3 else "Lead"]


HEADER = ["Name", "E-Mail", "Telefon", "Ort", "Seit", "Betrag", "Stage"]
MAPPING = {"Name": "name", "E-Mail": "email", "Telefon": "phone", "Ort": "city", "Seit": "since",
           "Betrag": "amount", "Stage": "stage"}


def write_csv(path: str, rows: int, start: int = 0) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(HEADER)
        for i in range(start, start + rows):
            out.writerow(cells(i))


def write_xlsx(path: str, rows: int, start: int = 0) -> None:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Contacts")
    sheet.append(HEADER)
    for i in range(start, start + rows):
        sheet.append(cells(i))
    book.save(path)


def run_import(store: RecordStore, path: str) -> float:
    from cardbase.transfer.importer import Importer, ImportSettings
    from cardbase.transfer.readers import open_sheet

    settings = ImportSettings(MAPPING, locale="de", region="DE", atomic=False)
    t0 = time.perf_counter()
    result = Importer(store, SYSTEM, "contact", open_sheet(path), settings).run()
    elapsed = time.perf_counter() - t0
    assert result.failed == 0 and result.created > 0, result.errors[:3]
    return result.created / elapsed


def baseline(store: RecordStore, rows: int, start: int) -> float:
    """The same rows, parsed already, through the store's bulk insert."""
    parsed = []
    for i in range(start, start + rows):
        day = date(2020, 1, 1) + timedelta(days=i % 2000)
        parsed.append({"name": f"Contact {i}", "email": f"c{i}@example.org", "phone": f"+4930{1000000 + i % 8999999}",
                       "city": CITIES[i % 5], "since": day, "amount": Decimal(f"{i % 100000}.{i % 100:02d}"),
                       "stage": "client" if i % 3 else "lead"})
    t0 = time.perf_counter()
    for begin in range(0, rows, BATCH):
        store.bulk_create(SYSTEM, "contact", parsed[begin:begin + BATCH])
    return rows / (time.perf_counter() - t0)


def child_import(url: str, path: str) -> None:
    """In a process of its own: import ``path``, print the peak RSS in MB."""
    store = RecordStore(Database(url))
    run_import(store, path)
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def run_engine(engine: str, url: str, rows: int, memory_rows: int) -> dict:
    db = Database(url)
    store = setup(db)
    out: dict = {"engine": engine, "rows": rows}
    with tempfile.TemporaryDirectory(prefix="cardbase-bench-import-") as tmp:
        csv_path, xlsx_path = os.path.join(tmp, "in.csv"), os.path.join(tmp, "in.xlsx")
        write_csv(csv_path, rows)
        write_xlsx(xlsx_path, rows, start=rows)
        out["csv_rps"] = run_import(store, csv_path)
        out["xlsx_rps"] = run_import(store, xlsx_path)
        out["bulk_rps"] = baseline(store, rows, 2 * rows)
        if memory_rows:
            big = os.path.join(tmp, "big.csv")
            write_csv(big, memory_rows, start=10 * rows)
            t0 = time.perf_counter()
            child = subprocess.run([sys.executable, __file__, "--child", url, big], capture_output=True, text=True,
                                   check=True)
            out["memory_seconds"] = time.perf_counter() - t0
            out["peak_mb"] = float(child.stdout.strip().splitlines()[-1])
            print(f"  {memory_rows:,} rows from CSV in {out['memory_seconds']:.0f} s, peak RSS {out['peak_mb']:.0f} MB",
                  flush=True)
            out.update(backup_restore(db, engine, tmp))
    db.dispose()
    return out


def backup_restore(db: Database, engine: str, tmp: str) -> dict:
    from cardbase.transfer import backup

    archive = os.path.join(tmp, "backup.zip")
    t0 = time.perf_counter()
    manifest = backup.backup(db, archive)
    backup_s = time.perf_counter() - t0
    print(f"  backup of {sum(t['rows'] for t in manifest['tables']):,} rows in {backup_s:.1f} s", flush=True)
    target_url = f"sqlite:///{tmp}/restored.db" if engine == "sqlite" else None
    if target_url is None:  # a second database on the same cluster
        base = db.engine.url
        admin = Database(base.set(database="postgres"))
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("CREATE DATABASE restored")
        admin.dispose()
        target_url = base.set(database="restored").render_as_string(hide_password=False)
    target = Database(target_url)
    t0 = time.perf_counter()
    backup.restore(target, archive)
    restore_s = time.perf_counter() - t0
    target.dispose()
    return {"backup_s": backup_s, "restore_s": restore_s, "backup_rows": sum(t["rows"] for t in manifest["tables"]),
            "archive_mb": os.path.getsize(archive) / 1048576}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        child_import(argv[1], argv[2])
        return 0
    parser = bench_parser(__doc__, rows=100_000)
    parser.add_argument("--memory-rows", type=int, default=1_000_000, help="0: skip the memory, backup and restore run")
    args, _others = parser.parse_known_args(argv)
    results = each_engine(args.engines, f"import of {args.rows} rows, memory at {args.memory_rows}",
                          lambda engine, url: run_engine(engine, url, args.rows, args.memory_rows))
    print()
    print(f"{'engine':<11}{'rows':>8} | {'CSV rows/s':>10} {'XLSX rows/s':>11} {'bulk rows/s':>11} "
          f"{'CSV/bulk':>8} {'XLSX/bulk':>9} (target >= 0.5)")
    for r in results:
        print(f"{r['engine']:<11}{r['rows']:>8} | {r['csv_rps']:>10.0f} {r['xlsx_rps']:>11.0f} {r['bulk_rps']:>11.0f} "
              f"{r['csv_rps'] / r['bulk_rps']:>8.2f} {r['xlsx_rps'] / r['bulk_rps']:>9.2f}")
    for r in results:
        if "peak_mb" in r:
            print(f"{r['engine']}: {args.memory_rows:,} rows from CSV in {r['memory_seconds']:.0f} s, peak RSS "
                  f"{r['peak_mb']:.0f} MB (target < 500 MB); backup of {r['backup_rows']:,} rows in "
                  f"{r['backup_s']:.1f} s ({r['archive_mb']:.0f} MB), restore in {r['restore_s']:.1f} s")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
