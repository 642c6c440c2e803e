"""Sharing single records with a user or a group: operations of the one pipeline, so a
share is in the record's history, sends an outbox event, runs the hooks and can be undone
like any other change.

You may pass on at most the level you hold yourself (read, change, full); changing or
ending someone else's share needs full access to the record.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..errors import Forbidden, NotFound, ValidationError
from ..actor import Actor
from ..meta_models import Group, User, UserGroup
from ..rights.access import RightsAccess
from ..rights.admin import group_id, user_id
from ..rights.model import current_model
from ..rights_models import LEVEL_RANK, LEVELS, Share
from ..snapshot import ObjectInfo
from .changeset import ChangeSet, RecordChange

if TYPE_CHECKING:  # pragma: no cover
    from .session import Session

_share = Share.__table__


def level_of(held: dict[str, bool]) -> int:
    """The share level (0 none, 1 read, 2 change, 3 full) that record rights amount to."""
    if not held.get("read"):
        return 0
    if held.get("edit") and held.get("delete"):
        return 3
    return 2 if held.get("edit") else 1


class _ShareChange:
    """Common to giving and ending a share: the record, the grantee, the actor's level."""

    def __init__(self, obj: ObjectInfo, rid: Any, user: Any, group: Any):
        if isinstance(rid, bool) or not isinstance(rid, int):
            raise ValidationError({"record": "must be a record id"})
        if (user is None) == (group is None):
            raise ValidationError({"share": "name exactly one of user or group"})
        self.obj, self.rid, self.user, self.group = obj, rid, user, group
        self.uid: int | None = None
        self.gid: int | None = None
        self.mine = 0
        self.version = 0
        self.existing: Any = None

    def authorize(self, tx: "Session") -> None:
        table = tx.schema.table(self.obj)
        held = tx.access.record_rights(self.obj, table, self.rid)
        version = tx.conn.execute(sa.select(table.c.version).where(
            table.c.id == self.rid, table.c.deleted_at.is_(None))).scalar()
        if version is None or not held["read"]:
            raise NotFound(f"there is no '{self.obj.label}' record with id {self.rid}")
        self.mine, self.version = level_of(held), version
        if self.user is not None:
            self.uid = user_id(tx.conn, self.user)
        else:
            self.gid = group_id(tx.conn, self.group)
        who = _share.c.user_id == self.uid if self.uid is not None else _share.c.group_id == self.gid
        self.existing = tx.conn.execute(sa.select(_share.c.id, _share.c.level, _share.c.granted_by).where(
            _share.c.object_id == self.obj.id, _share.c.record_id == self.rid, who)).first()

    def grantee(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid}

    def change(self, cs: ChangeSet, action: str, old: str | None, new: str | None) -> None:
        cs.add(RecordChange(self.obj, self.rid, action, self.version, fields=frozenset(),
                            history={"share": [None if old is None else {**self.grantee(), "level": old},
                                               None if new is None else {**self.grantee(), "level": new}]},
                            payload={**self.grantee(), "level": new}))


