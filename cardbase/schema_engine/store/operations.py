"""The record operations the pipeline applies: create, update, give to another owner, and
mixed bulk writes. Each knows its rights, its validation and its rows, all set-based (one
statement per step for a whole batch, not one per record); what follows the write is the
pipeline's (``pipeline.py``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping, Sequence

import sqlalchemy as sa

from .. import naming, search_index, sequences
from ..computed import compute_existing, compute_new
from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..field_types import FieldValueError
from ..field_types.autonumber import format_code
from ..i18n import _, language, right_verb
from ..meta_models import User
from ..query import reader
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef
from .bulk_sql import insert_many
from . import multi_links
from .changeset import ChangeSet, RecordChange
from .rule_check import check_rules, has_rules, new_record_before, plain as rule_values
from .serialize import record_to_json, value_to_json
from .source_fill import fill_from_sources
from .validation import BulkValidationError, RowErrors, check_links, check_unique, parse_row, raise_if_errors

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

MAX_BULK = 1000


def record_id(value: Any) -> int:
    """A record id from any channel's input, or a clear error."""
    if isinstance(value, bool):
        raise ValidationError({"id": "must be a whole number"})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"id": f"{value!r} is not a record id"}) from None
    if abs(number) > 2**63 - 1:  # the databases' BIGINT: a bigger number would fail in the driver
        raise ValidationError({"id": f"{value!r} is not a record id"})
    return number


def conflict(schema: Schema, obj: ObjectInfo, current: Mapping[str, Any], version: Any) -> Conflict:
    return Conflict(
        f"{current.get('code')} was changed by someone else (you have version {version}, "
        f"the current version is {current['version']}); reload, merge and save again",
        current=record_to_json(schema, obj, current))


def db_values(field: FieldInfo, value: Any) -> dict[str, Any]:
    """The physical columns of ``field`` for ``value``."""
    if field.system:
        return {field.column: value}
    if value is None:
        return dict.fromkeys(field.column_names)
    return dict(zip(field.column_names, field.ftype.to_db(field, value)))


def _plain(value: Any) -> Any:
    if isinstance(value, list) and value and isinstance(value[0], LinkRef):
        return [v.id for v in value]  # a multi-link as read: its ids, in order
    return value.id if isinstance(value, LinkRef) else value


