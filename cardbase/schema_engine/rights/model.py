"""The rights definitions loaded into memory and what they give one actor.

A ``RightsModel`` holds every object right, access mode, field right and rule view of one
(schema version, rights version). Each worker keeps the last one per engine and reloads
it when either version moved (one indexed read per transaction). ``ActorRights`` is what
the model gives a user with a set of groups; it is computed once per group set and
cached on the model.

Semantics (docs/rights.md):
  * grants add up: the object rights of all the actor's groups are united; edit and
    delete imply read;
  * a field's level is the highest level any of the actor's groups sets explicitly for
    it (a restriction holds unless another group grants more); no group setting it means
    editable;
  * admins (and the system) are never restricted.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field as dc_field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from ..actor import Actor
from ..errors import ValidationError
from ..meta_models import Group
from ..snapshot import Schema
from ..rights_models import (DEFAULT_MODE, FIELD_RANK, LEVEL_RANK, OBJECT_RIGHTS, FieldRight, ObjectAccess, ObjectRight,
                     ParentAccess, RecordScope, RuleView, rights_version)
from ..field_types.base import RELATIVE_DATES
from .stored_filter import to_named

READ_GIVING = frozenset({"read", "create", "edit", "delete"})  # rights that let owners read their records
ACTOR_CACHE = 2048


@dataclass(frozen=True)
class RuleViewDef:
    id: int
    group_id: int
    object_id: int
    name: str
    level: str
    tree: dict | None  # with today's field names; None when broken
    error: str | None = None
    dated: bool = False  # uses a date relative to today ("this month"): its clause changes with the day

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.level]


@dataclass
class ActorRights:
    """What the definitions give one (user, groups)."""

    user_id: int | None
    group_ids: frozenset[int]
    held: dict[int, frozenset[str]]  # object id -> united object rights
    field_level: dict[int, str]  # field id -> level, only fields some group sets
    rule_views: dict[int, tuple[RuleViewDef, ...]]  # object id -> the actor's working rule views
    hidden: frozenset[int] = dc_field(default=frozenset())
    # Built clauses for the model's tables (and link aliases handed out to this actor):
    # the rights and the schema snapshot they are built on are both fixed for a model.
    clauses: dict = dc_field(default_factory=dict)

    def rights_on(self, object_id: int) -> frozenset[str]:
        return self.held.get(object_id, frozenset())


class RightsModel:
    def __init__(self, version: int, schema_version: int, object_rights: dict[int, dict[int, frozenset[str]]],
                 modes: dict[int, str], field_levels: dict[int, dict[int, str]],
                 rule_views: dict[int, tuple[RuleViewDef, ...]], group_names: dict[int, str],
                 scopes: dict[tuple[int, int], str] | None = None, parents: dict[int, int] | None = None):
        self.version, self.schema_version = version, schema_version
        self.object_rights = object_rights  # group -> object -> rights
        self.modes = modes
        self.field_levels = field_levels  # group -> field -> level
        self.rule_views = rule_views  # object -> all rule views
        self.group_names = group_names
        self.scopes = scopes or {}  # (group, object) -> record scope set explicitly
        self.parents = parents or {}  # object -> the link field it takes its record access from
        self._actors: OrderedDict[tuple, ActorRights] = OrderedDict()
        self._lock = threading.Lock()

    def mode(self, object_id: int) -> str:
        return self.modes.get(object_id, DEFAULT_MODE)

    def scope(self, group_id: int, object_id: int) -> str:
        """Which records the group's object rights reach on the object: its explicit record
        scope, else the object's access mode ("all" or "own_and_shared")."""
        return self.scopes.get((group_id, object_id)) or self.mode(object_id)

    def scope_is_explicit(self, group_id: int, object_id: int) -> bool:
        return (group_id, object_id) in self.scopes

    def for_actor(self, actor: Actor) -> ActorRights:
        key = (actor.user_id, actor.group_ids)
        with self._lock:
            found = self._actors.get(key)
            if found is not None:
                self._actors.move_to_end(key)
                return found
        groups = frozenset(g for g in actor.group_ids if g in self.group_names)
        held: dict[int, set[str]] = {}
        levels: dict[int, str] = {}
        for g in groups:
            for obj_id, rights in self.object_rights.get(g, {}).items():
                held.setdefault(obj_id, set()).update(rights)
            for field_id, level in self.field_levels.get(g, {}).items():
                if field_id not in levels or FIELD_RANK[level] > FIELD_RANK[levels[field_id]]:
                    levels[field_id] = level
        # A rule view grants nothing while its group's record scope on the object is "none".
        views = {obj_id: tuple(v for v in defs if v.group_id in groups and v.tree is not None
                               and self.scope(v.group_id, obj_id) != "none")
                 for obj_id, defs in self.rule_views.items()}
        result = ActorRights(actor.user_id, groups, {k: frozenset(v) for k, v in held.items()}, levels,
                             {k: v for k, v in views.items() if v},
                             frozenset(f for f, lv in levels.items() if lv == "hidden"))
        with self._lock:
            self._actors[key] = result
            while len(self._actors) > ACTOR_CACHE:
                self._actors.popitem(last=False)
        return result


