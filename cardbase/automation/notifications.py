"""In-app notifications: what the bell counts and lists. Written in the transaction of
what caused them (a mention, a reminder, a paused webhook, a scenario's "notify users").

The engine's own notifications are stored as a ``Note``: the English message (marked with
``N_`` for `make messages`) and its parameters, and translated when read with the engine's
i18n, so a German reader's bell shows German while the REST API (whose messages are part of
its contract) and the e-mail keep English. A scenario's text is the power user's own: kept
as written."""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.automation_models import Notification
from cardbase.schema_engine import i18n
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import User

from . import clock

NOTES = Notification.__table__
MAX_TEXT = 2000


def N_(message: str) -> str:
    """Marks an engine message for the catalogue; it is translated when read, not here."""
    return message


class Note(NamedTuple):
    """An engine message (English, marked with ``N_``) and its parameters."""

    message: str
    params: dict[str, Any]

    def english(self) -> str:
        return self.message % self.params if self.params else self.message


def shown_text(message: str | None, params: dict[str, Any] | None, stored: str) -> str:
    """A notification in the language in force (the reader's, on a web page); the stored
    English text for the power user's own texts and if a translation cannot be filled in."""
    if not message:
        return stored
    try:
        return i18n._(message, **(params or {}))
    except (KeyError, ValueError, TypeError):
        return stored


def notify(conn: Connection, user_ids: Iterable[int], kind: str, text: str | Note, *, object_id: int | None = None,
           record_id: int | None = None, email: bool = False) -> int:
    """One notification per user (duplicates in ``user_ids`` count once); how many were
    written. ``email``: also queue it as an e-mail to each of them who has an address.
    ``text``: a ``Note`` (translated for each reader) or the power user's own text."""
    note = text if isinstance(text, Note) else None
    text = note.english() if note else str(text)
    rows = [{"user_id": uid, "kind": kind, "text": text[:MAX_TEXT], "object_id": object_id, "record_id": record_id,
             "created_at": clock.now(), "read_at": None, "message": note.message if note else None,
             "params": note.params if note else None}
            for uid in dict.fromkeys(user_ids) if uid is not None]
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
    return [{"id": r["id"], "kind": r["kind"], "text": shown_text(r["message"], r["params"], r["text"])[:MAX_TEXT],
             "object_id": r["object_id"],
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
