"""System tables: the metadata (object types, fields, cards, views), users and groups,
history, outbox and sequences. Physical record tables are *not* here: they are built at
run time from these rows (see ``physical.py``)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, ClassVar, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC: stored the same way on SQLite and PostgreSQL."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}
    # Every model here maps one Table; DeclarativeBase types __table__ as the wider FromClause.
    __table__: ClassVar[Table]


class MetaState(Base):
    """One row: the schema version every worker compares its cached snapshot with."""

    __tablename__ = "cb_meta_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    format_version: Mapped[int] = mapped_column(Integer, default=1)


class DataVersion(Base):
    """One row per object table (``obj_<id>``) and per system table reports read: a token
    that changes in every transaction that writes the table (``data_versions``). Result
    caches key on it, so a write in any process invalidates them."""

    __tablename__ = "cb_data_version"
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    token: Mapped[str] = mapped_column(String(32))


class ObjectType(Base):
    __tablename__ = "cb_object"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    api_name: Mapped[str] = mapped_column(String(63), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    label_plural: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    code_pattern: Mapped[str] = mapped_column(String(100))
    display_field: Mapped[Optional[str]] = mapped_column(String(63), nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    fields: Mapped[list["FieldRow"]] = relationship(
        back_populates="object", cascade="all, delete-orphan", order_by="FieldRow.position",
        foreign_keys="FieldRow.object_id",
    )


class FieldRow(Base):
    __tablename__ = "cb_field"
    __table_args__ = (UniqueConstraint("object_id", "api_name", name="uq_cb_field_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    api_name: Mapped[str] = mapped_column(String(63))
    label: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(40))
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    unique: Mapped[bool] = mapped_column(Boolean, default=False)
    default: Mapped[Any] = mapped_column(JSON, nullable=True)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    help_text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    object: Mapped[ObjectType] = relationship(back_populates="fields", foreign_keys=[object_id])


class CardLayout(Base):
    """A card (data-entry form) design: sections, columns, tabs of field ids."""

    __tablename__ = "cb_card"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    layout: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Translation(Base):
    """A label of an object or field in another language (German labels for an English
    setup, say). Kept apart from cb_object/cb_field so each field type's options stay its own."""

    __tablename__ = "cb_translation"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_field.id", ondelete="CASCADE"), nullable=True)
    language: Mapped[str] = mapped_column(String(10))
    key: Mapped[str] = mapped_column(String(30))  # label, label_plural, help_text
    text: Mapped[str] = mapped_column(Text)


class SavedView(Base):
    """A table (list view): filter, sort and columns, personal or shared."""

    __tablename__ = "cb_view"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_user.id"), nullable=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class User(Base):
    __tablename__ = "cb_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped by a password change or reset and a deactivation (not by a login's re-hash):
    # browser sessions and API session tokens issued in an older epoch end.
    credentials_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Group(Base):
    __tablename__ = "cb_group"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")


class UserGroup(Base):
    __tablename__ = "cb_user_group"
    user_id: Mapped[int] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)


class HistoryEntry(Base):
    """One row per mutation (the action): who, when, what, and per field old -> new.

    ``changes`` maps a field key (field id as text, or a system name) to [old, new] in
    JSON form, so renaming a field never orphans its history."""

    __tablename__ = "cb_history"
    __table_args__ = (Index("ix_cb_history_record", "object_id", "record_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    object_id: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    batch: Mapped[Optional[str]] = mapped_column(String(40), nullable=True, index=True)


class ActionRow(Base):
    """One applied ChangeSet (create, update, bulk, owner, trash, restore, purge, undo …):
    who did what and when. Its per-record before/after are the history rows carrying the
    same ``batch``; undo reads them from there, so history and undo never disagree."""

    __tablename__ = "cb_action"
    __table_args__ = (Index("ix_cb_action_actor", "actor_id", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    batch: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_count: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undoes: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    undone_by: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)


class OutboxEvent(Base):
    """Written in the same transaction as the change; a worker delivers it at least once."""

    __tablename__ = "cb_outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    record_id: Mapped[Optional[int]] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class RecomputeJob(Base):
    """A background recalculation of one computed field over all its records, in batches.

    ``mode`` "fill": the field's definition is live and its column is being filled (a new
    field on a big table). "swap": a changed definition is computed into shadow columns
    (the field's options hold it under "pending") while readers keep seeing the current
    values; the last step swaps the columns and the definition in one transaction.
    ``last_id`` is the highest record id done in a committed batch, so a crashed job
    resumes where it stopped (``computed.jobs.resume_recompute_jobs``)."""

    __tablename__ = "cb_recompute_job"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(Integer)
    field_id: Mapped[int] = mapped_column(Integer, index=True)
    mode: Mapped[str] = mapped_column(String(10))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime, nullable=True)


class SequenceRow(Base):
    """Counters for codes and autonumbers on SQLite (PostgreSQL uses real sequences)."""

    __tablename__ = "cb_sequence"
    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class Setting(Base):
    __tablename__ = "cb_setting"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ConfigChange(Base):
    """Log of configuration changes (who, when, what)."""

    __tablename__ = "cb_config_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(60))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def system_table_names() -> set[str]:
    """The tables on the shared Base (``system_tables`` imports every module that adds some)."""
    return set(Base.metadata.tables)
