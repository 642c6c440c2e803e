"""What templates use, for the schema service: a field a template reads cannot be deleted,
nor an object a template belongs to or reads (its own, a link's target, a child list).
Registered with ``schema_engine.usage`` when this package is imported. Renames need no
finder: a template keeps the names it was checked with (``checker``'s aliases)."""
from __future__ import annotations

from typing import Any, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.schema_engine.template_models import DocTemplate, DocTemplateVersion
from cardbase.schema_engine.usage import field_finder, object_finder


def _current(conn: Connection) -> Sequence[Any]:
    t, v = DocTemplate.__table__.c, DocTemplateVersion.__table__.c
    return conn.execute(sa.select(t.name, t.object_id, v.references).join(
        DocTemplateVersion.__table__, sa.and_(v.template_id == t.id, v.number == t.current_version))).all()


def _owner(schema: Schema, object_id: int) -> str:
    return schema.object(object_id).label_plural if schema.has_object(object_id) else f"#{object_id}"


@field_finder
def _templates_using_field(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    return [f"document template '{name}' of {_owner(schema, object_id)} uses it"
            for name, object_id, refs in _current(conn) if field.id in (refs or {}).get("fields", [])]


@object_finder
def _templates_of_object(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[str]:
    out = []
    for name, object_id, refs in _current(conn):
        if object_id == obj.id:
            out.append(f"document template '{name}' belongs to it")
        elif obj.id in (refs or {}).get("objects", []):
            out.append(f"document template '{name}' of {_owner(schema, object_id)} uses it")
    return out
