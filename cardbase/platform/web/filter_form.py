"""What the list page's filter builder and column chooser offer: the fields of an object
the user may read, and those of the objects its links lead to (one level deep), each
with the operators its field type declares and the kind of value input that fits.

Nothing here knows a field type by name: operators come from ``field.ftype.operators``,
the input from the type's value kind (``value_type``) and whether the field has choices,
so a new field type shows up in the builder without a change here.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dc_field
from typing import Any, Callable

from flask import url_for
from flask_babel import lazy_gettext as _l

from cardbase.schema_engine.field_types.choice import choices_of
from cardbase.schema_engine.query.paths import is_link, is_user
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema

# Words for the operators of the one filter language (docs/filters.md); which of them a
# field offers is the field type's declaration.
OPERATOR_LABELS = {
    "eq": _l("is"),
    "ne": _l("is not"),
    "lt": _l("less than"),
    "le": _l("at most"),
    "gt": _l("greater than"),
    "ge": _l("at least"),
    "between": _l("between"),
    "in": _l("is one of"),
    "not_in": _l("is none of"),
    "contains": _l("contains"),
    "not_contains": _l("does not contain"),
    "starts_with": _l("starts with"),
    "is_empty": _l("is empty"),
    "is_not_empty": _l("is not empty"),
    # several linked records (a multi-link)
    "has_any": _l("has any of"),
    "has_all": _l("has all of"),
    "has_none": _l("has none of"),
    # relative to today (query/relative.py)
    "today": _l("is today"),
    "this_week": _l("is this week"),
    "this_month": _l("is this month"),
    "overdue": _l("is overdue"),
    "next_days": _l("is in the next … days"),
    "last_days": _l("was in the last … days"),
}
# How the value is entered, by the type's value kind (formula value types).
INPUT_BY_VALUE_TYPE = {"number": "number", "date": "date", "datetime": "datetime", "boolean": "boolean",
                       "link": "link"}
HIDDEN_SYSTEM = frozenset({"version"})  # bookkeeping, not something users filter or show


@dataclass
class Entry:
    """One choosable path: a field of the object or of a linked object."""

    path: str
    label: str
    field: FieldInfo
    group: str
    links_url: str | None = None
    choices: list[dict[str, str]] = dc_field(default_factory=list)

    @property
    def input(self) -> str:
        if self.choices:
            return "choice"
        if _picks_records(self.field):
            return "link"
        return INPUT_BY_VALUE_TYPE.get(self.field.ftype.value_type, "text")

    def to_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        labels = labels or operator_labels()
        return {"path": self.path, "label": self.label, "group": self.group, "input": self.input,
                "ops": [{"op": op, "label": labels.get(op, op)} for op in self.field.ftype.operators],
                "choices": self.choices, "links_url": self.links_url,
                "multi": self.field.ftype.value_type == "list", "me": is_user(self.field)}


def operator_labels() -> dict[str, str]:
    """The operators' words in the request's language (translated once per request)."""
    return {op: str(label) for op, label in OPERATOR_LABELS.items()}


def _choices(field: FieldInfo, language: str | None = None) -> list[dict[str, str]]:
    out = []
    for choice in choices_of(field, language):
        if isinstance(choice, dict):
            out.append({"value": str(choice.get("value")), "label": str(choice.get("label") or choice.get("value"))})
        else:
            out.append({"value": str(choice), "label": str(choice)})
    return out


def _picks_records(field: FieldInfo) -> bool:
    """Is the value one or several records (a link, a user, or a multi-link whose values
    live apart)?"""
    return field.ftype.value_type == "link" or field.ftype.stored_apart


def _links_url(owner: ObjectInfo, field: FieldInfo, has_endpoint: Callable[[str], bool]) -> str | None:
    """The link picker's choices, for a link or a multi-link (the records of its target)."""
    if not (field.type == "link" or field.ftype.stored_apart) or not has_endpoint("cards.link_choices"):
        return None
    return url_for("cards.link_choices", object_name=owner.api_name, field_name=field.api_name)


