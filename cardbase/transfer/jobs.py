"""Imports as background jobs: a row in ``cb_transfer_job`` with state, progress (rows done,
rate, time left) and outcome, a cancel switch, and a small runner interface (a thread in
the web process here; the worker of issue 18 can run the same ``run_job``).

Progress of an import that keeps its good rows is written in the same transaction as each
chunk it commits, so after a crash (kill -9) the job says exactly what was written and
``run_job(..., resume=True)`` goes on after the last committed line. An all-or-nothing import holds one
transaction: its progress is kept in this process while it runs (another writer would wait
for its lock on SQLite) and a crash leaves nothing written."""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from datetime import timedelta
from typing import Any, Callable, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine.actor import Actor
from ..schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from ..schema_engine.meta_models import utcnow
from ..schema_engine.transfer_models import TransferJob
from .importer import ImportCancelled, Importer, ImportFailed, ImportResult, ImportSettings
from .readers import open_sheet

log = logging.getLogger(__name__)
_jobs = TransferJob.__table__
MAX_STORED_ERRORS = 200
FINISHED = ("done", "failed", "cancelled", "interrupted")
CHUNK = 1000  # rows per ChangeSet (and per commit when the good rows are kept)
HEARTBEAT_EVERY = 30.0  # seconds between heartbeats of an all-or-nothing job


class JobRunner(Protocol):
    """Runs a job's work somewhere else than the request that started it."""

    def submit(self, job_id: int, work: Callable[[], None]) -> None: ...


class ThreadRunner:
    """A daemon thread per job in this process (the web process or the CLI)."""

    def submit(self, job_id: int, work: Callable[[], None]) -> None:
        threading.Thread(target=work, name=f"cardbase-import-{job_id}", daemon=True).start()


class InlineRunner:
    """Runs the job before ``submit`` returns (tests, the CLI)."""

    def submit(self, job_id: int, work: Callable[[], None]) -> None:
        work()


# Jobs running in this process: job id -> {"cancel": Event, "rows_done": ..., "last_line": ...}
_LIVE: dict[int, dict[str, Any]] = {}
_LIVE_LOCK = threading.Lock()


class JobProgress:
    """The Progress an Importer reports to, for one job."""

    def __init__(self, db: Any, job_id: int):
        self.db, self.job_id = db, job_id
        with _LIVE_LOCK:
            self.live_state = _LIVE.setdefault(job_id, {"cancel": threading.Event()})

    def cancelled(self) -> bool:
        if self.live_state["cancel"].is_set():
            return True
        with self.db.read() as conn:
            return bool(conn.execute(sa.select(_jobs.c.cancel_requested).where(_jobs.c.id == self.job_id)).scalar())

    def live(self, result: ImportResult, line: int) -> None:
        self.live_state.update(_counts(result), last_line=line)
        self._beat()

    def _beat(self) -> None:
        """The heartbeat of an all-or-nothing job, which commits no progress: written beside its
        transaction on PostgreSQL (on SQLite that write would wait for the import's own lock,
        and no other process can mark the job while that lock is held)."""
        now = time.monotonic()
        if now - self.live_state.get("beat", 0.0) < HEARTBEAT_EVERY or self.db.engine.dialect.name == "sqlite":
            return
        self.live_state["beat"] = now
        with self.db.write() as conn:
            conn.execute(sa.update(_jobs).where(_jobs.c.id == self.job_id).values(heartbeat_at=utcnow()))

    def checkpoint(self, conn: Connection, result: ImportResult, line: int) -> None:
        conn.execute(sa.update(_jobs).where(_jobs.c.id == self.job_id).values(
            **_counts(result), last_line=line, heartbeat_at=utcnow()))


def _counts(result: ImportResult) -> dict[str, int]:
    return {"rows_done": result.rows, "created": result.created, "updated": result.updated,
            "skipped": result.skipped, "failed": result.failed}


def job_dir() -> str:
    """Where uploads and bad-rows files of jobs are kept (``CARDBASE_IMPORT_DIR``)."""
    return os.environ.get("CARDBASE_IMPORT_DIR") or os.path.join(tempfile.gettempdir(), "cardbase-imports")


def count_rows(path: str) -> int | None:
    """About how many lines the file has (a progress bar's 100 %), without parsing it."""
    if path.lower().endswith((".xlsx", ".xlsm")):
        return None
    lines = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
    return max(lines - 1, 0)  # the header


def create_job(conn: Connection, actor: Actor, obj_id: int, path: str, name: str, settings: ImportSettings,
               options: dict[str, Any]) -> int:
    return int(conn.execute(sa.insert(_jobs).values(
        kind="import", object_id=obj_id, actor_id=actor.user_id, state="queued", file_name=name[:255],
        file_path=path, settings={"import": settings.to_json(), "file": options}, rows_total=count_rows(path))
        .returning(_jobs.c.id)).scalar_one())


