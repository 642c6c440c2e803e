"""Full backup and restore: one versioned zip archive with every system table (configuration,
users, groups, rights, layouts, reports, templates, history, trash, jobs ...) and every
record table, readable by either engine.

Backup reads everything in one read transaction (REPEATABLE READ on PostgreSQL, one WAL
snapshot on SQLite), so it is consistent while the server runs; each table is streamed into
its own member (a header line with the column names, then one JSON array per row), hashed
with SHA-256 on the way. The manifest, written last, holds the format and its version, the
tables with their row counts and checksums, the sequences' positions and its own checksum.

Restore refuses an archive of a newer format version or with any checksum that does not
match (verified in a first pass, before anything is written), and restores only into an
empty instance (no objects yet), in one transaction: the system tables row for row, then
the record tables built from the restored metadata, the rows (links set after every row is
in, so links in any direction restore), the sequences and id counters, the search index
(the documents a SQLite backup carries, else rebuilt from the records), and a new schema
version so every worker reloads."""
from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any, Iterator

import sqlalchemy as sa
from sqlalchemy import Connection

from ..schema_engine import naming, search_index
from ..schema_engine.db import Database
from ..schema_engine.errors import ValidationError
from ..schema_engine.field_types.links import junction_table
from ..schema_engine.meta_models import Base, DataVersion, MetaState, ObjectType, SequenceRow, utcnow
from ..schema_engine.physical import PhysicalSchema
from ..schema_engine.query import reader
from ..schema_engine.snapshot import Schema, bump_version, build_table, load_schema
from ..schema_engine import system_tables  # noqa: F401  (every table module imported: Base knows them all)

FORMAT = "cardbase-backup"
FORMAT_VERSION = 1
BATCH = 2000
# Kept by the engine in its own way and restored from the manifest instead.
NOT_COPIED = {SequenceRow.__tablename__, DataVersion.__tablename__}  # versions: fresh ones on restore


# ---- values --------------------------------------------------------------------------------------
def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _python_type(col: sa.Column) -> type | None:
    try:
        return col.type.python_type
    except NotImplementedError:
        return None


def _decoder(col: sa.Column):
    kind = _python_type(col)
    if kind is datetime:
        return lambda v: None if v is None else datetime.fromisoformat(v)
    if kind is date:
        return lambda v: None if v is None else date.fromisoformat(v)
    if kind is Decimal:
        return lambda v: None if v is None else Decimal(v)
    if kind is bytes:
        return lambda v: None if v is None else base64.b64decode(v)
    return lambda v: v


# ---- backup --------------------------------------------------------------------------------------
def system_tables_in_order() -> list[sa.Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_COPIED]


