"""Configuration changes: create, rename and delete objects; add, change and remove fields.

Each call is one transaction holding both the metadata rows and the DDL, so a failure at
any step leaves metadata and tables exactly as they were (on SQLite too, thanks to the
driver recipe in ``db.py``). The schema version is bumped in the same transaction.
"""
from __future__ import annotations

import dataclasses
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator, Mapping, Protocol

import sqlalchemy as sa
from sqlalchemy import Connection

from . import naming, search_index
from .accounts.policy import ADMIN
from .actor import Actor
from .computed.changes import FieldSave, live_options
from .computed.jobs import BATCH as RECOMPUTE_BATCH, ProgressCallback, cancel_jobs, run_job
from .errors import ConversionRefused, Forbidden, InUse, NotFound, SchemaError
from .field_types import FieldValueError, get_type
from .field_types.autonumber import code_prefix, validate_pattern
from .field_types.base import FieldContext
from .field_types.computed import computed_type, is_computed
from .db import Database
from .field_rules import check_rule_rights, clean_rules, rules_of
from .field_sources import clean_source, source_of
from .i18n import _, language
from .meta_models import CardLayout, ConfigChange, FieldRow, HistoryEntry, ObjectType, SavedView, Translation
from .physical import PhysicalSchema
from .query.reader import iter_records
from .rights.access import FULL_ACCESS, Access, AccessPolicy
from .snapshot import FieldInfo, ObjectInfo, Schema, bump_version, load_schema, lock_schema, stored_options
from .translations import FIELD_KEYS as TRANSLATABLE_FIELD_KEYS
from .translations import OBJECT_KEYS as TRANSLATABLE_OBJECT_KEYS
from .translations import clean_translations, replace_translations
from .usage import dedupe, field_usages, object_usages

FIELD_KEYS = {"name", "label", "type", "required", "unique", "default", "options", "help_text", "position",
              "rules", "source"}
OBJECT_KEYS = {"name", "label", "label_plural", "description", "code_pattern", "display_field",
               "position", "fields", "options"}
CONVERT_BATCH = 2000
# The menu order is everyone's: objects' positions are the admin policy's, in every channel
# (designer, API, solutions), while the configure right covers the object's own settings.
MENU_ORDER = "change the menu order (the position of objects)"
log = logging.getLogger(__name__)


class ChangeHook(Protocol):
    """Told of every configuration change inside its transaction: ``before`` ahead of the
    change's DDL, ``after`` once it is done (the SQL views for BI tools drop themselves
    and come back over the new tables, see ``cardbase.transfer.sql_views``)."""

    def before(self, conn: Connection) -> None: ...

    def after(self, conn: Connection) -> None: ...


CHANGE_HOOKS: list[ChangeHook] = []


