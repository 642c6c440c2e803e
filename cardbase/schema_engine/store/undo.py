"""Undo: revert one of the actor's own recent actions, as a new action (so undoing an
undo is redo).

An action's before/after are its history rows (same ``batch``). Undo is refused, with
nothing changed, when any record of the action changed since (its version moved), when
the actor can no longer see one of them, when the action is someone else's, when it was
undone already, and for a purge (the rows are gone). Otherwise each record change is
reverted by the ordinary operations, with their rights: an update by an update back to
the old values, a create by moving the records to the trash, a delete by restoring from
the trash (children and links included), a restore by trashing again, a change of owner
by giving the record back, a share by ending it (or putting back the level it had), the
end of a share by sharing again.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import Conflict, Forbidden, NotFound, ValidationError
from ..meta_models import ActionRow, HistoryEntry
from ..snapshot import ObjectInfo
from .changeset import ChangeSet
from .operations import OwnerOp, UpdateOp, record_id
from .sharing import ShareOp, UnshareOp
from .trash import Trasher
from .validation import BulkValidationError

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

_actions = ActionRow.__table__
_history = HistoryEntry.__table__
RECENT = 20


def recent_actions(tx: "Session", limit: int = RECENT) -> list[dict[str, Any]]:
    """The actor's latest actions, newest first, each saying whether it can be undone."""
    if tx.actor.user_id is None:
        return []
    rows = tx.conn.execute(sa.select(_actions).where(_actions.c.actor_id == tx.actor.user_id)
                           .order_by(_actions.c.id.desc()).limit(max(1, min(int(limit), 100)))).mappings().all()
    out = []
    for row in rows:
        obj = (tx.schema.object(row["object_id"])
               if row["object_id"] is not None and tx.schema.has_object(row["object_id"]) else None)
        out.append({"id": row["id"], "kind": row["kind"], "at": row["at"],
                    "object": obj.api_name if obj is not None else None, "records": row["record_count"],
                    "undoes": row["undoes"], "undone_by": row["undone_by"],
                    "undoable": row["undone_by"] is None and row["kind"] != "purge"})
    return out


