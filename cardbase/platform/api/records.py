"""Records: list, create, read, change, delete, bulk, history, restore, shares, owner.

Every call goes through the request's one engine session (``context.engine_session``: one
transaction, one schema snapshot, one rights object for the caller), so the rights --
object rights, row filters, field masks, shares, rule views -- hold exactly as in the
browser; reads name their purpose ("api"). Every write answers with the id of the action
it recorded in ``X-Cardbase-Action``, for ``POST /api/v1/actions/{id}/undo``. Records are
written in the store's JSON form: a link as the target's id and read as {"id", "display"};
decimals and money amounts as strings; money as {"amount", "currency"}; dates and times in
ISO 8601.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import Response, url_for

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.query.model import MAX_SEARCH, ListQuery
from cardbase.schema_engine.store.session import Session

from ..context import engine_session
from .blueprint import bp
from .errors import ApiError, from_engine_error
from .http import (MAX_SMALL_ID, arg_bool, arg_int, arg_json, arg_text, etag, id_or_name, if_match_version, json_body,
                   json_object, json_response, no_content, record_id)

DEFAULT_LIMIT = 50
ALWAYS = ("id", "code", "version")  # every record carries these, whatever ``fields`` asks for
ACTION_HEADER = "X-Cardbase-Action"  # the id of the action a write recorded (POST /api/v1/actions/{id}/undo)


def reading() -> Session:
    """The request's one engine session (reads)."""
    return engine_session()


def writing() -> Session:
    """The request's one engine session, writable."""
    return engine_session(write=True)


def action_header(s: Session, response: Response) -> Response:
    """Tell the client the action the write recorded, so it can offer to undo it (no
    header when nothing changed, e.g. a PATCH with the values already stored)."""
    action = s.last.action_id if s.last is not None else None
    if action is not None:
        response.headers[ACTION_HEADER] = str(action)
    return response


