"""Cheap counts. An exact count(*) reads every matching row, which a list of a million
records must not pay on each page; so counts are exact up to a cap and estimated beyond:
PostgreSQL's planner knows roughly how many rows a query returns (EXPLAIN) and how many
a table holds (pg_class.reltuples); SQLite knows neither, so it answers "at least cap".
"""
from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

DEFAULT_CAP = 10_000


class _Explain(Executable, ClauseElement):
    """``EXPLAIN (FORMAT JSON) <select>`` with the select's bound parameters intact."""

    inherit_cache = False

    def __init__(self, stmt: sa.Select):
        self.stmt = stmt


@compiles(_Explain, "postgresql")
def _compile_explain(element: _Explain, compiler, **kw) -> str:
    return "EXPLAIN (FORMAT JSON) " + compiler.process(element.stmt, **kw)


def count_rows(conn: Connection, rows: sa.Select, *, cap: int = DEFAULT_CAP,
               table: sa.Table | None = None) -> tuple[int, bool]:
    """(count, is_estimate) of the rows ``rows`` selects. Pass ``table`` when ``rows`` is
    the table's unfiltered list, so PostgreSQL may answer from its statistics."""
    capped = sa.select(sa.func.count()).select_from(rows.limit(cap + 1).subquery("capped"))
    exact = conn.execute(capped).scalar_one()
    if exact <= cap:
        return exact, False
    if conn.dialect.name != "postgresql":
        return cap, True
    estimate = reltuples(conn, table.name) if table is not None else None
    if estimate is None:
        estimate = planner_rows(conn, rows)
    return max(estimate, cap), True


def reltuples(conn: Connection, table_name: str) -> int | None:
    """PostgreSQL's row count of a table from its statistics, scaled like the planner
    does by how much the table grew since (tuples per page x pages now); None if the
    table was never analysed."""
    value = conn.execute(sa.text(
        "SELECT CASE WHEN c.reltuples < 0 OR c.relpages = 0 THEN NULL "
        "ELSE c.reltuples / c.relpages * (pg_relation_size(c.oid) / current_setting('block_size')::int) END "
        "FROM pg_class c WHERE c.oid = to_regclass(:name)"), {"name": table_name}).scalar()
    return int(value) if value is not None else None


def planner_rows(conn: Connection, rows: sa.Select) -> int:
    """The planner's estimate of how many rows ``rows`` returns."""
    plan: Any = conn.execute(_Explain(rows)).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
