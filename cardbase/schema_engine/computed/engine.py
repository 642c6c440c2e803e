"""Computing and propagating, inside the writer's transaction.

``compute_new`` fills the computed fields of records about to be inserted (in dependency
order, lookups fetched with one query per link path). ``propagate`` takes what changed --
records of an object, which fields, which links pointed where before -- and recomputes
everything that depends on it, set-based: for each affected definition, the affected
record ids are found with one query per step back along its reference path (children ->
parents, targets -> the records linking to them), then recomputed together (one read,
one GROUP BY for a rollup, one executemany of the values that changed). Definitions are
processed in topological rank, so each is computed after everything it reads; a value
that changed feeds the next round, up the chain (line -> order total -> organisation
revenue).

Recomputed values are not edits: they bump neither ``version`` nor ``modified_at`` (a
user's open card of the order stays saveable after someone adds a line; optimistic
locking protects what people typed) and write no history rows (they are derived and can
be recomputed at any time). They are visible at once to every reader after the commit,
refresh the search index, and other records that changed get a ``record.recomputed``
outbox event, so webhooks and automations see them.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Collection, Iterable, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from .. import search_index
from ..query.reader import fetch_records
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .defs import ComputedDef, chunks
from .fetch import CURRENT, Fetcher, own_fields
from .keys import KeyPath
from .plan import Plan, plan_for


@dataclass
class Change:
    """Records of ``obj`` changed. ``fields``: keys of the fields whose values changed;
    None when records appeared or disappeared (create, trash, restore). ``old_links``:
    link field key -> the records those links pointed at before (re-parenting).
    ``done``: keys of definitions already computed for these records (new rows)."""

    obj: ObjectInfo
    ids: Collection[int]
    fields: frozenset[str] | None = None
    old_links: Mapping[str, set[int]] = dc_field(default_factory=dict)
    done: frozenset[str] = frozenset()


def has_computed(schema: Schema) -> bool:
    return bool(plan_for(schema).defs)


# ---- new records -----------------------------------------------------------------------------
def compute_new(conn: Connection, schema: Schema, obj: ObjectInfo,
                rows: dict[int, dict[str, Any]]) -> tuple[dict[int, dict[FieldInfo, Any]], frozenset[str]]:
    """Values of ``obj``'s computed fields for records about to be inserted. ``rows``: id ->
    own values by field key (user and system fields). Returns id -> {field: value} (the
    fields carry the columns to fill, shadow columns included) and the definitions done."""
    defs = plan_for(schema).by_object.get(obj.id, [])
    if not defs or not rows:
        return {}, frozenset()
    paths = _unique_paths(p for d in defs for p in d.inputs)
    values = Fetcher(conn, schema).resolve(obj, rows, paths, new=True)
    out: dict[int, dict[FieldInfo, Any]] = {rid: {} for rid in rows}
    for d in defs:
        for rid in rows:
            value = d.value(values[rid], None)
            out[rid][d.field] = value
            if not d.pending:  # later formulas of the same record read it
                values[rid][d.field.key] = value
    return out, frozenset(d.key for d in defs)


def _unique_paths(paths: Iterable[KeyPath]) -> list[KeyPath]:
    return list({p.key: p for p in paths}.values())


# ---- recomputing one definition for a set of records --------------------------------------------
def recompute(conn: Connection, schema: Schema, d: ComputedDef, ids: Iterable[int]) -> dict[int, Any]:
    """Recompute ``d`` for the live records among ``ids``; write and return those whose
    value changed (id -> new value)."""
    fetcher = Fetcher(conn, schema)
    changed: dict[int, Any] = {}
    for chunk in chunks(sorted(set(ids))):
        rows = fetcher.load(d.obj, own_fields(d.inputs), ids=chunk, current=d.field, live_only=True,
                            lock="update")
        if not rows:
            continue
        values = fetcher.resolve(d.obj, rows, d.inputs)
        gathered = d.gather(conn, list(rows))
        for rid, row in rows.items():
            new = d.value(values[rid], gathered.get(rid))
            if new != row[CURRENT]:
                changed[rid] = new
    write_values(conn, schema, d.obj, d.field, changed)
    return changed


def write_values(conn: Connection, schema: Schema, obj: ObjectInfo, field: FieldInfo,
                 values: Mapping[int, Any]) -> None:
    """One executemany UPDATE of ``field``'s columns; version and modified_at stay."""
    if not values:
        return
    table = schema.table(obj)
    names = list(field.column_names)
    stmt = sa.update(table).where(table.c.id == sa.bindparam("_id")).values(
        {n: sa.bindparam(f"_v{i}", type_=table.c[n].type) for i, n in enumerate(names)})
    empty = (None,) * len(names)
    params = []
    for rid, value in values.items():
        db = field.ftype.to_db(field, value) if value is not None else empty
        params.append({"_id": rid, **{f"_v{i}": v for i, v in enumerate(db)}})
    for start in range(0, len(params), 1000):
        conn.execute(stmt, params[start:start + 1000])


