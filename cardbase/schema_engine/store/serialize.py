"""Records to JSON: each value through its field type (decimals as strings, ISO dates,
links as {"id", "display"})."""
from __future__ import annotations

from typing import Any, Mapping

from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef


def value_to_json(field: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, LinkRef):
        return value.to_json()
    return field.ftype.to_json(field, value)


def record_to_json(schema: Schema, obj: ObjectInfo, record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    by_name = obj.fields_by_name
    for key, value in record.items():
        if value is None:
            out[key] = None
            continue
        field = by_name.get(key) if "." not in key else resolve_path_field(schema, obj, key)
        out[key] = value_to_json(field, value) if field is not None else value
    return out


def resolve_path_field(schema: Schema, obj: ObjectInfo, path: str) -> FieldInfo | None:
    """The final field of a dotted path (``organisation.city``), or None if unknown."""
    current = obj
    parts = path.split(".")
    for i, part in enumerate(parts):
        if not current.has_field(part):
            return None
        field = current.field(part)
        if i == len(parts) - 1:
            return field
        if field.type != "link":
            return None
        current = schema.link_target(field)
    return None
