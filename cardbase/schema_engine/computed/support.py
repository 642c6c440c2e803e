"""What the computed fields give the layers below them, installed when this package is
imported (``computed/__init__.py``). The field types and the rights sit below the computed
fields (tests/test_layering.py) but need two of their answers, so they declare what they
need and this module plugs it in -- instead of importing upwards inside a function:

* the formula and rollup types (``field_types.computed.ReferenceSupport``): a formula's
  names resolved against the schema and a rollup's condition checked and stored by ids;
* the rights (``rights.derived.install_reads``): what a computed field reads, from the
  dependency graph, so a value derived from a hidden field is hidden too.
"""
from __future__ import annotations

from typing import Any

from ...formula import Resolver
from ..field_types.computed import install_reference_support
from ..rights.derived import Reads, install_reads
from ..snapshot import FieldInfo, ObjectInfo, Schema
from . import rollup_filter
from .plan import plan_for
from .resolver import SchemaResolver


class References:
    """``field_types.computed.ReferenceSupport`` over ``resolver`` and ``rollup_filter``."""

    def formula_resolver(self, schema: Schema, obj: ObjectInfo) -> Resolver:
        return SchemaResolver(schema, obj)

    def condition_to_stored(self, schema: Schema, child: ObjectInfo, tree: Any) -> dict | None:
        return rollup_filter.to_stored(schema, child, tree)

    def condition_to_named(self, schema: Schema, child: ObjectInfo, tree: Any) -> Any:
        return rollup_filter.to_named(schema, child, tree)

    def condition_keys(self, tree: Any) -> list[str]:
        return rollup_filter.filter_keys(tree)


def reads_of(schema: Schema, field: FieldInfo) -> Reads | None:
    """Field ids a computed field's definition reads and the objects its paths cross
    (besides its own), from the dependency graph cached per snapshot; None if broken."""
    definition = plan_for(schema).defs.get(str(field.id))
    if definition is None:
        return None
    ids = frozenset(i for p in definition.paths for i in p.field_ids)
    objects = frozenset(o.id for p in definition.paths for o in p.objects) - {field.object_id}
    return ids, objects


install_reference_support(References())
install_reads(reads_of)
