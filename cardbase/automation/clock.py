"""The automation's one source of "now" (naive UTC, as stored): tests freeze it with
``monkeypatch.setattr(clock, "now", ...)`` to run date triggers and reminders at a chosen time."""
from __future__ import annotations

from datetime import datetime

from cardbase.schema_engine.meta_models import utcnow


def now() -> datetime:
    return utcnow()
