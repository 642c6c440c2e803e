"""Duplicates already in the database: find them by match rules (normalised keys such as
the e-mail, the phone number, or name + city), and merge two or more records into one.

A merge is one operation of the change pipeline, so one action that undo reverts: the
surviving record takes the chosen value of each field (an update), the children of the
other records are moved to it (updates of the children), their shares are granted on it
too, their comments, tasks and history rows move to it (the survivor's history shows what
happened to the merged records; the action's ``history_from`` names their codes), and the
other records go to the trash. Undo puts every moved row back on its record and restores
the merged records as they were."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Mapping, Sequence

import sqlalchemy as sa

from ..schema_engine.errors import ValidationError
from ..schema_engine.field_types.links import junction_table
from ..schema_engine.query.multi_links import linked_records
from ..schema_engine.meta_models import Base, HistoryEntry
from ..schema_engine.rights_models import Share
from ..schema_engine.snapshot import ObjectInfo
from ..schema_engine.store.changeset import ChangeSet
from ..schema_engine.store.operations import UpdateOp, record_id
from ..schema_engine.store.session import Session
from ..schema_engine.store.sharing import ShareOp
from ..schema_engine.store.trash import TrashManyOp
from ..schema_engine.values import LinkRef
from .mapping import normalise

MAX_SCAN = 200_000
MOVED_REFERENCES = ("cb_comment", "cb_task")  # what users attached to a record: follows it into the survivor
MAX_MERGE = 20
_shares = Share.__table__


def find_duplicates(tx: Session, obj_ref: str | int, rules: Sequence[Sequence[str]], *, limit: int = 200
                    ) -> list[dict[str, Any]]:
    """Groups of visible live records with the same normalised key under one of ``rules``
    (each rule a list of field names); each group lists its records' id, code and key values."""
    obj = tx.require_purpose(obj_ref, "read")
    if not rules or not all(isinstance(r, (list, tuple)) and r for r in rules):
        raise ValidationError({"rules": 'give at least one rule, e.g. [["email"], ["name", "city"]]'})
    readable = tx.access.field_readable(obj)
    for rule in rules:
        for name in rule:
            if not isinstance(name, str) or not obj.has_field(name) or (readable is not None and not readable(obj.field(name))):
                raise ValidationError({"rules": f"{name!r} is not a field of '{obj.api_name}'"})
            if obj.field(name).ftype.stored_apart:
                raise ValidationError({"rules": f"{name!r} links to several records; duplicates are found by "
                                                "fields with one value"})
    table = tx.schema.table(obj)
    seen = tx.access.row_filter(obj, table)
    groups: list[dict[str, Any]] = []
    taken: set[frozenset[int]] = set()
    for rule in rules:
        cols = [table.c.code if n == "code" else table.c[obj.field(n).column] for n in rule]
        stmt = (sa.select(table.c.id, table.c.code, *cols)
                .where(table.c.deleted_at.is_(None), *[c.is_not(None) for c in cols], *([seen] if seen is not None else []))
                .order_by(table.c.id).limit(MAX_SCAN))
        by_key: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for row in tx.conn.execute(stmt):
            key = tuple(normalise(v) for v in row[2:])
            if all(key):
                by_key[key].append({"id": row[0], "code": row[1], "values": dict(zip(rule, (str(v) for v in row[2:])))})
        for key, records in by_key.items():
            ids = frozenset(r["id"] for r in records)
            if len(records) > 1 and ids not in taken:
                taken.add(ids)
                groups.append({"rule": list(rule), "key": "|".join(key), "records": records})
                if len(groups) >= limit:
                    return groups
    return groups


