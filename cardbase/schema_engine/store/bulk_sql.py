"""One INSERT compiled once for many rows.

SQLAlchemy builds a parameter dict per row and statement, which costs more than the
database's own work for wide rows; bulk writes (imports, the benchmark) compile the
statement once, run each column's own bind processor (so types are converted exactly as
Core would) and hand the rows to the driver's executemany. Still fully parameterised.
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection


def insert_many(conn: Connection, table: sa.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    if not rows:
        return
    columns = list(rows[0].keys())
    dialect = conn.dialect
    compiled = sa.insert(table).compile(dialect=dialect, column_keys=columns)
    procs = {c: table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns}
    order = list(compiled.positiontup) if compiled.positional else columns
    steps = [(name, procs[name]) for name in order]
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

    if compiled.positional:
        params: list = [tuple(convert(n, p, row.get(n)) for n, p in steps) for row in rows]
    else:
        params = [{n: convert(n, p, row.get(n)) for n, p in steps} for row in rows]
    conn.exec_driver_sql(compiled.string, params)
