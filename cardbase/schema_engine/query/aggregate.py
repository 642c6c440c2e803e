"""Grouped figures for reports and charts: ONE ``GROUP BY`` statement per request.

Groups are field paths (links give ``LinkRef(id, display)``, ordered by display text),
or date buckets; metrics are count, sum, avg, min and max over fields or paths. Filter,
search and rights apply exactly as in lists (the same ``scope.conditions``); trashed
records never count.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Sequence

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..errors import ValidationError
from ..exact_sums import numeric_aggregate, overflow_fallback
from ..field_types.money import per_record
from ..snapshot import ObjectInfo, Schema
from ..values import LinkRef
from .buckets import BUCKETS, bucket_key
from .model import AggregateQuery
from .paths import FieldAllowed, JoinBuilder, LinkFilter, Path, display_text, resolve
from .scope import RowFilter, conditions

METRIC_OPS = ("count", "count_distinct", "sum", "avg", "min", "max")
NUMERIC_VALUE_TYPES = ("number",)
AVG_EXTRA_PLACES = 2
MONEY_OPS = ("sum", "avg", "min", "max")  # figures of amounts: per currency


@dataclass
class _Part:
    """One group or metric: its result key, selected columns, and how to decode them."""

    name: str
    columns: list[ColumnElement]
    group: bool
    order: list[ColumnElement]
    decode: Callable[[Sequence[Any]], Any]
    grouped: list[ColumnElement] | None = None  # what GROUP BY names, when not ``columns``


def aggregate(conn: Connection, schema: Schema, obj: ObjectInfo, query: AggregateQuery, *,
              row_filter: RowFilter = None, field_allowed: FieldAllowed | None = None,
              link_filter: LinkFilter | None = None) -> list[dict[str, Any]]:
    """Rows ``{group key: value, ..., metric name: value}`` ordered by the group keys."""
    return prepare(schema, obj, query, row_filter=row_filter, field_allowed=field_allowed,
                   link_filter=link_filter).run(conn)


@dataclass
class PreparedAggregate:
    """The one grouped statement of an aggregate, built for one reader but not yet run: its
    SQL text and parameters identify the figures exactly (rights, filters, "today" and "me"
    are all in it), which is what a result cache keys on."""

    statement: sa.Select
    parts: list[_Part]
    limit: int
    rebuild: Callable[[], "PreparedAggregate"]

    def run(self, conn: Connection) -> list[dict[str, Any]]:
        attempts = iter([self])

        def execute() -> list[dict[str, Any]]:
            # SQLite's overflow retry builds the statement again, with Python's sums
            return (next(attempts, None) or self.rebuild())._execute(conn)
        return overflow_fallback(execute)

    def _execute(self, conn: Connection) -> list[dict[str, Any]]:
        rows = conn.execute(self.statement).all()
        if len(rows) > self.limit:
            raise ValidationError({"group_by": f"gives more than {self.limit} groups; "
                                               "group by fewer or coarser keys, or filter"})
        out = []
        for row in rows:
            record, i = {}, 0
            for part in self.parts:
                n = len(part.columns)
                record[part.name] = part.decode(tuple(row[i:i + n]))
                i += n
            out.append(record)
        return out


def prepare(schema: Schema, obj: ObjectInfo, query: AggregateQuery, *, row_filter: RowFilter = None,
            field_allowed: FieldAllowed | None = None, link_filter: LinkFilter | None = None) -> PreparedAggregate:
    """Build the grouped statement (bad paths, operations and names are refused here)."""
    def build() -> PreparedAggregate:
        return _prepare(schema, obj, query, row_filter=row_filter, field_allowed=field_allowed,
                        link_filter=link_filter, rebuild=build)
    return build()


def _prepare(schema: Schema, obj: ObjectInfo, query: AggregateQuery, *, row_filter: RowFilter,
             field_allowed: FieldAllowed | None, link_filter: LinkFilter | None,
             rebuild: Callable[[], PreparedAggregate]) -> PreparedAggregate:
    joins = JoinBuilder(schema, obj, field_allowed=field_allowed, link_filter=link_filter)
    where = conditions(joins, filter=query.filter, search=query.search, row_filter=row_filter,
                       field_allowed=field_allowed, trash=False)
    parts = [_group(joins, item, field_allowed) for item in query.group_by]
    parts += [_currency_group(joins, text, "currency", None, field_allowed, empty_as_default=True)
              for text in _money_without_currency(joins, query, field_allowed)]
    parts += [_metric(joins, item, field_allowed) for item in query.metrics]
    names = [p.name for p in parts]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate is not None:
        raise ValidationError({"metrics" if duplicate not in [p.name for p in parts if p.group] else "group_by":
                               f"'{duplicate}' is asked for twice; name one with \"as\""})
    columns = [c for p in parts for c in p.columns]
    stmt = (sa.select(*[c.label(f"c{i}") for i, c in enumerate(columns)])
            .select_from(joins.from_clause()).where(*where)
            .group_by(*[c for p in parts if p.group for c in (p.grouped or p.columns)])
            .order_by(*[o for p in parts if p.group for o in p.order])
            .limit(query.limit + 1))
    if not query.filter and not query.search and row_filter is None:
        # Every live row is read: SQLite would rather walk the group's index (or the partial
        # index "deleted_at IS NULL" matches) and look up each row -- twice the time of a scan.
        stmt = stmt.with_hint(joins.base, "NOT INDEXED", dialect_name="sqlite")
    return PreparedAggregate(stmt, parts, query.limit, rebuild)


# ---- groups -----------------------------------------------------------------------------------
def _group(joins: JoinBuilder, item: Any, field_allowed: FieldAllowed | None) -> _Part:
    bucket = None
    if isinstance(item, dict):
        unknown = set(item) - {"field", "bucket", "as", "part"}
        if unknown or "field" not in item:
            raise ValidationError({"group_by": 'items are field paths or {"field": path, "bucket": ..., "as": name}'})
        text, bucket, name = item["field"], item.get("bucket"), item.get("as")
        if item.get("part") is not None:
            return _currency_group(joins, text, item["part"], name, field_allowed)
    elif isinstance(item, str):
        text, name = item, None
    else:
        raise ValidationError({"group_by": f"items are field paths, not {type(item).__name__}"})
    path = resolve(joins.schema, joins.obj, text, field_allowed=field_allowed, key="group_by")
    if path.kind == "links":
        raise ValidationError({"group_by": f"'{path.text}': a multi-link field holds several records, so records "
                                           "cannot be grouped by it"})
    name = _name(name, path.text, "group_by")
    if bucket is not None:
        if path.field.ftype.value_type not in ("date", "datetime"):
            raise ValidationError({"group_by": f"'{path.text}': only date and time fields can be grouped "
                                               f"by {', '.join(BUCKETS)}"})
        if not isinstance(bucket, str) or bucket not in BUCKETS:
            raise ValidationError({"group_by": f"'{path.text}': unknown bucket {bucket!r}; "
                                               f"use one of {', '.join(BUCKETS)}"})
        shown, key = bucket_key(joins.schema.dialect, joins.columns(path)[0], bucket)
        return _Part(name, [shown], True, [key.asc().nulls_last()], lambda v: v[0], [key])
    if path.kind == "value":
        cols = joins.columns(path)
        field = path.field
        order = field.ftype.sort_expression(field, cols)
        return _Part(name, cols, True, [order.asc().nulls_last()], lambda v: field.ftype.from_db(field, v))
    return _reference_group(joins, path, name)


def _currency_group(joins: JoinBuilder, text: Any, part: Any, name: Any,
                    field_allowed: FieldAllowed | None, empty_as_default: bool = False) -> _Part:
    """``{"field": money path, "part": "currency"}``: group by the currency column of a
    money field, so sums of it stay per currency (money is never mixed). The group added
    for a metric (``empty_as_default``) counts records without an amount under the
    field's default currency, so they do not make a group of their own."""
    path = resolve(joins.schema, joins.obj, text, field_allowed=field_allowed, key="group_by")
    if part != "currency" or path.field.type != "money" or path.field.system:
        raise ValidationError({"group_by": f"'{path.text}': only a money field has a \"currency\" part"})
    col = joins.columns(path)[1]
    if empty_as_default:
        col = sa.func.coalesce(col, path.field.options.get("currency") or "EUR")
    name = _name(name, f"{path.text}:currency", "group_by")
    return _Part(name, [col], True, [col.asc().nulls_last()], lambda v: v[0])


