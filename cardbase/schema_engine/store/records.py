"""RecordStore: the composition root's handle on records.

The app factory (or a script, test, CLI command, worker) builds one RecordStore per
database; every channel opens a ``session`` on it for an actor -- one transaction, one
schema snapshot, one rights object -- and reads and writes through that
(``session.py``): reads carry their purpose, writes go through the one change pipeline
(``pipeline.py``: rights -> validate -> write -> search index -> history -> outbox ->
recompute -> hooks -> action).

The methods below that take an actor are the same calls in a session of their own, for
callers that do exactly one thing (tests, the demo loader, small tools).
"""
from __future__ import annotations

import builtins
import dataclasses
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, Iterator, Mapping, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..actor import Actor
from ..errors import ValidationError
from ..query import relative
from ..query.model import AggregateQuery, ListQuery, Page
from ..rights.access import AccessPolicy
from ..snapshot import ObjectInfo, Schema
from ..values import LinkRef
from .operations import MAX_BULK
from .serialize import record_to_json
from .session import Session

__all__ = ["MAX_BULK", "RecordStore", "WriteHooks"]

Hook = Callable[[Connection, Schema, ObjectInfo, list[int], str, Actor], None]


class WriteHooks:
    """Callbacks the pipeline runs last, inside the write transaction, after records
    changed (automations, validating webhooks). Each gets (conn, schema, obj, ids,
    action, actor); raising undoes the whole change."""

    def __init__(self) -> None:
        self._hooks: list[Hook] = []

    def register(self, hook: Hook) -> Hook:
        self._hooks.append(hook)
        return hook

    def unregister(self, hook: Hook) -> None:
        self._hooks.remove(hook)

    def run(self, conn: Connection, schema: Schema, obj: ObjectInfo, ids: list[int], action: str,
            actor: Actor) -> None:
        for hook in self._hooks:
            hook(conn, schema, obj, ids, action, actor)


