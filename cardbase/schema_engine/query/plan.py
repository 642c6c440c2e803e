"""Help SQLite pick the plan a list page needs.

A page is "the first 50 rows in sort order among those the filter matches". When many
rows match, the fast plan walks the sort column's index and stops after 50 rows; when
few match, it uses the filter's index and sorts the handful found. PostgreSQL weighs
both with its statistics and the LIMIT; SQLite's planner does not consider the LIMIT and
at a million rows would sort a sixth of the table to show 50 records. The page's capped
count, which runs anyway, tells us which case we are in: when it reached the cap, the
other WHERE terms are marked with SQLite's unary ``+`` (which keeps a term from using an
index, and changes nothing else), so the planner walks the sort index.
"""
from __future__ import annotations

from typing import Any, Sequence

from sqlalchemy.sql import operators, visitors
from sqlalchemy.sql.elements import ColumnClause, ColumnElement, UnaryExpression
from sqlalchemy.sql.selectable import Exists, FromClause, SelectBase

from ..physical import indexed_columns
from ..snapshot import ObjectInfo
from .sort import SortKey


def sort_index_column(obj: ObjectInfo, base: FromClause, keys: Sequence[SortKey]) -> str | None:
    """The base-table column of the first sort key if an index leads with it."""
    first = keys[0].expr if keys else None
    if isinstance(first, ColumnClause) and first.table is base and first.name in indexed_columns(obj):
        return first.name
    return None


def walk_sort_index(where: Sequence[ColumnElement], base: FromClause, keep: str) -> list[ColumnElement]:
    """``where`` with every other base-table column wrapped in unary ``+`` (SQLite)."""
    def replace(element: Any, **kw: Any) -> Any:
        if isinstance(element, (Exists, SelectBase)):
            return element  # a sub-query (e.g. the rights' share probe) is left as it is
        if isinstance(element, ColumnClause) and element.table is base and element.name != keep:
            return UnaryExpression(element, operator=operators.custom_op("+"), type_=element.type)
        return None

    return [visitors.replacement_traverse(term, {}, replace) for term in where]