def run_job(store: Any, job_id: int, actor: Actor, *, resume: bool = False) -> None:
    """Run (or resume) the import job; its outcome goes to the job row, never raised."""
    db = store.db
    with db.write() as conn:
        job = conn.execute(sa.select(_jobs).where(_jobs.c.id == job_id)).mappings().one()
        conn.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(
            state="running", started_at=job["started_at"] or utcnow(), heartbeat_at=utcnow()))
    progress = JobProgress(db, job_id)
    settings = ImportSettings.from_json(job["settings"]["import"])
    start_after = int(job["last_line"] or 0) if resume else 0
    seed = _seed(job) if resume else ImportResult()
    bad_path = f"{job['file_path']}.errors.xlsx"
    outcome: dict[str, Any]
    try:
        sheet = open_sheet(job["file_path"], name=job["file_name"], **job["settings"].get("file", {}))
        result = Importer(store, actor, job["object_id"], sheet, settings, progress=progress, chunk=CHUNK,
                          bad_rows_path=bad_path).run(start_after=start_after, result=seed)
        outcome = {"state": "done", **_finished(result)}
    except ImportFailed as exc:
        outcome = {"state": "failed", **_finished(exc.result), "message": exc.message, "rows_done": exc.result.rows,
                   "created": 0, "updated": 0}
    except ImportCancelled:
        live = dict(progress.live_state)
        outcome = {"state": "cancelled", "message": "cancelled; " + (
            "nothing was written (all or nothing)" if settings.atomic else "the rows up to the last committed chunk stay")}
        if settings.atomic:
            outcome.update(created=0, updated=0)
        else:
            outcome.update({k: v for k, v in live.items() if k in ("rows_done", "skipped", "failed")})
    except CardbaseError as exc:
        outcome = {"state": "failed", "message": exc.message}
    except Exception as exc:  # the job row says what happened; the log has the traceback
        log.exception("import job %s failed", job_id)
        outcome = {"state": "failed", "message": f"the import stopped: {type(exc).__name__}"}
    finally:
        with _LIVE_LOCK:
            _LIVE.pop(job_id, None)
    with db.write() as conn:
        conn.execute(sa.update(_jobs).where(_jobs.c.id == job_id).values(**outcome, finished_at=utcnow()))


def _finished(result: ImportResult) -> dict[str, Any]:
    return {**_counts(result), "errors": result.errors[:MAX_STORED_ERRORS],
            "message": f"{result.created} created, {result.updated} updated, {result.skipped} skipped, "
                       f"{result.failed} with errors"}


def start_job(store: Any, runner: JobRunner, job_id: int, actor: Actor) -> None:
    runner.submit(job_id, lambda: run_job(store, job_id, actor))


MAX_JOB_ID = 2**31 - 1  # cb_transfer_job.id is an INTEGER


def _own(conn: Connection, actor: Actor, job_id: Any) -> dict[str, Any]:
    try:
        jid = int(job_id)
    except (TypeError, ValueError):
        raise ValidationError({"id": f"{job_id!r} is not a job id"}) from None
    if not 0 < jid <= MAX_JOB_ID:  # beyond the INTEGER column no job can exist (and PostgreSQL would refuse the query)
        raise NotFound(f"there is no job {jid}")
    job = conn.execute(sa.select(_jobs).where(_jobs.c.id == jid)).mappings().first()
    if job is None:
        raise NotFound(f"there is no job {jid}")
    if job["actor_id"] != actor.user_id and not actor.is_admin:
        raise Forbidden(f"job {jid} is someone else's")
    return dict(job)


def job_status(db: Any, actor: Actor, job_id: Any) -> dict[str, Any]:
    """State, progress (rows done, rate, seconds left) and outcome of a job."""
    with db.read() as conn:
        job = _own(conn, actor, job_id)
    live = _LIVE.get(job["id"])
    if live is not None:
        job.update({k: v for k, v in live.items() if k not in ("cancel", "beat")})
    done, total = job["rows_done"] or 0, job["rows_total"]
    rate = seconds_left = None
    if job["started_at"] is not None:
        elapsed = max(((job["finished_at"] or utcnow()) - job["started_at"]).total_seconds(), 1e-3)
        rate = round(done / elapsed, 1)
        if total and rate and job["state"] == "running":
            seconds_left = round(max(total - done, 0) / rate, 1)
    bad = f"{job['file_path']}.errors.xlsx"
    return {"id": job["id"], "state": job["state"], "object_id": job["object_id"], "file": job["file_name"],
            "progress": {"rows_done": done, "rows_total": total, "rate": rate, "seconds_left": seconds_left,
                         "percent": 100 if job["state"] == "done" else None if not total
                         else min(99, round(100 * done / total))},
            "created": job["created"], "updated": job["updated"], "skipped": job["skipped"], "failed": job["failed"],
            "errors": job["errors"] or [], "message": job["message"], "cancel_requested": job["cancel_requested"],
            "resumable": job["state"] == "interrupted", "resumed": (job["settings"] or {}).get("resumed"),
            "bad_rows": os.path.exists(bad) and job["state"] in FINISHED}


def bad_rows_file(db: Any, actor: Actor, job_id: Any) -> str:
    with db.read() as conn:
        job = _own(conn, actor, job_id)
    path = f"{job['file_path']}.errors.xlsx"
    if not os.path.exists(path):
        raise NotFound(f"job {job['id']} has no bad rows")
    return path


