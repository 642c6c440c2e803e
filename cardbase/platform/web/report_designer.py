"""The report designer: pick the object, drag fields to rows, columns and values (or add
them with the zone's picker: the keyboard alternative), choose calculations and date
buckets, filter with the end-user lists' filter builder (fields and link paths, operators by
type, value pickers, all/any, the current user, relative dates), and watch the pivot and
chart update live.

``report_designer.new``      /reports/new[?object=deal]
``report_designer.edit``     /reports/<id>/edit
``report_designer.preview``  POST /reports/preview    JSON definition -> the pivot and figure
``report_designer.save``     POST /reports/save       JSON {id?, name, shared_with, definition}

Preview and save run through ``cardbase.report_builder`` in the request's engine session,
so the designer offers and accepts only what the user may read and report on; every
problem comes back naming the key (``rows.0.field``), never as a 500.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required

from cardbase.report_builder import library
from cardbase.report_builder.definition import CHART_TYPES, MEASURE_OPS, parse_definition
from cardbase.report_builder.runner import run_report
from cardbase.schema_engine.errors import CardbaseError, NotFound
from cardbase.schema_engine.meta_models import Group
from cardbase.schema_engine.query.buckets import BUCKETS
from cardbase.schema_engine.store.session import Session

from ..i18n import current_language
from .engine import can_read, engine_session, readable
from .errors import PageError, error_page
from .filter_form import builder_model, catalogue, operator_labels
from .reports import page_data, with_chart_policy

bp = Blueprint("report_designer", __name__)


@bp.errorhandler(PageError)
def _page_error(exc: PageError):
    return error_page(exc.message, exc.status)


def op_labels() -> dict[str, str]:
    return {"count": _("Count"), "count_distinct": _("Count distinct"), "sum": _("Sum"), "avg": _("Average"),
            "min": _("Minimum"), "max": _("Maximum")}


def chart_labels() -> dict[str, str]:
    return {"bar": _("Bar"), "stacked_bar": _("Stacked bar"), "line": _("Line"), "area": _("Area"), "pie": _("Pie"),
            "donut": _("Donut"), "funnel": _("Funnel"), "kpi": _("KPI number"), "table": _("Table")}


def bucket_labels() -> dict[str, str]:
    return {"day": _("Day"), "week": _("Week"), "month": _("Month"), "quarter": _("Quarter"), "year": _("Year")}


def palette(s: Session, object_name: str) -> list[dict[str, Any]]:
    """The fields the user may group by or measure: the object's readable fields and one
    hop through its links (organisation.industry)."""
    obj = s.object(object_name)
    language = current_language()
    caps = s.capabilities(obj)
    out = []
    for f in sorted(obj.fields, key=lambda f: (f.position, f.api_name)):
        if f.api_name not in caps.readable or f.ftype.stored_apart:  # several records: no group, no figure
            continue
        kind = f.ftype.value_type
        out.append({"path": f.api_name, "label": f.label_in(language), "type": f.type, "date": kind in ("date", "datetime"),
                    "number": kind == "number"})
        if f.type == "link":
            target = s.schema.link_target(f)
            if not s.can(target, "read"):
                continue
            tcaps = s.capabilities(target)
            for t in sorted(target.user_fields, key=lambda t: t.position):
                if t.api_name in tcaps.readable and t.type != "link" and not t.ftype.stored_apart:
                    out.append({"path": f"{f.api_name}.{t.api_name}", "label": f"{f.label_in(language)} › "
                                f"{t.label_in(language)}", "type": t.type,
                                "date": t.ftype.value_type in ("date", "datetime"),
                                "number": t.ftype.value_type == "number"})
    return out


def filter_builder(s: Session, object_name: str) -> dict[str, Any]:
    """What the lists' filter builder needs: every path the user may filter on the object."""
    entries = catalogue(s.schema, s.object(object_name), readable(s), can_read(s), current_language(),
                        current_app.view_functions.__contains__)
    labels = operator_labels()
    return {"entries": [e.to_json(labels) for e in entries]}


def _groups(s: Session) -> list[str]:
    table = Group.__table__
    rows = s.conn.execute(table.select().order_by(table.c.name))
    return [r.name for r in rows if s.actor.is_admin or r.id in s.actor.group_ids]


def _page(s: Session, report: dict[str, Any] | None, object_name: str | None):
    objects = s.objects_with("report")
    if not objects:
        raise PageError(_("You may not report on any object."), 403)
    names = [o.api_name for o in objects]
    if report is not None:
        object_name = report["definition"]["object"]
    if object_name not in names:
        object_name = names[0]
    definition = report["definition"] if report else {"object": object_name, "rows": [], "columns": [],
                                                      "measures": [{"op": "count"}], "chart": {"type": "bar"}}
    language = current_language()
    return with_chart_policy(render_template(
        "web/reports/designer.html", report=report, definition=definition,
        objects=[(o.api_name, o.label_plural_in(language)) for o in objects], object_name=object_name,
        fields=palette(s, object_name), ops=[(op, op_labels()[op]) for op in MEASURE_OPS],
        charts=[(c, chart_labels()[c]) for c in CHART_TYPES], buckets=[(b, bucket_labels()[b]) for b in BUCKETS],
        groups=_groups(s), builder=filter_builder(s, object_name),
        filter_model=builder_model(definition.get("filter"))))


@bp.route("/reports/new")
@login_required
def new():
    return _page(engine_session(), None, request.args.get("object"))


@bp.route("/reports/<int:report_id>/edit")
@login_required
def edit(report_id: int):
    s = engine_session()
    try:
        report = library.get_report(s, report_id)
    except NotFound:
        raise PageError(_("There is no report with this number you may run."), 404) from None
    if not report["editable"]:
        raise PageError(_("Only the owner of a report or an admin may change it."), 403)
    return _page(s, report, None)


def _error(exc: CardbaseError):
    errors = getattr(exc, "errors", None) or {}
    return jsonify({"error": exc.message, "fields": errors}), exc.status if exc.status in (403, 404, 409) else 400


@bp.route("/reports/preview", methods=["POST"])
@login_required
def preview():
    s = engine_session()
    body = request.get_json(silent=True)
    try:
        result = run_report(s, parse_definition(body))
    except CardbaseError as exc:
        return _error(exc)
    return jsonify({"data": page_data(s, {}, result)})


@bp.route("/reports/save", methods=["POST"])
@login_required
def save():
    s = engine_session(write=True)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": _("The report could not be read.")}), 400
    doc = {k: body[k] for k in ("name", "definition", "shared_with", "description") if k in body}
    try:
        report = library.save_report(s, doc, body.get("id"))
    except CardbaseError as exc:
        return _error(exc)
    return jsonify({"id": report["id"], "url": url_for("reports.show", report_id=report["id"])})