class RecordStore:
    def __init__(self, db, policy: AccessPolicy | None = None, hooks: WriteHooks | None = None):
        self.db = db
        self.policy = policy or AccessPolicy()
        self.hooks = hooks or WriteHooks()

    @contextmanager
    def session(self, actor: Actor, *, write: bool = False, savepoints: bool = True,
                conn: Connection | None = None) -> Iterator[Session]:
        """One unit of work for ``actor``: commits when the block ends, rolls back on error.
        ``write``: the session may change records (on SQLite it takes the write lock at
        once). ``savepoints``: each change runs in a savepoint, so a failed one leaves
        nothing behind while the session goes on (off for a session of a single change).
        ``conn``: a read transaction the caller opened and ends (the API request's, which
        checked the token already), instead of a transaction of the session's own."""
        if conn is not None and write:
            raise ValueError("a session on the caller's transaction only reads")
        token = relative.use_viewer(actor.user_id)  # "me" in filters is this actor
        try:
            with (nullcontext(conn) if conn is not None else self.db.write() if write else self.db.read()) as opened:
                yield Session(self, opened, actor, write=write, savepoints=savepoints)
        except IntegrityError as exc:
            raise _integrity_to_validation(self.db, exc) from None
        finally:
            relative.reset_viewer(token)

    def _one(self, actor: Actor, write: bool = False):
        return self.session(actor, write=write, savepoints=False)

    # ---- one call, one session -----------------------------------------------------------------
    def get(self, actor: Actor, obj_ref: str | int, record_id: int, *, trash: bool = False,
            purpose: str = "read") -> dict[str, Any]:
        with self._one(actor) as s:
            return s.get(obj_ref, record_id, trash=trash, purpose=purpose)

    def list(self, actor: Actor, obj_ref: str | int, query: ListQuery | None = None, *,
             purpose: str = "read") -> Page:
        with self._one(actor) as s:
            return s.list(obj_ref, query, purpose=purpose)

    def count(self, actor: Actor, obj_ref: str | int, filter: dict | None = None,
              search: str | None = None) -> tuple[int, bool]:
        with self._one(actor) as s:
            return s.count(obj_ref, filter, search)

    def children(self, actor: Actor, obj_ref: str | int, record_id: int, child_ref: str | int,
                 link: str | None = None, query: ListQuery | None = None) -> Page:
        with self._one(actor) as s:
            return s.children(obj_ref, record_id, child_ref, link, query)

    def aggregate(self, actor: Actor, obj_ref: str | int, query: AggregateQuery, *,
                  purpose: str = "report") -> builtins.list[dict[str, Any]]:
        with self._one(actor) as s:
            return s.aggregate(obj_ref, query, purpose=purpose)

    def history(self, actor: Actor, obj_ref: str | int, record_id: int) -> builtins.list[dict[str, Any]]:
        with self._one(actor) as s:
            return s.history(obj_ref, record_id)

    def to_json(self, obj_ref: str | int, record: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.db.schema()
        return record_to_json(schema, schema.object(obj_ref), record)

    def can(self, actor: Actor, obj_ref: str | int, right: str) -> bool:
        with self._one(actor) as s:
            return s.can(obj_ref, right)

    def objects_with(self, actor: Actor, right: str = "read") -> builtins.list[ObjectInfo]:
        with self._one(actor) as s:
            return s.objects_with(right)

    def require(self, actor: Actor, obj_ref: str | int, right: str) -> None:
        with self._one(actor) as s:
            s.require(obj_ref, right)

    def record_rights(self, actor: Actor, obj_ref: str | int, record_id: int) -> dict[str, bool]:
        with self._one(actor) as s:
            s.get(obj_ref, record_id, trash=None)
            return s.record_rights(obj_ref, record_id)

    def export(self, actor: Actor, obj_ref: str | int, query: ListQuery | None = None,
               batch: int = 500) -> Iterator[builtins.list[dict[str, Any]]]:
        """Every record of a list (its filter, search, sort and fields), ``batch`` at a
        time, for exports: purpose "export" (the read and export rights), checked before
        the first batch is asked for; rights narrow it exactly like the list."""
        query = query or ListQuery()
        with self._one(actor) as s:
            obj = s.require_purpose(obj_ref, "export")
        return self._export_batches(actor, obj, dataclasses.replace(query, limit=batch, offset=None, cursor=None))

    def _export_batches(self, actor: Actor, obj: ObjectInfo, current: ListQuery) -> Iterator[builtins.list[dict[str, Any]]]:
        while True:  # a read transaction per batch: a long download holds no snapshot open
            with self._one(actor) as s:
                page = s.list(obj.id, current, purpose="export", with_count=False)
            if page.data:
                yield page.data
            if not page.next_cursor:
                return
            current = dataclasses.replace(current, cursor=page.next_cursor)

    def link_choices(self, actor: Actor, obj_ref: str | int, link: str, search: str | None = None,
                     limit: int = 20) -> builtins.list[LinkRef]:
        with self._one(actor) as s:
            return s.link_choices(obj_ref, link, search, limit)

    def create(self, actor: Actor, obj_ref: str | int, values: Mapping[str, Any]) -> dict[str, Any]:
        with self._one(actor, write=True) as s:
            return s.create(obj_ref, values)

    def bulk_create(self, actor: Actor, obj_ref: str | int, rows: Sequence[Mapping[str, Any]], *,
                    importing: bool = False, keep_codes: bool = False) -> builtins.list[int]:
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        with self._one(actor, write=True) as s:
            return s.bulk_create(obj_ref, rows, importing=importing, keep_codes=keep_codes)

    def update(self, actor: Actor, obj_ref: str | int, record_id: int, values: Mapping[str, Any], *,
               version: int | None) -> dict[str, Any]:
        with self._one(actor, write=True) as s:
            return s.update(obj_ref, record_id, values, version=version)

    def bulk_write(self, actor: Actor, obj_ref: str | int, rows: Sequence[Mapping[str, Any]]) -> builtins.list[dict[str, Any]]:
        with self._one(actor, write=True) as s:
            return s.bulk_write(obj_ref, rows)

    def delete(self, actor: Actor, obj_ref: str | int, record_id: int, *, version: int | None = None) -> None:
        with self._one(actor, write=True) as s:
            s.delete(obj_ref, record_id, version=version)

    def restore(self, actor: Actor, obj_ref: str | int, record_id: int) -> dict[str, Any]:
        with self._one(actor, write=True) as s:
            return s.restore(obj_ref, record_id)

    def purge(self, actor: Actor, obj_ref: str | int, record_id: int) -> None:
        with self._one(actor, write=True) as s:
            s.purge(obj_ref, record_id)

    def set_owner(self, actor: Actor, obj_ref: str | int, record_id: int, user_id: Any, *,
                  version: int | None = None) -> dict[str, Any] | None:
        with self._one(actor, write=True) as s:
            return s.set_owner(obj_ref, record_id, user_id, version=version)

    def share(self, actor: Actor, obj_ref: str | int, record_id: Any, *, user: Any = None, group: Any = None,
              level: str = "read") -> dict[str, Any]:
        with self._one(actor, write=True) as s:
            return s.share(obj_ref, record_id, user=user, group=group, level=level)

    def unshare(self, actor: Actor, obj_ref: str | int, record_id: Any, *, user: Any = None,
                group: Any = None) -> None:
        with self._one(actor, write=True) as s:
            s.unshare(obj_ref, record_id, user=user, group=group)

    def shares_of(self, actor: Actor, obj_ref: str | int, record_id: Any) -> builtins.list[dict[str, Any]]:
        with self._one(actor) as s:
            return s.shares_of(obj_ref, record_id)

    def undo(self, actor: Actor, action_id: Any) -> dict[str, Any]:
        with self._one(actor, write=True) as s:
            return s.undo(action_id)

    def actions(self, actor: Actor, limit: int = 20) -> builtins.list[dict[str, Any]]:
        with self._one(actor) as s:
            return s.actions(limit)


def _integrity_to_validation(db, exc: IntegrityError) -> ValidationError:
    """Map a unique-index violation (a race the pre-check could not see) to its field."""
    text = str(exc.orig)
    schema = db.schema()
    for obj in schema.objects:
        for field in obj.user_fields:
            names = (f"ux_{obj.table_name}_{field.column}", f"{obj.table_name}.{field.column}")
            if any(n in text for n in names):
                return ValidationError({field.api_name: "must be unique: the value is already used"})
        if f"ux_{obj.table_name}_code" in text or f"{obj.table_name}.code" in text:
            return ValidationError({"code": "is already used"})
    return ValidationError({"record": f"the database refused the change: {text.splitlines()[0]}"})
