"""Source fields: a field filled from the linked record when the link is chosen -- an
order line's Price from its Product's Price -- and editable afterwards (unlike a lookup,
which always shows the linked value). The field's ``source`` is
``{"link": <link field of the same object>, "field": <field of the link's target>}``,
stored by ids (renames never break it) next to the type's options; the record store
fills it in every channel (``store/source_fill.py``)."""
from __future__ import annotations

from typing import Any, Mapping

from .errors import NotFound, SchemaError
from .field_types.computed import result_of
from .snapshot import FieldInfo, ObjectInfo, Schema

EXAMPLE = '{"link": "product", "field": "price"}'


def clean_source(schema: Schema, obj: ObjectInfo, field: FieldInfo, raw: Any) -> dict[str, int] | None:
    """Validate ``raw`` (names or ids) for ``field``; return it by ids, or None."""
    if raw is None or raw == {} or raw == "":
        return None
    if not isinstance(raw, Mapping) or set(raw) != {"link", "field"}:
        raise SchemaError({"source": f"must be an object like {EXAMPLE}"})
    if not field.ftype.writable:
        raise SchemaError({"source": f"'{field.label}' is calculated by the system; only a field people enter "
                                     "can be filled from a linked record"})
    link = _find(obj, raw["link"], "source.link")
    if link.type != "link":
        raise SchemaError({"source.link": f"'{link.api_name}' is not a link field of '{obj.label}'"})
    target = schema.link_target(link)
    source = _find(target, raw["field"], "source.field")
    shape = result_of(source)
    if shape["type"] != field.type:
        raise SchemaError({"source.field": f"'{target.label}.{source.label}' is a {shape['type']} field; "
                                           f"'{field.label}' is a {field.type} field: a source must have the "
                                           "same type"})
    return {"link": int(link.stored_id), "field": int(source.stored_id)}


def _find(obj: ObjectInfo, ref: Any, key: str) -> FieldInfo:
    try:
        if isinstance(ref, int) and not isinstance(ref, bool):
            found = next((f for f in obj.user_fields if f.id == ref), None)
            if found is None:
                raise NotFound(str(ref))
            return found
        if isinstance(ref, str) and obj.has_field(ref):
            return obj.field(ref)
    except NotFound:
        pass
    raise SchemaError({key: f"'{obj.label}' has no field {ref!r}"})


def source_of(schema: Schema, field: FieldInfo) -> dict[str, str] | None:
    """The field's source with API names (for the API and solutions), or None."""
    if not field.source:
        return None
    try:
        link = schema.field_by_id(int(field.source["link"]))
        source = schema.field_by_id(int(field.source["field"]))
    except (NotFound, KeyError, TypeError, ValueError):
        return None
    return {"link": link.api_name, "field": source.api_name}


def sourced_fields(obj: ObjectInfo) -> list[tuple[FieldInfo, int, int]]:
    """(field, link id, source field id) of the object's fields filled from a link."""
    return [(f, int(f.source["link"]), int(f.source["field"])) for f in obj.user_fields if f.source]
