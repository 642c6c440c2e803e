"""A report result as JSON (the REST API's answer and the page's live data) and as the
texts a pivot shows, in the reader's language and locale."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from cardbase.schema_engine.field_types.decimal import format_number
from cardbase.schema_engine.values import LinkRef

from .bucket_labels import bucket_label
from .drill import to_filter_value
from .runner import GroupSpec, Key, MeasureSpec, ReportResult

EMPTY_LABEL = "—"
# English names of the calculations; channels pass their translations as ``texts``.
OP_NAMES = {"count": "Count of", "count_distinct": "Distinct", "sum": "Sum of", "avg": "Average of",
            "min": "Minimum of", "max": "Maximum of", "count_records": "Count", "total": "Total"}


def figure_to_json(value: Any) -> Any:
    """Decimals as exact text (as the API gives money and decimals), money per currency."""
    if isinstance(value, dict):
        return {c: figure_to_json(v) for c, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def figure_number(value: Any) -> float | None:
    """A figure as a float for a chart axis (money: a currency's amount is passed in)."""
    if value is None or isinstance(value, dict):
        return None
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return None


def group_value_json(spec: GroupSpec, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, LinkRef):
        return value.to_json()
    if spec.group.bucket:
        return value
    return to_filter_value(spec, value)


def group_label(spec: GroupSpec, value: Any, locale: str = "en") -> str:
    if value is None:
        return EMPTY_LABEL
    if isinstance(value, LinkRef):
        return value.display or f"#{value.id}"
    if spec.group.bucket:
        return bucket_label(spec.group.bucket, value, locale)
    if isinstance(value, tuple):
        return ", ".join(spec.field.ftype.format(spec.field, [v], locale) for v in value)
    return spec.field.ftype.format(spec.field, value, locale)


def key_label(specs: list[GroupSpec], key: Key, locale: str = "en") -> str:
    return " · ".join(group_label(s, v, locale) for s, v in zip(specs, key))


CURRENCY_SEPARATOR = " · "


def figure_text(measure: MeasureSpec, value: Any, locale: str = "en") -> str:
    """A figure as the pivot shows it: grouped digits, money with its currency, percent."""
    return CURRENCY_SEPARATOR.join(figure_parts(measure, value, locale))


def figure_parts(measure: MeasureSpec, value: Any, locale: str = "en") -> list[str]:
    """A figure's unbreakable pieces: one per currency for money (never mixed), else one.
    A narrow pivot wraps a cell between the pieces, never inside an amount."""
    if isinstance(value, dict):
        return [f"{_number(v, locale)}{' %' if measure.measure.percent else ' ' + c}"
                for c, v in value.items() if v is not None]
    text = _single_text(measure, value, locale)
    return [text] if text else []


def _single_text(measure: MeasureSpec, value: Any, locale: str) -> str:
    if value is None:
        return EMPTY_LABEL if measure.measure.percent else ""
    if measure.measure.percent:
        return f"{_number(value, locale)} %"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    f = measure.field
    if f is not None and measure.measure.op in ("min", "max") and not isinstance(value, (int, Decimal)):
        return f.ftype.format(f, value, locale)
    return _number(value, locale)


def _number(value: Any, locale: str) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return format_number(Decimal(value), 0, locale)
    if isinstance(value, Decimal):
        exponent = value.as_tuple().exponent
        places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
        return format_number(value, places, locale)
    return str(value)


def measure_label(measure: MeasureSpec, language: str = "en", names: dict[str, str] | None = None) -> str:
    """"Sum of Amount", or the label the power user gave."""
    if measure.measure.label:
        return measure.measure.label
    names = {**OP_NAMES, **(names or {})}
    op = names[measure.measure.op]
    if measure.field is None:
        return names["count_records"]
    if measure.measure.weight:
        return f"{op} {measure.field.label_in(language)} × {measure.measure.weight}"
    return f"{op} {measure.field.label_in(language)}"


def group_title(spec: GroupSpec, language: str = "en") -> str:
    if spec.group.label:
        return spec.group.label
    title = spec.field.label_in(language)
    return f"{title} ({spec.group.bucket})" if spec.group.bucket else title


def result_to_json(result: ReportResult, *, locale: str = "en", language: str = "en") -> dict[str, Any]:
    def axis(specs: list[GroupSpec], keys: list[Key], row: bool) -> list[dict[str, Any]]:
        return [{"key": [group_value_json(s, v) for s, v in zip(specs, k)], "label": key_label(specs, k, locale),
                 "filter": result.drill_filter(k, None) if row else result.drill_filter(None, k)} for k in keys]

    figures = lambda values: [figure_to_json(v) for v in values]  # noqa: E731
    return {
        "object": result.obj.api_name,
        "groups": {"rows": [{"field": s.path.text, "bucket": s.group.bucket, "label": group_title(s, language)}
                            for s in result.rows],
                   "columns": [{"field": s.path.text, "bucket": s.group.bucket, "label": group_title(s, language)}
                               for s in result.columns]},
        "measures": [{"op": m.measure.op, "field": m.measure.field, "percent": m.measure.percent,
                      "money": m.money, "label": measure_label(m, language)} for m in result.measures],
        "rows": axis(result.rows, result.row_keys, True),
        "columns": axis(result.columns, result.column_keys, False),
        "cells": [[figures(result.cell(r, c)) for c in result.column_keys] for r in result.row_keys],
        "row_totals": [figures(result.row_totals[r]) for r in result.row_keys],
        "column_totals": [figures(result.column_totals[c]) for c in result.column_keys],
        "total": figures(result.total),
        "filter": result.filter,
        "problems": list(result.problems),
    }