def backup(db: Database, target: str | IO[bytes]) -> dict[str, Any]:
    """Write the whole instance to ``target`` (a path or a binary file); returns the manifest."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            schema = load_schema(conn)
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                tables = []
                for table in system_tables_in_order():
                    tables.append({"name": table.name, "kind": "system", **_dump(conn, zf, table)})
                for obj in sorted(schema.objects, key=lambda o: o.id):
                    table = schema.table(obj)
                    tables.append({"name": table.name, "kind": "records", "object": obj.api_name,
                                   **_dump(conn, zf, table)})
                for obj, field in _multi_links(schema):
                    junction = junction_table(field)
                    tables.append({"name": junction.name, "kind": "links", "object": obj.api_name,
                                   "field": field.api_name, **_dump(conn, zf, junction)})
                search = _search_documents(conn, zf, schema)
                manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "created_at": utcnow().isoformat(),
                            "source_engine": conn.dialect.name, "schema_version": schema.version,
                            "tables": tables, "sequences": _sequences(conn, schema),
                            "id_marks": _id_marks(conn, schema), "search": search}
                manifest["checksum"] = _manifest_checksum(manifest)
                zf.writestr("manifest.json", json.dumps(manifest, indent=1))
    return manifest


def _dump(conn: Connection, zf: zipfile.ZipFile, table: sa.Table) -> dict[str, Any]:
    cols = list(table.columns)
    order = list(table.primary_key.columns) or cols[:1]
    return _write_member(conn, zf, f"tables/{table.name}.jsonl", cols, sa.select(*cols).order_by(*order))


def _search_documents(conn: Connection, zf: zipfile.ZipFile, schema: Schema) -> list[dict[str, Any]]:
    """SQLite keeps each record's search document as text: it travels along, so a restore
    need not rebuild it (PostgreSQL keeps a tsvector, which the restore rebuilds instead)."""
    if conn.dialect.name != "sqlite":
        return []
    out = []
    for obj in sorted(schema.objects, key=lambda o: o.id):
        name = naming.fts_table_name(obj.id)
        fts = sa.table(name, sa.column("rowid"), sa.column("doc"))
        cols = [fts.c.rowid, fts.c.doc]
        out.append({"object_id": obj.id, "name": name,
                    **_write_member(conn, zf, f"search/{name}.jsonl", cols, sa.select(*cols).order_by(fts.c.rowid))})
    return out


def _write_member(conn: Connection, zf: zipfile.ZipFile, member: str, cols: list[Any], select: Any) -> dict[str, Any]:
    digest = hashlib.sha256()
    count = 0
    with zf.open(member, "w", force_zip64=True) as out:
        def put(line: str) -> None:
            data = (line + "\n").encode("utf-8")
            digest.update(data)
            out.write(data)

        put(json.dumps([c.name for c in cols]))
        result = conn.execution_options(yield_per=BATCH).execute(select)
        for row in result:
            put(json.dumps([_encode(v) for v in row], ensure_ascii=False, separators=(",", ":")))
            count += 1
    return {"member": member, "rows": count, "sha256": digest.hexdigest()}


def _sequence_names(schema: Schema) -> list[str]:
    names = []
    for obj in schema.objects:
        names.append(naming.sequence_name("code", obj.id))
        names += [naming.sequence_name("auto", f.stored_id) for f in obj.user_fields if f.type == "autonumber"]
    return sorted(names)


def _sequences(conn: Connection, schema: Schema) -> dict[str, int]:
    """Each code/autonumber sequence's last number handed out (0: none yet)."""
    out: dict[str, int] = {}
    if conn.dialect.name == "postgresql":
        for name in _sequence_names(schema):
            row: Any = conn.execute(sa.text("SELECT last_value, is_called FROM " + _pg_ident(name))).one()
            out[name] = int(row[0]) if row[1] else 0
    else:
        rows = conn.execute(sa.select(SequenceRow.name, SequenceRow.value)).all()
        out = {name: int(value) for name, value in rows}
    return out


def _id_marks(conn: Connection, schema: Schema) -> dict[str, int]:
    """The highest record id each record table ever handed out (purged ids are never reused)."""
    out: dict[str, int] = {}
    for obj in schema.objects:
        name = naming.table_name(obj.id)
        if conn.dialect.name == "postgresql":
            row = conn.execute(sa.text(
                "SELECT last_value, is_called FROM " + _pg_ident(_pg_serial(conn, name, "id")))).one()
            out[name] = int(row[0]) if row[1] else 0
        else:
            seq = conn.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = :n"), {"n": name}).scalar()
            out[name] = int(seq or 0)
    return out


def _pg_serial(conn: Connection, table: str, column: str) -> str:
    found = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table, "c": column}).scalar()
    return str(found) if found else ""


def _pg_ident(name: str) -> str:
    """Sequence names come from ``naming`` or from PostgreSQL itself; refuse anything else."""
    if not name or not all(part.replace("_", "").isalnum() for part in name.replace('"', "").split(".")):
        raise ValueError(f"bad sequence name {name!r}")
    return name


