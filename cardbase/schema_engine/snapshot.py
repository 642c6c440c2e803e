"""The immutable in-memory schema snapshot, built from the metadata tables and cached per
``schema_version``. Every worker compares one integer per transaction and rebuilds only
when a configuration change bumped it."""
from __future__ import annotations

import logging
import threading
import weakref
from dataclasses import dataclass, field as dc_field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection, select

from . import naming
from .errors import NotFound
from .i18n import _
from .field_types import get_type
from .field_types.base import FieldType, OptionContext
from .meta_models import BigId, FieldRow, MetaState, ObjectType, Translation

log = logging.getLogger(__name__)

if TYPE_CHECKING:  # pragma: no cover
    from .db import Database


@dataclass(frozen=True, eq=False)
class FieldInfo:
    id: int | None  # None for system fields
    object_id: int
    api_name: str
    label: str
    type: str
    required: bool = False
    unique: bool = False
    default: Any = None
    options: Mapping[str, Any] = dc_field(default_factory=dict)
    help_text: str = ""
    position: int = 0
    system: bool = False
    column: str = ""  # primary physical column
    translations: Mapping[str, Mapping[str, str]] = dc_field(default_factory=dict)  # language -> key -> text
    # Conditional rules {"visible_when"|"required_when"|"readonly_when": filter by ids}
    # (field_rules.py): kept in the options row under RULES_KEY, lifted out here so the
    # field type's options stay the type's own.
    rules: Mapping[str, Any] | None = None
    # Source (field_sources.py): {"link": link field id, "field": id of a field of the link's
    # target} -- the value is copied from the linked record when the link is chosen.
    source: Mapping[str, Any] | None = None

    @cached_property
    def ftype(self) -> FieldType:
        return get_type(self.type).bind(self)

    @property
    def key(self) -> str:
        """Stable key (survives renames): the field id, or the system field's name."""
        return str(self.id) if self.id is not None else self.api_name

    @property
    def stored_id(self) -> int:
        """The id of a user field, where one is certain (a system field has none: ValueError)."""
        if self.id is None:
            raise ValueError(f"{self.api_name} is a system field: it has no id")
        return self.id

    @cached_property
    def ma_field(self):
        return self.ftype.marshmallow_field(self)

    @cached_property
    def column_specs(self):
        return self.ftype.column_specs(self)

    @cached_property
    def column_names(self) -> tuple[str, ...]:
        return tuple(self.column if not s.suffix else f"{self.column}_{s.suffix}" for s in self.column_specs)

    @cached_property
    def writable(self) -> bool:
        return not self.system and self.ftype.writable

    def label_in(self, language: str | None) -> str:
        """The label in ``language`` when the power user gave one, else the label (a system
        field's -- Created at, Owner -- in the interface's language)."""
        found = self.translations.get(language or "", {}).get("label")
        if found:
            return found
        return _(self.label) if self.system and language and language != "en" else self.label

    def help_in(self, language: str | None) -> str:
        return self.translations.get(language or "", {}).get("help_text") or self.help_text

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<Field {self.object_id}.{self.api_name}:{self.type}>"


RULES_KEY = "rules"  # where a field's conditional rules live in its options row
SOURCE_KEY = "source"  # where a field's source (filled from the linked record) lives


def type_options(stored: Mapping[str, Any] | None) -> dict[str, Any]:
    """The field type's options of a stored options row (without the field's rules and source)."""
    return {k: v for k, v in (stored or {}).items() if k not in (RULES_KEY, SOURCE_KEY)}


