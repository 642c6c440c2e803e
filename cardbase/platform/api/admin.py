"""Users, groups and rights: ``/api/v1/users``, ``/api/v1/groups`` and the rights
sub-resources of objects (``/rights``, ``/rule-views``) and fields (``/rights``).

Everything goes through the engine services the CLI and the admin screens use
(``schema_engine.accounts``, ``schema_engine.rights``), which apply the one admin policy
(``accounts.policy.ADMIN``): admins manage users, groups and rights; users may read the
list of users and groups (to share records or pick an owner) and change their own name,
e-mail, language and password. This module only adapts HTTP to them.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import request, url_for

from cardbase.schema_engine import rights
from cardbase.schema_engine.accounts import groups as accounts_groups, users as accounts_users
from cardbase.schema_engine.accounts.policy import ADMIN
from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import NotFound, ValidationError
from cardbase.schema_engine.meta_models import Group, User, UserGroup
from cardbase.schema_engine.rights.models import (DEFAULT_MODE, OBJECT_RIGHTS, RECORD_SCOPES, FieldRight, ObjectAccess,
                                                  ObjectRight, RecordScope)
from cardbase.schema_engine.rights.scopes import parent_links, set_parent_access, set_record_scope

from ..context import get_db
from .auth import api_actor
from .blueprint import bp
from .http import id_or_name, json_object, json_response, no_content, small_id

_users = User.__table__
_groups = Group.__table__
_members = UserGroup.__table__
USER_CREATE_KEYS = {"username", "password", "display_name", "email", "is_admin", "language"}
USER_CHANGE_KEYS = {"display_name", "email", "language", "active", "is_admin", "password", "current_password"}


def _reject_unknown(body: dict, allowed: set[str], what: str) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ValidationError({k: f"is not an attribute of {what}" for k in unknown})


# ---- users ------------------------------------------------------------------------------------
def user_json(row: Any, actor: Actor, *, full: bool | None = None, groups: list[dict] | None = None) -> dict[str, Any]:
    """A user as the actor may see them: admins and the user themselves everything, others
    the public part (id, username, display name, active)."""
    out = {"id": row.id, "username": row.username, "display_name": row.display_name or row.username,
           "active": bool(row.active)}
    if full is None:
        full = ADMIN.is_admin(actor) or actor.user_id == row.id
    if full:
        if groups is None:
            with get_db().read() as conn:
                groups = [{"id": g.id, "name": g.name} for g in conn.execute(
                    sa.select(_groups.c.id, _groups.c.name).join(_members, _members.c.group_id == _groups.c.id)
                    .where(_members.c.user_id == row.id).order_by(_groups.c.name))]
        out.update({"email": row.email or "", "language": row.language or "en", "is_admin": bool(row.is_admin),
                    "created_at": row.created_at, "groups": groups})
    return out


def _user_row(user_ref: str, actor: Actor) -> Any:
    ident = small_id(user_ref, "user_id")
    row = accounts_users.get_user(get_db(), ident)
    if row is None or (not row.active and not ADMIN.is_admin(actor) and row.id != actor.user_id):
        raise NotFound(f"there is no user with id {ident}")
    return row


@bp.get("/v1/users")
def list_users():
    actor = api_actor()
    with get_db().read() as conn:
        query = sa.select(_users).order_by(_users.c.username)
        if not ADMIN.is_admin(actor):
            query = query.where(_users.c.active.is_(True))
        rows = conn.execute(query).all()
        memberships: dict[int, list[dict]] = {}
        if ADMIN.is_admin(actor):
            for uid, gid, name in conn.execute(sa.select(_members.c.user_id, _groups.c.id, _groups.c.name)
                                               .join(_groups, _groups.c.id == _members.c.group_id)
                                               .order_by(_groups.c.name)):
                memberships.setdefault(uid, []).append({"id": gid, "name": name})
    return json_response({"data": [user_json(r, actor, groups=memberships.get(r.id, []) if ADMIN.is_admin(actor) else None)
                                   for r in rows]})


@bp.post("/v1/users")
def create_user():
    actor = api_actor()
    body = json_object()
    _reject_unknown(body, USER_CREATE_KEYS, "a user")
    row = accounts_users.create_user(get_db(), actor, body.get("username"), body.get("password"),
                                     **{k: body[k] for k in ("display_name", "email", "is_admin", "language")
                                        if k in body})
    return json_response(user_json(row, actor), 201, {"Location": url_for("api.get_user", user_ref=row.id)})


@bp.get("/v1/users/<user_ref>")
def get_user(user_ref: str):
    actor = api_actor()
    return json_response(user_json(_user_row(user_ref, actor), actor))


@bp.patch("/v1/users/<user_ref>")
def update_user(user_ref: str):
    actor = api_actor()
    row = _user_row(user_ref, actor)
    body = json_object()
    _reject_unknown(body, USER_CHANGE_KEYS, "a user")
    changes = {k: v for k, v in body.items() if k in accounts_users.USER_CHANGES}
    row = accounts_users.update_user(get_db(), actor, row.id, password=body.get("password"),
                                     current_password=body.get("current_password"), **changes)
    return json_response(user_json(row, actor))


@bp.delete("/v1/users/<user_ref>")
def deactivate_user(user_ref: str):
    """Users are never deleted (history names them): this deactivates the account."""
    actor = api_actor()
    row = _user_row(user_ref, actor)
    accounts_users.deactivate_user(get_db(), actor, row.id)
    return no_content()


# ---- groups -----------------------------------------------------------------------------------
def group_json(row: Any, members: int) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "description": row.description or "", "member_count": members}


def _group_row(group_ref: str) -> Any:
    ident = small_id(group_ref, "group_id")
    with get_db().read() as conn:
        row = conn.execute(sa.select(_groups).where(_groups.c.id == ident)).first()
        if row is None:
            raise NotFound(f"there is no group with id {ident}")
        count = conn.execute(sa.select(sa.func.count()).select_from(_members)
                             .where(_members.c.group_id == ident)).scalar_one()
    return row, count


@bp.get("/v1/groups")
def list_groups():
    api_actor()
    return json_response({"data": [{"id": g["id"], "name": g["name"], "description": g["description"] or "",
                                    "member_count": g["members"]} for g in accounts_groups.list_groups(get_db())]})


@bp.post("/v1/groups")
def create_group():
    actor = api_actor()
    body = json_object()
    _reject_unknown(body, {"name", "description"}, "a group")
    row = accounts_groups.create_group(get_db(), actor, body.get("name"), body.get("description", "") or "")
    return json_response(group_json(row, 0), 201, {"Location": url_for("api.get_group", group_ref=row.id)})


@bp.get("/v1/groups/<group_ref>")
def get_group(group_ref: str):
    api_actor()
    return json_response(group_json(*_group_row(group_ref)))


@bp.patch("/v1/groups/<group_ref>")
def update_group(group_ref: str):
    actor = api_actor()
    body = json_object()
    _reject_unknown(body, {"name", "description"}, "a group")
    row, _count = _group_row(group_ref)
    accounts_groups.update_group(get_db(), actor, row.id, name=body.get("name"), description=body.get("description"))
    return json_response(group_json(*_group_row(group_ref)))


def _with_rights() -> bool:
    """``?with_rights=true``: the admin asks to delete the group's rights and the records'
    shares with it along with the group."""
    value = request.args.get("with_rights", "false").strip().lower()
    if value not in ("true", "false"):
        raise ValidationError({"with_rights": f"must be true or false, not {value!r}"})
    return value == "true"


@bp.delete("/v1/groups/<group_ref>")
def delete_group(group_ref: str):
    """Refused (409, the rights named in ``usages``) while rights or record shares refer
    to the group, unless ``?with_rights=true``: the accounts layer decides, as for every
    channel."""
    actor = api_actor()
    row, _count = _group_row(group_ref)
    accounts_groups.delete_group(get_db(), actor, row.id, with_rights=_with_rights())
    return no_content()


@bp.get("/v1/groups/<group_ref>/members")
def group_members(group_ref: str):
    actor = api_actor()
    row, _count = _group_row(group_ref)
    with get_db().read() as conn:
        rows = conn.execute(sa.select(_users).join(_members, _members.c.user_id == _users.c.id)
                            .where(_members.c.group_id == row.id).order_by(_users.c.username)).all()
    return json_response({"data": [user_json(r, actor, full=False) for r in rows]})


@bp.put("/v1/groups/<group_ref>/members/<user_ref>")
def add_group_member(group_ref: str, user_ref: str):
    actor = api_actor()
    row, _count = _group_row(group_ref)
    user = _user_row(user_ref, actor)
    accounts_groups.add_member(get_db(), actor, user.id, row.id)
    return no_content()


@bp.delete("/v1/groups/<group_ref>/members/<user_ref>")
def remove_group_member(group_ref: str, user_ref: str):
    actor = api_actor()
    row, _count = _group_row(group_ref)
    user = _user_row(user_ref, actor)
    accounts_groups.remove_member(get_db(), actor, user.id, row.id)
    return no_content()


# ---- object rights ----------------------------------------------------------------------------
def _rights_object(object_name: str):
    actor = api_actor()
    ADMIN.require_admin(actor, "see and change rights")
    schema = get_db().schema()
    if not schema.has_object(object_name):
        raise NotFound(f"there is no object '{object_name}'")
    return actor, schema.object(object_name)


def _object_rights_json(obj) -> dict[str, Any]:
    cols = [getattr(ObjectRight, f"may_{r}") for r in OBJECT_RIGHTS]
    with get_db().read() as conn:
        mode = conn.execute(sa.select(ObjectAccess.mode).where(ObjectAccess.object_id == obj.id)).scalar()
        rows = conn.execute(sa.select(ObjectRight.group_id, Group.name, *cols)
                            .join(Group, Group.id == ObjectRight.group_id)
                            .where(ObjectRight.object_id == obj.id).order_by(Group.name)).all()
        scopes = {r.group_id: (r.name, r.scope) for r in conn.execute(
            sa.select(RecordScope.group_id, RecordScope.scope, Group.name).join(Group, Group.id == RecordScope.group_id)
            .where(RecordScope.object_id == obj.id))}
        parent = parent_links(conn).get(obj.id)
    groups = [{"group_id": r[0], "group": r[1], "rights": [n for n, flag in zip(OBJECT_RIGHTS, r[2:]) if flag],
               "scope": scopes.get(r[0], (None, None))[1]} for r in rows]
    held = {g["group_id"] for g in groups}
    groups += [{"group_id": gid, "group": name, "rights": [], "scope": scope}
               for gid, (name, scope) in scopes.items() if gid not in held]
    groups.sort(key=lambda g: g["group"])
    link = next((f.api_name for f in obj.user_fields if f.id == parent), None) if parent is not None else None
    return {"mode": mode or DEFAULT_MODE, "groups": groups, "parent": link}


@bp.get("/v1/objects/<object_name>/rights")
def get_object_rights(object_name: str):
    _actor, obj = _rights_object(object_name)
    return json_response(_object_rights_json(obj))


@bp.patch("/v1/objects/<object_name>/rights")
def update_object_rights(object_name: str):
    """{"mode": "all" | "own_and_shared", "groups": [{"group": id or name, "rights": [...],
    "scope": record scope or null}], "parent": link name or null}: the access mode, each
    named group's rights (replaced; [] removes them) and record scope (when given), and
    the link the object's records follow (when given; a loop is refused)."""
    body = json_object()
    actor, obj = _rights_object(object_name)
    _reject_unknown(body, {"mode", "groups", "parent"}, "the object's rights (mode, groups, parent)")
    entries = body.get("groups", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValidationError({"groups": 'must be a list like [{"group": "Sales", "rights": ["read", "edit"]}]'})
    for i, entry in enumerate(entries):
        _reject_unknown(entry, {"group", "rights", "scope"}, f"groups[{i}] (group, rights, scope)")
        if entry.get("scope") is not None and entry["scope"] not in RECORD_SCOPES:
            raise ValidationError({f"groups[{i}].scope": f"{entry['scope']!r} is not a record scope; use one of "
                                                         f"{', '.join(RECORD_SCOPES)} or null"})
        if "group" not in entry or "rights" not in entry:
            raise ValidationError({f"groups[{i}]": "needs group and rights"})
    db = get_db()
    if "parent" in body:  # first: a loop is refused before anything else changes
        try:
            set_parent_access(db, actor, obj.api_name, body["parent"])
        except ValidationError as exc:
            raise ValidationError({"parent": [m for v in exc.errors.values() for m in v]}) from None
    if "mode" in body:
        rights.set_access_mode(db, actor, obj.api_name, body["mode"])
    for i, entry in enumerate(entries):
        try:
            rights.set_object_rights(db, actor, id_or_name(entry["group"], f"groups[{i}].group"), obj.api_name,
                                     entry["rights"])
            if "scope" in entry:
                set_record_scope(db, actor, id_or_name(entry["group"], f"groups[{i}].group"), obj.api_name,
                                 entry["scope"])
        except ValidationError as exc:
            raise ValidationError({f"groups[{i}].{k}": v for k, v in exc.errors.items()}) from None
    return json_response(_object_rights_json(obj))


@bp.get("/v1/objects/<object_name>/rule-views")
def list_rule_views(object_name: str):
    _actor, obj = _rights_object(object_name)
    return json_response({"data": rights.rule_views(get_db(), obj.api_name)})


@bp.post("/v1/objects/<object_name>/rule-views")
def save_rule_view(object_name: str):
    """Create or replace (by group and name) a rule view."""
    body = json_object()
    actor, obj = _rights_object(object_name)
    _reject_unknown(body, {"group", "name", "filter", "level"}, "a rule view (group, name, filter, level)")
    view_id = rights.save_rule_view(get_db(), actor, id_or_name(body.get("group"), "group"), obj.api_name,
                                    body.get("name"),
                                    body.get("filter"), level=body.get("level", "read"))
    found = next(v for v in rights.rule_views(get_db(), obj.api_name) if v["id"] == view_id)
    return json_response(found, 201)


@bp.delete("/v1/objects/<object_name>/rule-views/<view_ref>")
def delete_rule_view(object_name: str, view_ref: str):
    actor, obj = _rights_object(object_name)
    ident = small_id(view_ref, "rule_view_id")
    if not any(v["id"] == ident for v in rights.rule_views(get_db(), obj.api_name)):
        raise NotFound(f"object '{obj.api_name}' has no rule view with id {ident}")
    rights.delete_rule_view(get_db(), actor, ident)
    return no_content()


# ---- field rights -----------------------------------------------------------------------------
def _rights_field(object_name: str, field_name: str):
    actor, obj = _rights_object(object_name)
    field = obj.fields_by_name.get(field_name)
    if field is None or field.system:
        raise NotFound(f"object '{obj.api_name}' has no field '{field_name}'")
    return actor, obj, field


def _field_rights_json(field) -> dict[str, Any]:
    with get_db().read() as conn:
        rows = conn.execute(sa.select(FieldRight.group_id, Group.name, FieldRight.level)
                            .join(Group, Group.id == FieldRight.group_id)
                            .where(FieldRight.field_id == field.id).order_by(Group.name)).all()
    return {"groups": [{"group_id": r[0], "group": r[1], "level": r[2]} for r in rows]}


@bp.get("/v1/objects/<object_name>/fields/<field_name>/rights")
def get_field_rights(object_name: str, field_name: str):
    _actor, _obj, field = _rights_field(object_name, field_name)
    return json_response(_field_rights_json(field))


@bp.patch("/v1/objects/<object_name>/fields/<field_name>/rights")
def update_field_rights(object_name: str, field_name: str):
    """{"groups": [{"group": id or name, "level": "hidden" | "read_only" | "editable" | null}]}
    (null removes the group's setting)."""
    body = json_object()
    actor, obj, field = _rights_field(object_name, field_name)
    _reject_unknown(body, {"groups"}, "the field's rights (groups)")
    entries = body.get("groups")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValidationError({"groups": 'must be a list like [{"group": "Sales", "level": "read_only"}]'})
    for i, entry in enumerate(entries):
        _reject_unknown(entry, {"group", "level"}, f"groups[{i}] (group, level)")
        if "group" not in entry or "level" not in entry:
            raise ValidationError({f"groups[{i}]": "needs group and level"})
    for i, entry in enumerate(entries):
        try:
            rights.set_field_right(get_db(), actor, id_or_name(entry["group"], f"groups[{i}].group"), obj.api_name,
                                   field.api_name, entry["level"])
        except ValidationError as exc:
            raise ValidationError({f"groups[{i}].{k}": v for k, v in exc.errors.items()}) from None
    return json_response(_field_rights_json(field))
