"""Text templates with placeholders for e-mails, notifications and scenario texts.

``{title}`` is the record's field ``title`` (by API name), formatted as its field type
shows it; ``{code}`` and ``{id}`` are the record's code and id; ``{{`` and ``}}`` are
literal braces. Placeholders are checked when the template is saved: an unknown one is
refused naming it, never sent as it is. No expressions, attribute access or format
specifications: the text cannot run anything.
"""
from __future__ import annotations

import string
from typing import Any, Mapping

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.snapshot import ObjectInfo

MAX_TEMPLATE = 20_000
BUILT_IN = ("id", "code")


def placeholders(text: str, field: str) -> list[str]:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValidationError({field: f"has a stray brace: {exc} (write {{{{ or }}}} for a brace)"}) from None
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion or not name or not name.replace("_", "").isalnum():
            raise ValidationError({field: f"'{{{name}}}' is not a placeholder: use a field's API name like {{title}}"})
        names.append(name)
    return names


def check(text: object, obj: ObjectInfo | None, field: str, *, required: bool = True) -> str:
    """The template, after checking its size and that every placeholder names a field."""
    if not isinstance(text, str) or (required and not text.strip()):
        raise ValidationError({field: "is required: a text"})
    if len(text) > MAX_TEMPLATE:
        raise ValidationError({field: f"must be at most {MAX_TEMPLATE} characters"})
    known = set(BUILT_IN) | (set(obj.fields_by_name) if obj is not None else set())
    unknown = [n for n in placeholders(text, field) if n not in known]
    if unknown:
        where = f"'{obj.api_name}'" if obj is not None else "this scenario (it has no object)"
        raise ValidationError({field: f"unknown placeholder {{{unknown[0]}}}: {where} has no field '{unknown[0]}'"})
    return text


def render(text: str, obj: ObjectInfo | None, record: Mapping[str, Any] | None) -> str:
    """Fill the placeholders from ``record`` (as the actor read it: hidden fields are empty)."""
    values: dict[str, str] = {}
    for name in placeholders(text, "template"):
        value = (record or {}).get(name)
        field = obj.fields_by_name.get(name) if obj is not None else None
        if value is None:
            values[name] = ""
        elif field is not None and not field.system:
            values[name] = field.ftype.format(field, value)
        else:
            values[name] = str(value)
    return text.format_map(values)
