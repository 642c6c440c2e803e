"""The one change pipeline: every mutation of records goes through ``apply``.

    rights -> validate -> write -> search index -> history -> outbox -> recompute -> hooks -> action

An operation (``operations.py``, ``trash.py``, ``undo.py``) supplies the first three
(they differ by what is changed); the rest are the steps below, run for every operation
from the ``RecordChange``s it reported. Rights come before validation so that a user
without the right learns nothing about the data from validation messages.

The write and everything after it run in a savepoint of the session's transaction: a
ChangeSet that fails in any step -- a hook included -- leaves nothing behind, while the
session (a web page that shows the error next to the form) goes on.
"""
from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any, Callable, Protocol

import sqlalchemy as sa

from .. import search_index
from ..computed import Change, own_seed, propagate
from ..meta_models import ActionRow
from ..snapshot import ObjectInfo
from . import history, outbox
from .changeset import EVENTS, ChangeSet

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

MAX_SUMMARY = 50  # records named in an action's summary


class Operation(Protocol):
    """What one kind of mutation knows: who may do it, what is valid, how rows change."""

    kind: str

    @property
    def obj(self) -> ObjectInfo | None: ...  # read-only here: operations narrow it to ObjectInfo

    def authorize(self, tx: "Session") -> None: ...

    def validate(self, tx: "Session") -> None: ...

    def write(self, tx: "Session", cs: ChangeSet) -> Any: ...


def apply(tx: "Session", op: Operation, *, undoes: int | None = None) -> tuple[ChangeSet, Any]:
    """Apply ``op`` in the session's transaction; returns the ChangeSet and the op's result."""
    op.authorize(tx)
    op.validate(tx)
    cs = ChangeSet(op.kind, tx.actor, op.obj, undoes=undoes, steps=["rights", "validate"])
    with tx.savepoint():
        result = op.write(tx, cs)
        cs.steps.append("write")
        if cs.records:
            for name, step in EFFECTS:
                step(tx, cs)
                cs.steps.append(name)
    return cs, result


# ---- the common steps -------------------------------------------------------------------------
def _search_index(tx: "Session", cs: ChangeSet) -> None:
    groups: dict[tuple[int, str], list] = defaultdict(list)
    for c in cs.records:
        if c.index is not None:
            groups[(c.obj.id, c.index)].append(c)
    for (obj_id, how), changes in groups.items():
        obj = tx.schema.object(obj_id)
        if how == "delete":
            search_index.delete(tx.conn, obj, [c.record_id for c in changes])
        else:
            search_index.write(tx.conn, obj, [(c.record_id, c.document) for c in changes], replace=how == "replace")


def _history(tx: "Session", cs: ChangeSet) -> None:
    history.write(tx.conn, [history.entry(c.obj, c.record_id, c.action, cs.actor, cs.at, c.version, c.history,
                                          cs.batch) for c in cs.records])


def _outbox(tx: "Session", cs: ChangeSet) -> None:
    events = []
    for c in cs.records:
        topic = EVENTS[c.action][0]
        if topic is not None:
            payload = {"object": c.obj.api_name, "id": c.record_id, **c.payload}
            if c.action not in ("purge",):
                payload.setdefault("version", c.version)
            events.append({"topic": topic, "object_id": c.obj.id, "record_id": c.record_id,
                           "created_at": cs.at, "payload": payload})
    outbox.write(tx.conn, events)


def _recompute(tx: "Session", cs: ChangeSet) -> None:
    """Dependants of what changed, set-based (``computed.propagate``), then one
    ``record.recomputed`` event per other record whose computed values moved."""
    grouped: dict[tuple, Change] = {}
    seed: dict[str, set[int]] = defaultdict(set)
    for c in cs.records:
        if c.action == "purge":
            continue  # its children were unlinked (their own changes); nothing reads a purged row
        key = (c.obj.id, c.fields, c.done, tuple(sorted(c.old_links)))
        change = grouped.get(key)
        if change is None:
            change = grouped[key] = Change(c.obj, [], c.fields, {k: set() for k in c.old_links}, c.done)
        change.ids.append(c.record_id)  # type: ignore[attr-defined]
        for link, old in c.old_links.items():
            change.old_links[link].update(old)
        if c.recompute_own:
            for d, ids in own_seed(tx.schema, c.obj, [c.record_id]).items():
                seed[d].update(ids)
    recomputed = propagate(tx.conn, tx.schema, list(grouped.values()), seed=seed)
    outbox.write(tx.conn, [
        {"topic": "record.recomputed", "object_id": obj_id, "record_id": rid, "created_at": cs.at,
         "payload": {"object": tx.schema.object(obj_id).api_name, "id": rid, "fields": sorted(fields)}}
        for obj_id, records in recomputed.items() for rid, fields in records.items()])


def _hooks(tx: "Session", cs: ChangeSet) -> None:
    groups: dict[tuple[int, str], list[int]] = {}
    for c in cs.records:
        groups.setdefault((c.obj.id, EVENTS[c.action][1]), []).append(c.record_id)
    for (obj_id, action), ids in groups.items():
        tx.hooks.run(tx.conn, tx.schema, tx.schema.object(obj_id), ids, action, cs.actor)


_ACTIONS = ActionRow.__table__
# Built once: the action row is written by every change, and building the statement with
# .values(...) anew each time cost more than running it.
_INSERT_ACTION = sa.insert(_ACTIONS).returning(_ACTIONS.c.id)
_MARK_UNDONE = sa.update(_ACTIONS).where(_ACTIONS.c.id == sa.bindparam("_id")).values(
    undone_by=sa.bindparam("_by"))


def _action(tx: "Session", cs: ChangeSet) -> None:
    """The ChangeSet recorded once: who, what, when. Its before/after are the history
    rows of the same batch."""
    named = [[c.obj.id, c.record_id, c.action] for c in cs.records[:MAX_SUMMARY]]
    cs.action_id = tx.conn.execute(_INSERT_ACTION, {
        "batch": cs.batch, "kind": cs.kind, "actor_id": cs.actor.user_id, "at": cs.at,
        "object_id": cs.obj.id if cs.obj is not None else None, "record_count": len(cs.records),
        "summary": {"records": named, **cs.summary}, "undoes": cs.undoes}).scalar_one()
    if cs.undoes is not None:
        tx.conn.execute(_MARK_UNDONE, {"_id": cs.undoes, "_by": cs.action_id})


EFFECTS: tuple[tuple[str, Callable[["Session", ChangeSet], None]], ...] = (
    ("search_index", _search_index),
    ("history", _history),
    ("outbox", _outbox),
    ("recompute", _recompute),
    ("hooks", _hooks),
    ("action", _action),
)
