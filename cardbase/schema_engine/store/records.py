"""RecordStore: create, read, update, delete (to the trash), restore and purge records.

The write path, in one transaction: validate -> check rights -> check links and unique
values -> compute the record's formulas, lookups and rollups (new records) -> write with
``version + 1`` (a stale version is a Conflict, never an overwrite) -> search document ->
history entry -> outbox event -> recompute dependants (``computed.propagate``: the order
total when a line changes, and up the chain) -> hooks -> commit.

Propagation is called here explicitly rather than as a generic hook: it must run for every
channel and needs the links' values from before the write (a line moved to another order
updates the old order's total too).
"""
from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from .. import naming, search_index, sequences
from ..actor import Actor
from ..computed import Change, compute_new, propagate
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..field_types import FieldValueError
from ..field_types.autonumber import format_code
from ..meta_models import utcnow
from ..query.model import AggregateQuery, ListQuery, Page
from ..query import reader
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef
from . import history, outbox
from .access import Access, AccessPolicy
from .bulk_sql import insert_many
from .serialize import record_to_json, value_to_json
from .rule_check import check_rules, has_rules, new_record_before, plain as rule_values
from .trash import Trasher
from .validation import check_links, check_unique, parse_row, raise_if_errors
from ..i18n import _, language, right_verb

MAX_BULK = 1000

Hook = Callable[[Connection, Schema, ObjectInfo, list[int], str, Actor], None]


class WriteHooks:
    """Callbacks run inside the write transaction after records changed (e.g. formula
    recomputation of dependants). Each gets (conn, schema, obj, ids, action, actor)."""

    def __init__(self) -> None:
        self._hooks: list[Hook] = []

    def register(self, hook: Hook) -> Hook:
        self._hooks.append(hook)
        return hook

    def run(self, conn, schema, obj, ids, action, actor) -> None:
        for hook in self._hooks:
            hook(conn, schema, obj, ids, action, actor)


