"""Rule-view filters are stored with fields by id (``#12.#34``), not by name, so renaming
a field or object never changes what a rule grants; they are turned back into today's
names when the rights are loaded."""
from __future__ import annotations

from typing import Any, Callable

from ..errors import ValidationError
from ..query.filters import GROUP_KEYS, condition_for_table
from ..query.paths import resolve
from ..snapshot import ObjectInfo, Schema


def _map_leaves(tree: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(tree, dict):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return {"not": _map_leaves(tree["not"], fn)}
        if group is not None:
            return {group: [_map_leaves(item, fn) for item in tree[group]]}
        if "field" in tree:
            return {**tree, "field": fn(tree["field"])}
    return tree


def check_filter(schema: Schema, obj: ObjectInfo, tree: Any, key: str = "filter") -> None:
    """Compile ``tree`` once; a bad filter raises ValidationError under ``key``."""
    if not isinstance(tree, dict) or not tree:
        raise ValidationError({key: "must be a non-empty condition object like "
                                    '{"field": "amount", "op": "lt", "value": 100000}'})
    condition_for_table(schema, obj, schema.table(obj), tree, key=key)


def to_stored(schema: Schema, obj: ObjectInfo, tree: Any, key: str = "filter") -> dict:
    """Validate a filter written with names and return it with field ids."""
    check_filter(schema, obj, tree, key)

    def by_id(path: str) -> str:
        resolved = resolve(schema, obj, path, key=key)
        steps = list(resolved.links) + [resolved.field]
        return ".".join(f.api_name if f.id is None else f"#{f.id}" for f in steps)

    return _map_leaves(tree, by_id)


def to_named(schema: Schema, obj: ObjectInfo, tree: Any) -> dict:
    """A stored filter with today's field names; ValidationError if a field is gone."""
    def by_name(path: str) -> str:
        current, names = obj, []
        steps = path.split(".") if isinstance(path, str) else []
        for i, step in enumerate(steps):
            if step.startswith("#"):
                field = next((f for f in current.user_fields if str(f.id) == step[1:]), None)
                if field is None:
                    raise ValidationError({"filter": f"field {step} of '{current.api_name}' no longer exists"})
            elif current.has_field(step):
                field = current.field(step)
            else:
                raise ValidationError({"filter": f"field '{step}' of '{current.api_name}' no longer exists"})
            names.append(field.api_name)
            if i < len(steps) - 1:
                if field.type != "link":
                    raise ValidationError({"filter": f"field '{field.api_name}' is no longer a link"})
                current = schema.link_target(field)
        return ".".join(names)

    return _map_leaves(tree, by_name)
