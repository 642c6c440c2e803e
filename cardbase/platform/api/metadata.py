"""Metadata: object types and their fields, addressed by API name.

Reads need the configure right on the object (admins: everything), which the request's
engine session answers; changes go through the app's one schema service, which checks the
same right (new and deleted objects: admins) and runs each change -- metadata rows and
DDL -- as one transaction of its own (the request only ever holds a read session), and the
answer is built from the new snapshot.

Object JSON: {"name", "label", "label_plural", "description", "code_pattern",
"display_field", "position", "fields": [...]}; field JSON: {"name", "label", "type",
"required", "unique", "default", "options", "help_text", "position"} with the options in
portable form (object and field names, formulas with names: each field type's
``export_options``), plus "rules" ({"visible_when", "required_when", "readonly_when"},
conditions with field names) when the field has conditional rules (docs/field_rules.md).
"""
from __future__ import annotations

from typing import Any

from flask import url_for

from cardbase.schema_engine.errors import Forbidden, NotFound, ValidationError
from cardbase.schema_engine.field_rules import rules_of
from cardbase.schema_engine.field_sources import source_of
from cardbase.schema_engine.field_types.base import FieldContext
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema

from ..context import engine_session, get_db, get_schema_service
from .auth import api_actor
from .blueprint import bp
from .http import json_object, json_response, no_content


def field_json(schema: Schema, obj: ObjectInfo, field: FieldInfo) -> dict[str, Any]:
    out = {"name": field.api_name, "label": field.label, "type": field.type, "required": field.required,
           "unique": field.unique, "default": field.default,
           "options": field.ftype.export_options(field.options, FieldContext(schema, obj, field.id)),
           "help_text": field.help_text, "position": field.position}
    if field.rules:
        out["rules"] = rules_of(field, obj)
    if field.source:
        out["source"] = source_of(schema, field)  # filled from the linked record (issue 14, point 4)
    return out


def object_json(schema: Schema, obj: ObjectInfo) -> dict[str, Any]:
    return {"name": obj.api_name, "label": obj.label, "label_plural": obj.label_plural,
            "description": obj.description, "code_pattern": obj.code_pattern,
            "display_field": obj.display_field_name, "position": obj.position,
            "fields": [field_json(schema, obj, f) for f in obj.user_fields]}


def configurable_object(name: str) -> tuple[Schema, ObjectInfo]:
    """The object, if the caller may configure it: unknown is 404, not allowed 403."""
    s = engine_session()
    schema = s.schema
    if not schema.has_object(name):
        raise NotFound(f"there is no object '{name}'")
    obj = schema.object(name)
    if not s.can(obj, "configure"):
        raise Forbidden(f"changing the configuration of '{obj.label_plural}' needs the configure right")
    return schema, obj


def _field(obj: ObjectInfo, name: str) -> FieldInfo:
    field = obj.fields_by_name.get(name)
    if field is None or field.system:
        raise NotFound(f"object '{obj.api_name}' has no field '{name}'")
    return field


def _service() -> SchemaService:
    return get_schema_service()


def _fresh_object(name: str) -> dict[str, Any]:
    schema = get_db().schema()
    return object_json(schema, schema.object(name))


# ---- objects ------------------------------------------------------------------------------------
@bp.get("/v1/objects")
def list_objects():
    s = engine_session()
    schema = s.schema
    configurable = {o.id for o in s.objects_with("configure")}  # admins: every object
    if not s.actor.is_admin and not configurable:
        raise Forbidden("the configuration needs the configure right")
    shown = [o for o in schema.objects if o.id in configurable]
    return json_response({"data": [object_json(schema, o) for o in shown]})


@bp.post("/v1/objects")
def create_object():
    body = json_object()
    obj = _service().create_object(api_actor(), body)
    return json_response(_fresh_object(obj.api_name), 201,
                         {"Location": url_for("api.get_object", object_name=obj.api_name)})


@bp.get("/v1/objects/<object_name>")
def get_object(object_name: str):
    schema, obj = configurable_object(object_name)
    return json_response(object_json(schema, obj))


@bp.patch("/v1/objects/<object_name>")
def update_object(object_name: str):
    body = json_object()
    configurable_object(object_name)
    if "fields" in body:
        raise ValidationError({"fields": f"change fields one by one through /api/v1/objects/{object_name}/fields"})
    obj = _service().update_object(api_actor(), object_name, body)
    return json_response(_fresh_object(obj.api_name))


@bp.delete("/v1/objects/<object_name>")
def delete_object(object_name: str):
    configurable_object(object_name)
    _service().delete_object(api_actor(), object_name)
    return no_content()


# ---- fields -------------------------------------------------------------------------------------
@bp.get("/v1/objects/<object_name>/fields")
def list_fields(object_name: str):
    schema, obj = configurable_object(object_name)
    return json_response({"data": [field_json(schema, obj, f) for f in obj.user_fields]})


@bp.post("/v1/objects/<object_name>/fields")
def add_field(object_name: str):
    body = json_object()
    configurable_object(object_name)
    field = _service().add_field(api_actor(), object_name, body)
    schema = get_db().schema()
    obj = schema.object(field.object_id)
    return json_response(field_json(schema, obj, schema.field_by_id(field.id)), 201,
                         {"Location": url_for("api.get_field", object_name=obj.api_name, field_name=field.api_name)})


@bp.get("/v1/objects/<object_name>/fields/<field_name>")
def get_field(object_name: str, field_name: str):
    schema, obj = configurable_object(object_name)
    return json_response(field_json(schema, obj, _field(obj, field_name)))


@bp.patch("/v1/objects/<object_name>/fields/<field_name>")
def update_field(object_name: str, field_name: str):
    body = json_object()
    _schema, obj = configurable_object(object_name)
    _field(obj, field_name)
    field = _service().update_field(api_actor(), object_name, field_name, body)
    schema = get_db().schema()
    obj = schema.object(field.object_id)
    return json_response(field_json(schema, obj, schema.field_by_id(field.id)))


@bp.delete("/v1/objects/<object_name>/fields/<field_name>")
def delete_field(object_name: str, field_name: str):
    _schema, obj = configurable_object(object_name)
    _field(obj, field_name)
    _service().remove_field(api_actor(), object_name, field_name)
    return no_content()