# ---- create --------------------------------------------------------------------------------------
class CreateOp:
    """New records: all or nothing, every row's errors at once."""

    kind = "create"

    def __init__(self, obj: ObjectInfo, rows: Sequence[Mapping[str, Any]], *, single: bool,
                 importing: bool = False, keep_codes: bool = False):
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        self.obj, self.rows, self.single = obj, list(rows), single
        self.importing, self.keep_codes = importing, keep_codes
        self.parsed: list[dict[FieldInfo, Any]] = []
        self.codes: list[str | None] = []
        self.ids: list[int] = []

    def authorize(self, tx: "Session") -> None:
        tx.require(self.obj, "create")

    def validate(self, tx: "Session") -> None:
        obj, access = self.obj, tx.access
        writable = lambda f: access.field_writable(obj, f)  # noqa: E731
        errors: list[RowErrors] = []
        for values in self.rows:
            p, e = parse_row(obj, values, creating=True, importing=self.importing, writable=writable,
                             readable=access.field_readable(obj), user_id=tx.actor.user_id)
            self.parsed.append(p)
            errors.append(e)
        fill_from_sources(tx, obj, self.parsed, [set(v) if isinstance(v, Mapping) else set() for v in self.rows],
                          errors, [None] * len(self.rows))  # an order line's price from its product
        self.codes = [None] * len(self.rows)
        if self.keep_codes:
            for i, values in enumerate(self.rows):
                code = values.get("code") if isinstance(values, Mapping) else None
                if code is not None and (not isinstance(code, str) or not code.strip() or len(code) > 64):
                    errors[i].add("code", _("must be a text of 1 to 64 characters"))
                elif code:
                    self.codes[i] = code.strip()
        check_links(tx.conn, tx.schema, self.parsed, errors, visible=access.row_filter)
        multi_links.check(tx.conn, tx.schema, [{f: v for f, v in p.items() if multi_links.is_multi_link(f)}
                                               for p in self.parsed], errors, visible=access.row_filter)
        check_unique(tx.conn, tx.schema, obj, self.parsed, errors, [None] * len(self.rows), visible=access.row_filter)
        if has_rules(tx.schema, obj):
            start = new_record_before(obj)
            for p, values, e in zip(self.parsed, self.rows, errors):
                if isinstance(values, Mapping):
                    after = {**start, **{f.api_name: v for f, v in p.items()}}
                    check_rules(tx.schema, obj, start, after, set(values), e, access.field_readable(obj))
        if self.keep_codes:
            _check_codes_free(tx, obj, self.codes, errors)
        raise_if_errors(errors, self.single)

    def write(self, tx: "Session", cs: ChangeSet) -> list[int]:
        if not self.rows:
            return []
        conn, schema, obj, actor, now = tx.conn, tx.schema, self.obj, tx.actor, cs.at
        codes, parsed = self.codes, self.parsed
        missing = [i for i, c in enumerate(codes) if c is None]
        numbers = sequences.next_values(conn, naming.sequence_name("code", obj.id), len(missing))
        for i, n in zip(missing, numbers):
            codes[i] = format_code(obj.code_pattern, n, now.date())
        for field in obj.user_fields:
            if field.type == "autonumber":
                need = [i for i, p in enumerate(parsed) if p.get(field) is None]
                nums = sequences.next_values(conn, naming.sequence_name("auto", field.stored_id), len(need))
                for i, n in zip(need, nums):
                    parsed[i][field] = format_code(field.options["pattern"], n, now.date())
        table = schema.table(obj)
        params = []
        for p, code in zip(parsed, codes):
            row = {"version": 1, "code": code, "owner_id": actor.user_id, "created_at": now,
                   "created_by": actor.user_id, "modified_at": now, "modified_by": actor.user_id}
            for field in obj.user_fields:
                row.update(db_values(field, p.get(field)))
            params.append(row)
        ids = sequences.record_ids(conn, table, len(params))
        for rid, row in zip(ids, params):
            row["id"] = rid
        computed, done = compute_new(conn, schema, obj, {
            rid: {f.key: (row.get(f.column) if f.system else p.get(f)) for f in obj.fields}
            for rid, p, row in zip(ids, parsed, params)})
        for rid, row in zip(ids, params):
            for field, value in computed.get(rid, {}).items():
                row.update(db_values(field, value))
        insert_many(conn, table, params)
        linked = multi_links.replace(conn, schema, {
            rid: {f: v for f, v in p.items() if multi_links.is_multi_link(f) and v is not None}
            for rid, p in zip(ids, parsed)}, created=True, link_filter=tx.access.link_filter,
            field_allowed=tx.access.field_readable(obj))
        for rid, p, code in zip(ids, parsed, codes):
            own = {f.api_name: v for f, v in computed.get(rid, {}).items() if obj.fields_by_name.get(f.api_name) is f}
            shown = {**{f.api_name: v for f, v in p.items()}, **own, "code": code}
            cs.add(RecordChange(obj, rid, "create", 1, history={
                "code": [None, code], **{f.key: linked.get((rid, f.key)) or [None, value_to_json(f, v)]
                                         for f, v in p.items() if v is not None}},
                done=done, document=search_index.document(obj, shown), index="insert",
                payload={"code": code}))
        self.ids = ids
        return ids


def _check_codes_free(tx: "Session", obj: ObjectInfo, codes: list[str | None], errors: list[RowErrors]) -> None:
    wanted = {c: i for i, c in enumerate(codes) if c}
    if not wanted:
        return
    table = tx.schema.table(obj)
    code: str
    for code in tx.conn.execute(sa.select(table.c.code).where(table.c.code.in_(list(wanted)))).scalars():
        errors[wanted[code]].add("code", _('%(code)s is already used', code=code))


