"""The caller's actions and undo: ``GET /api/v1/actions``, ``POST /api/v1/actions/{id}/undo``.

Every change of records -- create, update, bulk, delete, restore, owner, share, undo -- is
recorded once as an action (who, what, when; its before and after are the records' history
rows). Each write answers with its action's id in ``X-Cardbase-Action``; the list gives the
caller's recent ones, newest first. Undo reverts one of the caller's own actions as a new
action (so undoing an undo is redo), through the request's one write session and the
ordinary operations with their rights. It is refused with nothing changed: 409 when a
record changed since or the action was undone already (or was a purge), 403 for someone
else's action or a record the caller may no longer see or change, 404 for an unknown id.
"""
from __future__ import annotations

from .blueprint import bp
from .errors import bad_request
from .http import arg_int, json_body, json_response, record_id
from .records import ACTION_HEADER, reading, writing

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


@bp.get("/v1/actions")
def list_actions():
    limit = arg_int("limit", 10_000)
    limit = DEFAULT_LIMIT if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"must be a whole number from 1 to {MAX_LIMIT}", "limit", code="invalid_query")
    return json_response({"data": reading().actions(limit)})


@bp.post("/v1/actions/<action_id>/undo")
def undo_action(action_id: str):
    ident = record_id(action_id, "action id")
    json_body(required=False)  # no body needed; one that is sent must be JSON
    s = writing()
    done = s.undo(ident)
    headers = {ACTION_HEADER: str(done["action"])} if done.get("action") is not None else None
    return json_response(done, 200, headers)
