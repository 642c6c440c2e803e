"""SQLite walks the sort index when many rows match and the filter's index when few do."""
from __future__ import annotations

import pytest

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.query import reader
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

from sql_recorder import recorded


def statements(db, fn):
    with recorded(db.engine) as seen:
        result = fn()
    return result, seen


def plan(db, stmt_text, params):
    with db.read() as conn:
        return " | ".join(r[-1] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + stmt_text, params))


@pytest.mark.parametrize("engine_name", ["sqlite"])
def test_many_matches_walk_the_sort_index_few_use_the_filter(db, monkeypatch):
    monkeypatch.setattr(reader, "PAGE_COUNT_CAP", 20)
    SchemaService(db).create_object(SYSTEM, {"name": "deal", "label": "Deal", "label_plural": "Deals", "fields": [
        {"name": "stage", "label": "Stage", "type": "choice",
         "options": {"choices": [{"value": "open"}, {"value": "rare"}]}},
        {"name": "due", "label": "Due", "type": "date"}]})
    store = RecordStore(db)
    rows = [{"stage": "rare" if i % 50 == 0 else "open", "due": f"2026-01-{1 + i % 28:02d}"} for i in range(300)]
    store.bulk_create(SYSTEM, "deal", rows)
    db.optimize()

    def page(stage):
        return lambda: store.list(SYSTEM, "deal", ListQuery(
            filter={"field": "stage", "op": "eq", "value": stage}, sort="-due", limit=5))

    (many, sql_many) = statements(db, page("open"))
    (few, sql_few) = statements(db, page("rare"))
    page_many = [s for s in sql_many if "ORDER BY" in s][0]
    page_few = [s for s in sql_few if "ORDER BY" in s][0]
    assert "+ obj_1.f1" in page_many and "+ obj_1.f1" not in page_few
    # same answers as a plain sort in Python
    assert [r["due"] for r in many.data] == sorted((r["due"] for r in many.data), reverse=True)
    assert many.count == 20 and many.count_is_estimate and few.count == 6 and not few.count_is_estimate
    assert "ix_obj_1_f2" in plan(db, page_many, ("open", 6, 0))  # the sort column's index