# ---- update --------------------------------------------------------------------------------------
class UpdateOp:
    """Changes of existing records, each read at a version (optimistic locking).

    ``single``: the first problem raises its own error (NotFound, Forbidden, Conflict,
    ValidationError); otherwise every row's problems are collected by row index and
    raised together as BulkValidationError, and nothing is written."""

    kind = "update"
    right = "edit"
    with_check = True  # the records must stay within what the actor may edit

    def __init__(self, obj: ObjectInfo, rows: Sequence[tuple[Any, Mapping[str, Any], Any]], *, single: bool):
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        self.obj, self.single = obj, single
        self.rows = list(rows)
        self.errors: dict[int, RowErrors] = {}
        self.ids: list[int | None] = []
        self.current: dict[int, dict[str, Any]] = {}
        self.changes: list[dict[FieldInfo, tuple[Any, Any]]] = []

    # -- problems, one row at a time or all together
    def _fail(self, i: int, exc: Exception) -> None:
        if self.single:
            raise exc
        errors = self.errors.setdefault(i, RowErrors())
        if isinstance(exc, ValidationError):
            for key, messages in exc.errors.items():
                for m in messages if isinstance(messages, list) else [messages]:
                    errors.add(key, m)
        elif isinstance(exc, Conflict):
            errors.add("version", exc.message)
        else:
            errors.add("id", getattr(exc, "message", str(exc)))

    def _live(self) -> list[tuple[int, int]]:
        """(row index, record id) of the rows without a problem so far."""
        return [(i, rid) for i, rid in enumerate(self.ids) if rid is not None and i not in self.errors]

    def authorize(self, tx: "Session") -> None:
        obj, schema = self.obj, tx.schema
        tx.require(obj, self.right)
        for i, (rid, _values, _version) in enumerate(self.rows):
            try:
                self.ids.append(record_id(rid))
            except ValidationError as exc:
                self.ids.append(None)
                self._fail(i, exc)
        wanted = sorted({rid for _i, rid in self._live()})
        table = schema.table(obj)
        if schema.dialect == "postgresql" and wanted:  # hold them: the versions read below stay current
            for start in range(0, len(wanted), 1000):
                tx.conn.execute(sa.select(table.c.id).where(table.c.id.in_(wanted[start:start + 1000]))
                                .order_by(table.c.id).with_for_update(key_share=True)).all()
        self.current = tx.fetch(obj, wanted)
        allowed = tx.allowed_ids(obj, [r for r in wanted if r in self.current], self.right)
        label = obj.label_in(language())
        for i, rid in self._live():
            if rid not in self.current:
                self._fail(i, NotFound(_("there is no '%(label)s' record with id %(id)s", label=label, id=rid)))
            elif rid not in allowed:
                self._fail(i, Forbidden(self.refusal()))

    def refusal(self) -> str:
        return _("you may not %(right)s this '%(label)s' record", right=right_verb(self.right),
                 label=self.obj.label_in(language()))

    def parse(self, tx: "Session", i: int, values: Mapping[str, Any]) -> tuple[dict[FieldInfo, Any], RowErrors]:
        access = tx.access
        return parse_row(self.obj, values, creating=False, readable=access.field_readable(self.obj),
                         writable=lambda f: access.field_writable(self.obj, f))

    def check_versions(self, tx: "Session", *, required: bool = True) -> None:
        """Each row's version against the record's (optimistic locking): a stale one is a
        Conflict; a missing one is an error when ``required``, else not checked."""
        for i, rid in self._live():
            version = self.rows[i][2]
            if version is None and not required:
                continue
            if version is None or isinstance(version, bool) or not isinstance(version, int):
                self._fail(i, ValidationError({"version": "is required: send the version of the record you read"}))
            elif self.current[rid]["version"] != version:
                self._fail(i, conflict(tx.schema, self.obj, self.current[rid], version))

    def validate(self, tx: "Session") -> None:
        obj, schema, access = self.obj, tx.schema, tx.access
        self.check_versions(tx)
        live = self._live()
        parsed, errors = [], []
        for i, _rid in live:
            p, e = self.parse(tx, i, self.rows[i][1])
            parsed.append(p)
            errors.append(e)
        fill_from_sources(tx, obj, parsed, [set(self.rows[i][1]) if isinstance(self.rows[i][1], Mapping) else set()
                                            for i, _rid in live], errors, [self.current[rid] for _i, rid in live])
        check_links(tx.conn, schema, [{f: v for f, v in p.items() if not _same_link(self.current[rid], f, v)}
                                      for p, (_i, rid) in zip(parsed, live)], errors, visible=access.row_filter)
        multi_links.check(tx.conn, schema, [{f: multi_links.added_ids(self.current[rid], f, v) for f, v in p.items()
                                             if multi_links.is_multi_link(f)}
                                            for p, (_i, rid) in zip(parsed, live)], errors, visible=access.row_filter)
        check_unique(tx.conn, schema, obj, parsed, errors, [rid for _i, rid in live], visible=access.row_filter)
        if has_rules(schema, obj) and live:  # on the real values, whatever the writer may see
            real = reader.fetch_records(tx.conn, schema, obj, [rid for _i, rid in live])
            for p, e, (i, rid) in zip(parsed, errors, live):
                values = self.rows[i][1]
                before = rule_values(real[rid])
                after = {**before, **{f.api_name: v for f, v in p.items()}}
                check_rules(schema, obj, before, after, set(values) if isinstance(values, Mapping) else set(), e,
                            access.field_readable(obj))
        by_row = dict(zip([i for i, _r in live], zip(parsed, errors)))
        for i, (_p, e) in by_row.items():
            if e and self.single:
                raise_if_errors([e], single=True)
            if e:
                self.errors[i] = e
        if self.errors:
            raise BulkValidationError({i: dict(e) for i, e in sorted(self.errors.items())})
        self.changes = [{} for _ in self.rows]
        live_ids = dict(live)
        for i, (p, _e) in by_row.items():
            current = self.current[live_ids[i]]
            for field, value in p.items():
                old = current.get(field.api_name)
                if _plain(old) != value:
                    self.changes[i][field] = (old, value)

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        obj, schema, actor = self.obj, tx.schema, tx.actor
        todo = [(rid, self.changes[i], self.rows[i][2]) for i, rid in enumerate(self.ids)
                if rid is not None and self.changes[i]]
        if not todo:
            return
        computed, done = compute_existing(tx.conn, schema, obj, {
            rid: {f.key: _plain(new) for f, (_old, new) in changes.items()} for rid, changes, _v in todo})
        table = schema.table(obj)
        statements: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for rid, changes, version in todo:
            sets: dict[str, Any] = {"version": version + 1, "modified_at": cs.at, "modified_by": actor.user_id}
            for field, (_old, value) in changes.items():
                sets.update(db_values(field, value))
            for field, value in computed.get(rid, {}).items():
                sets.update(db_values(field, value))
            statements.setdefault(tuple(sorted(sets)), []).append({"_id": rid, **sets})
        for columns, params in statements.items():
            stmt = sa.update(table).where(table.c.id == sa.bindparam("_id"), table.c.deleted_at.is_(None)).values(
                {c: sa.bindparam(c, type_=table.c[c].type) for c in columns})
            tx.conn.execute(stmt, params)
        linked = multi_links.replace(tx.conn, schema, {
            rid: {f: new for f, (_old, new) in changes.items() if multi_links.is_multi_link(f)}
            for rid, changes, _v in todo}, link_filter=tx.access.link_filter, field_allowed=tx.access.field_readable(obj))
        ids = [rid for rid, _c, _v in todo]
        if self.with_check and tx.access.restricted and len(tx.allowed_ids(obj, ids, self.right)) != len(ids):
            raise Forbidden(_("this change would take the '%(label)s' record out of what you may edit; nothing was changed",
                              label=obj.label_in(language())))
        for rid, changes, version in todo:
            current = self.current[rid]
            own = computed.get(rid, {})
            keys = frozenset(f.key for f in changes) | frozenset(f.key for f in own)
            document = None
            if any(f.ftype.searchable for f in changes) or any(f.ftype.searchable for f in own):
                merged = {k: _plain(v) for k, v in current.items()}
                merged.update({f.api_name: v for f, (_o, v) in changes.items()})
                merged.update({f.api_name: v for f, v in own.items() if obj.fields_by_name.get(f.api_name) is f})
                document = search_index.document(obj, merged)
            cs.add(RecordChange(
                obj, rid, "update", version + 1,
                history={f.key: linked.get((rid, f.key)) or [value_to_json(f, old), value_to_json(f, new)]
                         for f, (old, new) in changes.items()},
                fields=keys, done=done, document=document, index="replace" if document is not None else None,
                old_links={f.key: {old.id} for f, (old, _new) in changes.items() if isinstance(old, LinkRef)},
                payload={"fields": [f.api_name for f in changes]}))