class UndoOp:
    kind = "undo"

    def __init__(self, action_id: Any):
        try:
            self.action_id = record_id(action_id)
        except ValidationError:
            raise ValidationError({"action": f"{action_id!r} is not an action id"}) from None
        self.obj: ObjectInfo | None = None
        self.entries: list[Any] = []
        self.updates: list[UpdateOp] = []
        self.owners: list[OwnerOp] = []
        self.shares: list[ShareOp | UnshareOp] = []
        self.to_trash: dict[int, list[int]] = {}
        self.to_restore: list[tuple[ObjectInfo, int]] = []
        self.moved: list[tuple[str, int, int]] = []

    def authorize(self, tx: "Session") -> None:
        row = tx.conn.execute(sa.select(_actions).where(_actions.c.id == self.action_id)).mappings().first()
        if row is None or row["actor_id"] is None or row["actor_id"] != tx.actor.user_id:
            if row is not None and row["actor_id"] is not None:
                raise Forbidden(f"action {self.action_id} is someone else's: you can undo only your own actions")
            raise NotFound(f"there is no action {self.action_id} of yours")
        if row["undone_by"] is not None:
            raise Conflict(f"action {self.action_id} was undone already (by action {row['undone_by']})")
        if row["kind"] == "purge":
            raise Conflict("a purge cannot be undone: the records were deleted for good")
        self.moved = list((row["summary"] or {}).get("moved", []))  # a merge's comments and tasks: back to their records
        self.obj = (tx.schema.object(row["object_id"])
                    if row["object_id"] is not None and tx.schema.has_object(row["object_id"]) else None)
        self.entries = list(tx.conn.execute(sa.select(_history).where(_history.c.batch == row["batch"])
                                            .order_by(_history.c.id)))
        if not self.entries:
            raise Conflict(f"action {self.action_id} changed nothing that could be undone")

    def validate(self, tx: "Session") -> None:
        schema = tx.schema
        by_object: dict[int, list[Any]] = {}
        for e in self.entries:
            if not schema.has_object(e.object_id):
                raise Conflict(f"action {self.action_id} changed records of an object that no longer exists")
            by_object.setdefault(e.object_id, []).append(e)
        for obj_id, entries in by_object.items():
            obj = schema.object(obj_id)
            table = schema.table(obj)
            ids = sorted({e.record_id for e in entries})
            versions: dict[int, int] = dict(
                tx.conn.execute(sa.select(table.c.id, table.c.version).where(table.c.id.in_(ids))).all())
            visible = tx.fetch(obj, ids, trash=None, fields=["code"])
            label = obj.label_in(None)
            for e in entries:
                if e.record_id not in visible:
                    raise Forbidden(f"a '{label}' record of this action is no longer visible to you or no longer "
                                    "exists; nothing was undone")
                latest = max(x.version for x in entries if x.record_id == e.record_id)
                if versions.get(e.record_id) != latest:
                    code = visible[e.record_id].get("code")
                    raise Conflict(f"{code} changed since this action (version {latest}, now "
                                   f"{versions.get(e.record_id)}); undoing would overwrite that change, so "
                                   "nothing was undone: reload and change it by hand")
        self._plan(tx)

    def _plan(self, tx: "Session") -> None:
        """Turn the entries into the inverse operations and check them (rights, values)."""
        rows: dict[int, list[tuple[int, dict[str, Any], int]]] = {}  # object id -> its records' old values
        for e in self.entries:
            obj = tx.schema.object(e.object_id)
            if e.action == "create":
                self.to_trash.setdefault(obj.id, []).append(e.record_id)
            elif e.action == "restore":
                self.to_trash.setdefault(obj.id, []).append(e.record_id)
            elif e.action == "delete":
                self.to_restore.append((obj, e.record_id))
            elif e.action == "update":
                changes = dict(e.changes or {})
                if "owner" in changes:
                    self.owners.append(OwnerOp(obj, e.record_id, changes.pop("owner")[0], e.version))
                by_key = {f.key: f for f in obj.fields}
                values = {by_key[k].api_name: old for k, (old, _new) in changes.items() if k in by_key}
                if values:  # a merge changes records of several objects (the children it moved)
                    rows.setdefault(obj.id, []).append((e.record_id, values, e.version))
            elif e.action in ("share", "unshare"):
                old, new = (e.changes or {}).get("share", [None, None])
                grantee = old or new
                who = {"user": grantee["user"]} if grantee.get("user") is not None else {"group": grantee["group"]}
                self.shares.append(UnshareOp(obj, e.record_id, who.get("user"), who.get("group")) if old is None
                                   else ShareOp(obj, e.record_id, level=old["level"], **who))
            # unlink / relink entries are part of a delete / restore and reverted with it
        for obj_id, obj_rows in rows.items():
            update = UpdateOp(tx.schema.object(obj_id), obj_rows, single=False)
            update.authorize(tx)
            if not self.to_restore:  # else checked once the records are back (a merge's children point at them)
                _check_old_values(tx, update)
            self.updates.append(update)
        for op in [*self.owners, *self.shares]:
            op.authorize(tx)
            op.validate(tx)
        for obj_id, ids in self.to_trash.items():
            obj = tx.require(obj_id, "delete")
            if len(tx.allowed_ids(obj, ids, "delete")) != len(set(ids)):
                raise Forbidden(f"you may no longer delete every '{obj.label}' record of this action; nothing was undone")
        for obj, rid in self.to_restore:
            tx.require(obj, "delete")
            if not tx.allowed_ids(obj, [rid], "delete"):
                raise Forbidden(f"you may no longer restore this '{obj.label}' record; nothing was undone")

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        cs.summary = {"undoes": self.action_id}
        if self.to_restore and self.updates:  # a merge: the merged records come back, then their children point at them
            self._restore(tx, cs, Trasher(tx, cs))
            for update in self.updates:
                _check_old_values(tx, update)
        for update in self.updates:
            update.write(tx, cs)
        for table_name, row_id, record in self.moved:
            table = ActionRow.metadata.tables[table_name]
            tx.conn.execute(sa.update(table).where(table.c.id == row_id).values(record_id=record))
        for op in [*self.owners, *self.shares]:
            op.write(tx, cs)
        trasher = Trasher(tx, cs)
        for obj_id, ids in self.to_trash.items():
            trasher.trash(tx.schema.object(obj_id), ids)
        if not self.updates:
            self._restore(tx, cs, trasher)

    def _restore(self, tx: "Session", cs: ChangeSet, trasher: Trasher) -> None:
        restored: set[tuple[int, int]] = set()
        for obj, rid in self.to_restore:
            if (obj.id, rid) in restored:
                continue
            before = len(cs.records)
            trasher.restore(obj, rid)
            restored.update((c.obj.id, c.record_id) for c in cs.records[before:] if c.action == "restore")


def _check_old_values(tx: "Session", update: UpdateOp) -> None:
    try:
        update.validate(tx)
    except BulkValidationError as exc:
        raise ValidationError(exc.errors, message="the old values cannot be put back: " + exc.message) from None
