"""What saving a field means for stored computed values (the schema service's side).

* A computed field added or redefined is computed for every record: inline, in the
  schema change's transaction, when its table holds at most one batch; otherwise by a
  job (``jobs``) -- "fill" for a new field, "swap" for a changed definition, whose old
  values stay readable until the new ones are all committed.
* A cycle is refused before anything is written (``plan.check_definition``).
* Any field whose type or options change has its computed dependants re-derived against
  the new schema: a formula that no longer type-checks refuses the change (naming the
  formula and the reason), a lookup of a choice field follows the new choices, a rollup
  of a decimal its new scale (new columns when the shape changes); then their values are
  recomputed, up the chain.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import SchemaError
from ..field_types import get_type
from ..field_types.base import FieldContext
from ..field_types.computed import PENDING, SHADOW_SUFFIX, is_computed
from ..meta_models import FieldRow
from ..physical import PhysicalSchema
from ..snapshot import FieldInfo, ObjectInfo, Schema, load_schema
from .engine import Change, propagate, refresh_documents
from .jobs import cancel_jobs, create_job, live_count, live_ids, same_shape
from .plan import check_definition, plan_for


def live_options(field: FieldInfo) -> dict[str, Any]:
    """A field's options without a pending definition."""
    return {k: v for k, v in field.options.items() if k != PENDING}


class FieldSave:
    """One add_field/update_field seen from the computed side. The service asks it for the
    options to store and the DDL to run instead of a value conversion, then ``finish``es."""

    def __init__(self, conn: Connection, schema: Schema, obj: ObjectInfo, old: FieldInfo | None,
                 new: FieldInfo, batch: int):
        self.conn, self.schema, self.obj, self.old, self.new = conn, schema, obj, old, new
        self.computed = is_computed(new)
        self.old_pending = old.options.get(PENDING) if old is not None and is_computed(old) else None
        if self.computed:
            check_definition(schema, new)
        same_type = old is not None and old.type == new.type
        self.keep_pending = self.old_pending is not None and same_type and dict(new.options) == dict(self.old_pending)
        self.redefined = self.computed and not self.keep_pending and (
            not same_type or live_options(old) != dict(new.options))
        self.job_mode: str | None = None
        if self.redefined and live_count(conn, schema, obj) > batch:
            if old is None:
                self.job_mode = "fill"
            elif same_type:
                self.job_mode = "swap"

    def stored_options(self) -> dict[str, Any]:
        if self.keep_pending:
            return dict(self.old.options)
        if self.job_mode == "swap":
            return {**live_options(self.old), PENDING: dict(self.new.options)}
        return dict(self.new.options)

    def apply_columns(self, physical: PhysicalSchema) -> None:
        """DDL before the field row is written (updates only): drop the shadow columns of a
        superseded pending definition; add shadow columns for a new one; give a field
        redefined inline columns of its new shape."""
        old, new = self.old, self.new
        if self.old_pending is not None and not self.keep_pending:
            shadow = old.ftype.pending_field(old)
            physical.drop_columns(self.obj, list(shadow.column_names))
            cancel_jobs(self.conn, [old.id])
        if not self.computed or not self.redefined:
            return
        if self.job_mode == "swap":
            shadow = dataclasses.replace(new, column=f"{old.column}_{SHADOW_SUFFIX}")
            physical.add_columns(self.obj, [sa.Column(n, s.type, nullable=True)
                                            for s, n in zip(shadow.column_specs, shadow.column_names)])
        elif not same_shape(self.conn, old, new):
            physical.drop_field(self.obj, old)
            physical.add_field(self.obj, new, self.schema)

    def finish(self, schema: Schema, field_id: int, converted: bool) -> int | None:
        """After the field row is written: start the job, or compute inline, and update
        the dependants. Returns the id of a job to run, if any."""
        field = schema.field_by_id(field_id)
        obj = schema.object(field.object_id)
        if self.job_mode is not None:
            total = live_count(self.conn, schema, obj)
            return create_job(self.conn, field, self.job_mode, total, dict(self.new.options))
        seed = {str(field.id): live_ids(self.conn, schema, obj)} if self.redefined else {}
        changes = [Change(obj, live_ids(self.conn, schema, obj), frozenset({field.key}))] if converted else []
        schema = after_redefinition(self.conn, schema, self.old, field, changes, seed)
        searchable = field.ftype.searchable or (self.old is not None and self.old.ftype.searchable)
        if self.redefined and searchable:
            refresh_documents(self.conn, schema, schema.object(obj.id), live_ids(self.conn, schema, obj))
        return None


def after_redefinition(conn: Connection, schema: Schema, old: FieldInfo | None, new: FieldInfo,
                       changes: Sequence[Change] = (), seed: Mapping[str, Iterable[int]] | None = None) -> Schema:
    """Re-derive the dependants of a field whose definition or type may have changed, then
    recompute what changed, up the chain. Returns the schema as it now stands."""
    seed = {k: set(v) for k, v in (seed or {}).items()}
    if old is not None and (old.type != new.type or live_options(old) != live_options(new)):
        schema = rederive_dependants(conn, schema, new, seed)
    propagate(conn, schema, list(changes), seed=seed)
    return schema


def rederive_dependants(conn: Connection, schema: Schema, changed: FieldInfo, seed: dict[str, set[int]]) -> Schema:
    """Clean every (transitive) dependant's definition again against ``schema``; store
    what differs, reshape columns where needed, and seed a full recompute of those."""
    physical = PhysicalSchema(conn)
    for field_id in plan_for(schema).dependants(changed.id):
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
