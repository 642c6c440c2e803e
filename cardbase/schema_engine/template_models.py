"""System tables of the template features, declared on the shared ``meta_models.Base`` (imported by
``system_tables`` so ``create_all`` and backups see them).

A Word template belongs to one object; its .docx files are kept in the database as
numbered versions (the newest is the one in use), so solutions and backups carry them
table by table. The placeholders name fields by API name; each version stores which
field ids its names resolved to when it was checked (``references``), so a renamed field
keeps the template working and the usage finder sees which fields it needs. The groups
that may use a template are rows of ``cb_doc_template_group`` (none: everyone with the
object's print right)."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .meta_models import Base, utcnow


class DocTemplate(Base):
    __tablename__ = "cb_doc_template"
    __table_args__ = (UniqueConstraint("object_id", "name", name="uq_cb_doc_template_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    object_id: Mapped[int] = mapped_column(ForeignKey("cb_object.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(10), default="en")  # numbers, dates and words in the document
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DocTemplateVersion(Base):
    """One uploaded .docx of a template."""

    __tablename__ = "cb_doc_template_version"
    __table_args__ = (UniqueConstraint("template_id", "number", name="uq_cb_doc_template_version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    template_id: Mapped[int] = mapped_column(ForeignKey("cb_doc_template.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    # {"fields": [field ids], "names": {"<object id>": {"<api name as written>": field id}}}
    references: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uploaded_by: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DocTemplateGroup(Base):
    """A group whose members may use the template (under their own rights)."""

    __tablename__ = "cb_doc_template_group"
    template_id: Mapped[int] = mapped_column(ForeignKey("cb_doc_template.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cb_group.id", ondelete="CASCADE"), primary_key=True)
