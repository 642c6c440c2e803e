"""``cardbase check``: compare what the metadata says with what the database has.

Reports tables, columns, indexes, search indexes and sequences that are missing,
unexpected or of the wrong type, so a hand edit or a failed deploy never goes unnoticed.
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from . import naming
from .errors import CardbaseError
from .meta_models import Base, RecomputeJob, SequenceRow
from .physical import PhysicalSchema, junction_index_name, system_columns
from .snapshot import ObjectInfo, Schema, load_schema


def check_drift(db) -> list[str]:
    """Every difference found, as one readable line each; empty when all agree."""
    with db.read() as conn:
        schema = load_schema(conn)
        return _check(conn, schema)


def unfinished_jobs(db) -> list[str]:
    """Recalculations of computed fields that have not finished (a crash, or a job that
    keeps failing), one readable line each: until they finish, a new field's values are
    missing or a changed definition's values are still the old ones."""
    jobs = RecomputeJob.__table__
    with db.read() as conn:
        schema = load_schema(conn)
        rows = conn.execute(sa.select(jobs).where(jobs.c.status == "running").order_by(jobs.c.id)).mappings().all()
    out = []
    for job in rows:
        try:
            field = schema.field_by_id(job["field_id"])
            name = f"'{schema.object(field.object_id).api_name}.{field.api_name}'"
        except CardbaseError:
            name = f"#{job['field_id']} (removed)"
        what = "filling its values" if job["mode"] == "fill" else "computing its changed definition"
        out.append(f"field {name}: recalculation job {job['id']} ({job['mode']}: {what}) is unfinished, "
                   f"{job['processed']}/{job['total']} records done, last progress {job['updated_at']:%Y-%m-%d %H:%M:%S} "
                   "UTC; `cardbase recompute` (or starting the server) finishes it")
    return out


def _check(conn: Connection, schema: Schema) -> list[str]:
    problems: list[str] = []
    insp = sa.inspect(conn)
    live_tables = set(insp.get_table_names())
    for name in Base.metadata.tables:
        if name not in live_tables:
            problems.append(f"system table {name} is missing")
    expected_tables = set()
    for obj in schema.objects:
        expected_tables.add(obj.table_name)
        expected_tables.add(naming.fts_table_name(obj.id))
        if obj.table_name not in live_tables:
            problems.append(f"object '{obj.api_name}': table {obj.table_name} is missing")
            continue
        problems.extend(_check_columns(conn, insp, schema, obj))
        problems.extend(_check_indexes(conn, insp, obj))
        if naming.fts_table_name(obj.id) not in live_tables:
            problems.append(f"object '{obj.api_name}': search index {naming.fts_table_name(obj.id)} is missing")
        problems.extend(_check_sequences(conn, obj))
        problems.extend(_check_junctions(insp, obj, live_tables, expected_tables))
    for name in sorted(live_tables):
        if name.startswith(("obj_", "lnk_")) and name not in expected_tables \
                and not _fts_shadow(name, expected_tables):
            problems.append(f"table {name} exists but no object uses it")
    return problems


def _check_junctions(insp, obj: ObjectInfo, live_tables: set[str], expected: set[str]) -> list[str]:
    """Each multi-link field's junction table, its columns and its index on target_id."""
    out = []
    for f in obj.user_fields:
        if not f.ftype.stored_apart:
            continue
        name = naming.links_table_name(f.stored_id)
        expected.add(name)
        if name not in live_tables:
            out.append(f"object '{obj.api_name}': junction table {name} of field '{f.api_name}' is missing")
            continue
        columns = {c["name"] for c in insp.get_columns(name)}
        for column in sorted({"source_id", "target_id", "position"} - columns):
            out.append(f"object '{obj.api_name}': column {column} of junction table {name} is missing")
        if junction_index_name(f) not in {i["name"] for i in insp.get_indexes(name)}:
            out.append(f"object '{obj.api_name}': index {junction_index_name(f)} is missing")
    return out


def _fts_shadow(name: str, expected: set[str]) -> bool:
    """SQLite FTS5 keeps shadow tables (``<fts>_data`` …) next to the virtual table."""
    return any(name.startswith(t + "_") for t in expected if t.endswith("_fts"))


def _type_family(t: sa.types.TypeEngine) -> str:
    for family, kinds in (("integer", (sa.Integer,)), ("numeric", (sa.Numeric,)), ("boolean", (sa.Boolean,)),
                          ("datetime", (sa.DateTime,)), ("date", (sa.Date,)), ("text", (sa.String, sa.Text))):
        if isinstance(t, kinds):
            return family
    return type(t).__name__.lower()


def _compatible(expected: sa.types.TypeEngine, live: sa.types.TypeEngine, dialect: str) -> bool:
    want, got = _type_family(expected), _type_family(live)
    if want == got:
        want_length, live_length = getattr(expected, "length", None), getattr(live, "length", None)
        if want == "text" and want_length and live_length:
            return want_length == live_length
        return True
    # SQLite reflects what was declared; PostgreSQL may report NUMERIC as numeric and BOOLEAN as boolean.
    return dialect == "sqlite" and {want, got} <= {"integer", "boolean"}


def _check_columns(conn, insp, schema: Schema, obj: ObjectInfo) -> list[str]:
    out = []
    live = {c["name"]: c for c in insp.get_columns(obj.table_name)}
    expected: dict[str, sa.types.TypeEngine] = {c.name: c.type for c in system_columns()}
    owner: dict[str, str] = {c: "system" for c in expected}
    for f in obj.user_fields:
        for spec, name in zip(f.column_specs, f.column_names):
            expected[name] = spec.type
            owner[name] = f"field '{f.api_name}'"
        for name, type_ in f.ftype.extra_columns(f):
            expected[name] = type_
            owner[name] = f"field '{f.api_name}' (being recomputed)"
    for name, typ in expected.items():
        if name not in live:
            out.append(f"object '{obj.api_name}': column {name} of {owner[name]} is missing")
        elif not _compatible(typ, live[name]["type"], conn.dialect.name):
            out.append(f"object '{obj.api_name}': column {name} of {owner[name]} has type "
                       f"{live[name]['type']}, expected {typ.compile(dialect=conn.dialect)}")
    for name in live:
        if name not in expected:
            out.append(f"object '{obj.api_name}': column {name} exists but no field uses it")
    return out


def _check_indexes(conn, insp, obj: ObjectInfo) -> list[str]:
    live = {i["name"] for i in insp.get_indexes(obj.table_name)}
    ddl = PhysicalSchema(conn)
    wanted = {f"ux_{obj.table_name}_code"} | {f"ix_{obj.table_name}_{c}" for c in ("created_at", "modified_at", "owner_id")}
    for f in obj.user_fields:
        wanted |= {name for name, _c, _u in ddl.field_index_names(obj, f)}
    return [f"object '{obj.api_name}': index {name} is missing" for name in sorted(wanted - live)]


def _check_sequences(conn, obj: ObjectInfo) -> list[str]:
    names = [naming.sequence_name("code", obj.id)] + [
        naming.sequence_name("auto", f.stored_id) for f in obj.user_fields if f.type == "autonumber"]
    out = []
    for name in names:
        if conn.dialect.name == "postgresql":
            exists = conn.execute(sa.text("SELECT 1 FROM pg_class WHERE relkind = 'S' AND relname = :n"),
                                  {"n": name}).first()
        else:
            exists = conn.execute(sa.select(SequenceRow.name).where(SequenceRow.name == name)).first()
        if not exists:
            out.append(f"object '{obj.api_name}': sequence {name} is missing")
    return out
