"""The field definitions' options in the OpenAPI description, generated from each field
type's option declaration (``FieldType.options``, schema_engine/field_types/options.py):
one ``<Type>FieldOptions`` schema per type a user can add, the ``type`` of a new field as
an enum of those types, and ``options`` of the field schemas as any of them. A type that
is registered is described -- no list of types or options is kept here."""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine.field_types import all_types
from cardbase.schema_engine.field_types.computed import ComputedType
from cardbase.schema_engine.field_types.options import options_json_schema

INPUTS = ("FieldDefInput", "FieldDefPatch")
OUTPUTS = ("FieldDef",)


def options_schema_name(type_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in type_name.split("_")) + "FieldOptions"


def user_types() -> dict[str, Any]:
    return {name: t for name, t in sorted(all_types().items()) if not t.system_only}


def option_schemas() -> dict[str, dict[str, Any]]:
    """``<Type>FieldOptions`` -> the JSON schema of that type's options."""
    out: dict[str, dict[str, Any]] = {}
    for name, ftype in user_types().items():
        # Computed fields' options also carry what the system derives (result, references),
        # which a client may send back unchanged; it is ignored.
        schema = options_json_schema(ftype.options, extra=isinstance(ftype, ComputedType))
        summary = ", ".join(spec.name for spec in ftype.options) or "none"
        schema["description"] = f"The options of a {name} field ({ftype.label}): {summary}."
        out[options_schema_name(name)] = schema
    return out


def options_summary() -> str:
    parts = [f"{name} {{{', '.join(s.name for s in t.options)}}}" for name, t in user_types().items() if t.options]
    return "the type's options (each type's <Type>FieldOptions schema): " + "; ".join(parts)


def add_field_options(document: dict[str, Any]) -> None:
    """Put the generated option schemas into ``document`` (an OpenAPI 3.1 dict) and point
    the field schemas' ``options`` (and the new field's ``type``) at them."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    generated = option_schemas()
    schemas.update(generated)
    refs = [{"$ref": f"#/components/schemas/{name}"} for name in generated]
    names = list(user_types())
    for schema_name in INPUTS + OUTPUTS:
        props = schemas.get(schema_name, {}).get("properties")
        if not props or "options" not in props:
            continue
        nullable = schema_name in INPUTS
        props["options"] = {"anyOf": refs + ([{"type": "null"}] if nullable else []),
                            "description": options_summary()}
        if schema_name in INPUTS and "type" in props:
            props["type"] = {"type": "string", "enum": names,
                             "description": "the field type; its options are described by <Type>FieldOptions"}