class MergeOp:
    """Merge ``others`` into ``survivor``: ``values`` are the fields' chosen values (as
    for an update), usually taken from one of the records."""

    kind = "merge"

    def __init__(self, obj: ObjectInfo, survivor: Any, others: Sequence[Any], values: Mapping[str, Any],
                 version: int | None = None):
        self.obj = obj
        self.survivor = record_id(survivor)
        self.others = sorted({record_id(o) for o in others} - {self.survivor})
        if not self.others:
            raise ValidationError({"records": "name at least one other record to merge into the survivor"})
        if len(self.others) >= MAX_MERGE:
            raise ValidationError({"records": f"at most {MAX_MERGE} records can be merged at once"})
        self.values, self.version = dict(values), version
        self.update: UpdateOp | None = None
        self.children: list[UpdateOp] = []
        self.trash = TrashManyOp(obj, [(rid, None) for rid in self.others])
        self.shares: list[ShareOp] = []

    def authorize(self, tx: Session) -> None:
        current = tx.fetch(self.obj, [self.survivor])
        if self.survivor not in current:
            raise ValidationError({"survivor": f"there is no '{self.obj.label}' record with id {self.survivor}"})
        version = self.version if self.version is not None else current[self.survivor]["version"]
        self.update = UpdateOp(self.obj, [(self.survivor, self.values, version)], single=True)
        self.update.authorize(tx)
        self.trash.authorize(tx)  # each other record: visible and deletable (BulkValidationError names them)
        for child, link in tx.schema.children(self.obj):
            table = tx.schema.table(child)
            kids = tx.conn.execute(sa.select(table.c.id, table.c.version).where(
                table.c[link.column].in_(self.others), table.c.deleted_at.is_(None))).all()
            if kids:
                move = UpdateOp(child, [(kid, {link.api_name: self.survivor}, version) for kid, version in kids],
                                single=False)
                move.authorize(tx)
                self.children.append(move)
        self.children += self._relink_multi_links(tx)
        rows = tx.conn.execute(sa.select(_shares).where(
            _shares.c.object_id == self.obj.id, _shares.c.record_id.in_(self.others))).mappings().all()
        held = {(r["user_id"], r["group_id"]) for r in tx.conn.execute(sa.select(_shares).where(
            _shares.c.object_id == self.obj.id, _shares.c.record_id == self.survivor)).mappings()}
        for r in rows:
            who = (r["user_id"], r["group_id"])
            if who not in held:
                held.add(who)
                share = ShareOp(self.obj, self.survivor, user=r["user_id"], group=r["group_id"], level=r["level"])
                share.authorize(tx)
                self.shares.append(share)

    def _relink_multi_links(self, tx: Session) -> list[UpdateOp]:
        """Records whose multi-links name a merged record name the survivor instead (in
        its place, once): one update per such field, each an ordinary change of the set."""
        others, moves = set(self.others), []
        for source, field in multi_links_to(tx.schema, self.obj):
            junction, table = junction_table(field), tx.schema.table(source)
            found = tx.conn.execute(sa.select(table.c.id, table.c.version).where(
                table.c.deleted_at.is_(None), table.c.id.in_(
                    sa.select(junction.c.source_id).where(junction.c.target_id.in_(self.others))))).all()
            if not found:
                continue
            holders: list[tuple[int, int]] = [(int(row.id), int(row.version)) for row in found]
            sets = linked_records(tx.conn, tx.schema, field, [rid for rid, _v in holders])
            rows = []
            for rid, version in holders:
                ids: list[int] = []
                for ref in sets.get(rid, []):
                    wanted = self.survivor if ref.id in others else ref.id
                    if wanted not in ids:
                        ids.append(wanted)
                rows.append((rid, {field.api_name: ids}, version))
            move = UpdateOp(source, rows, single=False)
            move.authorize(tx)
            moves.append(move)
        return moves

    def validate(self, tx: Session) -> None:
        assert self.update is not None
        self.update.validate(tx)
        self.trash.validate(tx)
        for move in self.children:
            move.validate(tx)
        for share in self.shares:
            share.validate(tx)

    def write(self, tx: Session, cs: ChangeSet) -> dict[str, Any]:
        assert self.update is not None
        codes = {rid: r.get("code") for rid, r in tx.fetch(self.obj, self.others).items()}
        cs.summary = {"merged": [codes.get(rid) for rid in self.others], "survivor": self.survivor}
        self.update.write(tx, cs)
        moved = self._move_references(tx)
        history = self._move_history(tx)
        cs.summary["moved"] = moved + history
        cs.summary["history_from"] = {str(rid): codes.get(rid) for rid in sorted({h[2] for h in history})}
        for op in self.children:
            op.write(tx, cs)
        for share in self.shares:
            share.write(tx, cs)
        self.trash.write(tx, cs)
        return {"survivor": self.survivor, "merged": self.others,
                "children_moved": sum(len(op.rows) for op in self.children), "shares_added": len(self.shares),
                "references_moved": len(moved), "history_moved": len(history)}

    def _move_references(self, tx: Session) -> list[list[Any]]:
        """Comments and tasks of the merged records now belong to the survivor; each move is
        named in the action ([table, row id, old record id]) so undo puts it back."""
        moved: list[list[Any]] = []
        for name in MOVED_REFERENCES:
            table = Base.metadata.tables.get(name)
            if table is None or not {"id", "object_id", "record_id"} <= set(table.c.keys()):
                continue
            where = [table.c.object_id == self.obj.id, table.c.record_id.in_(self.others)]
            rows = tx.conn.execute(sa.select(table.c.id, table.c.record_id).where(*where)).all()
            if rows:
                tx.conn.execute(sa.update(table).where(*where).values(record_id=self.survivor))
                moved += [[name, rid, old] for rid, old in rows]
        return moved


    def _move_history(self, tx: Session) -> list[list[Any]]:
        """The merged records' history rows now belong to the survivor, so its history shows what
        happened to them; each row is named in the action like the comments (["cb_history", row
        id, old record id]) and the action's ``history_from`` names the codes they came from, so
        undo re-points them exactly. This merge's own rows (the trash entries) are written after."""
        table = HistoryEntry.__table__
        where = [table.c.object_id == self.obj.id, table.c.record_id.in_(self.others)]
        rows = tx.conn.execute(sa.select(table.c.id, table.c.record_id).where(*where).order_by(table.c.id)).all()
        if rows:
            tx.conn.execute(sa.update(table).where(*where).values(record_id=self.survivor))
        return [[table.name, rid, old] for rid, old in rows]


