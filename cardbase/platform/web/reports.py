"""Report pages: the pivot, its plotly chart, live filters, drill-down, export and print.

``reports.index``      /reports                     the reports the user may run
``reports.show``       /reports/<id>                 pivot + chart + live filters (+ ?print=1)
``reports.data``       /reports/<id>/data            JSON: the pivot and the figure for the live
                                                     filters in the query string (no page reload)
``reports.export``     /reports/<id>/export.<csv|xlsx>
``reports.plotly_js``  /reports/plotly.min.js        plotly.js from the installed plotly package
                                                     (no CDN: works on a closed network)

Everything is read in the request's engine session through ``cardbase.report_builder``
(purpose "report"), so scopes, rule views and field masks decide the figures. Every pivot
cell, total and chart point links to the end-user list filtered to exactly its records.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import plotly
from flask import Blueprint, Response, jsonify, make_response, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cardbase.report_builder import library
from cardbase.report_builder.charts import figure_json
from cardbase.report_builder.export import safe_text, to_csv, to_xlsx
from cardbase.report_builder.runner import ReportResult, run_report
from cardbase.report_builder.serialize import (CURRENCY_SEPARATOR, figure_parts, group_title, key_label, measure_label,
                                               result_to_json)
from cardbase.schema_engine.errors import NotFound, ValidationError
from cardbase.schema_engine.store.session import Session

from ..i18n import current_language
from .engine import engine_session
from .errors import PageError, error_page
from .filter_pickers import picker_condition, picker_spec, picker_value

bp = Blueprint("reports", __name__)


@bp.errorhandler(PageError)
def _page_error(exc: PageError):
    return error_page(exc.message, exc.status)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def op_names() -> dict[str, str]:
    """The calculations' names and the charts' texts in the reader's language."""
    return {"count": _("Count of"), "count_distinct": _("Distinct"), "sum": _("Sum of"), "avg": _("Average of"),
            "min": _("Minimum of"), "max": _("Maximum of"), "count_records": _("Count"), "total": _("Total"),
            # a funnel step's share of all records charted, e.g. "12.5% of total"
            "percent_of_total": _("%(percent)s of total"),
            "funnel_percent_note": _("Percentages: each step's share of the total")}


def _report_or_404(s: Session, report_id: int) -> dict[str, Any]:
    try:
        return library.get_report(s, report_id)
    except NotFound:
        raise PageError(_("There is no report with this number you may run."), 404) from None


def live_filter_specs(s: Session, report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The live filters the page offers: a date range, a user or link picker, a choice list."""
    obj = s.object(report["definition"]["object"])
    specs = (picker_spec(s, obj, path_text) for path_text in report["definition"].get("live_filters") or [])
    return [spec for spec in specs if spec is not None]


def live_filter(specs: list[dict[str, Any]], args: Mapping[str, str]) -> dict | None:
    """The live filters' values from the query string as one filter-language condition."""
    parts = [part for spec in specs for part in picker_condition(spec, picker_value(spec, args))]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"and": parts}


def _run(s: Session, report: dict[str, Any], args: Mapping[str, str]) -> tuple[ReportResult, list[dict[str, Any]]]:
    specs = live_filter_specs(s, report)
    return run_report(s, library.load_definition(s, report), filter=live_filter(specs, args)), specs


def page_data(s: Session, report: dict[str, Any], result: ReportResult) -> dict[str, Any]:
    """What the page's script draws: the pivot's texts, drill-down URLs and the figure."""
    locale = language = current_language()
    names = op_names()
    list_url = url_for("lists.index", object_name=result.obj.api_name)

    def drill(row: Any, column: Any) -> str:
        tree = result.drill_filter(row, column)
        return f"{list_url}?filter={_quote(json.dumps(tree))}" if tree else list_url

    rows = result.row_keys if result.rows else []
    columns = result.column_keys if result.columns else []

    def figures(values: Any) -> dict[str, Any]:
        """Per measure: its text, and its pieces (per currency) that never break inside."""
        parts = [figure_parts(m, v, locale) for m, v in zip(result.measures, values)]
        return {"texts": [CURRENCY_SEPARATOR.join(p) for p in parts], "parts": parts}

    cells = [[{**figures(result.cell(r, c)), "url": drill(r, c)} for c in columns] for r in rows]
    return {
        "measures": [measure_label(m, language, names) for m in result.measures],
        "row_title": " · ".join(group_title(g, language) for g in result.rows),
        "rows": [{"label": key_label(result.rows, r, locale), "url": drill(r, None), **figures(result.row_totals[r])}
                 for r in rows],
        "columns": [{"label": key_label(result.columns, c, locale), "url": drill(None, c),
                     **figures(result.column_totals[c])} for c in columns],
        "cells": cells,
        "total": {**figures(result.total), "url": drill(None, None)},
        "totals": result.definition.totals,
        "figure": figure_json(result, locale=locale, language=language, texts=names),
        "problems": result.problems,
        "empty": result.empty,
    }