def catalogue(schema: Schema, obj: ObjectInfo, readable: Callable[[FieldInfo], bool],
              can_read: Callable[[ObjectInfo], bool], language: str,
              has_endpoint: Callable[[str], bool] = lambda name: False) -> list[Entry]:
    """Every path the user may filter, sort or show: the object's readable fields (its
    own first, then the system fields), then for each readable link to a readable object
    that object's readable fields and its code."""
    own_group = obj.label_in(language)
    entries: list[Entry] = []
    visible = [f for f in obj.fields if f.api_name not in HIDDEN_SYSTEM and readable(f)]
    visible.sort(key=lambda f: f.system)  # the object's own fields first, then code, owner, dates
    for f in visible:
        entries.append(Entry(f.api_name, f.label_in(language), f, own_group,
                             _links_url(obj, f, has_endpoint), _choices(f, language)))
    for link in visible:
        if not is_link(link):
            continue
        target = schema.link_target(link)
        if not can_read(target):
            continue
        group = link.label_in(language)
        for g in target.fields:  # its own fields and its code; not its bookkeeping
            if (g.system and g.api_name != "code") or not readable(g):
                continue
            entries.append(Entry(f"{link.api_name}.{g.api_name}", f"{group} › {g.label_in(language)}", g, group,
                                 _links_url(target, g, has_endpoint), _choices(g, language)))
    return entries


def path_label(schema: Schema, obj: ObjectInfo, path: str, language: str) -> str:
    """The column heading of a path: "Organisation › City" for ``organisation.city``."""
    labels, current = [], obj
    for i, name in enumerate(path.split(".")):
        f = current.fields_by_name.get(name)
        if f is None:
            return path
        labels.append(f.label_in(language))
        if i < path.count(".") and is_link(f):
            current = schema.link_target(f)
    return " › ".join(labels)


def path_field(schema: Schema, obj: ObjectInfo, path: str,
               readable: Callable[[FieldInfo], bool] | None = None) -> FieldInfo | None:
    """The last field of ``path`` if every step exists, crosses links and is readable."""
    current, steps = obj, path.split(".") if isinstance(path, str) and path else []
    if not steps or len(steps) > 4:
        return None
    field = None
    for i, name in enumerate(steps):
        field = current.fields_by_name.get(name)
        if field is None or (readable is not None and not readable(field)):
            return None
        if i < len(steps) - 1:
            if not is_link(field):
                return None
            current = schema.link_target(field)
    return field


MAX_GROUP_DEPTH = 10  # the filter language's own depth limit (docs/filters.md)


def _is_leaf(item: Any) -> bool:
    return isinstance(item, dict) and "field" in item


def _group_model(tree: Any, depth: int) -> dict[str, Any] | None:
    """An ``{"and"|"or": [...]}`` node as a builder group, its items leaves or groups; a
    ``{"not": ...}`` as a "none of" group (``{"not": {"or": [a, b]}}`` holds a and b, any
    other negated condition or group is its one item). None for a shape the builder
    cannot show (a bad node, too deep)."""
    if depth > MAX_GROUP_DEPTH or not isinstance(tree, dict) or len(tree) != 1:
        return None
    key = next(iter(tree))
    if key == "not":
        inner = tree["not"]
        if _is_leaf(inner):
            return {"match": "not", "rows": [inner]}
        group = _group_model(inner, depth + 1)
        if group is None:
            return None
        return {"match": "not", "rows": group["rows"] if group["match"] == "or" else [group]}
    if key not in ("and", "or") or not isinstance(tree[key], list):
        return None
    rows: list[dict[str, Any]] = []
    for item in tree[key]:
        if _is_leaf(item):
            rows.append(item)
            continue
        group = _group_model(item, depth + 1)
        if group is None:
            return None
        rows.append(group)
    return {"match": key, "rows": rows}


# The words of the builder's nested groups; they travel with the model, so every page that
# includes the builder (lists, rule views, the report designer) has them without a change.
GROUP_TEXTS = {
    "group": _l("Group of conditions"),
    "group_match": _l("Records in this group match"),
    "all_of": _l("all of"),
    "any_of": _l("any of"),
    "none_of": _l("none of"),
    "add_condition": _l("Add condition"),
    "add_group": _l("Add group"),
    "remove_group": _l("Remove group"),
    "add_record": _l("Add a record"),
}


def builder_model(tree: Any) -> dict[str, Any]:
    """The filter as the builder (static/js/lists.js) edits it: the outer group's
    ``match`` ("and"/"or") and its ``rows``, each a condition or a nested group
    ``{"match": "and"|"or"|"not", "rows": [...]}`` ("not": none of them); ``texts`` are
    the groups' words. ``rows`` is None only for a shape the builder cannot show (not a
    valid condition at all): that one is edited as a condition in the filter language."""
    texts = {key: str(text) for key, text in GROUP_TEXTS.items()}
    if tree is None:
        return {"match": "and", "rows": [], "texts": texts}
    if _is_leaf(tree):
        return {"match": "and", "rows": [tree], "texts": texts}
    model = _group_model(tree, 1) or {"match": "and", "rows": None}
    if model["match"] == "not":  # the outer group is all/any: the "none of" group sits inside it
        model = {"match": "and", "rows": [model]}
    return {**model, "texts": texts}
