"""One dependency graph across all objects, built from a schema snapshot and cached with
it: the computed definitions, their topological rank, and for every object the
(definition, path, position) triples that read it -- what a change of that object's
records can affect. A cycle is refused when a definition is saved, with the cycle shown
by labels: "Order.Total -> Order line.Cost -> Order.Total"."""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Iterable

from ...formula import CycleError, DependencyGraph, FormulaError
from ..errors import CardbaseError, SchemaError
from ..field_types.computed import computed_type, is_computed
from ..snapshot import FieldInfo, Schema
from .defs import ComputedDef, make_def
from .keys import KeyPath

log = logging.getLogger(__name__)
Reader = tuple[ComputedDef, KeyPath, int]  # definition, one of its paths, position on the path
_cache: "weakref.WeakKeyDictionary[Schema, Plan]" = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()
_BROKEN = (FormulaError, CardbaseError, LookupError, KeyError, ValueError)


class Plan:
    def __init__(self, schema: Schema, fields: Iterable[FieldInfo]):
        self.schema = schema
        self.defs: dict[str, ComputedDef] = {}
        self.broken: dict[int, str] = {}  # field id -> why its stored definition no longer loads
        fields = list(fields)
        for field in fields:
            self._add(field)
        self.graph = DependencyGraph()
        for field in fields:  # a broken one keeps its edges (stored ids): it still depends
            d = self.defs.get(str(field.id))
            deps = d.depends_on() if d is not None else {str(i) for i in field.options.get("references", ())}
            self.graph.add(str(field.id), sorted(deps))
        nodes = [str(f.id) for f in fields]
        try:
            order = self.graph.topological_order(nodes)
        except CycleError:  # only a draft being checked can have one
            order = nodes
        self.rank = {key: i for i, key in enumerate(order)}
        for d in self.defs.values():
            if d.pending:  # shadow values are read by nobody: after every live definition
                self.rank[d.key] = len(order) + self.rank.get(str(d.field.id), 0)
        self.readers: dict[int, list[Reader]] = {}
        self.by_object: dict[int, list[ComputedDef]] = {}
        for d in sorted(self.defs.values(), key=lambda d: self.rank[d.key]):
            self.by_object.setdefault(d.obj.id, []).append(d)
            for path in d.paths:
                for position, obj in enumerate(path.objects):
                    self.readers.setdefault(obj.id, []).append((d, path, position))

    def _add(self, field: FieldInfo) -> None:
        try:
            self.defs[str(field.id)] = make_def(self.schema, field)
            shadow = computed_type(field).pending_field(field)
            if shadow is not None:
                d = make_def(self.schema, shadow, pending=True)
                self.defs[d.key] = d
        except _BROKEN as exc:
            self.broken[field.stored_id] = str(exc)
            log.warning("computed field #%s cannot be evaluated: %s", field.id, exc)

    def label(self, node: str) -> str:
        d = self.defs.get(node)
        if d is not None:
            return d.label
        f = self.schema.field_by_id(int(node))
        return f"{self.schema.object(f.object_id).label}.{f.label}"

    def dependants(self, field_id: int) -> list[int]:
        """Ids of the computed fields that read the field, directly or through others
        (broken ones included), in rank order."""
        keys = self.graph.affected_by([str(field_id)])
        return [int(k) for k in sorted(keys, key=lambda k: self.rank.get(k, len(self.rank)))]


def computed_fields(schema: Schema) -> list[FieldInfo]:
    return [f for o in schema.objects for f in o.user_fields if is_computed(f)]


def plan_for(schema: Schema) -> Plan:
    """The plan of a schema snapshot (built once per snapshot)."""
    with _cache_lock:
        plan = _cache.get(schema)
    if plan is None:
        plan = Plan(schema, computed_fields(schema))
        with _cache_lock:
            plan = _cache.setdefault(schema, plan)
    return plan


def check_definition(schema: Schema, field: FieldInfo) -> None:
    """Refuse a computed field's new definition that would close a cycle; the message
    shows it with labels. ``field`` may not be in ``schema`` yet (being added/changed)."""
    others = [f for f in computed_fields(schema) if f.id != field.id]
    plan = Plan(schema, others + [field])
    if field.id in plan.broken:
        raise SchemaError({"options": plan.broken[field.id]})
    cycle = plan.graph.find_cycle()
    if cycle is None:
        return
    me = str(field.id)
    if me in cycle:  # show it from the field being saved: "Cost -> Total -> Cost"
        i = cycle.index(me)
        cycle = cycle[i:-1] + cycle[:i] + [me]
    names = {me: f"{schema.object(field.object_id).label}.{field.label}"}
    error = CycleError(cycle, [names.get(node) or plan.label(node) for node in cycle])
    raise SchemaError({"options": str(error)})
