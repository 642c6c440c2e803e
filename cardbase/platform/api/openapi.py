"""The OpenAPI 3.1 description, generated from the live metadata with apispec.

One set of schemas per object the caller may read -- ``<Object>Record`` (as read),
``<Object>RecordInput`` (create), ``<Object>RecordPatch`` (change), ``<Object>RecordList``,
``<Object>RecordBulk`` -- built from each field type's own marshmallow field (its type,
length, choices, ranges) through apispec's marshmallow converter. Where the JSON the API
speaks differs from the marshmallow value (decimals as strings, money as {"amount",
"currency"}, links read as {"id", "display"}), the property says so.

The document is filtered by the caller's rights, as the request's engine session answers
them (``objects_with``, ``capabilities``): objects they cannot read are absent, hidden
fields are absent, read-only fields are not in the input schemas, the export and
aggregate endpoints appear with the export and report rights. It is cached per (schema
version, rights version, admin flag, groups, readable and configurable objects) -- the
versions are the session's, read from the database on each request, so a schema or rights
change elsewhere is seen at once (DESIGN: caches are invalidated through the database).
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Response, current_app

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.field_types.base import ALL_OPERATORS
from cardbase.schema_engine.field_types.computed import is_computed
from cardbase.schema_engine.field_types.integer import MAX_INT, MIN_INT
from cardbase.schema_engine.field_types.links import MAX_LINKS
from cardbase.schema_engine.query.model import MAX_LIMIT, MAX_OFFSET, MAX_SEARCH
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.rights.model import current_model
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.schema_engine.store.session import Session

from ..context import engine_session, get_db
from . import schemas as S
from .openapi_fields import add_field_options
from . import schemas_config, schemas_layouts
from .auth import optional_actor
from .blueprint import bp
from .http import body_limit

API_VERSION = "1.0.0"
CACHE_SIZE = 64
LINK_TYPES = ("link", "user", "created_by", "modified_by")
MULTI_LINK_TYPES = ("links",)
DECIMAL_TYPES = ("decimal",)
_cache_lock = threading.Lock()


# ---- the cache ------------------------------------------------------------------------------------
def document_for(actor: Actor | None) -> tuple[dict[str, Any], str]:
    """(document, JSON text) for the caller; built once per cache key.

    What the caller may do comes from the request's engine session (``objects_with``,
    ``capabilities``), never from rights derived here. The key holds the schema and rights
    versions the session reads with (so a change elsewhere is seen at once) and what the
    caller may read and configure."""
    from .jsonio import dumps

    if actor is None:  # anonymous: no objects, nothing of the rights
        schema = get_db().schema()
        key: tuple = (schema.version, 0, True, False, frozenset(), (), (), body_limit())
        return _cached(key, lambda: build_document(schema, [], None), dumps)
    s = engine_session()
    schema = s.schema
    readable_ids = {o.id for o in s.objects_with("read")}
    readable = tuple(o.id for o in schema.objects if o.id in readable_ids)
    configurable = tuple(sorted(o.id for o in s.objects_with("configure")))
    # Admins' documents do not depend on the rights; everyone else's are keyed by their version
    # (read once per transaction by the session's rights object: no further statement).
    rights_v = 0 if actor.is_admin else current_model(s.conn, schema).version
    key = (schema.version, rights_v, False, bool(actor.is_admin), actor.group_ids, readable, configurable,
           body_limit())
    return _cached(key, lambda: build_document(schema, [schema.object(i) for i in readable], s,
                                               is_admin=bool(actor.is_admin)), dumps)


def _cached(key: tuple, build, dumps) -> tuple[dict[str, Any], str]:
    cache: OrderedDict = current_app.extensions.setdefault("cardbase_openapi", OrderedDict())
    with _cache_lock:
        found = cache.get(key)
        if found is not None:
            cache.move_to_end(key)
            return found
    document = build()
    found = (document, dumps(document))
    with _cache_lock:
        cache[key] = found
        while len(cache) > CACHE_SIZE:
            cache.popitem(last=False)
    return found


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description, for the caller's rights (anonymous: no objects)."""
    _document, text = document_for(optional_actor())
    return Response(text, mimetype="application/json")


