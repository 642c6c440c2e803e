"""System tables of the report features, declared on the shared ``meta_models.Base`` (imported by
``system_tables`` so ``create_all`` and backups see them).

A report and a dashboard belong to an owner (None: made by the system, e.g. the demo) and
are personal unless shared with groups (``cb_report_group`` / ``cb_dashboard_group``). A
report's definition is stored with field ids (``#12.#34``), so renaming a field never
breaks it and the usage finder sees which fields it needs. A dashboard share may be the
group's default: that dashboard replaces the home page's count tiles for the group."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, utcnow


class Report(Base):
    __tablename__ = "cb_report"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"), nullable=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReportGroup(Base):
    """A report shared with a group: its members may run it (under their own rights)."""

    __tablename__ = "cb_report_group"
    report_id: Mapped[int] = mapped_column(ForeignKey("cb_report.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)


class Dashboard(Base):
    __tablename__ = "cb_dashboard"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[Optional[int]] = mapped_column(ForeignKey("cb_user.id", ondelete="CASCADE"), nullable=True)
    # {"widgets": [{"kind", "report"?, "url"?, "title", "width", "height"}], "filters": [...]}
    layout: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DashboardGroup(Base):
    __tablename__ = "cb_dashboard_group"
    dashboard_id: Mapped[int] = mapped_column(ForeignKey("cb_dashboard.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class EmbedHost(Base):
    """The admin-kept allow list of web pages a dashboard may embed (by URL prefix)."""

    __tablename__ = "cb_embed_host"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(500), unique=True)