# ---- propagation -------------------------------------------------------------------------------
Recomputed = dict[int, dict[int, set[str]]]  # object id -> record id -> names of fields recomputed


def propagate(conn: Connection, schema: Schema, changes: Sequence[Change], *,
              seed: Mapping[str, Iterable[int]] | None = None) -> Recomputed:
    """Recompute everything that depends on ``changes`` (and the definitions in ``seed``:
    definition key -> record ids to recompute regardless), in this transaction. Returns
    the other records whose values changed, for the caller's outbox events."""
    plan = plan_for(schema)
    if not plan.defs:
        return {}
    return _Propagation(conn, schema, plan).run(changes, seed or {})


class _Propagation:
    def __init__(self, conn: Connection, schema: Schema, plan: Plan):
        self.conn, self.schema, self.plan = conn, schema, plan
        self.pending: dict[str, set[int]] = {}
        self.touched: dict[int, dict[int, set[str]]] = {}  # object id -> record id -> field names
        self.origin: set[tuple[int, int]] = set()

    def run(self, changes: Sequence[Change], seed: Mapping[str, Iterable[int]]) -> Recomputed:
        for key, ids in seed.items():
            if key in self.plan.defs:
                self.pending.setdefault(key, set()).update(ids)
        for change in changes:
            self.origin.update((change.obj.id, i) for i in change.ids)
            self.seed(change)
        while self.pending:
            key = min(self.pending, key=self.plan.rank.__getitem__)
            d = self.plan.defs[key]
            changed = recompute(self.conn, self.schema, d, self.pending.pop(key))
            if changed and not d.pending:
                by_record = self.touched.setdefault(d.obj.id, {})
                for rid in changed:
                    by_record.setdefault(rid, set()).add(d.field.api_name)
                self.seed(Change(d.obj, list(changed), frozenset({d.field.key})))
        self.refresh_search()
        return {obj_id: {rid: fields for rid, fields in records.items() if (obj_id, rid) not in self.origin}
                for obj_id, records in self.touched.items()}

    def seed(self, change: Change) -> None:
        walks: dict[tuple, set[int]] = {}
        for d, path, position in self.plan.readers.get(change.obj.id, ()):
            if position == 0 and d.key in change.done:
                continue
            if not relevant(path, position, change):
                continue
            memo = (path.objects[0].id, tuple(s.segment for s in path.steps[:position]))  # what the walk reads
            if memo not in walks:
                walks[memo] = walk_back(self.conn, self.schema, path, position, change)
            if walks[memo]:
                self.pending.setdefault(d.key, set()).update(walks[memo])

    def refresh_search(self) -> None:
        for obj_id, records in self.touched.items():
            obj = self.schema.object(obj_id)
            names = {f.api_name for f in obj.searchable_fields}
            ids = [rid for rid, fields in records.items() if fields & names]
            if ids:
                refresh_documents(self.conn, self.schema, obj, ids)


def own_seed(schema: Schema, obj: ObjectInfo, ids: Collection[int]) -> dict[str, Collection[int]]:
    """Every computed field of these records, to recompute regardless (e.g. restored from
    the trash, whose sources may have changed while they were there)."""
    return {d.key: ids for d in plan_for(schema).by_object.get(obj.id, [])}


