"""System tables of the transfer features, declared on the shared ``meta_models.Base`` (imported by
``system_tables`` so ``create_all`` and backups see them): saved import mappings, transfer
jobs (imports running in the background, with progress and cancel) and the SQL-views switch."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, utcnow


class ImportMapping(Base):
    """A column -> field mapping saved for reuse (the next file with the same headers)."""

    __tablename__ = "cb_import_mapping"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(Integer, index=True)
    name: Mapped[str] = mapped_column(String(200))
    columns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # header -> field api name
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # mode, key, locale, region ...
    created_by: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TransferJob(Base):
    """One import run: its state, progress and outcome. Progress is written in the same
    transaction as each committed chunk, so after a crash the row says exactly what was written."""

    __tablename__ = "cb_transfer_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), default="import")
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    state: Mapped[str] = mapped_column(String(20), default="queued")  # queued running done failed cancelled interrupted
    file_name: Mapped[str] = mapped_column(String(255), default="")
    file_path: Mapped[str] = mapped_column(Text, default="")
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    rows_total: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    last_line: Mapped[int] = mapped_column(Integer, default=0)  # the last file line committed
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)  # the first bad rows: line, field, message
    message: Mapped[str] = mapped_column(Text, default="")
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    # the last sign of life of the process running it: a "running" job whose heartbeat is older than
    # the lease is "interrupted" (jobs.mark_interrupted)
    heartbeat_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TransferSetting(Base):
    """Switches of the transfer features (``sql_views``: keep the BI views current; its
    ``details`` name the views it made, so they are dropped by name and nothing else is)."""

    __tablename__ = "cb_transfer_setting"
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
