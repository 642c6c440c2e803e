"""Changing the rights: object rights, access modes, field rights and rule views (admins
only, by the one admin policy ``accounts.policy.ADMIN``). Shares of single records are
record changes of the store's pipeline (``store/sharing.py``).

Every function is one transaction: a refused change (bad group, field, filter, level, or
no right to make it) raises a clear error and changes nothing. Definition changes bump
the rights version (other workers reload) and are written to the configuration log.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from ..accounts.policy import ADMIN
from ..actor import Actor
from ..errors import NotFound, ValidationError
from ..field_rules import rule_fields, rules_reading
from ..meta_models import ConfigChange, Group, User
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..rights_models import (ACCESS_MODES, DEFAULT_MODE, FIELD_LEVELS, LEVELS, OBJECT_RIGHTS, FieldRight,
                             ObjectAccess, ObjectRight, RuleView, bump_rights_version)
from .access import AccessPolicy
from .stored_filter import to_named, to_stored

MAX_NAME = 200


# ---- helpers ---------------------------------------------------------------------------------
def group_id(conn: Connection, ref: Any, key: str = "group") -> int:
    """A group's id from its id or name; ValidationError naming the group if there is none."""
    if isinstance(ref, bool) or not isinstance(ref, (int, str)) or ref == "":
        raise ValidationError({key: "must be a group id or name"})
    column = Group.id if isinstance(ref, int) else Group.name
    found = conn.execute(sa.select(Group.id).where(column == ref)).scalar()
    if found is None:
        raise ValidationError({key: f"there is no group {ref!r} (was it deleted?)"})
    return found


def user_id(conn: Connection, ref: Any, key: str = "user") -> int:
    if isinstance(ref, bool) or not isinstance(ref, (int, str)) or ref == "":
        raise ValidationError({key: "must be a user id or username"})
    column = User.id if isinstance(ref, int) else User.username
    found = conn.execute(sa.select(User.id).where(column == ref, User.active.is_(True))).scalar()
    if found is None:
        raise ValidationError({key: f"there is no active user {ref!r}"})
    return found


def _object(schema: Schema, ref: Any) -> ObjectInfo:
    if isinstance(ref, ObjectInfo):
        ref = ref.id
    if not isinstance(ref, (int, str)) or isinstance(ref, bool) or not schema.has_object(ref):
        raise ValidationError({"object": f"there is no object {ref!r}"})
    return schema.object(ref)


def _field(obj: ObjectInfo, ref: Any) -> FieldInfo:
    if isinstance(ref, FieldInfo):
        ref = ref.id if ref.id is not None else ref.api_name
    field = None
    if isinstance(ref, int) and not isinstance(ref, bool):
        field = next((f for f in obj.user_fields if f.id == ref), None)
    elif isinstance(ref, str):
        field = obj.fields_by_name.get(ref)
    if field is None:
        raise ValidationError({"field": f"object '{obj.api_name}' has no field {ref!r} (was it removed?)"})
    if field.system:
        raise ValidationError({"field": f"'{field.api_name}' is a system field: it is always readable and "
                                        "written only by the system"})
    return field


def held_rights(conn: Connection, gid: int, object_id: int) -> list[str]:
    """The object rights a group holds on an object now, as stored (for logs and forms)."""
    cols = [getattr(ObjectRight, f"may_{r}") for r in OBJECT_RIGHTS]
    row = conn.execute(sa.select(*cols).where(ObjectRight.group_id == gid, ObjectRight.object_id == object_id)).first()
    return [] if row is None else [r for r, flag in zip(OBJECT_RIGHTS, row) if flag]


def _log(conn: Connection, actor: Actor, action: str, target: str, details: Mapping[str, Any]) -> None:
    conn.execute(sa.insert(ConfigChange).values(actor_id=actor.user_id, action=action, target=target[:200],
                                                details=dict(details)))


def _changed(conn: Connection, actor: Actor, action: str, target: str, details: Mapping[str, Any]) -> None:
    bump_rights_version(conn)
    _log(conn, actor, action, target, details)