class SchemaService:
    """The one place configuration changes happen (designer UI, API, solutions, CLI).

    Computed fields added or redefined on tables bigger than ``recompute_batch`` records
    are recomputed by background jobs (``computed.jobs``); the service runs them right
    after the change commits (``recompute_progress`` is told how far they got) unless
    ``defer_recompute`` is set, when the worker's ``resume_recompute_jobs`` does."""

    def __init__(self, db, policy=None, *, recompute_batch: int = RECOMPUTE_BATCH,
                 defer_recompute: bool = False, recompute_progress: ProgressCallback | None = None):
        self.db = db
        self.policy = policy  # the rights (rights.access.AccessPolicy when None)
        # The running ``batch`` belongs to the thread (or task) that opened it: one service
        # serves every request of a threaded worker, and another request's change must not
        # join a solution import's transaction.
        self._batch_var: ContextVar[_Tx | None] = ContextVar(f"cardbase_schema_batch_{id(self)}", default=None)
        self.recompute_batch = recompute_batch
        self.defer_recompute = defer_recompute
        self.recompute_progress = recompute_progress

    # ---- transaction plumbing ---------------------------------------------------------------
    @property
    def _batch(self) -> "_Tx | None":
        return self._batch_var.get()

    @_batch.setter
    def _batch(self, tx: "_Tx | None") -> None:
        self._batch_var.set(tx)

    @property
    def batch_tx(self) -> "_Tx":
        """The transaction of the running ``batch`` (RuntimeError outside one)."""
        if self._batch is None:
            raise RuntimeError("no SchemaService.batch() is running")
        return self._batch

    @contextmanager
    def batch(self, actor: Actor) -> Iterator["SchemaService"]:
        """Run several changes as one transaction (solution import): all or nothing."""
        if self._batch is not None:
            yield self
            return
        with self._change(actor, "batch", "solution") as tx:
            self._batch = tx
            try:
                yield self
            finally:
                self._batch = None

    def _check_configure(self, tx: "_Tx", actor: Actor, obj_ref: str | int | None) -> None:
        """Admins may change everything; the configure right on an object lets a group
        change that object (its fields and settings); new objects, deleting objects and
        solutions need an admin (docs/rights.md)."""
        if actor.is_admin:
            return
        if obj_ref is not None and tx.schema.has_object(obj_ref):
            obj = tx.schema.object(obj_ref)
            if (self.policy or AccessPolicy()).access(tx.conn, tx.schema, actor).can(obj, "configure"):
                return
            raise Forbidden(f"changing the configuration of '{obj.label_plural}' needs the configure right")
        raise Forbidden("changing the configuration needs the configure right")

    # ---- what the actor may see (configure never grants read) --------------------------------
    def _access(self, conn: Connection, schema: Schema, actor: Actor) -> Access:
        return (self.policy or AccessPolicy()).access(conn, schema, actor)

    def _check_field_rights(self, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo,
                            field: FieldInfo, *, rewrites_values: bool) -> Access:
        """The configure right lets a group shape an object, never read or write what its
        field rights withhold: a field hidden from the actor cannot be changed at all (its
        definition, type, uniqueness, labels or its removal would show or destroy values
        they may not read), and one that is read-only for them cannot be converted to
        another type or other options, nor removed, since that rewrites or drops values
        they may not edit (docs/rights.md). Returns the actor's access."""
        access = self._access(conn, schema, actor)
        readable = access.field_readable(obj)
        if readable is not None and not readable(field):
            raise Forbidden(f"field '{obj.label}.{field.label}' is hidden from you: you cannot change "
                            "or remove it, even with the configure right")
        if rewrites_values and field.writable and not access.field_writable(obj, field):
            raise Forbidden(f"field '{obj.label}.{field.label}' is read-only for you: you cannot change its "
                            "type or options, nor remove it, since that rewrites its values")
        return access

    @contextmanager
    def _change(self, actor: Actor, action: str, target: str, obj_ref: str | int | None = None) -> Iterator["_Tx"]:
        if not actor.is_admin and obj_ref is None:
            raise Forbidden("changing the configuration needs the configure right")
        if self._batch is not None:
            # Inside a batch (solution import) the snapshot is kept current change by
            # change: a change scoped to one object re-reads only that object's metadata
            # (``_Tx.scope``), so a batch of n changes costs time linear in n, not n times
            # the size of the schema. Each change runs in a savepoint: a refused one leaves
            # nothing behind and the batch may go on (or try it again later).
            tx = self._batch
            self._check_configure(tx, actor, obj_ref)
            details, tx.details = tx.details, {}
            scope, tx.scope = tx.scope, _change_scope(tx.schema, action, obj_ref)
            savepoint = tx.conn.begin_nested()
            try:
                yield tx
                tx.conn.execute(sa.insert(ConfigChange).values(
                    actor_id=actor.user_id, action=action, target=target[:200], details=tx.details))
            except BaseException:
                if savepoint.is_active:
                    savepoint.rollback()
                tx.reload()  # the snapshot as the rolled-back savepoint left it
                raise
            else:
                savepoint.commit()
                tx.reload()
            finally:
                tx.scope, tx.details = scope, details
            return
        with self.db.write() as conn:
            conn.execution_options(cardbase_schema_tx=True)
            lock_schema(conn)  # PostgreSQL: wait for running sessions, hold new ones off
            tx = _Tx(conn, load_schema(conn))
            self._check_configure(tx, actor, obj_ref)
            for hook in CHANGE_HOOKS:
                hook.before(conn)
            yield tx
            for hook in CHANGE_HOOKS:
                hook.after(conn)
            bump_version(conn)
            conn.execute(sa.insert(ConfigChange).values(
                actor_id=actor.user_id, action=action, target=target[:200], details=tx.details))
        self.db.schema_cache.invalidate()
        self._run_jobs(tx.jobs)

    def _run_jobs(self, jobs: list[int]) -> None:
        """Recompute jobs the change started; a failure leaves the job to be resumed."""
        if self.defer_recompute:
            return
        for job in jobs:
            try:
                run_job(self.db, job, batch_size=self.recompute_batch, progress=self.recompute_progress)
            except Exception:  # the change itself is committed; the worker resumes the job
                log.exception("recompute job %s stopped; resume_recompute_jobs() continues it", job)

    # ---- objects -----------------------------------------------------------------------------
    def create_object(self, actor: Actor, spec: Mapping[str, Any]) -> ObjectInfo:
        _reject_unknown(spec, OBJECT_KEYS, "object")
        label = naming.check_label(spec.get("label"), "label")
        name = spec.get("name") or naming.propose_api_name(label, "object")
        with self._change(actor, "create_object", name) as tx:
            naming.check_api_name(name, "", naming.RESERVED_OBJECT_NAMES)
            self._check_object_unique(tx.schema, name, label)
            plural = naming.check_label(spec.get("label_plural") or label, "label_plural")
            if spec.get("code_pattern"):
                pattern = validate_pattern(spec["code_pattern"], key="code_pattern")
                _check_code_prefix_free(tx.schema, pattern, None)
            else:
                pattern = default_code_pattern(label, _taken_prefixes(tx.schema, None))
            position = spec.get("position")
            if position is None:
                position = 1 + max((o.position for o in tx.schema.objects), default=0)
            obj_id = tx.conn.execute(sa.insert(ObjectType).values(
                api_name=name, label=label, label_plural=plural,
                description=_text(spec.get("description"), "description", 5000),
                position=_int(position, "position"), code_pattern=pattern,
                display_field=None, options=dict(spec.get("options") or {}),
            ).returning(ObjectType.id)).scalar_one()
            tx.touch(obj_id)
            tx.reload()
            PhysicalSchema(tx.conn).create_object_table(tx.schema.object(obj_id), tx.schema)
            for i, fspec in enumerate(spec.get("fields") or []):
                self._add_field(tx, obj_id, fspec, prefix=f"fields[{i}].")
            if spec.get("display_field"):
                self._set_display_field(tx, obj_id, spec["display_field"])
            tx.details = {"object": name}
            obj = tx.reload().object(obj_id)
        return obj

    def update_object(self, actor: Actor, ref: str | int, changes: Mapping[str, Any]) -> ObjectInfo:
        _reject_unknown(changes, OBJECT_KEYS - {"fields"}, "object")
        with self._change(actor, "update_object", str(ref), ref) as tx:
            obj = tx.schema.object(ref)
            values: dict[str, Any] = {}
            if "name" in changes and changes["name"] != obj.api_name:
                naming.check_api_name(changes["name"], "", naming.RESERVED_OBJECT_NAMES)
                self._check_object_unique(tx.schema, changes["name"], None, exclude=obj.id)
                values["api_name"] = changes["name"]
            if "label" in changes:
                values["label"] = naming.check_label(changes["label"], "label")
                self._check_object_unique(tx.schema, None, values["label"], exclude=obj.id)
            if "label_plural" in changes:
                values["label_plural"] = naming.check_label(changes["label_plural"], "label_plural")
            if "description" in changes:
                values["description"] = _text(changes["description"], "description", 5000)
            if "code_pattern" in changes:
                values["code_pattern"] = validate_pattern(changes["code_pattern"], key="code_pattern")
                _check_code_prefix_free(tx.schema, values["code_pattern"], obj.id)
            if "position" in changes:
                values["position"] = _int(changes["position"], "position")
                if values["position"] != obj.position:
                    ADMIN.require_admin(actor, MENU_ORDER)
            if "options" in changes:
                values["options"] = dict(changes["options"] or {})
            if values:
                tx.conn.execute(sa.update(ObjectType).where(ObjectType.id == obj.id).values(**values))
            if "display_field" in changes:
                self._set_display_field(tx, obj.id, changes["display_field"])
            tx.details = {"changes": sorted(changes)}
            return tx.reload().object(obj.id)

    def delete_object(self, actor: Actor, ref: str | int) -> None:
        with self._change(actor, "delete_object", str(ref)) as tx:
            obj = tx.schema.object(ref)
            usages = dedupe(object_usages(tx.conn, tx.schema, obj))
            if usages:
                raise InUse(f"object '{obj.label}' cannot be deleted, it is in use", usages)
            PhysicalSchema(tx.conn).drop_object_table(obj)
            cancel_jobs(tx.conn, [f.stored_id for f in obj.user_fields])
            tx.conn.execute(sa.delete(Translation).where(Translation.object_id == obj.id))
            tx.conn.execute(sa.delete(FieldRow).where(FieldRow.object_id == obj.id))
            tx.conn.execute(sa.delete(CardLayout).where(CardLayout.object_id == obj.id))
            tx.conn.execute(sa.delete(SavedView).where(SavedView.object_id == obj.id))
            tx.conn.execute(sa.delete(HistoryEntry).where(HistoryEntry.object_id == obj.id))
            tx.conn.execute(sa.delete(ObjectType).where(ObjectType.id == obj.id))
            tx.details = {"object": obj.api_name}

    def object_impact(self, ref: str | int) -> dict[str, Any]:
        """What deleting an object would affect: record count and what uses it."""
        with self.db.read() as conn:
            schema = load_schema(conn)
            obj = schema.object(ref)
            table = schema.table(obj)
            count = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            return {"records": count, "usages": dedupe(object_usages(conn, schema, obj))}

    # ---- fields ------------------------------------------------------------------------------
    def add_field(self, actor: Actor, obj_ref: str | int, spec: Mapping[str, Any]) -> FieldInfo:
        with self._change(actor, "add_field", f"{obj_ref}.{spec.get('name') or spec.get('label')}", obj_ref) as tx:
            obj = tx.schema.object(obj_ref)
            field_id = self._add_field(tx, obj.id, spec)
            tx.details = {"field": spec.get("name"), "type": spec.get("type")}
            return tx.reload().field_by_id(field_id)

    def update_field(self, actor: Actor, obj_ref: str | int, field_ref: str | int,
                     changes: Mapping[str, Any]) -> FieldInfo:
        _reject_unknown(changes, FIELD_KEYS, "field")
        with self._change(actor, "update_field", f"{obj_ref}.{field_ref}", obj_ref) as tx:
            obj = tx.schema.object(obj_ref)
            old = _user_field(obj, field_ref)
            access = self._check_field_rights(tx.conn, tx.schema, actor, obj, old, rewrites_values=False)
            new = self._updated_field(tx.schema, obj, old, changes)
            if new.type != old.type or dict(new.options) != live_options(old):
                self._check_field_rights(tx.conn, tx.schema, actor, obj, old, rewrites_values=True)
            computed = FieldSave(tx.conn, tx.schema, obj, old, new, self.recompute_batch)
            values = {k: getattr(new, k) for k in ("label", "required", "unique", "default", "help_text", "position", "type")}
            values["api_name"] = new.api_name
            values["options"] = stored_options(computed.stored_options(), new.rules, new.source)
            check_rule_rights(tx.conn, tx.schema, obj, new)
            physical = PhysicalSchema(tx.conn)
            computed.apply_columns(physical)
            # Calculated fields are not converted: FieldSave shaped their columns and
            # finish() fills them.
            converted = not computed.computed and not new.ftype.stored_apart and (
                new.type != old.type or dict(new.options) != live_options(old))
            if converted:
                self._convert_values(tx, obj, old, new, physical, access)
            elif not computed.computed and new.unique != old.unique:
                if new.unique:
                    self._check_no_duplicates(tx, obj, new, access)
                physical.reindex_field(obj, old, new)
            tx.conn.execute(sa.update(FieldRow).where(FieldRow.id == old.id).values(**values))
            if obj.display_field_name == old.api_name and new.api_name != old.api_name:
                tx.conn.execute(sa.update(ObjectType).where(ObjectType.id == obj.id)
                                .values(display_field=new.api_name))
            tx.queue(computed.finish(tx.reload(), old.stored_id, converted))
            tx.details = {"changes": sorted(changes)}
            return tx.reload().field_by_id(old.stored_id)

    def preview_type_change(self, obj_ref: str | int, field_ref: str | int,
                            changes: Mapping[str, Any], actor: Actor | None = None) -> dict[str, Any]:
        """How many values would convert and which would fail, without changing anything.
        ``failures`` lists only records ``actor`` may read (None: the system, everything);
        ``hidden_failures`` counts the others. The actor needs the configure right."""
        with self.db.read() as conn:
            tx = _Tx(conn, load_schema(conn))
            if actor is not None:
                self._check_configure(tx, actor, obj_ref)
            obj = tx.schema.object(obj_ref)
            old = _user_field(obj, field_ref)
            access = FULL_ACCESS
            if actor is not None:
                access = self._check_field_rights(conn, tx.schema, actor, obj, old, rewrites_values=True)
            new = self._updated_field(tx.schema, obj, old, changes)
            converted, report = _convert_all(tx, obj, old, new, access, limit_failures=50)
            return {"convertible": report.total - report.count,
                    "total": report.total, "failures": report.failures, "hidden_failures": report.hidden}

    def remove_field(self, actor: Actor, obj_ref: str | int, field_ref: str | int) -> None:
        with self._change(actor, "remove_field", f"{obj_ref}.{field_ref}", obj_ref) as tx:
            obj = tx.schema.object(obj_ref)
            field = _user_field(obj, field_ref)
            self._check_field_rights(tx.conn, tx.schema, actor, obj, field, rewrites_values=True)
            usages = dedupe(field_usages(tx.conn, tx.schema, field))
            if usages:
                raise InUse(f"field '{obj.label}.{field.label}' cannot be removed, it is in use", usages)
            shadow = computed_type(field).pending_field(field) if is_computed(field) else None
            if shadow is not None:
                PhysicalSchema(tx.conn).drop_columns(obj, list(shadow.column_names))
            cancel_jobs(tx.conn, [field.stored_id])
            PhysicalSchema(tx.conn).drop_field(obj, field)
            tx.conn.execute(sa.delete(Translation).where(Translation.field_id == field.id))
            tx.conn.execute(sa.delete(FieldRow).where(FieldRow.id == field.id))
            tx.details = {"field": field.api_name}
        if field.ftype.searchable:
            rebuild_search_index(self.db, obj.api_name)

    def field_usages(self, obj_ref: str | int, field_ref: str | int) -> list[str]:
        with self.db.read() as conn:
            schema = load_schema(conn)
            return dedupe(field_usages(conn, schema, _user_field(schema.object(obj_ref), field_ref)))

    def reorder_objects(self, actor: Actor, names: list[str]) -> Schema:
        """Put the objects in this menu order (every object's API name once), one
        transaction; admins only (``MENU_ORDER``), like a position in ``update_object``."""
        ADMIN.require_admin(actor, MENU_ORDER)
        with self._change(actor, "reorder_objects", "menu") as tx:
            current = [o.api_name for o in tx.schema.objects]
            if not isinstance(names, list) or sorted(map(str, names)) != sorted(current):
                raise SchemaError({"objects": f"must list every object exactly once: {', '.join(current)}"})
            for pos, name in enumerate(names, start=1):
                obj = tx.schema.object(name)
                if obj.position != pos:
                    tx.conn.execute(sa.update(ObjectType).where(ObjectType.id == obj.id).values(position=pos))
            tx.details = {"order": list(names)}
            return tx.reload()

    def reorder_fields(self, actor: Actor, obj_ref: str | int, names: list[str]) -> ObjectInfo:
        with self._change(actor, "reorder_fields", str(obj_ref), obj_ref) as tx:
            obj = tx.schema.object(obj_ref)
            current = [f.api_name for f in obj.user_fields]
            if sorted(names) != sorted(current):
                raise SchemaError({"fields": f"must list every field exactly once: {', '.join(current)}"})
            for pos, name in enumerate(names, start=1):
                tx.conn.execute(sa.update(FieldRow).where(FieldRow.id == obj.field(name).id).values(position=pos))
            return tx.reload().object(obj.id)

    def set_translations(self, actor: Actor, obj_ref: str | int, texts: Mapping[str, Any],
                         field_ref: str | int | None = None) -> ObjectInfo:
        """Labels in other languages for the object (label, label_plural) or one of its
        fields (label, help_text, and a choice field's "choice.<value>"); replaces what was there."""
        target = f"{obj_ref}.{field_ref}" if field_ref is not None else str(obj_ref)
        with self._change(actor, "set_translations", target, obj_ref) as tx:
            obj = tx.schema.object(obj_ref)
            field = _user_field(obj, field_ref) if field_ref is not None else None
            if field is not None:
                self._check_field_rights(tx.conn, tx.schema, actor, obj, field, rewrites_values=False)
            choices = [c["value"] for c in field.options.get("choices") or ()] if field is not None else []
            cleaned = clean_translations(texts, TRANSLATABLE_FIELD_KEYS if field else TRANSLATABLE_OBJECT_KEYS,
                                         choices=choices)
            replace_translations(tx.conn, obj, field, cleaned)
            tx.details = {"languages": sorted(cleaned)}
            return tx.reload().object(obj.id)

    # ---- internals ---------------------------------------------------------------------------
    def _check_object_unique(self, schema: Schema, name: str | None, label: str | None, exclude: int | None = None) -> None:
        for o in schema.objects:
            if o.id == exclude:
                continue
            if name is not None and o.api_name == name:
                raise SchemaError({"name": f"an object named '{name}' already exists"})
            if label is not None and o.label.casefold() == label.casefold():
                raise SchemaError({"label": f"an object labelled '{label}' already exists"})

    def _set_display_field(self, tx: "_Tx", obj_id: int, name: str | None) -> None:
        obj = tx.reload().object(obj_id)
        if name is not None and not obj.has_field(name):
            raise SchemaError({"display_field": f"object '{obj.api_name}' has no field '{name}'"})
        tx.conn.execute(sa.update(ObjectType).where(ObjectType.id == obj_id).values(display_field=name))

    def _add_field(self, tx: "_Tx", obj_id: int, spec: Mapping[str, Any], prefix: str = "") -> int:
        try:
            return self._add_field_inner(tx, obj_id, spec)
        except SchemaError as exc:
            if not prefix:
                raise
            raise SchemaError({prefix + k: v for k, v in exc.errors.items()}) from None

    def _add_field_inner(self, tx: "_Tx", obj_id: int, spec: Mapping[str, Any]) -> int:
        _reject_unknown(spec, FIELD_KEYS, "field")
        obj = tx.schema.object(obj_id)
        draft = self._field_from_spec(tx.schema, obj, spec, field_id=0)
        computed = FieldSave(tx.conn, tx.schema, obj, None, draft, self.recompute_batch) \
            if is_computed(draft) else None
        check_rule_rights(tx.conn, tx.schema, obj, draft)
        row_id = tx.conn.execute(sa.insert(FieldRow).values(
            object_id=obj.id, api_name=draft.api_name, label=draft.label, type=draft.type,
            required=draft.required, unique=draft.unique, default=draft.default,
            options=stored_options(draft.options, draft.rules, draft.source), help_text=draft.help_text,
            position=draft.position,
        ).returning(FieldRow.id)).scalar_one()
        schema = tx.reload()
        field = schema.field_by_id(row_id)
        PhysicalSchema(tx.conn).add_field(schema.object(obj_id), field, schema)
        if field.default is not None and field.ftype.writable and field.default not in field.ftype.dynamic_defaults:
            value = field.ftype.parse(field, field.default)  # existing records get a fixed default, not "today"
            table = schema.table(obj_id)
            db_values = field.ftype.to_db(field, value)
            tx.conn.execute(sa.update(table).values(dict(zip(field.column_names, db_values))))
        if computed is not None:
            tx.queue(computed.finish(schema, row_id, converted=False))
        return row_id

    def _field_from_spec(self, schema: Schema, obj: ObjectInfo, spec: Mapping[str, Any], field_id: int,
                         current: FieldInfo | None = None) -> FieldInfo:
        label = naming.check_label(spec.get("label", current.label if current else None), "label")
        name = spec.get("name") or (current.api_name if current else naming.propose_api_name(label, "field"))
        naming.check_api_name(name, "", naming.RESERVED_FIELD_NAMES)
        for f in obj.user_fields:
            if current is not None and f.id == current.id:
                continue
            if f.api_name == name:
                raise SchemaError({"name": f"object '{obj.api_name}' already has a field named '{name}'"})
            if f.label.casefold() == label.casefold():
                raise SchemaError({"label": f"object '{obj.api_name}' already has a field labelled '{label}'"})
        type_name = spec.get("type", current.type if current else None)
        if not isinstance(type_name, str):
            raise SchemaError({"type": "is required"})
        ftype = get_type(type_name)
        if ftype.system_only:
            raise SchemaError({"type": f"'{type_name}' is a system field type and cannot be added"})
        raw_options = spec.get("options", current.ftype.editable_options(current)
                               if current and current.type == type_name else {})
        if raw_options is None:
            raw_options = {}
        if not isinstance(raw_options, Mapping):
            raise SchemaError({"options": "must be an object"})
        options = ftype.clean_options(raw_options, FieldContext(schema, obj, current.id if current else None))
        required = _bool(spec.get("required", current.required if current else False), "required")
        unique = _bool(spec.get("unique", current.unique if current else False), "unique")
        if unique and not ftype.supports_unique:
            raise SchemaError({"unique": f"a {type_name} field cannot be unique"})
        if required and not ftype.writable:
            raise SchemaError({"required": f"a {type_name} field is filled by the system and cannot be required"})
        position = spec.get("position", current.position if current else
                            1 + max((f.position for f in obj.user_fields), default=0))
        draft = FieldInfo(
            id=field_id or (current.id if current else 0), object_id=obj.id, api_name=name, label=label,
            type=type_name, required=required, unique=unique, default=None, options=options,
            help_text=_text(spec.get("help_text", current.help_text if current else ""), "help_text", 2000),
            position=_int(position, "position"), column=current.column if current else "f0",
        )
        default = spec.get("default", current.default if current else None)
        if default is not None and default != "":
            if not ftype.supports_default:
                raise SchemaError({"default": f"a {type_name} field cannot have a default"})
            try:
                if not (isinstance(default, str) and default.strip().lower() in ftype.dynamic_defaults):
                    default = ftype.to_json(draft, ftype.parse(draft, default))
                    if default is not None:
                        ftype.check_value(draft, ftype.parse(draft, default))
                else:
                    default = default.strip().lower()  # "today", "now", "me": resolved per new record
            except FieldValueError as exc:
                raise SchemaError({"default": str(exc)}) from None
        else:
            default = None
        # Rules are checked against the field as it will be (a type change may forbid them).
        raw_rules = spec["rules"] if "rules" in spec else rules_of(current, obj) if current else None
        rules = clean_rules(schema, obj, draft, raw_rules)
        raw_source = spec["source"] if "source" in spec else (source_of(schema, current) if current else None)
        source = clean_source(schema, obj, dataclasses.replace(draft, rules=rules), raw_source)
        return dataclasses.replace(draft, default=default, rules=rules, source=source)

    def _updated_field(self, schema: Schema, obj: ObjectInfo, old: FieldInfo, changes: Mapping[str, Any]) -> FieldInfo:
        spec = {k: v for k, v in changes.items()}
        if "type" in spec and spec["type"] != old.type and "options" not in spec:
            spec["options"] = {}
        new = self._field_from_spec(schema, obj, spec, field_id=old.stored_id, current=old)
        if new.type != old.type and "link" in (old.type, new.type):
            raise SchemaError({"type": "a link field cannot change its type, nor can a field become a link "
                                       "(add a new link field instead)"})
        if new.type != old.type and "links" in (old.type, new.type):
            raise SchemaError({"type": "a multi-link field cannot change its type, nor can a field become one "
                                       "(add a new multi-link field instead)"})
        if new.ftype.stored_apart and int(new.options["target"]) != int(old.options["target"]):
            raise SchemaError({"options.target": "a multi-link field cannot link to another object "
                                                 "(add a new multi-link field instead)"})
        return new

    def _check_no_duplicates(self, tx: "_Tx", obj: ObjectInfo, field: FieldInfo, access: Access) -> None:
        """Refuse making ``field`` unique while records share a value. The message shows
        values only from records the actor may read (counted among those), and only a count
        of the records they may not read that share a value."""
        table = tx.schema.table(obj)
        col = field.ftype.unique_expression(field, table.c[field.column])  # as the type compares
        live = [table.c.deleted_at.is_(None), col.is_not(None)]
        duplicated = sa.select(col).where(*live).group_by(col).having(sa.func.count() > 1)
        visible = _visible_clause(access, obj, table)
        if visible is None:  # everything is readable: as before
            dup = tx.conn.execute(sa.select(col, sa.func.count()).where(*live).group_by(col)
                                  .having(sa.func.count() > 1).limit(5)).all()
            if dup:
                shown = ", ".join(f"'{v}' ({n}×)" for v, n in dup)
                raise SchemaError({"unique": f"existing records have duplicate values: {shown}"})
            return
        if tx.conn.execute(duplicated.limit(1)).first() is None:
            return
        dup = tx.conn.execute(sa.select(col, sa.func.count()).where(*live, visible, col.in_(duplicated))
                              .group_by(col).order_by(col).limit(5)).all()
        unseen = tx.conn.execute(sa.select(sa.func.count()).select_from(table)
                                 .where(*live, sa.case((visible, False), else_=True), col.in_(duplicated))
                                 ).scalar_one()  # NULL (e.g. no owner) is "cannot see" too
        parts = [f"'{v}' ({n}× in records you can see)" for v, n in dup]
        if unseen:
            parts.append(f"{unseen} record{'s' if unseen != 1 else ''} you cannot see")
        raise SchemaError({"unique": f"existing records have duplicate values: {', '.join(parts)}"})

    def _convert_values(self, tx: "_Tx", obj: ObjectInfo, old: FieldInfo, new: FieldInfo,
                        physical: PhysicalSchema, access: Access) -> None:
        converted, report = _convert_all(tx, obj, old, new, access, limit_failures=100)
        if report.count:
            message = (f"{report.count} of {report.total} values of '{obj.label}.{old.label}' cannot be "
                       f"converted to {new.type}")
            if report.hidden:
                message += (f"; {report.hidden} of them in records you cannot see (only the records you can "
                            "see are listed)")
            raise ConversionRefused(message, report.failures, report.total, hidden=report.hidden)
        same_columns = [(s.suffix, str(s.type.compile(dialect=tx.conn.dialect))) for s in old.column_specs] == \
                       [(s.suffix, str(s.type.compile(dialect=tx.conn.dialect))) for s in new.column_specs]
        table = tx.schema.table(obj)
        if same_columns:
            physical.reindex_field(obj, old, new)
            _write_values(tx.conn, table.name, list(new.column_names), converted,
                          [spec.type for spec in new.column_specs])
            return
        temp_names = [f"{n}__new" for n in new.column_names]
        fk = new.ftype.foreign_key(new, tx.schema)
        physical.add_columns(obj, [
            sa.Column(t, s.type, *([sa.ForeignKey(fk)] if fk and s.suffix == "" else []), nullable=True)
            for t, s in zip(temp_names, new.column_specs)])
        _write_values(tx.conn, table.name, temp_names, converted, [spec.type for spec in new.column_specs])
        for index, _c, _u in physical.field_index_names(obj, old):
            physical.op.drop_index(index, table_name=obj.table_name)
        physical.drop_columns(obj, list(old.column_names))
        physical.rename_field_columns(obj, tuple(temp_names), new.column_names)
        physical.create_indexes_of(obj, new)


