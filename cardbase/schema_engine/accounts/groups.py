"""Groups (roles, departments, branches …) that rights are given to, and their members.

Only admins manage groups and memberships (nobody adds themselves to a group). Group
changes bump the rights version so every worker reloads the rights; memberships are read
per request (the Actor), so they need no bump.
"""
from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from ..actor import Actor
from ..db import Database
from ..errors import InUse, NotFound, ValidationError
from ..i18n import _, language
from ..meta_models import Group, ObjectType, User, UserGroup
from ..rights_models import FieldRight, ObjectRight, RecordScope, RuleView, Share, bump_rights_version
from . import users
from .policy import ADMIN

_groups = Group.__table__
_members = UserGroup.__table__
_users = User.__table__
MAX_NAME = 150
MAX_DESCRIPTION = 2000


def _name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ValidationError({"name": "is required"})
    if len(name.strip()) > MAX_NAME:
        raise ValidationError({"name": f"is {len(name.strip())} characters long; at most {MAX_NAME} are allowed"})
    return name.strip()


def _description(description: Any) -> str:
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ValidationError({"description": f"must be a text of at most {MAX_DESCRIPTION} characters"})
    return description


def resolve(conn: sa.Connection, ref: Any) -> sa.Row:
    """A group by id or name; NotFound naming the reference."""
    if isinstance(ref, bool) or not isinstance(ref, (int, str)):
        raise ValidationError({"group": "must be a group id or name"})
    column = _groups.c.id if isinstance(ref, int) else _groups.c.name
    row = conn.execute(sa.select(_groups).where(column == ref)).first()
    if row is None:
        raise NotFound(f"there is no group {ref!r}")
    return row


def _name_taken(conn: sa.Connection, name: str, exclude: int | None = None) -> bool:
    query = sa.select(_groups.c.id).where(sa.func.lower(_groups.c.name) == name.lower())
    if exclude is not None:
        query = query.where(_groups.c.id != exclude)
    return conn.execute(query).first() is not None


def create_group(db: Database, actor: Actor, name: str, description: str = "") -> sa.Row:
    """A group that rights are given to (admins only)."""
    ADMIN.require_admin(actor, "create groups")
    name, description = _name(name), _description(description)
    try:
        with db.write() as conn:
            if _name_taken(conn, name):
                raise ValidationError({"name": f"a group named '{name}' already exists"})
            gid: int = conn.execute(sa.insert(_groups).values(name=name, description=description)
                               .returning(_groups.c.id)).scalar_one()
            bump_rights_version(conn)
            return conn.execute(sa.select(_groups).where(_groups.c.id == gid)).one()
    except IntegrityError:
        raise ValidationError({"name": f"a group named '{name}' already exists"}) from None


def update_group(db: Database, actor: Actor, group: Any, *, name: str | None = None,
                 description: str | None = None) -> sa.Row:
    """Rename a group or change its description (admins only)."""
    ADMIN.require_admin(actor, "change groups")
    with db.write() as conn:
        row = resolve(conn, group)
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _name(name)
            if _name_taken(conn, values["name"], exclude=row.id):
                raise ValidationError({"name": f"a group named '{values['name']}' already exists"})
        if description is not None:
            values["description"] = _description(description)
        if values:
            conn.execute(sa.update(_groups).where(_groups.c.id == row.id).values(**values))
            bump_rights_version(conn)
        return conn.execute(sa.select(_groups).where(_groups.c.id == row.id)).one()


