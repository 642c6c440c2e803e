"""The job queue of the worker: enqueue, claim, finish, retry with exponential backoff, dead letter, prune.

At least once: a job is claimed in a short transaction (status running, a lease in
``locked_until``) and done outside it; its result is written in another. A worker killed
between the two leaves the job running with a lease that runs out, and the next claim
takes it again. On PostgreSQL several workers claim with ``FOR UPDATE SKIP LOCKED`` and
never take the same job; SQLite has one writer at a time, so one worker is enough.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import Job, WebhookDelivery
from cardbase.schema_engine.meta_models import OutboxEvent

from . import clock

JOBS = Job.__table__
LEASE = timedelta(seconds=60)  # a claimed job another worker may take again after this
BACKOFF_BASE = 2.0  # seconds before the first retry; doubled each attempt
BACKOFF_MAX = 3600.0
RETENTION = timedelta(days=7)  # delivered events and finished jobs are pruned after this


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int  # including this one
    max_attempts: int


def enqueue(conn: Connection, kind: str, payload: dict[str, Any], *, max_attempts: int = 8,
            delay: timedelta | None = None) -> int:
    """Queue a job in the caller's transaction (it runs only if that commits)."""
    at = clock.now() + (delay or timedelta())
    return conn.execute(sa.insert(JOBS).returning(JOBS.c.id), {
        "kind": kind, "payload": payload, "status": "pending", "attempts": 0, "max_attempts": max_attempts,
        "next_at": at, "created_at": clock.now(), "last_error": ""}).scalar_one()


def claim(conn: Connection, limit: int = 20, lease: timedelta = LEASE) -> list[ClaimedJob]:
    """Due jobs (pending and due, or running with an expired lease), marked running."""
    now = clock.now()
    due = sa.or_(sa.and_(JOBS.c.status == "pending", JOBS.c.next_at <= now),
                 sa.and_(JOBS.c.status == "running", JOBS.c.locked_until < now))
    rows = conn.execute(sa.select(JOBS.c.id, JOBS.c.kind, JOBS.c.payload, JOBS.c.attempts, JOBS.c.max_attempts)
                        .where(due).order_by(JOBS.c.next_at, JOBS.c.id).limit(limit)
                        .with_for_update(skip_locked=True)).all()
    if not rows:
        return []
    conn.execute(sa.update(JOBS).where(JOBS.c.id.in_([r.id for r in rows]))
                 .values(status="running", locked_until=now + lease, attempts=JOBS.c.attempts + 1))
    return [ClaimedJob(r.id, r.kind, r.payload or {}, r.attempts + 1, r.max_attempts) for r in rows]


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed tries: 2 s, 4 s, 8 s ... at most an hour."""
    return timedelta(seconds=min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX))


def succeed(conn: Connection, job: ClaimedJob) -> None:
    conn.execute(sa.update(JOBS).where(JOBS.c.id == job.id)
                 .values(status="done", done_at=clock.now(), locked_until=None, last_error=""))


def fail(conn: Connection, job: ClaimedJob, error: str, *, retry: bool = True) -> str:
    """Record a failed try: pending again after the backoff, or dead. Returns the new status."""
    dead = not retry or job.attempts >= job.max_attempts
    now = clock.now()
    conn.execute(sa.update(JOBS).where(JOBS.c.id == job.id).values(
        status="dead" if dead else "pending", locked_until=None, last_error=error[:2000],
        next_at=now if dead else now + backoff(job.attempts), done_at=now if dead else None))
    return "dead" if dead else "pending"


def counts(conn: Connection) -> dict[str, int]:
    """Jobs per status (for the worker's report and the tests)."""
    return dict(conn.execute(sa.select(JOBS.c.status, sa.func.count()).group_by(JOBS.c.status)).all())


def prune(conn: Connection, retention: timedelta = RETENTION) -> dict[str, int]:
    """Delete delivered outbox events, finished jobs and delivery log rows older than ``retention``.
    Dead jobs stay (the dead letter is for people to look at) until they are older too."""
    before = clock.now() - retention
    out = OutboxEvent.__table__
    log = WebhookDelivery.__table__
    return {
        "events": conn.execute(sa.delete(out).where(out.c.delivered_at.is_not(None),
                                                    out.c.delivered_at < before)).rowcount,
        "jobs": conn.execute(sa.delete(JOBS).where(JOBS.c.status.in_(("done", "dead")),
                                                   JOBS.c.done_at < before)).rowcount,
        "deliveries": conn.execute(sa.delete(log).where(log.c.at < before)).rowcount,
    }


def ids_of(jobs: Sequence[ClaimedJob]) -> list[int]:
    return [j.id for j in jobs]


class JobFailed(Exception):
    """A handler's try failed: retried after the backoff unless ``retry`` is False (dead at
    once). ``finish``: what to write about the try, in the transaction that records it."""

    def __init__(self, error: str, *, retry: bool = True, finish: Callable[[Connection], None] | None = None):
        super().__init__(error)
        self.error, self.retry, self.finish = error, retry, finish
