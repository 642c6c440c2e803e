"""The WHERE of every read of an object, in one place so lists, counts, single records
and reports can never disagree on what a reader sees: live or trashed rows, the filter
tree, the full-text search and the rights system's row filter."""
from __future__ import annotations

from typing import Any, Callable, Union

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement, ColumnElement

from .. import search_index
from .filters import compile_filter
from .paths import FieldAllowed, JoinBuilder, Path

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
        if field_allowed is not None and any(not field_allowed(f) for f in joins.obj.searchable_fields):
            clause = visible_search(joins, search, field_allowed)
            if clause is not None:
                out.append(clause)
        else:
            ids = search_index.match_ids(joins.obj, joins.schema.dialect, search)
            if ids is not None:
                out.append(table.c.id.in_(ids))
    rights = row_filter_clause(row_filter, table)
    if rights is not None:
        out.append(rights)
    return out


def visible_search(joins: JoinBuilder, search: str, field_allowed: FieldAllowed) -> ColumnElement | None:
    """Search for a reader who may not see every searchable field. The shared search
    document holds the hidden fields' text too, so matching it would tell the reader what
    they hold; instead every word must be contained in one of the *visible* searchable
    fields (each type's ``search_clause``). The answer depends on visible values only."""
    words = search_index.terms(search)
    if not words:
        return None
    fields = [f for f in joins.obj.searchable_fields if field_allowed(f)]
    per_word = []
    for word in words:
        options = [c for f in fields
                   if (c := f.ftype.search_clause(f, joins.columns(Path(f.api_name, f)), word)) is not None]
        per_word.append(sa.or_(*options) if options else sa.false())
    return sa.and_(*per_word)


def is_unfiltered(filter: Any, search: str | None, row_filter: RowFilter, trash: bool | None) -> bool:
    """True when a count is of the whole live table (statistics may answer it)."""
    return (filter is None or filter == {}) and not (search and search_index.terms(search)) \
        and row_filter is None and trash is False
