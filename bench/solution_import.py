"""Solution import time against the document's size (not a test: prints figures).

A generated solution of N objects, each with 8 fields (text, number, decimal, date,
choice, yes/no, e-mail) and a link to the object before it, plus a card per object, is
imported into a fresh database; the time per object should stay flat as N grows (the
import is linear in the document).

    .venv/bin/python bench/solution_import.py                       # N = 25, 50, 100, 200 on SQLite
    .venv/bin/python bench/solution_import.py --sizes 25,50 --engines sqlite,postgresql
    CARDBASE_ROOT=/path/to/older/checkout .venv/bin/python bench/solution_import.py  # "before"
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from engines import fresh_database, engine_names, load_note  # noqa: E402  (puts this checkout on sys.path)

if os.environ.get("CARDBASE_ROOT"):  # measure another checkout with the same script
    sys.path.insert(0, os.environ["CARDBASE_ROOT"])
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]

from cardbase.schema_engine.db import Database  # noqa: E402
from cardbase.schema_engine.solution import FORMAT, import_solution  # noqa: E402


def document(n: int) -> dict:
    objects, cards = [], []
    for i in range(n):
        name = f"thing{i}"
        fields = [
            {"name": "title", "label": "Title", "type": "string", "required": True},
            {"name": "amount", "label": "Amount", "type": "decimal", "options": {"precision": 14, "scale": 2}},
            {"name": "count", "label": "Count", "type": "integer"},
            {"name": "due", "label": "Due", "type": "date"},
            {"name": "stage", "label": "Stage", "type": "choice",
             "options": {"choices": [{"value": "new", "label": "New"}, {"value": "done", "label": "Done"}]}},
            {"name": "active", "label": "Active", "type": "boolean"},
            {"name": "email", "label": "E-mail", "type": "email"},
        ]
        if i:
            fields.append({"name": "parent", "label": "Parent", "type": "link",
                           "options": {"target": f"thing{i - 1}"}})
        objects.append({"name": name, "label": f"Thing {i}", "label_plural": f"Things {i}",
                        "display_field": "title", "fields": fields})
        cards.append({"object": name, "name": "Main", "is_default": True,
                      "layout": {"sections": [{"title": "Main", "fields": [f"@{name}.title", f"@{name}.amount"]}]}})
    return {"format": FORMAT, "format_version": 1, "objects": objects, "cards": cards, "views": []}


def run(url: str, n: int) -> float:
    db = Database(url)
    try:
        db.create_system_tables()
        doc = document(n)
        t0 = time.perf_counter()
        import_solution(db, doc)
        return time.perf_counter() - t0
    finally:
        db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="25,50,100,200", help="numbers of objects (comma-separated)")
    parser.add_argument("--engines", default="sqlite", help="sqlite, postgresql or both (comma-separated)")
    parser.add_argument("--rows", help=argparse.SUPPRESS)  # make bench passes BENCH_ARGS to every script
    args, _unknown = parser.parse_known_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    note = load_note()
    if note:
        print(note)
    for engine in engine_names(args.engines):
        print(f"[{engine}] solution import: N objects x 8 fields + a link + a card")
        for n in sizes:
            with fresh_database(engine) as url:
                if url is None:
                    break
                seconds = run(url, n)
            print(f"  N = {n:4d}: {seconds:7.2f} s   {seconds / n * 1000:7.1f} ms per object", flush=True)


if __name__ == "__main__":
    main()
