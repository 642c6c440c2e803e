"""Imports over the API (``cardbase.transfer`` does the work):

* ``POST /api/v1/records/{object}/imports`` -- multipart: ``file`` (CSV or XLSX) and
  ``settings`` (JSON: mapping, mode, key, atomic, locale, region, header_row,
  duplicate_rules, duplicate_actions, duplicate_default, save_as), optionally ``sheet``,
  ``encoding``, ``delimiter``. Without a mapping the proposal is used. ``?dry_run=true``
  answers at once with the columns, the proposal, the preview with every cell's error and
  the duplicate groups, having written nothing; otherwise the import runs as a job (202
  with its id and Location).
* ``GET /api/v1/jobs/{id}`` -- state, progress (rows done, rate, seconds left), outcome.
* ``POST /api/v1/jobs/{id}/cancel`` -- stop after the current chunk.
* ``POST /api/v1/jobs/{id}/resume`` -- run an interrupted job again (after its last committed line).
* ``GET /api/v1/jobs/{id}/bad-rows`` -- the rows not imported, as XLSX with an error column.

A file over the import limit is refused from its Content-Length before it is read (413
naming the limit), and while it streams in when it has none."""
from __future__ import annotations

import json
import os
from typing import Any

from flask import current_app, request, send_file

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.i18n import _
from cardbase.transfer import jobs
from cardbase.transfer.importer import Importer, ImportSettings
from cardbase.transfer.mapping import best_saved, propose, save_mapping, saved_mappings
from cardbase.transfer.readers import copy_stream, max_file_bytes, open_sheet

from ..context import engine_session, get_store
from .auth import api_actor
from .blueprint import bp
from .errors import ApiError
from .http import arg_bool, json_response

FILE_OPTIONS = ("sheet", "encoding", "delimiter")
RUNNERS: dict[str, jobs.JobRunner] = {"thread": jobs.ThreadRunner(), "inline": jobs.InlineRunner()}


def runner() -> jobs.JobRunner:
    """``CARDBASE_IMPORT_RUNNER``: "thread" (default) or "inline" (tests)."""
    return RUNNERS[current_app.config.get("CARDBASE_IMPORT_RUNNER", "thread")]


def _limit() -> int:
    return int(current_app.config.get("CARDBASE_IMPORT_MAX_BYTES") or max_file_bytes())


def _upload() -> tuple[str, str, dict[str, Any]]:
    """(saved path, file name, file options) of the request's upload, size checked first."""
    limit = _limit()
    if request.content_length is not None and request.content_length > limit:
        raise ApiError(413, f"the file is {request.content_length / 1048576:.1f} MB; the limit is "
                            f"{limit / 1048576:.0f} MB", code="too_large")
    request.max_content_length = limit + 1024 * 1024  # room for the form around the file
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ValidationError({"file": "is required: send the CSV or XLSX file as multipart field 'file'"})
    path = copy_stream(upload.stream, jobs.job_dir(), upload.filename, limit)
    options = {k: request.form[k] for k in FILE_OPTIONS if request.form.get(k)}
    return path, upload.filename, options


def _settings_document() -> dict[str, Any]:
    text = request.form.get("settings") or "{}"
    try:
        document = json.loads(text)
    except ValueError:
        raise ValidationError({"settings": _("is not valid JSON")}) from None
    if not isinstance(document, dict):
        raise ValidationError({"settings": _("must be a JSON object")})
    return document


@bp.post("/v1/records/<object_name>/imports")
def create_import(object_name: str):
    actor = api_actor()
    document = _settings_document()
    save_as = document.pop("save_as", None)
    session = engine_session()
    obj = session.object(object_name)
    mode = document.get("mode", "create")
    session.require(obj, "create" if mode == "create" else "edit")
    path, name, options = _upload()
    keep = False
    try:
        sheet = open_sheet(path, name=name, limit=_limit(), **options)
        probe = Importer(get_store(), actor, obj.api_name, sheet, ImportSettings.from_json({**document, "mapping": {}}))
        header_line, columns, warnings = probe.layout()
        writable = lambda f: session.access.field_writable(obj, f)  # noqa: E731
        proposal = propose(obj, columns, writable, best_saved(saved_mappings(session.conn, obj), columns))
        if not document.get("mapping"):
            document["mapping"] = {c: f for c, f in proposal.items() if f}
        settings = ImportSettings.from_json(document)
        answer: dict[str, Any] = {"columns": columns, "header_line": header_line, "proposal": proposal,
                                  "warnings": warnings, "sheets": sheet.sheets, "mapping": settings.mapping}
        if arg_bool("dry_run"):
            result = Importer(get_store(), actor, obj.api_name, sheet, settings).run(dry_run=True)
            return json_response({**answer, **result.to_json()})
        if save_as:
            with get_store().session(actor, write=True) as tx:
                save_mapping(tx.conn, obj, str(save_as), settings.mapping, {
                    k: v for k, v in settings.to_json().items() if k != "mapping"}, actor.user_id)
        with get_store().session(actor, write=True) as tx:
            job_id = jobs.create_job(tx.conn, actor, obj.id, path, name, settings, options)
        keep = True
    finally:
        if not keep and os.path.exists(path):
            os.unlink(path)
    jobs.start_job(get_store(), runner(), job_id, actor)
    return json_response({**answer, "job": jobs.job_status(get_store().db, actor, job_id)}, 202,
                         {"Location": f"/api/v1/jobs/{job_id}"})


@bp.get("/v1/jobs/<job_id>")
def get_job(job_id: str):
    return json_response(jobs.job_status(get_store().db, api_actor(), job_id))


@bp.post("/v1/jobs/<job_id>/cancel")
def cancel_job(job_id: str):
    jobs.cancel_job(get_store().db, api_actor(), job_id)
    return json_response(jobs.job_status(get_store().db, api_actor(), job_id), 202)


@bp.post("/v1/jobs/<job_id>/resume")
def resume_job(job_id: str):
    actor = api_actor()
    jobs.resume_job(get_store(), runner(), actor, job_id)
    return json_response(jobs.job_status(get_store().db, actor, job_id), 202, {"Location": f"/api/v1/jobs/{int(job_id)}"})


@bp.get("/v1/jobs/<job_id>/bad-rows")
def bad_rows(job_id: str):
    path = jobs.bad_rows_file(get_store().db, api_actor(), job_id)
    return send_file(path, as_attachment=True, download_name=f"import-{int(job_id)}-errors.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", max_age=0)
