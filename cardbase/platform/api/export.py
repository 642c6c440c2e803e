"""Exports of a list to CSV or XLSX: ``GET /api/v1/records/{object}/export``.

The rows come from the request's engine session, purpose "export" (the export and read
rights; the row filter and field mask as in the list): the count and the first batch in
the request's one transaction, further batches each in a read transaction of their own
(a long download holds no snapshot open) and are written by the browser's own writers
(``platform.web.export``: formula injection neutralised, values formatted in the caller's
language), so a file from the API is the file the browser gives. The columns are
``fields`` or, left out, the object's table (as the caller may read it); the sort is
``sort`` or the table's; ``filter`` and ``q`` narrow it like the list. Rights and the query
are checked before the first byte is sent, so every refusal is a JSON error.
"""
from __future__ import annotations

import dataclasses
import os
from datetime import date
from typing import Any, Iterator

from flask import Response, send_file, stream_with_context

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.layouts import tables
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import ObjectInfo
from cardbase.schema_engine.store.serialize import resolve_path_field

from cardbase.schema_engine.store.session import Session

from ..context import get_store
from ..web import export as writers
from ..web.filter_form import path_label
from .blueprint import bp
from .errors import bad_request, from_engine_error
from .http import arg_json, arg_text
from .records import reading

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
BATCH = 500


def _format() -> str:
    fmt = arg_text("format", 20) or "csv"
    if fmt not in FORMATS:
        raise bad_request(f"'{fmt}' is not an export format: use csv or xlsx", "format")
    return fmt


def _columns(s: Session, obj: ObjectInfo) -> tuple[list[str], str | None]:
    """(column paths, sort): the parameters, else the object's table as the caller may read it."""
    text = arg_text("fields", 5000)
    paths = list(dict.fromkeys(p.strip() for p in (text or "").split(",") if p.strip()))
    sort = arg_text("sort", 1000)
    if paths and sort:
        return paths, sort  # both given: the table design is not needed
    table = tables.default_table(s, obj.api_name, actor=s.actor)
    return paths or [c["field"] for c in table["columns"]] or ["code"], sort or table["sort"] or None


def _later_batches(s: Session, obj: ObjectInfo, query: ListQuery, cursor: str | None) -> Iterator[list[dict[str, Any]]]:
    """The batches after the first, each in a read transaction of its own (purpose export,
    checked again in each)."""
    store, actor = get_store(), s.actor
    while cursor:
        with store.session(actor) as batch:
            page = batch.list(obj.id, dataclasses.replace(query, cursor=cursor), purpose="export", with_count=False)
        if page.data:
            yield page.data
        cursor = page.next_cursor


@bp.get("/v1/records/<object_name>/export")
def export_records(object_name: str):
    fmt = _format()
    s = reading()
    actor = s.actor
    schema = s.schema
    obj = s.require_purpose(object_name, "export")  # before anything of the object is read
    try:
        paths, sort = _columns(s, obj)
        query = ListQuery(filter=arg_json("filter"), sort=sort, limit=BATCH, search=arg_text("q", 1000), fields=paths)
        first = s.list(obj, query, purpose="export", with_count=False)  # the query is checked before any byte
        total, estimated = s.count(obj, filter=query.filter, search=query.search, purpose="export")
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    columns = [writers.Column(p, path_label(schema, obj, p, actor.language), resolve_path_field(schema, obj, p))
               for p in paths]

    def all_batches():
        if first.data:
            yield first.data
        yield from _later_batches(s, obj, query, first.next_cursor)

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
