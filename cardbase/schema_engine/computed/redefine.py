"""Re-deriving computed fields after a definition changed, and the record-table helpers the
configuration changes (``changes``) and the recomputation jobs (``jobs``) share. Both
build on this module: a job's last batch swaps in a new definition and re-derives what
depends on it, the same step a configuration change takes inline."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import SchemaError
from ..field_types import get_type
from ..field_types.base import FieldContext
from ..field_types.computed import PENDING
from ..meta_models import FieldRow
from ..physical import PhysicalSchema
from ..snapshot import FieldInfo, ObjectInfo, Schema, load_schema
from .engine import Change, propagate
from .plan import plan_for

__all__ = ["after_redefinition", "live_count", "live_ids", "live_options", "rederive_dependants", "same_shape"]


def live_ids(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[int]:
    table = schema.table(obj)
    return list(conn.execute(sa.select(table.c.id).where(table.c.deleted_at.is_(None))).scalars())


def live_count(conn: Connection, schema: Schema, obj: ObjectInfo) -> int:
    table = schema.table(obj)
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(table.c.deleted_at.is_(None))).scalar_one()


def live_options(field: FieldInfo) -> dict[str, Any]:
    """A field's options without a pending definition."""
    return {k: v for k, v in field.options.items() if k != PENDING}


def _shape(conn: Connection, field: FieldInfo) -> list[tuple[str, str, bool]]:
    return [(s.suffix, str(s.type.compile(dialect=conn.dialect)), s.indexed) for s in field.column_specs]


def same_shape(conn: Connection, a: FieldInfo, b: FieldInfo) -> bool:
    return _shape(conn, a) == _shape(conn, b)


def after_redefinition(conn: Connection, schema: Schema, old: FieldInfo | None, new: FieldInfo,
                       changes: Sequence[Change] = (), seed: Mapping[str, Iterable[int]] | None = None) -> Schema:
    """Re-derive the dependants of a field whose definition or type may have changed, then
    recompute what changed, up the chain. Returns the schema as it now stands."""
    seeds = {k: set(v) for k, v in (seed or {}).items()}
    if old is not None and (old.type != new.type or live_options(old) != live_options(new)):
        schema = rederive_dependants(conn, schema, new, seeds)
    propagate(conn, schema, list(changes), seed=seeds)
    return schema


def rederive_dependants(conn: Connection, schema: Schema, changed: FieldInfo, seed: dict[str, set[int]]) -> Schema:
    """Clean every (transitive) dependant's definition again against ``schema``; store
    what differs, reshape columns where needed, and seed a full recompute of those."""
    physical = PhysicalSchema(conn)
    for field_id in plan_for(schema).dependants(changed.stored_id):
        field = schema.field_by_id(field_id)
        obj = schema.object(field.object_id)
        try:
            options = get_type(field.type).clean_options(live_options(field), FieldContext(schema, obj, field.id))
        except SchemaError as exc:
            reason = "; ".join(m for msgs in exc.errors.values() for m in msgs)
            raise SchemaError({"type" if changed.type else "options": (
                f"field '{obj.label}.{field.label}' ({field.type}) uses '{changed.label}' and would break: {reason}")}) \
                from None
        if PENDING in field.options:
            options[PENDING] = field.options[PENDING]
        if options == dict(field.options):
            continue
        updated = dataclasses.replace(field, options=options)
        if not same_shape(conn, field, updated):
            physical.drop_field(obj, field)
            physical.add_field(obj, updated, schema)
        conn.execute(sa.update(FieldRow).where(FieldRow.id == field.id).values(options=options))
        schema = load_schema(conn)
        seed.setdefault(str(field.id), set()).update(live_ids(conn, schema, obj))
    return schema
