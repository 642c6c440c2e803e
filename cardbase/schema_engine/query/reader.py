"""The read side of the record store: pages, single records, batches and counts.

Each read is one SQL statement (plus one capped count for a page): the output fields,
the display values of links and users, the filter, search, rights row filter, sort and
keyset position are all compiled into it, so a page costs the same two queries whatever
it shows. Callers (the store) pass the rights: ``row_filter`` narrows the rows,
``field_allowed`` hides fields -- a hidden field is refused everywhere exactly like an
unknown one.
"""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import ValidationError
from ..snapshot import ObjectInfo, Schema
from . import cursor as cursors
from .count import DEFAULT_CAP, count_rows
from .model import ListQuery, Page
from .paths import FieldAllowed, JoinBuilder, LinkFilter
from .plan import sort_index_column, walk_sort_index
from .projection import Projection, build_projection
from .scope import RowFilter, conditions, is_unfiltered
from .sort import build_sort, order_by

ID_CHUNK = 10_000  # ids per IN (...) list, well below SQLite's bound-parameter limit
# A list page counts exactly up to here and estimates beyond ("1,000+"): scanning more
# matching rows on every page would cost more than the page itself.
PAGE_COUNT_CAP = 1_000


def fetch_page(conn: Connection, schema: Schema, obj: ObjectInfo, query: ListQuery, *,
               row_filter: RowFilter = None, field_allowed: FieldAllowed | None = None,
               with_count: bool = True, count_cap: int | None = None,
               link_filter: LinkFilter | None = None) -> Page:
    """One page of records (one statement) and, if ``with_count``, the capped count."""
    count_cap = count_cap or PAGE_COUNT_CAP
    joins = JoinBuilder(schema, obj, field_allowed=field_allowed, link_filter=link_filter)
    where = conditions(joins, filter=query.filter, search=query.search, row_filter=row_filter,
                       field_allowed=field_allowed, trash=query.trash)
    count_from = joins.from_clause()  # the count needs only the filter's joins
    keys = build_sort(joins, query.sort, field_allowed=field_allowed)
    projection = build_projection(joins, query.fields, field_allowed=field_allowed)
    count, estimate = -1, False
    sort_column = sort_index_column(obj, joins.base, keys) if conn.dialect.name == "sqlite" else None
    if with_count or (sort_column and len(where) > 1):
        table = schema.table(obj)
        unfiltered = is_unfiltered(query.filter, query.search, row_filter, query.trash)
        count, estimate = count_rows(conn, sa.select(sa.literal(1)).select_from(count_from).where(*where),
                                     cap=count_cap, table=table if unfiltered else None)
    page_where = list(where)
    if sort_column and count >= count_cap:
        page_where = walk_sort_index(page_where, joins.base, sort_column)
    scope = [query.filter, query.search, query.trash]  # a cursor is valid for this list only
    if query.cursor is not None:
        page_where.append(cursors.after(keys, cursors.decode(query.cursor, obj.id, keys, scope)))
    stmt = (sa.select(*projection.labeled(), *[k.expr.label(f"s{i}") for i, k in enumerate(keys)])
            .select_from(joins.from_clause()).where(*page_where)
            .order_by(*order_by(keys)).limit(query.limit + 1))
    if query.offset:
        stmt = stmt.offset(query.offset)
    rows = conn.execute(stmt).all()
    has_more = len(rows) > query.limit
    rows = rows[:query.limit]
    next_cursor = None
    if has_more and not query.offset:
        width = len(projection.columns)
        next_cursor = cursors.encode(obj.id, keys, list(rows[-1][width:width + len(keys)]), scope)
    if not with_count:
        count, estimate = -1, False
    records = [projection.decode(r) for r in rows]
    projection.fill(conn, records)
    return Page(records, next_cursor, count, estimate, has_more)


def fetch_records(conn: Connection, schema: Schema, obj: ObjectInfo, ids: Iterable[int],
                  fields: Sequence[str] | None = None, trash: bool | None = False,
                  field_allowed: FieldAllowed | None = None,
                  row_filter: RowFilter = None, link_filter: LinkFilter | None = None,
                  statement_key: tuple[object, tuple] | None = None) -> dict[int, dict[str, Any]]:
    """Records by id (one statement per 10,000 ids); missing or invisible ids are absent.
    ``trash``: False live only, True trashed only, None both. ``statement_key`` (the
    access's, see ``Access.statement_key``) names what ``row_filter``, ``field_allowed``
    and ``link_filter`` are: with it, the statement is built once per schema snapshot."""
    wanted = list(dict.fromkeys(_record_id(i) for i in ids))
    if not wanted:
        return {}
    stmt, projection = _records_statement(schema, obj, fields, trash, field_allowed, row_filter, link_filter,
                                          statement_key)
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(wanted), ID_CHUNK):
        for row in conn.execute(stmt, {"ids": wanted[start:start + ID_CHUNK]}):
            record = projection.decode(row)
            out[record["id"]] = record
    projection.fill(conn, list(out.values()))
    return out