class _Tx:
    """A schema-change transaction: the connection and the schema as it now stands."""

    def __init__(self, conn: Connection, schema: Schema):
        self.conn = conn
        self.schema = schema
        self.details: dict[str, Any] = {}
        self.jobs: list[int] = []  # recompute jobs to run once the change is committed
        # The objects whose metadata the running change writes (set for changes inside a
        # batch, see SchemaService._change): ``reload`` re-reads only those. None: all.
        self.scope: set[int] | None = None

    def queue(self, job: int | None) -> None:
        if job is not None:
            self.jobs.append(job)

    def touch(self, object_id: int) -> None:
        """The running change writes this object's metadata too (a new object)."""
        if self.scope is not None:
            self.scope.add(object_id)

    def reload(self) -> Schema:
        if self.scope is None:
            self.schema = load_schema(self.conn)
        else:
            self.schema = load_schema(self.conn, self.schema, self.scope)
        return self.schema


def _change_scope(schema: Schema, action: str, obj_ref: str | int | None) -> set[int] | None:
    """The objects whose metadata a change writes, when that is certain (None: any)."""
    if action == "create_object":
        return set()  # the new object is added once it has an id (``_Tx.touch``)
    if obj_ref is not None and action != "delete_object" and schema.has_object(obj_ref):
        return {schema.object(obj_ref).id}
    return None


