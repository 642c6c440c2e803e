"""The background worker: outbox events -> jobs -> handlers, plus the periodic checks.

One round: take undelivered outbox events (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
several workers share the outbox; SQLite runs one worker) and let every dispatcher turn
them into jobs in the same transaction that marks them delivered; then run the periodic
tickers (reminders due, date triggers, schedules); then claim due jobs and run each with
its handler (a registry keyed by the job's kind). A crash anywhere loses nothing: an
event is marked only with its jobs, a job is done only when its handler finished.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.meta_models import OutboxEvent

from . import clock, jobs

log = logging.getLogger("cardbase.worker")
OUTBOX = OutboxEvent.__table__
EVENT_BATCH = 200
EVENT_MAX_ATTEMPTS = 5  # an event no dispatcher can handle goes to the dead letter after this


@dataclass
class Services:
    """What handlers need: the record store (sessions for named actors), cardbase's own
    URLs (never a webhook target), limits and the SMTP settings."""

    store: Any
    own_urls: tuple[str, ...] = ()
    webhook_timeout: float = 10.0
    smtp: Mapping[Any, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Handler(Protocol):
    """``run`` does the job (raising ``jobs.JobFailed`` when the try failed) and may return
    what to write about it, called in the transaction that marks the job done."""

    kind: str

    def run(self, services: Services, job: jobs.ClaimedJob) -> Callable[[Connection], None] | None: ...


@dataclass
class Outcome:
    job: jobs.ClaimedJob
    error: str | None = None
    retry: bool = True
    finish: Callable[[Connection], None] | None = None


Dispatcher = Callable[[Services, Connection, list[Mapping[Any, Any]]], int]
Ticker = Callable[[Services], int]


def default_handlers() -> dict[str, Handler]:
    from . import registry
    return {h.kind: h for h in registry.handlers()}


def claim_events(conn: Connection, limit: int = EVENT_BATCH) -> list[Mapping[Any, Any]]:
    return list(conn.execute(sa.select(OUTBOX).where(OUTBOX.c.delivered_at.is_(None))
                             .order_by(OUTBOX.c.id).limit(limit).with_for_update(skip_locked=True)).mappings())


class Worker:
    def __init__(self, services: Services, *, handlers: Mapping[str, Handler] | None = None,
                 dispatchers: list[Dispatcher] | None = None, tickers: list[Ticker] | None = None,
                 job_batch: int = 50, lease: timedelta = jobs.LEASE, retention: timedelta = jobs.RETENTION,
                 threads: int = 4):
        from . import registry
        self.services = services
        self.handlers = dict(handlers) if handlers is not None else default_handlers()
        self.dispatchers = dispatchers if dispatchers is not None else registry.dispatchers()
        self.tickers = tickers if tickers is not None else registry.tickers()
        self.job_batch, self.lease, self.retention, self.threads = job_batch, lease, retention, threads
        self._executor: ThreadPoolExecutor | None = None
        self.stopping = threading.Event()

    # ---- outbox ---------------------------------------------------------------------------------
    def dispatch_events(self, limit: int = EVENT_BATCH) -> int:
        """One batch of outbox events turned into jobs; how many events were taken."""
        with self.services.store.db.write() as conn:
            events = claim_events(conn, limit)
            if not events:
                return 0
            try:
                with conn.begin_nested():
                    for dispatch in self.dispatchers:
                        dispatch(self.services, conn, events)
            except Exception:  # one bad event must not hold the others: one by one
                log.exception("dispatching %d events failed; trying them one by one", len(events))
                for event in events:
                    self._dispatch_one(conn, event)
                return len(events)
            conn.execute(sa.update(OUTBOX).where(OUTBOX.c.id.in_([e["id"] for e in events]))
                         .values(delivered_at=clock.now(), attempts=OUTBOX.c.attempts + 1))
        return len(events)

    def _dispatch_one(self, conn: Connection, event: Mapping[Any, Any]) -> None:
        try:
            with conn.begin_nested():
                for dispatch in self.dispatchers:
                    dispatch(self.services, conn, [event])
        except Exception as exc:
            attempts = event["attempts"] + 1
            dead = attempts >= EVENT_MAX_ATTEMPTS
            conn.execute(sa.update(OUTBOX).where(OUTBOX.c.id == event["id"])
                         .values(attempts=attempts, delivered_at=clock.now() if dead else None))
            if dead:
                jid = jobs.enqueue(conn, "outbox_event", {"event_id": event["id"]})
                conn.execute(sa.update(jobs.JOBS).where(jobs.JOBS.c.id == jid).values(
                    status="dead", done_at=clock.now(), last_error=f"{type(exc).__name__}: {exc}"[:2000]))
            return
        conn.execute(sa.update(OUTBOX).where(OUTBOX.c.id == event["id"])
                     .values(delivered_at=clock.now(), attempts=event["attempts"] + 1))

    # ---- jobs ---------------------------------------------------------------------------------
    def run_jobs(self) -> int:
        """Claim one batch of due jobs and run them; how many ran. Handlers marked
        ``parallel`` (network calls) run side by side in ``threads`` threads, so one slow
        receiver does not hold the others (4 by default: each thread reads through a pooled
        connection, and the pool keeps 5); the results of the whole batch are written in
        one transaction."""
        with self.services.store.db.write() as conn:
            claimed = jobs.claim(conn, self.job_batch, self.lease)
        if not claimed:
            return 0
        side_by_side = [j for j in claimed if getattr(self.handlers.get(j.kind), "parallel", False)]
        one_by_one = [j for j in claimed if j not in side_by_side]
        outcomes = [self._attempt(j) for j in one_by_one]
        if len(side_by_side) > 1:
            outcomes += list(self._pool().map(self._attempt, side_by_side))
        else:
            outcomes += [self._attempt(j) for j in side_by_side]
        with self.services.store.db.write() as conn:
            for outcome in outcomes:
                self._record(conn, outcome)
        return len(claimed)

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="cardbase-job")
        return self._executor

    def _attempt(self, job: jobs.ClaimedJob) -> "Outcome":
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise jobs.JobFailed(f"no handler for jobs of kind '{job.kind}'", retry=False)
            return Outcome(job, finish=handler.run(self.services, job))
        except jobs.JobFailed as exc:
            return Outcome(job, exc.error, exc.retry, exc.finish)
        except Exception as exc:  # a bug in a handler: retried like any failure, with the reason kept
            log.exception("job %s (%s) raised", job.id, job.kind)
            return Outcome(job, f"{type(exc).__name__}: {exc}")

    def _record(self, conn: Connection, outcome: "Outcome") -> None:
        if outcome.finish is not None:
            outcome.finish(conn)
        if outcome.error is None:
            jobs.succeed(conn, outcome.job)
            return
        status = jobs.fail(conn, outcome.job, outcome.error, retry=outcome.retry)
        log.info("job %s (%s) failed (%s): %s", outcome.job.id, outcome.job.kind, status, outcome.error)

    def run_job(self, job: jobs.ClaimedJob) -> None:
        """One claimed job, start to finish (tests)."""
        outcome = self._attempt(job)
        with self.services.store.db.write() as conn:
            self._record(conn, outcome)

    # ---- rounds -------------------------------------------------------------------------------
    def tick(self) -> int:
        done = 0
        for ticker in self.tickers:
            try:
                done += ticker(self.services)
            except Exception:
                log.exception("periodic check %s failed", getattr(ticker, "__name__", ticker))
        return done

    def prune(self) -> dict[str, int]:
        with self.services.store.db.write() as conn:
            return jobs.prune(conn, self.retention)

    def run_once(self, max_rounds: int = 1000) -> dict[str, int]:
        """Everything due now, until nothing is left (``cardbase worker --once``, tests, cron)."""
        stats = {"events": 0, "jobs": 0, "ticks": 0}
        stats["ticks"] += self.tick()
        for _round in range(max_rounds):
            events = self.dispatch_events()
            ran = self.run_jobs()
            stats["events"] += events
            stats["jobs"] += ran
            if not events and not ran:
                break
        stats.update({f"pruned_{k}": v for k, v in self.prune().items()})
        return stats

    def run_forever(self, poll: float = 0.5, prune_every: float = 3600.0) -> None:
        """Until ``stopping`` is set: work while there is work, sleep ``poll`` seconds when idle."""
        import time
        last_prune = 0.0
        last_tick = 0.0
        while not self.stopping.is_set():
            try:
                if time.monotonic() - last_tick >= 1.0:
                    self.tick()
                    last_tick = time.monotonic()
                busy = self.dispatch_events() + self.run_jobs()
                if time.monotonic() - last_prune >= prune_every:
                    self.prune()
                    last_prune = time.monotonic()
            except Exception:  # the database away for a moment: wait and go on
                log.exception("worker round failed")
                busy = 0
            if not busy:
                self.stopping.wait(poll)
