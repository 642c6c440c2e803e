"""Conditional field rules: a field is visible, required or read-only when a condition over
its own record holds ("Lost reason" is required when Stage = lost). docs/field_rules.md.

A field's rules are ``{"visible_when": <filter>, "required_when": <filter>,
"readonly_when": <filter>}`` in the filter language, over fields people enter on the same
record (no paths through links, no calculated or system fields). They are stored in the
field's options row under "rules" with fields by id (``#12``), so renames never break
them, and lifted out into ``FieldInfo.rules`` by the snapshot, so each field type's own
options stay its own business.

This module validates and converts rules (the schema service calls ``clean_rules`` and
``check_rule_rights``), compiles them once per schema snapshot (``compiled_rules``, the
Python evaluator of ``query.match``), describes them in words for error messages, and
gives channels what a card needs: ``field_rules_state`` (the state for given values)
and ``rules_json`` (the rules in a form a browser evaluates while the user types). The
record store enforces them on every write (``store/rule_check.py``).
"""
from __future__ import annotations

import logging
import threading
import weakref
from typing import Any, Mapping

import sqlalchemy as sa
from sqlalchemy import Connection

from .errors import CardbaseError, SchemaError, ValidationError
from .field_types.base import FieldValueError
from .i18n import _, language
from .meta_models import Group
from .query.filters import GROUP_KEYS, NO_OPERAND
from .query.match import Matcher, compile_match
from .rights_models import FieldRight
from .snapshot import FieldInfo, ObjectInfo, Schema
from .usage import field_finder, qualified
from .values import LinkRef

RULE_KINDS = ("visible_when", "required_when", "readonly_when")
STATE_KEYS = {"visible_when": "visible", "required_when": "required", "readonly_when": "readonly"}
log = logging.getLogger(__name__)
_cache: "weakref.WeakKeyDictionary[Schema, dict[int, dict[FieldInfo, dict[str, Matcher]]]]" = weakref.WeakKeyDictionary()
_lock = threading.Lock()


# ---- paths: names <-> stored ids -------------------------------------------------------------
def _map_fields(tree: Any, fn) -> Any:
    if isinstance(tree, dict):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return {"not": _map_fields(tree["not"], fn)}
        if group is not None and isinstance(tree[group], list):
            return {group: [_map_fields(item, fn) for item in tree[group]]}
        if isinstance(tree.get("field"), str):
            return {**tree, "field": fn(tree["field"])}
    return tree


def _leaf_fields(tree: Any) -> list[str]:
    names: list[str] = []

    def collect(name: str) -> str:
        names.append(name)
        return name

    _map_fields(tree, collect)
    return names


def named(obj: ObjectInfo, tree: Any) -> Any:
    """A stored condition (``#12``) with today's API names; names pass through."""
    def by_name(path: str) -> str:
        if path.startswith("#") and path[1:].isdigit():
            found = next((f for f in obj.user_fields if f.id == int(path[1:])), None)
            if found is None:
                raise ValidationError({"rules": f"refers to a field that no longer exists ({path})"})
            return found.api_name
        return path
    return _map_fields(tree, by_name)


def rules_of(field: FieldInfo, obj: ObjectInfo) -> dict[str, Any] | None:
    """The field's rules with API names (for the API, solutions and cards), or None."""
    if not field.rules:
        return None
    out = {}
    for kind, tree in field.rules.items():
        try:
            out[kind] = named(obj, tree)
        except ValidationError:  # a broken rule is shown as stored
            out[kind] = tree
    return out


# ---- saving ----------------------------------------------------------------------------------
def clean_rules(schema: Schema, obj: ObjectInfo, field: FieldInfo, raw: Any) -> dict[str, Any] | None:
    """Validate the rules of ``field`` (being added: id 0) and return them stored by ids.
    Every problem is a SchemaError under ``rules.<kind>`` naming the field and the problem."""
    if raw is None or raw == {}:
        return None
    if not isinstance(raw, Mapping):
        raise SchemaError({"rules": 'must be an object like {"required_when": {"field": "stage", '
                                    '"op": "eq", "value": "lost"}}'})
    unknown = sorted(str(k) for k in raw if k not in RULE_KINDS)
    if unknown:
        raise SchemaError({f"rules.{k}": f"is not a rule; use {', '.join(RULE_KINDS)}" for k in unknown})
    stored: dict[str, Any] = {}
    for kind in RULE_KINDS:
        tree = raw.get(kind)
        if tree is None or tree == {}:
            continue
        key = f"rules.{kind}"
        if kind != "visible_when" and not field.ftype.writable:
            raise SchemaError({key: f"'{field.label}' is calculated by the system; it cannot be required or "
                                    "read-only"})
        try:
            tree = named(obj, tree)
            compile_match(schema, obj, tree, key=key)
        except ValidationError as exc:
            raise SchemaError(exc.errors) from None
        for name in _leaf_fields(tree):
            used = obj.field(name)
            if used.system or not used.ftype.writable:
                raise SchemaError({key: f"'{name}' is calculated by the system; a condition may only use "
                                        "fields people enter on the record"})
            if kind == "visible_when" and used.id == field.id:
                raise SchemaError({key: f"'{field.api_name}' cannot be shown depending on its own value "
                                        "(hidden while empty, it could never be filled)"})
        stored[kind] = _map_fields(tree, lambda name: f"#{obj.field(name).id}")
    return stored or None