# ---- object rights and access mode ---------------------------------------------------------------
def set_object_rights(db, actor: Actor, group: Any, obj_ref: Any, rights: Iterable[str] | Mapping[str, bool]) -> frozenset[str]:
    """Replace what ``group`` may do with the object: a list of rights (or {right: bool})
    out of read, create, edit, delete, export, print, report, configure."""
    ADMIN.require_admin(actor, "change rights")
    if isinstance(rights, Mapping):
        names = [k for k, v in rights.items() if v] + [k for k in rights if k not in OBJECT_RIGHTS]
    elif isinstance(rights, (list, tuple, set, frozenset)):
        names = list(rights)
    else:
        raise ValidationError({"rights": "must be a list of rights like [\"read\", \"edit\"]"})
    unknown = [r for r in names if r not in OBJECT_RIGHTS]
    if unknown:
        raise ValidationError({"rights": f"unknown right {unknown[0]!r}; rights are {', '.join(OBJECT_RIGHTS)}"})
    with db.write() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        gid = group_id(conn, group)
        before = held_rights(conn, gid, obj.id)
        conn.execute(sa.delete(ObjectRight).where(ObjectRight.group_id == gid, ObjectRight.object_id == obj.id))
        if names:
            conn.execute(sa.insert(ObjectRight).values(group_id=gid, object_id=obj.id,
                                                       **{f"may_{r}": r in names for r in OBJECT_RIGHTS}))
        _changed(conn, actor, "rights.object", f"{obj.api_name}", {"group": gid, "rights": sorted(set(names)),
                                                                       "before": before, "after": sorted(set(names))})
    return frozenset(names)


def set_access_mode(db, actor: Actor, obj_ref: Any, mode: str) -> None:
    """"all": group members with read see every record; "own_and_shared": their own
    records, those shared with them and those their rule views match."""
    ADMIN.require_admin(actor, "change rights")
    if mode not in ACCESS_MODES:
        raise ValidationError({"mode": f"{mode!r} is not an access mode; use one of {', '.join(ACCESS_MODES)}"})
    with db.write() as conn:
        obj = _object(db.schema(conn), obj_ref)
        before = conn.execute(sa.select(ObjectAccess.mode).where(ObjectAccess.object_id == obj.id)).scalar()
        conn.execute(sa.delete(ObjectAccess).where(ObjectAccess.object_id == obj.id))
        conn.execute(sa.insert(ObjectAccess).values(object_id=obj.id, mode=mode))
        _changed(conn, actor, "rights.mode", obj.api_name, {"mode": mode, "before": before or DEFAULT_MODE,
                                                            "after": mode})


# ---- field rights ------------------------------------------------------------------------------
def set_field_right(db, actor: Actor, group: Any, obj_ref: Any, field_ref: Any, level: str | None) -> None:
    """Set (or with None remove) the group's level for a field: hidden, read_only, editable."""
    ADMIN.require_admin(actor, "change rights")
    if level is not None and level not in FIELD_LEVELS:
        raise ValidationError({"level": f"{level!r} is not a field level; use one of {', '.join(FIELD_LEVELS)}"})
    with db.write() as conn:
        obj = _object(db.schema(conn), obj_ref)
        field = _field(obj, field_ref)
        gid = group_id(conn, group)
        _check_field_rules(conn, db.schema(conn), gid, field, level)
        before = conn.execute(sa.select(FieldRight.level).where(FieldRight.group_id == gid,
                                                                FieldRight.field_id == field.id)).scalar()
        conn.execute(sa.delete(FieldRight).where(FieldRight.group_id == gid, FieldRight.field_id == field.id))
        if level is not None:
            conn.execute(sa.insert(FieldRight).values(group_id=gid, field_id=field.id, level=level))
        _changed(conn, actor, "rights.field", f"{obj.api_name}.{field.api_name}", {"group": gid, "level": level,
                                                                                      "before": before, "after": level})


def _check_field_rules(conn, schema, gid: int, field, level: str | None) -> None:
    """Conditional field rules must not reveal a hidden field (field_rules.check_rule_rights):
    a group that hides a field a rule reads must hide the ruled field too."""
    levels = dict(conn.execute(sa.select(FieldRight.field_id, FieldRight.level).where(FieldRight.group_id == gid)).all())
    levels[field.id] = level
    hidden = {f for f, lv in levels.items() if lv == "hidden"}
    pairs = [(ruled, kind, field) for ruled, kind in rules_reading(schema, field)]
    pairs += [(field, kind, used) for kind, used in rule_fields(schema, field)]
    for ruled, kind, used in pairs:
        if used.id in hidden and ruled.id not in hidden and used.id != ruled.id:
            raise ValidationError({"level": f"the rule '{kind}' of field '{ruled.api_name}' reads "
                                            f"'{used.api_name}': a group that hides '{used.api_name}' must hide "
                                            f"'{ruled.api_name}' too, or its members could infer the hidden value"})