def chart_policy(extra: str = "") -> str:
    """The Content-Security-Policy of a page with charts: as everywhere, plus blob: images,
    which plotly.js's image download draws through (in the browser, offline)."""
    from ..app import CONTENT_SECURITY_POLICY  # (the app module imports the web package)
    return CONTENT_SECURITY_POLICY.replace("img-src 'self' data:", "img-src 'self' data: blob:") + extra


def with_chart_policy(body: Any, extra: str = "") -> Response:
    response = make_response(body)
    response.headers["Content-Security-Policy"] = chart_policy(extra)
    return response


def _quote(text: str) -> str:
    from urllib.parse import quote
    return quote(text, safe="")


@bp.route("/reports")
@login_required
def index():
    s = engine_session()
    return render_template("web/reports/index.html", reports=library.list_reports(s))


@bp.route("/reports/plotly.min.js")
def plotly_js():
    """plotly.js of the installed plotly package, cached by the browser."""
    response = send_file(PLOTLY_JS, mimetype="text/javascript", max_age=86400)
    return response


_STRING = r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""


@lru_cache(maxsize=1)
def plotly_css_text() -> str:
    """The style rules plotly.js injects at run time, read from the installed plotly.min.js:
    the page's Content-Security-Policy (style-src 'self') refuses injected <style>
    elements, so the same rules are served as a stylesheet of our own origin."""
    text = PLOTLY_JS.read_text(encoding="utf-8")
    start = text.find('{"X,X div":')
    if start < 0:
        return ""
    rules, position = [], start + 1
    pair = re.compile(_STRING + ":" + _STRING + ",?")
    while True:
        found = pair.match(text, position)
        if found is None:
            break
        selector, body = (json.loads('"' + part[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"')
                          if part[0] == "'" else json.loads(part) for part in found.groups())
        selector = re.sub(r"^,", " ,", selector).replace("X", ".js-plotly-plot .plotly").replace("Y", ".plotly-notifier")
        rules.append(f"{selector}{{{body}}}")
        position = found.end()
    return "\n".join(rules) + "\n"


@bp.route("/reports/plotly.css")
def plotly_css():
    return Response(plotly_css_text(), mimetype="text/css", headers={"Cache-Control": "public, max-age=86400"})


@bp.route("/reports/<int:report_id>")
@login_required
def show(report_id: int):
    s = engine_session()
    report = _report_or_404(s, report_id)
    problem, data, specs = None, None, []
    try:
        result, specs = _run(s, report, request.args)
        data = page_data(s, report, result)
    except ValidationError as exc:  # a field gone or hidden since, a bad live filter value
        problem = exc.message
    return with_chart_policy(render_template("web/reports/show.html", report=report, data=data, problem=problem,
                                             specs=specs, args=request.args, printing=request.args.get("print") == "1"))


@bp.route("/reports/<int:report_id>/data")
@login_required
def data(report_id: int):
    s = engine_session()
    report = _report_or_404(s, report_id)
    try:
        result, _specs = _run(s, report, request.args)
    except ValidationError as exc:
        return jsonify({"error": exc.message}), 400
    return jsonify({"data": page_data(s, report, result), "result": result_to_json(result)})


@bp.route("/reports/<int:report_id>/export.<fmt>")
@login_required
def export(report_id: int, fmt: str):
    s = engine_session()
    report = _report_or_404(s, report_id)
    if fmt not in ("csv", "xlsx"):
        raise PageError(_("Reports export as CSV or XLSX."), 404)
    try:
        result, _specs = _run(s, report, request.args)
    except ValidationError as exc:
        raise PageError(exc.message) from None
    language = current_language()
    name = safe_text(report["name"]).replace('"', "")[:80] or "report"
    if fmt == "csv":
        body = to_csv(result, language, language, op_names())
        return Response(body, mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}.csv"'})
    body_bytes = to_xlsx(result, report["name"], language, op_names())
    return Response(body_bytes, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{_ascii(name)}.xlsx"'})


def _ascii(text: str) -> str:
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in text).strip() or "report"
