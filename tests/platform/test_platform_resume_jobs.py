"""Recalculations a crash left half-done (issue 19, point 4): `cardbase check` reports them,
and every server start finishes them -- once per server, safely when several processes
resume at once."""
from __future__ import annotations

import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa

from cardbase.platform import server
from cardbase.schema_engine.actor import SYSTEM
from cardbase.schema_engine.computed.jobs import JOBS, resume_recompute_jobs, run_job
from cardbase.schema_engine.db import Database
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.store import RecordStore

LINES = 9


def _half_done(db) -> None:
    """A "fill" job (a new formula on a big table) and a "swap" job (a changed formula),
    each stopped after one batch as a kill -9 would leave them."""
    svc = SchemaService(db, recompute_batch=2, defer_recompute=True)
    svc.create_object(SYSTEM, {"name": "line", "label": "Line", "label_plural": "Lines", "fields": [
        {"name": "price", "label": "Price", "type": "decimal"},
        {"name": "quantity", "label": "Quantity", "type": "integer"},
        {"name": "cost", "label": "Cost", "type": "formula", "options": {"formula": "[Price] * [Quantity] * 7"}}]})
    RecordStore(db).bulk_create(SYSTEM, "line", [{"price": "1.50", "quantity": q} for q in range(1, LINES + 1)])
    svc.add_field(SYSTEM, "line", {"name": "net", "label": "Net", "type": "formula",
                                   "options": {"formula": "[Price] * [Quantity]"}})
    svc.update_field(SYSTEM, "line", "cost", {"options": {"formula": "[Price] * [Quantity] * 9"}})
    for job_id in _running(db):
        assert run_job(db, job_id, batch_size=2, max_batches=1) is False


def _running(db) -> list[int]:
    with db.read() as conn:
        return list(conn.execute(sa.select(JOBS.c.id).where(JOBS.c.status == "running").order_by(JOBS.c.id)).scalars())


def _values(db, field):
    return [r[field] for r in RecordStore(db).list(SYSTEM, "line", ListQuery(sort="id", limit=100)).data]


def _complete(db) -> bool:
    return (_values(db, "net") == [Decimal("1.50") * q for q in range(1, LINES + 1)]
            and _values(db, "cost") == [Decimal("1.50") * q * 9 for q in range(1, LINES + 1)])


def test_check_reports_and_the_serve_start_path_finishes_half_done_jobs(cli, new_url):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "Violet-harbour-7-lanterns"}).exit_code == 0
    db = Database(new_url)
    try:
        _half_done(db)
        assert _values(db, "net")[2:] == [None] * (LINES - 2)  # empty after the crash
        assert _values(db, "cost")[0] == Decimal("1.50") * 7  # the definition says *9
        checked = cli("check")
        assert checked.exit_code == 1, checked.output
        assert "field 'line.net': recalculation job" in checked.output and "(fill: " in checked.output
        assert "field 'line.cost': recalculation job" in checked.output and "(swap: " in checked.output
        assert f"2/{LINES} records done" in checked.output
        # what `cardbase serve` starts (without binding a port)
        resumer = server.start_job_resumer(new_url)
        assert resumer.wait(timeout=120) == 0
        assert _running(db) == [] and _complete(db)
        checked = cli("check")
        assert checked.exit_code == 0 and "metadata and database agree" in checked.output
    finally:
        db.dispose()


@pytest.mark.parametrize("dev", [False, True])
def test_serve_starts_the_resumer_once_per_server(cli, new_url, monkeypatch, dev):
    assert cli("init", env={"CARDBASE_ADMIN_PASSWORD": "Violet-harbour-7-lanterns"}).exit_code == 0
    calls = []
    monkeypatch.setattr(server, "start_job_resumer", lambda url: calls.append(("resume", url)))
    monkeypatch.setattr(server, "serve_gunicorn", lambda *a, **kw: calls.append(("gunicorn",)))
    monkeypatch.setattr(server, "serve_dev", lambda *a, **kw: calls.append(("dev",)))
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert cli("serve", *(["--dev"] if dev else [])).exit_code == 0
    assert calls == [("resume", new_url), ("dev",) if dev else ("gunicorn",)]
    if dev:  # the dev server's reloaded child does not resume again
        calls.clear()
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert cli("serve", "--dev").exit_code == 0
        assert calls == [("dev",)]


def test_concurrent_resumers_neither_double_process_nor_fail(db):
    _half_done(db)
    reports, errors = [], []
    start = threading.Barrier(3)

    def resume() -> None:
        try:
            start.wait()
            resume_recompute_jobs(db, batch_size=1, progress=reports.append)
        except Exception as exc:  # pragma: no cover - what the test is about
            errors.append(exc)

    threads = [threading.Thread(target=resume) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert _running(db) == [] and _complete(db)
    with db.read() as conn:
        done = conn.execute(sa.select(JOBS.c.processed, JOBS.c.total).where(JOBS.c.status == "done")).all()
    assert done == [(LINES, LINES), (LINES, LINES)]  # every record once: a batch done twice would count twice
    batches = sorted((r.job_id, r.processed) for r in reports if not r.done)
    assert len(batches) == len(set(batches)) == 2 * (LINES - 2)
    assert sum(1 for r in reports if r.done) == 2