class RecordStore:
    def __init__(self, db, policy: AccessPolicy | None = None, hooks: WriteHooks | None = None):
        self.db = db
        self.policy = policy or AccessPolicy()
        self.hooks = hooks or WriteHooks()

    # ---- plumbing --------------------------------------------------------------------------
    @contextmanager
    def _write(self) -> Iterator[tuple[Connection, Schema]]:
        try:
            with self.db.write() as conn:
                yield conn, self.db.schema(conn)
        except IntegrityError as exc:
            raise _integrity_to_validation(self.db, exc) from None

    @contextmanager
    def _read(self) -> Iterator[tuple[Connection, Schema]]:
        with self.db.read() as conn:
            yield conn, self.db.schema(conn)

    def _access(self, conn: Connection, schema: Schema, actor: Actor) -> Access:
        """The actor's rights in this transaction (see access.py): asked by every read and write."""
        return self.policy.access(conn, schema, actor)

    def _require(self, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo, right: str) -> None:
        if not self._access(conn, schema, actor).can(obj, right):
            raise Forbidden(_('you may not %(right)s %(objects)s', right=right_verb(right), objects=obj.label_plural_in(language())))

    def _require_record(self, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo, rid: int,
                        right: str) -> None:
        """The record right (edit, delete) on one record: the list's row filter for that id."""
        if not self._access(conn, schema, actor).record_allows(obj, schema.table(obj), rid, right):
            raise Forbidden(_("you may not %(right)s this '%(label)s' record", right=right_verb(right), label=obj.label_in(language())))

    def _read_rights(self, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo,
                     access: Access | None = None) -> dict[str, Any]:
        access = access or self._access(conn, schema, actor)
        return {"row_filter": access.row_filter(obj, schema.table(obj)),
                "field_allowed": access.field_readable(obj), "link_filter": access.link_filter}

    def _fetch(self, conn, schema, obj, ids, actor, trash: bool | None = False, fields=None) -> dict[int, dict]:
        access = self._access(conn, schema, actor)
        return reader.fetch_records(conn, schema, obj, list(ids), fields=fields, trash=trash,
                                    statement_key=access.statement_key,
                                    **self._read_rights(conn, schema, actor, obj, access))

    def _fetch_one(self, conn, schema, obj, rid, actor, trash: bool | None = False) -> dict:
        rec = self._fetch(conn, schema, obj, [rid], actor, trash=trash).get(rid)
        if rec is None:
            label = obj.label_in(language())
            raise NotFound(_("there is no '%(label)s' record with id %(id)s in the trash", label=label, id=rid) if trash
                           else _("there is no '%(label)s' record with id %(id)s", label=label, id=rid))
        return rec

    # ---- reads -------------------------------------------------------------------------------
    def get(self, actor: Actor, obj_ref: str | int, record_id: int, *, trash: bool = False) -> dict[str, Any]:
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "read")
            return self._fetch_one(conn, schema, obj, _record_id(record_id), actor, trash=trash)

    def list(self, actor: Actor, obj_ref: str | int, query: ListQuery | None = None) -> Page:
        query = query or ListQuery()
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "read")
            return reader.fetch_page(conn, schema, obj, query, **self._read_rights(conn, schema, actor, obj))

    def count(self, actor: Actor, obj_ref: str | int, filter: dict | None = None,
              search: str | None = None) -> tuple[int, bool]:
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "read")
            return reader.count_records(conn, schema, obj, filter=filter, search=search,
                                        **self._read_rights(conn, schema, actor, obj))

    def children(self, actor: Actor, obj_ref: str | int, record_id: int, child_ref: str | int,
                 link: str | None = None, query: ListQuery | None = None) -> Page:
        """The child list of a record: the records of ``child_ref`` whose link points at it
        (e.g. the lines of an order). ``link`` names the link field when there are several."""
        query = query or ListQuery()
        schema = self.db.schema()
        parent, child = schema.object(obj_ref), schema.object(child_ref)
        links = [f for c, f in schema.children(parent) if c.id == child.id and (link is None or f.api_name == link)]
        if len(links) != 1:
            names = ", ".join(f.api_name for c, f in schema.children(parent) if c.id == child.id) or "none"
            raise ValidationError({"link": f"name the link field of '{child.api_name}' to '{parent.api_name}' "
                                           f"(links: {names})"})
        self.get(actor, parent.api_name, record_id)  # the parent must exist and be visible
        condition = {"field": links[0].api_name, "op": "eq", "value": _record_id(record_id)}
        combined = {"and": [condition, query.filter]} if query.filter else condition
        return self.list(actor, child.api_name, dataclasses.replace(query, filter=combined))

    def aggregate(self, actor: Actor, obj_ref: str | int, query: AggregateQuery) -> list[dict[str, Any]]:
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "read")
            from ..query.aggregate import aggregate as run_aggregate

            return run_aggregate(conn, schema, obj, query, **self._read_rights(conn, schema, actor, obj))

    def history(self, actor: Actor, obj_ref: str | int, record_id: int) -> list[dict[str, Any]]:
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "read")
            self._fetch_one(conn, schema, obj, _record_id(record_id), actor, trash=None)
            return history.read(conn, schema, obj, record_id,
                                self._access(conn, schema, actor).field_readable(obj))

    def to_json(self, obj_ref: str | int, record: Mapping[str, Any]) -> dict[str, Any]:
        schema = self.db.schema()
        return record_to_json(schema, schema.object(obj_ref), record)

    # ---- rights for channels -------------------------------------------------------------------
    def can(self, actor: Actor, obj_ref: str | int, right: str) -> bool:
        """May the actor ``right`` (read, create, edit, delete, export, print, report,
        configure) the object at all? Records are narrowed further by the row filter."""
        with self._read() as (conn, schema):
            return self._access(conn, schema, actor).can(schema.object(obj_ref), right)

    def objects_with(self, actor: Actor, right: str = "read") -> list[ObjectInfo]:
        """The objects the actor may ``right``, in the power user's order (menus, search):
        one transaction, not one ``can`` per object."""
        with self._read() as (conn, schema):
            access = self._access(conn, schema, actor)
            return [o for o in sorted(schema.objects, key=lambda o: (o.position, o.id)) if access.can(o, right)]

    def require(self, actor: Actor, obj_ref: str | int, right: str) -> None:
        """Forbidden unless ``can``: channels call it for print and report before reading."""
        with self._read() as (conn, schema):
            self._require(conn, schema, actor, schema.object(obj_ref), right)

    def record_rights(self, actor: Actor, obj_ref: str | int, record_id: int) -> dict[str, bool]:
        """read, edit and delete on one (visible) record, e.g. for a card's buttons."""
        record_id = _record_id(record_id)
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._fetch_one(conn, schema, obj, record_id, actor, trash=None)
            return self._access(conn, schema, actor).record_rights(obj, schema.table(obj), record_id)

    def export(self, actor: Actor, obj_ref: str | int, query: ListQuery | None = None,
               batch: int = 500) -> Iterator[list[dict[str, Any]]]:
        """Every record of a list (its filter, search, sort and fields), ``batch`` at a
        time, for exports: needs the export right; rights narrow it exactly like the list."""
        query = query or ListQuery()
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "export")
            self._require(conn, schema, actor, obj, "read")
        current = dataclasses.replace(query, limit=batch, offset=None, cursor=None)
        while True:
            with self._read() as (conn, schema):
                page = reader.fetch_page(conn, schema, schema.object(obj.id), current, with_count=False,
                                         **self._read_rights(conn, schema, actor, obj))
            if page.data:
                yield page.data
            if not page.next_cursor:
                return
            current = dataclasses.replace(current, cursor=page.next_cursor)

    def link_choices(self, actor: Actor, obj_ref: str | int, link: str, search: str | None = None,
                     limit: int = 20) -> list[LinkRef]:
        """What a link picker offers: records of the link's target the actor may see,
        by display value, optionally searched. Nothing when the target is not readable."""
        with self._read() as (conn, schema):
            obj = schema.object(obj_ref)
            access = self._access(conn, schema, actor)
            readable = access.field_readable(obj)
            field = obj.fields_by_name.get(link) if isinstance(link, str) else None
            if field is None or (readable is not None and not readable(field)):
                raise ValidationError({"link": f"object '{obj.api_name}' has no field '{link}'"})
            if field.type != "link":
                raise ValidationError({"link": f"'{link}' is a {field.type} field, not a link"})
            target = schema.link_target(field)
            if not access.can(target, "read"):
                return []
            from ..query.paths import JoinBuilder

            shown = JoinBuilder(schema, target, field_allowed=access.field_readable(target)).display_field(target)
            shown = shown or target.fields_by_name["code"]
            page = reader.fetch_page(conn, schema, target, ListQuery(
                search=search, limit=limit, sort=[shown.api_name], fields=[shown.api_name]),
                with_count=False, **self._read_rights(conn, schema, actor, target))
            out = []
            for record in page.data:
                value = record.get(shown.api_name)
                text = value if value is None or isinstance(value, str) else shown.ftype.format(shown, value)
                out.append(LinkRef(record["id"], text))
            return out

    # ---- create ------------------------------------------------------------------------------
    def create(self, actor: Actor, obj_ref: str | int, values: Mapping[str, Any]) -> dict[str, Any]:
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "create")
            rid = self._insert(conn, schema, obj, actor, [values], single=True)[0]
            return self._fetch_one(conn, schema, obj, rid, actor)

    def bulk_create(self, actor: Actor, obj_ref: str | int, rows: Sequence[Mapping[str, Any]], *,
                    importing: bool = False, keep_codes: bool = False) -> list[int]:
        """Create up to MAX_BULK records in one transaction: all or nothing, errors per row."""
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "create")
            return self._insert(conn, schema, obj, actor, rows, single=False, importing=importing,
                                keep_codes=keep_codes)

    def _insert(self, conn: Connection, schema: Schema, obj: ObjectInfo, actor: Actor,
                rows: Sequence[Mapping[str, Any]], *, single: bool, importing: bool = False,
                keep_codes: bool = False) -> list[int]:
        if not rows:
            return []
        access = self._access(conn, schema, actor)
        writable = lambda f: access.field_writable(obj, f)  # noqa: E731
        parsed, errors = [], []
        for values in rows:
            p, e = parse_row(obj, values, creating=True, importing=importing, writable=writable,
                             readable=access.field_readable(obj))
            parsed.append(p)
            errors.append(e)
        codes: list[str | None] = [None] * len(rows)
        if keep_codes:
            for i, values in enumerate(rows):
                code = values.get("code") if isinstance(values, Mapping) else None
                if code is not None and (not isinstance(code, str) or not code.strip() or len(code) > 64):
                    errors[i].add("code", _("must be a text of 1 to 64 characters"))
                elif code:
                    codes[i] = code.strip()
        check_links(conn, schema, parsed, errors, visible=access.row_filter)
        check_unique(conn, schema, obj, parsed, errors, [None] * len(rows), visible=access.row_filter)
        if has_rules(schema, obj):
            start = new_record_before(obj)
            for p, values, e in zip(parsed, rows, errors):
                if isinstance(values, Mapping):
                    after = {**start, **{f.api_name: v for f, v in p.items()}}
                    check_rules(schema, obj, start, after, set(values), e, access.field_readable(obj))
        if keep_codes:
            _check_codes_free(conn, schema, obj, codes, errors)
        raise_if_errors(errors, single)

        now = utcnow()
        missing = [i for i, c in enumerate(codes) if c is None]
        numbers = sequences.next_values(conn, naming.sequence_name("code", obj.id), len(missing))
        for i, n in zip(missing, numbers):
            codes[i] = format_code(obj.code_pattern, n, now.date())
        for field in obj.user_fields:
            if field.type == "autonumber":
                need = [i for i, p in enumerate(parsed) if p.get(field) is None]
                nums = sequences.next_values(conn, naming.sequence_name("auto", field.id), len(need))
                for i, n in zip(need, nums):
                    parsed[i][field] = format_code(field.options["pattern"], n, now.date())

        table = schema.table(obj)
        params = []
        for p, code in zip(parsed, codes):
            row = {"version": 1, "code": code, "owner_id": actor.user_id, "created_at": now,
                   "created_by": actor.user_id, "modified_at": now, "modified_by": actor.user_id}
            for field in obj.user_fields:
                value = p.get(field)
                db_values = field.ftype.to_db(field, value) if value is not None else (None,) * len(field.column_names)
                row.update(zip(field.column_names, db_values))
            params.append(row)
        ids = sequences.record_ids(conn, table, len(params))
        for rid, row in zip(ids, params):
            row["id"] = rid
        computed, done = compute_new(conn, schema, obj, {
            rid: {f.key: (row.get(f.column) if f.system else p.get(f)) for f in obj.fields}
            for rid, p, row in zip(ids, parsed, params)})
        for rid, row in zip(ids, params):
            for field, value in computed.get(rid, {}).items():
                row.update(zip(field.column_names, field.ftype.to_db(field, value) if value is not None
                               else (None,) * len(field.column_names)))
        insert_many(conn, table, params)

        def shown(rid: int, p: dict, code: str) -> dict[str, Any]:
            own = {f.api_name: v for f, v in computed.get(rid, {}).items() if obj.fields_by_name.get(f.api_name) is f}
            return {**{f.api_name: v for f, v in p.items()}, **own, "code": code}

        search_index.write(conn, obj, [
            (rid, search_index.document(obj, shown(rid, p, code)))
            for rid, p, code in zip(ids, parsed, codes)], replace=False)
        history.write(conn, [
            history.entry(obj, rid, "create", actor, now, 1,
                          {"code": [None, code], **{f.key: [None, value_to_json(f, v)] for f, v in p.items() if v is not None}})
            for rid, p, code in zip(ids, parsed, codes)])
        outbox.write(conn, [{"topic": "record.created", "object_id": obj.id, "record_id": rid,
                        "payload": {"object": obj.api_name, "id": rid, "code": code, "version": 1}, "created_at": now}
                       for rid, code in zip(ids, codes)])
        propagate(conn, schema, [Change(obj, ids, None, done=done)])
        self.hooks.run(conn, schema, obj, ids, "create", actor)
        return ids

    # ---- update ------------------------------------------------------------------------------
    def update(self, actor: Actor, obj_ref: str | int, record_id: int, values: Mapping[str, Any], *,
               version: int | None) -> dict[str, Any]:
        """Change fields of a record read at ``version``; a newer version is a Conflict."""
        record_id = _record_id(record_id)
        with self._write() as (conn, schema):
            return self._update(conn, schema, actor, schema.object(obj_ref), record_id, values, version)

    def _update(self, conn: Connection, schema: Schema, actor: Actor, obj: ObjectInfo, record_id: int,
                values: Mapping[str, Any], version: int | None, *, fetch: bool = True) -> dict[str, Any] | None:
        """``update`` inside the caller's transaction (``bulk_write`` runs many in one)."""
        self._require(conn, schema, actor, obj, "edit")
        current = self._fetch_one(conn, schema, obj, record_id, actor)
        self._require_record(conn, schema, actor, obj, record_id, "edit")
        if version is None or isinstance(version, bool) or not isinstance(version, int):
            raise ValidationError({"version": "is required: send the version of the record you read"})
        if current["version"] != version:
            raise _conflict(schema, obj, current, version)
        access = self._access(conn, schema, actor)
        parsed, errors = parse_row(obj, values, creating=False, readable=access.field_readable(obj),
                                   writable=lambda f: access.field_writable(obj, f))
        check_links(conn, schema, [{f: v for f, v in parsed.items() if not _same_link(current, f, v)}],
                    [errors], visible=access.row_filter)
        check_unique(conn, schema, obj, [parsed], [errors], [record_id], visible=access.row_filter)
        if has_rules(schema, obj):  # on the real values, whatever the writer may see
            before = rule_values(reader.fetch_records(conn, schema, obj, [record_id])[record_id])
            after = {**before, **{f.api_name: v for f, v in parsed.items()}}
            check_rules(schema, obj, before, after, set(values) if isinstance(values, Mapping) else set(), errors,
                        access.field_readable(obj))
        raise_if_errors([errors], single=True)
        changes = {}
        for field, value in parsed.items():
            old = current.get(field.api_name)
            old_plain = old.id if isinstance(old, LinkRef) else old
            if old_plain != value:
                changes[field] = (old, value)
        if not changes:
            return current
        now = utcnow()
        table = schema.table(obj)
        sets: dict[str, Any] = {"version": version + 1, "modified_at": now, "modified_by": actor.user_id}
        for field, (_old, value) in changes.items():
            db_values = field.ftype.to_db(field, value) if value is not None else (None,) * len(field.column_names)
            sets.update(zip(field.column_names, db_values))
        done = conn.execute(sa.update(table).where(
            table.c.id == record_id, table.c.version == version, table.c.deleted_at.is_(None)).values(sets))
        if done.rowcount != 1:  # someone committed in between
            raise _conflict(schema, obj, self._fetch_one(conn, schema, obj, record_id, actor), version)
        if not access.record_allows(obj, table, record_id, "edit"):  # rights WITH CHECK
            raise Forbidden(_("this change would take the '%(label)s' record out of what you may edit; nothing was changed",
                              label=obj.label_in(language())))
        if any(f.ftype.searchable for f in changes):
            merged = {k: (v.id if isinstance(v, LinkRef) else v) for k, v in current.items()}
            merged.update({f.api_name: v for f, (_o, v) in changes.items()})
            search_index.write(conn, obj, [(record_id, search_index.document(obj, merged))])
        history.write(conn, [history.entry(obj, record_id, "update", actor, now, version + 1, {
            f.key: [value_to_json(f, old), value_to_json(f, new)] for f, (old, new) in changes.items()})])
        outbox.write(conn, [{"topic": "record.updated", "object_id": obj.id, "record_id": record_id, "created_at": now,
                        "payload": {"object": obj.api_name, "id": record_id, "version": version + 1,
                                    "fields": [f.api_name for f in changes]}}])
        old_links = {f.key: {old.id} for f, (old, _new) in changes.items() if isinstance(old, LinkRef)}
        propagate(conn, schema, [Change(obj, [record_id], frozenset(f.key for f in changes), old_links)])
        self.hooks.run(conn, schema, obj, [record_id], "update", actor)
        return self._fetch_one(conn, schema, obj, record_id, actor) if fetch else None

    def bulk_write(self, actor: Actor, obj_ref: str | int, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Create and update up to MAX_BULK records in one transaction: rows without "id"
        are created, rows with "id" (and the "version" read) update that record. All or
        nothing: any error in any row raises BulkValidationError with every row's errors
        (by row index) and writes nothing. Returns {"id", "code", "version", "action"}
        ("created" / "updated") per row, in order."""
        from .bulk_write import write_rows

        if not isinstance(rows, (list, tuple)):
            raise ValidationError({"records": "must be a list of records"})
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        with self._write() as (conn, schema):
            return write_rows(self, conn, schema, actor, schema.object(obj_ref), rows)

    # ---- delete, restore, purge ----------------------------------------------------------------
    def delete(self, actor: Actor, obj_ref: str | int, record_id: int, *, version: int | None = None) -> None:
        """Move a record to the trash, applying each child link's on-delete rule."""
        record_id = _record_id(record_id)
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "delete")
            current = self._fetch_one(conn, schema, obj, record_id, actor)
            self._require_record(conn, schema, actor, obj, record_id, "delete")
            if version is not None and current["version"] != version:
                raise _conflict(schema, obj, current, version)
            Trasher(conn, schema, actor, self.hooks, self._access(conn, schema, actor)).trash(obj, [record_id])

    def restore(self, actor: Actor, obj_ref: str | int, record_id: int) -> dict[str, Any]:
        """Bring a record back from the trash, with the children its delete took along."""
        record_id = _record_id(record_id)
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "delete")
            self._fetch_one(conn, schema, obj, record_id, actor, trash=True)
            self._require_record(conn, schema, actor, obj, record_id, "delete")
            Trasher(conn, schema, actor, self.hooks, self._access(conn, schema, actor)).restore(obj, record_id)
            return self._fetch_one(conn, schema, obj, record_id, actor)

    def purge(self, actor: Actor, obj_ref: str | int, record_id: int) -> None:
        """Delete a trashed record for good (and what its delete cascaded to)."""
        record_id = _record_id(record_id)
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            self._require(conn, schema, actor, obj, "delete")
            self._fetch_one(conn, schema, obj, record_id, actor, trash=True)
            self._require_record(conn, schema, actor, obj, record_id, "delete")
            Trasher(conn, schema, actor, self.hooks, self._access(conn, schema, actor)).purge(obj, record_id)


    # ---- owner ---------------------------------------------------------------------------------
    def set_owner(self, actor: Actor, obj_ref: str | int, record_id: int, user_id: Any, *,
                  version: int | None = None) -> dict[str, Any] | None:
        """Give a record to another user. Needs full access to it (read, edit and
        delete). Returns the record as the actor now sees it (None if no longer visible)."""
        record_id = _record_id(record_id)
        with self._write() as (conn, schema):
            obj = schema.object(obj_ref)
            current = self._fetch_one(conn, schema, obj, record_id, actor)
            table = schema.table(obj)
            held = self._access(conn, schema, actor).record_rights(obj, table, record_id)
            if not all(held.values()):
                raise Forbidden(_("you may not give this '%(label)s' record away: that needs full access to it (read, edit and delete)",
                                  label=obj.label_in(language())))
            if version is not None and current["version"] != version:
                raise _conflict(schema, obj, current, version)
            owner_field = obj.fields_by_name["owner"]
            try:
                new_owner = owner_field.ftype.parse(owner_field, user_id)
            except FieldValueError as exc:
                raise ValidationError({"owner": str(exc)}) from None
            if new_owner is None:
                raise ValidationError({"owner": "is required: the id of the user to give the record to"})
            from ..meta_models import User

            if not conn.execute(sa.select(User.id).where(User.id == new_owner, User.active.is_(True))).first():
                raise ValidationError({"owner": f"there is no active user with id {new_owner}"})
            old = current.get("owner")
            old_id = old.id if isinstance(old, LinkRef) else old
            if old_id == new_owner:
                return current
            now = utcnow()
            conn.execute(sa.update(table).where(table.c.id == record_id, table.c.deleted_at.is_(None)).values(
                owner_id=new_owner, version=table.c.version + 1, modified_at=now, modified_by=actor.user_id))
            history.write(conn, [history.entry(obj, record_id, "update", actor, now, current["version"] + 1,
                                               {"owner": [old_id, new_owner]})])
            outbox.write(conn, [{"topic": "record.updated", "object_id": obj.id, "record_id": record_id,
                            "created_at": now, "payload": {"object": obj.api_name, "id": record_id,
                                                           "version": current["version"] + 1,
                                                           "fields": ["owner"]}}])
            self.hooks.run(conn, schema, obj, [record_id], "update", actor)
            return self._fetch(conn, schema, obj, [record_id], actor).get(record_id)


