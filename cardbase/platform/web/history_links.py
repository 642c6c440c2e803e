"""Link values in a record's history by their targets' display names ("Acme GmbH", not
"Organisation #1"), as the list and the card show them (issue 14, point 7).

History keeps a link as the target's id. The card's history reads the targets of every
link change shown in one query per target object, through the session: a record the
reader may not see stays "restricted", a trashed one keeps its name."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from cardbase.schema_engine.query.paths import JoinBuilder, is_link
from cardbase.schema_engine.snapshot import ObjectInfo
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.values import LinkRef

LinkNames = dict[str, dict[int, LinkRef]]  # link field's API name -> target id -> how it shows


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, Mapping) and isinstance(value.get("id"), int):
        return [value["id"]]
    if isinstance(value, (list, tuple)):
        return [i for v in value for i in _ids(v)]
    return []


def link_names(s: Session, obj: ObjectInfo, entries: Iterable[Mapping[str, Any]]) -> LinkNames:
    """How each link target mentioned in ``entries`` (history entries) shows to the reader."""
    wanted: dict[str, set[int]] = {}
    for entry in entries:
        for change in entry["changes"]:
            field = obj.fields_by_name.get(change["field"]) if change["field"] else None
            if field is not None and (is_link(field) or field.ftype.stored_apart):  # one link or several
                wanted.setdefault(field.api_name, set()).update(_ids(change["old"]) + _ids(change["new"]))
    out: LinkNames = {}
    by_target: dict[int, set[int]] = {}
    for name, ids in wanted.items():
        by_target.setdefault(s.schema.link_target(obj.fields_by_name[name]).id, set()).update(ids)
    shown: dict[int, dict[int, LinkRef]] = {}
    for target_id, ids in by_target.items():
        shown[target_id] = _names(s, s.schema.object(target_id), sorted(ids))
    for name, ids in wanted.items():
        target = s.schema.link_target(obj.fields_by_name[name])
        out[name] = {i: shown[target.id].get(i, LinkRef(i, None, restricted=True)) for i in ids}
    return out


def _names(s: Session, target: ObjectInfo, ids: list[int]) -> dict[int, LinkRef]:
    """The visible ones among ``ids`` with their display text (one query)."""
    if not ids or not s.can(target, "read"):
        return {}
    chosen = JoinBuilder(s.schema, target, field_allowed=s.access.field_readable(target)).display_field(target)
    if chosen is None:
        return {}
    found = s.fetch(target, ids, trash=None, fields=[chosen.api_name])
    out = {}
    for rid, record in found.items():
        value = record.get(chosen.api_name)
        text = value if value is None or isinstance(value, str) else chosen.ftype.format(chosen, value)
        out[rid] = LinkRef(rid, text or record.get("code") or f"#{rid}")
    return out