def to_json(s: Session, object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return s.to_json(object_name, record)


def many_to_json(s: Session, object_name: str, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    obj = s.object(object_name)
    return [s.to_json(obj, r) for r in records]


def _fields() -> list[str] | None:
    text = arg_text("fields", 5000)
    if text is None or not text.strip():
        return None
    wanted = [part.strip() for part in text.split(",") if part.strip()]
    return [*[f for f in ALWAYS if f not in wanted], *wanted]


def list_query() -> ListQuery:
    limit = arg_int("limit")
    return ListQuery(filter=arg_json("filter"), sort=arg_text("sort", 1000),
                     limit=DEFAULT_LIMIT if limit is None else limit, offset=arg_int("offset"),
                     cursor=arg_text("cursor", 4000), search=arg_text("q", 1000), fields=_fields(),
                     trash=arg_bool("trash"))


# The body of POST /v1/records/{object}/query: the list's query parameters as JSON, for
# filters too long for a URL (a proxy's or gunicorn's request line ends near 4 KB, long
# before the filter language's 1,000 values of an ``in``); ``count`` false skips counting.
QUERY_BODY = {"filter": "a condition object", "sort": 'a text like "-amount,name" or a list of field paths',
              "fields": "a list of field paths (or a comma-separated text)", "q": "a text", "limit": "a whole number",
              "cursor": "the next_cursor of the previous page", "offset": "a whole number",
              "trash": "true or false", "count": "true or false"}


def body_query(body: Any) -> tuple[ListQuery, bool]:
    """(the ListQuery, whether to count) of a query body; ValidationError naming each bad key."""
    if not isinstance(body, dict):
        raise ValidationError({"body": 'must be a JSON object like {"filter": {...}, "sort": "-amount", "limit": 50}'})
    unknown = sorted(set(body) - set(QUERY_BODY), key=str)
    if unknown:
        raise ValidationError({k: f"is not a parameter of a list query (allowed: {', '.join(QUERY_BODY)})"
                               for k in unknown})
    problems = {}
    for key, test in (("q", lambda v: isinstance(v, str)), ("cursor", lambda v: isinstance(v, str)),
                      ("trash", lambda v: isinstance(v, bool)), ("count", lambda v: isinstance(v, bool)),
                      ("limit", _whole), ("offset", _whole)):
        if body.get(key) is not None and not test(body[key]):
            problems[key] = f"must be {QUERY_BODY[key]}, not {type(body[key]).__name__}"
    if isinstance(body.get("q"), str) and len(body["q"]) > MAX_SEARCH:
        problems["q"] = f"is {len(body['q'])} characters long; at most {MAX_SEARCH} are allowed"
    fields = body.get("fields")
    if isinstance(fields, str):
        fields = [part.strip() for part in fields.split(",") if part.strip()] or None
    if fields is not None and not (isinstance(fields, list) and all(isinstance(f, str) for f in fields)):
        problems["fields"] = f"must be {QUERY_BODY['fields']}"
    if problems:
        raise ValidationError(problems)
    if fields:
        fields = [*[f for f in ALWAYS if f not in fields], *fields]
    limit = body.get("limit")
    query = ListQuery(filter=body.get("filter"), sort=body.get("sort"), limit=DEFAULT_LIMIT if limit is None else limit,
                      offset=body.get("offset"), cursor=body.get("cursor"), search=body.get("q") or None,
                      fields=fields or None, trash=bool(body.get("trash")))
    return query, body.get("count") is not False


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ---- list and create ------------------------------------------------------------------------------
def page_response(object_name: str, query: ListQuery, *, with_count: bool = True):
    """One page of records as the list endpoints answer (the list, the trash, the query)."""
    s = reading()
    try:
        page = s.list(object_name, query, purpose="api", with_count=with_count)
    except ValidationError as exc:  # the filter, sort, fields, limit … of the query string
        return from_engine_error(exc, query=True)
    return json_response({"data": many_to_json(s, object_name, page.data), "next_cursor": page.next_cursor,
                          "count": page.count, "count_is_estimate": page.count_is_estimate})


@bp.get("/v1/records/<object_name>")
def list_records(object_name: str):
    try:
        query = list_query()
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    return page_response(object_name, query)


@bp.post("/v1/records/<object_name>/query")
def query_records(object_name: str):
    """The list by POST: the same parameters, limits and rights as the GET, in a JSON body."""
    reading().object(object_name)  # an unknown object is a 404 before the body is looked at
    try:
        query, with_count = body_query(json_body())
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    return page_response(object_name, query, with_count=with_count)


@bp.post("/v1/records/<object_name>")
def create_record(object_name: str):
    body = json_object()
    s = writing()
    record = s.create(object_name, body)
    location = url_for("api.get_record", object_name=object_name, rid=record["id"])
    return action_header(s, json_response(to_json(s, object_name, record), 201,
                                          {"Location": location, **etag(record["version"])}))


@bp.post("/v1/records/<object_name>/bulk")
def bulk_records(object_name: str):
    s = writing()
    s.object(object_name)  # an unknown object is a 404 before the body is looked at
    body = json_object()
    unknown = sorted(set(body) - {"records"})
    if unknown:
        raise ValidationError({k: 'is not a parameter of a bulk write (send {"records": [...]})' for k in unknown})
    rows = body.get("records")
    if not isinstance(rows, list):
        raise ValidationError({"records": "is required: a list of records (with \"id\" and \"version\" to update)"})
    return action_header(s, json_response({"data": s.bulk_write(object_name, rows)}))


# ---- one record ---------------------------------------------------------------------------------
@bp.get("/v1/records/<object_name>/<rid>")
def get_record(object_name: str, rid: str):
    s = reading()
    record = s.get(object_name, record_id(rid), purpose="api", trash=arg_bool("trash"))
    return json_response(to_json(s, object_name, record), headers=etag(record.get("version")))


@bp.patch("/v1/records/<object_name>/<rid>")
def update_record(object_name: str, rid: str):
    ident = record_id(rid)
    body = json_object()
    version = if_match_version(body)
    values = {k: v for k, v in body.items() if k != "version"}
    s = writing()
    record = s.update(object_name, ident, values, version=version)
    return action_header(s, json_response(to_json(s, object_name, record), headers=etag(record.get("version"))))


@bp.delete("/v1/records/<object_name>/<rid>")
def delete_record(object_name: str, rid: str):
    ident = record_id(rid)
    version = if_match_version()
    if version is None:
        version = arg_int("version")
    s = writing()
    s.delete(object_name, ident, version=version)
    return action_header(s, no_content())


@bp.get("/v1/records/<object_name>/<rid>/history")
def record_history(object_name: str, rid: str):
    return json_response({"data": reading().history(object_name, record_id(rid))})


@bp.post("/v1/records/<object_name>/<rid>/restore")
def restore_record(object_name: str, rid: str):
    ident = record_id(rid)
    json_body(required=False)  # no body needed; one that is sent must be JSON
    s = writing()
    record = s.restore(object_name, ident)
    return action_header(s, json_response(to_json(s, object_name, record), headers=etag(record.get("version"))))


@bp.put("/v1/records/<object_name>/<rid>/owner")
def set_record_owner(object_name: str, rid: str):
    """Give the record to another user (needs full access to it)."""
    ident = record_id(rid)
    body = json_object()
    unknown = sorted(set(body) - {"owner", "version"})
    if unknown:
        raise ValidationError({k: "is not a parameter (send owner and version)" for k in unknown})
    owner = body.get("owner")
    if isinstance(owner, int) and not isinstance(owner, bool) and not 1 <= owner <= MAX_SMALL_ID:
        raise ValidationError({"owner": f"there is no active user with id {owner}"})
    s = writing()
    record = s.set_owner(object_name, ident, owner, version=if_match_version(body))
    if record is None:
        return action_header(s, no_content())  # given away: the caller may no longer see it
    return action_header(s, json_response(to_json(s, object_name, record), headers=etag(record.get("version"))))


# ---- shares -------------------------------------------------------------------------------------
@bp.get("/v1/records/<object_name>/<rid>/shares")
def list_shares(object_name: str, rid: str):
    return json_response({"data": reading().shares_of(object_name, record_id(rid))})


@bp.post("/v1/records/<object_name>/<rid>/shares")
def add_share(object_name: str, rid: str):
    ident = record_id(rid)
    body = json_object()
    unknown = sorted(set(body) - {"user", "group", "level"})
    if unknown:
        raise ValidationError({k: "is not a parameter of a share (user or group, and level)" for k in unknown})
    user = None if body.get("user") is None else id_or_name(body["user"], "user")
    group = None if body.get("group") is None else id_or_name(body["group"], "group")
    s = writing()
    shared = s.share(object_name, ident, user=user, group=group, level=body.get("level", "read"))
    entry = next(e for e in s.shares_of(object_name, ident)
                 if (e["user_id"], e["group_id"]) == (shared["user"], shared["group"]))
    return action_header(s, json_response(entry, 201))


@bp.delete("/v1/records/<object_name>/<rid>/shares")
def remove_share(object_name: str, rid: str):
    ident = record_id(rid)
    user, group = arg_int("user", MAX_SMALL_ID), arg_int("group", MAX_SMALL_ID)
    if (user is None) == (group is None):
        raise ApiError(400, "name exactly one of the query parameters user or group", code="bad_request",
                       fields={"share": "name exactly one of user or group"})
    s = writing()
    s.unshare(object_name, ident, user=user, group=group)
    return action_header(s, no_content())
