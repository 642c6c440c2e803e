"""Cards, tables and views in solution documents.

Stored definitions name fields by id (``#12``); a solution names them ``@object.field``
so it can be imported into another database. The conversion touches only the places
that hold field references (a card's field items, child links and columns; a table's
columns, sort and filter leaves), never labels, help texts or filter values -- a filter
for "x@example.com" or a section called "Top #3" stays as written. References to fields
that no longer exist are left out on export."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import SchemaError, ValidationError
from ..query.filters import GROUP_KEYS
from ..snapshot import ObjectInfo, Schema
from .cards import LIST_KINDS, layout_to_named, layout_to_stored
from .tables import _masked, definition_to_stored

Token = Callable[[str], str]


def is_card_layout(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("tabs"), list)


def is_table_definition(doc: Any) -> bool:
    return isinstance(doc, Mapping) and doc.get("kind") in ("table", "view")


def card_to_portable(schema: Schema, obj: ObjectInfo, stored: Mapping[str, Any]) -> dict[str, Any]:
    clean = layout_to_stored(schema, obj, layout_to_named(schema, obj, stored))
    return _map_card(clean, lambda t: _token_out(schema, t))


def card_from_portable(schema: Schema, obj: ObjectInfo, doc: Mapping[str, Any], where: str) -> dict[str, Any]:
    return _map_card(doc, lambda t: _token_in(schema, t, where))


def definition_to_portable(schema: Schema, obj: ObjectInfo, stored: Mapping[str, Any]) -> dict[str, Any]:
    named, _ = _masked(schema, obj, stored, None)
    try:
        clean = {"kind": stored.get("kind"), **definition_to_stored(schema, obj, named)}
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


def _path(path: Any, fn: Token) -> Any:
    if not isinstance(path, str) or not path:
        return path
    # "@a.b" tokens contain a dot themselves: split on the tokens, not on every dot
    out, rest = [], path
    while rest:
        if rest.startswith("@"):
            obj_name, _, tail = rest[1:].partition(".")
            field_name, dot, rest = tail.partition(".")
            out.append(fn(f"@{obj_name}.{field_name}"))
        else:
            step, dot, rest = rest.partition(".")
            out.append(fn(step))
        if not dot:
            break
    return ".".join(out)


def _map_card(doc: Mapping[str, Any], fn: Token) -> dict[str, Any]:
    tabs = []
    for tab in doc.get("tabs") or []:
        if not isinstance(tab, Mapping):
            continue
        sections = []
        for section in tab.get("sections") or []:
            if not isinstance(section, Mapping):
                continue
            items = []
            for item in section.get("items") or []:
                if not isinstance(item, Mapping):
                    continue
                item = dict(item)
                if isinstance(item.get("field"), str):
                    item["field"] = fn(item["field"])
                for kind in LIST_KINDS:
                    if isinstance(item.get(kind), str):
                        item[kind] = fn(item[kind])
                        item["columns"] = [fn(c) if isinstance(c, str) else c for c in item.get("columns") or []]
                items.append(item)
            sections.append({**section, "items": items})
        tabs.append({**tab, "sections": sections})
    return {**doc, "tabs": tabs}


def _map_definition(doc: Mapping[str, Any], fn: Token) -> dict[str, Any]:
    out = dict(doc)
    out["columns"] = [{**c, "field": _path(c.get("field"), fn)} if isinstance(c, Mapping) else c
                      for c in doc.get("columns") or []]
    if isinstance(doc.get("sort"), str):
        parts = []
        for part in doc["sort"].split(","):
            sign = part[:1] if part[:1] in "+-" else ""
            parts.append(sign + _path(part[len(sign):], fn) if part else part)
        out["sort"] = ",".join(parts)
    out["filter"] = _map_filter(doc.get("filter"), fn)
    return out


def _map_filter(tree: Any, fn: Token) -> Any:
    if isinstance(tree, Mapping):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return {**tree, "not": _map_filter(tree["not"], fn)}
        if group is not None and isinstance(tree[group], list):
            return {**tree, group: [_map_filter(item, fn) for item in tree[group]]}
        if "field" in tree:
            return {**tree, "field": _path(tree["field"], fn)}
    return tree


def layout_field_ids(doc: Any) -> set[int] | None:
    """Ids of the fields a stored card layout or table/view definition refers to, read
    from its reference places only (a label "Top #3" is no reference); None for other
    documents."""
    ids: set[int] = set()

    def collect(token: str) -> str:
        if token.startswith("#") and token[1:].isdigit():
            ids.add(int(token[1:]))
        return token

    if is_card_layout(doc):
        _map_card(doc, collect)
    elif is_table_definition(doc):
        _map_definition(doc, collect)
    else:
        return None
    return ids
