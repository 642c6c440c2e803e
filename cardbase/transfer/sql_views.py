"""Readable SQL views for BI tools: one view per object, named after its API name, with a
column per field named after the field's API name (a link gives its id and ``<name>_display``,
the linked record's display value; a money field ``<name>`` and ``<name>_currency``), live
records only. The physical tables keep their generated names (``obj_<id>``, ``f<id>``);
the views are the stable, readable face of them.

Once enabled (``cardbase sql-views``) the views follow every configuration change: a
``schema_service`` change hook drops them before the change's DDL (PostgreSQL and SQLite
refuse to drop or retype a column a view reads) and creates them again over the new tables
in the same transaction. Names are API names checked by ``naming`` and quoted by the
dialect; a name already taken by another table is left out and reported."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine.db import Database
from ..schema_engine.schema_service import CHANGE_HOOKS
from ..schema_engine.snapshot import ObjectInfo, Schema, load_schema
from ..schema_engine.transfer_models import TransferSetting

SETTING = "sql_views"
SYSTEM_COLUMNS = ("id", "code", "version", "owner_id", "created_at", "created_by", "modified_at", "modified_by")
_settings = TransferSetting.__table__


def view_select(schema: Schema, obj: ObjectInfo) -> sa.Select:
    """The SELECT behind the object's view."""
    table = schema.table(obj).alias("t")
    columns: list[Any] = [table.c[name].label(name) for name in SYSTEM_COLUMNS]
    source: Any = table
    for field in obj.user_fields:
        for spec, physical in zip(field.column_specs, field.column_names):
            columns.append(table.c[physical].label(field.api_name if not spec.suffix else f"{field.api_name}_{spec.suffix}"))
        if field.type == "link":
            target = schema.link_target(field)
            shown = target.display_field
            joined = schema.table(target).alias(f"l{field.id}")
            source = source.outerjoin(joined, joined.c.id == table.c[field.column])
            display = joined.c.code if shown.system else joined.c[shown.column]
            columns.append(display.label(f"{field.api_name}_display"))
    return sa.select(*columns).select_from(source).where(table.c.deleted_at.is_(None))


def _state(conn: Connection) -> tuple[bool, list[str]]:
    """(enabled, the views made); a database from before the switch existed has neither."""
    try:
        with conn.begin_nested():
            row = conn.execute(sa.select(_settings.c.enabled, _settings.c.details)
                               .where(_settings.c.name == SETTING)).first()
    except (sa.exc.OperationalError, sa.exc.ProgrammingError):
        return False, []
    if row is None:
        return False, []
    return bool(row.enabled), list((row.details or {}).get("views", []))


def _save(conn: Connection, enabled: bool, views: list[str], skipped: list[str]) -> None:
    conn.execute(sa.delete(_settings).where(_settings.c.name == SETTING))
    conn.execute(sa.insert(_settings).values(name=SETTING, enabled=enabled,
                                             details={"views": views, "skipped": skipped}))


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def drop_views(conn: Connection, names: list[str]) -> None:
    for name in names:
        conn.exec_driver_sql(f"DROP VIEW IF EXISTS {_quote(conn, name)}")


def create_views(conn: Connection, schema: Schema) -> tuple[list[str], list[str]]:
    """Create every object's view; returns (views made, API names left out)."""
    taken = set(sa.inspect(conn).get_table_names())
    made, skipped = [], []
    for obj in sorted(schema.objects, key=lambda o: o.id):
        if obj.api_name in taken:
            skipped.append(obj.api_name)
            continue
        select = view_select(schema, obj).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True})
        conn.exec_driver_sql(f"CREATE VIEW {_quote(conn, obj.api_name)} AS {select}")
        made.append(obj.api_name)
    return made, skipped


def enable(db: Database) -> list[str]:
    """Create the views now and keep them current from here on; returns their names."""
    with db.write() as conn:
        _enabled, old = _state(conn)
        drop_views(conn, old)
        made, skipped = create_views(conn, load_schema(conn))
        _save(conn, True, made, skipped)
    return made


def disable(db: Database) -> None:
    with db.write() as conn:
        _enabled, old = _state(conn)
        drop_views(conn, old)
        _save(conn, False, [], [])


class ViewsHook:
    """Around every configuration change: the views out of the way, then back."""

    def before(self, conn: Connection) -> None:
        enabled, names = _state(conn)
        if enabled:
            drop_views(conn, names)

    def after(self, conn: Connection) -> None:
        enabled, _names = _state(conn)
        if enabled:
            made, skipped = create_views(conn, load_schema(conn))
            _save(conn, True, made, skipped)


def install() -> None:
    """Register the hook once (the platform does, for every process that changes the schema)."""
    if not any(isinstance(h, ViewsHook) for h in CHANGE_HOOKS):
        CHANGE_HOOKS.append(ViewsHook())


install()
