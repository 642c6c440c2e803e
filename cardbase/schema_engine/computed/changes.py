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
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ..field_types.computed import PENDING, SHADOW_SUFFIX, computed_type, is_computed
from ..physical import PhysicalSchema
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .engine import Change, refresh_documents
from .jobs import cancel_jobs, create_job
from .plan import check_definition
from .redefine import after_redefinition, live_count, live_ids, live_options, same_shape


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
            old is None or old.type != new.type or live_options(old) != dict(new.options))
        self.job_mode: str | None = None
        if self.redefined and live_count(conn, schema, obj) > batch:
            if old is None:
                self.job_mode = "fill"
            elif same_type:
                self.job_mode = "swap"

    def stored_options(self) -> dict[str, Any]:
        old = self.old
        if self.keep_pending and old is not None:  # keeping a pending definition implies an old field
            return dict(old.options)
        if self.job_mode == "swap" and old is not None:  # as does a swap
            return {**live_options(old), PENDING: dict(self.new.options)}
        return dict(self.new.options)

    def apply_columns(self, physical: PhysicalSchema) -> None:
        """DDL before the field row is written (updates only): drop the shadow columns of a
        superseded pending definition; add shadow columns for a new one; give a field
        redefined inline columns of its new shape."""
        old, new = self.old, self.new
        if old is None:  # updates only: add_field makes an added field's columns
            return
        if self.old_pending is not None and not self.keep_pending:
            shadow = computed_type(old).pending_field(old)
            if shadow is not None:  # old_pending is its definition, so there is one
                physical.drop_columns(self.obj, list(shadow.column_names))
            cancel_jobs(self.conn, [old.stored_id])
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
