"""Exports of a list to CSV or XLSX: ``GET /api/v1/records/{object}/export``.

The rows come from ``RecordStore.export`` (the export and read rights; the row filter and
field mask as in the list) and are written by the browser's own writers
(``platform.web.export``: formula injection neutralised, values formatted in the caller's
language), so a file from the API is the file the browser gives. The columns are
``fields`` or, left out, the object's table (as the caller may read it); the sort is
``sort`` or the table's; ``filter`` and ``q`` narrow it like the list. Rights and the query
are checked before the first byte is sent, so every refusal is a JSON error.
"""
from __future__ import annotations

import os
from datetime import date

from flask import Response, send_file, stream_with_context

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.layouts import tables
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import ObjectInfo, Schema
from cardbase.schema_engine.store.serialize import resolve_path_field

from ..context import get_db
from ..web import export as writers
from ..web.filter_form import path_label
from .auth import api_actor
from .blueprint import bp
from .errors import bad_request, from_engine_error
from .http import arg_json, arg_text
from .records import request_schema, store

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BATCH = 500


def _format() -> str:
    fmt = arg_text("format", 20) or "csv"
    if fmt not in FORMATS:
        raise bad_request(f"'{fmt}' is not an export format: use csv or xlsx", "format")
    return fmt


def _columns(schema: Schema, obj: ObjectInfo) -> tuple[list[str], str | None]:
    """(column paths, sort): the parameters, else the object's table as the caller may read it."""
    text = arg_text("fields", 5000)
    paths = list(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))
    sort = arg_text("sort", 1000)
    if paths and sort:
        return paths, sort  # both given: the table design is not needed
    table = tables.default_table(get_db(), obj.api_name, actor=api_actor())
    return paths or [c["field"] for c in table["columns"]] or ["code"], sort or table["sort"] or None


@bp.get("/v1/records/<object_name>/export")
def export_records(object_name: str):
    fmt = _format()
    actor = api_actor()
    schema = request_schema()
    obj = schema.object(object_name)
    try:
        paths, sort = _columns(schema, obj)
        query = ListQuery(filter=arg_json("filter"), sort=sort, limit=1, search=arg_text("q", 1000), fields=paths)
        batches = store().export(actor, obj.api_name, query, batch=BATCH)
        first = next(batches, None)  # rights and the query are checked here, before any byte is sent
        total, estimated = store().count(actor, obj.api_name, filter=query.filter, search=query.search)
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    columns = [writers.Column(p, path_label(schema, obj, p, actor.language), resolve_path_field(schema, obj, p))
               for p in paths]

    def all_batches():
        if first is not None:
            yield first
            yield from batches

    filename = f"{obj.api_name}-{date.today().isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if not estimated:
        headers["X-Total-Count"] = str(total)
    if fmt == "csv":
        body = stream_with_context(writers.csv_chunks(columns, all_batches(), actor.language))
        return Response(body, content_type=FORMATS["csv"], headers=headers)
    handle = writers.xlsx_file(columns, all_batches(), actor.language, obj.label_plural_in(actor.language))
    response = send_file(handle, mimetype=FORMATS["xlsx"], max_age=0)
    response.content_length = os.fstat(handle.fileno()).st_size
    response.headers.update(headers)
    return response