def check_rule_rights(conn: Connection, schema: Schema, obj: ObjectInfo, field: FieldInfo) -> None:
    """A rule must not let anyone infer a field hidden from them: a group that hides a
    field a condition reads must hide the ruled field too (else its members would see the
    field switch to required or read-only as the hidden value changes)."""
    if not field.rules:
        return
    levels: dict[tuple[int, int | None], str] = {}  # a field not saved yet (no id) has no levels
    names: dict[int, str] = dict(conn.execute(sa.select(Group.id, Group.name)).all())
    for gid, fid, level in conn.execute(sa.select(FieldRight.group_id, FieldRight.field_id, FieldRight.level)):
        levels[(gid, fid)] = level
    for kind, tree in field.rules.items():
        for path in _leaf_fields(tree):
            used = next((f for f in obj.user_fields if f"#{f.id}" == path), None)
            if used is None or used.id == field.id:
                continue
            for gid, group in names.items():
                if levels.get((gid, used.stored_id)) == "hidden" and levels.get((gid, field.id)) != "hidden":
                    raise SchemaError({f"rules.{kind}": (
                        f"uses '{used.api_name}', which group '{group}' may not see while it sees "
                        f"'{field.api_name}': its members could infer the hidden value; hide "
                        f"'{field.api_name}' for that group too or use another field")})


def rules_reading(schema: Schema, field: FieldInfo) -> list[tuple[FieldInfo, str]]:
    """(ruled field, rule kind) for every rule of another field whose condition reads ``field``."""
    obj = schema.object(field.object_id)
    token = f"#{field.id}"
    return [(f, kind) for f in obj.user_fields if f.rules and f.id != field.id
            for kind, tree in f.rules.items() if token in _leaf_fields(tree)]


def rule_fields(schema: Schema, field: FieldInfo) -> list[tuple[str, FieldInfo]]:
    """(rule kind, field read) for every field the rules of ``field`` read."""
    obj = schema.object(field.object_id)
    by_token = {f"#{f.id}": f for f in obj.user_fields}
    return [(kind, by_token[path]) for kind, tree in (field.rules or {}).items()
            for path in dict.fromkeys(_leaf_fields(tree)) if path in by_token]


# ---- evaluating ------------------------------------------------------------------------------
def compiled_rules(schema: Schema, obj: ObjectInfo) -> dict[FieldInfo, dict[str, Matcher]]:
    """The object's rules compiled once per snapshot. A stored rule the schema no longer
    supports (a field's type changed under it) is skipped and logged, never a crash."""
    per_schema = _cache.get(schema)
    if per_schema is None:
        per_schema = {}
        for o in schema.objects:
            compiled: dict[FieldInfo, dict[str, Matcher]] = {}
            for f in o.user_fields:
                for kind, tree in (f.rules or {}).items():
                    try:
                        compiled.setdefault(f, {})[kind] = compile_match(schema, o, named(o, tree))
                    except CardbaseError as exc:
                        log.warning("rule %s of %s.%s no longer compiles: %s", kind, o.api_name, f.api_name, exc)
            per_schema[o.id] = compiled
        with _lock:
            _cache[schema] = per_schema
    return per_schema.get(obj.id, {})


def op_words() -> dict[str, str]:
    """The filter operators in words, in the language in force."""
    return {"eq": "=", "ne": "≠", "lt": "<", "le": "≤", "gt": ">", "ge": "≥", "between": _("is between"),
            "in": _("is one of"), "not_in": _("is none of"), "contains": _("contains"),
            "not_contains": _("does not contain"), "starts_with": _("starts with"), "is_empty": _("is empty"),
            "is_not_empty": _("is not empty")}


