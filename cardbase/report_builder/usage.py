"""The usage finder of reports: removing a field a saved report groups by, measures,
filters on or offers as a live filter is refused, naming the report (the designer's and
the API's "in use" answer), rather than leaving a report that can no longer run."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.report_models import Report
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.schema_engine.usage import field_finder, object_finder, referenced_field_ids


@field_finder
def reports_using_field(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    table = Report.__table__
    return [f"report '{name}' uses it" for name, definition in conn.execute(
        sa.select(table.c.name, table.c.definition).order_by(table.c.id))
        if field.id in referenced_field_ids(definition or {})]


@object_finder
def reports_on_object(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[str]:
    table = Report.__table__
    return [f"report '{name}' reports on it" for (name,) in conn.execute(
        sa.select(table.c.name).where(table.c.object_id == obj.id).order_by(table.c.id))]