class ShareOp(_ShareChange):
    kind = "share"

    def __init__(self, obj: ObjectInfo, rid: Any, *, user: Any = None, group: Any = None, level: str = "read"):
        if level not in LEVELS:
            raise ValidationError({"level": f"{level!r} is not a level; use one of {', '.join(LEVELS)}"})
        super().__init__(obj, rid, user, group)
        self.level = level

    def authorize(self, tx: "Session") -> None:
        super().authorize(tx)
        if self.obj.id in current_model(tx.conn, tx.schema).parents:
            raise ValidationError({"share": f"records of {self.obj.label_plural} take their access from a linked "
                                            "record: share that record instead"})
        if LEVEL_RANK[self.level] > self.mine:
            raise Forbidden(f"you hold {LEVELS[self.mine - 1]} on this '{self.obj.label}' record and cannot share "
                            f"it at {self.level}")
        existing = self.existing
        if existing is not None and existing.level != self.level and self.mine < 3 \
                and existing.granted_by != tx.actor.user_id:
            raise Forbidden(f"this '{self.obj.label}' record is already shared at {existing.level} by someone "
                            "else; changing that needs full access")
        self.check_fields(tx)

    def check_fields(self, tx: "Session") -> None:
        """A share passes on no more than the sharer holds, fields included: refused when a
        recipient (the user, or any member of the group) would read a field hidden from
        the sharer, or -- at change or full -- could change a field the sharer may only
        read. (Field rights are per object, not per record, so a share cannot narrow them.)"""
        access = tx.access
        if not isinstance(access, RightsAccess):
            return  # admins and the system hold every field
        ids = {f.stored_id for f in self.obj.user_fields}
        hidden = access.rights.hidden & ids
        read_only = {i for i in ids - hidden if access.rights.field_level.get(i, "editable") != "editable"} \
            if self.level != "read" else set()
        if not hidden and not read_only:
            return
        for actor in self.recipients(tx):
            theirs = access.model.for_actor(actor)
            if hidden - theirs.hidden:
                raise Forbidden(f"you cannot share this '{self.obj.label}' record with {self.whom(tx)}: they would "
                                f"read {len(hidden - theirs.hidden)} field(s) hidden from you")
            writable = {i for i in read_only if theirs.field_level.get(i, "editable") == "editable"}
            if writable:
                raise Forbidden(f"you cannot share this '{self.obj.label}' record with {self.whom(tx)} at "
                                f"{self.level}: they could change {len(writable)} field(s) you may only read; "
                                "share it at read")

    def recipients(self, tx: "Session") -> list[Actor]:
        """The non-admin users the share reaches, with their groups."""
        wanted = sa.select(User.id).where(User.active.is_(True), User.is_admin.is_(False))
        wanted = wanted.where(User.id == self.uid) if self.uid is not None else wanted.where(
            User.id.in_(sa.select(UserGroup.user_id).where(UserGroup.group_id == self.gid)))
        users = list(tx.conn.execute(wanted).scalars())
        groups: dict[int, set[int]] = {u: set() for u in users}
        if users:
            for uid, gid in tx.conn.execute(sa.select(UserGroup.user_id, UserGroup.group_id)
                                            .where(UserGroup.user_id.in_(users))):
                groups[uid].add(gid)
        return [Actor(user_id=u, group_ids=frozenset(g)) for u, g in groups.items()]

    def whom(self, tx: "Session") -> str:
        if self.uid is not None:
            name = tx.conn.execute(sa.select(User.username).where(User.id == self.uid)).scalar()
            return f"user '{name}'"
        name = tx.conn.execute(sa.select(Group.name).where(Group.id == self.gid)).scalar()
        return f"group '{name}'"

    def validate(self, tx: "Session") -> None:
        pass  # the level was checked when the operation was built, the grantee in authorize

    def write(self, tx: "Session", cs: ChangeSet) -> dict[str, Any]:
        existing = self.existing
        if existing is not None and existing.level == self.level:
            return {**self.grantee(), "level": self.level}
        if existing is not None:
            tx.conn.execute(sa.update(_share).where(_share.c.id == existing.id).values(
                level=self.level, granted_by=tx.actor.user_id))
        else:
            tx.conn.execute(sa.insert(_share).values(object_id=self.obj.id, record_id=self.rid, user_id=self.uid,
                                                     group_id=self.gid, level=self.level,
                                                     granted_by=tx.actor.user_id))
        self.change(cs, "share", existing.level if existing is not None else None, self.level)
        return {**self.grantee(), "level": self.level}


class UnshareOp(_ShareChange):
    kind = "unshare"

    def authorize(self, tx: "Session") -> None:
        super().authorize(tx)
        if self.existing is None:
            raise NotFound(f"this '{self.obj.label}' record is not shared with that "
                           f"{'user' if self.uid else 'group'}")
        if self.mine < 3 and self.existing.granted_by != tx.actor.user_id:
            raise Forbidden("only who shared it, or someone with full access to the record, may end a share")

    def validate(self, tx: "Session") -> None:
        pass

    def write(self, tx: "Session", cs: ChangeSet) -> None:
        tx.conn.execute(sa.delete(_share).where(_share.c.id == self.existing.id))
        self.change(cs, "unshare", self.existing.level, None)


def shares_of(tx: "Session", obj: ObjectInfo, rid: Any) -> list[dict[str, Any]]:
    """Who a (visible) record is shared with."""
    tx.get(obj, rid)
    return share_rows(tx.conn, obj, rid)


def share_rows(conn: sa.Connection, obj: ObjectInfo, rid: int) -> list[dict[str, Any]]:
    """Who a record is shared with, for a caller that has already read the record under
    the reader's rights (the card: its shares without reading the record again)."""
    rows = conn.execute(sa.select(_share.c.user_id, _share.c.group_id, _share.c.level, User.username, Group.name)
                        .select_from(_share.outerjoin(User.__table__, User.id == _share.c.user_id)
                                     .outerjoin(Group.__table__, Group.id == _share.c.group_id))
                        .where(_share.c.object_id == obj.id, _share.c.record_id == rid).order_by(_share.c.id)).all()
    return [{"user": r.username, "user_id": r.user_id, "group": r.name, "group_id": r.group_id, "level": r.level}
            for r in rows]