def _normalise(rights: set[str]) -> frozenset[str]:
    if rights & {"edit", "delete"}:
        rights.add("read")
    return frozenset(rights)


def load_model(conn: Connection, schema: Schema, version: int | None = None) -> RightsModel:
    version = rights_version(conn) if version is None else version
    group_names = dict(conn.execute(sa.select(Group.id, Group.name)).all())
    object_rights: dict[int, dict[int, frozenset[str]]] = {}
    cols = [getattr(ObjectRight, f"may_{r}") for r in OBJECT_RIGHTS]
    for row in conn.execute(sa.select(ObjectRight.group_id, ObjectRight.object_id, *cols)):
        rights = {r for r, flag in zip(OBJECT_RIGHTS, row[2:]) if flag}
        object_rights.setdefault(row[0], {})[row[1]] = _normalise(rights)
    modes = dict(conn.execute(sa.select(ObjectAccess.object_id, ObjectAccess.mode)).all())
    field_levels: dict[int, dict[int, str]] = {}
    for group_id, field_id, level in conn.execute(sa.select(FieldRight.group_id, FieldRight.field_id,
                                                            FieldRight.level)):
        field_levels.setdefault(group_id, {})[field_id] = level
    rule_views: dict[int, list[RuleViewDef]] = {}
    for view in conn.execute(sa.select(RuleView).order_by(RuleView.id)).mappings():
        tree, error = None, None
        if not schema.has_object(view["object_id"]):
            continue
        obj = schema.object(view["object_id"])
        try:
            tree = to_named(schema, obj, view["filter"])
        except (ValidationError, KeyError, TypeError, ValueError) as exc:  # grants nothing
            error = getattr(exc, "message", str(exc))
        rule_views.setdefault(view["object_id"], []).append(RuleViewDef(
            view["id"], view["group_id"], view["object_id"], view["name"], view["level"], tree, error,
            _dated(tree)))
    scopes = {(g, o): scope for g, o, scope in conn.execute(
        sa.select(RecordScope.group_id, RecordScope.object_id, RecordScope.scope))}
    parents = {o: f for o, f in conn.execute(sa.select(ParentAccess.object_id, ParentAccess.field_id))
               if schema.has_object(o) and _is_link_of(schema, o, f)}
    return RightsModel(version, schema.version, object_rights, modes, field_levels,
                       {k: tuple(v) for k, v in rule_views.items()}, group_names, scopes, parents)


def _dated(tree: Any) -> bool:
    """Does the condition use an operator relative to today (query/relative.py)?"""
    if isinstance(tree, dict):
        if tree.get("op") in RELATIVE_DATES:
            return True
        return any(_dated(v) for k, v in tree.items() if k in ("and", "or", "not"))
    if isinstance(tree, list):
        return any(_dated(v) for v in tree)
    return False


def _is_link_of(schema: Schema, object_id: int, field_id: int) -> bool:
    field = next((f for f in schema.object(object_id).user_fields if f.id == field_id), None)
    return field is not None and field.type == "link"


_models: "weakref.WeakKeyDictionary[Any, RightsModel]" = weakref.WeakKeyDictionary()
_models_lock = threading.Lock()
_TX_KEY = "cardbase_rights"


def current_model(conn: Connection, schema: Schema) -> RightsModel:
    """The model for this transaction: the rights version is read once per transaction,
    and the model reloaded only when it (or the schema version) moved."""
    txn = conn.get_transaction()
    slot = conn.info.get(_TX_KEY)
    if txn is not None and slot is not None and slot[0] is txn and slot[1].schema_version == schema.version:
        return slot[1]
    version = rights_version(conn)
    engine = conn.engine
    model = _models.get(engine)
    if model is None or model.version != version or model.schema_version != schema.version:
        model = load_model(conn, schema, version)
        if not conn.get_execution_options().get("cardbase_schema_tx"):
            with _models_lock:
                _models[engine] = model
    conn.info[_TX_KEY] = (txn, model)
    return model


def tx_cache(conn: Connection) -> dict:
    """A dict living as long as the current transaction (per-operation memo)."""
    txn = conn.get_transaction()
    slot = conn.info.get("cardbase_rights_memo")
    if txn is None or slot is None or slot[0] is not txn:
        slot = (txn, {})
        conn.info["cardbase_rights_memo"] = slot
    return slot[1]


def forget(conn: Connection) -> None:
    """Drop this transaction's memo (after a rights change made in it)."""
    conn.info.pop(_TX_KEY, None)
    conn.info.pop("cardbase_rights_memo", None)


def group_names(model: RightsModel, ids) -> str:
    return ", ".join(sorted(f"'{model.group_names[g]}'" for g in ids if g in model.group_names))


__all__ = ["ActorRights", "RightsModel", "RuleViewDef", "current_model", "load_model", "tx_cache",
           "READ_GIVING"]
