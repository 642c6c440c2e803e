"""Mixed bulk writes (``RecordStore.bulk_write``): creates and updates in one transaction.

Rows without an "id" are created together through the store's bulk insert path (one
validation pass, one INSERT); rows with an "id" are updated one by one through the
store's own update path (rights, optimistic locking, history, outbox, propagation), all
on the caller's connection. Every row is checked even after an error, so the caller gets
every row's problems at once; then, if any row failed, BulkValidationError rolls the
whole transaction back -- nothing is written.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..actor import Actor
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..snapshot import ObjectInfo, Schema
from .validation import BulkValidationError


def write_rows(store, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo,
               rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    from .records import _record_id

    errors: dict[int, dict[str, list[str]]] = {}
    creates = [i for i, row in enumerate(rows) if not (isinstance(row, Mapping) and row.get("id") is not None)]
    updates = [i for i, row in enumerate(rows) if isinstance(row, Mapping) and row.get("id") is not None]
    ids: list[int | None] = [None] * len(rows)
    if creates:
        store._require(conn, schema, actor, obj, "create")
        try:
            created = store._insert(conn, schema, obj, actor, [rows[i] for i in creates], single=False)
        except BulkValidationError as exc:  # raised before anything was inserted
            for j, row_errors in exc.rows.items():
                errors[creates[j]] = row_errors
        else:
            for i, rid in zip(creates, created):
                ids[i] = rid
    if updates:
        store._require(conn, schema, actor, obj, "edit")
    for i in updates:
        row = rows[i]
        try:
            rid = _record_id(row["id"])
            values = {k: v for k, v in row.items() if k not in ("id", "version")}
            store._update(conn, schema, actor, obj, rid, values, row.get("version"), fetch=False)
            ids[i] = rid
        except ValidationError as exc:
            errors[i] = exc.errors
        except Conflict as exc:
            errors[i] = {"version": [exc.message]}
        except (NotFound, Forbidden) as exc:
            errors[i] = {"id": [exc.message]}
    if errors:
        raise BulkValidationError(dict(sorted(errors.items())))
    table = schema.table(obj)
    found: dict[int, tuple[str, int]] = {}
    chunk = [i for i in ids if i is not None]
    for start in range(0, len(chunk), 500):
        for rid, code, version in conn.execute(sa.select(table.c.id, table.c.code, table.c.version)
                                               .where(table.c.id.in_(chunk[start:start + 500]))):
            found[rid] = (code, version)
    created_rows = set(creates)
    return [{"id": rid, "code": found.get(rid, (None, None))[0], "version": found.get(rid, (None, None))[1],
             "action": "created" if i in created_rows else "updated"} for i, rid in enumerate(ids)]
