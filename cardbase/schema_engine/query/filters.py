"""The one filter language: a JSON condition tree compiled to a SQLAlchemy WHERE clause.

Leaves are ``{"field": "<path>", "op": "<operator>", "value": ...}``; ``{"and": [...]}``,
``{"or": [...]}`` and ``{"not": {...}}`` combine them. Each field type declares the
operators it supports and parses the operand itself, so a new type touches no code here.
Saved views, rights rules, reports, automations and the API all come through here, so
the tree is bounded (depth, leaves) and every error names the path and the problem.
"""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FromClause

from ..errors import ValidationError
from ..field_types.base import ALL_OPERATORS, FieldValueError
from ..snapshot import ObjectInfo, Schema
from .paths import FieldAllowed, JoinBuilder, resolve
from . import relative

MAX_DEPTH = 10
MAX_LEAVES = 200
LEAF_KEYS = frozenset({"field", "op", "value"})
GROUP_KEYS = ("and", "or", "not")
NO_OPERAND = ("is_empty", "is_not_empty") + relative.NO_VALUE
MAX_LIST = 1000  # values of one in/not_in (each is a bound parameter) ...
MAX_VALUES = 10_000  # ... and of the whole tree (SQLite allows 32766 per statement)


class _Compiler:
    def __init__(self, joins: JoinBuilder, field_allowed: FieldAllowed | None, key: str):
        self.joins, self.field_allowed, self.key = joins, field_allowed, key
        self.leaves = 0
        self.values = 0

    def error(self, message: str) -> ValidationError:
        return ValidationError({self.key: message})

    def node(self, node: Any, depth: int) -> ColumnElement:
        if depth > MAX_DEPTH:
            raise self.error(f"conditions are nested more than {MAX_DEPTH} levels deep")
        if not isinstance(node, dict):
            raise self.error(f"a condition must be an object, not {_shown(node)}")
        groups = [k for k in GROUP_KEYS if k in node]
        if groups:
            if len(node) != 1:
                raise self.error(f"a condition with '{groups[0]}' must have no other keys, "
                                 f"found {_keys(node)}")
            return self.group(groups[0], node[groups[0]], depth)
        unknown = set(node) - LEAF_KEYS
        if unknown or "field" not in node:
            found = _keys(node) or "nothing"
            raise self.error('a condition must be {"field": ..., "op": ..., "value": ...} or have '
                             f"one key 'and', 'or' or 'not'; found {found}")
        return self.leaf(node)

    def group(self, op: str, items: Any, depth: int) -> ColumnElement:
        if op == "not":
            return sa.not_(self.node(items, depth + 1))
        if not isinstance(items, list) or not items:
            raise self.error(f"'{op}' needs a non-empty list of conditions")
        clauses = [self.node(item, depth + 1) for item in items]
        return sa.and_(*clauses) if op == "and" else sa.or_(*clauses)

    def leaf(self, node: dict) -> ColumnElement:
        self.leaves += 1
        if self.leaves > MAX_LEAVES:
            raise self.error(f"has more than {MAX_LEAVES} conditions")
        path = resolve(self.joins.schema, self.joins.obj, node["field"],
                       field_allowed=self.field_allowed, key=self.key)
        op = node.get("op")
        if not isinstance(op, str) or op not in ALL_OPERATORS:
            raise self.error(f"'{path.text}': unknown operator {_shown(op)}; "
                             f"operators are {', '.join(ALL_OPERATORS)}")
        field = path.field
        ftype = field.ftype
        if op not in ftype.operators:
            raise self.error(f"'{path.text}': operator '{op}' is not supported by a {field.type} field; "
                             f"use one of {', '.join(ftype.operators)}")
        if op not in NO_OPERAND and "value" not in node:
            raise self.error(f"'{path.text}': operator '{op}' needs a value")
        value = node.get("value")
        if isinstance(value, list):
            if len(value) > MAX_LIST:
                raise self.error(f"'{path.text}': at most {MAX_LIST} values are allowed, got {len(value)}")
            self.values += len(value)
            if self.values > MAX_VALUES:
                raise self.error(f"has more than {MAX_VALUES} values in all")
        try:
            op, value = relative.resolve(field, op, value)  # "today", "me": what they mean now
            value = ftype.filter_value(field, op, value)
            return ftype.filter_clause(field, self.joins.columns(path), op, value)
        except FieldValueError as exc:
            raise self.error(f"'{path.text}': {exc}") from None


def compile_filter(joins: JoinBuilder, tree: Any, *, field_allowed: FieldAllowed | None = None,
                   key: str = "filter") -> ColumnElement | None:
    """WHERE clause for ``tree`` over the statement of ``joins`` (which gains the joins
    the paths need). None or {} means no condition."""
    if tree is None or tree == {}:
        return None
    return _Compiler(joins, field_allowed, key).node(tree, 1)


def condition_for_table(schema: Schema, obj: ObjectInfo, table: FromClause, tree: Any, *,
                        field_allowed: FieldAllowed | None = None, key: str = "filter") -> ColumnElement | None:
    """A self-contained condition on ``table`` (e.g. a rights rule passed as a row filter):
    plain columns directly, paths through links as ``id IN (SELECT ... JOIN ...)``."""
    direct = JoinBuilder(schema, obj, base=table)
    clause = compile_filter(direct, tree, field_allowed=field_allowed, key=key)
    if clause is None or direct.join_count == 0:
        return clause
    inner = JoinBuilder(schema, obj, base=schema.table(obj).alias("rf"))
    clause = compile_filter(inner, tree, field_allowed=field_allowed, key=key)
    assert clause is not None  # the same tree gave a condition above
    sub = sa.select(inner.base.c.id).select_from(inner.from_clause()).where(clause)
    return table.c.id.in_(sub)


def _keys(node: dict) -> str:
    keys = sorted(str(k)[:40] for k in node)
    return ", ".join(keys[:8]) + (", …" if len(keys) > 8 else "")


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return f"'{value[:40]}'"
    if isinstance(value, list):
        return "a list"
    return "null" if value is None else type(value).__name__ if not isinstance(value, (int, float)) else str(value)
