"""The values computed fields read, for many records at once: one query per table a set
of reference paths touches (a link prefix, a child list), never one per record.

Locks (PostgreSQL; SQLite has one writer anyway): the records being recomputed are read
FOR NO KEY UPDATE, in id order, before their inputs, so two transactions adding lines to the
same order compute its total one after the other, the second seeing the first's line
(under READ COMMITTED each would otherwise miss the other's: a lost update). Linked
records a lookup reads are read FOR SHARE: a concurrent change of the organisation's
city and a contact moving to it cannot leave the contact with the old city."""
from __future__ import annotations

from typing import Any, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from ..snapshot import FieldInfo, ObjectInfo, Schema
from .defs import chunks
from .keys import KeyPath

Rows = dict[int, dict[str, Any]]  # record id -> field key -> Python value
CURRENT = "\0current"  # row key of the stored value of the field being recomputed


def own_fields(paths: Iterable[KeyPath]) -> list[FieldInfo]:
    """Columns a set of paths needs from the table they start at: fields read directly
    and the links the forward paths leave by."""
    out: dict[str, FieldInfo] = {}
    for p in paths:
        f = p.field if not p.steps else (p.steps[0].field if not p.steps[0].child else None)
        if f is not None:
            out.setdefault(f.key, f)
    return list(out.values())


def columns_of(field: FieldInfo) -> tuple[str, ...]:
    return (field.column,) if field.system else field.column_names


class Fetcher:
    def __init__(self, conn: Connection, schema: Schema):
        self.conn, self.schema = conn, schema

    # ---- own rows ------------------------------------------------------------------------
    def load(self, obj: ObjectInfo, fields: Sequence[FieldInfo], *, ids: Iterable[int] | None = None,
             where: Any = None, current: FieldInfo | None = None, live_only: bool = False,
             group: FieldInfo | None = None, lock: str | None = None) -> Rows:
        """Rows of ``obj`` (by ids, or by a condition) with the values of ``fields``; the
        stored value of ``current`` under CURRENT; ``group``'s value under its key.
        ``lock``: "update" or "share" to lock the rows read (see above)."""
        table = self.schema.table(obj)
        wanted = list(fields) + ([group] if group is not None else [])
        cols = [table.c.id] + [table.c[c] for f in wanted for c in columns_of(f)]
        if current is not None:
            cols += [table.c[c] for c in current.column_names]
        base = [table.c.deleted_at.is_(None)] if live_only else []
        if where is not None:
            base.append(where)
        out: Rows = {}
        statements = ([sa.select(*cols).where(*base)] if ids is None else
                      [sa.select(*cols).where(*base, table.c.id.in_(chunk)) for chunk in chunks(sorted(ids))])
        for stmt in statements:
            stmt = stmt.order_by(table.c.id)
            if lock == "update":
                # NO KEY UPDATE, what the UPDATE of a computed column takes anyway: FOR UPDATE
                # would also wait for the KEY SHARE lock a child's foreign key takes on its
                # parent, so two transactions each inserting a deal of the same organisation
                # and then locking it for its rollup would deadlock.
                stmt = stmt.with_for_update(key_share=True)
            elif lock == "share":
                stmt = stmt.with_for_update(read=True)
            for row in self.conn.execute(stmt):
                out[int(row[0])] = self._decode(row, wanted, current)
        return out

    @staticmethod
    def _decode(row: Sequence[Any], fields: Sequence[FieldInfo], current: FieldInfo | None) -> dict[str, Any]:
        values, i = {}, 1
        for f in fields:
            n = len(columns_of(f))
            values[f.key] = f.ftype.from_db(f, tuple(row[i:i + n]))
            i += n
        if current is not None:
            values[CURRENT] = current.ftype.from_db(current, tuple(row[i:]))
        return values

    # ---- paths ------------------------------------------------------------------------------
    def resolve(self, obj: ObjectInfo, rows: Rows, paths: Sequence[KeyPath], *, new: bool = False) -> Rows:
        """values[id][path key] for each path, from ``rows`` (which hold ``own_fields``).
        ``new``: the records were just created, so they have no children yet."""
        out: Rows = {rid: {} for rid in rows}
        forward: dict[str, list[KeyPath]] = {}
        children: dict[str, list[KeyPath]] = {}
        for p in paths:
            if not p.steps:
                for rid, row in rows.items():
                    out[rid][p.key] = row.get(p.field.key)
            else:
                (children if p.steps[0].child else forward).setdefault(p.steps[0].segment, []).append(p)
        for group in forward.values():
            self._follow_links(rows, group, out)
        for group in children.values():
            self._down_child_lists(rows, group, out, new)
        return out

    def _follow_links(self, rows: Rows, group: list[KeyPath], out: Rows) -> None:
        step = group[0].steps[0]
        subs = [p.rest() for p in group]
        targets = {row[step.field.key] for row in rows.values() if row.get(step.field.key) is not None}
        found = self.resolve(step.target, self.load(step.target, own_fields(subs), ids=targets, lock="share"),
                             subs) if targets else {}
        for rid, row in rows.items():
            target = row.get(step.field.key)
            values = found.get(target, {}) if target is not None else {}
            for p, sub in zip(group, subs):
                out[rid][p.key] = values.get(sub.key, [] if sub.many else None)

    def _down_child_lists(self, rows: Rows, group: list[KeyPath], out: Rows, new: bool) -> None:
        step = group[0].steps[0]
        subs = [p.rest() for p in group]
        lists: dict[int, dict[str, list]] = {rid: {p.key: [] for p in group} for rid in rows}
        if not new and rows:
            table = self.schema.table(step.target)
            link = step.field
            for chunk in chunks(rows):
                kids = self.load(step.target, own_fields(subs), group=link, live_only=True,
                                 where=table.c[link.column].in_(chunk))
                values = self.resolve(step.target, kids, subs)
                for kid, kid_row in kids.items():
                    parent = kid_row[link.key]
                    for p, sub in zip(group, subs):
                        value = values[kid].get(sub.key)
                        if sub.many:
                            lists[parent][p.key].extend(value or ())
                        else:
                            lists[parent][p.key].append(value)
        for rid, by_key in lists.items():
            out[rid].update(by_key)
