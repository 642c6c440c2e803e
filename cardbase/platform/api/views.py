"""Saved views of an object's list: ``/api/v1/records/{object}/views``.

Everything goes through ``layouts.tables`` (list_views, get_view, save_view, delete_view),
as the browser's list page does, so the rules are the same: anyone who may read the object
keeps personal views (only their owner sees, changes or deletes one); shared views --
making one, changing one, sharing or unsharing -- need the configure right; another
user's personal view answers 404, so its existence does not leak. A view is read with
what the caller may not read left out (``filter_incomplete`` says a condition was); a
save may not use such fields (422, like an unknown field) and keeps what the stored view
has of them. A PATCH without ``definition`` keeps the stored definition exactly.

Reads answer with an ``ETag`` (``tables.view_etag``: the fingerprint of the view as the
caller sees it); a PUT or PATCH with ``If-Match`` is refused with 409 (``current``: the
view as it is now) when someone changed it since. Without ``If-Match`` the last write
wins, as for records.
"""
from __future__ import annotations

from typing import Any

from flask import url_for

from cardbase.schema_engine.layouts import tables

from ..context import get_db
from ..jsonio import usable_filter
from .auth import api_actor
from .blueprint import bp
from .http import if_match_tags, json_object, json_response, no_content, reject_unknown, require_keys, small_id
from .records import reading

VIEW_KEYS = {"name", "definition", "shared"}


def _save(object_name: str, body: dict[str, Any], view_id: int | None, defaults: dict[str, Any]) -> dict[str, Any]:
    """Save a view from a request body, taking what the body leaves out from ``defaults``
    (the engine compares the If-Match tags with the view as stored, in its transaction)."""
    reject_unknown(body, VIEW_KEYS, "a view")
    merged = {**defaults, **body}
    return tables.save_view(get_db(), api_actor(), object_name, merged.get("name"), merged.get("definition"),
                            shared=merged.get("shared", False), view_id=view_id,
                            expected=if_match_tags() if view_id is not None else None)


def _current(object_name: str, view_id: int) -> dict[str, Any]:
    s = reading()  # read in the request's session: its transaction, snapshot and rights
    return tables.get_view(s, s.actor, object_name, view_id)


def _response(view: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None):
    """The view; a stored filter holding text no database can store is left out of it, with
    ``definition.filter_problem`` saying why (the ETag stays the stored view's)."""
    definition, problem = usable_filter(view["definition"])
    shown = view if problem is None else {**view, "definition": {**definition, "filter_problem": problem}}
    return json_response(shown, status, {**(headers or {}), "ETag": f'"{tables.view_etag(view)}"'})


@bp.get("/v1/records/<object_name>/views")
def list_views(object_name: str):
    """The shared views and the caller's own, by name."""
    s = reading()
    return json_response({"data": tables.list_views(s, s.actor, object_name)})


@bp.post("/v1/records/<object_name>/views")
def create_view(object_name: str):
    body = json_object()
    require_keys(body, "name", "definition")
    view = _save(object_name, body, None, {})
    location = url_for("api.get_view", object_name=object_name, view_ref=view["id"])
    return _response(view, 201, {"Location": location})


@bp.get("/v1/records/<object_name>/views/<view_ref>")
def get_view(object_name: str, view_ref: str):
    return _response(_current(object_name, small_id(view_ref, "view_id")))


@bp.put("/v1/records/<object_name>/views/<view_ref>")
def replace_view(object_name: str, view_ref: str):
    """Replace name and definition; ``shared`` left out keeps the view as it is."""
    view_id = small_id(view_ref, "view_id")
    body = json_object()
    require_keys(body, "name", "definition")
    current = _current(object_name, view_id)
    return _response(_save(object_name, body, view_id, {"shared": current["shared"]}))


@bp.patch("/v1/records/<object_name>/views/<view_ref>")
def update_view(object_name: str, view_ref: str):
    """Change what the body names; the rest -- the definition too, with any conditions the
    caller may not read -- stays as stored."""
    view_id = small_id(view_ref, "view_id")
    body = json_object()
    current = _current(object_name, view_id)
    defaults = {"name": current["name"], "shared": current["shared"], "definition": tables.KEEP}
    return _response(_save(object_name, body, view_id, defaults))


@bp.delete("/v1/records/<object_name>/views/<view_ref>")
def delete_view(object_name: str, view_ref: str):
    view_id = small_id(view_ref, "view_id")
    tables.delete_view(get_db(), api_actor(), object_name, view_id)
    return no_content()