def _manifest_checksum(manifest: dict[str, Any]) -> str:
    body = {k: v for k, v in manifest.items() if k != "checksum"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


# ---- verify --------------------------------------------------------------------------------------
def verify(source: str | IO[bytes]) -> dict[str, Any]:
    """The archive's manifest after checking its format, version and every checksum."""
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        raise ValidationError({"file": "is not a cardbase backup (not a zip archive)"}) from None
    with zf:
        try:
            manifest = json.loads(zf.read("manifest.json"))
        except (KeyError, ValueError):
            raise ValidationError({"file": "is not a cardbase backup (no readable manifest.json)"}) from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValidationError({"file": "is not a cardbase backup (unknown format)"})
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise ValidationError({"format_version": f"the backup has format version {version}; this cardbase reads "
                                                     f"versions up to {FORMAT_VERSION}: update cardbase first"})
        if manifest.get("checksum") != _manifest_checksum(manifest):
            raise ValidationError({"checksum": "the manifest's checksum does not match: the archive was changed "
                                               "or damaged"})
        for entry in [*manifest["tables"], *manifest.get("search", [])]:
            digest = hashlib.sha256()
            try:
                with zf.open(entry["member"]) as fh:
                    for chunk in iter(lambda: fh.read(1 << 20), b""):
                        digest.update(chunk)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise ValidationError({"checksum": f"{entry['member']} cannot be read ({exc})"}) from None
            if digest.hexdigest() != entry["sha256"]:
                raise ValidationError({"checksum": f"{entry['member']} does not match its checksum: "
                                                   "the archive was changed or damaged"})
    return manifest


# ---- restore -------------------------------------------------------------------------------------
def restore(db: Database, source: str) -> dict[str, Any]:
    """Restore the archive at ``source`` into the empty instance ``db`` (all or nothing)."""
    manifest = verify(source)
    db.create_system_tables()
    with zipfile.ZipFile(source) as zf, db.write() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(ObjectType)).scalar():
            raise ValidationError({"database": "is not empty: restore only into a new instance "
                                               "(cardbase init on an empty database)"})
        entries = {e["name"]: e for e in manifest["tables"]}
        known = {t.name: t for t in system_tables_in_order()}
        unknown = [e["name"] for e in manifest["tables"] if e["kind"] == "system" and e["name"] not in known]
        if unknown:
            raise ValidationError({"file": f"holds tables this cardbase does not know: {', '.join(unknown)}"})
        current = int(conn.execute(sa.select(MetaState.schema_version).where(MetaState.id == 1)).scalar() or 1)
        for table in reversed(system_tables_in_order()):
            conn.execute(sa.delete(table))
        conn.execute(sa.delete(SequenceRow))
        for table in system_tables_in_order():
            if table.name in entries:
                _load(conn, zf, entries[table.name], table)
        schema = load_schema(conn)
        physical = PhysicalSchema(conn)
        created: set[int] = set()
        forward: list[tuple[Any, Any]] = []  # links to tables not created yet: added after them
        for obj in sorted(schema.objects, key=lambda o: o.id):
            ahead = [f for f in obj.user_fields if f.type == "link" and int(f.options["target"]) not in created | {obj.id}]
            ahead += [f for f in obj.user_fields if f.ftype.stored_apart]  # junction tables: after every table
            forward += [(obj, f) for f in ahead]
            physical.create_object_table(dataclasses.replace(obj, fields=tuple(f for f in obj.fields if f not in ahead)),
                                         schema)
            created.add(obj.id)
            for f in obj.user_fields:
                if f.type == "autonumber":
                    physical.create_sequence(naming.sequence_name("auto", f.stored_id))
                extra = [sa.Column(name, type_, nullable=True) for name, type_ in f.ftype.extra_columns(f)]
                if extra:
                    physical.add_columns(obj, extra)
        for obj, f in forward:
            physical.add_field(obj, f, schema)
        later: list[tuple[sa.Table, str, list[dict[str, Any]]]] = []
        loaded: set[int] = set()
        for obj in sorted(schema.objects, key=lambda o: o.id):
            table = schema.table(obj)
            deferred = [c for f in obj.user_fields if f.type == "link"
                        and int(f.options["target"]) not in loaded for c in f.column_names]
            later += _load(conn, zf, entries[table.name], table, deferred)
            loaded.add(obj.id)
        for table, column, rows in later:
            conn.execute(sa.update(table).where(table.c.id == sa.bindparam("_id"))
                         .values({column: sa.bindparam("_v", type_=table.c[column].type)}), rows)
        for _obj, field in _multi_links(schema):  # every record is in: the links between them
            junction = junction_table(field)
            if junction.name in entries:
                _load(conn, zf, entries[junction.name], junction)
        _restore_counters(conn, schema, manifest)
        documents = {e["object_id"]: e for e in manifest.get("search", [])}
        for obj in schema.objects:
            if obj.id in documents:
                _load_documents(conn, zf, obj, documents[obj.id]["member"])
            else:
                _reindex(conn, schema, obj)
        version = max(int(manifest.get("schema_version") or 1), current)
        conn.execute(sa.update(MetaState).where(MetaState.id == 1).values(schema_version=version))
        bump_version(conn)
    db.schema_cache.invalidate()
    return manifest


def _rows(zf: zipfile.ZipFile, member: str) -> Iterator[list[Any]]:
    with zf.open(member) as fh:
        for raw in fh:
            yield json.loads(raw)


