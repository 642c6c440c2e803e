"""Physical DDL for record tables, run on the live connection with Alembic Operations.

SQLite uses Alembic's batch mode with ``recreate="never"``: SQLite >= 3.35 can add, drop
and rename columns in place, so no table is ever copied and adding a field to a table of
a million rows stays instant. Every call runs inside the caller's transaction, so the
DDL commits or rolls back together with the metadata rows.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import sqlalchemy as sa
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

from . import naming
from .meta_models import SequenceRow
from .snapshot import FieldInfo, ObjectInfo, system_columns

__all__ = ["PhysicalSchema", "indexed_columns", "system_columns"]


SYSTEM_INDEXED = ("id", "code", "created_at", "modified_at", "owner_id")


def indexed_columns(obj: ObjectInfo) -> frozenset[str]:
    """Columns of an object's table that lead an index (what a sort can walk)."""
    cols = set(SYSTEM_INDEXED)
    for f in obj.user_fields:
        for spec, name in zip(f.column_specs, f.column_names):
            if spec.suffix == "" and (f.unique or spec.indexed):
                cols.add(name)
    return frozenset(cols)


def junction_index_name(field: FieldInfo) -> str:
    return f"ix_{naming.links_table_name(field.stored_id)}_target"


def _live_where(dialect: str) -> dict:
    """Partial-index clause: unique values are unique among live (not trashed) records."""
    clause = sa.text("deleted_at IS NULL")
    return {"sqlite_where": clause, "postgresql_where": clause}


