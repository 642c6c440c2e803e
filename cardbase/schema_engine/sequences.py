"""Numbers for Codes and autonumber fields without one hot counter row.

PostgreSQL: a real SEQUENCE per object (and per autonumber field); ``nextval`` never
waits for other transactions, so concurrent writers are not serialised. SQLite has one
writer at a time anyway, so a counter row updated inside the write transaction costs
nothing extra there.
"""
from __future__ import annotations

from typing import Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from .meta_models import SequenceRow


# Statements built once (every create runs them): a new Core statement per call costs more
# than executing it, and the same object also skips SQLAlchemy's cache-key walk.
_sequences = SequenceRow.__table__
_PG_NEXTVAL = sa.text("SELECT nextval(:n) FROM generate_series(1, :c)")
_SQLITE_NEXT = (sa.update(_sequences).where(_sequences.c.name == sa.bindparam("n"))
                .values(value=_sequences.c.value + sa.bindparam("c", type_=sa.Integer))
                .returning(_sequences.c.value))
_PG_IDS = sa.text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :c)")


def next_values(conn: Connection, name: str, count: int = 1) -> list[int]:
    """Reserve ``count`` consecutive-or-not numbers from sequence ``name``."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows: Sequence[int] = conn.execute(_PG_NEXTVAL, {"n": name, "c": count}).scalars().all()
        return list(rows)
    end: int = conn.execute(_SQLITE_NEXT, {"n": name, "c": count}).scalar_one()
    return list(range(end - count + 1, end + 1))


def ensure_at_least(conn: Connection, name: str, value: int) -> None:
    """Move a sequence past ``value`` (after importing records that keep their codes)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT setval(:n, GREATEST(:v, (SELECT last_value FROM " + _pg_ident(name) + ")))"),
                     {"n": name, "v": value})
    else:
        conn.execute(sa.update(SequenceRow).where(SequenceRow.name == name, SequenceRow.value < value)
                     .values(value=value))


def _pg_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"bad sequence name {name!r}")  # names are generated; this is a guard
    return name


def record_ids(conn: Connection, table: sa.Table, count: int) -> list[int]:
    """Ids for ``count`` new records, taken before the insert so a batch is one
    executemany without RETURNING (which SQLite would run row by row).

    PostgreSQL: the identity sequence of the table (never waits). SQLite: we hold the
    write lock (BEGIN IMMEDIATE), so the next ids are the AUTOINCREMENT high-water mark
    plus one onwards; inserting them moves the mark, so purged ids are never reused."""
    if count <= 0:
        return []
    if conn.dialect.name == "postgresql":
        return list(conn.execute(_PG_IDS, {"t": table.name, "c": count}).scalars())
    # One statement; the table name is generated (naming.table_name), never user text.
    start: int = conn.exec_driver_sql(
        f"SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0), "
        f"coalesce((SELECT max(id) FROM {table.name}), 0)) + 1", (table.name,)).scalar_one()
    return list(range(start, start + count))
