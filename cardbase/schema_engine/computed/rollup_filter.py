"""A rollup's condition ("only open orders") in the one filter language, stored with field
ids instead of names (``#12`` for a field, ``#12.#34`` for a path through link 12) so a
rename never breaks it; it is turned back into names when compiled or exported."""
from __future__ import annotations

from typing import Any, Callable

from ..errors import SchemaError, ValidationError
from ..query.filters import condition_for_table
from ..query.paths import resolve
from ..snapshot import ObjectInfo, Schema
from .keys import own_field

KEY = "options.filter"


def map_paths(tree: Any, fn: Callable[[str], str]) -> Any:
    """The tree with every leaf's "field" replaced by ``fn(field)``."""
    if isinstance(tree, dict):
        if "field" in tree and isinstance(tree["field"], str):
            return {**tree, "field": fn(tree["field"])}
        return {k: map_paths(v, fn) for k, v in tree.items()}
    if isinstance(tree, list):
        return [map_paths(item, fn) for item in tree]
    return tree


def to_stored(schema: Schema, child: ObjectInfo, tree: Any) -> dict | None:
    """Validate a condition written with API names (or stored ids) and return it by ids."""
    if tree is None or tree == {}:
        return None
    if not isinstance(tree, dict):
        raise SchemaError({KEY: "must be a condition object"})
    named = to_named(schema, child, tree)
    try:
        condition_for_table(schema, child, schema.table(child), named, key=KEY)
    except ValidationError as exc:
        raise SchemaError(exc.errors) from None

    def by_ids(path: str) -> str:
        p = resolve(schema, child, path, key=KEY)
        return ".".join(f"#{f.id}" if f.id is not None else f.api_name for f in (*p.links, p.field))

    return map_paths(named, by_ids)


def to_named(schema: Schema, child: ObjectInfo, tree: Any) -> Any:
    """Stored ids -> the current API names (names written by people pass through)."""
    def named(path: str) -> str:
        if "#" not in path:
            return path
        current, names = child, []
        for segment in path.split("."):
            try:
                field = own_field(current, segment.lstrip("#"))
            except KeyError:
                raise SchemaError({KEY: f"refers to a field that no longer exists ({path})"}) from None
            names.append(field.api_name)
            if field.type == "link":
                current = schema.link_target(field)
        return ".".join(names)

    return map_paths(tree, named)


def filter_keys(tree: Any) -> list[str]:
    """The reference keys (relative to the child object) a stored condition reads."""
    keys: list[str] = []

    def collect(path: str) -> str:
        keys.append(path.replace("#", ""))
        return path

    map_paths(tree, collect)
    return keys
