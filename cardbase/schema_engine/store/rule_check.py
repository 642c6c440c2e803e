"""Conditional field rules enforced on every write (docs/field_rules.md).

The store calls ``check_rules`` for each created or updated row before anything is
written, with the record as it was before the write and as the write would leave it (the
real values, whatever the writer may see), so every channel -- card, API, import, bulk
write -- gets the same per-field errors:

* required_when holds on the new record and the field is empty -> "is required when …"
  (only while the field is visible; a write that leaves an already-empty field untouched
  and did not make the condition true is not blamed for it, like a plain required field);
* readonly_when held on the record *before* the write and the value changes -> "is
  read-only when …";
* visible_when does not hold on the new record and the value is set or changed -> "is
  not shown unless …" (clearing a field that is not shown is allowed).
"""
from __future__ import annotations

from typing import Any, Mapping

from ..field_rules import compiled_rules, describe
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef
from .validation import RowErrors
from ..i18n import _


def has_rules(schema: Schema, obj: ObjectInfo) -> bool:
    return bool(compiled_rules(schema, obj))


def plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Record values by field name as the evaluator wants them (links by id)."""
    return {k: (v.id if isinstance(v, LinkRef) else v) for k, v in values.items()}


def new_record_before(obj: ObjectInfo) -> dict[str, Any]:
    """What a new record is before its first write: its fields' defaults (what a card
    opening a new record shows), everything else empty."""
    before: dict[str, Any] = {}
    for field in obj.user_fields:
        if field.default is not None and field.writable:
            try:
                before[field.api_name] = field.ftype.default_value(field)
            except ValueError:  # pragma: no cover - defaults are checked when saved
                continue
    return before


def check_rules(schema: Schema, obj: ObjectInfo, before: Mapping[str, Any], after: Mapping[str, Any],
                sent: set[str], errors: RowErrors, readable=None) -> None:
    """Add an error per broken rule to ``errors``. ``sent``: the field names the write
    gives; ``readable``: the writer's field mask (a field hidden from the writer is never
    named in an error: its rules are left to those who see it)."""
    for field, rules in compiled_rules(schema, obj).items():
        if readable is not None and not readable(field):
            continue
        name = field.api_name
        if name in errors:  # its value did not even parse
            continue
        old, new = before.get(name), after.get(name)
        changed = _differs(field, old, new)
        visible = rules["visible_when"].matches(after) if "visible_when" in rules else True
        if not visible and changed and not _empty(field, new):
            errors.add(name, _('is not shown unless %(value)s', value=describe(obj, rules['visible_when'].tree)))
            continue
        if "readonly_when" in rules and changed and rules["readonly_when"].matches(before):
            errors.add(name, _('is read-only when %(value)s', value=describe(obj, rules['readonly_when'].tree)))
            continue
        required = rules.get("required_when")
        if required is None or not visible or not _empty(field, new) or not required.matches(after):
            continue
        already = _empty(field, old) and required.matches(before)
        if name in sent or not already:
            errors.add(name, _('is required when %(value)s', value=describe(obj, required.tree)))


def _empty(field: FieldInfo, value: Any) -> bool:
    return value is None or field.ftype.is_empty(value)


def _differs(field: FieldInfo, old: Any, new: Any) -> bool:
    if _empty(field, old) and _empty(field, new):
        return False
    return old != new
