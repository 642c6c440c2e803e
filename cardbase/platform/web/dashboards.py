"""Dashboards in the browser: a grid of widgets with dashboard-wide filters.

``dashboards.index``   /dashboards                    the dashboards the user may see
``dashboards.show``    /dashboards/<id>               the grid (filters in the query string)
``dashboards.layout``  POST /dashboards/<id>/layout   JSON {"widgets": [...]}: the order and
                                                      sizes set by dragging (owner or admin)
``home_dashboard()``                                  the group's default dashboard, which the
                                                      home page shows instead of the count tiles

Each widget runs through ``cardbase.report_builder`` in the request's engine session: a
report widget is its report's one grouped query (under the viewer's rights), a list widget
one page of records. A widget whose report the viewer may not read shows that instead of
failing the page.
"""
from __future__ import annotations

from typing import Any, Mapping

from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cardbase.report_builder import dashboards, library
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.errors import CardbaseError, NotFound, ValidationError
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.store.session import Session

from ..i18n import current_language
from ..context import abandon_session
from .engine import engine_session
from .errors import PageError, error_page
from .filter_pickers import picker_spec, picker_value
from .reports import op_names, page_data, with_chart_policy

bp = Blueprint("dashboards", __name__)


@bp.errorhandler(PageError)
def _page_error(exc: PageError):
    return error_page(exc.message, exc.status)


def filter_values(s: Session, board: Mapping[str, Any], args: Mapping[str, str]) -> tuple[list[dict], dict]:
    """The dashboard's filter pickers (date range, user, link, choice) and their values from
    the query string; a value that is not one of a picker's options is refused by name."""
    specs, values = [], {}
    for item in board["layout"].get("filters") or []:
        for obj in s.schema.objects:  # the first object that has the path gives the picker
            spec = picker_spec(s, obj, item["field"], item.get("label"))
            if spec is not None:
                break
        else:
            continue
        spec["field"] = item["field"]  # the widgets' objects resolve the path as the board says it
        specs.append(spec)
        value = picker_value(spec, args)
        if value is not None:
            values[item["field"]] = value
    return specs, values