@dataclasses.dataclass
class _Failures:
    """What a conversion could not convert: ``failures`` (up to a limit) lists records the
    actor may read; ``hidden`` counts those they may not; ``count`` is every failure."""

    total: int = 0
    count: int = 0
    hidden: int = 0
    failures: list[dict[str, Any]] = dataclasses.field(default_factory=list)


def _visible_clause(access: Access, obj: ObjectInfo, table: sa.Table) -> Any:
    """The actor's read row filter on ``table`` (None: every row; false: none)."""
    if not access.can(obj, "read"):
        return sa.false()
    return access.row_filter(obj, table, "read")


def _convert_all(tx: _Tx, obj: ObjectInfo, old: FieldInfo, new: FieldInfo, access: Access,
                 limit_failures: int) -> tuple[dict[int, tuple], _Failures]:
    """Convert every stored value; returns (id -> db values, the failures as ``access`` may
    see them: records outside its row filter are only counted)."""
    table = tx.schema.table(obj)
    cols = [table.c[n] for n in old.column_names]
    visible = _visible_clause(access, obj, table)
    seen = sa.literal(True) if visible is None else sa.case((visible, True), else_=False)
    converted: dict[int, tuple] = {}
    report = _Failures()
    last_id = 0
    while True:
        rows = tx.conn.execute(sa.select(table.c.id, table.c.code, seen, *cols).where(table.c.id > last_id)
                               .order_by(table.c.id).limit(CONVERT_BATCH)).all()
        if not rows:
            break
        for row in rows:
            report.total += 1
            last_id = row[0]
            value = old.ftype.from_db(old, tuple(row[3:]))
            try:
                new_value = new.ftype.convert_from(new, old, value)
            except FieldValueError as exc:
                report.count += 1
                if not row[2]:
                    report.hidden += 1
                elif len(report.failures) < limit_failures:
                    report.failures.append({"id": row[0], "code": row[1],
                                            "value": old.ftype.to_json(old, value), "reason": str(exc)})
                continue
            converted[row[0]] = new.ftype.to_db(new, new_value) if new_value is not None else (None,) * len(new.column_specs)
    return converted, report