def relevant(path: KeyPath, position: int, change: Change) -> bool:
    """Whether ``change`` (records at ``position`` on ``path``) can alter what the path reads."""
    fields = change.fields
    if fields is None:
        return True
    steps = path.steps
    if position == len(steps) and path.field.key in fields:
        return True  # the value read at the end changed
    if position < len(steps) and not steps[position].child and steps[position].field.key in fields:
        return True  # the link the path leaves by now points elsewhere
    if position > 0 and steps[position - 1].child and steps[position - 1].field.key in fields:
        return True  # a child moved to another parent
    return False


def walk_back(conn: Connection, schema: Schema, path: KeyPath, position: int, change: Change) -> set[int]:
    """The records at the start of ``path`` that reach ``change``'s records at ``position``:
    one query per step back (children -> their parents, old parents included; linked
    records -> the live records linking to them)."""
    ids = set(change.ids)
    for j in range(position, 0, -1):
        step = path.steps[j - 1]
        found: set[int] = set()
        if step.child:
            table = schema.table(step.target)
            link = table.c[step.field.column]
            for chunk in chunks(ids):
                found.update(conn.execute(
                    sa.select(link).where(table.c.id.in_(chunk), link.is_not(None)).distinct()).scalars())
            if j == position:
                found.update(change.old_links.get(step.field.key, ()))
        else:
            table = schema.table(step.source)
            link = table.c[step.field.column]
            for chunk in chunks(ids):
                found.update(conn.execute(
                    sa.select(table.c.id).where(link.in_(chunk), table.c.deleted_at.is_(None))).scalars())
        ids = {int(i) for i in found}
        if not ids:
            break
    return ids


def refresh_documents(conn: Connection, schema: Schema, obj: ObjectInfo, ids: Iterable[int]) -> None:
    """Rewrite the search documents of records whose searchable values changed."""
    fields = sorted({f.api_name for f in obj.searchable_fields} | {"code"})
    for chunk in chunks(ids):
        records = fetch_records(conn, schema, obj, chunk, fields=fields, trash=None)
        search_index.write(conn, obj, [(rid, search_index.document(obj, r)) for rid, r in records.items()])


# ---- existing records, before their UPDATE --------------------------------------------------------
def compute_existing(conn: Connection, schema: Schema, obj: ObjectInfo,
                     changes: Mapping[int, Mapping[str, Any]]) -> tuple[dict[int, dict[FieldInfo, Any]], frozenset[str]]:
    """The record's own computed values after ``changes`` (id -> field key -> new value),
    so the UPDATE writes them with the edit instead of a second UPDATE afterwards.

    Only definitions that read the record itself and the records it links to (formulas,
    lookups) are computed here; those that read child lists (rollups) cannot change by
    an edit of the record and keep their stored value. Returns id -> {field: value} of
    the values that differ from the stored ones, and the keys of the definitions done
    (``Change.done``: propagation need not compute them again)."""
    defs = [d for d in plan_for(schema).by_object.get(obj.id, []) if not any(p.many for p in d.paths)]
    if not defs or not changes:
        return {}, frozenset()
    paths = _unique_paths(p for d in defs for p in d.inputs)
    inputs = own_fields(paths)
    keys = {f.key for f in inputs}
    fetcher = Fetcher(conn, schema)
    rows = fetcher.load(obj, inputs + [d.field for d in defs if d.field.key not in keys],
                        ids=list(changes), live_only=True)
    before = {rid: {d.field.key: row.get(d.field.key) for d in defs} for rid, row in rows.items()}
    for rid, row in rows.items():
        row.update(changes[rid])
    values = fetcher.resolve(obj, rows, paths)
    out: dict[int, dict[FieldInfo, Any]] = {rid: {} for rid in rows}
    for d in defs:
        for rid in rows:
            value = d.value(values[rid], None)
            if value != before[rid][d.field.key]:
                out[rid][d.field] = value
            if not d.pending:
                values[rid][d.field.key] = value
                for p in paths:  # later formulas that read this one see the new value
                    if not p.steps and p.field.key == d.field.key:
                        values[rid][p.key] = value
    return {rid: v for rid, v in out.items() if v}, frozenset(d.key for d in defs)