def _load(conn: Connection, zf: zipfile.ZipFile, entry: dict[str, Any], table: sa.Table,
          deferred: list[str] | None = None) -> list[tuple[sa.Table, str, list[dict[str, Any]]]]:
    """Insert a member's rows; ``deferred`` columns are inserted empty and returned as
    (table, column, [{_id, _v}]) to be set once every table is in."""
    rows = _rows(zf, entry["member"])
    names = next(rows)
    missing = [n for n in names if n not in table.c]
    if missing:
        raise ValidationError({"file": f"{entry['name']} has columns this instance does not: {', '.join(missing)}"})
    decoders = [_decoder(table.c[n]) for n in names]
    deferred = deferred or []
    later: dict[str, list[dict[str, Any]]] = {c: [] for c in deferred}
    batch: list[dict[str, Any]] = []
    stmt = sa.insert(table)
    for row in rows:
        values = {n: d(v) for n, d, v in zip(names, decoders, row)}
        for c in deferred:
            if values.get(c) is not None:
                later[c].append({"_id": values["id"], "_v": values[c]})
                values[c] = None
        batch.append(values)
        if len(batch) >= BATCH:
            conn.execute(stmt, batch)
            batch = []
    if batch:
        conn.execute(stmt, batch)
    return [(table, c, rows_) for c, rows_ in later.items() if rows_]


def _restore_counters(conn: Connection, schema: Schema, manifest: dict[str, Any]) -> None:
    """Sequences where they were; ids continue after the highest ever handed out."""
    sequences = manifest.get("sequences") or {}
    marks = manifest.get("id_marks") or {}
    postgres = conn.dialect.name == "postgresql"
    for name in _sequence_names(schema):
        value = int(sequences.get(name, 0))
        if postgres:
            conn.execute(sa.text("SELECT setval(:n, :v, :called)"),
                         {"n": name, "v": max(value, 1), "called": value > 0})
        else:
            conn.execute(sa.update(SequenceRow).where(SequenceRow.name == name).values(value=value))
    for table in system_tables_in_order():
        if postgres and "id" in table.c and table.c.id.primary_key:
            seq = _pg_serial(conn, table.name, "id")
            if seq:
                conn.execute(sa.text(f"SELECT setval(:s, COALESCE((SELECT max(id) FROM {table.name}), 0) + 1, false)"),
                             {"s": seq})
    for obj in schema.objects:
        name = naming.table_name(obj.id)
        top: int = conn.execute(sa.text(f"SELECT COALESCE(max(id), 0) FROM {name}")).scalar_one()
        mark = max(int(marks.get(name, 0)), int(top))
        if postgres:
            conn.execute(sa.text("SELECT setval(:s, :v, :called)"),
                         {"s": _pg_serial(conn, name, "id"), "v": max(mark, 1), "called": mark > 0})
        elif mark:
            if conn.execute(sa.text("SELECT 1 FROM sqlite_sequence WHERE name = :n"), {"n": name}).first():
                conn.execute(sa.text("UPDATE sqlite_sequence SET seq = :v WHERE name = :n"), {"n": name, "v": mark})
            else:
                conn.execute(sa.text("INSERT INTO sqlite_sequence(name, seq) VALUES (:n, :v)"), {"n": name, "v": mark})


def _load_documents(conn: Connection, zf: zipfile.ZipFile, obj: Any, member: str) -> None:
    rows = _rows(zf, member)
    next(rows)  # the column names
    batch: list[tuple[int, str]] = []
    for rid, doc in rows:
        batch.append((int(rid), doc))
        if len(batch) >= BATCH:
            search_index.write(conn, obj, batch, replace=False)
            batch = []
    search_index.write(conn, obj, batch, replace=False)


def _reindex(conn: Connection, schema: Schema, obj: Any) -> None:
    """The search documents of the live records, rebuilt from the records themselves."""
    table = schema.table(obj)
    last = 0
    while True:
        ids: list[int] = list(conn.execute(sa.select(table.c.id).where(table.c.id > last, table.c.deleted_at.is_(None))
                                .order_by(table.c.id).limit(BATCH)).scalars())
        if not ids:
            return
        records = reader.fetch_records(conn, schema, obj, ids)
        search_index.write(conn, obj, [(rid, search_index.document(obj, records[rid])) for rid in ids if rid in records],
                           replace=False)
        last = ids[-1]


def build_tables(schema: Schema) -> dict[str, sa.Table]:
    """Every table a backup holds, by name (for comparing two instances)."""
    meta = sa.MetaData()
    out = {t.name: t for t in system_tables_in_order()}
    for obj in schema.objects:
        out[naming.table_name(obj.id)] = build_table(obj, meta, schema)
    for _obj, field in _multi_links(schema):
        out[naming.links_table_name(field.stored_id)] = junction_table(field, meta)
    return out


def _multi_links(schema: Schema) -> list[tuple[Any, Any]]:
    """(object, field) of every multi-link field, whose values are a junction table."""
    return [(obj, f) for obj in sorted(schema.objects, key=lambda o: o.id) for f in obj.user_fields
            if f.ftype.stored_apart]
