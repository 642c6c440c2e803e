"""Which computed fields an actor may not read because of what they are computed from.

A formula, lookup or rollup value is derived from its inputs, so showing it would reveal
what the field rights hide (docs/rights.md, "Computed fields"). A computed field is
therefore hidden for an actor when anything it reads is: a field hidden for the actor, a
field of an object the actor may not read at all (a lookup of organisations' VAT ids for
someone who cannot read organisations, a rollup over order lines they cannot read), or
another computed field hidden by this rule (transitively through the dependency graph).

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
                  object_readable: Callable[[ObjectInfo], bool]) -> str | None:
    """Why a computed field is hidden by this rule (for ``rights.explain``), or None."""
    inputs = computed_inputs(schema).get(field_id)
    if inputs is None:
        return None
    reads, objects = inputs
    for o in sorted(objects):
        obj = schema.object(o)
        if not object_readable(obj):
            return f"computed from '{obj.label_plural}', which the user may not read"
    for i in sorted(reads & hidden):
        f = schema.field_by_id(i)
        return f"computed from '{schema.object(f.object_id).label}.{f.label}', which is hidden for the user"
    derived = hidden_computed(schema, hidden, object_readable)
    for i in sorted(reads & derived):
        f = schema.field_by_id(i)
        return f"computed from '{schema.object(f.object_id).label}.{f.label}', which is hidden for the user"
    return None
