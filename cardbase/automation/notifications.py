"""In-app notifications: what the bell counts and lists. Written in the transaction of
what caused them (a mention, a reminder, a paused webhook, a scenario's "notify users")."""
from __future__ import annotations

from typing import Any, Iterable

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import Notification
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import User

from . import clock

NOTES = Notification.__table__
MAX_TEXT = 2000


def notify(conn: Connection, user_ids: Iterable[int], kind: str, text: str, *, object_id: int | None = None,
           record_id: int | None = None, email: bool = False) -> int:
    """One notification per user (duplicates in ``user_ids`` count once); how many were
    written. ``email``: also queue it as an e-mail to each of them who has an address."""
    rows = [{"user_id": uid, "kind": kind, "text": text[:MAX_TEXT], "object_id": object_id, "record_id": record_id,
             "created_at": clock.now(), "read_at": None} for uid in dict.fromkeys(user_ids) if uid is not None]
    if rows:
        conn.execute(sa.insert(NOTES), rows)
    if email and rows:
        from . import email_out

        addresses = conn.execute(sa.select(User.email).where(User.id.in_([r["user_id"] for r in rows]),
                                                             User.email != "")).scalars()
        for address in addresses:
            try:
                email_out.queue(conn, address, text.splitlines()[0][:200] if text else kind, text,
                                object_id=object_id, record_id=record_id)
            except ValidationError:
                continue  # an address the e-mail check refuses: the in-app notification is there
    return len(rows)


def unread_count(conn: Connection, user_id: int) -> int:
    return conn.execute(sa.select(sa.func.count()).select_from(NOTES)
                        .where(NOTES.c.user_id == user_id, NOTES.c.read_at.is_(None))).scalar_one()


def list_for(conn: Connection, user_id: int, *, unread: bool = False, limit: int = 50) -> list[dict[str, Any]]:
    query = sa.select(NOTES).where(NOTES.c.user_id == user_id)
    if unread:
        query = query.where(NOTES.c.read_at.is_(None))
    rows = conn.execute(query.order_by(NOTES.c.id.desc()).limit(limit)).mappings()
    return [{"id": r["id"], "kind": r["kind"], "text": r["text"], "object_id": r["object_id"],
             "record_id": r["record_id"], "created_at": r["created_at"].isoformat() + "Z",
             "read": r["read_at"] is not None} for r in rows]


def mark_read(conn: Connection, user_id: int, ids: Any = None) -> int:
    """Mark the user's notifications ``ids`` (None: all) as read; how many changed."""
    query = sa.update(NOTES).where(NOTES.c.user_id == user_id, NOTES.c.read_at.is_(None))
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise ValidationError({"ids": "must be a list of notification ids"})
        query = query.where(NOTES.c.id.in_(ids))
    return conn.execute(query.values(read_at=clock.now())).rowcount
