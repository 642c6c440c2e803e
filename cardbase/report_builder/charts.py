"""Charts: a report result as a plotly figure (figure JSON), drawn in the browser by the
plotly.js of the installed plotly package.

The traces are built as plotly's figure JSON directly and encoded with ``plotly.io``:
building ``plotly.graph_objects`` validates every attribute (about 80 ms a figure, most of
a dashboard's time); ``build_figure`` gives the validated ``go.Figure`` of the same JSON,
which the tests use to check every chart type.

One small class per chart type builds its traces from the result; every point carries
``customdata`` = [row index, column index] (-1: a total) so a click opens the drill-down
list of exactly its records. Money is never mixed: a money measure gives one series per
currency. Numbers use the reader's locale (``separators``), labels come translated from
the caller (``texts``); the layout is responsive (autosize, no fixed width).
"""
from __future__ import annotations

import json
from typing import Any, Callable

import plotly.graph_objects as go
import plotly.io as pio

from .runner import ReportResult
from .serialize import figure_number, key_label, measure_label

SEPARATORS = {"de": ",.", "en": ".,"}
# English texts drawn inside charts; channels pass their translations as ``texts``.
CHART_TEXTS = {"percent_of_total": "%(percent)s of total",
               "funnel_percent_note": "Percentages: each step's share of the total"}
TEMPLATE = pio.templates["plotly_white"].to_plotly_json()  # the look, once per process
Series = list[tuple[str, list[str], list[float | None], list[list[int]]]]  # name, labels, values, customdata


def _series(result: ReportResult, measure: int, locale: str) -> Series:
    """One series per column key (or the row totals without columns), split by currency."""
    m = result.measures[measure]
    labels = [key_label(result.rows, r, locale) for r in result.row_keys] if result.rows else [""]
    row_keys = result.row_keys if result.rows else [()]
    columns: list[tuple[str, Callable[[tuple], Any], int]] = []
    if result.columns:
        for j, c in enumerate(result.column_keys):
            def in_column(r: tuple, c: tuple = c) -> Any:
                return result.cell(r, c)[measure]
            columns.append((key_label(result.columns, c, locale), in_column, j))
    else:
        columns.append(("", lambda r: (result.row_totals.get(r) or result.total)[measure], -1))
    out: Series = []
    for name, value_of, j in columns:
        values = [value_of(r) for r in row_keys]
        custom = [[i if result.rows else -1, j] for i in range(len(row_keys))]
        if m.money:
            currencies = sorted({c for v in values if isinstance(v, dict) for c in v})
            for currency in currencies:
                out.append((f"{name} {currency}".strip(), labels,
                            [figure_number(v.get(currency)) if isinstance(v, dict) else None for v in values], custom))
        else:
            out.append((name, labels, [figure_number(v) for v in values], custom))
    return out


class Chart:
    """Builds the traces of one chart type."""

    kind = ""

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        raise NotImplementedError

    def layout(self) -> dict[str, Any]:
        return {}

    def subtitle(self, texts: dict[str, str]) -> str | None:
        """A line under the title that says how to read the chart, if it needs one."""
        return None


class Bar(Chart):
    kind = "bar"
    mode = "group"

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        return [{"type": "bar", "name": name, "x": labels, "y": values, "customdata": custom}
                for name, labels, values, custom in series]

    def layout(self) -> dict[str, Any]:
        return {"barmode": self.mode}


class StackedBar(Bar):
    kind = "stacked_bar"
    mode = "stack"


class Line(Chart):
    kind = "line"
    fill: str | None = None

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        return [{"type": "scatter", "name": name, "x": labels, "y": values, "customdata": custom,
                 "mode": "lines+markers", **({"stackgroup": "one"} if self.fill else {})}
                for name, labels, values, custom in series]


class Area(Line):
    kind = "area"
    fill = "tonexty"


class Pie(Chart):
    kind = "pie"
    hole = 0.0

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        name, labels, values, custom = series[0] if series else ("", [], [], [])
        return [{"type": "pie", "labels": labels, "values": values, "customdata": custom, "hole": self.hole,
                 "name": name, "sort": False}]