def delete_group(db: Database, actor: Actor, group: Any, *, with_rights: bool = False) -> None:
    """Delete a group with its memberships (admins only). A group that rights still refer
    to (object rights, record scopes, field rights, rule views, and records shared with
    the group) is refused with ``InUse`` naming them -- the shares with their count -- in
    every channel (admin screen, REST API, CLI), so no access disappears unnoticed; only
    an explicit ``with_rights=True`` (the API's ``?with_rights=true``, the CLI's
    ``--with-rights``) deletes them along."""
    ADMIN.require_admin(actor, "delete groups")
    labels = {o.id: o.label_plural_in(language()) for o in db.schema().objects}  # objects as the reader names them
    with db.write() as conn:
        row = resolve(conn, group)
        if not with_rights:
            usages = rights_of_group(conn, row.id, labels)
            if usages:
                raise InUse(_("the group '%(name)s' cannot be deleted while rights refer to it (remove them "
                              "first)", name=row.name), usages)
        conn.execute(sa.delete(_groups).where(_groups.c.id == row.id))  # the rest cascades
        bump_rights_version(conn)


def list_groups(db: Database) -> list[dict[str, Any]]:
    """Every group with its member count (anyone may read them: to share records)."""
    with db.read() as conn:
        counts: dict[int, int] = dict(conn.execute(
            sa.select(_members.c.group_id, sa.func.count()).group_by(_members.c.group_id)).all())
        return [{"id": r.id, "name": r.name, "description": r.description, "members": counts.get(r.id, 0)}
                for r in conn.execute(sa.select(_groups).order_by(_groups.c.name))]


def group_members(db: Database, group: Any) -> list[str]:
    with db.read() as conn:
        row = resolve(conn, group)
        return list(conn.execute(sa.select(_users.c.username).join(_members, _members.c.user_id == _users.c.id)
                                 .where(_members.c.group_id == row.id).order_by(_users.c.username)).scalars())


def add_member(db: Database, actor: Actor, user: Any, group: Any) -> None:
    """Put a user into a group (many-to-many). Admins only: nobody adds themselves."""
    ADMIN.require_admin(actor, "add users to groups")
    with db.write() as conn:
        u, g = users.resolve(conn, user), resolve(conn, group)
        if conn.execute(sa.select(_members.c.user_id).where(_members.c.user_id == u.id,
                                                           _members.c.group_id == g.id)).first() is None:
            conn.execute(sa.insert(_members).values(user_id=u.id, group_id=g.id))


def remove_member(db: Database, actor: Actor, user: Any, group: Any) -> None:
    ADMIN.require_admin(actor, "remove users from groups")
    with db.write() as conn:
        u, g = users.resolve(conn, user), resolve(conn, group)
        conn.execute(sa.delete(_members).where(_members.c.user_id == u.id, _members.c.group_id == g.id))


def rights_of_group(conn: sa.Connection, gid: int, labels: Mapping[int, str] | None = None) -> list[str]:
    """What refers to a group, named for a person: object rights, record scopes, field
    rights, rule views and records shared with the group (how many), each with its object
    (``labels``: the objects' names in the reader's language, by id)."""
    names = {**dict(conn.execute(sa.select(ObjectType.id, ObjectType.label_plural)).all()), **(labels or {})}
    out = [_("object rights on %(object)s", object=names.get(o, o)) for o in conn.execute(
        sa.select(ObjectRight.object_id).where(ObjectRight.group_id == gid)).scalars()]
    out += [_("record scope on %(object)s", object=names.get(o, o)) for o in conn.execute(
        sa.select(RecordScope.object_id).where(RecordScope.group_id == gid)).scalars()]
    fields = conn.execute(sa.select(sa.func.count()).select_from(FieldRight).where(FieldRight.group_id == gid)).scalar()
    if fields:
        out.append(_("%(n)s field rights", n=fields))
    out += [_("rule view '%(name)s' on %(object)s", name=n, object=names.get(o, o)) for n, o in conn.execute(
        sa.select(RuleView.name, RuleView.object_id).where(RuleView.group_id == gid))]
    shares = conn.execute(sa.select(Share.object_id, sa.func.count()).where(Share.group_id == gid)
                          .group_by(Share.object_id).order_by(Share.object_id)).all()
    out += [_("record shares on %(object)s: %(n)s", n=n, object=names.get(o, o)) for o, n in shares]
    return out
