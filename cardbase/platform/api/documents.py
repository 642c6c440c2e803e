"""Word templates and documents over the API (issue 16, point 8).

``/api/v1/objects/{object}/templates`` lists (everyone: the templates they may use;
callers who may configure the object: all, with their validation report) and uploads a
template (multipart: ``file``, ``name``, ``description``, ``language``, ``groups``);
``/templates/{id}`` reads, changes (multipart with an optional new ``file``, which becomes
the next version, or JSON without one) and deletes it; ``/templates/{id}/file`` downloads
a version, ``/templates/starter`` a starter template generated from the metadata.
``POST /api/v1/records/{object}/{id}/documents/{template}`` answers the filled document
(``?format=pdf`` where LibreOffice is installed) and ``POST /api/v1/records/{object}/documents/{template}``
with ``{"ids": [...]}`` a .zip of several. Everything goes through ``cardbase.doc_templates``:
the same checks, rights and limits as the browser. A template that does not fit the
metadata is refused with 422 and ``problems`` (each with its text, place and suggestion).
"""
from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from cardbase.doc_templates import documents, storage
from cardbase.doc_templates.limits import MAX_UPLOAD_BYTES
from cardbase.doc_templates.package import check_size
from cardbase.doc_templates.render import DOCX_TYPE, TemplateProblems
from cardbase.doc_templates.starter import starter_template
from cardbase.schema_engine.errors import ValidationError

from ..context import get_store
from .auth import api_actor
from .blueprint import bp
from .errors import ApiError, bad_request, error_response
from .http import arg_int, arg_text, is_json_type, json_object, json_response, no_content, record_id, \
    reject_unknown, small_id
from .records import reading

BASE = "/v1/objects/<object_name>/templates"
FORM_KEYS = {"file", "name", "description", "language", "groups"}
MULTIPART_SLACK = 256 * 1024  # the form fields and boundaries around the file


@bp.errorhandler(TemplateProblems)
def _problems(exc: TemplateProblems) -> Response:
    return error_response(422, "validation_error", exc.message, exc.errors, {"problems": exc.problems})


def _upload() -> dict[str, Any]:
    """The multipart form: its fields and, if sent, the file (refused past the limit before
    the body is read)."""
    if request.content_length is not None and request.content_length > MAX_UPLOAD_BYTES + MULTIPART_SLACK:
        try:
            check_size(request.content_length)
        except ValidationError as exc:
            raise ApiError(413, exc.errors["file"][0], fields=exc.errors) from None
    request.max_content_length = MAX_UPLOAD_BYTES + MULTIPART_SLACK
    if request.mimetype != "multipart/form-data":
        raise ApiError(415, "send the template as multipart/form-data with the .docx in the field 'file'")
    reject_unknown({**request.form, **request.files}, FORM_KEYS, "a template upload")
    values: dict[str, Any] = {k: request.form[k] for k in ("name", "description", "language") if k in request.form}
    if "groups" in request.form:
        values["groups"] = [g.strip() for g in request.form.getlist("groups") for g in g.split(",") if g.strip()]
    upload = request.files.get("file")
    if upload is not None:
        content = upload.read(MAX_UPLOAD_BYTES + 1)
        check_size(len(content) if len(content) <= MAX_UPLOAD_BYTES else MAX_UPLOAD_BYTES + 1)
        values["filename"], values["content"] = upload.filename or "template.docx", content
    return values


def _may_configure(object_name: str) -> bool:
    s = reading()
    return s.can(object_name, "configure")


@bp.get(BASE)
def list_templates(object_name: str):
    manage = _may_configure(object_name)
    return json_response({"data": storage.list_templates(get_store(), api_actor(), object_name, manage=manage)})


@bp.post(BASE)
def create_template(object_name: str):
    values = _upload()
    if "content" not in values:
        raise bad_request("send the .docx in the form field 'file'", "file")
    template = storage.create_template(get_store(), api_actor(), object_name, name=values.get("name"),
                                       description=values.get("description", ""),
                                       language=values.get("language", "en"), groups=values.get("groups"),
                                       filename=values["filename"], content=values["content"])
    location = url_for("api.get_template", object_name=object_name, template_ref=template["id"])
    return json_response(template, 201, {"Location": location})


@bp.get(f"{BASE}/starter")
def starter(object_name: str):
    s = reading()
    obj = s.require(object_name, "configure")
    language = arg_text("language", 5) or "en"
    if language not in ("en", "de", "pl"):
        raise bad_request(f"'{language}' is not a document language: use en, de or pl", "language")
    return _file(starter_template(s.schema, obj, language), f"{obj.api_name}-starter.docx", DOCX_TYPE)


@bp.get(f"{BASE}/<template_ref>")
def get_template(object_name: str, template_ref: str):
    return json_response(storage.get_template(get_store(), api_actor(), object_name,
                                              small_id(template_ref, "template_id")))


@bp.get(f"{BASE}/<template_ref>/file")
def template_file(object_name: str, template_ref: str):
    name, content = storage.template_content(get_store(), api_actor(), object_name,
                                             small_id(template_ref, "template_id"), arg_int("version", 2**31 - 1))
    return _file(content, name, DOCX_TYPE)


@bp.put(f"{BASE}/<template_ref>")
def update_template(object_name: str, template_ref: str):
    template_id = small_id(template_ref, "template_id")
    if is_json_type():
        values: dict[str, Any] = json_object()
        reject_unknown(values, FORM_KEYS - {"file"}, "a template")
    else:
        values = _upload()
    template = storage.update_template(get_store(), api_actor(), object_name, template_id, **values)
    return json_response(template)


@bp.delete(f"{BASE}/<template_ref>")
def delete_template(object_name: str, template_ref: str):
    storage.delete_template(get_store(), api_actor(), object_name, small_id(template_ref, "template_id"))
    return no_content()


def _fmt() -> str:
    return arg_text("format", 10) or "docx"


@bp.post("/v1/records/<object_name>/<rid>/documents/<template_ref>")
def make_document(object_name: str, rid: str, template_ref: str):
    document = documents.render_document(reading(), object_name, small_id(template_ref, "template"),
                                         record_id(rid), _fmt())
    return _file(document.content, document.filename, document.mimetype)


@bp.post("/v1/records/<object_name>/documents/<template_ref>")
def make_archive(object_name: str, template_ref: str):
    body = json_object()
    reject_unknown(body, {"ids"}, "a bulk document request")
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise bad_request("'ids' must be a list of record ids", "ids")
    document = documents.render_archive(reading(), object_name, small_id(template_ref, "template"), ids, _fmt())
    return _file(document.content, document.filename, document.mimetype)


def _file(content: bytes, filename: str, mimetype: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