# ---- rule views ----------------------------------------------------------------------------------
def save_rule_view(db, actor: Actor, group: Any, obj_ref: Any, name: str, filter: Any,
                   level: str = "read", view_id: int | None = None) -> int:
    """Create or replace (by name) a rule view: members of ``group`` get ``level`` (read,
    change, full) on the records ``filter`` matches. The filter is checked now and stored
    with field ids. With ``view_id`` that rule view is changed (its name and group too);
    a name its group already uses on the object is refused."""
    ADMIN.require_admin(actor, "change rights")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValidationError({"name": f"must be a text of 1 to {MAX_NAME} characters"})
    if level not in LEVELS:
        raise ValidationError({"level": f"{level!r} is not a level; use one of {', '.join(LEVELS)}"})
    with db.write() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        gid = group_id(conn, group)
        stored = to_stored(schema, obj, filter)
        existing_row = conn.execute(sa.select(RuleView.id, RuleView.filter, RuleView.level).where(
            RuleView.group_id == gid, RuleView.object_id == obj.id, RuleView.name == name.strip())).first()
        existing = None if existing_row is None else existing_row.id
        before = None if existing_row is None else {"level": existing_row.level, "filter": existing_row.filter}
        if view_id is not None:
            if existing is not None and existing != view_id:
                raise ValidationError({"name": f"the group already has a rule view '{name.strip()}' on "
                                               f"{obj.label_plural}"})
            old = conn.execute(sa.select(RuleView).where(RuleView.id == view_id, RuleView.object_id == obj.id)).first()
            if old is None:
                raise NotFound(f"there is no rule view #{view_id} on {obj.label_plural}")
            before = {"group": old.group_id, "name": old.name, "level": old.level, "filter": old.filter}
            conn.execute(sa.update(RuleView).where(RuleView.id == view_id).values(
                group_id=gid, name=name.strip(), filter=stored, level=level))
            _changed(conn, actor, "rights.rule_view", f"{obj.api_name}: {name.strip()}",
                     {"group": gid, "level": level, "filter": stored, "before": before,
                      "after": {"group": gid, "name": name.strip(), "level": level, "filter": stored}})
            return view_id
        if existing is None:
            view_id = conn.execute(sa.insert(RuleView).values(
                group_id=gid, object_id=obj.id, name=name.strip(), filter=stored, level=level
            ).returning(RuleView.id)).scalar_one()
        else:
            view_id = existing
            conn.execute(sa.update(RuleView).where(RuleView.id == existing).values(filter=stored, level=level))
        _changed(conn, actor, "rights.rule_view", f"{obj.api_name}: {name.strip()}",
                 {"group": gid, "level": level, "filter": stored, "before": before,
                  "after": {"level": level, "filter": stored}})
    return view_id


def delete_rule_view(db, actor: Actor, view_id: int) -> None:
    ADMIN.require_admin(actor, "change rights")
    with db.write() as conn:
        row = conn.execute(sa.select(RuleView.name, RuleView.object_id, RuleView.group_id, RuleView.level,
                                     RuleView.filter).where(RuleView.id == view_id)).first()
        if row is None:
            raise NotFound(f"there is no rule view #{view_id}")
        conn.execute(sa.delete(RuleView).where(RuleView.id == view_id))
        _changed(conn, actor, "rights.rule_view.delete", row.name, {
            "id": view_id, "before": {"group": row.group_id, "level": row.level, "filter": row.filter}, "after": None})


def rule_views(db, obj_ref: Any) -> list[dict[str, Any]]:
    """The rule views of an object, filters with today's field names (for admin screens)."""
    with db.read() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        out = []
        for row in conn.execute(sa.select(RuleView, Group.name.label("group_name")).join(
                Group, Group.id == RuleView.group_id).where(RuleView.object_id == obj.id)
                .order_by(RuleView.id)).mappings():
            try:
                tree, error = to_named(schema, obj, row["filter"]), None
            except ValidationError as exc:
                tree, error = None, exc.message
            out.append({"id": row["id"], "group": row["group_name"], "name": row["name"], "level": row["level"],
                        "filter": tree, "error": error})
        return out


def can_configure(db, actor: Actor, obj_ref: Any = None, policy=None) -> bool:
    """May the actor use the configurator (for ``obj_ref``, or at all when None)?
    Admins always; others with the configure right on that object (on any, when None)."""
    if actor.is_admin:
        return True
    with db.read() as conn:
        schema = db.schema(conn)
        access = (policy or AccessPolicy()).access(conn, schema, actor)
        objects = [_object(schema, obj_ref)] if obj_ref is not None else list(schema.objects)
        return any(access.can(o, "configure") for o in objects)