# ---- building --------------------------------------------------------------------------------------
def schema_names(objects: list[ObjectInfo]) -> dict[int, str]:
    names: dict[int, str] = {}
    used: set[str] = set()
    for obj in objects:
        base = "".join(part[:1].upper() + part[1:] for part in obj.api_name.split("_") if part) or "Object"
        name, n = base + "Record", 2
        while name in used:
            name, n = f"{base}{n}Record", n + 1
        used.add(name)
        names[obj.id] = name
    return names


def build_document(schema: Schema, objects: list[ObjectInfo], session: Session | None, *,
                   is_admin: bool = False) -> dict[str, Any]:
    """The document for ``objects`` (those the caller may read), with the fields and rights
    the session's capabilities give (None: anonymous, no objects)."""
    plugin = MarshmallowPlugin()
    spec = APISpec(
        title="cardbase API", version=API_VERSION, openapi_version="3.1.0", plugins=[plugin],
        info={"description": INTRO.format(limit=body_limit() // (1024 * 1024))},
        servers=[{"url": "/"}], security=[{"bearerAuth": []}])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "a session or personal API token"})
    for cls in [*S.STATIC, *schemas_layouts.STATIC, *schemas_config.STATIC]:
        spec.components.schema(cls.__name__, schema=cls)
    builder = _Builder(spec, plugin, schema, objects, session, is_admin)
    builder.fixed_paths()
    for obj in objects:
        builder.object_paths(obj)
    document = spec.to_dict()
    add_field_options(document)  # the field types' option declarations (openapi_fields.py)
    document["tags"] = builder.tags
    return document


INTRO = """The REST API of cardbase: records, metadata, users, groups and rights.

Authenticate with `POST /api/v1/auth/token` (username and password) or a personal token,
and send `Authorization: Bearer <token>`. Errors are JSON:
`{{"error": {{"code", "message", "fields": {{"field": ["message", ...]}}}}}}`. Request bodies
are JSON (`Content-Type: application/json`) of at most {limit} MB. This document shows
the objects and fields the caller may read (it is generated from the live metadata)."""


def _err(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": "Error"}}}


ERRORS = {
    400: "malformed request: bad JSON, bad parameter or id", 401: "no valid token",
    403: "the caller's rights do not allow it", 404: "no such object, field or record (or not visible)",
    409: "conflict: a newer version (with the current record), or still in use",
    413: "request body too large", 415: "request body is not JSON",
    422: "invalid values: `fields` names each problem", 429: "too many requests",
}


def responses(ok: dict[int, dict[str, Any]], *codes: int) -> dict[str, Any]:
    out: dict[str, Any] = {str(code): value for code, value in ok.items()}
    for code in codes:
        out[str(code)] = _err(ERRORS[code])
    return out


def ok_json(schema_name: str, description: str = "OK", headers: dict | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema_name}}}
    if headers:
        value["headers"] = headers
    return value


NO_CONTENT = {"description": "done"}
READ = (400, 401, 403, 404)
WRITE = (400, 401, 403, 404, 409, 413, 415, 422)
ETAG = {"ETag": {"description": "the record's version, for If-Match", "schema": {"type": "string"}}}
ACTION = {"X-Cardbase-Action": {"description": "the id of the action this write recorded, for "
                                               "POST /api/v1/actions/{id}/undo (absent when nothing changed)",
                                "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
DONE = {"description": "done", "headers": ACTION}


def body(schema_name: str, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema_name}}}


def path_param(name: str, description: str, schema: dict[str, Any], example: Any = None) -> dict[str, Any]:
    param = {"name": name, "in": "path", "required": True, "description": description, "schema": schema}
    if example is not None:
        param["example"] = example
    return param


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_INT, "format": "int64"}  # records
SMALL_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1, "format": "int32"}  # users, groups, tokens …
IF_MATCH = {"name": "If-Match", "in": "header", "required": False,
            "description": "the version read, e.g. \"3\" (or send \"version\" in the body)",
            "schema": {"type": "string", "pattern": '^(W/)?"?[0-9]{1,10}"?$'}}


