"""Recomputing a computed field over all its records in batches, resumable after a crash.

A job is a row of ``cb_recompute_job``. Each batch is its own transaction: it computes up
to ``batch_size`` records (by id, from ``last_id`` on) and records how far it got in the
same commit, so after a crash ``resume_recompute_jobs`` goes on from the last committed
batch and never redoes or skips a record.

"fill" jobs fill the column of a field just added to a big table. "swap" jobs compute a
changed definition into shadow columns while every reader keeps the current values (and
every writer keeps both up to date: the pending definition is part of the dependency
plan); the last transaction swaps the columns and the definition at once and updates
what depends on the field. Tables up to one batch are recomputed inline, in the schema
change's own transaction, without a job.

Every process that serves or works calls ``resume_recompute_jobs(db)`` at start
(``cardbase serve``, the dev server and ``cardbase run`` through
``platform.server.start_job_resumer``, and ``cardbase recompute``); the schema service runs
the jobs it starts itself unless told to defer them. Several resumers may run at once: a
batch locks its job row (PostgreSQL ``FOR UPDATE``; a resumer skips a job another process
is working on with ``SKIP LOCKED``; SQLite has one writer), and reads ``last_id`` under
that lock, so no batch is done twice and none is skipped. ``drift.unfinished_jobs`` lists
the jobs still running (``cardbase check``).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import NotFound
from ..meta_models import FieldRow, RecomputeJob, utcnow
from ..physical import PhysicalSchema
from ..snapshot import FieldInfo, Schema, bump_version, load_schema, lock_schema
from .defs import ComputedDef
from .engine import Change, propagate, recompute, refresh_documents
from .plan import plan_for
from .redefine import after_redefinition, live_ids, same_shape

BATCH = 1000
JOBS = RecomputeJob.__table__


@dataclass(frozen=True)
class Progress:
    job_id: int
    field_id: int
    processed: int
    total: int
    done: bool


ProgressCallback = Callable[[Progress], None]


def create_job(conn: Connection, field: FieldInfo, mode: str, total: int, definition: dict | None = None) -> int:
    cancel_jobs(conn, [field.stored_id])
    return conn.execute(sa.insert(JOBS).values(
        object_id=field.object_id, field_id=field.id, mode=mode, definition=definition or {},
        status="running", last_id=0, processed=0, total=total, started_at=utcnow(), updated_at=utcnow(),
    ).returning(JOBS.c.id)).scalar_one()


def cancel_jobs(conn: Connection, field_ids: Iterable[int]) -> None:
    ids = list(field_ids)
    if ids:
        conn.execute(sa.update(JOBS).where(JOBS.c.field_id.in_(ids), JOBS.c.status == "running")
                     .values(status="cancelled", finished_at=utcnow()))


def running_jobs(db) -> list[int]:
    with db.read() as conn:
        return [r for (r,) in conn.execute(sa.select(JOBS.c.id).where(JOBS.c.status == "running").order_by(JOBS.c.id))]


def resume_recompute_jobs(db, *, batch_size: int = BATCH, progress: Optional[ProgressCallback] = None) -> list[int]:
    """Run every unfinished job to the end, oldest first; returns the ids finished here.
    A job another process is running right now is left to it (``skip_locked``)."""
    return [job_id for job_id in running_jobs(db)
            if run_job(db, job_id, batch_size=batch_size, progress=progress, skip_locked=True)]


def run_job(db, job_id: int, *, batch_size: int = BATCH, progress: Optional[ProgressCallback] = None,
            max_batches: int | None = None, skip_locked: bool = False) -> bool:
    """Run batches of a job until it is done (True), cancelled, or ``max_batches`` ran.
    ``skip_locked``: stop (False) when another process holds the job's row (PostgreSQL)
    instead of waiting for it."""
    batches = 0
    while True:
        with db.write() as conn:
            report = _step(db, conn, job_id, batch_size, skip_locked)
        if report is None:
            return False
        if report.done:
            db.schema_cache.invalidate()
        if progress is not None:
            progress(report)
        if report.done:
            return True
        batches += 1
        if max_batches is not None and batches >= max_batches:
            return False


def _step(db, conn: Connection, job_id: int, batch_size: int, skip_locked: bool = False) -> Progress | None:
    """One batch (or the final swap) in the caller's transaction; None: the job is not
    running (or, with ``skip_locked``, another process holds it)."""
    job = conn.execute(sa.select(JOBS).where(JOBS.c.id == job_id).with_for_update(skip_locked=skip_locked)
                       ).mappings().first()
    if job is None or job["status"] != "running":
        return None
    schema = db.schema(conn)
    d = _definition(schema, job)
    if d is None:
        conn.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(status="cancelled", finished_at=utcnow()))
        return None
    table = schema.table(d.obj)
    ids: list[int] = list(conn.execute(
        sa.select(table.c.id).where(table.c.id > job["last_id"], table.c.deleted_at.is_(None))
        .order_by(table.c.id).limit(batch_size).with_for_update()).scalars())
    if not ids:
        if job["mode"] == "swap":
            swap(conn, schema, d)
        conn.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(
            status="done", finished_at=utcnow(), updated_at=utcnow()))
        return Progress(job_id, job["field_id"], job["processed"], job["total"], True)
    changed = recompute(conn, schema, d, ids)
    if job["mode"] == "fill" and changed:
        if d.field.ftype.searchable:
            refresh_documents(conn, schema, d.obj, list(changed))
        propagate(conn, schema, [Change(d.obj, list(changed), frozenset({d.field.key}))])
    processed = job["processed"] + len(ids)
    conn.execute(sa.update(JOBS).where(JOBS.c.id == job_id).values(
        last_id=ids[-1], processed=processed, updated_at=utcnow()))
    return Progress(job_id, job["field_id"], processed, job["total"], False)


def _definition(schema: Schema, job) -> ComputedDef | None:
    try:
        schema.field_by_id(job["field_id"])
    except NotFound:
        return None
    key = f"{job['field_id']}~next" if job["mode"] == "swap" else str(job["field_id"])
    return plan_for(schema).defs.get(key)


def swap(conn: Connection, schema: Schema, d: ComputedDef) -> None:
    """Make the pending definition live: its shadow columns become the field's columns and
    its options the field's options, then update what depends on the field."""
    lock_schema(conn)  # PostgreSQL: DDL other sessions must not run into (snapshot.lock_schema)
    obj, shadow = d.obj, d.field
    live = next(f for f in obj.user_fields if f.id == shadow.id)
    new_live = dataclasses.replace(live, options=shadow.options)
    unchanged_shape = same_shape(conn, live, new_live)
    table = schema.table(obj)
    if unchanged_shape:
        differs = sa.or_(*[table.c[a].is_distinct_from(table.c[b])
                           for a, b in zip(live.column_names, shadow.column_names)])
        changed = list(conn.execute(sa.select(table.c.id).where(table.c.deleted_at.is_(None), differs)).scalars())
    else:
        changed = live_ids(conn, schema, obj)
    physical = PhysicalSchema(conn)
    for index, _column, _unique in physical.field_index_names(obj, live):
        physical.op.drop_index(index, table_name=obj.table_name)
    physical.drop_columns(obj, list(live.column_names))
    physical.rename_field_columns(obj, shadow.column_names, new_live.column_names)
    for index, column, unique in physical.field_index_names(obj, new_live):
        physical.create_field_index(obj.table_name, index, column, unique)
    conn.execute(sa.update(FieldRow).where(FieldRow.id == live.id).values(options=dict(shadow.options)))
    bump_version(conn)
    schema = after_redefinition(conn, load_schema(conn), live, new_live,
                                changes=[Change(obj, changed, frozenset({live.key}))] if changed else [])
    if changed and (live.ftype.searchable or new_live.ftype.searchable):
        refresh_documents(conn, schema, schema.object(obj.id), changed)