def _same_link(current: Mapping[str, Any], field: FieldInfo, value: Any) -> bool:
    """A link sent back unchanged (it may point at a record the writer cannot see)."""
    old = current.get(field.api_name)
    return isinstance(old, LinkRef) and old.id == value


def _check_codes_free(conn, schema, obj, codes, errors) -> None:
    wanted = {c: i for i, c in enumerate(codes) if c}
    if not wanted:
        return
    table = schema.table(obj)
    for (code,) in conn.execute(sa.select(table.c.code).where(table.c.code.in_(list(wanted)))):
        errors[wanted[code]].add("code", _('%(code)s is already used', code=code))


def _record_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError({"id": "must be a whole number"})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"id": f"{value!r} is not a record id"}) from None
    if abs(number) > 2**63 - 1:  # the databases' BIGINT: a bigger number would fail in the driver
        raise ValidationError({"id": f"{value!r} is not a record id"})
    return number


def _conflict(schema: Schema, obj: ObjectInfo, current: Mapping[str, Any], version: int) -> Conflict:
    return Conflict(
        f"{current.get('code')} was changed by someone else (you have version {version}, "
        f"the current version is {current['version']}); reload, merge and save again",
        current=record_to_json(schema, obj, current))


def _integrity_to_validation(db, exc: IntegrityError) -> ValidationError:
    """Map a unique-index violation (a race the pre-check could not see) to its field."""
    text = str(exc.orig)
    schema = db.schema()
    for obj in schema.objects:
        for field in obj.user_fields:
            names = (f"ux_{obj.table_name}_{field.column}", f"{obj.table_name}.{field.column}")
            if any(n in text for n in names):
                return ValidationError({field.api_name: "must be unique: the value is already used"})
        if f"ux_{obj.table_name}_code" in text or f"{obj.table_name}.code" in text:
            return ValidationError({"code": "is already used"})
    return ValidationError({"record": f"the database refused the change: {text.splitlines()[0]}"})