class _Builder:
    def __init__(self, spec: APISpec, plugin: MarshmallowPlugin, schema: Schema, objects: list[ObjectInfo],
                 session: Session | None, is_admin: bool = False):
        self.spec, self.plugin, self.schema, self.objects, self.session = spec, plugin, schema, objects, session
        self.is_admin = is_admin
        self.names = schema_names(objects)
        self.tags: list[dict[str, str]] = []
        # The objects the caller may configure (anonymous callers: none, not even their names).
        configurable = {o.id for o in session.objects_with("configure")} if session is not None else set()
        self.object_names = [o.api_name for o in schema.objects if o.id in configurable]

    def capabilities(self, obj: ObjectInfo) -> ObjectCapabilities | None:
        return self.session.capabilities(obj) if self.session is not None else None

    def can(self, obj: ObjectInfo, right: str) -> bool:
        """Does the caller hold the object right (the session's capabilities)?"""
        caps = self.capabilities(obj)
        return caps is not None and caps.can(right)

    def path(self, path: str, tag: str, **operations: dict[str, Any]) -> None:
        for op in operations.values():
            op.setdefault("tags", [tag])
        self.spec.path(path=path, operations=operations)

    def tag(self, name: str, description: str) -> str:
        if not any(t["name"] == name for t in self.tags):
            self.tags.append({"name": name, "description": description})
        return name

    def object_param(self) -> dict[str, Any]:
        """``{object_name}`` of the configuration endpoints: one of the objects the caller may configure."""
        return path_param("object_name", "the object's API name", {"type": "string", "enum": self.object_names}
                          if self.object_names else {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"})

    # ---- fixed endpoints ----------------------------------------------------------------------
    def fixed_paths(self) -> None:
        auth = self.tag("auth", "Tokens: a session token for a username and password, and personal tokens")
        self.path("/api/v1/auth/token", auth, post={
            "summary": "Get a session token", "operationId": "getToken", "security": [],
            "description": "Rate-limited per network address and per username (429 with Retry-After). "
                           "Wrong passwords count towards the account's lockout like the login form.",
            "requestBody": body("TokenRequest"),
            "responses": responses({200: ok_json("Token")}, 400, 401, 413, 415, 422, 429)},
            delete={"summary": "Revoke the token of this request (log out)", "operationId": "revokeToken",
                    "responses": responses({204: NO_CONTENT}, 401, 404)})
        self.path("/api/v1/auth/tokens", auth, get={
            "summary": "List personal tokens (yours; admins: any user's)", "operationId": "listTokens",
            "parameters": [{"name": "user_id", "in": "query", "schema": SMALL_ID}],
            "responses": responses({200: ok_json("PersonalTokenList")}, 400, 401, 403)},
            post={"summary": "Create a personal token (the secret is shown once)", "operationId": "createToken",
                  "requestBody": body("PersonalTokenRequest"),
                  "responses": responses({201: ok_json("PersonalToken", "created")}, 400, 401, 403, 404, 413, 415,
                                         422)})
        self.path("/api/v1/auth/tokens/{token_id}", auth, delete={
            "summary": "Revoke a personal token", "operationId": "deleteToken",
            "parameters": [path_param("token_id", "the token's id", SMALL_ID)],
            "responses": responses({204: NO_CONTENT}, 400, 401, 404)})
        self.path("/api/v1/me", auth, get={"summary": "The caller", "operationId": "me",
                                           "responses": responses({200: ok_json("User")}, 401)})
        self.action_paths()
        self.metadata_paths()
        self.admin_paths()
        from . import openapi_config  # the configuration beyond objects and fields: cards, tables, solutions, log

        openapi_config.config_paths(self)
        from . import openapi_reports  # reports and dashboards

        openapi_reports.report_paths(self)
        from . import openapi_automation  # webhooks, scenarios, comments, tasks, notifications, forms

        openapi_automation.automation_paths(self)
        from . import openapi_documents  # Word templates and documents

        openapi_documents.document_paths(self)
        from . import openapi_transfer  # imports and their jobs

        openapi_transfer.transfer_paths(self)
        from . import openapi_currencies  # base currency and exchange rates

        openapi_currencies.currency_paths(self)

    def action_paths(self) -> None:
        tag = self.tag("actions", "The caller's recent changes of records, and undo (undoing an undo is redo)")
        self.path("/api/v1/actions", tag, get={
            "summary": "Your recent actions, newest first", "operationId": "listActions",
            "description": "Every change of records is one action; each write answers with its id in the "
                           "X-Cardbase-Action header.",
            "parameters": [{"name": "limit", "in": "query", "description": "how many (default 20, at most 100)",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
            "responses": responses({200: ok_json("ActionList")}, 400, 401)})
        self.path("/api/v1/actions/{action_id}/undo", tag, post={
            "summary": "Undo one of your actions (as a new action)", "operationId": "undoAction",
            "description": "Refused with nothing changed: 409 when a record changed since, or the action was "
                           "undone already or was a purge; 403 for someone else's action or a record you may no "
                           "longer see or change; 404 for an unknown action.",
            "parameters": [path_param("action_id", "the action's id", ID_SCHEMA, example=1)],
            "responses": responses({200: ok_json("UndoResult", "undone", ACTION)}, 400, 401, 403, 404, 409, 413,
                                   415, 422)})

    def metadata_paths(self) -> None:
        meta = self.tag("metadata", "Object types and fields (needs the configure right; new and deleted "
                                    "objects: administrators)")
        obj = self.object_param()
        field = path_param("field_name", "the field's API name", {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,62}$"})
        self.path("/api/v1/objects", meta,
                  get={"summary": "List objects", "operationId": "listObjects",
                       "responses": responses({200: ok_json("ObjectList")}, 401, 403)},
                  post={"summary": "Create an object (with fields)", "operationId": "createObject",
                        "requestBody": body("ObjectDefInput"),
                        "responses": responses({201: ok_json("ObjectDef", "created")}, *WRITE)})
        self.path("/api/v1/objects/{object_name}", meta,
                  get={"summary": "Get an object", "operationId": "getObject", "parameters": [obj],
                       "responses": responses({200: ok_json("ObjectDef")}, *READ)},
                  patch={"summary": "Change an object", "operationId": "updateObject", "parameters": [obj],
                         "requestBody": body("ObjectDefPatch"),
                         "responses": responses({200: ok_json("ObjectDef")}, *WRITE)},
                  delete={"summary": "Delete an object (refused while in use)", "operationId": "deleteObject",
                          "parameters": [obj], "responses": responses({204: NO_CONTENT}, *READ, 409, 422)})
        self.path("/api/v1/objects/{object_name}/fields", meta,
                  get={"summary": "List fields", "operationId": "listFields", "parameters": [obj],
                       "responses": responses({200: ok_json("FieldList")}, *READ)},
                  post={"summary": "Add a field", "operationId": "addField", "parameters": [obj],
                        "requestBody": body("FieldDefInput"),
                        "responses": responses({201: ok_json("FieldDef", "created")}, *WRITE)})
        self.path("/api/v1/objects/{object_name}/fields/{field_name}", meta,
                  get={"summary": "Get a field", "operationId": "getField", "parameters": [obj, field],
                       "responses": responses({200: ok_json("FieldDef")}, *READ)},
                  patch={"summary": "Change a field (type changes convert the values or are refused)",
                         "operationId": "updateField", "parameters": [obj, field],
                         "requestBody": body("FieldDefPatch"),
                         "responses": responses({200: ok_json("FieldDef")}, *WRITE)},
                  delete={"summary": "Remove a field (refused while in use)", "operationId": "deleteField",
                          "parameters": [obj, field], "responses": responses({204: NO_CONTENT}, *READ, 409, 422)})
        rights = self.tag("rights", "Object rights, access modes, rule views and field rights (administrators)")
        self.path("/api/v1/objects/{object_name}/rights", rights,
                  get={"summary": "The groups' rights on an object and its access mode",
                       "operationId": "getObjectRights", "parameters": [obj],
                       "responses": responses({200: ok_json("ObjectRights")}, *READ)},
                  patch={"summary": "Set the access mode and groups' rights", "operationId": "updateObjectRights",
                         "parameters": [obj], "requestBody": body("ObjectRightsPatch"),
                         "responses": responses({200: ok_json("ObjectRights")}, *WRITE)})
        self.path("/api/v1/objects/{object_name}/rule-views", rights,
                  get={"summary": "Rule views of an object", "operationId": "listRuleViews", "parameters": [obj],
                       "responses": responses({200: ok_json("RuleViewList")}, *READ)},
                  post={"summary": "Create or replace (by group and name) a rule view",
                        "operationId": "saveRuleView", "parameters": [obj], "requestBody": body("RuleViewInput"),
                        "responses": responses({201: ok_json("RuleView", "saved")}, *WRITE)})
        self.path("/api/v1/objects/{object_name}/rule-views/{view_id}", rights, delete={
            "summary": "Delete a rule view", "operationId": "deleteRuleView",
            "parameters": [obj, path_param("view_id", "the rule view's id", SMALL_ID)],
            "responses": responses({204: NO_CONTENT}, *READ)})
        self.path("/api/v1/objects/{object_name}/fields/{field_name}/rights", rights,
                  get={"summary": "The groups' levels for a field", "operationId": "getFieldRights",
                       "parameters": [obj, field], "responses": responses({200: ok_json("FieldRights")}, *READ)},
                  patch={"summary": "Set groups' levels for a field (null removes)", "operationId": "updateFieldRights",
                         "parameters": [obj, field], "requestBody": body("FieldRightsPatch"),
                         "responses": responses({200: ok_json("FieldRights")}, *WRITE)})

    def admin_paths(self) -> None:
        people = self.tag("users", "Users and groups (changes: administrators; users may change themselves)")
        user = path_param("user_ref", "the user's id", SMALL_ID, example=1)
        group = path_param("group_ref", "the group's id", SMALL_ID, example=1)
        self.path("/api/v1/users", people,
                  get={"summary": "List users", "operationId": "listUsers",
                       "responses": responses({200: ok_json("UserList")}, 401)},
                  post={"summary": "Create a user", "operationId": "createUser", "requestBody": body("UserInput"),
                        "responses": responses({201: ok_json("User", "created")}, *WRITE)})
        self.path("/api/v1/users/{user_ref}", people,
                  get={"summary": "Get a user", "operationId": "getUser", "parameters": [user],
                       "responses": responses({200: ok_json("User")}, *READ)},
                  patch={"summary": "Change a user (or your own name, e-mail, language, password)",
                         "operationId": "updateUser", "parameters": [user], "requestBody": body("UserPatch"),
                         "responses": responses({200: ok_json("User")}, *WRITE)},
                  delete={"summary": "Deactivate a user", "operationId": "deactivateUser", "parameters": [user],
                          "responses": responses({204: NO_CONTENT}, *READ, 422)})
        self.path("/api/v1/groups", people,
                  get={"summary": "List groups", "operationId": "listGroups",
                       "responses": responses({200: ok_json("GroupList")}, 401)},
                  post={"summary": "Create a group", "operationId": "createGroup", "requestBody": body("GroupInput"),
                        "responses": responses({201: ok_json("Group", "created")}, *WRITE)})
        self.path("/api/v1/groups/{group_ref}", people,
                  get={"summary": "Get a group", "operationId": "getGroup", "parameters": [group],
                       "responses": responses({200: ok_json("Group")}, *READ)},
                  patch={"summary": "Rename or describe a group", "operationId": "updateGroup", "parameters": [group],
                         "requestBody": body("GroupPatch"), "responses": responses({200: ok_json("Group")}, *WRITE)},
                  delete={"summary": "Delete a group (refused while rights or record shares refer to it, "
                                     "unless with_rights=true)",
                          "operationId": "deleteGroup",
                          "parameters": [group, {"name": "with_rights", "in": "query", "schema": {"type": "boolean"},
                                                 "description": "true: delete the group's object rights, record "
                                                                "scopes, field rights, rule views and the shares of "
                                                                "records with the group along with it"}],
                          "responses": responses({204: NO_CONTENT}, *READ, 409, 422)})
        self.path("/api/v1/groups/{group_ref}/members", people, get={
            "summary": "Members of a group", "operationId": "listMembers", "parameters": [group],
            "responses": responses({200: ok_json("UserList")}, *READ)})
        self.path("/api/v1/groups/{group_ref}/members/{user_ref}", people,
                  put={"summary": "Add a member", "operationId": "addMember", "parameters": [group, user],
                       "responses": responses({204: NO_CONTENT}, *READ)},
                  delete={"summary": "Remove a member", "operationId": "removeMember", "parameters": [group, user],
                          "responses": responses({204: NO_CONTENT}, *READ)})

    # ---- one object's records ----------------------------------------------------------------
    def object_paths(self, obj: ObjectInfo) -> None:
        name = self.names[obj.id]
        caps = self.capabilities(obj)
        visible = [f for f in obj.fields if caps is None or caps.reads(f)]
        writable = [f for f in visible if f.writable and (caps is None or caps.writes(f))]
        self.register_record_schemas(obj, name, visible, writable)
        tag = self.tag(f"records: {obj.api_name}", f"{obj.label_plural} ({obj.api_name})")
        base = f"/api/v1/records/{obj.api_name}"
        rid = path_param("id", f"the id of a {obj.label} record", ID_SCHEMA, example=1)
        paths = [f.api_name for f in visible]
        list_params = [
            {"name": "filter", "in": "query", "description": "a condition in the filter language (docs/filters.md)",
             "content": {"application/json": {"schema": f"{name}Filter"}}},
            {"name": "sort", "in": "query", "description": "field paths, comma-separated, minus for descending: "
                                                          "-amount,name", "schema": {"type": "string", "maxLength": 1000}},
            {"name": "limit", "in": "query", "description": f"page size (default 50, at most {MAX_LIMIT})",
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}},
            {"name": "cursor", "in": "query", "description": "next_cursor of the previous page",
             "schema": {"type": "string", "maxLength": 4000}},
            {"name": "offset", "in": "query", "description": "rows to skip (instead of a cursor)",
             "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}},
            {"name": "q", "in": "query", "description": "search text: every word must match",
             "schema": {"type": "string", "maxLength": MAX_SEARCH}},
            {"name": "fields", "in": "query", "description": "fields to return, comma-separated, link paths allowed "
                                                            f"(e.g. {', '.join(paths[-2:]) or 'code'}); id, code and "
                                                            "version are always included",
             "schema": {"type": "string", "maxLength": 5000}},
            {"name": "trash", "in": "query", "description": "list the trash instead", "schema": {"type": "boolean"}},
        ]
        label = obj.label_plural
        self.path(base, tag,
                  get={"summary": f"List {label}", "operationId": f"list_{obj.api_name}", "parameters": list_params,
                       "responses": responses({200: ok_json(f"{name}List")}, 400, 401, 403, 404)},
                  post={"summary": f"Create a {obj.label} record", "operationId": f"create_{obj.api_name}",
                        "requestBody": body(f"{name}Input"),
                        "responses": responses({201: ok_json(name, "created", {**ETAG, **ACTION})}, *WRITE)})
        self.path(f"{base}/bulk", tag, post={
            "summary": f"Create and update up to 1000 {label} in one transaction (all or nothing)",
            "operationId": f"bulk_{obj.api_name}",
            "description": "Rows without id are created; rows with id (and the version read) update that record. "
                           "On any error nothing is written and `error.rows` gives each row's errors by index.",
            "requestBody": body(f"{name}Bulk"),
            "responses": responses({200: ok_json("BulkResult", "OK", ACTION)}, *WRITE)})
        trash = {"name": "trash", "in": "query", "description": "read a record in the trash",
                 "schema": {"type": "boolean"}}
        version = {"name": "version", "in": "query", "description": "the version read (or If-Match)",
                   "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
        self.path(f"{base}/{{id}}", tag,
                  get={"summary": f"Get a {obj.label} record", "operationId": f"get_{obj.api_name}",
                       "parameters": [rid, trash], "responses": responses({200: ok_json(name, "OK", ETAG)}, *READ)},
                  patch={"summary": f"Change a {obj.label} record (send the version read)",
                         "operationId": f"update_{obj.api_name}", "parameters": [rid, IF_MATCH],
                         "requestBody": body(f"{name}Patch"),
                         "responses": responses({200: ok_json(name, "OK", {**ETAG, **ACTION})}, *WRITE)},
                  delete={"summary": f"Move a {obj.label} record to the trash", "operationId": f"delete_{obj.api_name}",
                          "parameters": [rid, IF_MATCH, version],
                          "responses": responses({204: DONE}, *READ, 409, 422)})
        self.path(f"{base}/{{id}}/history", tag, get={
            "summary": "The record's history, newest first", "operationId": f"history_{obj.api_name}",
            "parameters": [rid], "responses": responses({200: ok_json("HistoryList")}, *READ)})
        self.path(f"{base}/{{id}}/restore", tag, post={
            "summary": "Restore the record from the trash", "operationId": f"restore_{obj.api_name}",
            "parameters": [rid], "responses": responses({200: ok_json(name, "OK", {**ETAG, **ACTION})}, *WRITE)})
        self.path(f"{base}/{{id}}/owner", tag, put={
            "summary": "Give the record to another user (needs full access)", "operationId": f"owner_{obj.api_name}",
            "parameters": [rid, IF_MATCH], "requestBody": body("OwnerInput"),
            "responses": responses({200: ok_json(name, "OK", {**ETAG, **ACTION}),
                                    204: {"description": "given away: no longer visible", "headers": ACTION}},
                                   *WRITE)})
        self.path(f"{base}/{{id}}/shares", tag,
                  get={"summary": "Who the record is shared with", "operationId": f"shares_{obj.api_name}",
                       "parameters": [rid], "responses": responses({200: ok_json("ShareList")}, *READ, 422)},
                  post={"summary": "Share the record with a user or group", "operationId": f"share_{obj.api_name}",
                        "parameters": [rid], "requestBody": body("ShareInput"),
                        "responses": responses({201: ok_json("Share", "shared", ACTION)}, *WRITE)},
                  delete={"summary": "End a share", "operationId": f"unshare_{obj.api_name}",
                          "parameters": [rid, {"name": "user", "in": "query", "schema": SMALL_ID},
                                         {"name": "group", "in": "query", "schema": SMALL_ID}],
                          "responses": responses({204: DONE}, *READ, 422)})
        from . import openapi_lists  # views, trash, aggregates and exports of the object's records

        openapi_lists.record_list_paths(self, obj, tag, list_params)

    def register_record_schemas(self, obj: ObjectInfo, name: str, visible: list[FieldInfo],
                                writable: list[FieldInfo]) -> None:
        prop = self.plugin.converter.field2property
        system_required = ("id", "code", "version")
        read_props = {f.api_name: prop(read_field(f)) for f in visible}
        self.spec.components.schema(name, component={
            "type": "object", "description": f"A {obj.label} record as read. Link paths asked for with `fields` "
                                             "(e.g. organisation.city) appear as extra keys.",
            "properties": read_props, "required": [n for n in system_required if n in read_props]})
        input_props = {f.api_name: prop(input_field(f, partial=False)) for f in writable}
        required = [f.api_name for f in writable if f.required and f.default is None]
        self.spec.components.schema(f"{name}Input", component={
            "type": "object", "properties": input_props, "required": required, "additionalProperties": False})
        patch_props = {f.api_name: prop(input_field(f, partial=True)) for f in writable}
        patch_props["version"] = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1,
                                  "description": "the version read (or send If-Match)"}
        self.spec.components.schema(f"{name}Patch", component={
            "type": "object", "properties": patch_props, "additionalProperties": False})
        row_props = {**patch_props, "id": {**ID_SCHEMA, "description": "update this record (else create one)"}}
        self.spec.components.schema(f"{name}BulkRow", component={
            "type": "object", "properties": row_props, "additionalProperties": False})
        self.spec.components.schema(f"{name}Bulk", component={
            "type": "object", "required": ["records"], "additionalProperties": False,
            "properties": {"records": {"type": "array", "maxItems": 1000,
                                       "items": {"$ref": f"#/components/schemas/{name}BulkRow"}}}})
        self.spec.components.schema(f"{name}List", component={
            "type": "object", "required": ["data", "next_cursor", "count", "count_is_estimate"],
            "additionalProperties": False,
            "properties": {"data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                           "next_cursor": {"type": ["string", "null"]},
                           "count": {"type": "integer", "description": "exact up to 1,000, else estimated"},
                           "count_is_estimate": {"type": "boolean"}}})
        self.spec.components.schema(f"{name}Filter", component=filter_schema(visible))


def filter_schema(fields: list[FieldInfo]) -> dict[str, Any]:
    """The filter language for one object, one level deep (conditions may cross links)."""
    condition = {"type": "object", "required": ["field", "op"], "additionalProperties": False,
                 "properties": {"field": {"type": "string", "description": "a field or a path across links",
                                          "examples": [f.api_name for f in fields[:3]],
                                          "enum": [f.api_name for f in fields]},
                                "op": {"type": "string", "enum": list(ALL_OPERATORS)},
                                "value": {}}}
    return {"description": "a condition, or and/or/not of conditions (docs/filters.md; deeper trees work too)",
            "anyOf": [condition,
                      {"type": "object", "required": ["and"], "additionalProperties": False,
                       "properties": {"and": {"type": "array", "items": condition, "maxItems": 20}}},
                      {"type": "object", "required": ["or"], "additionalProperties": False,
                       "properties": {"or": {"type": "array", "items": condition, "maxItems": 20}}},
                      {"type": "object", "required": ["not"], "additionalProperties": False,
                       "properties": {"not": condition}}]}


# ---- one field's property ------------------------------------------------------------------------
def shape_of(field: FieldInfo) -> FieldInfo:
    """The field whose type the values have (a computed field's result)."""
    if is_computed(field):
        result = field.ftype.result_field()
        if result is not None:
            return result
    return field


def _describe(field: FieldInfo, target: ma.fields.Field, extra: str = "") -> ma.fields.Field:
    text = field.label + (f" ({field.type})" if field.type != shape_of(field).type else "")
    if field.help_text:
        text += f": {field.help_text}"
    if extra:
        text += f". {extra}"
    target.metadata = {**target.metadata, "description": text}
    return target


def _own(field: FieldInfo) -> ma.fields.Field:
    """A copy of the type's own marshmallow field (its validators: length, choices …)."""
    shape = shape_of(field)
    own = copy.deepcopy(shape.ftype.marshmallow_field(shape))
    own.required = False
    own.allow_none = True
    if isinstance(own, ma.fields.URL):
        own.metadata = {**own.metadata, "format": "uri"}
    if isinstance(own, ma.fields.Integer):
        own.metadata = {**own.metadata, "minimum": MIN_INT, "maximum": MAX_INT, "format": "int64"}
    return own


def read_field(field: FieldInfo) -> ma.fields.Field:
    shape = shape_of(field)
    kind = shape.type
    nullable = not (field.system and field.api_name in ("id", "code", "version", "created_at", "modified_at"))
    if kind in LINK_TYPES:
        out: ma.fields.Field = ma.fields.Nested(S.LinkRef, allow_none=nullable)
    elif kind in MULTI_LINK_TYPES:
        out = ma.fields.List(ma.fields.Nested(S.LinkRef), allow_none=True)
    elif kind == "money":
        out = ma.fields.Nested(S.Money, allow_none=nullable)
    elif kind in DECIMAL_TYPES:
        out = ma.fields.String(allow_none=nullable, metadata={"pattern": S.DECIMAL_OUT, "format": "decimal"})
    else:
        out = _own(field)
        out.allow_none = nullable
    out.dump_only = False
    return _describe(field, out)


def input_field(field: FieldInfo, partial: bool) -> ma.fields.Field:
    shape = shape_of(field)
    kind = shape.type
    nullable = partial or not field.required
    null = [{"type": "null"}] if nullable else []
    number_in = [{"type": "string", "pattern": S.DECIMAL_IN}, {"type": "number"}]
    if kind in LINK_TYPES:
        what = "the id of the linked record" if kind == "link" else "the id of a user"
        top = MAX_INT if kind == "link" else 2**31 - 1  # record ids are BIGINT, user ids INTEGER
        out: ma.fields.Field = ma.fields.Integer(allow_none=nullable, metadata={
            "minimum": 1, "maximum": top, "format": "int64" if kind == "link" else "int32"})
        return _describe(field, out, f"Written as {what}")
    if kind in MULTI_LINK_TYPES:
        out = ma.fields.List(ma.fields.Integer(metadata={"minimum": 1, "maximum": MAX_INT, "format": "int64"}),
                             allow_none=True, metadata={"maxItems": int(shape.options.get("max_links") or MAX_LINKS)})
        return _describe(field, out, "Written as a list of ids of the linked records; it replaces the whole set "
                                     "([] or null empties it)")
    if kind == "money":
        out = ma.fields.Raw(allow_none=nullable, metadata={"anyOf": [
            *number_in, {"$ref": "#/components/schemas/MoneyInput"}, *null]})
        return _describe(field, out, "An amount (in the field's currency) or {amount, currency}")
    if kind in DECIMAL_TYPES:
        out = ma.fields.Raw(allow_none=nullable, metadata={"anyOf": [*number_in, *null]})
        return _describe(field, out, "A decimal as a string (\"12.50\") or a number")
    out = _own(field)
    out.allow_none = nullable
    return _describe(field, out)


def cache_clear() -> None:  # tests
    current_app.extensions.pop("cardbase_openapi", None)