def _write_values(conn: Connection, table_name: str, columns: list[str], values: dict[int, tuple],
                  types: list[sa.types.TypeEngine]) -> None:
    # typed columns: each value goes through its type's bind processor (Decimal on SQLite)
    table = sa.table(table_name, sa.column("id"), *[sa.column(c, t) for c, t in zip(columns, types)])
    stmt = sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
        {c: sa.bindparam(f"_v{i}") for i, c in enumerate(columns)})
    batch = []
    for rid, vals in values.items():
        batch.append({"_id": rid, **{f"_v{i}": v for i, v in enumerate(vals)}})
        if len(batch) >= CONVERT_BATCH:
            conn.execute(stmt, batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)


def _user_field(obj: ObjectInfo, ref: str | int) -> FieldInfo:
    if isinstance(ref, int):
        for f in obj.user_fields:
            if f.id == ref:
                return f
        raise NotFound(f"object '{obj.api_name}' has no field #{ref}")
    field = obj.field(ref)
    if field.system:
        raise SchemaError({"field": f"'{ref}' is a system field and cannot be changed"})
    return field


def default_code_pattern(label: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """A pattern whose prefix no other object uses: "Order" ORD-, then "Order line" OL-
    (its words' initials), else longer or numbered letters (ORDL-, ORDE-, ORD2- ...)."""
    words = [w for w in naming.propose_api_name(label, "rec").upper().split("_") if w]
    letters = "".join(c for c in "".join(words) if c.isalpha()) or "REC"
    initials = "".join(w[0] for w in words if w[0].isalpha())
    candidates = [letters[:3]]
    if len(initials) > 1:
        candidates += [initials, letters[:3] + initials[1:]]
    candidates += [letters[:n] for n in range(4, min(len(letters), 8) + 1)]
    candidates += [f"{letters[:3]}{n}" for n in range(2, 1000)]
    chosen = next(c for c in candidates if f"{c}-" not in taken)
    return f"{chosen}-{{00000}}"


def _taken_prefixes(schema: Schema, exclude: int | None) -> set[str]:
    return {code_prefix(o.code_pattern) for o in schema.objects if o.id != exclude}


def _check_code_prefix_free(schema: Schema, pattern: str, exclude: int | None) -> None:
    """Record codes never collide across objects: no two objects share a code prefix."""
    prefix = code_prefix(pattern)
    other = next((o for o in schema.objects if o.id != exclude and code_prefix(o.code_pattern) == prefix), None)
    if other is not None:
        shown = prefix or _("(none: the code starts with a placeholder)")
        raise SchemaError({"code_pattern": _(
            "the prefix %(prefix)s is already used by the object '%(label)s'; choose another, e.g. %(proposal)s",
            prefix=shown, label=other.label_in(language()),
            proposal=default_code_pattern(other.label + " x", _taken_prefixes(schema, exclude) | {prefix}))})


def _reject_unknown(spec: Any, allowed: set[str], what: str) -> None:
    if not isinstance(spec, Mapping):
        raise SchemaError({what: "must be an object"})
    unknown = set(spec) - allowed
    if unknown:
        raise SchemaError({k: f"is not an attribute of a {what}" for k in sorted(unknown)})


def _bool(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError({key: "must be true or false"})
    return value


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SchemaError({key: "must be a whole number"})
    if not -2**31 <= value < 2**31:  # an INTEGER column
        raise SchemaError({key: f"must be a whole number from {-2**31} to {2**31 - 1}"})
    return value


def _text(value: Any, key: str, max_len: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise SchemaError({key: "must be text"})
    if len(value) > max_len:
        raise SchemaError({key: f"is {len(value)} characters long; at most {max_len} are allowed"})
    return value


def rebuild_search_index(db: Database, obj_ref: str | int, batch: int = 5000) -> int:
    """Rebuild an object's full-text index (after a searchable field is removed or retyped)."""
    with db.write() as conn:
        schema = db.schema(conn)
        obj = schema.object(obj_ref)
        conn.exec_driver_sql(f"DELETE FROM {naming.fts_table_name(obj.id)}")
        count = 0
        for chunk in iter_records(conn, schema, obj, batch=batch, fields=[f.api_name for f in obj.searchable_fields]):
            search_index.write(conn, obj, [(r["id"], search_index.document(obj, r)) for r in chunk], replace=False)
            count += len(chunk)
        return count