class Donut(Pie):
    kind = "donut"
    hole = 0.45


class Funnel(Chart):
    """A report puts each record in exactly one step (its current stage), so the funnel is
    part-to-whole, and a step shows its share of all the records charted: plotly's
    "percent total", as in plotly's own part-to-whole funnels. "Percent initial" (the
    drop-off funnel, where a record is counted in every step it passed) went above 100 %
    whenever a later stage held more records than the first. The step says "4 · 10.0%"
    (short enough for a phone's narrow steps); the subtitle and the hover say what the
    percentage is."""

    kind = "funnel"

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        name, labels, values, custom = series[0] if series else ("", [], [], [])
        share = texts["percent_of_total"] % {"percent": "%{percentTotal:.1%}"}
        return [{"type": "funnel", "y": labels, "x": values, "customdata": custom, "name": name,
                 "textinfo": "value+percent total", "texttemplate": "%{value:,} · %{percentTotal:.1%}",
                 "hovertemplate": f"%{{y}}: %{{x:,}}<br>{share}<extra></extra>"}]

    def subtitle(self, texts: dict[str, str]) -> str | None:
        return texts["funnel_percent_note"]


class Kpi(Chart):
    kind = "kpi"

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        total = result.total[measure]
        figures = sorted(total.items()) if isinstance(total, dict) else [("", total)]
        n = max(len(figures), 1)
        return [{"type": "indicator", "mode": "number", "value": figure_number(value) or 0,
                 "number": {"suffix": f" {currency}" if currency else "", "valueformat": ",.2f" if currency else ","},
                 "domain": {"x": [i / n, (i + 1) / n], "y": [0, 1]}}
                for i, (currency, value) in enumerate(figures)]


class Table(Chart):
    kind = "table"

    def traces(self, series: Series, result: ReportResult, measure: int, locale: str,
               texts: dict[str, str]) -> list[Any]:
        from .export import pivot_rows
        header, rows = pivot_rows(result, locale)
        return [{"type": "table", "header": {"values": header},
                 "cells": {"values": [list(col) for col in zip(*rows)] if rows else [[] for _ in header]}}]


CHARTS: dict[str, Chart] = {c.kind: c for c in (Bar(), StackedBar(), Line(), Area(), Pie(), Donut(), Funnel(),
                                                   Kpi(), Table())}


def figure_dict(result: ReportResult, *, kind: str | None = None, measure: int | None = None,
                locale: str = "en", language: str = "en", title: str | None = None,
                texts: dict[str, str] | None = None) -> dict[str, Any]:
    """The figure as plotly figure JSON (``{"data": [...], "layout": {...}}``)."""
    chart_options = result.definition.chart
    chart = CHARTS[kind or chart_options.get("type") or "table"]
    index = measure if measure is not None else chart_options.get("measure", 0)
    index = min(index, len(result.measures) - 1)
    series = _series(result, index, locale)
    texts = {**CHART_TEXTS, **(texts or {})}
    layout = {"title": {"text": title or chart_options.get("title") or
                        measure_label(result.measures[index], language, texts)},
              "separators": SEPARATORS.get(locale[:2], ".,"), "autosize": True,
              "margin": {"l": 40, "r": 20, "t": 50, "b": 40}, "legend": {"orientation": "h"},
              "template": TEMPLATE, **chart.layout()}
    subtitle = chart.subtitle(texts)
    if subtitle:
        layout["title"]["subtitle"] = {"text": subtitle}
        layout["margin"]["t"] = 70
    return {"data": chart.traces(series, result, index, locale, texts), "layout": layout}


def build_figure(result: ReportResult, **kwargs: Any) -> go.Figure:
    """The same figure as a validated ``plotly.graph_objects.Figure``."""
    return go.Figure(figure_dict(result, **kwargs))


def figure_json(result: ReportResult, **kwargs: Any) -> dict[str, Any]:
    """The figure as plain JSON (what plotly.js's ``Plotly.react`` takes)."""
    return json.loads(pio.to_json(figure_dict(result, **kwargs), validate=False))