STATEMENT_CACHE = 256  # statements kept per schema snapshot


def _records_statement(schema: Schema, obj: ObjectInfo, fields: Sequence[str] | None, trash: bool | None,
                       field_allowed: FieldAllowed | None, row_filter: RowFilter, link_filter: LinkFilter | None,
                       statement_key: tuple[object, tuple] | None) -> tuple[sa.Select, Projection]:
    """The SELECT of records by id (the ids an expanding parameter) and its decoder.

    Building it (joins, projection, labels) costs several times running it for one id,
    and a new statement object also pays SQLAlchemy's cache-key walk on every execution;
    so with a ``statement_key`` it is made once per snapshot, access and field list and
    kept on the (immutable) snapshot. The key's owner object is kept with the entry, so
    its id cannot be reused by another access while the entry lives."""
    key = None
    if statement_key is not None and (fields is None or all(isinstance(f, str) for f in fields)):
        owner, access_key = statement_key
        key = ("records", obj.id, None if fields is None else tuple(fields), trash, access_key)
        cache = schema.__dict__.setdefault("_record_statements", {})
        found = cache.get(key)
        if found is not None and found[0] is owner:
            return found[1], found[2]
    joins = JoinBuilder(schema, obj, field_allowed=field_allowed, link_filter=link_filter)
    where = conditions(joins, row_filter=row_filter, trash=trash)
    projection = build_projection(joins, fields, field_allowed=field_allowed)
    stmt = (sa.select(*projection.labeled()).select_from(joins.from_clause())
            .where(*where, joins.base.c.id.in_(sa.bindparam("ids", expanding=True))).order_by(joins.base.c.id))
    if key is not None:
        if len(cache) >= STATEMENT_CACHE:
            cache.clear()
        cache[key] = (owner, stmt, projection)
    return stmt, projection


def iter_records(conn: Connection, schema: Schema, obj: ObjectInfo, batch: int = 5000,
                 fields: Sequence[str] | None = None, trash: bool | None = False,
                 row_filter: RowFilter = None, field_allowed: FieldAllowed | None = None,
                 link_filter: LinkFilter | None = None) -> Iterator[list[dict[str, Any]]]:
    """Every record in id order, ``batch`` at a time (keyset on id, so memory stays flat
    and no row is skipped or repeated however big the table)."""
    if not isinstance(batch, int) or batch < 1:
        raise ValueError("batch must be a positive whole number")
    joins = JoinBuilder(schema, obj, field_allowed=field_allowed, link_filter=link_filter)
    where = conditions(joins, row_filter=row_filter, trash=trash)
    projection = build_projection(joins, fields, field_allowed=field_allowed)
    columns, source, id_col = projection.labeled(), joins.from_clause(), joins.base.c.id
    last = 0
    while True:
        stmt = (sa.select(*columns).select_from(source).where(*where, id_col > last)
                .order_by(id_col).limit(batch))
        records = [projection.decode(r) for r in conn.execute(stmt)]
        if not records:
            return
        projection.fill(conn, records)
        yield records
        if len(records) < batch:
            return
        last = records[-1]["id"]


def count_records(conn: Connection, schema: Schema, obj: ObjectInfo, filter: dict | None = None,
                  search: str | None = None, row_filter: RowFilter = None,
                  field_allowed: FieldAllowed | None = None, trash: bool = False,
                  cap: int = DEFAULT_CAP, link_filter: LinkFilter | None = None) -> tuple[int, bool]:
    """(count, is_estimate): exact up to ``cap``, estimated beyond (see count.py)."""
    if filter is not None and not isinstance(filter, dict):
        raise ValidationError({"filter": "must be a condition object"})
    joins = JoinBuilder(schema, obj, field_allowed=field_allowed, link_filter=link_filter)
    where = conditions(joins, filter=filter, search=search, row_filter=row_filter,
                       field_allowed=field_allowed, trash=trash)
    rows = sa.select(sa.literal(1)).select_from(joins.from_clause()).where(*where)
    unfiltered = is_unfiltered(filter, search, row_filter, trash)
    return count_rows(conn, rows, cap=cap, table=schema.table(obj) if unfiltered else None)


def _record_id(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError({"id": f"{value!r} is not a record id"})
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError({"id": f"{value!r} is not a record id"}) from None