def _money_without_currency(joins: JoinBuilder, query: AggregateQuery,
                            field_allowed: FieldAllowed | None) -> list[str]:
    """Money paths with a currency per record that a metric adds up or compares but the
    groups do not split by currency: each gets its currency group ("<path>:currency" in
    every row), so amounts of different currencies are never combined into one figure."""
    wanted: list[str] = []
    for item in query.metrics:
        if isinstance(item, dict) and item.get("op") in MONEY_OPS and isinstance(item.get("field"), str):
            path = resolve(joins.schema, joins.obj, item["field"], field_allowed=field_allowed, key="metrics")
            if per_record(path.field) and not path.field.system and path.text not in wanted:
                wanted.append(path.text)
    if not wanted:
        return wanted
    for group in query.group_by:
        if isinstance(group, dict) and group.get("part") == "currency" and isinstance(group.get("field"), str):
            path = resolve(joins.schema, joins.obj, group["field"], field_allowed=field_allowed, key="group_by")
            if path.text in wanted:
                wanted.remove(path.text)
    return wanted


def _reference_group(joins: JoinBuilder, path: Path, name: str) -> _Part:
    """A link or user group: its id plus the display columns, ordered by display text."""
    ident = joins.columns(path)[0]
    shown_field, shown = joins.display_columns(path)
    order: list[ColumnElement] = [joins.sort_expression(path).asc().nulls_last(), ident.asc().nulls_last()]
    marker = joins.visibility_column(path.links + (path.field,)) if path.kind == "link" else None
    extra = [marker] if marker is not None else []

    def decode(values: Sequence[Any]) -> LinkRef | None:
        if values[0] is None:
            return None
        rest = values[1:1 + len(shown)]
        if path.kind == "user":
            return LinkRef(int(values[0]), rest[0] if rest else None)
        if extra and values[-1] is None:  # the reader may not see the target
            return LinkRef(int(values[0]), None, restricted=True)
        return LinkRef(int(values[0]), display_text(shown_field, rest) if rest else None)

    return _Part(name, [ident, *shown, *extra], True, order, decode)


