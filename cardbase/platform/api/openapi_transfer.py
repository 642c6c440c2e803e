"""The OpenAPI paths of imports and their jobs (api/imports.py)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardbase.transfer.cells import LOCALES
from cardbase.transfer.importer import DUPLICATE_ACTIONS, MODES

from .openapi import SMALL_ID, ok_json, path_param, responses

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder

_SETTINGS = {
    "type": "object", "description": "what to import and how (a JSON text in the multipart form)", "properties": {
        "mapping": {"type": "object", "additionalProperties": {"type": "string"},
                    "description": "column name -> field API name (code and id too); empty: the proposal"},
        "mode": {"type": "string", "enum": list(MODES)},
        "key": {"type": "array", "items": {"type": "string"}, "description": "update/upsert: code, id or fields"},
        "atomic": {"type": "boolean", "description": "true: all or nothing; false: the good rows, bad ones as XLSX"},
        "locale": {"type": "string", "enum": list(LOCALES), "description": "how the file writes numbers and dates"},
        "region": {"type": "string", "description": "country of phone numbers written without +, e.g. DE"},
        "header_row": {"type": "integer", "minimum": 1},
        "duplicate_rules": {"type": "array", "items": {"type": "array", "items": {"type": "string"}},
                            "description": 'normalised keys, e.g. [["email"], ["phone"], ["name", "city"]]'},
        "duplicate_actions": {"type": "object", "additionalProperties": {"type": "string",
                                                                           "enum": list(DUPLICATE_ACTIONS)}},
        "duplicate_default": {"type": "string", "enum": list(DUPLICATE_ACTIONS)},
        "save_as": {"type": "string", "description": "keep the mapping under this name for the next file"}}}

_JOB = {"type": "object", "properties": {
    "id": {"type": "integer"}, "state": {"type": "string", "enum": [
        "queued", "running", "done", "failed", "cancelled", "interrupted"]},
    "progress": {"type": "object", "properties": {
        "rows_done": {"type": "integer"}, "rows_total": {"type": ["integer", "null"]},
        "rate": {"type": ["number", "null"], "description": "rows per second"},
        "seconds_left": {"type": ["number", "null"]}, "percent": {"type": ["integer", "null"]}}},
    "created": {"type": "integer"}, "updated": {"type": "integer"}, "skipped": {"type": "integer"},
    "failed": {"type": "integer"}, "errors": {"type": "array", "items": {"type": "object"}},
    "message": {"type": "string"}, "bad_rows": {"type": "boolean"},
    "resumable": {"type": "boolean", "description": "interrupted (its process died): POST .../resume"},
    "resumed": {"type": ["object", "null"], "description": "after_line and what was written before the resume "
                                                           "(created, updated, skipped, failed, rows_done)"}}}


def transfer_paths(b: "_Builder") -> None:
    tag = b.tag("imports", "Spreadsheet imports (CSV, XLSX) into any object, run as jobs")
    b.spec.components.schema("ImportJob", component=_JOB)
    b.spec.components.schema("ImportPreview", component={"type": "object", "properties": {
        "columns": {"type": "array", "items": {"type": "string"}}, "proposal": {"type": "object"},
        "preview": {"type": "array", "items": {"type": "object"}, "description": "the first rows, each cell's value "
                                                                                   "and error"},
        "duplicate_groups": {"type": "array", "items": {"type": "object"}},
        "created": {"type": "integer"}, "updated": {"type": "integer"}, "failed": {"type": "integer"},
        "errors": {"type": "array", "items": {"type": "object"}}, "job": {"$ref": "#/components/schemas/ImportJob"}}})
    form: dict[str, Any] = {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary"}, "settings": {"type": "string", "description": str(
            _SETTINGS["description"]), "example": '{"mode": "create", "locale": "de"}'},
        "sheet": {"type": "string"}, "encoding": {"type": "string"}, "delimiter": {"type": "string"}}}
    importable = [o.api_name for o in b.objects if b.can(o, "create") or b.can(o, "edit")]
    for name in importable:  # like every record path: one per object the caller may write
        _import_path(b, tag, name, form)
    job = path_param("job_id", "the job's id", SMALL_ID, example=1)
    b.path("/api/v1/jobs/{job_id}", tag, get={
        "summary": "A job's state, progress and outcome", "operationId": "getJob", "parameters": [job],
        "responses": responses({200: ok_json("ImportJob")}, 400, 401, 403, 404, 422)})
    b.path("/api/v1/jobs/{job_id}/cancel", tag, post={
        "summary": "Cancel a job after its current chunk", "operationId": "cancelJob", "parameters": [job],
        "responses": responses({202: ok_json("ImportJob", "cancel requested")}, 400, 401, 403, 404, 422)})
    b.path("/api/v1/jobs/{job_id}/resume", tag, post={
        "summary": "Resume an interrupted job", "operationId": "resumeJob", "parameters": [job],
        "description": "A job whose process died is 'interrupted'; its message says exactly what it had written. "
                       "An import keeping its good rows goes on after its last committed line (no row twice); "
                       "an all-or-nothing import, which wrote nothing, runs again. 422 unless interrupted.",
        "responses": responses({202: ok_json("ImportJob", "resumed")}, 400, 401, 403, 404, 422)})
    b.path("/api/v1/jobs/{job_id}/bad-rows", tag, get={
        "summary": "The rows not imported, as XLSX with an error column", "operationId": "getJobBadRows",
        "parameters": [job], "responses": {
            "200": {"description": "the XLSX file", "content": {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}}}},
            **responses({}, 400, 401, 403, 404, 422)}})


def _import_path(b: "_Builder", tag: str, name: str, form: dict[str, Any]) -> None:
    b.path(f"/api/v1/records/{name}/imports", tag, post={
        "summary": f"Import a CSV or XLSX file into {name}", "operationId": f"import_{name}",
        "description": "With ?dry_run=true: the columns, the proposed mapping, a preview with every cell's error "
                       "and the duplicate groups, nothing written (200). Otherwise a job is started (202, "
                       "Location: its URL). Settings: " + ", ".join(sorted(_SETTINGS["properties"])),
        "parameters": [{"name": "dry_run", "in": "query", "schema": {"type": "boolean"}}],
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": form}}},
        "responses": responses({200: ok_json("ImportPreview", "the dry run"),
                                202: ok_json("ImportPreview", "the job started")}, 400, 401, 403, 404, 413, 422)})
