"""The report definition: a JSON document validated with marshmallow.

A report names its object, a filter in the one filter language, row and column groups
(field paths through links, date buckets), measures, totals, sort, top N, the chart and
the fields offered as live filters on its page::

    {"object": "deal",
     "filter": {"field": "stage", "op": "ne", "value": "lost"},
     "rows": [{"field": "stage"}], "columns": [{"field": "close_date", "bucket": "quarter"}],
     "measures": [{"op": "sum", "field": "amount"}, {"op": "count", "percent": true}],
     "totals": true, "subtotals": false,
     "sort": {"by": "measure", "measure": 0, "descending": true}, "top": 10,
     "chart": {"type": "stacked_bar", "measure": 0}, "live_filters": ["close_date", "owner"]}

This module checks the document's shape; whether its paths exist and may be read by the
viewer is checked against the schema when the report runs (``compile.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import marshmallow as ma

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.buckets import BUCKETS

MEASURE_OPS = ("count", "count_distinct", "sum", "avg", "min", "max")
CHART_TYPES = ("bar", "stacked_bar", "line", "area", "pie", "donut", "funnel", "kpi", "table")
MAX_GROUPS = 3  # rows + columns; money measures add their currency as hidden groups
MAX_MEASURES = 10
MAX_TOP = 1000
MAX_LIVE_FILTERS = 8


class GroupSchema(ma.Schema):
    field = ma.fields.String(required=True, validate=ma.validate.Length(1, 300))
    bucket = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(BUCKETS))
    label = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class MeasureSchema(ma.Schema):
    op = ma.fields.String(required=True, validate=ma.validate.OneOf(MEASURE_OPS))
    field = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 300))
    percent = ma.fields.Boolean(load_default=False)
    label = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))
    weight = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(1, 300),
                              metadata={"description": "a whole-number percentage field: sum of field x weight / 100"})

    @ma.validates_schema
    def _field_needed(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("weight") and data["op"] != "sum":
            raise ma.ValidationError("only a sum can be weighted", "weight")
        if data["op"] not in ("count",) and not data.get("field"):
            raise ma.ValidationError(f"'{data['op']}' needs a field", "field")
        if data.get("percent") and data["op"] not in ("count", "sum"):
            raise ma.ValidationError("percent of total is given for count and sum only", "percent")


class SortSchema(ma.Schema):
    by = ma.fields.String(load_default="group", validate=ma.validate.OneOf(("group", "measure")))
    measure = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, MAX_MEASURES - 1))
    descending = ma.fields.Boolean(load_default=False)


class ChartSchema(ma.Schema):
    type = ma.fields.String(load_default="table", validate=ma.validate.OneOf(CHART_TYPES))
    measure = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, MAX_MEASURES - 1))
    title = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.Length(max=200))


class DefinitionSchema(ma.Schema):
    object = ma.fields.String(required=True, validate=ma.validate.Length(1, 63))
    filter = ma.fields.Dict(load_default=None, allow_none=True)
    rows = ma.fields.List(ma.fields.Nested(GroupSchema), load_default=list)
    columns = ma.fields.List(ma.fields.Nested(GroupSchema), load_default=list)
    measures = ma.fields.List(ma.fields.Nested(MeasureSchema), load_default=lambda: [{"op": "count"}],
                              validate=ma.validate.Length(1, MAX_MEASURES))
    totals = ma.fields.Boolean(load_default=True)
    subtotals = ma.fields.Boolean(load_default=False)
    sort = ma.fields.Nested(SortSchema, load_default=lambda: {"by": "group", "measure": 0, "descending": False})
    top = ma.fields.Integer(load_default=None, allow_none=True, validate=ma.validate.Range(1, MAX_TOP))
    chart = ma.fields.Nested(ChartSchema, load_default=lambda: {"type": "table", "measure": 0, "title": None})
    live_filters = ma.fields.List(ma.fields.String(validate=ma.validate.Length(1, 300)), load_default=list,
                                  validate=ma.validate.Length(max=MAX_LIVE_FILTERS))

    class Meta:
        unknown = ma.RAISE

    @ma.validates_schema
    def _limits(self, data: dict[str, Any], **kwargs: Any) -> None:
        groups = len(data.get("rows", [])) + len(data.get("columns", []))
        if groups > MAX_GROUPS:
            raise ma.ValidationError(f"has {groups} row and column groups; at most {MAX_GROUPS} are allowed", "rows")
        measures = data.get("measures", [])
        for key in ("sort", "chart"):
            index = (data.get(key) or {}).get("measure", 0)
            if measures and index >= len(measures) and (key == "chart" or data[key]["by"] == "measure"):
                raise ma.ValidationError(f"measure {index} does not exist (the report has {len(measures)})", key)


@dataclass(frozen=True)
class Group:
    field: str
    bucket: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class Measure:
    op: str
    field: str | None = None
    percent: bool = False
    label: str | None = None
    weight: str | None = None


@dataclass
class ReportDefinition:
    """A validated report definition (field paths by name)."""

    object: str
    filter: dict | None = None
    rows: list[Group] = field(default_factory=list)
    columns: list[Group] = field(default_factory=list)
    measures: list[Measure] = field(default_factory=lambda: [Measure("count")])
    totals: bool = True
    subtotals: bool = False
    sort: dict[str, Any] = field(default_factory=lambda: {"by": "group", "measure": 0, "descending": False})
    top: int | None = None
    chart: dict[str, Any] = field(default_factory=lambda: {"type": "table", "measure": 0, "title": None})
    live_filters: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        def group(g: Group) -> dict[str, Any]:
            return {k: v for k, v in (("field", g.field), ("bucket", g.bucket), ("label", g.label)) if v is not None}

        def measure(m: Measure) -> dict[str, Any]:
            out: dict[str, Any] = {"op": m.op}
            if m.field is not None:
                out["field"] = m.field
            if m.percent:
                out["percent"] = True
            if m.label is not None:
                out["label"] = m.label
            if m.weight is not None:
                out["weight"] = m.weight
            return out

        return {"object": self.object, "filter": self.filter, "rows": [group(g) for g in self.rows],
                "columns": [group(g) for g in self.columns], "measures": [measure(m) for m in self.measures],
                "totals": self.totals, "subtotals": self.subtotals, "sort": dict(self.sort), "top": self.top,
                "chart": dict(self.chart), "live_filters": list(self.live_filters)}


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested messages as {"measures.0.op": "..."}."""
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "definition"] = " ".join(messages)
        else:
            for i, value in enumerate(messages):
                out.update(_flatten(value, f"{prefix}.{i}"))
    else:
        out[prefix or "definition"] = str(messages)
    return out


def parse_definition(document: Any) -> ReportDefinition:
    """Validate a definition document; ValidationError names each bad key."""
    if not isinstance(document, dict):
        raise ValidationError({"definition": "must be a JSON object like {\"object\": \"deal\", \"rows\": [...]}"})
    try:
        data = DefinitionSchema().load(document)
    except ma.ValidationError as exc:
        raise ValidationError(_flatten(exc.messages)) from None
    return ReportDefinition(
        object=data["object"], filter=data["filter"] or None,
        rows=[Group(**g) for g in data["rows"]], columns=[Group(**g) for g in data["columns"]],
        measures=[Measure(**m) for m in data["measures"]], totals=data["totals"], subtotals=data["subtotals"],
        sort=dict(data["sort"]), top=data["top"], chart=dict(data["chart"]), live_filters=list(data["live_filters"]))
