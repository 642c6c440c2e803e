"""The rights model in system tables (on the same declarative Base as the metadata).

  cb_object_right   group x object: read, create, edit, delete, export, print, report, configure
  cb_object_access  object: "all" (group members with the right see every record) or
                    "own_and_shared" (their own records, shared ones and rule-view matches)
  cb_field_right    group x field: hidden, read_only or editable
  cb_rule_view      group x object: a saved filter (fields by id) granting read/change/full
  cb_share          one record shared with one user or one group at read/change/full
  cb_record_scope   group x object: which records the group's object rights reach -- all,
                    own_and_shared, rule_views (only records its rule views match) or none;
                    without a row the object's access mode counts
  cb_parent_access  object: takes its record access from the record one of its links
                    points at (order lines follow their order)
  cb_rights_state   a counter bumped by every change of the definitions above, so each
                    worker reloads its cached rights (shares are data: never cached)

Rows naming a group, object, field or user go when it goes (ON DELETE CASCADE), so a
right can never point at something that no longer exists.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

import sqlalchemy as sa
from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer,
                        String, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, utcnow

OBJECT_RIGHTS = ("read", "create", "edit", "delete", "export", "print", "report", "configure")
ACCESS_MODES = ("all", "own_and_shared")
RECORD_SCOPES = ("all", "own_and_shared", "rule_views", "none")
DEFAULT_MODE = "all"
FIELD_LEVELS = ("hidden", "read_only", "editable")
FIELD_RANK = {name: i for i, name in enumerate(FIELD_LEVELS)}
LEVELS = ("read", "change", "full")  # of shares and rule views
LEVEL_RANK = {name: i + 1 for i, name in enumerate(LEVELS)}
# The record right each level gives first: read -> read, change -> edit, full -> delete.
RIGHT_LEVEL = {"read": 1, "edit": 2, "delete": 3}


class RightsState(Base):
    __tablename__ = "cb_rights_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class ObjectRight(Base):
    __tablename__ = "cb_object_right"
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), primary_key=True)
    may_read: Mapped[bool] = mapped_column(Boolean, default=False)
    may_create: Mapped[bool] = mapped_column(Boolean, default=False)
    may_edit: Mapped[bool] = mapped_column(Boolean, default=False)
    may_delete: Mapped[bool] = mapped_column(Boolean, default=False)
    may_export: Mapped[bool] = mapped_column(Boolean, default=False)
    may_print: Mapped[bool] = mapped_column(Boolean, default=False)
    may_report: Mapped[bool] = mapped_column(Boolean, default=False)
    may_configure: Mapped[bool] = mapped_column(Boolean, default=False)


class ObjectAccess(Base):
    __tablename__ = "cb_object_access"
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), primary_key=True)
    mode: Mapped[str] = mapped_column(String(20), default=DEFAULT_MODE)


class RecordScope(Base):
    """Which records one group's object rights reach on one object (RECORD_SCOPES)."""

    __tablename__ = "cb_record_scope"
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))


class ParentAccess(Base):
    """The object's records are reachable exactly when the record its link ``field_id``
    points at is (the parent's record access, applied as a row filter)."""

    __tablename__ = "cb_parent_access"
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("cb_field.id", ondelete="CASCADE"))


class FieldRight(Base):
    __tablename__ = "cb_field_right"
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)
    field_id: Mapped[int] = mapped_column(ForeignKey("cb_field.id", ondelete="CASCADE"), primary_key=True)
    level: Mapped[str] = mapped_column(String(20))


class RuleView(Base):
    """Records matching ``filter`` (the filter language, fields as ``#<id>`` so renames are
    safe) are granted to the group's members at ``level``."""

    __tablename__ = "cb_rule_view"
    __table_args__ = (UniqueConstraint("group_id", "object_id", "name", name="uq_cb_rule_view_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), index=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    filter: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    level: Mapped[str] = mapped_column(String(10), default="read")


_user_only = sa.text("user_id IS NOT NULL")
_group_only = sa.text("group_id IS NOT NULL")


class Share(Base):
    """A record shared with a user or a group. Applied as a correlated EXISTS on
    (object_id, record_id), never as a list of ids."""

    __tablename__ = "cb_share"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="ck_cb_share_one_grantee"),
        Index("ix_cb_share_record", "object_id", "record_id"),
        Index("ux_cb_share_user", "object_id", "record_id", "user_id", unique=True,
              sqlite_where=_user_only, postgresql_where=_user_only),
        Index("ux_cb_share_group", "object_id", "record_id", "group_id", unique=True,
              sqlite_where=_group_only, postgresql_where=_group_only),
        Index("ix_cb_share_user", "user_id", "object_id", "level"),
        Index("ix_cb_share_group", "group_id", "object_id", "level"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                                    autoincrement=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"))
    record_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"), nullable=True)
    group_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), nullable=True)
    level: Mapped[str] = mapped_column(String(10))
    granted_by: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def rights_version(conn: sa.Connection) -> int:
    # Asked once per transaction that reads with rights: plain SQL, as building and looking
    # up a Core select for it costs several times the query itself (see snapshot.current_version).
    return conn.exec_driver_sql(_RIGHTS_VERSION_SQL).scalar() or 0


_RIGHTS_VERSION_SQL = f"SELECT version FROM {RightsState.__tablename__} WHERE id = 1"


def bump_rights_version(conn: sa.Connection) -> None:
    """Mark the rights definitions changed; every worker reloads them on its next read."""
    first: sa.Executable
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert
        first = pg_insert(RightsState).values(id=1, version=0).on_conflict_do_nothing(index_elements=["id"])
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert
        first = sqlite_insert(RightsState).values(id=1, version=0).on_conflict_do_nothing(index_elements=["id"])
    conn.execute(first)
    conn.execute(sa.update(RightsState).where(RightsState.id == 1).values(version=RightsState.version + 1))
