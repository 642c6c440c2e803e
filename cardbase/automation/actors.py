"""Actors of background work: a webhook's owner, a scenario's named actor, a web form's actor.

The worker has no request and no login: it reads the user row and the groups itself, so a
scenario or a webhook acts with exactly the rights its actor has now."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.meta_models import User, UserGroup


def actor_of(conn: Connection, user_id: int | None, field: str = "actor") -> Actor:
    """The Actor of an active user; a ValidationError naming ``field`` otherwise."""
    row = None if user_id is None else conn.execute(
        sa.select(User.id, User.username, User.is_admin, User.language, User.active).where(User.id == user_id)).first()
    if row is None or not row.active:
        raise ValidationError({field: f"there is no active user with id {user_id}"})
    groups = frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == row.id)).scalars())
    return Actor(user_id=row.id, username=row.username, group_ids=groups, is_admin=bool(row.is_admin),
                 language=row.language or "en")


def user_id_by_name(conn: Connection, name: object, field: str = "actor") -> int:
    if isinstance(name, int) and not isinstance(name, bool):
        found = conn.execute(sa.select(User.id).where(User.id == name, User.active.is_(True))).scalar()
    elif isinstance(name, str):
        found = conn.execute(sa.select(User.id).where(User.username == name, User.active.is_(True))).scalar()
    else:
        found = None
    if found is None:
        raise ValidationError({field: f"there is no active user {name!r}"})
    return int(found)