def multi_links_to(schema: Any, obj: ObjectInfo) -> list[tuple[ObjectInfo, Any]]:
    """(object, multi-link field) of every multi-link that may name records of ``obj``."""
    return [(o, f) for o in schema.objects for f in o.user_fields
            if f.ftype.stored_apart and int(f.options.get("target", 0)) == obj.id]


def merge_values(records: Mapping[int, Mapping[str, Any]], obj: ObjectInfo, picks: Mapping[str, Any]) -> dict[str, Any]:
    """The values for the survivor from ``picks``: field name -> the id of the record whose
    value it keeps (fields not named keep the survivor's)."""
    out: dict[str, Any] = {}
    for name, rid in picks.items():
        if not obj.has_field(name) or obj.field(name).system or not obj.field(name).writable:
            raise ValidationError({f"picks.{name}": "is not a field a merge can choose"})
        source = records.get(record_id(rid))
        if source is None:
            raise ValidationError({f"picks.{name}": f"record {rid} is not one of the merged records"})
        value = source.get(name)
        out[name] = value.id if isinstance(value, LinkRef) else value
    return out


def merge(tx: Session, obj_ref: str | int, survivor: Any, others: Sequence[Any],
          picks: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Merge ``others`` into ``survivor``, each field's value from the record ``picks`` names."""
    obj = tx.object(obj_ref)
    ids = [record_id(survivor), *[record_id(o) for o in others]]
    records = tx.fetch(obj, ids)
    values = merge_values(records, obj, picks or {})
    values = {k: v for k, v in values.items() if records.get(ids[0], {}).get(k) != v}
    return tx.apply(MergeOp(obj, survivor, others, _to_input(obj, values)))


def _to_input(obj: ObjectInfo, values: Mapping[str, Any]) -> dict[str, Any]:
    from ..schema_engine.store.serialize import value_to_json

    return {k: value_to_json(obj.field(k), v) for k, v in values.items()}