def _widget(s: Session, board: Mapping[str, Any], widget: Mapping[str, Any], values: dict,
            readable: Mapping[int, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": widget["kind"], "title": widget.get("title") or "",
                           "width": widget.get("width", 6), "height": widget.get("height", 2)}
    kind = widget["kind"]
    if kind == "web":
        out["url"] = widget["url"]
        return out
    if kind == "list":
        obj = s.object(widget["object"])
        where = dashboards.dashboard_filter(s, obj.api_name, board["layout"].get("filters") or [], values)
        tree = {"and": [widget["filter"], where]} if widget.get("filter") and where else widget.get("filter") or where
        try:
            shown = obj.display_field.api_name
            page = s.list(obj, ListQuery(filter=tree, limit=widget.get("limit", 10), fields=[shown]))
        except CardbaseError as exc:
            out["problem"] = exc.message
            return out
        out["title"] = out["title"] or obj.label_plural_in(current_language())
        out["records"] = [{"text": r.get(shown) if isinstance(r.get(shown), str) else
                           obj.display_field.ftype.format(obj.display_field, r.get(shown), current_language()),
                           "url": url_for("cards.card", object_name=obj.api_name, record_id=r["id"])}
                          for r in page.data]
        out["count"] = page.count
        out["more"] = url_for("lists.index", object_name=obj.api_name)
        return out
    report, problem = dashboards.widget_report(s, widget, readable)
    if report is None:
        out["problem"] = _("This widget's report is not available to you.")
        return out
    out["title"] = out["title"] or report["name"]
    out["report_url"] = url_for("reports.show", report_id=report["id"])
    try:
        definition = library.load_definition(s, report)
        where = dashboards.dashboard_filter(s, definition.object, board["layout"].get("filters") or [], values)
        result = run_report(s, definition, filter=where)
    except (ValidationError, NotFound) as exc:
        out["problem"] = exc.message
        return out
    data = page_data(s, report, result)
    if kind == "kpi":
        out["kpi"] = data["total"]["texts"][0] or "0"
        out["kpi_label"] = data["measures"][0]
        out["url"] = data["total"]["url"]
    else:
        out["data"] = data
    return out


def render_dashboard(s: Session, board: dict[str, Any], *, home: bool = False):
    try:
        specs, values = filter_values(s, board, request.args)
        problem = None
    except ValidationError as exc:  # a picked value that is not one of the options
        specs, values = filter_values(s, board, {})
        problem = exc.message
    layout = board["layout"].get("widgets") or []
    readable = library.get_reports(s, [w.get("report") for w in layout if w.get("report") is not None])
    widgets = [_widget(s, board, w, values, readable) for w in layout]
    frames = sorted({_origin(w["url"]) for w in widgets if w["kind"] == "web" and w.get("url")})
    # the page's policy lets exactly the embedded pages' origins be framed
    reports = library.list_reports(s) if board["editable"] else []
    return with_chart_policy(render_template("web/dashboards/show.html", board=board, widgets=widgets, specs=specs,
                                             args=request.args, home=home, names=op_names(), reports=reports,
                                             filter_problem=problem),
                             "; frame-src " + " ".join(frames) if frames else "")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def home_dashboard():
    """The home page for a member of a group with a default dashboard, else None."""
    s = engine_session()
    board = dashboards.default_dashboard(s)
    return None if board is None else render_dashboard(s, board, home=True)


@bp.route("/dashboards")
@login_required
def index():
    return render_template("web/dashboards/index.html", boards=dashboards.list_dashboards(engine_session()))


@bp.route("/dashboards/<int:dashboard_id>")
@login_required
def show(dashboard_id: int):
    s = engine_session()
    try:
        board = dashboards.get_dashboard(s, dashboard_id)
    except NotFound:
        raise PageError(_("There is no dashboard with this number you may see."), 404) from None
    return render_dashboard(s, board)


@bp.route("/dashboards/new", methods=["POST"])
@login_required
def create():
    """A new personal dashboard (its owner adds widgets on its page)."""
    s = engine_session(write=True)
    try:
        board = dashboards.save_dashboard(s, {"name": request.form.get("name", ""), "layout": {"widgets": []}})
    except CardbaseError as exc:
        flash(exc.message, "error")
        return redirect(url_for("dashboards.index"))
    return redirect(url_for("dashboards.show", dashboard_id=board["id"]))


@bp.route("/dashboards/<int:dashboard_id>/widgets", methods=["POST"])
@login_required
def add_widget(dashboard_id: int):
    """Add a report widget (chart, pivot or KPI) at the end of the grid."""
    s = engine_session(write=True)
    try:
        board = dashboards.get_dashboard(s, dashboard_id)
        form = request.form
        widget: dict[str, Any] = {"kind": form.get("kind", ""), "title": form.get("title", "")}
        if widget["kind"] == "web":
            widget["url"] = form.get("url", "")
        else:
            widget["report"] = form.get("report", "")
        try:
            widget["width"] = int(form.get("width", "6"))
        except ValueError:
            raise ValidationError({"width": _("must be a whole number from 1 to 12")}) from None
        shares = [{"group": g["group"], "default": g["default"]} for g in board["shared_with"]]
        dashboards.save_dashboard(s, {"name": board["name"], "shared_with": shares, "layout": {
            **board["layout"], "widgets": [*(board["layout"].get("widgets") or []), widget]}}, dashboard_id)
    except NotFound:
        raise PageError(_("There is no dashboard with this number you may see."), 404) from None
    except CardbaseError as exc:
        abandon_session()
        flash(exc.message, "error")
    return redirect(url_for("dashboards.show", dashboard_id=dashboard_id))


@bp.route("/dashboards/<int:dashboard_id>/layout", methods=["POST"])
@login_required
def layout(dashboard_id: int):
    """Order and sizes after dragging: the widgets are the stored ones, in a new order."""
    s = engine_session(write=True)
    try:
        board = dashboards.get_dashboard(s, dashboard_id)
        body = request.get_json(silent=True)
        order = body.get("order") if isinstance(body, dict) else None
        sizes = body.get("sizes") if isinstance(body, dict) else None
        stored = board["layout"].get("widgets") or []
        if not isinstance(order, list) or sorted(order) != list(range(len(stored))):
            raise ValidationError({"order": _("must list every widget once")})
        if not isinstance(sizes, list) or len(sizes) != len(stored):
            raise ValidationError({"sizes": _("must give every widget a width")})
        widgets = [{**stored[i], "width": sizes[n]} for n, i in enumerate(order)]
        shares = [{"group": g["group"], "default": g["default"]} for g in board["shared_with"]]
        saved = dashboards.save_dashboard(s, {"name": board["name"], "layout": {**board["layout"], "widgets": widgets},
                                              "shared_with": shares}, dashboard_id)
    except NotFound:
        return jsonify({"error": _("There is no dashboard with this number you may see.")}), 404
    except CardbaseError as exc:
        return jsonify({"error": exc.message}), exc.status if exc.status in (403, 409) else 400
    return jsonify({"layout": saved["layout"]})
