"""The end-user web's way to the engine: the request's one session and what it answers.

Every page and action reads and writes through ``engine_session()`` (one transaction, one
schema snapshot, one rights object per request); rights questions go to the session's
capabilities, never to a hand-made view-model. The layout reads (``layouts.get_card``,
``list_cards``, ``default_table``, ``list_views``, ``get_view``) take the session itself and
read in its transaction and snapshot.

``readable(s)``    "may the actor read this field?" for any object's field (link paths cross
                   objects), from the session's capabilities.
"""
from __future__ import annotations

from typing import Callable

from flask import flash, request, url_for

from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session

from ..context import engine_session

__all__ = ["engine_session", "flash_undo", "readable", "can_read"]


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
