"""Reports and dashboards: ``/api/v1/reports``, ``/api/v1/reports/{id}``,
``/api/v1/reports/{id}/result``, ``/api/v1/reports/preview``, ``/api/v1/dashboards``,
``/api/v1/dashboards/{id}`` and the embeddable-page allow list ``/api/v1/embed-hosts``.

Everything goes through ``cardbase.report_builder`` in the request's engine session, so
who sees, changes and runs a report is decided there (owner, groups, admins; the report
right on the object; scopes, rule views and field masks when it runs). A result may be
narrowed with ``?filter=`` (the filter language) on top of the report's own filter.
"""
from __future__ import annotations

from flask import url_for

from cardbase.report_builder import dashboards, library
from cardbase.report_builder.definition import parse_definition
from cardbase.report_builder.runner import run_report
from cardbase.report_builder.serialize import result_to_json
from cardbase.schema_engine.errors import ValidationError

from .blueprint import bp
from .errors import from_engine_error
from .http import arg_json, json_body, json_object, json_response, no_content, small_id
from .records import reading, writing


@bp.get("/v1/reports")
def list_reports():
    from .http import arg_text
    return json_response({"data": library.list_reports(reading(), arg_text("object", 63))})


@bp.post("/v1/reports")
def create_report():
    report = library.save_report(writing(), json_object())
    return json_response(report, 201, {"Location": url_for("api.get_report", report_ref=report["id"])})


@bp.get("/v1/reports/<report_ref>")
def get_report(report_ref: str):
    return json_response(library.get_report(reading(), small_id(report_ref, "report_id")))


@bp.put("/v1/reports/<report_ref>")
def replace_report(report_ref: str):
    return json_response(library.save_report(writing(), json_object(), small_id(report_ref, "report_id")))


@bp.delete("/v1/reports/<report_ref>")
def delete_report(report_ref: str):
    library.delete_report(writing(), small_id(report_ref, "report_id"))
    return no_content()


@bp.get("/v1/reports/<report_ref>/result")
def report_result(report_ref: str):
    """The pivot: rows, columns, cells, totals; each row and column with the drill-down
    filter of its records. ``filter`` narrows the report for this call."""
    s = reading()
    report = library.get_report(s, small_id(report_ref, "report_id"))
    try:
        extra = arg_json("filter")
        if extra is not None and not isinstance(extra, dict):
            raise ValidationError({"filter": "must be a condition object"})
        result = run_report(s, library.load_definition(s, report), filter=extra)
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    return json_response({"report": {"id": report["id"], "name": report["name"]}, **result_to_json(result)})


@bp.post("/v1/reports/preview")
def preview_report():
    """Run a definition without saving it (the designer's live pivot)."""
    s = reading()
    body = json_body()
    definition = parse_definition(body.get("definition") if isinstance(body, dict) and "definition" in body else body)
    return json_response(result_to_json(run_report(s, definition)))


@bp.get("/v1/dashboards")
def list_dashboards():
    return json_response({"data": dashboards.list_dashboards(reading())})


@bp.post("/v1/dashboards")
def create_dashboard():
    board = dashboards.save_dashboard(writing(), json_object())
    return json_response(board, 201, {"Location": url_for("api.get_dashboard", dashboard_ref=board["id"])})


@bp.get("/v1/dashboards/<dashboard_ref>")
def get_dashboard(dashboard_ref: str):
    return json_response(dashboards.get_dashboard(reading(), small_id(dashboard_ref, "dashboard_id")))


@bp.put("/v1/dashboards/<dashboard_ref>")
def replace_dashboard(dashboard_ref: str):
    return json_response(dashboards.save_dashboard(writing(), json_object(), small_id(dashboard_ref, "dashboard_id")))


@bp.delete("/v1/dashboards/<dashboard_ref>")
def delete_dashboard(dashboard_ref: str):
    dashboards.delete_dashboard(writing(), small_id(dashboard_ref, "dashboard_id"))
    return no_content()


@bp.get("/v1/embed-hosts")
def list_embed_hosts():
    return json_response({"data": dashboards.embed_hosts(reading())})


@bp.put("/v1/embed-hosts")
def replace_embed_hosts():
    body = json_object()
    return json_response({"data": dashboards.set_embed_hosts(writing(), body.get("prefixes"))})
