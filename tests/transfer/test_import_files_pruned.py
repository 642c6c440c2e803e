"""Files in CARDBASE_IMPORT_DIR are pruned after the retention: the upload and bad-rows file
of a finished job, an abandoned wizard draft (row and file) and an upload no job refers to;
files of a running job, of a job finished within the retention, and files that are not
uploads, stay. The worker's periodic check does it."""
from __future__ import annotations

import os
import time
from datetime import timedelta

import sqlalchemy as sa

from cardbase.automation.worker import Services, Worker
from cardbase.schema_engine.meta_models import utcnow
from cardbase.schema_engine.transfer_models import TransferJob
from cardbase.transfer import housekeeping, jobs
from cardbase.transfer.importer import ImportSettings
from transfer_fixture import world

_jobs = TransferJob.__table__
DAYS = 7


def _file(directory, name: str, age_days: float = 0) -> str:
    path = os.path.join(directory, name)
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("Name\nP1\n")
    stamp = time.time() - age_days * 86400
    os.utime(path, (stamp, stamp))
    return path


def _job(store, who, path: str, state: str, age_days: float) -> int:
    with store.session(who, write=True) as s:
        job_id = jobs.create_job(s.conn, who, s.object("person").id, path, "people.csv",
                                 ImportSettings({"Name": "name"}), {})
        when = utcnow() - timedelta(days=age_days)
        s.conn.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(
            state=state, created_at=when, finished_at=when if state in jobs.FINISHED else None))
    return job_id


def test_old_import_files_are_pruned_by_the_worker(db, tmp_path, monkeypatch):
    directory = str(tmp_path)
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", directory)
    monkeypatch.setenv("CARDBASE_IMPORT_RETENTION_DAYS", str(DAYS))
    _svc, store, who = world(db)
    old_done = _file(directory, "import-old.csv", 10)
    old_bad = _file(directory, "import-old.csv.errors.xlsx", 10)
    _job(store, who, old_done, "done", 10)
    new_done = _file(directory, "import-new.csv")
    new_bad = _file(directory, "import-new.csv.errors.xlsx")
    _job(store, who, new_done, "done", 1)
    running = _file(directory, "import-running.csv", 30)
    _job(store, who, running, "running", 30)
    draft = _file(directory, "import-draft.csv", 10)
    draft_id = _job(store, who, draft, "draft", 10)
    fresh_draft = _file(directory, "import-fresh-draft.csv")
    fresh_draft_id = _job(store, who, fresh_draft, "draft", 0)
    orphan = _file(directory, "import-orphan.xlsx", 10)
    young_orphan = _file(directory, "import-young.csv", 1)
    not_ours = _file(directory, "notes.txt", 30)

    monkeypatch.setattr(housekeeping, "_last_run", {})
    stats = Worker(Services(store=store)).run_once()
    assert stats["ticks"] >= 5  # old upload, its bad rows, the draft's file and row, the orphan

    gone = {old_done, old_bad, draft, orphan}
    kept = {new_done, new_bad, running, fresh_draft, young_orphan, not_ours}
    assert {p for p in gone | kept if os.path.exists(p)} == kept
    with db.read() as conn:
        ids = set(conn.execute(sa.select(_jobs.c.id)).scalars())
    assert draft_id not in ids and fresh_draft_id in ids
    assert housekeeping.prune_import_files(db) == {"files": 0, "drafts": 0}  # nothing twice


def test_a_pruned_job_reports_no_bad_rows(db, tmp_path, monkeypatch):
    monkeypatch.setenv("CARDBASE_IMPORT_DIR", str(tmp_path))
    _svc, store, who = world(db)
    upload = _file(str(tmp_path), "import-a.csv", 10)
    _file(str(tmp_path), "import-a.csv.errors.xlsx", 10)
    job_id = _job(store, who, upload, "done", 10)
    assert jobs.job_status(db, who, job_id)["bad_rows"] is True
    assert housekeeping.prune_import_files(db, keep=timedelta(days=DAYS)) == {"files": 2, "drafts": 0}
    assert jobs.job_status(db, who, job_id)["bad_rows"] is False
