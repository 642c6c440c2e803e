"""Cards, tables and views in solution documents.

Stored definitions name fields by id (``#12``); a solution names them ``@object.field``
so it can be imported into another database. The conversion touches only the places
that hold field references (a card's field items, child links and columns; a table's
columns, sort and filter leaves), never labels, help texts or filter values -- a filter
for "x@example.com" or a section called "Top #3" stays as written. References to fields
that no longer exist are left out on export."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import SchemaError, ValidationError
from ..references import (is_card_layout, is_table_definition, layout_field_ids, map_card as _map_card,
                          map_definition as _map_definition)
from ..snapshot import ObjectInfo, Schema
from .cards import layout_to_named, layout_to_stored
from .tables import _masked, definition_to_stored

__all__ = ["card_from_portable", "card_to_portable", "definition_from_portable", "definition_to_portable",
           "is_card_layout", "is_table_definition", "layout_field_ids"]


def card_to_portable(schema: Schema, obj: ObjectInfo, stored: Mapping[str, Any]) -> dict[str, Any]:
    clean = layout_to_stored(schema, obj, layout_to_named(schema, obj, stored))
    return _map_card(clean, lambda t: _token_out(schema, t))


def card_from_portable(schema: Schema, obj: ObjectInfo, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    return _map_card(doc, lambda t: _token_in(schema, t, where))


def definition_to_portable(schema: Schema, obj: ObjectInfo, stored: Mapping[str, Any]) -> dict[str, Any]:
    named, _ = _masked(schema, obj, stored, None)
    try:
        clean = {"kind": stored.get("kind"), **definition_to_stored(schema, obj, named)}
        if stored.get("default") is True:  # the object's default table design (table_designs.py)
            clean["default"] = True
    except ValidationError:  # the schema moved under it (say a filter operator): keep it as it is
        clean = dict(stored)
    return _map_definition(clean, lambda t: _token_out(schema, t))


def definition_from_portable(schema: Schema, obj: ObjectInfo, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    return _map_definition(doc, lambda t: _token_in(schema, t, where))


# ---- internals ---------------------------------------------------------------------------------
def _token_out(schema: Schema, token: str) -> str:
    if token.startswith("#"):
        f = schema.field_by_id(int(token[1:]))
        return f"@{schema.object_name(f.object_id)}.{f.api_name}"
    return token


def _token_in(schema: Schema, token: str, where: str) -> str:
    if token.startswith("@"):
        obj_name, _, field_name = token[1:].partition(".")
        if not schema.has_object(obj_name) or not schema.object(obj_name).has_field(field_name) \
                or schema.object(obj_name).field(field_name).system:
            raise SchemaError({where: f"refers to unknown field {obj_name}.{field_name}"})
        return f"#{schema.object(obj_name).field(field_name).id}"
    return token
