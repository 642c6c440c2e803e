"""Drill-down: the filter-language condition matching exactly the records of one group
value, so the end-user list opened from a figure counts what the figure counts."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from cardbase.schema_engine.values import LinkRef

if TYPE_CHECKING:  # pragma: no cover
    from .runner import GroupSpec


def bucket_range(bucket: str, text: str) -> tuple[dt.date, dt.date]:
    """The first day of a bucket and the first day after it ("2026-Q2" -> Apr 1, Jul 1)."""
    if bucket == "day":
        start = dt.date.fromisoformat(text)
        return start, start + dt.timedelta(days=1)
    if bucket == "week":
        year_text, week_text = text.split("-W")
        start = dt.date.fromisocalendar(int(year_text), int(week_text), 1)
        return start, start + dt.timedelta(days=7)
    if bucket == "month":
        year, month = (int(p) for p in text.split("-"))
        start = dt.date(year, month, 1)
        return start, dt.date(year + month // 12, month % 12 + 1, 1)
    if bucket == "quarter":
        year_text, quarter_text = text.split("-Q")
        first, year = (int(quarter_text) - 1) * 3 + 1, int(year_text)
        start = dt.date(year, first, 1)
        return start, dt.date(year + (first + 3 > 12), (first + 2) % 12 + 1, 1)
    if bucket == "year":
        start = dt.date(int(text), 1, 1)
        return start, dt.date(int(text) + 1, 1, 1)
    raise ValueError(f"unknown bucket {bucket!r}")


def group_condition(spec: "GroupSpec", value: Any) -> dict:
    path = spec.path.text
    if value is None:
        return {"field": path, "op": "is_empty"}
    if spec.group.bucket:
        start, end = bucket_range(spec.group.bucket, value)
        if spec.field.ftype.value_type == "date":
            return {"field": path, "op": "between", "value": [start.isoformat(), (end - dt.timedelta(days=1)).isoformat()]}
        return {"and": [{"field": path, "op": "ge", "value": f"{start.isoformat()}T00:00:00Z"},
                        {"field": path, "op": "lt", "value": f"{end.isoformat()}T00:00:00Z"}]}
    if isinstance(value, LinkRef):
        return {"field": path, "op": "eq", "value": value.id}
    return {"field": path, "op": "eq", "value": to_filter_value(spec, value)}


def to_filter_value(spec: "GroupSpec", value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    json_value = spec.field.ftype.to_json(spec.field, value)
    return json_value