def cancel_job(db: Any, actor: Actor, job_id: Any) -> dict[str, Any]:
    """Ask a job to stop after its current chunk (a finished job is left as it is)."""
    with db.read() as conn:
        job = _own(conn, actor, job_id)
    if job["state"] in FINISHED:
        raise ValidationError({"state": f"job {job['id']} is {job['state']} already"})
    live = _LIVE.get(job["id"])
    if live is not None:
        live["cancel"].set()  # this process runs it: no write that would wait for its lock
    else:
        with db.write() as conn:
            conn.execute(sa.update(_jobs).where(_jobs.c.id == job["id"]).values(cancel_requested=True))
    return {"id": job["id"], "cancel_requested": True}


def lease_seconds() -> float:
    """How long a "running" job may go without a sign of life before it counts as interrupted
    (``CARDBASE_IMPORT_LEASE_SECONDS``, default 300: a chunk of 1,000 rows takes seconds)."""
    return float(os.environ.get("CARDBASE_IMPORT_LEASE_SECONDS") or 300)


def mark_interrupted(db: Any, lease: float | None = None) -> list[int]:
    """Mark "running" jobs whose process died as "interrupted": not run by this process and
    silent for longer than the lease. Each one's message says exactly what it had written.
    A read first, so an idle check takes no write lock. Called at start-up and by the worker."""
    cutoff = utcnow() - timedelta(seconds=lease_seconds() if lease is None else lease)
    alive = sa.func.coalesce(_jobs.c.heartbeat_at, _jobs.c.started_at, _jobs.c.created_at)
    stale = sa.and_(_jobs.c.state == "running", alive < cutoff)
    with db.read() as conn:
        rows = conn.execute(sa.select(_jobs).where(stale)).mappings().all()
    marked = []
    for job in rows:
        if job["id"] in _LIVE:
            continue
        with db.write() as conn:
            done = conn.execute(sa.update(_jobs).where(_jobs.c.id == job["id"], stale).values(
                state="interrupted", finished_at=utcnow(), message=interrupted_message(job)))
        if done.rowcount:
            marked.append(int(job["id"]))
    if marked:
        log.warning("import jobs interrupted (their process stopped): %s", marked)
    return marked


def interrupted_message(job: Any) -> str:
    """What an interrupted job had written, from its row (progress commits with each chunk)."""
    if (job["settings"].get("import") or {}).get("atomic", True):
        return "interrupted: nothing was written (all or nothing); resume runs the import again"
    return (f"interrupted: {job['created']} created, {job['updated']} updated, {job['skipped']} skipped, "
            f"{job['failed']} with errors, up to line {job['last_line']} of the file; resume imports the rest")


def resume_job(store: Any, runner: JobRunner, actor: Actor, job_id: Any) -> dict[str, Any]:
    """Run an interrupted job again: an import keeping its good rows goes on after its last
    committed line (the rows written stay, none twice); an all-or-nothing one, which wrote
    nothing, starts again. The job's ``resumed`` says where it went on and what was there."""
    with store.db.read() as conn:
        job = _own(conn, actor, job_id)
    if job["state"] != "interrupted":
        raise ValidationError({"state": f"job {job['id']} is {job['state']}: only an interrupted job can be resumed"})
    atomic = bool((job["settings"].get("import") or {}).get("atomic", True))
    before = {"after_line": 0 if atomic else job["last_line"], **({} if atomic else _counts(_seed(job)))}
    with store.db.write() as conn:
        done = conn.execute(sa.update(_jobs).where(_jobs.c.id == job["id"], _jobs.c.state == "interrupted").values(
            state="queued", finished_at=None, cancel_requested=False, message="",
            settings={**job["settings"], "resumed": before}))
    if not done.rowcount:
        raise ValidationError({"state": f"job {job['id']} is being resumed already"})
    runner.submit(job["id"], lambda: run_job(store, job["id"], actor, resume=not atomic))
    return {"id": job["id"], "resumed": before}


def _seed(job: Any) -> ImportResult:
    return ImportResult(rows=job["rows_done"], created=job["created"], updated=job["updated"],
                        skipped=job["skipped"], failed=job["failed"])


def interrupted_jobs(db: Any) -> list[dict[str, Any]]:
    """Jobs left "running" by a process that died: what each had committed (to run again with resume=True)."""
    with db.read() as conn:
        rows = conn.execute(sa.select(_jobs).where(_jobs.c.state == "running")).mappings().all()
    return [dict(r) for r in rows if r["id"] not in _LIVE]


def wait(db: Any, job_id: int, timeout: float = 60.0) -> str:
    """Block until the job finishes (tests, the CLI); its final state."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with db.read() as conn:
            state = conn.execute(sa.select(_jobs.c.state).where(_jobs.c.id == job_id)).scalar()
        if state in FINISHED:
            return str(state)
        time.sleep(0.05)
    raise TimeoutError(f"job {job_id} did not finish in {timeout} s")
