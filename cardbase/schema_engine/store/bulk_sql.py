"""One INSERT compiled once for many rows.

SQLAlchemy builds a parameter dict per row and statement, which costs more than the
database's own work for wide rows; bulk writes (imports, the benchmark) compile the
statement once, run each column's own bind processor (so types are converted exactly as
Core would) and hand the rows to the driver's executemany. Still fully parameterised.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection


_COMPILED: OrderedDict = OrderedDict()  # (table, columns, dialect) -> (SQL, positional, steps)
_COMPILED_SIZE = 512
_lock = threading.Lock()


def _compiled(conn: Connection, table: sa.Table, columns: tuple[str, ...]) -> tuple[str, bool, list]:
    """The INSERT for these columns, compiled once per table object (tables belong to an
    immutable schema snapshot or are system tables) -- single-record writes run three of
    them, and compiling costs more than executing."""
    dialect = conn.dialect
    key = (table, columns, dialect.name)
    with _lock:
        found = _COMPILED.get(key)
        if found is not None:
            _COMPILED.move_to_end(key)
            return found
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=list(columns))
    procs = {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns}
    positions = compiled.positiontup  # set when the dialect's parameters are positional
    order = list(positions) if compiled.positional and positions is not None else list(columns)
    found = (compiled.string, bool(compiled.positional), [(name, procs[name]) for name in order])
    with _lock:
        _COMPILED[key] = found
        while len(_COMPILED) > _COMPILED_SIZE:
            _COMPILED.popitem(last=False)
    return found


def insert_many(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    sql, positional, steps = _compiled(conn, table, tuple(rows[0].keys()))
    last: dict[str, tuple[Any, Any]] = {}  # a batch shares timestamps and actors: convert once

    def convert(name: str, proc, value: Any) -> Any:
        if proc is None or value is None:
            return value
        seen = last.get(name)
        if seen is not None and seen[0] is value:
            return seen[1]
        out = proc(value)
        last[name] = (value, out)
        return out

    if positional:
        params: list = [tuple(convert(n, p, row.get(n)) for n, p in steps) for row in rows]
    else:
        params = [{n: convert(n, p, row.get(n)) for n, p in steps} for row in rows]
    conn.exec_driver_sql(sql, params)