# ---- metrics ----------------------------------------------------------------------------------
def _metric(joins: JoinBuilder, item: Any, field_allowed: FieldAllowed | None) -> _Part:
    if not isinstance(item, dict) or set(item) - {"op", "field", "as", "weight"}:
        raise ValidationError({"metrics": 'items are {"op": "count"} or {"op": "sum", "field": path}'})
    op = item.get("op")
    if op not in METRIC_OPS:
        raise ValidationError({"metrics": f"unknown operation {op!r}; use one of {', '.join(METRIC_OPS)}"})
    if item.get("field") is None:
        if op != "count":
            raise ValidationError({"metrics": f"'{op}' needs a field"})
        return _Part(_name(item.get("as"), "count", "metrics"), [sa.func.count()], False, [], lambda v: int(v[0]))
    path = resolve(joins.schema, joins.obj, item["field"], field_allowed=field_allowed, key="metrics")
    if path.kind == "links":
        raise ValidationError({"metrics": f"'{path.text}': a multi-link field holds several records; "
                                          "it cannot be counted or added up"})
    field = path.field
    name = _name(item.get("as"), f"{op}_{path.text.replace('.', '__')}", "metrics")
    col = joins.columns(path)[0]  # the primary column: a money field's amount
    if op == "count":
        return _Part(name, [sa.func.count(col)], False, [], lambda v: int(v[0]))
    if op == "count_distinct":
        return _Part(name, [sa.func.count(sa.distinct(col))], False, [], lambda v: int(v[0]))
    if op in ("sum", "avg") and field.ftype.value_type not in NUMERIC_VALUE_TYPES:
        raise ValidationError({"metrics": f"'{path.text}': '{op}' needs a number field, "
                                          f"not a {field.type} field"})
    if op in ("min", "max") and "lt" not in field.ftype.operators:
        raise ValidationError({"metrics": f"'{path.text}': a {field.type} field has no order, so no {op}"})
    if item.get("weight") is not None:
        return _weighted_sum(joins, item, path, name, col, field_allowed)
    expr = numeric_aggregate(joins.schema.dialect, op, col)  # exact decimal sums on SQLite too
    single = len(path.field.column_names) == 1 or field.system
    return _Part(name, [expr], False, [], lambda v: _metric_value(op, col.type, field, v[0], single))


def _weighted_sum(joins: JoinBuilder, item: dict, path: Path, name: str, col: ColumnElement,
                  field_allowed: FieldAllowed | None) -> _Part:
    """``{"op": "sum", "field": amount, "weight": probability}``: the sum of amount x
    weight / 100 (a weighted pipeline). Added in whole units of the amount's scale times
    the whole-number weight, so the sum is exact on both engines."""
    if item.get("op") != "sum":
        raise ValidationError({"metrics": "only a sum can be weighted"})
    weight = resolve(joins.schema, joins.obj, item["weight"], field_allowed=field_allowed, key="metrics")
    if not isinstance(joins.columns(weight)[0].type, sa.Integer) or weight.kind != "value":
        raise ValidationError({"metrics": f"'{weight.text}': a weight is a whole-number field (a percentage)"})
    scale = getattr(col.type, "scale", None) or 0
    units = sa.cast(sa.func.round(col * (10 ** scale)), sa.BigInteger) * joins.columns(weight)[0]
    places = Decimal(1).scaleb(-scale)

    def decode(v: Sequence[Any]) -> Any:
        return None if v[0] is None else (Decimal(int(v[0])) / (100 * 10 ** scale)).quantize(places)
    return _Part(name, [sa.func.sum(units)], False, [], decode)


def _metric_value(op: str, col_type: Any, field: Any, value: Any, single: bool) -> Any:
    """One engine-independent Python value: ints for integer sums, Decimals at the
    column's scale for numeric ones (SQLite sums in floating point), avg two places finer."""
    if value is None:
        return None
    scale = getattr(col_type, "scale", None) if isinstance(col_type, sa.Numeric) else None
    if op == "avg":
        return _decimal(value).quantize(Decimal(1).scaleb(-((scale or 0) + AVG_EXTRA_PLACES)))
    if isinstance(col_type, sa.Integer):
        return int(value)
    if isinstance(col_type, sa.Numeric) and scale is not None:
        return _decimal(value).quantize(Decimal(1).scaleb(-scale))
    if single:
        return field.ftype.from_db(field, (value,))
    return value


def _decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def _name(given: Any, default: str, key: str) -> str:
    if given is None:
        return default
    if not isinstance(given, str) or not given.strip() or len(given) > 100:
        raise ValidationError({key: '"as" must be a non-empty text of at most 100 characters'})
    return given
