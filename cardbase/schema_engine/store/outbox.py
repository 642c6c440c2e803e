"""Outbox events: written in the writer's transaction, delivered later by the worker."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ..meta_models import OutboxEvent
from .bulk_sql import insert_many


def write(conn: Connection, events: list[dict[str, Any]]) -> None:
    """Queue ``events`` ({"topic", "object_id", "record_id", "created_at", "payload"})."""
    if events:
        insert_many(conn, OutboxEvent.__table__, [{"payload": {}, "object_id": None, "record_id": None,
                                                   "delivered_at": None, "attempts": 0, **e} for e in events])
