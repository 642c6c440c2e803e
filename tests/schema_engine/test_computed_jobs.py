"""Changing a formula recomputes every record: inline for a small table, otherwise in
batches with progress, resumable after a crash, the old values readable until the new
ones are swapped in (and kept current meanwhile)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.computed.jobs import resume_recompute_jobs, run_job
from cardbase.schema_engine.drift import check_drift
from cardbase.schema_engine.field_types.base import FieldContext
from cardbase.schema_engine.meta_models import RecomputeJob
from cardbase.schema_engine.query.model import ListQuery

from computed_fixture import d, order_book, value

DOUBLE = {"formula": "[Price] * [Quantity] * 2"}


def jobs(db) -> list[dict]:
    with db.read() as conn:
        return [dict(r) for r in conn.execute(sa.select(RecomputeJob.__table__).order_by(RecomputeJob.id)).mappings()]


def costs(store) -> list:
    return [r["cost"] for r in store.list(SYSTEM, "order_line", sa_query()).data]


def sa_query() -> ListQuery:
    return ListQuery(sort="id", limit=100)


def ten_lines(db, **service_options):
    svc, store = order_book(db, **service_options)
    order = store.create(SYSTEM, "order", {"title": "O"})
    store.bulk_create(SYSTEM, "order_line", [{"order": order["id"], "price": "1", "quantity": q} for q in range(1, 11)])
    return svc, store, order


def test_a_small_table_is_recomputed_inline_without_a_job(db):
    svc, store, order = ten_lines(db)
    svc.update_field(SYSTEM, "order_line", "cost", {"options": DOUBLE})
    assert costs(store) == [d(2 * q) for q in range(1, 11)]
    assert value(store, "order", order["id"], "total") == d(110)
    assert jobs(db) == []


def test_a_big_change_runs_in_batches_and_reports_progress(db):
    reports = []
    svc, store, order = ten_lines(db, recompute_batch=3, recompute_progress=reports.append)
    svc.update_field(SYSTEM, "order_line", "cost", {"options": DOUBLE})
    assert [(r.processed, r.total, r.done) for r in reports] == [
        (3, 10, False), (6, 10, False), (9, 10, False), (10, 10, False), (10, 10, True)]
    assert costs(store) == [d(2 * q) for q in range(1, 11)]
    assert value(store, "order", order["id"], "total") == d(110)  # dependants follow at the swap
    (job,) = jobs(db)
    assert (job["status"], job["mode"], job["processed"]) == ("done", "swap", 10)
    assert check_drift(db) == []  # no shadow column left behind
    cost = db.schema().object("order_line").field("cost")
    assert "pending" not in cost.options and cost.options["formula"].endswith("* 2")


def test_old_values_stay_readable_and_current_until_the_swap(db):
    svc, store, order = ten_lines(db, recompute_batch=3, defer_recompute=True)
    svc.update_field(SYSTEM, "order_line", "cost", {"options": DOUBLE})
    schema = db.schema()
    line_obj = schema.object("order_line")
    cost = line_obj.field("cost")
    shown = cost.ftype.export_options(cost.options, FieldContext(schema, line_obj, cost.id))
    assert shown["formula"] == "[Price] * [Quantity] * 2"  # what was saved ...
    assert costs(store) == [d(q) for q in range(1, 11)]  # ... while readers see the current values
    (job,) = jobs(db)
    assert run_job(db, job["id"], batch_size=3, max_batches=2) is False
    assert costs(store) == [d(q) for q in range(1, 11)]
    assert value(store, "order", order["id"], "total") == d(55)
    assert check_drift(db) == []  # the shadow columns are known
    # writes meanwhile keep both the current and the next values right
    first = store.list(SYSTEM, "order_line", sa_query()).data[0]
    store.update(SYSTEM, "order_line", first["id"], {"quantity": 100}, version=first["version"])
    new = store.create(SYSTEM, "order_line", {"order": order["id"], "price": "3", "quantity": 1})
    assert new["cost"] == d(3) and value(store, "order_line", first["id"], "cost") == d(100)
    assert resume_recompute_jobs(db, batch_size=3) == [job["id"]]
    assert costs(store) == [d(200)] + [d(2 * q) for q in range(2, 11)] + [d(6)]
    assert value(store, "order", order["id"], "total") == d(200 + 108 + 6)


def test_a_crash_resumes_from_the_last_committed_batch(db):
    svc, store, order = ten_lines(db, recompute_batch=3, defer_recompute=True)
    svc.update_field(SYSTEM, "order_line", "cost", {"options": DOUBLE})
    (job,) = jobs(db)

    def crash_after_two(report):
        if report.processed >= 6:
            raise RuntimeError("power failure")

    with pytest.raises(RuntimeError):
        run_job(db, job["id"], batch_size=3, progress=crash_after_two)
    (job,) = jobs(db)
    assert (job["status"], job["processed"]) == ("running", 6)
    assert costs(store) == [d(q) for q in range(1, 11)]
    reports = []
    resume_recompute_jobs(db, batch_size=3, progress=reports.append)
    assert [(r.processed, r.done) for r in reports] == [(9, False), (10, False), (10, True)]
    assert costs(store) == [d(2 * q) for q in range(1, 11)]
    assert value(store, "order", order["id"], "total") == d(110)
    assert jobs(db)[0]["status"] == "done"


def test_a_new_formula_on_a_big_table_is_filled_in_batches(db):
    svc, store, order = ten_lines(db, recompute_batch=4, defer_recompute=True)
    svc.add_field(SYSTEM, "order_line", {"name": "net", "label": "Net", "type": "formula",
                                        "options": {"formula": "[Cost] / 1.19", "scale": 2}})
    svc.add_field(SYSTEM, "order", {"name": "net", "label": "Net", "type": "rollup",
                                   "options": {"child": "order_line", "field": "net", "aggregate": "sum"}})
    assert [r["net"] for r in store.list(SYSTEM, "order_line", sa_query()).data] == [None] * 10
    assert [j["mode"] for j in jobs(db)] == ["fill"]
    resume_recompute_jobs(db, batch_size=4)
    assert [r["net"] for r in store.list(SYSTEM, "order_line", sa_query()).data][:2] == [d("0.84"), d("1.68")]
    assert value(store, "order", order["id"], "net") == d("46.20")


def test_editing_again_or_removing_the_field_supersedes_a_running_job(db):
    svc, store, _ = ten_lines(db, recompute_batch=3, defer_recompute=True)
    svc.add_field(SYSTEM, "order_line", {"name": "tax", "label": "Tax", "type": "formula",
                                        "options": {"formula": "[Price] * 0.19"}})
    svc.update_field(SYSTEM, "order_line", "tax", {"options": {"formula": "[Price] * 0.07"}})
    svc.update_field(SYSTEM, "order_line", "tax", {"options": {"formula": "[Price] * 0.16"}})
    assert [(j["mode"], j["status"]) for j in jobs(db)] == [
        ("fill", "cancelled"), ("swap", "cancelled"), ("swap", "running")]
    svc.update_field(SYSTEM, "order_line", "tax", {"label": "VAT"})  # keeps the job going
    assert jobs(db)[-1]["status"] == "running"
    resume_recompute_jobs(db, batch_size=3)
    assert {r["tax"] for r in store.list(SYSTEM, "order_line", sa_query()).data} == {d("0.16")}
    svc.update_field(SYSTEM, "order_line", "tax", {"options": {"formula": "[Price] * 0.5"}})
    svc.remove_field(SYSTEM, "order_line", "tax")
    assert jobs(db)[-1]["status"] == "cancelled"
    assert resume_recompute_jobs(db) == []
    assert check_drift(db) == []


def test_schema_service_runs_its_jobs_and_survives_a_failing_one(db, caplog):
    reports = []

    def fail(report):
        reports.append(report)
        raise RuntimeError("disk full")

    svc, store, _ = ten_lines(db, recompute_batch=3, recompute_progress=fail)
    svc.update_field(SYSTEM, "order_line", "cost", {"options": DOUBLE})  # committed; the job waits
    assert len(reports) == 1 and jobs(db)[0]["status"] == "running"
    assert "resume_recompute_jobs" in caplog.text
    resume_recompute_jobs(db, batch_size=3)  # what the worker does
    assert costs(store) == [d(2 * q) for q in range(1, 11)]


def test_a_swapped_text_formula_is_searchable_with_its_new_values(db):
    svc, store, _ = ten_lines(db, recompute_batch=3)
    svc.add_field(SYSTEM, "order_line", {"name": "tag", "label": "Tag", "type": "formula",
                                        "options": {"formula": '"qty" & [Quantity]'}})
    assert len(store.list(SYSTEM, "order_line", ListQuery(search="qty7")).data) == 1
    svc.update_field(SYSTEM, "order_line", "tag", {"options": {"formula": '"pieces" & [Quantity]'}})
    assert store.list(SYSTEM, "order_line", ListQuery(search="qty7")).data == []
    assert len(store.list(SYSTEM, "order_line", ListQuery(search="pieces7")).data) == 1
