"""Scenarios in solutions (issue 18, point 4): exported with the configuration -- object
and fields by name, the actor by user name, no incoming-webhook token -- and imported in
the import's one transaction, each checked against the imported metadata exactly as when
it is saved (a scenario that no longer fits refuses the whole document). A scenario of
the same name is replaced. An actor missing in the target is replaced by the importing
user, and the import's report says so. Webhooks and web forms are not part of a solution:
they point at systems and addresses of one installation (and a webhook holds a secret).
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import CardbaseError, SchemaError
from cardbase.schema_engine.meta_models import User
from cardbase.schema_engine.rights.access import AccessPolicy
from cardbase.schema_engine.snapshot import Schema
from cardbase.schema_engine.solution import SolutionPart, solution_part
from cardbase.schema_engine.store.session import Session

from . import clock
from .scenarios import SCENARIOS, _check

KEY = "scenarios"


def export_scenarios(conn: Connection, schema: Schema) -> list[dict[str, Any]]:
    users = dict(conn.execute(sa.select(User.id, User.username)).all())
    out = []
    for row in conn.execute(sa.select(SCENARIOS).order_by(SCENARIOS.c.name)).mappings():
        if row["object_id"] is not None and not schema.has_object(row["object_id"]):
            continue
        trigger = {k: v for k, v in row["trigger"].items() if k != "token"}
        out.append({"name": row["name"], "object": schema.object(row["object_id"]).api_name
                    if row["object_id"] is not None else None, "trigger": trigger, "condition": row["condition"],
                    "actions": row["actions"], "actor": users.get(row["actor_id"]), "active": row["active"]})
    return out


def _session(conn: Connection, schema: Schema, actor: Actor) -> Session:
    """A session over the import's connection and its schema (the import holds no store)."""
    store = SimpleNamespace(db=SimpleNamespace(schema=lambda _conn=None: schema), policy=AccessPolicy(), hooks=None)
    return Session(store, conn, actor, write=False)  # type: ignore[arg-type]


def load_scenarios(conn: Connection, schema: Schema, entries: Any, actor: Actor, report: dict[str, list[str]]) -> None:
    if not isinstance(entries, list):
        raise SchemaError({KEY: "must be a list of scenarios"})
    known = {name for (name,) in conn.execute(sa.select(User.username))}
    importer = actor if actor.user_id is not None else None
    for i, entry in enumerate(entries):
        where = f"{KEY}[{i}]"
        if not isinstance(entry, dict):
            raise SchemaError({where: "must be an object"})
        spec = {k: v for k, v in entry.items() if k in ("name", "object", "trigger", "condition", "actions", "active")}
        note = ""
        wanted = entry.get("actor")
        if isinstance(wanted, str) and wanted in known:
            spec["actor"] = wanted
        elif importer is None:
            admin = conn.execute(sa.select(User.username).where(User.is_admin.is_(True)).order_by(User.id)).scalar()
            if admin is None:
                raise SchemaError({f"{where}.actor": f"no user '{wanted}' here, and no administrator to run it as"})
            spec["actor"] = admin
            note = f" (runs as {admin}: no user '{wanted}' here)"
        else:
            note = f" (runs as {importer.username}: no user '{wanted}' here)" if wanted else ""
        as_admin = Actor(user_id=importer.user_id if importer else None, username=actor.username, is_admin=True)
        try:
            values = _check(_session(conn, schema, as_admin), spec)
        except CardbaseError as exc:
            raise SchemaError({where: f"scenario '{entry.get('name')}': {exc.message}"}) from None
        if values["actor_id"] is None:
            raise SchemaError({f"{where}.actor": "a scenario needs a user to run as"})
        existing = conn.execute(sa.select(SCENARIOS.c.id).where(SCENARIOS.c.name == values["name"])).scalar()
        if existing is None:
            conn.execute(sa.insert(SCENARIOS), {**values, "created_at": clock.now(), "last_checked_at": clock.now()})
            report["added"].append(f"scenario {values['name']}{note}")
        else:
            conn.execute(sa.update(SCENARIOS).where(SCENARIOS.c.id == existing).values(**values))
            report["changed"].append(f"scenario {values['name']}{note}")


solution_part(SolutionPart(KEY, export_scenarios, load_scenarios))
