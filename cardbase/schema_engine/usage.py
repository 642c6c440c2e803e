"""What uses an object or a field. A registry of small finders, so a later feature that
references fields (reports, templates, automations) adds one finder and nothing else.

Stored definitions (views, cards, formulas) refer to fields by id as the token ``#<id>``
(paths as ``#12.#34``) or under the keys listed in ``ID_KEYS``; that is what makes renames
safe and what the finders look for. A finder lives with what it knows about and registers
itself here (``field_rules``, ``rights/usage.py``): this module sits below them
(tests/test_layering.py)."""
from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection

from .meta_models import CardLayout, SavedView
from .references import layout_field_ids
from .snapshot import FieldInfo, ObjectInfo, Schema

FieldFinder = Callable[[Connection, Schema, FieldInfo], list[str]]
ObjectFinder = Callable[[Connection, Schema, ObjectInfo], list[str]]
_field_finders: list[FieldFinder] = []
_object_finders: list[ObjectFinder] = []
ID_KEYS = ("field_id", "field_ids", "references", "link", "field", "child_link")


def field_finder(fn: FieldFinder) -> FieldFinder:
    _field_finders.append(fn)
    return fn


def object_finder(fn: ObjectFinder) -> ObjectFinder:
    _object_finders.append(fn)
    return fn


def field_usages(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    return [u for finder in _field_finders for u in finder(conn, schema, field)]


def object_usages(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[str]:
    return [u for finder in _object_finders for u in finder(conn, schema, obj)]


def referenced_field_ids(document: Any) -> set[int]:
    """Every field id a stored definition mentions."""
    ids: set[int] = set()
    text = json.dumps(document, default=str)
    ids.update(int(m) for m in re.findall(r"#(\d+)\b", text))

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ID_KEYS:
                    for item in (v if isinstance(v, list) else [v]):
                        if isinstance(item, int) and not isinstance(item, bool):
                            ids.add(item)
                walk(v)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return ids


def qualified(schema: Schema, f: FieldInfo) -> str:
    return f"{schema.object(f.object_id).label}.{f.label}"


@field_finder
def _fields_referencing(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    """Formula, lookup and rollup fields whose options mention the field."""
    out = []
    for obj in schema.objects:
        for f in obj.user_fields:
            if f.id != field.id and field.id in referenced_field_ids(dict(f.options)):
                out.append(f"field '{qualified(schema, f)}' ({f.type}) uses it")
    return out


@field_finder
def _views_and_cards(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    """Cards, the table design and shared views. A user's personal view does not block a
    change: it is read leniently (``layouts.tables``) and simply loses the column."""
    def uses(doc: Any) -> bool:
        ids = layout_field_ids(doc)
        return field.id in (referenced_field_ids(doc) if ids is None else ids)

    out = []
    for name, doc in conn.execute(sa.select(CardLayout.name, CardLayout.layout)):
        if uses(doc):
            out.append(f"card '{name}' uses it")
    v = SavedView.__table__.c
    views: Sequence[Any] = conn.execute(
        sa.select(v.object_id, v.name, v.owner_id, v.definition).where(v.shared.is_(True))).all()
    for object_id, name, owner_id, doc in views:
        if uses(doc):
            if owner_id is None and isinstance(doc, dict) and doc.get("kind") == "table" \
                    and schema.has_object(object_id):
                design = f" '{name[len('(table) '):]}'" if name.startswith("(table) ") else ""  # layouts.table_designs
                out.append(f"the table{design} of '{schema.object(object_id).label_plural}' uses it")
            else:
                out.append(f"view '{name}' uses it")
    return out


@field_finder
def _display_field(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    obj = schema.object(field.object_id)
    if obj.display_field_name == field.api_name:
        return [f"object '{obj.label}' shows records by it (display field)"]
    return []


@object_finder
def _links_to_object(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[str]:
    out = [f"link field '{child.label}.{link.label}' points to it"
           for child, link in schema.children(obj) if child.id != obj.id]
    out += [f"multi-link field '{other.label}.{f.label}' points to it" for other in schema.objects
            if other.id != obj.id for f in other.user_fields
            if f.ftype.stored_apart and int(f.options.get("target", 0)) == obj.id]
    return out


@object_finder
def _fields_of_others(conn: Connection, schema: Schema, obj: ObjectInfo) -> list[str]:
    own = {f.id for f in obj.user_fields}
    out = []
    for other in schema.objects:
        if other.id == obj.id:
            continue
        for f in other.user_fields:
            if f.type != "link" and own & referenced_field_ids(dict(f.options)):
                out.append(f"field '{qualified(schema, f)}' ({f.type}) uses its fields")
    return out


def dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
