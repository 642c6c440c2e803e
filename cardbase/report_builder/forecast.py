"""The sales forecast: ready report definitions for any object with an amount (money or
decimal), a probability (a whole-number percentage) and a close date.

* weighted pipeline by month: sum of amount x probability / 100 per close month, beside
  the unweighted pipeline (a line chart);
* weighted pipeline by owner (a bar chart);
* won versus forecast: the weighted amounts per close month split by stage (a stacked
  bar: won deals count fully, probability 100; open ones by their probability).

The fields are found by type and name (``find_fields``) or named by the caller."""
from __future__ import annotations

from typing import Any

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo


def _pick(fields: list[FieldInfo], types: tuple[str, ...], hints: tuple[str, ...]) -> FieldInfo | None:
    candidates = [f for f in fields if f.type in types]
    for hint in hints:
        for f in candidates:
            if hint in f.api_name:
                return f
    return candidates[0] if candidates else None


def find_fields(obj: ObjectInfo) -> dict[str, str]:
    """amount, probability, close_date (and stage when there is a choice field) by name."""
    fields = list(obj.user_fields)
    found = {"amount": _pick(fields, ("money", "decimal"), ("amount", "value", "revenue")),
             "probability": _pick(fields, ("integer",), ("probability", "chance", "percent")),
             "close_date": _pick(fields, ("date",), ("close", "expected", "due"))}
    missing = [k for k, v in found.items() if v is None]
    if missing:
        raise ValidationError({"object": f"'{obj.api_name}' has no {', '.join(missing)} field for a forecast "
                                         "(an amount, a whole-number probability and a close date)"})
    out = {k: v.api_name for k, v in found.items() if v is not None}
    stage = _pick(fields, ("choice",), ("stage", "status", "phase"))
    if stage is not None:
        out["stage"] = stage.api_name
    return out


def forecast_reports(obj: ObjectInfo, fields: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """Named report definitions of the forecast for ``obj``."""
    f = fields or find_fields(obj)
    weighted = {"op": "sum", "field": f["amount"], "weight": f["probability"], "label": "Weighted pipeline"}
    pipeline = {"op": "sum", "field": f["amount"], "label": "Pipeline"}
    month = {"field": f["close_date"], "bucket": "month"}
    out = {
        "forecast_by_month": {"object": obj.api_name, "rows": [month], "measures": [weighted, pipeline],
                              "chart": {"type": "line", "measure": 0}, "live_filters": [f["close_date"], "owner"]},
        "forecast_by_owner": {"object": obj.api_name, "rows": [{"field": "owner"}], "measures": [weighted, pipeline],
                              "sort": {"by": "measure", "measure": 0, "descending": True},
                              "chart": {"type": "bar", "measure": 0}, "live_filters": [f["close_date"]]},
    }
    if "stage" in f:
        out["won_vs_forecast"] = {"object": obj.api_name, "rows": [month], "columns": [{"field": f["stage"]}],
                                  "measures": [weighted], "chart": {"type": "stacked_bar", "measure": 0},
                                  "live_filters": [f["close_date"]]}
    return out