def _same_link(current: Mapping[str, Any], field: FieldInfo, value: Any) -> bool:
    """A link sent back unchanged (it may point at a record the writer cannot see)."""
    old = current.get(field.api_name)
    return isinstance(old, LinkRef) and old.id == value


# ---- owner ---------------------------------------------------------------------------------------
class OwnerOp(UpdateOp):
    """Give records to another user: needs full access (read, edit and delete) to each."""

    kind = "owner"
    with_check = False  # giving a record away may well take it out of the giver's reach

    def __init__(self, obj: ObjectInfo, rid: Any, user_id: Any, version: Any):
        super().__init__(obj, [(rid, {"owner": user_id}, version)], single=True)

    def authorize(self, tx: "Session") -> None:
        rid = record_id(self.rows[0][0])
        self.ids = [rid]
        current = tx.fetch(self.obj, [rid])
        if rid not in current:
            raise NotFound(_("there is no '%(label)s' record with id %(id)s", label=self.obj.label_in(language()), id=rid))
        self.current = current
        held = tx.record_rights(self.obj, rid)
        if not all(held.values()):
            raise Forbidden(_("you may not give this '%(label)s' record away: that needs full access to it "
                              "(read, edit and delete)", label=self.obj.label_in(language())))
        if self.rows[0][2] is None:  # the owner may be set without a version (the record's own check)
            self.rows[0] = (rid, self.rows[0][1], current[rid]["version"])

    def parse(self, tx: "Session", i: int, values: Mapping[str, Any]) -> tuple[dict[FieldInfo, Any], RowErrors]:
        errors = RowErrors()
        field = self.obj.fields_by_name["owner"]
        try:
            owner = field.ftype.parse(field, values["owner"])
        except FieldValueError as exc:
            errors.add("owner", str(exc))
            return {}, errors
        if owner is None:
            errors.add("owner", "is required: the id of the user to give the record to")
        elif not tx.conn.execute(sa.select(User.id).where(User.id == owner, User.active.is_(True))).first():
            errors.add("owner", f"there is no active user with id {owner}")
        return ({field: owner} if not errors else {}), errors


