"""Record scopes, parent-following access and the admin screens' whole-grid saves.

A group's **record scope** on an object says which records its object rights reach: all
of them, its members' own (and those shared with them), only those its rule views match,
or none (``RECORD_SCOPES``). Without an explicit scope the object's access mode counts.
Rights add up across groups; the scope is what restricts within one group.

An object **following its parent** (order lines following their order) takes its record
access from the record one of its links points at: its rows are reachable exactly when
that record is, for the same right (``RightsAccess._parent_clause``). A chain that comes
back to where it started (A follows B follows A) is refused.

The grids (``group_matrix``/``save_group_matrix``, ``field_grid``/``save_field_grid``)
carry a fingerprint of what they showed: saving a form another admin changed since is a
``Conflict`` that changes nothing. Every change is in the configuration log with before
and after. Each function is one transaction.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from ..accounts.policy import ADMIN
from ..actor import Actor
from ..errors import Conflict, ValidationError
from ..i18n import _
from ..meta_models import Group
from ..rights_models import (FIELD_LEVELS, OBJECT_RIGHTS, RECORD_SCOPES, FieldRight, ObjectAccess, ObjectRight,
                             ParentAccess, RecordScope, DEFAULT_MODE)
from ..snapshot import ObjectInfo, Schema
from .admin import _changed, _check_field_rules, _field, _object, group_id, held_rights

def _stale() -> Conflict:
    return Conflict(_("these rights were changed by someone else since you opened the form; nothing was saved -- "
                      "reload to see their change"))


def _scope_value(scope: Any, key: str = "scope") -> str | None:
    if scope is None or scope == "":
        return None
    if scope not in RECORD_SCOPES:
        raise ValidationError({key: _("%(scope)s is not a record scope; use one of %(scopes)s",
                                      scope=repr(scope), scopes=", ".join(RECORD_SCOPES))})
    return scope


def _scope_of(conn: Connection, gid: int, object_id: int) -> str | None:
    return conn.execute(sa.select(RecordScope.scope).where(RecordScope.group_id == gid,
                                                           RecordScope.object_id == object_id)).scalar()


def _write_scope(conn: Connection, gid: int, object_id: int, scope: str | None) -> None:
    conn.execute(sa.delete(RecordScope).where(RecordScope.group_id == gid, RecordScope.object_id == object_id))
    if scope is not None:
        conn.execute(sa.insert(RecordScope).values(group_id=gid, object_id=object_id, scope=scope))


def set_record_scope(db, actor: Actor, group: Any, obj_ref: Any, scope: str | None) -> None:
    """Set (None: remove, so the object's access mode counts) the group's record scope."""
    ADMIN.require_admin(actor, "change rights")
    scope = _scope_value(scope)
    with db.write() as conn:
        obj = _object(db.schema(conn), obj_ref)
        gid = group_id(conn, group)
        before = _scope_of(conn, gid, obj.id)
        _write_scope(conn, gid, obj.id, scope)
        _changed(conn, actor, "rights.scope", obj.api_name, {"group": gid, "before": before, "after": scope})


# ---- parent-following ----------------------------------------------------------------------------
def parent_links(conn: Connection) -> dict[int, int]:
    """object id -> the link field id it follows."""
    return dict(conn.execute(sa.select(ParentAccess.object_id, ParentAccess.field_id)).all())


def set_parent_access(db, actor: Actor, obj_ref: Any, field_ref: Any) -> None:
    """Let ``obj`` take its record access from the record its link ``field_ref`` points at
    (None: its own rights again). A loop (the parent follows, through any chain, back to
    ``obj``) is refused naming the chain."""
    ADMIN.require_admin(actor, "change rights")
    with db.write() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        links = parent_links(conn)
        before = links.get(obj.id)
        field_id = None
        if field_ref is not None and field_ref != "":
            field = _field(obj, field_ref)
            if field.type != "link":
                raise ValidationError({"field": _("'%(field)s' is not a link: only a link's record can give "
                                                  "%(objects)s their access", field=field.api_name,
                                                  objects=obj.label_plural)})
            field_id = field.stored_id
            links[obj.id] = field_id
            _refuse_loop(schema, obj, links)
        conn.execute(sa.delete(ParentAccess).where(ParentAccess.object_id == obj.id))
        if field_id is not None:
            conn.execute(sa.insert(ParentAccess).values(object_id=obj.id, field_id=field_id))
        _changed(conn, actor, "rights.parent", obj.api_name, {
            "before": _field_name(schema, obj, before), "after": _field_name(schema, obj, field_id)})


def _field_name(schema: Schema, obj: ObjectInfo, field_id: int | None) -> str | None:
    if field_id is None:
        return None
    field = next((f for f in obj.user_fields if f.id == field_id), None)
    return field.api_name if field is not None else str(field_id)


def _refuse_loop(schema: Schema, start: ObjectInfo, links: Mapping[int, int]) -> None:
    chain, current = [start.label_plural], start
    seen = {start.id}
    while current.id in links:
        field = next((f for f in current.user_fields if f.id == links[current.id]), None)
        if field is None:
            return
        current = schema.link_target(field)
        chain.append(current.label_plural)
        if current.id in seen:
            raise ValidationError({"field": _("parent-following would loop: %(chain)s; an object cannot take its "
                                              "access from itself", chain=_(" follow ").join(chain))})
        seen.add(current.id)


# ---- the rights matrix of one group ----------------------------------------------------------------
def _fingerprint(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _group_state(conn: Connection, gid: int) -> dict[str, Any]:
    cols = [getattr(ObjectRight, f"may_{r}") for r in OBJECT_RIGHTS]
    rights = {row[0]: [r for r, flag in zip(OBJECT_RIGHTS, row[1:]) if flag]
              for row in conn.execute(sa.select(ObjectRight.object_id, *cols).where(ObjectRight.group_id == gid))}
    scopes = dict(conn.execute(sa.select(RecordScope.object_id, RecordScope.scope)
                               .where(RecordScope.group_id == gid)).all())
    return {"rights": {str(k): v for k, v in sorted(rights.items())},
            "scopes": {str(k): v for k, v in sorted(scopes.items())}}


def group_matrix(db, group: Any) -> dict[str, Any]:
    """One group's rights on every object for the matrix screen: per object the rights held,
    the explicit record scope (None: the object's access mode ``default_scope``) and the
    link it follows; ``fingerprint`` goes back with the form (``save_group_matrix``)."""
    with db.read() as conn:
        schema = db.schema(conn)
        gid = group_id(conn, group)
        state = _group_state(conn, gid)
        modes = dict(conn.execute(sa.select(ObjectAccess.object_id, ObjectAccess.mode)).all())
        links = parent_links(conn)
        name = conn.execute(sa.select(Group.name).where(Group.id == gid)).scalar_one()
    rows = []
    for obj in schema.objects:
        rows.append({"object": obj, "rights": set(state["rights"].get(str(obj.id), [])),
                     "scope": state["scopes"].get(str(obj.id)), "default_scope": modes.get(obj.id, DEFAULT_MODE),
                     "parent": _field_name(schema, obj, links.get(obj.id))})
    return {"group_id": gid, "group": name, "objects": rows, "fingerprint": _fingerprint(state)}


def save_group_matrix(db, actor: Actor, group: Any, rows: Mapping[Any, Mapping[str, Any]],
                      fingerprint: str | None) -> int:
    """Replace the group's rights and record scopes for the objects in ``rows``
    ({object: {"rights": [...], "scope": scope or None}}); a ``fingerprint`` other than
    the one the rights have now is a Conflict (another admin saved since). Returns how
    many objects changed; each change is logged with before and after."""
    ADMIN.require_admin(actor, "change rights")
    with db.write() as conn:
        schema = db.schema(conn)
        gid = group_id(conn, group)
        if fingerprint is not None and fingerprint != _fingerprint(_group_state(conn, gid)):
            raise _stale()
        changed = 0
        for ref, row in rows.items():
            obj = _object(schema, ref)
            names = list(row.get("rights") or [])
            unknown = [r for r in names if r not in OBJECT_RIGHTS]
            if unknown:
                raise ValidationError({f"{obj.api_name}.rights": f"unknown right {unknown[0]!r}"})
            scope = _scope_value(row.get("scope"), f"{obj.api_name}.scope")
            before = {"rights": held_rights(conn, gid, obj.id), "scope": _scope_of(conn, gid, obj.id)}
            after = {"rights": [r for r in OBJECT_RIGHTS if r in names], "scope": scope}
            if before == after:
                continue
            conn.execute(sa.delete(ObjectRight).where(ObjectRight.group_id == gid, ObjectRight.object_id == obj.id))
            if names:
                conn.execute(sa.insert(ObjectRight).values(group_id=gid, object_id=obj.id,
                                                           **{f"may_{r}": r in names for r in OBJECT_RIGHTS}))
            _write_scope(conn, gid, obj.id, scope)
            _changed(conn, actor, "rights.object", obj.api_name, {"group": gid, "before": before, "after": after})
            changed += 1
        return changed


# ---- the field rights grid of one object ---------------------------------------------------------
def _field_state(conn: Connection, obj: ObjectInfo) -> dict[str, str]:
    ids = [f.id for f in obj.user_fields]
    rows = conn.execute(sa.select(FieldRight.group_id, FieldRight.field_id, FieldRight.level)
                        .where(FieldRight.field_id.in_(ids))).all() if ids else []
    return {f"{g}:{f}": lv for g, f, lv in sorted(rows)}


def field_grid(db, obj_ref: Any) -> dict[str, Any]:
    """Fields x groups of one object: the level each group sets (None: not set, editable)."""
    with db.read() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        state = _field_state(conn, obj)
        groups = conn.execute(sa.select(Group.id, Group.name).order_by(Group.name)).all()
    levels = {(int(k.split(":")[0]), int(k.split(":")[1])): v for k, v in state.items()}
    return {"object": obj, "groups": [{"id": g.id, "name": g.name} for g in groups],
            "fields": [f for f in obj.user_fields], "levels": levels, "fingerprint": _fingerprint(state)}


def save_field_grid(db, actor: Actor, obj_ref: Any, levels: Mapping[tuple[int, int], str | None],
                    fingerprint: str | None) -> int:
    """Set every (group id, field id) -> level (None: not set) of the grid at once; checked
    as a whole (conditional field rules must not reveal a hidden field), all or nothing."""
    ADMIN.require_admin(actor, "change rights")
    with db.write() as conn:
        schema = db.schema(conn)
        obj = _object(schema, obj_ref)
        if fingerprint is not None and fingerprint != _fingerprint(_field_state(conn, obj)):
            raise _stale()
        current = {(int(k.split(":")[0]), int(k.split(":")[1])): v for k, v in _field_state(conn, obj).items()}
        changed = []
        for (gid, field_id), level in levels.items():
            field = _field(obj, field_id)
            if level is not None and level not in FIELD_LEVELS:
                raise ValidationError({f"{field.api_name}": f"{level!r} is not a field level; use one of "
                                                            f"{', '.join(FIELD_LEVELS)}"})
            group_id(conn, gid)
            if current.get((gid, field.stored_id)) == level:
                continue
            conn.execute(sa.delete(FieldRight).where(FieldRight.group_id == gid, FieldRight.field_id == field.id))
            if level is not None:
                conn.execute(sa.insert(FieldRight).values(group_id=gid, field_id=field.id, level=level))
            changed.append((gid, field, current.get((gid, field.stored_id)), level))
        for gid, field, before, level in changed:
            _check_field_rules(conn, schema, gid, field, level)
            _changed(conn, actor, "rights.field", f"{obj.api_name}.{field.api_name}",
                     {"group": gid, "level": level, "before": before, "after": level})
        return len(changed)


__all__ = ["RECORD_SCOPES", "field_grid", "group_matrix", "parent_links", "save_field_grid", "save_group_matrix",
           "set_parent_access", "set_record_scope"]