def describe(obj: ObjectInfo, tree: Any) -> str:
    """A condition in words for messages: "Stage = lost", "Amount > 1000 and Stage is empty"
    (labels and words in the language in force)."""
    group = next((k for k in GROUP_KEYS if k in tree), None)
    if group == "not":
        return _("not (%(condition)s)", condition=describe(obj, tree["not"]))
    if group is not None:
        parts = [describe(obj, item) for item in tree[group]]
        joiner = f" {_('and')} " if group == "and" else f" {_('or')} "
        nested = (f" {_('and')} ", f" {_('or')} ")
        return joiner.join(f"({p})" if any(n in p for n in nested) else p for p in parts)
    field = obj.fields_by_name.get(tree.get("field"))
    label = field.label_in(language()) if field is not None else str(tree.get("field"))
    op, words = tree.get("op"), op_words()
    if op in NO_OPERAND:
        return f"{label} {words[op]}"
    value = tree.get("value")
    if isinstance(value, list):
        shown = f" {_('and')} ".join(map(str, value)) if op == "between" else ", ".join(map(str, value))
    else:
        shown = _("empty") if value is None else str(value)
    return f"{label} {words.get(op, op)} {shown}"


def field_rules_state(schema: Schema, obj: ObjectInfo, values: Mapping[str, Any]) -> dict[str, dict[str, bool]]:
    """For a card: {field name: {"visible", "required", "readonly"}} of every field with
    rules, for the record's values (JSON or Python values by field name; a value that does
    not parse counts as empty). "required" includes the field's own required flag and
    holds only while the field is visible; "readonly" is evaluated on the given values --
    the store checks it on the record as it was before the write."""
    record: dict[str, Any] = {}
    for f in obj.user_fields:
        raw = values.get(f.api_name)
        try:
            plain = raw.id if isinstance(raw, LinkRef) else raw
            record[f.api_name] = f.ftype.parse(f, plain) if f.ftype.writable else plain
        except (FieldValueError, TypeError, ValueError):
            record[f.api_name] = None
    out: dict[str, dict[str, bool]] = {}
    for field, rules in compiled_rules(schema, obj).items():
        visible = rules["visible_when"].matches(record) if "visible_when" in rules else True
        required = visible and (field.required or ("required_when" in rules and rules["required_when"].matches(record)))
        readonly = "readonly_when" in rules and rules["readonly_when"].matches(record)
        out[field.api_name] = {"visible": visible, "required": required, "readonly": readonly}
    return out


def rules_json(schema: Schema, obj: ObjectInfo) -> dict[str, dict[str, Any]]:
    """The rules of an object's fields for a browser evaluator (docs/field_rules.md):
    {field name: {kind: condition}}, conditions with API names and operands in each
    field's JSON form as parsed by its type (a choice by value, a date as ISO text, a link
    as the record id, a money amount as text), so the card compares what it holds."""
    out: dict[str, dict[str, Any]] = {}
    for field, rules in compiled_rules(schema, obj).items():
        out[field.api_name] = {kind: _browser_tree(obj, matcher.tree) for kind, matcher in rules.items()}
    return out


def _browser_tree(obj: ObjectInfo, tree: dict) -> dict:
    group = next((k for k in GROUP_KEYS if k in tree), None)
    if group == "not":
        return {"not": _browser_tree(obj, tree["not"])}
    if group is not None:
        return {group: [_browser_tree(obj, item) for item in tree[group]]}
    field = obj.field(tree["field"])
    node = {"field": field.api_name, "op": tree["op"]}
    if tree["op"] not in NO_OPERAND:
        operand = field.ftype.filter_value(field, tree["op"], tree.get("value"))
        if field.ftype.stored_apart:  # a multi-link's operand: the record ids themselves
            node["value"] = list(operand or ())
        elif isinstance(operand, list) and field.type != "multi_choice":
            node["value"] = [None if v is None else _json(field, v) for v in operand]
        else:
            node["value"] = None if operand is None else _json(field, operand)
    return node


def _json(field: FieldInfo, value: Any) -> Any:
    if isinstance(value, str) and field.type not in ("choice", "multi_choice"):
        return value  # text operands (contains, starts_with) as written
    shown = field.ftype.to_json(field, value)
    return shown["amount"] if isinstance(shown, Mapping) and "amount" in shown else shown


@field_finder
def _rules_using(conn: Connection, schema: Schema, field: FieldInfo) -> list[str]:
    """Usage (``usage.field_usages``): conditional rules of other fields whose condition reads the field."""
    return [f"rule '{kind}' of field '{qualified(schema, f)}' uses it" for f, kind in rules_reading(schema, field)]
