"""What a mutation did, record by record: the one description every later step reads.

An operation (create, update, owner, trash, restore, purge, undo …) validates its input,
checks the rights and writes the rows; for each record it touched it adds a
``RecordChange`` to the ``ChangeSet``. The pipeline then derives the search index, the
history, the outbox events, the recomputation of dependants, the hooks and the action
record from those alone, so no write path lists these steps by hand and they cannot
disagree with each other.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from typing import Any

from ..actor import Actor
from ..meta_models import utcnow
from ..snapshot import ObjectInfo

# action -> (outbox topic, hook action); None: no event of its own (part of another record's)
EVENTS: dict[str, tuple[str | None, str]] = {
    "create": ("record.created", "create"),
    "update": ("record.updated", "update"),
    "unlink": ("record.updated", "update"),
    "relink": ("record.updated", "update"),
    "delete": ("record.deleted", "delete"),
    "restore": ("record.restored", "restore"),
    "purge": ("record.purged", "purge"),
    "share": ("record.shared", "share"),
    "unshare": ("record.unshared", "share"),
}


@dataclass
class RecordChange:
    """One record's part of a ChangeSet.

    ``history``: field key -> [old, new] in JSON form (what undo reverts). ``fields``: keys
    of the fields whose stored values changed (None: the record appeared or disappeared),
    with ``old_links`` (link key -> the records it pointed at before) and ``done`` (computed
    definitions already written with the row) for the recomputation. ``document``: the
    search text to store (``index`` "insert" / "replace"), or ``index`` "delete".
    ``recompute_own``: every computed field of the record is recomputed (a restore)."""

    obj: ObjectInfo
    record_id: int
    action: str
    version: int
    history: dict[str, list[Any]] = dc_field(default_factory=dict)
    fields: frozenset[str] | None = None
    old_links: dict[str, set[int]] = dc_field(default_factory=dict)
    done: frozenset[str] = frozenset()
    document: str | None = None
    index: str | None = None
    recompute_own: bool = False
    payload: dict[str, Any] = dc_field(default_factory=dict)


@dataclass
class ChangeSet:
    """One user-visible action: what the pipeline applies and records once."""

    kind: str
    actor: Actor
    obj: ObjectInfo | None = None
    batch: str = dc_field(default_factory=lambda: uuid.uuid4().hex)
    at: datetime = dc_field(default_factory=utcnow)
    records: list[RecordChange] = dc_field(default_factory=list)
    steps: list[str] = dc_field(default_factory=list)
    undoes: int | None = None
    action_id: int | None = None
    summary: dict[str, Any] = dc_field(default_factory=dict)

    def add(self, change: RecordChange) -> RecordChange:
        self.records.append(change)
        return change

    def ids(self, obj: ObjectInfo, *actions: str) -> list[int]:
        return [c.record_id for c in self.records if c.obj.id == obj.id and (not actions or c.action in actions)]
