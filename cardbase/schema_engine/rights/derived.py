"""Which computed fields an actor may not read because of what they are computed from.

A formula, lookup or rollup value is derived from its inputs, so showing it would reveal
what the field rights hide (docs/rights.md, "Computed fields"). A computed field is
therefore hidden for an actor when anything it reads is: a field hidden for the actor, a
field of an object the actor may not read at all (a lookup of organisations' VAT ids for
someone who cannot read organisations, a rollup over order lines they cannot read), or
another computed field hidden by this rule (transitively through the dependency graph).

A rollup whose figure is a single child's value or lists them (``min``, ``max``,
``concat``: ``revealing_rollups``) is hidden, too, from an actor who may read the child
object but not every record of it (a row filter applies: access mode ``own_and_shared``,
rule views, shares only): the stored value is shared by all readers and would show values
of records outside the actor's view. Sums, counts and averages are figures over the whole
list and stay visible (docs/rights.md, "Rollups over records the user cannot see").

What a computed field reads comes from the dependency graph cached per schema snapshot
(``computed.plan``): the field ids of every path and the objects each path crosses. The
rights sit below the computed fields (tests/test_layering.py), so the graph is passed in:
``cardbase.schema_engine.computed`` installs ``reads`` with ``install_reads`` when it is
imported (``computed/support.py``).
"""
from __future__ import annotations

import threading
import weakref
from typing import Callable

from ..field_types.computed import is_computed
from ..snapshot import FieldInfo, ObjectInfo, Schema

# (field ids read, object ids crossed besides the field's own object)
Reads = tuple[frozenset[int], frozenset[int]]
# field id -> what it reads
Inputs = dict[int, Reads]
# What a computed field of the schema reads by its definition; None when it is broken.
ReadsOf = Callable[[Schema, FieldInfo], "Reads | None"]
_reads_of: ReadsOf | None = None


def install_reads(reads_of: ReadsOf) -> None:
    """Called by ``computed/support.py``: the dependency graph's answer for one field."""
    global _reads_of
    _reads_of = reads_of
_cache: "weakref.WeakKeyDictionary[Schema, Inputs]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


# Rollup aggregates that are figures over the whole child list: a reader who sees only some
# children learns no single child's value from them (like Salesforce roll-up summaries).
# Every other aggregate -- min and max (one child's value), concat (all of them), and any
# aggregate added later until it is classified here -- reveals per-record values.
SUMMARY_AGGREGATES = frozenset({"sum", "count", "avg"})
# rollup field id -> (aggregate, child object id)
Revealing = dict[int, tuple[str, int]]
_revealing_cache: "weakref.WeakKeyDictionary[Schema, Revealing]" = weakref.WeakKeyDictionary()


def revealing_rollups(schema: Schema) -> Revealing:
    """The rollups of the schema whose value reveals single child values, computed once
    per snapshot. The stored value follows the current definition (a pending one is
    computed into shadow columns nobody reads), so that is the one that counts."""
    found = _revealing_cache.get(schema)
    if found is not None:
        return found
    out: Revealing = {}
    for obj in schema.objects:
        for field in obj.user_fields:
            if field.id is None or field.type != "rollup":
                continue
            aggregate, child = field.options.get("aggregate"), field.options.get("child")
            if aggregate in SUMMARY_AGGREGATES or not isinstance(child, int) or not schema.has_object(child):
                continue  # a broken definition reads what it references (computed_inputs)
            out[field.id] = (str(aggregate), child)
    with _lock:
        _revealing_cache[schema] = out
    return out


def partial_rollups(schema: Schema, sees_every_record: Callable[[ObjectInfo], bool]) -> frozenset[int]:
    """The revealing rollups over a child object of which the actor may not see every
    record (``sees_every_record(child)`` is False: a row filter applies)."""
    return frozenset(field_id for field_id, (_, child) in revealing_rollups(schema).items()
                     if not sees_every_record(schema.object(child)))


def computed_inputs(schema: Schema) -> Inputs:
    """What each computed field of the schema reads, computed once per snapshot."""
    found = _cache.get(schema)
    if found is not None:
        return found
    inputs: Inputs = {}
    for obj in schema.objects:
        for field in obj.user_fields:
            if field.id is None or not is_computed(field):
                continue
            if _reads_of is None:
                raise RuntimeError("rights of computed fields need cardbase.schema_engine.computed: import it "
                                   "first (the record store and the schema service do)")
            reads = _reads_of(schema, field)
            if reads is None:  # a broken definition: what it stored that it reads
                refs = frozenset(int(i) for i in field.options.get("references", ()) if str(i).isdigit())
                known = _field_objects(schema)
                reads = (refs, frozenset(known[i] for i in refs if i in known) - {obj.id})
            inputs[field.id] = reads
    with _lock:
        _cache[schema] = inputs
    return inputs


def _field_objects(schema: Schema) -> dict[int, int]:
    return {f.id: o.id for o in schema.objects for f in o.user_fields if f.id is not None}


def hidden_computed(schema: Schema, hidden: frozenset[int],
                    object_readable: Callable[[ObjectInfo], bool]) -> frozenset[int]:
    """The computed fields to hide for an actor with the explicitly ``hidden`` field ids
    who may read an object when ``object_readable(obj)``."""
    inputs = computed_inputs(schema)
    if not inputs:
        return frozenset()
    readable: dict[int, bool] = {}

    def may_read(object_id: int) -> bool:
        if object_id not in readable:
            readable[object_id] = object_readable(schema.object(object_id))
        return readable[object_id]

    out: set[int] = set()
    changed = True
    while changed:  # the graph is acyclic: at most one round per level of it
        changed = False
        for field_id, (reads, objects) in inputs.items():
            if field_id in out or field_id in hidden:
                continue
            if reads & hidden or reads & out or not all(may_read(o) for o in objects):
                out.add(field_id)
                changed = True
    return frozenset(out)


def hidden_reason(schema: Schema, field_id: int, hidden: frozenset[int],
                  object_readable: Callable[[ObjectInfo], bool],
                  partial: frozenset[int] = frozenset()) -> str | None:
    """Why a computed field is hidden by this rule (for ``rights.explain``), or None.
    ``partial``: the actor's ``partial_rollups``, hidden like fields the groups hide."""
    inputs = computed_inputs(schema).get(field_id)
    if inputs is None:
        return None
    reads, objects = inputs
    for o in sorted(objects):
        obj = schema.object(o)
        if not object_readable(obj):
            return f"computed from '{obj.label_plural}', which the user may not read"
    if field_id in partial:
        aggregate, child = revealing_rollups(schema)[field_id]
        return (f"a {aggregate} rollup over '{schema.object(child).label_plural}', of which the user may not "
                "see every record")
    hidden = hidden | partial
    for i in sorted(reads & hidden):
        f = schema.field_by_id(i)
        return f"computed from '{schema.object(f.object_id).label}.{f.label}', which is hidden for the user"
    derived = hidden_computed(schema, hidden, object_readable)
    for i in sorted(reads & derived):
        f = schema.field_by_id(i)
        return f"computed from '{schema.object(f.object_id).label}.{f.label}', which is hidden for the user"
    return None
