"""Helpers the designer screens of cards, tables, rules, the log and solutions share:
the object being configured (404 / 403), a fingerprint of what a form was opened on
(stale forms are refused), readable error lists, and the field descriptions the
condition builder (static/conditions.js) works with."""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, Iterable, Mapping

from flask_babel import gettext as _

from cardbase.platform.i18n import current_language
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.field_types.choice import choices_of
from cardbase.schema_engine.field_types.options import CHOICE_LIST
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.platform.jsonio import loads as strict_json

# System fields a table or a condition may use besides the object's own fields.
SYSTEM_COLUMNS = ("code", "owner", "created_at", "created_by", "modified_at", "modified_by")


class StaleForm(CardbaseError):
    """The form was opened before someone else changed what it edits: refused (409)."""

    status = 409


def fingerprint(*parts: Any) -> str:
    """A short digest of what a form was opened on; the form carries it back and the
    server refuses the save when the same digest computed now differs (someone else
    changed the card, table, rules or fields meanwhile)."""
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def fields_state(obj: ObjectInfo) -> list[Any]:
    """What about an object's fields makes a designer form stale when it changes."""
    return [[f.id, f.api_name, f.label, f.type, f.required, dict(f.options), f.rules and dict(f.rules)]
            for f in obj.user_fields]


_INDEX = re.compile(r"^([a-z_]+)\[(\d+)\]$")


def _part_names() -> dict[str, str]:
    return {"tabs": _("Tab"), "sections": _("Section"), "items": _("Item"), "columns": _("Column"),
            "sort": _("Sort level")}


def readable_key(key: str) -> str:
    """``layout.tabs[0].sections[1].items[2].field`` -> ``Tab 1 › Section 2 › Item 3 › field``."""
    parts = []
    names = _part_names()
    for part in key.split("."):
        m = _INDEX.match(part)
        if m and m.group(1) in names:
            parts.append(f"{names[m.group(1)]} {int(m.group(2)) + 1}")
        elif part not in ("layout", "definition"):
            parts.append(part)
    return " › ".join(parts) or key


def error_list(exc: CardbaseError) -> list[str]:
    """One line per problem: where, then what."""
    if isinstance(exc, ValidationError):
        return [f"{readable_key(k)}: {' '.join(v)}" for k, v in exc.errors.items()]
    return [exc.message]


def parse_json_field(text: str | None, name: str) -> Any:
    """A JSON form field; ValidationError naming it when it does not parse."""
    if text is None or not text.strip():
        return None
    try:
        return strict_json(text, what=None)  # the API's strict reader: no NaN, NUL or lone surrogates
    except ValueError as exc:
        raise ValidationError({name: _("is not valid JSON (%(error)s)", error=str(exc))}) from None


# ---- the condition builder ------------------------------------------------------------------
def field_description(field: FieldInfo, path: str | None = None, prefix: str = "") -> dict[str, Any]:
    """A field as the condition builder and the column pickers show it."""
    language = current_language()
    out: dict[str, Any] = {"path": path or field.api_name, "label": prefix + field.label_in(language),
                           "type": field.type, "operators": list(field.ftype.operators)}
    if any(spec.kind == CHOICE_LIST for spec in field.ftype.options):  # the type keeps a list of choices
        out["choices"] = [{"value": c["value"], "label": c.get("label") or c["value"]} for c in choices_of(field)]
    return out


def condition_fields(schema: Schema, obj: ObjectInfo, *, rules: bool = False, links: bool = False,
                     exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The fields a condition over ``obj`` may use. ``rules``: only fields people enter on
    the record itself (what field rules allow); else system fields too and, with
    ``links``, the fields of each linked object one level deep (``organisation.city``)."""
    skip = set(exclude)
    out = []
    for f in obj.user_fields:
        if f.api_name in skip or (rules and not f.ftype.writable) or not f.ftype.operators:
            continue
        out.append(field_description(f))
    if rules:
        return out
    for name in SYSTEM_COLUMNS:
        f = obj.fields_by_name.get(name)
        if f is not None and f.ftype.operators:
            out.append(field_description(f))
    if links:
        for f in obj.user_fields:
            if f.type != "link":
                continue
            target = schema.link_target(f)
            prefix = f"{f.label_in(current_language())} › "
            for g in target.user_fields:
                if g.type != "link" and g.ftype.operators:
                    out.append(field_description(g, f"{f.api_name}.{g.api_name}", prefix))
    return out


def operator_labels() -> dict[str, str]:
    """The operators in words, in the user's language (the builder's select)."""
    return {"eq": _("equals"), "ne": _("does not equal"), "lt": _("is less than"), "le": _("is at most"),
            "gt": _("is greater than"), "ge": _("is at least"), "between": _("is between"),
            "in": _("is one of"), "not_in": _("is none of"), "contains": _("contains"),
            "not_contains": _("does not contain"), "starts_with": _("starts with"),
            "is_empty": _("is empty"), "is_not_empty": _("is not empty"),
            "has_any": _("has any of"), "has_all": _("has all of"), "has_none": _("has none of")}


def builder_texts() -> dict[str, str]:
    """The condition builder's own words (translated here, shown by conditions.js)."""
    return {"match": _("Match"), "all": _("all conditions (and)"), "any": _("any condition (or)"),
            "field": _("Field"), "operator": _("Operator"), "value": _("Value"), "add": _("Add condition"),
            "remove": _("Remove condition"), "none": _("No condition: always"), "json": _("Condition as JSON"),
            "complex": _("This condition is too complex for the builder; edit it as JSON below."),
            "list_hint": _("several values: separate them with commas"), "yes": _("yes"), "no": _("no"),
            "clear": _("Remove all conditions"), "group": _("Group of conditions"),
            "group_match": _("Records in this group match"), "add_group": _("Add group"),
            "remove_group": _("Remove group"), "none_of": _("no condition (not)")}


def condition_builder(name: str, fields: list[dict[str, Any]], value: Any, label: str) -> dict[str, Any]:
    """What templates/designer/_condition.html needs for one builder."""
    return {"name": name, "label": label, "fields": fields, "value": value,
            "text": "" if value in (None, {}) else json.dumps(value, ensure_ascii=False, indent=1)}


def json_or_none(value: Mapping[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False) if value else ""
