"""The trash of an object: ``GET /api/v1/records/{object}/trash``.

The browser's trash view as JSON: the trashed records the caller may read, through the
record store's list (the same rights, filter, fields and paging as the list), the most
recently deleted first unless ``sort`` says otherwise. Restoring one is
``POST /api/v1/records/{object}/{id}/restore``.
"""
from __future__ import annotations

import dataclasses

from cardbase.schema_engine.errors import ValidationError

from .blueprint import bp
from .errors import from_engine_error
from .records import list_query, page_response

DEFAULT_SORT = "-modified_at"  # a delete stamps modified_at: newest deletions first, as the browser shows


@bp.get("/v1/records/<object_name>/trash")
def list_trash(object_name: str):
    try:
        query = list_query()
        query = dataclasses.replace(query, trash=True, sort=query.sort or DEFAULT_SORT)
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    return page_response(object_name, query)
