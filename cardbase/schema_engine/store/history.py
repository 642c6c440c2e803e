"""History entries: one row per mutation, written in the writer's transaction."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from ..actor import Actor
from ..meta_models import HistoryEntry, User
from ..i18n import _
from .bulk_sql import insert_many
from ..snapshot import ObjectInfo, Schema


def entry(obj: ObjectInfo, record_id: int, action: str, actor: Actor, at: datetime, version: int,
          changes: Mapping[str, list[Any]], batch: str | None = None) -> dict[str, Any]:
    return {"object_id": obj.id, "record_id": record_id, "action": action, "actor_id": actor.user_id,
            "at": at, "version": version, "changes": dict(changes), "batch": batch}


def write(conn: Connection, entries: Iterable[dict[str, Any]]) -> None:
    entries = list(entries)
    if entries:
        insert_many(conn, HistoryEntry.__table__, entries)


def read(conn: Connection, schema: Schema, obj: ObjectInfo, record_id: int,
         field_readable=None) -> list[dict[str, Any]]:
    """Entries newest first, field keys turned into today's names and labels.

    ``field_readable`` hides the changes of fields the reader may not see; an entry whose
    every change is hidden (an update of a hidden field only) is left out altogether, so
    the reader cannot even tell when such a field changed. Entries that carry no field
    changes of their own (delete, restore) and creations are always shown."""
    h = HistoryEntry.__table__
    rows = conn.execute(
        sa.select(h, User.username, User.display_name)
        .join(User.__table__, User.id == h.c.actor_id, isouter=True)
        .where(h.c.object_id == obj.id, h.c.record_id == record_id)
        .order_by(h.c.id.desc())).mappings().all()
    by_key = {f.key: f for f in obj.fields}
    out = []
    for row in rows:
        changes = []
        for key, (old, new) in (row["changes"] or {}).items():
            field = by_key.get(key)
            if field is not None and field_readable is not None and not field_readable(field):
                continue
            label = field.label if field else _("Sharing") if key == "share" else f"(removed field {key})"
            changes.append({"field": field.api_name if field else None, "key": key, "label": label,
                            "old": old, "new": new})
        if row["changes"] and not changes and row["action"] != "create":
            continue  # only hidden fields changed
        who = row["username"] or "system"
        out.append({"id": row["id"], "at": row["at"], "action": row["action"], "version": row["version"],
                    "actor": {"id": row["actor_id"], "username": who, "display": row["display_name"] or who},
                    "batch": row["batch"], "changes": changes})
    return out
