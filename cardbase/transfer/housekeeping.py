"""Housekeeping of import jobs, run by the worker's periodic checks (and at start-up):

* a "running" job whose process died (no heartbeat for the lease) becomes "interrupted"
  (``jobs.mark_interrupted``), to be resumed from the wizard or the API;
* files in ``CARDBASE_IMPORT_DIR`` are removed once their job has been finished for the
  retention (``CARDBASE_IMPORT_RETENTION_DAYS``, default 7): the uploaded file and its
  bad-rows file; a wizard draft never run is deleted with its file after the same time, and
  so is an upload no job refers to (a request that died while saving it)."""
from __future__ import annotations

import logging
import os
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from ..schema_engine.meta_models import utcnow
from ..schema_engine.transfer_models import TransferJob
from . import jobs

log = logging.getLogger(__name__)
_jobs = TransferJob.__table__
BAD_ROWS_SUFFIX = ".errors.xlsx"
UPLOAD_PREFIX = "import-"
INTERRUPT_EVERY = 30.0  # seconds between the worker's checks for dead jobs
PRUNE_EVERY = 600.0  # seconds between the worker's prunings
_last_run: dict[str, float] = {}


def retention() -> timedelta:
    """How long the files of a finished job are kept (``CARDBASE_IMPORT_RETENTION_DAYS``)."""
    return timedelta(days=float(os.environ.get("CARDBASE_IMPORT_RETENTION_DAYS") or 7))


def prune_import_files(db: Any, keep: timedelta | None = None, directory: str | None = None) -> dict[str, int]:
    """Remove the files of jobs finished longer than ``keep`` ago, abandoned drafts (rows and
    files) and uploads no job refers to; files of queued and running jobs are never touched."""
    keep = retention() if keep is None else keep
    directory = directory or jobs.job_dir()
    cutoff = utcnow() - keep
    with db.read() as conn:
        rows = conn.execute(sa.select(_jobs.c.id, _jobs.c.state, _jobs.c.file_path, _jobs.c.finished_at,
                                      _jobs.c.created_at)).mappings().all()
    known = {os.path.abspath(r["file_path"]) for r in rows if r["file_path"]}
    old_drafts = [r for r in rows if r["state"] == "draft" and r["created_at"] < cutoff]
    old_finished = [r for r in rows if r["state"] in jobs.FINISHED and (r["finished_at"] or r["created_at"]) < cutoff]
    removed = {"files": 0, "drafts": 0}
    for row in old_finished + old_drafts:
        removed["files"] += _remove(row["file_path"], directory)
        removed["files"] += _remove(row["file_path"] + BAD_ROWS_SUFFIX if row["file_path"] else "", directory)
    if old_drafts:
        with db.write() as conn:
            removed["drafts"] = conn.execute(sa.delete(_jobs).where(
                _jobs.c.id.in_([r["id"] for r in old_drafts]), _jobs.c.state == "draft")).rowcount
    removed["files"] += _remove_orphans(directory, known, time.time() - keep.total_seconds())
    return removed


def _remove(path: str, directory: str) -> int:
    """Delete one file, only inside the import directory."""
    if not path or not os.path.isfile(path):
        return 0
    if os.path.dirname(os.path.abspath(path)) != os.path.abspath(directory):
        return 0
    os.unlink(path)
    return 1


def _remove_orphans(directory: str, known: set[str], older_than: float) -> int:
    if not os.path.isdir(directory):
        return 0
    removed = 0
    for entry in os.scandir(directory):
        if not entry.is_file() or not entry.name.startswith(UPLOAD_PREFIX):
            continue
        owner = entry.path[:-len(BAD_ROWS_SUFFIX)] if entry.name.endswith(BAD_ROWS_SUFFIX) else entry.path
        if os.path.abspath(owner) not in known and entry.stat().st_mtime < older_than:
            os.unlink(entry.path)
            removed += 1
    return removed


def _due(name: str, every: float) -> bool:
    now = time.monotonic()
    if name in _last_run and now - _last_run[name] < every:
        return False
    _last_run[name] = now
    return True


def interrupted_ticker(services: Any) -> int:
    """The worker's periodic check for import jobs whose process died."""
    return len(jobs.mark_interrupted(services.store.db)) if _due("interrupted", INTERRUPT_EVERY) else 0


def prune_ticker(services: Any) -> int:
    """The worker's periodic pruning of old import files."""
    if not _due("prune", PRUNE_EVERY):
        return 0
    removed = prune_import_files(services.store.db)
    if any(removed.values()):
        log.info("import files pruned: %s", removed)
    return sum(removed.values())
