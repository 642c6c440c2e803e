"""Records: list, create, read, change, delete, bulk, history, restore, shares, owner.

Every call goes through the one record store with the caller's Actor, so the rights --
object rights, row filters, field masks, shares, rule views -- hold exactly as in the
browser. Records are written in the store's JSON form: a link as the target's id and read
as {"id", "display"}; decimals and money amounts as strings; money as {"amount",
"currency"}; dates and times in ISO 8601.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import current_app, g, url_for

from cardbase.schema_engine import rights
from cardbase.schema_engine.errors import NotFound, ValidationError
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import Schema
from cardbase.schema_engine.store import RecordStore
from cardbase.schema_engine.store.serialize import record_to_json

from ..context import get_db
from .auth import api_actor
from .blueprint import bp
from .errors import ApiError, from_engine_error
from .http import (MAX_SMALL_ID, arg_bool, arg_int, arg_json, arg_text, etag, id_or_name, if_match_version, json_body,
                   json_object, json_response, no_content, record_id)

DEFAULT_LIMIT = 50
ALWAYS = ("id", "code", "version")  # every record carries these, whatever ``fields`` asks for


def store() -> RecordStore:
    """The record store of this app (with the rights: the store's default AccessPolicy)."""
    found = current_app.extensions.get("cardbase_api_store")
    if found is None or found.db is not get_db():
        found = RecordStore(get_db())
        current_app.extensions["cardbase_api_store"] = found
    return found


def request_schema() -> Schema:
    schema = g.get("cardbase_schema")
    if schema is None:
        schema = get_db().schema()
        g.cardbase_schema = schema
    return schema


def to_json(object_name: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A record the store just returned, in JSON form. The store read it with the newest
    snapshot, which the cache holds now: no second round trip for the schema version."""
    return many_to_json(object_name, [record])[0]


def many_to_json(object_name: str, records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Records of one read (so with the same keys) in JSON form; the snapshot is checked
    against the first one."""
    if not records:
        return []
    schema = g.get("cardbase_schema") or get_db().schema_cache.latest()
    if schema is None or not schema.has_object(object_name) or not _same_fields(schema, object_name, records[0]):
        schema = get_db().schema()
    g.cardbase_schema = schema
    obj = schema.object(object_name)
    return [record_to_json(schema, obj, r) for r in records]


def _same_fields(schema: Schema, object_name: str, record: Mapping[str, Any]) -> bool:
    obj = schema.object(object_name)
    return all(key in obj.fields_by_name or "." in key for key in record)


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


# ---- list and create ------------------------------------------------------------------------------
def page_response(object_name: str, query: ListQuery):
    """One page of records as the list endpoints answer (the list, the trash)."""
    try:
        page = store().list(api_actor(), object_name, query)
    except ValidationError as exc:  # the filter, sort, fields, limit … of the query string
        return from_engine_error(exc, query=True)
    return json_response({"data": many_to_json(object_name, page.data), "next_cursor": page.next_cursor,
                          "count": page.count, "count_is_estimate": page.count_is_estimate})


@bp.get("/v1/records/<object_name>")
def list_records(object_name: str):
    try:
        query = list_query()
    except ValidationError as exc:
        return from_engine_error(exc, query=True)
    return page_response(object_name, query)


@bp.post("/v1/records/<object_name>")
def create_record(object_name: str):
    body = json_object()
    record = store().create(api_actor(), object_name, body)
    location = url_for("api.get_record", object_name=object_name, rid=record["id"])
    return json_response(to_json(object_name, record), 201, {"Location": location, **etag(record["version"])})


@bp.post("/v1/records/<object_name>/bulk")
def bulk_records(object_name: str):
    if not request_schema().has_object(object_name):
        raise NotFound(f"there is no object '{object_name}'")
    body = json_object()
    unknown = sorted(set(body) - {"records"})
    if unknown:
        raise ValidationError({k: 'is not a parameter of a bulk write (send {"records": [...]})' for k in unknown})
    rows = body.get("records")
    if not isinstance(rows, list):
        raise ValidationError({"records": "is required: a list of records (with \"id\" and \"version\" to update)"})
    return json_response({"data": store().bulk_write(api_actor(), object_name, rows)})


# ---- one record ---------------------------------------------------------------------------------
@bp.get("/v1/records/<object_name>/<rid>")
def get_record(object_name: str, rid: str):
    record = store().get(api_actor(), object_name, record_id(rid), trash=arg_bool("trash"))
    return json_response(to_json(object_name, record), headers=etag(record.get("version")))


@bp.patch("/v1/records/<object_name>/<rid>")
def update_record(object_name: str, rid: str):
    ident = record_id(rid)
    body = json_object()
    version = if_match_version(body)
    values = {k: v for k, v in body.items() if k != "version"}
    record = store().update(api_actor(), object_name, ident, values, version=version)
    return json_response(to_json(object_name, record), headers=etag(record.get("version")))


@bp.delete("/v1/records/<object_name>/<rid>")
def delete_record(object_name: str, rid: str):
    ident = record_id(rid)
    version = if_match_version()
    if version is None:
        version = arg_int("version")
    store().delete(api_actor(), object_name, ident, version=version)
    return no_content()


@bp.get("/v1/records/<object_name>/<rid>/history")
def record_history(object_name: str, rid: str):
    return json_response({"data": store().history(api_actor(), object_name, record_id(rid))})


@bp.post("/v1/records/<object_name>/<rid>/restore")
def restore_record(object_name: str, rid: str):
    ident = record_id(rid)
    json_body(required=False)  # no body needed; one that is sent must be JSON
    record = store().restore(api_actor(), object_name, ident)
    return json_response(to_json(object_name, record), headers=etag(record.get("version")))


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
    record = store().set_owner(api_actor(), object_name, ident, owner, version=if_match_version(body))
    if record is None:
        return no_content()  # given away: the caller may no longer see it
    return json_response(to_json(object_name, record), headers=etag(record.get("version")))


# ---- shares -------------------------------------------------------------------------------------
@bp.get("/v1/records/<object_name>/<rid>/shares")
def list_shares(object_name: str, rid: str):
    return json_response({"data": rights.shares_of(get_db(), api_actor(), object_name, record_id(rid),
                                                   policy=store().policy)})


@bp.post("/v1/records/<object_name>/<rid>/shares")
def add_share(object_name: str, rid: str):
    ident = record_id(rid)
    body = json_object()
    unknown = sorted(set(body) - {"user", "group", "level"})
    if unknown:
        raise ValidationError({k: "is not a parameter of a share (user or group, and level)" for k in unknown})
    actor = api_actor()
    user = None if body.get("user") is None else id_or_name(body["user"], "user")
    group = None if body.get("group") is None else id_or_name(body["group"], "group")
    shared = rights.share(get_db(), actor, object_name, ident, user=user, group=group,
                          level=body.get("level", "read"), policy=store().policy)
    entry = next(s for s in rights.shares_of(get_db(), actor, object_name, ident, policy=store().policy)
                 if (s["user_id"], s["group_id"]) == (shared["user"], shared["group"]))
    return json_response(entry, 201)


@bp.delete("/v1/records/<object_name>/<rid>/shares")
def remove_share(object_name: str, rid: str):
    ident = record_id(rid)
    user, group = arg_int("user", MAX_SMALL_ID), arg_int("group", MAX_SMALL_ID)
    if (user is None) == (group is None):
        raise ApiError(400, "name exactly one of the query parameters user or group", code="bad_request",
                       fields={"share": "name exactly one of user or group"})
    rights.unshare(get_db(), api_actor(), object_name, ident, user=user, group=group, policy=store().policy)
    return no_content()
