"""The WHERE of every read of an object, in one place so lists, counts, single records
and reports can never disagree on what a reader sees: live or trashed rows, the filter
tree, the full-text search and the rights system's row filter."""
from __future__ import annotations

from typing import Any, Callable, Union

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from .. import search_index
from .filters import compile_filter
from .paths import FieldAllowed, JoinBuilder

RowFilter = Union[ColumnElement, Callable[[sa.Table], ColumnElement], None]


def row_filter_clause(row_filter: RowFilter, table: Any) -> ColumnElement | None:
    """The rights system's extra WHERE: a clause, or a callable that makes one for ``table``."""
    if row_filter is None or isinstance(row_filter, ClauseElement):
        return row_filter
    return row_filter(table)


def conditions(joins: JoinBuilder, *, filter: Any = None, search: str | None = None,
               row_filter: RowFilter = None, field_allowed: FieldAllowed | None = None,
               trash: bool | None = False) -> list[ColumnElement]:
    """WHERE terms over ``joins`` (which gains the joins the filter paths need).
    ``trash``: False live rows, True trashed rows, None both."""
    table = joins.base
    out: list[ColumnElement] = []
    if trash is False:
        out.append(table.c.deleted_at.is_(None))
    elif trash is True:
        out.append(table.c.deleted_at.is_not(None))
    clause = compile_filter(joins, filter, field_allowed=field_allowed)
    if clause is not None:
        out.append(clause)
    if search:
        ids = search_index.match_ids(joins.obj, joins.schema.dialect, search)
        if ids is not None:
            out.append(table.c.id.in_(ids))
    rights = row_filter_clause(row_filter, table)
    if rights is not None:
        out.append(rights)
    return out


def is_unfiltered(filter: Any, search: str | None, row_filter: RowFilter, trash: bool | None) -> bool:
    """True when a count is of the whole live table (statistics may answer it)."""
    return (filter is None or filter == {}) and not (search and search_index.terms(search)) \
        and row_filter is None and trash is False
