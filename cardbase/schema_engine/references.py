"""Where stored definitions hold field references: a card layout's field items, child
and related lists and their columns; a table's or view's columns, sort and filter leaves.
Stored, they name fields by id (``#12``, paths ``#12.#34``); ``layouts.portable`` maps them
to ``@object.field`` for solutions and ``usage`` asks which fields a definition uses. It
sits below both (with the query compiler, whose filter groups it walks), so the usage
check needs no import of the layout services (tests/test_layering.py)."""
from __future__ import annotations

from typing import Any, Callable, Mapping

from .query.filters import GROUP_KEYS

Token = Callable[[str], str]
LIST_KINDS = ("children", "related")  # a card item showing records that link to this one


def is_card_layout(doc: Any) -> bool:
    return isinstance(doc, Mapping) and isinstance(doc.get("tabs"), list)


def is_table_definition(doc: Any) -> bool:
    return isinstance(doc, Mapping) and doc.get("kind") in ("table", "view")


def _path(path: Any, fn: Token) -> Any:
    if not isinstance(path, str) or not path:
        return path
    # "@a.b" tokens contain a dot themselves: split on the tokens, not on every dot
    out, rest = [], path
    while rest:
        if rest.startswith("@"):
            obj_name, _, tail = rest[1:].partition(".")
            field_name, dot, rest = tail.partition(".")
            out.append(fn(f"@{obj_name}.{field_name}"))
        else:
            step, dot, rest = rest.partition(".")
            out.append(fn(step))
        if not dot:
            break
    return ".".join(out)


def map_card(doc: Mapping[str, Any], fn: Token) -> dict[str, Any]:
    tabs = []
    for tab in doc.get("tabs") or []:
        if not isinstance(tab, Mapping):
            continue
        sections = []
        for section in tab.get("sections") or []:
            if not isinstance(section, Mapping):
                continue
            items = []
            for item in section.get("items") or []:
                if not isinstance(item, Mapping):
                    continue
                item = dict(item)
                if isinstance(item.get("field"), str):
                    item["field"] = fn(item["field"])
                for kind in LIST_KINDS:
                    if isinstance(item.get(kind), str):
                        item[kind] = fn(item[kind])
                        item["columns"] = [fn(c) if isinstance(c, str) else c for c in item.get("columns") or []]
                items.append(item)
            sections.append({**section, "items": items})
        tabs.append({**tab, "sections": sections})
    return {**doc, "tabs": tabs}


def map_definition(doc: Mapping[str, Any], fn: Token) -> dict[str, Any]:
    out = dict(doc)
    out["columns"] = [{**c, "field": _path(c.get("field"), fn)} if isinstance(c, Mapping) else c
                      for c in doc.get("columns") or []]
    if isinstance(doc.get("sort"), str):
        parts = []
        for part in doc["sort"].split(","):
            sign = part[:1] if part[:1] in "+-" else ""
            parts.append(sign + _path(part[len(sign):], fn) if part else part)
        out["sort"] = ",".join(parts)
    out["filter"] = map_filter(doc.get("filter"), fn)
    return out


def map_filter(tree: Any, fn: Token) -> Any:
    if isinstance(tree, Mapping):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return {**tree, "not": map_filter(tree["not"], fn)}
        if group is not None and isinstance(tree[group], list):
            return {**tree, group: [map_filter(item, fn) for item in tree[group]]}
        if "field" in tree:
            return {**tree, "field": _path(tree["field"], fn)}
    return tree


def layout_field_ids(doc: Any) -> set[int] | None:
    """Ids of the fields a stored card layout or table/view definition refers to, read
    from its reference places only (a label "Top #3" is no reference); None for other
    documents."""
    ids: set[int] = set()

    def collect(token: str) -> str:
        if token.startswith("#") and token[1:].isdigit():
            ids.add(int(token[1:]))
        return token

    if is_card_layout(doc):
        map_card(doc, collect)
    elif is_table_definition(doc):
        map_definition(doc, collect)
    else:
        return None
    return ids