def stored_options(options: Mapping[str, Any], rules: Mapping[str, Any] | None,
                   source: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the options row holds: the type's options plus the field's rules and source, if any."""
    out = {**options, RULES_KEY: dict(rules)} if rules else dict(options)
    if source:
        out[SOURCE_KEY] = dict(source)
    return out


SYSTEM_COLUMNS = ("id", "version", "code", "owner_id", "created_at", "created_by",
                  "modified_at", "modified_by", "deleted_at", "deleted_by")


def system_fields(object_id: int, code_pattern: str) -> tuple[FieldInfo, ...]:
    mk = lambda name, label, typ, col, **kw: FieldInfo(  # noqa: E731
        None, object_id, name, label, typ, system=True, column=col, **kw)
    return (
        mk("id", "ID", "record_id", "id", position=-100),
        mk("code", "Code", "autonumber", "code", unique=True, position=-99,
           options=MappingProxyType({"pattern": code_pattern})),
        mk("version", "Version", "record_version", "version", position=-98),
        mk("owner", "Owner", "user", "owner_id", position=-97),
        mk("created_at", "Created at", "created_at", "created_at", position=-96),
        mk("created_by", "Created by", "created_by", "created_by", position=-95),
        mk("modified_at", "Modified at", "modified_at", "modified_at", position=-94),
        mk("modified_by", "Modified by", "modified_by", "modified_by", position=-93),
    )


@dataclass(frozen=True, eq=False)
class ObjectInfo:
    id: int
    api_name: str
    label: str
    label_plural: str
    description: str
    position: int
    code_pattern: str
    display_field_name: str | None
    options: Mapping[str, Any]
    fields: tuple[FieldInfo, ...]  # system fields first, then user fields by position
    translations: Mapping[str, Mapping[str, str]] = dc_field(default_factory=dict)  # language -> key -> text

    @property
    def table_name(self) -> str:
        return naming.table_name(self.id)

    @cached_property
    def fields_by_name(self) -> Mapping[str, FieldInfo]:
        return MappingProxyType({f.api_name: f for f in self.fields})

    @cached_property
    def user_fields(self) -> tuple[FieldInfo, ...]:
        return tuple(f for f in self.fields if not f.system)

    def field(self, name: str) -> FieldInfo:
        try:
            return self.fields_by_name[name]
        except KeyError:
            raise NotFound(f"object '{self.api_name}' has no field '{name}'") from None

    def has_field(self, name: str) -> bool:
        return name in self.fields_by_name

    @cached_property
    def display_field(self) -> FieldInfo:
        """The field that names a record in links and pickers: chosen, else the first
        text-like user field, else the Code."""
        if self.display_field_name and self.display_field_name in self.fields_by_name:
            return self.fields_by_name[self.display_field_name]
        for f in self.user_fields:
            if f.type in ("string", "email", "text"):
                return f
        return self.fields_by_name["code"]

    @cached_property
    def searchable_fields(self) -> tuple[FieldInfo, ...]:
        return tuple(f for f in self.fields if f.ftype.searchable)

    def label_in(self, language: str | None) -> str:
        """The singular label in ``language`` when the power user gave one, else the label."""
        return self.translations.get(language or "", {}).get("label") or self.label

    def label_plural_in(self, language: str | None) -> str:
        return self.translations.get(language or "", {}).get("label_plural") or self.label_plural

    def __repr__(self) -> str:  # pragma: no cover
        return f"<Object {self.api_name}#{self.id}>"


class Schema(OptionContext):
    """All object types of one schema version, with their SQLAlchemy tables."""

    def __init__(self, version: int, objects: Iterable[ObjectInfo], dialect: str, base: "Schema | None" = None):
        """``base``: an earlier snapshot whose tables are kept for the objects taken over
        unchanged (the very same ObjectInfo), so an incremental reload builds only the
        tables of the objects it read again."""
        self.version = version
        self.dialect = dialect
        self.objects: tuple[ObjectInfo, ...] = tuple(sorted(objects, key=lambda o: (o.position, o.id)))
        self._by_name = {o.api_name: o for o in self.objects}
        self._by_id = {o.id: o for o in self.objects}
        self._fields_by_id = {f.id: f for o in self.objects for f in o.user_fields}
        self.metadata = sa.MetaData()
        self._tables: dict[int, sa.Table] = {}
        for obj in self.objects:
            kept = base._tables.get(obj.id) if base is not None and base._by_id.get(obj.id) is obj else None
            self._tables[obj.id] = kept if kept is not None else build_table(obj, self.metadata, self)

    # ---- lookups ----------------------------------------------------------------------
    def object(self, ref: str | int) -> ObjectInfo:
        obj = self._by_id.get(ref) if isinstance(ref, int) else self._by_name.get(ref)
        if obj is None:
            raise NotFound(f"there is no object '{ref}'")
        return obj

    def has_object(self, ref: str | int) -> bool:
        return (ref in self._by_id) if isinstance(ref, int) else (ref in self._by_name)

    def field_by_id(self, field_id: int) -> FieldInfo:
        try:
            return self._fields_by_id[field_id]
        except KeyError:
            raise NotFound(f"there is no field #{field_id}") from None

    def table(self, obj: ObjectInfo | str | int) -> sa.Table:
        if not isinstance(obj, ObjectInfo):
            obj = self.object(obj)
        return self._tables[obj.id]

    def link_target(self, field: FieldInfo) -> ObjectInfo:
        return self.object(int(field.options["target"]))

    def children(self, obj: ObjectInfo) -> list[tuple[ObjectInfo, FieldInfo]]:
        """Child lists: (child object, its link field) for every link pointing at ``obj``."""
        return [(o, f) for o in self.objects for f in o.user_fields
                if f.type == "link" and int(f.options.get("target", 0)) == obj.id]

    # ---- OptionContext ------------------------------------------------------------------
    def object_id(self, name_or_id: Any) -> int:
        if isinstance(name_or_id, int):
            return self.object(name_or_id).id
        return self.object(str(name_or_id)).id

    def object_name(self, object_id: int) -> str:
        return self.object(int(object_id)).api_name


def system_columns(with_fks: bool = False) -> list[sa.Column]:
    """The columns every record table has. ``with_fks`` adds constraints (DDL only)."""
    user_fk = (lambda: [sa.ForeignKey("cb_user.id")]) if with_fks else (lambda: [])
    return [
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("owner_id", sa.Integer, *user_fk(), nullable=True),
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("created_by", sa.Integer, *user_fk(), nullable=True),
        sa.Column("modified_at", sa.DateTime, nullable=False),
        sa.Column("modified_by", sa.Integer, *user_fk(), nullable=True),
        sa.Column("deleted_at", sa.DateTime, nullable=True),
        sa.Column("deleted_by", sa.Integer, nullable=True),
    ]


def build_table(obj: ObjectInfo, metadata: sa.MetaData, schema: "Schema | None" = None) -> sa.Table:
    """The SQLAlchemy Table of an object as the metadata says it should be."""
    cols: list[sa.Column] = system_columns()
    for f in obj.user_fields:
        for spec, name in zip(f.column_specs, f.column_names):
            cols.append(sa.Column(name, spec.type, nullable=True))
        for name, type_ in f.ftype.extra_columns(f):
            cols.append(sa.Column(name, type_, nullable=True))
    return sa.Table(obj.table_name, metadata, *cols)


def load_schema(conn: Connection, base: Schema | None = None, object_ids: Iterable[int] | None = None) -> Schema:
    """Read the metadata tables and build a snapshot. With ``base`` and ``objects`` (ids),
    only those objects are read again (a new id is read, a vanished one dropped); the
    others are taken over from ``base`` with their tables: for a change whose metadata
    writes touch only those objects (a schema change inside a solution import), in time
    independent of the size of the rest of the schema."""
    version = conn.execute(select(MetaState.schema_version).where(MetaState.id == 1)).scalar_one()
    only = None if base is None or object_ids is None else sorted(set(object_ids))
    obj_query, field_query = select(ObjectType), select(FieldRow)
    text_query = select(Translation.object_id, Translation.field_id, Translation.language,
                        Translation.key, Translation.text)
    if only is not None:
        obj_query = obj_query.where(ObjectType.id.in_(only))
        field_query = field_query.where(FieldRow.object_id.in_(only))
        text_query = text_query.where(Translation.object_id.in_(only))
    obj_rows = conn.execute(obj_query).mappings().all()
    field_rows = conn.execute(field_query.order_by(FieldRow.object_id, FieldRow.position, FieldRow.id)).mappings().all()
    texts: dict[tuple[int, int | None], dict[str, dict[str, str]]] = {}
    for t in conn.execute(text_query):
        texts.setdefault((t.object_id, t.field_id), {}).setdefault(t.language, {})[t.key] = t.text
    by_object: dict[int, list[FieldInfo]] = {}
    for r in field_rows:
        by_object.setdefault(r["object_id"], []).append(FieldInfo(
            id=r["id"], object_id=r["object_id"], api_name=r["api_name"], label=r["label"],
            type=r["type"], required=bool(r["required"]), unique=bool(r["unique"]),
            default=r["default"], options=MappingProxyType(type_options(r["options"])),
            help_text=r["help_text"] or "", position=r["position"], system=False,
            column=naming.column_name(r["id"]), translations=_frozen(texts.get((r["object_id"], r["id"]))),
            rules=(r["options"] or {}).get(RULES_KEY) or None,
            source=(r["options"] or {}).get(SOURCE_KEY) or None,
        ))
    objects: list[ObjectInfo] = []
    for r in obj_rows:
        fields = system_fields(r["id"], r["code_pattern"]) + tuple(by_object.get(r["id"], ()))
        objects.append(ObjectInfo(
            id=r["id"], api_name=r["api_name"], label=r["label"], label_plural=r["label_plural"],
            description=r["description"] or "", position=r["position"], code_pattern=r["code_pattern"],
            display_field_name=r["display_field"], options=MappingProxyType(dict(r["options"] or {})),
            fields=fields, translations=_frozen(texts.get((r["id"], None))),
        ))
    if only is not None and base is not None:
        fresh = set(only)
        objects.extend(o for o in base.objects if o.id not in fresh)
    return Schema(version, objects, conn.dialect.name, base=base if only is not None else None)


def _frozen(texts: dict[str, dict[str, str]] | None) -> Mapping[str, Mapping[str, str]]:
    return MappingProxyType({lang: MappingProxyType(keys) for lang, keys in (texts or {}).items()})


# Asked at the start of every transaction, so it is plain SQL: building and looking up a
# Core select for it cost ten times the query itself.
_VERSION_SQL = f"SELECT schema_version FROM {MetaState.__tablename__} WHERE id = 1"


# PostgreSQL: schema changes and sessions exclude each other through one advisory lock.
# Every transaction that reads the version holds it SHARED to its end; a schema change (and
# a recompute job's final swap) takes it EXCLUSIVE before anything else, so it waits for
# the running sessions and new sessions wait for it and then read the new version. No
# session ever sees a column added, renamed, retyped or dropped under its snapshot. The
# lock is taken by the first of two statements sent as one query (one round trip): under
# READ COMMITTED the second gets its own snapshot, taken after the lock was granted, so it
# reads the version the change committed (one statement would read the version of a
# snapshot taken before it waited). SQLite has one writer and WAL readers keep their snapshot.
SCHEMA_LOCK_KEY = 0x63617264  # "card"
_PG_VERSION_SQL = f"SELECT pg_advisory_xact_lock_shared({SCHEMA_LOCK_KEY}); {_VERSION_SQL}"
_SEEN = "cardbase_schema_version"  # key in the DB-API connection's info: the version it last used
_holders = threading.local()  # connections of this thread that hold the shared lock


def current_version(conn: Connection) -> int:
    if conn.dialect.name != "postgresql":
        return conn.exec_driver_sql(_VERSION_SQL).scalar_one()
    result = conn.exec_driver_sql(_PG_VERSION_SQL)
    cursor = result.cursor
    cursor.nextset()
    row = cursor.fetchone()
    assert row is not None, "cb_meta_state has no row 1"
    version = int(row[0])
    result.close()
    _holding(conn).add(conn)
    seen = conn.info.get(_SEEN)
    if seen is not None and seen != version:
        # The driver keeps prepared statements per connection across transactions; one
        # prepared before a retype fails with "cached plan must not change result type".
        # psycopg forgets its own cache when it sees DEALLOCATE ALL go through, but looks
        # only at a query text new to it: hence the version in a comment (psycopg 3.3).
        conn.exec_driver_sql(f"DEALLOCATE ALL /* schema version {int(version)} */")
    conn.info[_SEEN] = version
    return version


def _holding(conn: Connection) -> "weakref.WeakSet[Connection]":
    held = getattr(_holders, "conns", None)
    if held is None:
        held = _holders.conns = weakref.WeakSet()
    return held


def lock_schema(conn: Connection) -> None:
    """Take the schema lock exclusively (PostgreSQL) for a change of the physical schema in
    ``conn``'s transaction: first thing, before the version or metadata are read. Waiting
    for a session this thread itself holds open on another connection would never end, so
    then (a channel that changes the schema while its own session is open) it is skipped."""
    if conn.dialect.name != "postgresql":
        return
    if any(c is not conn and not c.closed and c.in_transaction() for c in list(_holding(conn))):
        log.warning("schema change without the schema lock: this thread holds a session open")
        return
    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({SCHEMA_LOCK_KEY})")


def bump_version(conn: Connection) -> int:
    """Mark the configuration changed; other workers reload on their next transaction."""
    conn.execute(sa.update(MetaState).where(MetaState.id == 1)
                 .values(schema_version=MetaState.schema_version + 1))
    return current_version(conn)


class SchemaCache:
    """Per-process cache of the snapshot, invalidated through the database's version."""

    def __init__(self, db: "Database"):
        self.db = db
        self._schema: Schema | None = None
        self._lock = threading.Lock()

    def get(self, conn: Connection | None = None) -> Schema:
        if conn is None:
            with self.db.read() as c:
                return self.get(c)
        version = current_version(conn)
        cached = self._schema
        if cached is not None and cached.version == version:
            return cached
        schema = load_schema(conn)
        with self._lock:
            # Only publish snapshots read outside an uncommitted schema change.
            if not conn.get_execution_options().get("cardbase_schema_tx"):
                self._schema = schema
        return schema

    def latest(self) -> Schema | None:
        """The snapshot last published, without a round trip to the database: for turning
        what a read just returned (read with this or a newer snapshot) into JSON."""
        return self._schema

    def invalidate(self) -> None:
        self._schema = None
