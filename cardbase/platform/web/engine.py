"""The end-user web's way to the engine: the request's one session and what it answers.

Every page and action reads and writes through ``engine_session()`` (one transaction, one
schema snapshot, one rights object per request); rights questions go to the session's
capabilities, never to a hand-made view-model. Two helpers adapt the session to the
parts of the engine that still take a ``Database``:

``layouts_db(s)``  the layout reads (``layouts.get_card``, ``list_cards``, ``default_table``,
                   ``list_views``, ``get_view``) open ``db.read()`` and ask ``db.schema(conn)``;
                   here that is the session's own transaction and snapshot, so a page reads
                   its card layout or view without a second transaction and version check.
                   Only for reads: layout *changes* keep the real Database.
``readable(s)``    "may the actor read this field?" for any object's field (link paths cross
                   objects), from the session's capabilities.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from flask import flash, request, url_for

from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session

from ..context import engine_session, get_db

__all__ = ["engine_session", "flash_undo", "layouts_db", "readable", "can_read"]


class _SessionDatabase:
    """The session seen as the Database the layout read functions expect."""

    def __init__(self, s: Session):
        self._session = s

    @contextmanager
    def read(self) -> Iterator[Any]:
        yield self._session.conn

    def schema(self, conn: Any = None):
        return self._session.schema

    def __getattr__(self, name: str) -> Any:  # anything else: the real Database
        return getattr(get_db(), name)


def layouts_db(s: Session | None = None) -> Any:
    return _SessionDatabase(s or engine_session())


def readable(s: Session) -> Callable[[FieldInfo], bool]:
    return lambda f: s.capabilities(f.object_id).reads(f)


def can_read(s: Session) -> Callable[[ObjectInfo], bool]:
    return lambda o: s.can(o, "read")


def flash_undo(text: str, s: Session, back: str | None = None) -> None:
    """A notice "<text> Undo" after a write: the Undo button posts to ``actions.undo``
    with the action the session just recorded (a plain notice when nothing was)."""
    action_id = getattr(s.last, "action_id", None) if s.last is not None else None
    if action_id is None:
        flash(text, "success")
        return
    flash({"text": text, "url": url_for("actions.undo", action_id=action_id),
           "next": back or request.full_path.rstrip("?")}, "undo")