# ---- mixed bulk writes ---------------------------------------------------------------------------
class BulkOp:
    """Creates (rows without "id") and updates (rows with "id" and "version") in one
    ChangeSet: every row's errors by its index in the request, all or nothing."""

    kind = "bulk"

    def __init__(self, obj: ObjectInfo, rows: Sequence[Mapping[str, Any]]):
        if not isinstance(rows, (list, tuple)):
            raise ValidationError({"records": "must be a list of records"})
        if len(rows) > MAX_BULK:
            raise ValidationError({"records": f"at most {MAX_BULK} records per call, got {len(rows)}"})
        self.obj, self.rows = obj, rows
        self.creates = [i for i, r in enumerate(rows) if not (isinstance(r, Mapping) and r.get("id") is not None)]
        self.updates = [i for i, r in enumerate(rows) if isinstance(r, Mapping) and r.get("id") is not None]
        self.create = CreateOp(obj, [rows[i] for i in self.creates], single=False) if self.creates else None
        self.update = UpdateOp(obj, [(rows[i]["id"], {k: v for k, v in rows[i].items() if k not in ("id", "version")},
                                      rows[i].get("version")) for i in self.updates], single=False) \
            if self.updates else None

    def authorize(self, tx: "Session") -> None:
        if self.create is not None:
            self.create.authorize(tx)
        if self.update is not None:
            self.update.authorize(tx)

    def validate(self, tx: "Session") -> None:
        errors: dict[int, dict[str, list[str]]] = {}
        for op, where in ((self.create, self.creates), (self.update, self.updates)):
            if op is None:
                continue
            try:
                op.validate(tx)
            except BulkValidationError as exc:
                errors.update({where[j]: e for j, e in exc.rows.items()})
        if errors:
            raise BulkValidationError(dict(sorted(errors.items())))

    def write(self, tx: "Session", cs: ChangeSet) -> list[dict[str, Any]]:
        ids: list[int | None] = [None] * len(self.rows)
        if self.create is not None:
            for i, new_id in zip(self.creates, self.create.write(tx, cs)):
                ids[i] = new_id
        if self.update is not None:
            self.update.write(tx, cs)
            for i, old_id in zip(self.updates, self.update.ids):
                ids[i] = old_id
        table = tx.schema.table(self.obj)
        found: dict[int, tuple[str | None, int | None]] = {}
        chunk = [i for i in ids if i is not None]
        for start in range(0, len(chunk), 1000):
            for row in tx.conn.execute(sa.select(table.c.id, table.c.code, table.c.version)
                                       .where(table.c.id.in_(chunk[start:start + 1000]))):
                found[row.id] = (row.code, row.version)
        created = set(self.creates)
        unknown: tuple[str | None, int | None] = (None, None)
        known = [found.get(rid, unknown) if rid is not None else unknown for rid in ids]
        return [{"id": rid, "code": code, "version": version, "action": "created" if i in created else "updated"}
                for i, (rid, (code, version)) in enumerate(zip(ids, known))]
