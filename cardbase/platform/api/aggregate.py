"""Grouped figures: ``GET /api/v1/records/{object}/aggregate``.

What the board's column totals and the reports compute, through the request's engine
session (``Session.aggregate``, purpose "report": the read and report rights; one GROUP BY
under the caller's rights: the row filter narrows the records, a hidden field can be
neither grouped by nor summed, trashed records never count)::

    ?group_by=stage,close_date:month&sum=amount&avg=probability&filter={...}&q=...

Each row has the group keys (the paths, a link as {"id", "display"}, a date bucket as
text: 2026-05, 2026-W19, 2026-Q2), ``count`` and one key per metric named like the engine
names it: ``sum_amount``, ``avg_probability``, ``max_organisation__size``. Sums of money
add the amounts (decimal strings); mixed currencies are not converted.
"""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine import currencies
from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.buckets import BUCKETS
from cardbase.schema_engine.query.model import AggregateQuery
from cardbase.schema_engine.store.serialize import resolve_path_field, value_to_json

from cardbase.schema_engine.store.session import Session

from .blueprint import bp
from .errors import from_engine_error
from .http import arg_int, arg_json, arg_text, json_response
from .records import reading

METRICS = ("sum", "avg", "min", "max")
DEFAULT_GROUPS = 1000
MAX_GROUPS = 10_000


def _paths(name: str) -> list[str]:
    text = arg_text(name, 1000)
    return [p.strip() for p in (text or "").split(",") if p.strip()]


def _group(item: str) -> str | dict[str, str]:
    """``close_date:month`` is a date bucket; anything else a path."""
    path, _, bucket = item.partition(":")
    if not bucket:
        return path
    if bucket not in BUCKETS:
        raise ValidationError({"group_by": f"'{item[:80]}': unknown bucket '{bucket[:20]}'; "
                                           f"use one of {', '.join(BUCKETS)}"})
    return {"field": path, "bucket": bucket}


def aggregate_query() -> AggregateQuery:
    metrics: list[dict[str, Any]] = [{"op": "count"}]
    metrics += [{"op": op, "field": path} for op in METRICS for path in _paths(op)]
    limit = arg_int("limit")
    return AggregateQuery(group_by=[_group(p) for p in _paths("group_by")], metrics=metrics,
                          filter=arg_json("filter"), search=arg_text("q", 1000),
                          limit=DEFAULT_GROUPS if limit is None else limit)


def _rows_json(s: Session, object_name: str, groups: list[str | dict],
               rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group values in the records' JSON form (links, choices, money …); buckets are text."""
    schema = s.schema
    obj = schema.object(object_name)
    fields = {g: resolve_path_field(schema, obj, g) for g in groups if isinstance(g, str)}
    return [{k: value_to_json(fields[k], v) if fields.get(k) is not None else v for k, v in row.items()}
            for row in rows]


@bp.get("/v1/records/<object_name>/aggregate")
def aggregate_records(object_name: str):
    try:
        query = aggregate_query()
        if query.limit > MAX_GROUPS:
            raise ValidationError({"limit": f"must be a whole number from 1 to {MAX_GROUPS}"})
        s = reading()
        rows = s.aggregate(object_name, query, purpose="report")
    except ValidationError as exc:  # a bad path, bucket, metric, filter: the query string is wrong
        return from_engine_error(exc, query=True)
    body: dict[str, Any] = {"data": _rows_json(s, object_name, query.group_by, rows)}
    converted = _converted(s, object_name, query, rows)
    if converted:
        body["converted"] = converted
    return json_response(body)


def _converted(s: Session, object_name: str, query: AggregateQuery, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sums of amounts with a currency per record come one row per currency; when the
    admin keeps exchange rates, each group's sums converted to the base currency at the
    rates valid today, naming them (issue 14, point 1). Empty without rates."""
    if not rows:
        return []
    metric_names = {"count"} | {f"{m['op']}_{m['field'].replace('.', '__')}" for m in query.metrics if m.get("field")}
    currency_keys = [k for k in rows[0] if k.endswith(":currency") and k not in metric_names]
    sums = {k: f"sum_{k[:-len(':currency')].replace('.', '__')}" for k in currency_keys}
    sums = {k: v for k, v in sums.items() if v in rows[0]}
    if not sums:
        return []
    group_keys = [k for k in rows[0] if k not in metric_names and k not in currency_keys]
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        ident = repr([row[k] for k in group_keys])
        entry = groups.setdefault(ident, {"keys": {k: row[k] for k in group_keys}, "sums": {}})
        for currency_key, metric in sums.items():
            if row.get(metric) is not None and row.get(currency_key):
                entry["sums"].setdefault(metric, {})[row[currency_key]] = row[metric]
    out = []
    for entry in groups.values():
        figures = {}
        for metric, amounts in entry["sums"].items():
            done = currencies.convert(s.conn, amounts)
            if done is not None:
                figures[metric] = {"amount": format(done["amount"], "f"), "currency": done["currency"],
                                   "rates": done["rates"]}
        if figures:
            keys = _rows_json(s, object_name, query.group_by, [entry["keys"]])[0]
            out.append({**keys, **figures})
    return out
