"""Builders for the rights tests: the small CRM plus users and groups, without passwords
(hashing is not what these tests are about)."""
from __future__ import annotations

import sqlalchemy as sa

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.meta_models import ConfigChange, Group, HistoryEntry, OutboxEvent, User, UserGroup
from cardbase.schema_engine.rights.models import FieldRight, ObjectAccess, ObjectRight, RuleView, Share


def add_user(db, username: str, *, admin: bool = False) -> int:
    with db.write() as conn:
        return conn.execute(sa.insert(User).values(username=username, display_name=username.title(),
                                                   is_admin=admin).returning(User.id)).scalar_one()


def add_group(db, name: str) -> int:
    with db.write() as conn:
        return conn.execute(sa.insert(Group).values(name=name).returning(Group.id)).scalar_one()


def join(db, user_id: int, *group_ids: int) -> None:
    with db.write() as conn:
        for gid in group_ids:
            conn.execute(sa.insert(UserGroup).values(user_id=user_id, group_id=gid))


def actor(db, user_id: int) -> Actor:
    """The Actor as the platform builds it (groups read from the database)."""
    with db.read() as conn:
        row = conn.execute(sa.select(User).where(User.id == user_id)).mappings().one()
        groups = frozenset(conn.execute(sa.select(UserGroup.group_id).where(UserGroup.user_id == user_id)).scalars())
    return Actor(user_id=user_id, username=row["username"], group_ids=groups, is_admin=bool(row["is_admin"]))


def state(db) -> dict:
    """Everything a refused change must leave as it was: rights, shares, groups, records,
    history, outbox and the configuration log."""
    out = {}
    with db.read() as conn:
        for model in (ObjectRight, ObjectAccess, FieldRight, RuleView, Share, Group, UserGroup, User, ConfigChange):
            out[model.__tablename__] = conn.execute(sa.select(model.__table__)).all()
        schema = db.schema(conn)
        for obj in schema.objects:
            out[obj.api_name] = conn.execute(sa.select(schema.table(obj)).order_by(sa.text("id"))).all()
        out["history"] = conn.execute(sa.select(sa.func.count()).select_from(HistoryEntry)).scalar()
        out["outbox"] = conn.execute(sa.select(sa.func.count()).select_from(OutboxEvent)).scalar()
    return out
