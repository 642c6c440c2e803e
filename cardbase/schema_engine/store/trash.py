"""Moving records to the trash, restoring and purging them, with each child link's
on-delete rule: ``restrict`` refuses, ``set_null`` unlinks the children, ``cascade``
trashes them too (and a restore brings back what one delete took along).

Rights reach into the children as well (docs/rights.md): a cascade is refused unless the
deleting user may delete every child it would take along (like Salesforce and Frappe), so
nobody trashes records they cannot see; and the messages name only records the user may
read -- children hidden from them are counted, not named.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import sqlalchemy as sa

from ..errors import Forbidden, InUse, NotFound, ValidationError
from ..i18n import _, language, right_verb
from ..meta_models import HistoryEntry
from ..snapshot import FieldInfo, ObjectInfo
from .changeset import ChangeSet, RecordChange
from .operations import UpdateOp, conflict, record_id
from .validation import BulkValidationError, RowErrors

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

MAX_NAMED = 10  # codes listed in a restrict message


class Trasher:
    """On-delete rules, restore and purge inside one ChangeSet: rows are changed here,
    each record's change is reported to ``cs`` for the pipeline's later steps."""

    def __init__(self, tx: "Session", cs: ChangeSet):
        self.conn, self.schema, self.actor, self.access = tx.conn, tx.schema, tx.actor, tx.access
        self.cs = cs
        self.now = cs.at
        self.seen: set[tuple[int, int]] = set()

    def trash(self, obj: ObjectInfo, ids: list[int]) -> None:
        ids = [i for i in ids if (obj.id, i) not in self.seen]
        if not ids:
            return
        self.seen.update((obj.id, i) for i in ids)
        table = self.schema.table(obj)
        for child, link in self.schema.children(obj):
            ctable = self.schema.table(child)
            col = ctable.c[link.column]
            kids = self.conn.execute(sa.select(ctable.c.id, ctable.c.code, ctable.c.version, col).where(
                col.in_(ids), ctable.c.deleted_at.is_(None))).all()
            kids = [k for k in kids if (child.id, k[0]) not in self.seen]
            if not kids:
                continue
            rule = link.options.get("on_delete", "restrict")
            if rule == "cascade":
                self._check_may_delete(obj, child, link, [k[0] for k in kids])
                self.trash(child, [k[0] for k in kids])
            elif rule == "set_null":
                self._unlink(child, link, kids)
            else:
                raise InUse(f"'{obj.label}' cannot be deleted while records link to it (on delete: restrict)",
                            [self._blocking(child, link, kids)])
        rows: Sequence[Any] = self.conn.execute(sa.select(table.c.id, table.c.version).where(
            table.c.id.in_(ids), table.c.deleted_at.is_(None))).all()
        self.conn.execute(sa.update(table).where(table.c.id.in_(ids), table.c.deleted_at.is_(None)).values(
            deleted_at=self.now, deleted_by=self.actor.user_id, version=table.c.version + 1,
            modified_at=self.now, modified_by=self.actor.user_id))
        for rid, v in rows:
            self.cs.add(RecordChange(obj, rid, "delete", v + 1))

    def _allowed(self, child: ObjectInfo, ids: list[int], right: str) -> set[int]:
        """Which of ``ids`` the actor may ``right`` (the list's row filter for them)."""
        table = self.schema.table(child)
        clause = self.access.row_filter(child, table, right)
        if clause is None:
            return set(ids)
        found: set[int] = set()
        for start in range(0, len(ids), 1000):
            found.update(self.conn.execute(sa.select(table.c.id).where(
                table.c.id.in_(ids[start:start + 1000]), clause)).scalars())
        return found

    def _check_may_delete(self, obj: ObjectInfo, child: ObjectInfo, link: FieldInfo, ids: list[int]) -> None:
        """A cascade takes the children along only if the actor may delete every one of
        them; otherwise nothing is deleted (the transaction rolls back)."""
        if not self.access.restricted:
            return
        denied = len(ids) - len(self._allowed(child, ids, "delete"))
        if denied:
            raise Forbidden(
                f"'{obj.label}' cannot be deleted: its {len(ids)} '{child.label}' record(s) via "
                f"'{link.label}' would be deleted with it (on delete: cascade), and you may not delete "
                f"{denied} of them; ask someone who may delete them, or delete or unlink them first")

    def _blocking(self, child: ObjectInfo, link: FieldInfo, kids) -> str:
        """The children that block a delete, named by code only where the actor may read them."""
        visible = self._allowed(child, [k[0] for k in kids], "read")
        shown = [k[1] for k in kids if k[0] in visible]
        hidden = len(kids) - len(shown)
        parts = []
        if shown:
            parts.append(f"{len(shown)} '{child.label}' record(s) via '{link.label}': "
                         + ", ".join(shown[:MAX_NAMED]) + (" …" if len(shown) > MAX_NAMED else ""))
        if hidden:
            parts.append(f"{hidden} linked '{child.label}' record(s) via '{link.label}' you cannot see")
        return "; ".join(parts)

    def _unlink(self, child: ObjectInfo, link: FieldInfo, kids) -> None:
        ctable = self.schema.table(child)
        ids = [k[0] for k in kids]
        self.conn.execute(sa.update(ctable).where(ctable.c.id.in_(ids)).values(
            {link.column: None, "version": ctable.c.version + 1, "modified_at": self.now,
             "modified_by": self.actor.user_id}))
        for rid, _code, v, target in kids:
            self.cs.add(RecordChange(child, rid, "unlink", v + 1, history={link.key: [target, None]},
                                     fields=frozenset({link.key}), old_links={link.key: {int(target)}},
                                     payload={"fields": [link.api_name]}))

    def _batch_entries(self, batch: str) -> list:
        h = HistoryEntry.__table__
        return list(self.conn.execute(sa.select(h).where(h.c.batch == batch).order_by(h.c.id)))

    def _last_delete_batch(self, obj: ObjectInfo, rid: int) -> str | None:
        return self.conn.execute(sa.select(HistoryEntry.batch).where(
            HistoryEntry.object_id == obj.id, HistoryEntry.record_id == rid, HistoryEntry.action == "delete")
            .order_by(HistoryEntry.id.desc()).limit(1)).scalar()

    def restore(self, obj: ObjectInfo, rid: int) -> None:
        batch = self._last_delete_batch(obj, rid)
        entries = self._batch_entries(batch) if batch else []
        deleted = [(e.object_id, e.record_id) for e in entries if e.action == "delete"] or [(obj.id, rid)]
        restoring = set(deleted)
        for oid, record in deleted:
            self._check_restorable(self.schema.object(oid), record, restoring)
        for oid, record in deleted:
            o = self.schema.object(oid)
            table = self.schema.table(o)
            version = self.conn.execute(sa.update(table).where(table.c.id == record, table.c.deleted_at.is_not(None))
                                        .values(deleted_at=None, deleted_by=None, version=table.c.version + 1,
                                                modified_at=self.now, modified_by=self.actor.user_id)
                                        .returning(table.c.version)).scalar()
            if version is None:
                continue
            # its sources may have changed while it was in the trash: recompute its own fields
            self.cs.add(RecordChange(o, record, "restore", version, recompute_own=True))
        for e in entries:
            if e.action == "unlink":
                self._relink(e)

    def _check_restorable(self, obj: ObjectInfo, rid: int, restoring: set[tuple[int, int]]) -> None:
        table = self.schema.table(obj)
        row = self.conn.execute(sa.select(table).where(table.c.id == rid)).mappings().first()
        if row is None:
            return
        errors = RowErrors()
        for field in obj.user_fields:
            value = row[field.column]
            if value is None:
                continue
            if field.type == "link":
                target = self.schema.link_target(field)
                ttable = self.schema.table(target)
                code, deleted = self.conn.execute(sa.select(ttable.c.code, ttable.c.deleted_at)
                                                  .where(ttable.c.id == value)).one()
                if deleted is not None and (target.id, value) not in restoring:
                    named = code if self._allowed(target, [value], "read") else "record"
                    errors.add(field.api_name, f"'{target.label}' {named} is in the trash; restore it first")
            if field.unique:
                col = table.c[field.column]
                other = self.conn.execute(sa.select(table.c.id, table.c.code).where(
                    col == value, table.c.deleted_at.is_(None), table.c.id != rid).limit(1)).first()
                if other:
                    by = other[1] if self._allowed(obj, [other[0]], "read") else "another record"
                    errors.add(field.api_name, f"must be unique: {value!r} is now used by {by}")
        if errors:
            raise ValidationError(errors, message=f"{row['code']} cannot be restored: " +
                                  "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))

    def _relink(self, entry) -> None:
        child = self.schema.object(entry.object_id)
        for key, (old, _new) in entry.changes.items():
            link = next((f for f in child.user_fields if f.key == key), None)
            if link is None or old is None:
                continue
            table = self.schema.table(child)
            col = table.c[link.column]
            version = self.conn.execute(sa.update(table).where(
                table.c.id == entry.record_id, col.is_(None), table.c.deleted_at.is_(None)).values(
                {link.column: old, "version": table.c.version + 1, "modified_at": self.now,
                 "modified_by": self.actor.user_id}).returning(table.c.version)).scalar()
            if version is not None:
                self.cs.add(RecordChange(child, entry.record_id, "relink", version, history={key: [None, old]},
                                         fields=frozenset({key}), payload={"fields": [link.api_name]}))

    def purge(self, obj: ObjectInfo, rid: int) -> None:
        batch = self._last_delete_batch(obj, rid)
        same_batch = {(e.object_id, e.record_id) for e in self._batch_entries(batch) if e.action == "delete"} \
            if batch else set()
        self._purge(obj, rid, same_batch)

    def _purge(self, obj: ObjectInfo, rid: int, same_batch: set[tuple[int, int]]) -> None:
        if (obj.id, rid) in self.seen:
            return
        self.seen.add((obj.id, rid))
        for child, link in self.schema.children(obj):
            ctable = self.schema.table(child)
            col = ctable.c[link.column]
            kids: Sequence[Any] = self.conn.execute(sa.select(ctable.c.id, ctable.c.deleted_at).where(col == rid)).all()
            for kid, deleted in kids:
                if (child.id, kid) in same_batch and deleted is not None:
                    self._purge(child, kid, same_batch)
                else:
                    version = self.conn.execute(sa.update(ctable).where(ctable.c.id == kid).values(
                        {link.column: None, "version": ctable.c.version + 1}).returning(ctable.c.version)).scalar()
                    self.cs.add(RecordChange(child, kid, "unlink", version or 0, history={link.key: [rid, None]},
                                             fields=frozenset({link.key}), old_links={link.key: {rid}},
                                             payload={"fields": [link.api_name]}))
        table = self.schema.table(obj)
        self.conn.execute(sa.delete(table).where(table.c.id == rid, table.c.deleted_at.is_not(None)))
        self.cs.add(RecordChange(obj, rid, "purge", 0, index="delete"))


# ---- the operations ------------------------------------------------------------------------------
class _OneRecord:
    """Trash, restore or purge one record (and what its links take along)."""

    kind = ""
    trash: bool | None = False  # where the record must be: live (False) or in the trash (True)

    def __init__(self, obj: ObjectInfo, rid: Any, version: Any = None):
        self.obj, self.rid, self.version = obj, record_id(rid), version
        self.current: dict[str, Any] = {}

    def authorize(self, tx: "Session") -> None:
        tx.require(self.obj, "delete")
        found = tx.fetch(self.obj, [self.rid], trash=self.trash)
        if self.rid not in found:
            label = self.obj.label_in(language())
            raise NotFound(_("there is no '%(label)s' record with id %(id)s in the trash", label=label, id=self.rid)
                           if self.trash else _("there is no '%(label)s' record with id %(id)s", label=label, id=self.rid))
        self.current = found[self.rid]
        if not tx.allowed_ids(self.obj, [self.rid], "delete"):
            raise Forbidden(_("you may not %(right)s this '%(label)s' record", right=right_verb("delete"),
                              label=self.obj.label_in(language())))

    def validate(self, tx: "Session") -> None:
        if self.version is not None and self.current["version"] != self.version:
            raise conflict(tx.schema, self.obj, self.current, self.version)


class TrashOp(_OneRecord):
    """Move a record to the trash, applying each child link's on-delete rule."""

    kind = "delete"

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        Trasher(tx, cs).trash(self.obj, [self.rid])


class TrashManyOp(UpdateOp):
    """Move several records to the trash as one action (a list's "Move to trash"): each
    row (id, version or None) is checked like an update -- visible, deletable, not changed
    since -- and every row's problem is reported at once; nothing moves unless all may."""

    kind = "delete"
    right = "delete"

    def __init__(self, obj: ObjectInfo, rows: Sequence[tuple[Any, Any]]):
        super().__init__(obj, [(rid, {}, version) for rid, version in rows], single=False)

    def validate(self, tx: "Session") -> None:
        self.check_versions(tx, required=False)
        if self.errors:
            raise BulkValidationError({i: dict(e) for i, e in sorted(self.errors.items())})

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        Trasher(tx, cs).trash(self.obj, [rid for rid in self.ids if rid is not None])


class RestoreOp(_OneRecord):
    """Bring a record back from the trash, with the children its delete took along."""

    kind = "restore"
    trash = True

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        Trasher(tx, cs).restore(self.obj, self.rid)


class PurgeOp(_OneRecord):
    """Delete a trashed record for good (and what its delete cascaded to)."""

    kind = "purge"
    trash = True

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        Trasher(tx, cs).purge(self.obj, self.rid)
