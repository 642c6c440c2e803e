"""Reading multi-link values (``field_types/links.py``): the linked records of many
source records in one statement -- the junction rows joined to the live targets, with
each target's display value and, when the reader's rights may hide targets, whether it
is visible. Readers fill a page with one such query per multi-link field."""
from __future__ import annotations

from typing import Any, Iterable, NamedTuple

import sqlalchemy as sa
from sqlalchemy import Connection

from ..field_types.links import junction_table
from ..snapshot import FieldInfo, Schema
from ..values import LinkRef
from .paths import FieldAllowed, JoinBuilder, LinkFilter, column_names, display_text

ID_CHUNK = 10_000


class Pending(NamedTuple):
    """What a decoded row holds for a multi-link until ``Projection.fill`` reads it: the
    id of the record that owns the value."""

    owner_id: int | None


def linked_records(conn: Connection, schema: Schema, field: FieldInfo, source_ids: Iterable[int], *,
                   link_filter: LinkFilter | None = None,
                   field_allowed: FieldAllowed | None = None) -> dict[int, list[LinkRef]]:
    """source id -> its live linked records in their order, as ``LinkRef``s (a target the
    reader may not see: restricted, without display). Sources without links are absent."""
    wanted = sorted({int(i) for i in source_ids})
    if not wanted:
        return {}
    stmt = _statement(schema, field, link_filter, field_allowed)
    out: dict[int, list[LinkRef]] = {}
    width = 2
    display = _display_field(schema, field, field_allowed)
    n = len(column_names(display)) if display is not None else 0
    for start in range(0, len(wanted), ID_CHUNK):
        for row in conn.execute(stmt, {"ids": wanted[start:start + ID_CHUNK]}):
            visible = row[width + n] if len(row) > width + n else 1
            if not visible:
                ref = LinkRef(int(row[1]), None, restricted=True)
            else:
                ref = LinkRef(int(row[1]), display_text(display, tuple(row[width:width + n])) if n else None)
            out.setdefault(int(row[0]), []).append(ref)
    return out


def _display_field(schema: Schema, field: FieldInfo, field_allowed: FieldAllowed | None) -> FieldInfo | None:
    target = schema.link_target(field)
    return JoinBuilder(schema, target, field_allowed=field_allowed).display_field(target)


def _statement(schema: Schema, field: FieldInfo, link_filter: LinkFilter | None,
               field_allowed: FieldAllowed | None) -> sa.Select:
    target = schema.link_target(field)
    junction = junction_table(field)
    if link_filter is not None:
        alias, visible = link_filter(target, "mlt")
    else:
        alias, visible = schema.table(target), None
    display = _display_field(schema, field, field_allowed)
    cols: list[Any] = [junction.c.source_id, junction.c.target_id]
    if display is not None:
        cols += [alias.c[name] for name in column_names(display)]
    if visible is not None:
        cols.append(sa.case((visible, 1), else_=0))
    return (sa.select(*cols).select_from(junction.join(alias, alias.c.id == junction.c.target_id))
            .where(junction.c.source_id.in_(sa.bindparam("ids", expanding=True)), alias.c.deleted_at.is_(None))
            .order_by(junction.c.source_id, junction.c.position, junction.c.target_id))
