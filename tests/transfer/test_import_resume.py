"""A job whose process died (simulated: the run stops between two committed chunks, leaving
its row "running" like kill -9 does; the real kill -9 is test_import_crash) is marked
"interrupted" once its heartbeat is older than the lease -- by the worker's periodic check --,
says exactly what it had written, and resumes: after its last committed line for an import
keeping its good rows (no row twice), from the start for an all-or-nothing one."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from cardbase.automation.worker import Services, Worker
from cardbase.schema_engine.errors import ValidationError
from cardbase.transfer import housekeeping, jobs
from cardbase.transfer.importer import ImportSettings
from transfer_fixture import world, write_csv


class Killed(BaseException):
    """Stands for the process dying: run_job catches no BaseException, so its row stays "running"."""


def _names(db) -> list[str]:
    with db.read() as conn:
        schema = db.schema(conn)
        table = schema.table("person")
        return list(conn.execute(sa.select(table.c[schema.object("person").field("name").column])
                                 .order_by(table.c.id)).scalars())


def _dead_job(db, tmp_path, monkeypatch, atomic: bool):
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", str(tmp_path))
    _svc, store, who = world(db)
    path = write_csv(tmp_path / "people.csv", [["Name"]] + [[f"P{i}"] for i in range(10)])
    with store.session(who, write=True) as s:
        job_id = jobs.create_job(s.conn, who, s.object("person").id, str(path), "people.csv",
                                 ImportSettings({"Name": "name"}, atomic=atomic), {})
    monkeypatch.setattr(jobs, "CHUNK", 3)
    original = jobs.JobProgress.live

    def live(self, result, line):
        original(self, result, line)
        if result.rows >= 6:
            raise Killed()

    monkeypatch.setattr(jobs.JobProgress, "live", live)
    with pytest.raises(Killed):
        jobs.run_job(store, job_id, who)
    monkeypatch.setattr(jobs.JobProgress, "live", original)
    assert jobs.job_status(db, who, job_id)["state"] == "running"
    return store, who, job_id


def _worker_round(store, monkeypatch) -> None:
    monkeypatch.setattr(housekeeping, "_last_run", {})
    Worker(Services(store=store)).run_once()


def test_good_rows_job_is_interrupted_by_the_worker_and_resumes_after_its_last_line(db, tmp_path, monkeypatch):
    store, who, job_id = _dead_job(db, tmp_path, monkeypatch, atomic=False)
    assert _names(db) == [f"P{i}" for i in range(6)]
    _worker_round(store, monkeypatch)  # the heartbeat is fresh: within the lease, still "running"
    assert jobs.job_status(db, who, job_id)["state"] == "running"
    monkeypatch.setenv("CARDBASE_IMPORT_LEASE_SECONDS", "0")
    _worker_round(store, monkeypatch)
    status = jobs.job_status(db, who, job_id)
    assert status["state"] == "interrupted" and status["resumable"] is True
    assert status["message"] == ("interrupted: 6 created, 0 updated, 0 skipped, 0 with errors, up to line 7 "
                                 "of the file; resume imports the rest")
    assert (status["created"], status["progress"]["rows_done"]) == (6, 6)
    done = jobs.resume_job(store, jobs.InlineRunner(), who, job_id)
    assert done["resumed"] == {"after_line": 7, "rows_done": 6, "created": 6, "updated": 0, "skipped": 0,
                               "failed": 0}
    assert _names(db) == [f"P{i}" for i in range(10)]  # the rest, each row once
    status = jobs.job_status(db, who, job_id)
    assert (status["state"], status["created"], status["progress"]["rows_done"]) == ("done", 10, 10)
    assert status["resumed"]["after_line"] == 7 and status["resumable"] is False
    with pytest.raises(ValidationError) as refused:
        jobs.resume_job(store, jobs.InlineRunner(), who, job_id)
    assert "only an interrupted job can be resumed" in refused.value.message


def test_all_or_nothing_job_wrote_nothing_and_runs_again(db, tmp_path, monkeypatch):
    store, who, job_id = _dead_job(db, tmp_path, monkeypatch, atomic=True)
    assert _names(db) == []
    assert jobs.mark_interrupted(db, lease=0) == [job_id]
    status = jobs.job_status(db, who, job_id)
    assert status["message"] == "interrupted: nothing was written (all or nothing); resume runs the import again"
    jobs.resume_job(store, jobs.InlineRunner(), who, job_id)
    assert _names(db) == [f"P{i}" for i in range(10)]
    assert jobs.job_status(db, who, job_id)["created"] == 10


def test_a_job_this_process_runs_is_never_marked(db, tmp_path, monkeypatch):
    store, who, job_id = _dead_job(db, tmp_path, monkeypatch, atomic=False)
    jobs._LIVE[job_id] = {"cancel": None}
    try:
        assert jobs.mark_interrupted(db, lease=0) == []
    finally:
        jobs._LIVE.pop(job_id, None)
    assert jobs.mark_interrupted(db, lease=0) == [job_id]
    assert jobs.mark_interrupted(db, lease=0) == []  # once