class PhysicalSchema:
    """DDL for one transaction. Names come only from ``naming`` (generated from ids)."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.dialect = conn.dialect.name
        self.op = Operations(MigrationContext.configure(conn))

    @contextmanager
    def _alter(self, table: str) -> Iterator:
        if self.dialect == "sqlite":
            with self.op.batch_alter_table(table, recreate="never") as batch:
                yield batch
        else:
            yield _DirectAlter(self.op, table)

    # ---- objects -------------------------------------------------------------------------
    def create_object_table(self, obj: ObjectInfo, schema) -> None:
        table = obj.table_name
        cols = system_columns(with_fks=True)
        for f in obj.user_fields:
            cols.extend(self._field_columns(f, schema))
        # AUTOINCREMENT on SQLite: ids of purged records are never handed out again,
        # so history and links can never mix up two records.
        self.op.create_table(table, *cols, sqlite_autoincrement=True)
        self.op.create_index(f"ux_{table}_code", table, ["code"], unique=True, **_live_where(self.dialect))
        for col in ("created_at", "modified_at", "owner_id"):
            self.op.create_index(f"ix_{table}_{col}", table, self._sort_order(col))
        for f in obj.user_fields:
            self._create_field_indexes(obj, f)
            if f.ftype.stored_apart:
                self.create_junction_table(obj, f)
        self.create_search_index(obj)
        self.create_sequence(naming.sequence_name("code", obj.id))

    def drop_object_table(self, obj: ObjectInfo) -> None:
        for f in obj.user_fields:
            if f.ftype.stored_apart:
                self.drop_junction_table(f)
        self.drop_search_index(obj)
        self.op.drop_table(obj.table_name)
        self.drop_sequence(naming.sequence_name("code", obj.id))
        for f in obj.user_fields:
            if f.type == "autonumber":
                self.drop_sequence(naming.sequence_name("auto", f.stored_id))

    # ---- fields --------------------------------------------------------------------------
    def _field_columns(self, field: FieldInfo, schema) -> list[sa.Column]:
        cols = []
        fk = field.ftype.foreign_key(field, schema)
        for spec, name in zip(field.column_specs, field.column_names):
            args = [sa.ForeignKey(fk)] if (fk and spec.suffix == "") else []
            cols.append(sa.Column(name, spec.type, *args, nullable=True))
        return cols

    def add_field(self, obj: ObjectInfo, field: FieldInfo, schema) -> None:
        if field.ftype.stored_apart:
            self.create_junction_table(obj, field)
            return
        self.add_columns(obj, self._field_columns(field, schema))
        self._create_field_indexes(obj, field)
        if field.type == "autonumber":
            self.create_sequence(naming.sequence_name("auto", field.stored_id))

    def drop_field(self, obj: ObjectInfo, field: FieldInfo) -> None:
        if field.ftype.stored_apart:
            self.drop_junction_table(field)
            return
        self._drop_field_indexes(obj, field)
        with self._alter(obj.table_name) as batch:
            for name in field.column_names:
                batch.drop_column(name)
        if field.type == "autonumber":
            self.drop_sequence(naming.sequence_name("auto", field.stored_id))

    def rename_field_columns(self, obj: ObjectInfo, old_names: tuple[str, ...], new_names: tuple[str, ...]) -> None:
        with self._alter(obj.table_name) as batch:
            for old, new in zip(old_names, new_names):
                if old != new:
                    batch.alter_column(old, new_column_name=new)

    def add_columns(self, obj: ObjectInfo, columns: list[sa.Column]) -> None:
        plain = [c for c in columns if not (c.foreign_keys and self.dialect == "sqlite")]
        with self._alter(obj.table_name) as batch:
            for col in plain:
                batch.add_column(col)
        for col in columns:
            if col not in plain:
                self._sqlite_add_fk_column(obj.table_name, col)

    def _sqlite_add_fk_column(self, table: str, col: sa.Column) -> None:
        """SQLite can add a REFERENCES column in place, but Alembic would turn the
        constraint into a table copy; emit it directly (all names are generated)."""
        (fk,) = col.foreign_keys
        target_table, target_col = fk.target_fullname.split(".")
        type_sql = col.type.compile(dialect=self.conn.dialect)
        self.conn.exec_driver_sql(
            f'ALTER TABLE "{table}" ADD COLUMN "{col.name}" {type_sql} '
            f'REFERENCES "{target_table}"("{target_col}")')

    def drop_columns(self, obj: ObjectInfo, names: list[str]) -> None:
        with self._alter(obj.table_name) as batch:
            for name in names:
                batch.drop_column(name)

    def field_index_names(self, obj: ObjectInfo, field: FieldInfo) -> list[tuple[str, str, bool]]:
        """(index name, column, unique) for the indexes a field should have."""
        out = []
        for spec, name in zip(field.column_specs, field.column_names):
            if spec.suffix == "" and field.unique:
                out.append((f"ux_{obj.table_name}_{name}", name, True))
            elif spec.indexed:
                out.append((f"ix_{obj.table_name}_{name}", name, False))
        return out

    def _sort_order(self, column: str) -> list:
        """Index key in the order lists sort by: empty values first (SQLite's native
        order). PostgreSQL puts NULLs last by default, so its indexes say NULLS FIRST to
        serve ``ORDER BY x [DESC]`` by an index scan on both engines."""
        if self.dialect == "postgresql":
            return [sa.text(f'"{column}" NULLS FIRST')]
        return [column]

    def create_field_index(self, table: str, index: str, column: str, unique: bool,
                           fold: str | None = None) -> None:
        """``fold`` ("lower"): a unique index on lower(column), the type's comparison."""
        kw = _live_where(self.dialect) if unique else {}
        key = [sa.text(f'lower("{column}")')] if unique and fold == "lower" else self._sort_order(column)
        self.op.create_index(index, table, key, unique=unique, **kw)

    def create_indexes_of(self, obj: ObjectInfo, field: FieldInfo) -> None:
        """Every index ``field`` should have, unique ones compared as its type compares."""
        for index, column, unique in self.field_index_names(obj, field):
            self.create_field_index(obj.table_name, index, column, unique, field.ftype.unique_fold)

    def _create_field_indexes(self, obj: ObjectInfo, field: FieldInfo) -> None:
        self.create_indexes_of(obj, field)

    def _drop_field_indexes(self, obj: ObjectInfo, field: FieldInfo) -> None:
        for index, _column, _unique in self.field_index_names(obj, field):
            self.op.drop_index(index, table_name=obj.table_name)

    def reindex_field(self, obj: ObjectInfo, old: FieldInfo, new: FieldInfo) -> None:
        """Bring a field's indexes from what ``old`` needed to what ``new`` needs."""
        before = {i[0]: i for i in self.field_index_names(obj, old)}
        after = {i[0]: i for i in self.field_index_names(obj, new)}
        for name in before.keys() - after.keys():
            self.op.drop_index(name, table_name=obj.table_name)
        for name in after.keys() - before.keys():
            _n, column, unique = after[name]
            self.create_field_index(obj.table_name, name, column, unique, new.ftype.unique_fold)

    # ---- junction tables (multi-links) -------------------------------------------------------
    def create_junction_table(self, obj: ObjectInfo, field: FieldInfo) -> None:
        """A multi-link's values: (source_id, target_id) once each, in ``position`` order.
        Purging either record removes its rows (ON DELETE CASCADE); a trashed target keeps
        them (restoring it brings the link back) and readers skip it. target_id is
        indexed: "records linking to X" and deleting X are lookups, not scans."""
        name = naming.links_table_name(field.stored_id)
        target = naming.table_name(int(field.options["target"]))
        self.op.create_table(
            name,
            sa.Column("source_id", sa.BigInteger, sa.ForeignKey(f"{obj.table_name}.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("target_id", sa.BigInteger, sa.ForeignKey(f"{target}.id", ondelete="CASCADE"), nullable=False),
            sa.Column("position", sa.Integer, nullable=False),
            sa.PrimaryKeyConstraint("source_id", "target_id", name=f"pk_{name}"))
        self.op.create_index(junction_index_name(field), name, ["target_id"])

    def drop_junction_table(self, field: FieldInfo) -> None:
        self.op.drop_table(naming.links_table_name(field.stored_id))

    # ---- sequences (codes and autonumbers) ---------------------------------------------------
    def create_sequence(self, name: str) -> None:
        if self.dialect == "postgresql":
            self.op.execute(sa.schema.CreateSequence(sa.Sequence(name)))
        else:
            self.conn.execute(sa.insert(SequenceRow).values(name=name, value=0))

    def drop_sequence(self, name: str) -> None:
        if self.dialect == "postgresql":
            self.op.execute(sa.schema.DropSequence(sa.Sequence(name)))
        else:
            self.conn.execute(sa.delete(SequenceRow).where(SequenceRow.name == name))

    # ---- full-text search -------------------------------------------------------------------
    def create_search_index(self, obj: ObjectInfo) -> None:
        name = naming.fts_table_name(obj.id)
        if self.dialect == "sqlite":
            self.conn.exec_driver_sql(
                f"CREATE VIRTUAL TABLE {name} USING fts5(doc, tokenize='unicode61 remove_diacritics 2')")
        else:
            self.op.create_table(name, sa.Column("id", sa.BigInteger, primary_key=True),
                                 sa.Column("doc", sa.dialects.postgresql.TSVECTOR, nullable=False))
            self.op.create_index(f"ix_{name}_doc", name, ["doc"], postgresql_using="gin")

    def drop_search_index(self, obj: ObjectInfo) -> None:
        name = naming.fts_table_name(obj.id)
        if self.dialect == "sqlite":
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
        else:
            self.op.drop_table(name)


class _DirectAlter:
    """The batch interface over plain Operations (PostgreSQL alters in place)."""

    def __init__(self, op: Operations, table: str):
        self.op, self.table = op, table

    def add_column(self, col: sa.Column) -> None:
        self.op.add_column(self.table, col)

    def drop_column(self, name: str) -> None:
        self.op.drop_column(self.table, name)

    def alter_column(self, name: str, **kw) -> None:
        self.op.alter_column(self.table, name, **kw)
