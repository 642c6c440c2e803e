"""The names of the records a list's filter names by id ("Products has any of #3, #7"),
so the builder shows "Backup storage" and not "#3": one read per linked object, under the
reader's rights (a record they may not see keeps its "#id")."""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator, Sequence

from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.snapshot import ObjectInfo

from .display import display_for
from .filter_form import Entry, path_field

MAX_NAMED = 200  # ids looked up per filter: a builder shows a handful


def _leaves(tree: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    if depth > 12 or not isinstance(tree, dict):
        return
    if isinstance(tree.get("field"), str):
        yield tree
        return
    for key in ("and", "or"):
        for item in tree.get(key) or () if isinstance(tree.get(key), list) else ():
            yield from _leaves(item, depth + 1)
    if "not" in tree:
        yield from _leaves(tree["not"], depth + 1)


def _ids(value: Any) -> list[int]:
    values = value if isinstance(value, list) else [value]
    out = []
    for v in values:
        v = v.get("id") if isinstance(v, dict) else v
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            out.append(v)
        elif isinstance(v, str) and v.isdigit():
            out.append(int(v))
    return out


def wanted_ids(entries: Sequence[Entry], tree: Any) -> dict[str, set[int]]:
    """path -> the record ids the link and multi-link conditions of ``tree`` name."""
    pickers = {e.path for e in entries if e.links_url}
    wanted: dict[str, set[int]] = defaultdict(set)
    for leaf in _leaves(tree):
        if leaf["field"] in pickers:
            wanted[leaf["field"]].update(_ids(leaf.get("value")))
    return {path: ids for path, ids in wanted.items() if ids}


def entries_json(entries: Sequence[Entry], labels: dict[str, str],
                 names: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The builder's fields; those the filter names records of carry the records' names."""
    return [{**e.to_json(labels), **({"names": names[e.path]} if e.path in names else {})} for e in entries]


def record_names(s: Session, obj: ObjectInfo, wanted: dict[str, set[int]],
                 language: str) -> dict[str, dict[str, str]]:
    """path -> {id: display name} for ``wanted`` (``wanted_ids``), as ``s``'s actor sees them."""
    out: dict[str, dict[str, str]] = {}
    for path, ids in wanted.items():
        field = path_field(s.schema, obj, path)
        if field is None or not ids:
            continue
        target = s.schema.link_target(field)
        shown = target.display_field
        try:
            found = s.fetch(target, sorted(ids)[:MAX_NAMED], fields=[shown.api_name])
        except CardbaseError:
            continue
        names = {str(rid): display_for(shown).text(shown, record.get(shown.api_name), language)
                 for rid, record in found.items() if record.get(shown.api_name) not in (None, "")}
        if names:
            out[path] = names
    return out
