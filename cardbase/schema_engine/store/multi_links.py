"""Writing multi-link values (``field_types/links.py``) inside the change pipeline.

``check``: every newly linked id is a live record the writer may see -- one query per
field for the whole batch; the error names the field and the row's first bad id, and a
record the writer cannot see reads exactly like a missing one. ``replace``: after the
record rows are written, in the same transaction, each changed set is replaced (one
DELETE and one INSERT per field) and the before/after of every record is returned with
display names for the history. A trashed target's row is kept (restoring the target
brings the link back); readers skip it meanwhile."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..field_types.links import ids_of, junction_table
from ..i18n import _, language
from ..query.multi_links import linked_records
from ..snapshot import FieldInfo, Schema
from .bulk_sql import insert_many
from .validation import RowErrors


def is_multi_link(field: FieldInfo) -> bool:
    return not field.system and field.ftype.stored_apart


def added_ids(current: Mapping[str, Any] | None, field: FieldInfo, value: Any) -> list[int]:
    """The ids of ``value`` not already linked in ``current`` (the record as the writer
    read it): those kept need no check, even when the writer cannot see them."""
    kept = set(ids_of(current.get(field.api_name))) if current is not None else set()
    return [i for i in ids_of(value) if i not in kept]


def check(conn: Connection, schema: Schema, rows: Sequence[Mapping[FieldInfo, Any]], errors: Sequence[RowErrors],
          visible=None) -> None:
    """``rows``: per row, field -> the ids to check. ``visible(target, table)`` is the
    writer's row filter on the target."""
    wanted: dict[FieldInfo, set[int]] = defaultdict(set)
    for row in rows:
        for field, ids in row.items():
            if is_multi_link(field) and ids:
                wanted[field].update(ids)
    for field, ids in wanted.items():
        target = schema.link_target(field)
        table = schema.table(target)
        seen = visible(target, table) if visible is not None else None
        found, trashed = set(), {}
        chosen = sorted(ids)
        for start in range(0, len(chosen), 1000):
            for rid, code, deleted in conn.execute(sa.select(table.c.id, table.c.code, table.c.deleted_at).where(
                    table.c.id.in_(chosen[start:start + 1000]), *([seen] if seen is not None else []))):
                if deleted is None:
                    found.add(rid)
                else:
                    trashed[rid] = code
        label = _("'%(label)s' record", label=target.label_in(language()))
        for row, row_errors in zip(rows, errors):
            bad = next((i for i in row.get(field) or () if i not in found), None)
            if bad is None:
                continue
            if bad in trashed:
                row_errors.add(field.api_name, _('%(target)s %(code)s is in the trash', target=label, code=trashed[bad]))
            else:
                row_errors.add(field.api_name, _('there is no %(target)s with id %(id)s', target=label, id=bad))


def replace(conn: Connection, schema: Schema, changes: Mapping[int, Mapping[FieldInfo, Any]], *,
            created: bool = False, link_filter: Any = None,
            field_allowed: Any = None) -> dict[tuple[int, str], list[Any]]:
    """``changes``: record id -> multi-link field -> its new ids (None: empty). Replaces
    each set; returns (record id, field key) -> [before, after] in JSON form with
    display names as the writer sees them (``link_filter``, ``field_allowed``: their
    rights; a target they may not see is restricted, as a link's old value is), for the
    history (before is None for a new record)."""
    by_field: dict[FieldInfo, dict[int, list[int]]] = defaultdict(dict)
    for rid, fields in changes.items():
        for field, value in fields.items():
            if is_multi_link(field):
                by_field[field][rid] = ids_of(value)
    history: dict[tuple[int, str], list[Any]] = {}
    for field, sets in by_field.items():
        sources = sorted(sets)
        shown = {"link_filter": link_filter, "field_allowed": field_allowed}
        before = {} if created else linked_records(conn, schema, field, sources, **shown)
        junction = junction_table(field)
        if not created:
            target = schema.table(schema.link_target(field))
            live = sa.select(target.c.id).where(target.c.deleted_at.is_(None))
            for start in range(0, len(sources), 1000):
                conn.execute(sa.delete(junction).where(junction.c.source_id.in_(sources[start:start + 1000]),
                                                       junction.c.target_id.in_(live)))
        insert_many(conn, junction, [{"source_id": rid, "target_id": tid, "position": pos}
                                     for rid in sources for pos, tid in enumerate(sets[rid])])
        after = linked_records(conn, schema, field, sources, **shown)
        for rid in sources:
            old = [ref.to_json() for ref in before.get(rid, ())] or None
            new = [ref.to_json() for ref in after.get(rid, ())] or None
            history[(rid, field.key)] = [old, new]
    return history
