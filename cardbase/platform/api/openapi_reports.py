"""The OpenAPI paths of reports and dashboards (api/reports.py). Filtered by rights: the
report paths appear for callers who may report on at least one object (their object names
are the only ones offered), the allow list's PUT for administrators."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardbase.report_builder.definition import CHART_TYPES, MAX_GROUPS, MAX_MEASURES, MEASURE_OPS
from cardbase.report_builder.dashboards import WIDGET_KINDS
from cardbase.schema_engine.query.buckets import BUCKETS

from .openapi import NO_CONTENT, READ, SMALL_ID, WRITE, body, ok_json, path_param, responses

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder

_PATH = {"type": "string", "maxLength": 300, "description": "a field path, e.g. organisation.industry"}
_GROUP = {"type": "object", "required": ["field"], "properties": {
    "field": _PATH, "bucket": {"type": ["string", "null"], "enum": [*BUCKETS, None]},
    "label": {"type": ["string", "null"], "maxLength": 200}}}
_MEASURE = {"type": "object", "required": ["op"], "properties": {
    "op": {"type": "string", "enum": list(MEASURE_OPS)}, "field": {"type": ["string", "null"], "maxLength": 300},
    "percent": {"type": "boolean", "description": "as a percentage of the grand total (count and sum)"},
    "label": {"type": ["string", "null"], "maxLength": 200}}}


def _definition(objects: list[str]) -> dict[str, Any]:
    return {"type": "object", "required": ["object"], "description": "docs: report_builder/definition.py",
            "properties": {
                "object": {"type": "string", "enum": objects} if objects else {"type": "string"},
                "filter": {"type": ["object", "null"], "description": "the filter language"},
                "rows": {"type": "array", "items": _GROUP, "maxItems": MAX_GROUPS},
                "columns": {"type": "array", "items": _GROUP, "maxItems": MAX_GROUPS},
                "measures": {"type": "array", "items": _MEASURE, "minItems": 1, "maxItems": MAX_MEASURES},
                "totals": {"type": "boolean"}, "subtotals": {"type": "boolean"},
                "sort": {"type": "object"}, "top": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000},
                "chart": {"type": "object", "properties": {"type": {"type": "string", "enum": list(CHART_TYPES)}}},
                "live_filters": {"type": "array", "items": _PATH}}}


def report_paths(b: "_Builder") -> None:
    session = b.session
    if session is None:
        return
    objects = [o.api_name for o in session.objects_with("report")]
    if not objects and not b.is_admin:
        return
    definition = _definition(objects)
    any_object = {"type": "object"}
    b.spec.components.schema("ReportInput", component={
        "type": "object", "required": ["name", "definition"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200}, "description": {"type": "string"},
            "definition": definition, "shared_with": {"type": "array", "items": {"type": "string"},
                                                      "description": "group names"},
            "version": {"type": "integer"}}})
    b.spec.components.schema("Report", component={"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "description": {"type": "string"},
        "object": {"type": "string"}, "owner": {"type": ["integer", "null"]}, "version": {"type": "integer"},
        "shared_with": {"type": "array", "items": {"type": "string"}}, "editable": {"type": "boolean"},
        "definition": any_object}})
    b.spec.components.schema("ReportList", component={"type": "object", "properties": {
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/Report"}}}})
    b.spec.components.schema("ReportResult", component={
        "type": "object", "description": "rows and columns (key, label, drill-down filter), cells[row][column] "
                                         "= one figure per measure (money: {currency: amount}), totals",
        "properties": {k: {"type": "array"} for k in ("rows", "columns", "cells", "row_totals", "column_totals",
                                                      "total", "measures", "problems")}})
    b.spec.components.schema("DashboardInput", component={
        "type": "object", "required": ["name"], "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "layout": {"type": "object", "properties": {
                "widgets": {"type": "array", "items": {"type": "object", "properties": {
                    "kind": {"type": "string", "enum": list(WIDGET_KINDS)}, "report": {"type": "integer"},
                    "url": {"type": "string"}, "object": {"type": "string"}, "title": {"type": "string"},
                    "width": {"type": "integer", "minimum": 1, "maximum": 12},
                    "height": {"type": "integer", "minimum": 1, "maximum": 4}}}},
                "filters": {"type": "array", "items": {"type": "object"}}}},
            "shared_with": {"type": "array", "items": {"type": "object", "properties": {
                "group": {"type": "string"}, "default": {"type": "boolean"}}}}}})
    b.spec.components.schema("Dashboard", component={"type": "object", "properties": {
        "id": {"type": "integer"}, "name": {"type": "string"}, "layout": any_object,
        "shared_with": {"type": "array"}, "editable": {"type": "boolean"}, "version": {"type": "integer"}}})
    b.spec.components.schema("DashboardList", component={"type": "object", "properties": {
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/Dashboard"}}}})
    b.spec.components.schema("EmbedHosts", component={"type": "object", "properties": {
        "data": {"type": "array", "items": {"type": "string"}}}})
    b.spec.components.schema("EmbedHostsInput", component={"type": "object", "required": ["prefixes"],
                                                            "properties": {"prefixes": {"type": "array", "items": {
                                                                "type": "string", "format": "uri"}}}})

    tag = b.tag("reports", "Reports (pivot tables and charts) and dashboards: personal or shared with groups; "
                           "results under the caller's rights")
    report = path_param("report_ref", "the report's id", SMALL_ID, example=1)
    b.path("/api/v1/reports", tag,
           get={"summary": "Reports you may run", "operationId": "listReports",
                "parameters": [{"name": "object", "in": "query", "schema": {"type": "string", "maxLength": 63}}],
                "responses": responses({200: ok_json("ReportList")}, *READ)},
           post={"summary": "Save a report (personal unless shared_with names groups)", "operationId": "createReport",
                 "requestBody": body("ReportInput"), "responses": responses({201: ok_json("Report", "created")},
                                                                            *WRITE)})
    b.path("/api/v1/reports/preview", tag, post={
        "summary": "Run a definition without saving it", "operationId": "previewReport",
        "requestBody": {"required": True, "content": {"application/json": {"schema": definition}}},
        "responses": responses({200: ok_json("ReportResult")}, *WRITE)})
    b.path("/api/v1/reports/{report_ref}", tag,
           get={"summary": "Get a report", "operationId": "getReport", "parameters": [report],
                "responses": responses({200: ok_json("Report")}, *READ)},
           put={"summary": "Replace a report (owner or admin)", "operationId": "replaceReport", "parameters": [report],
                "requestBody": body("ReportInput"), "responses": responses({200: ok_json("Report")}, *WRITE)},
           delete={"summary": "Delete a report (owner or admin)", "operationId": "deleteReport",
                   "parameters": [report], "responses": responses({204: NO_CONTENT}, *READ)})
    b.path("/api/v1/reports/{report_ref}/result", tag, get={
        "summary": "Run a report", "operationId": "reportResult", "parameters": [
            report, {"name": "filter", "in": "query", "description": "JSON filter, and-ed with the report's",
                     "schema": {"type": "string"}}],
        "responses": responses({200: ok_json("ReportResult")}, *READ)})
    board = path_param("dashboard_ref", "the dashboard's id", SMALL_ID, example=1)
    b.path("/api/v1/dashboards", tag,
           get={"summary": "Dashboards you may see", "operationId": "listDashboards",
                "responses": responses({200: ok_json("DashboardList")}, 401)},
           post={"summary": "Save a dashboard", "operationId": "createDashboard", "requestBody": body("DashboardInput"),
                 "responses": responses({201: ok_json("Dashboard", "created")}, *WRITE)})
    b.path("/api/v1/dashboards/{dashboard_ref}", tag,
           get={"summary": "Get a dashboard", "operationId": "getDashboard", "parameters": [board],
                "responses": responses({200: ok_json("Dashboard")}, *READ)},
           put={"summary": "Replace a dashboard (owner or admin)", "operationId": "replaceDashboard",
                "parameters": [board], "requestBody": body("DashboardInput"),
                "responses": responses({200: ok_json("Dashboard")}, *WRITE)},
           delete={"summary": "Delete a dashboard (owner or admin)", "operationId": "deleteDashboard",
                   "parameters": [board], "responses": responses({204: NO_CONTENT}, *READ)})
    operations: dict[str, Any] = {"get": {"summary": "The allow list of web pages dashboards may embed",
                                          "operationId": "listEmbedHosts",
                                          "responses": responses({200: ok_json("EmbedHosts")}, 401)}}
    if b.is_admin:
        operations["put"] = {"summary": "Replace the allow list (admins)", "operationId": "replaceEmbedHosts",
                             "requestBody": body("EmbedHostsInput"),
                             "responses": responses({200: ok_json("EmbedHosts")}, *WRITE)}
    b.path("/api/v1/embed-hosts", tag, **operations)
