"""The filter language evaluated in Python against one record's values.

Field rules ("required when Stage = lost") are checked on the record as a write will
leave it, before anything is written -- there is no row to run SQL against yet. Each field
type evaluates its own operators (``FieldType.filter_match``, the twin of its
``filter_clause``) in SQL's three-valued logic, so a condition matches a record here
exactly when the SQL compiler's WHERE clause would (a property test checks it on both
engines). A condition is first compiled to SQL once, which validates it with the very
same checks and messages as every other filter; only fields of the record itself may be
used (no paths through links: the other record is not part of the write).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from ..errors import ValidationError
from ..field_types.base import FieldValueError
from ..field_types.truth import Truth, t_and, t_not, t_or
from ..snapshot import FieldInfo, ObjectInfo, Schema
from ..values import LinkRef
from .filters import GROUP_KEYS, condition_for_table
from .paths import FieldAllowed
from . import relative


class Matcher:
    """A validated condition over one object's own fields, ready to test records."""

    def __init__(self, obj: ObjectInfo, tree: dict, leaves: list[tuple[FieldInfo, str, Any]]):
        self.obj, self.tree = obj, tree
        self._leaves = iter(leaves)
        self._compiled = self._build(tree)
        self.fields: tuple[FieldInfo, ...] = tuple(dict.fromkeys(f for f, _o, _v in leaves))

    def _build(self, node: dict) -> Callable[[Mapping[str, Any]], Truth]:
        group = next((k for k in GROUP_KEYS if k in node), None)
        if group == "not":
            inner = self._build(node["not"])
            return lambda values: t_not(inner(values))
        if group is not None:
            parts = [self._build(item) for item in node[group]]
            combine = t_and if group == "and" else t_or
            return lambda values: combine(p(values) for p in parts)
        field, op, operand = next(self._leaves)
        ftype, name = field.ftype, field.api_name
        return lambda values: ftype.filter_match(field, op, operand, _plain(values.get(name)))

    def truth(self, values: Mapping[str, Any]) -> Truth:
        """True, False or None (unknown) for a record given as {field name: Python value}."""
        return self._compiled(values)

    def matches(self, values: Mapping[str, Any]) -> bool:
        """Whether a WHERE clause of this condition would select the record."""
        return self.truth(values) is True


def compile_match(schema: Schema, obj: ObjectInfo, tree: Any, *, field_allowed: FieldAllowed | None = None,
                  key: str = "filter") -> Matcher:
    """Validate ``tree`` exactly like the SQL compiler (same errors under ``key``) and
    return its Python evaluator. Paths through links are refused."""
    if not isinstance(tree, dict) or not tree:
        raise ValidationError({key: 'must be a non-empty condition object like '
                                    '{"field": "stage", "op": "eq", "value": "lost"}'})
    condition_for_table(schema, obj, schema.table(obj), tree, field_allowed=field_allowed, key=key)
    leaves: list[tuple[FieldInfo, str, Any]] = []
    _collect(obj, tree, leaves, key)
    return Matcher(obj, tree, leaves)


def _collect(obj: ObjectInfo, node: dict, out: list, key: str) -> None:
    group = next((k for k in GROUP_KEYS if k in node), None)
    if group == "not":
        _collect(obj, node["not"], out, key)
        return
    if group is not None:
        for item in node[group]:
            _collect(obj, item, out, key)
        return
    path = node["field"]
    if "." in path:
        raise ValidationError({key: f"'{path}': only fields of the record itself can be used here, "
                                    "not paths through links"})
    field = obj.field(path)
    try:
        op, value = relative.resolve(field, node["op"], node.get("value"))
        operand = field.ftype.filter_value(field, op, value)
    except FieldValueError as exc:  # pragma: no cover - the SQL compile refused it already
        raise ValidationError({key: f"'{path}': {exc}"}) from None
    out.append((field, op, operand))


def _plain(value: Any) -> Any:
    return value.id if isinstance(value, LinkRef) else value
