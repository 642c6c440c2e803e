"""The OpenAPI paths of Word templates and documents (``api/documents.py``): the template
endpoints for the objects the caller may configure or print, the document endpoints for
each object the caller may print. PDF is in the description only where LibreOffice is
installed."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cardbase.doc_templates import documents
from cardbase.doc_templates.formatting import LANGUAGES
from cardbase.doc_templates.limits import MAX_BULK_DOCUMENTS, MAX_UPLOAD_BYTES
from cardbase.doc_templates.render import DOCX_TYPE

from .openapi import ID_SCHEMA, NO_CONTENT, READ, SMALL_ID, WRITE, ok_json, path_param, responses

if TYPE_CHECKING:  # pragma: no cover
    from .openapi import _Builder

PROBLEM = {"type": "object", "properties": {
    "text": {"type": "string", "description": "the tag as written"},
    "place": {"type": "string", "description": "e.g. 'paragraph 3' or 'table 1, row 2, cell 3'"},
    "message": {"type": "string"}, "suggestion": {"type": ["string", "null"], "description": "did you mean"}}}
TEMPLATE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "object": {"type": "string"}, "name": {"type": "string"},
    "description": {"type": "string"}, "language": {"type": "string", "enum": list(LANGUAGES)},
    "groups": {"type": "array", "items": {"type": "string"}, "description": "empty: everyone with the print right"},
    "version": {"type": "integer"}, "filename": {"type": "string"}, "size": {"type": "integer"},
    "modified_at": {"type": "string", "format": "date-time"},
    "versions": {"type": "array", "items": {"type": "object"}},
    "problems": {"type": "array", "items": {"$ref": "#/components/schemas/DocTemplateProblem"},
                 "description": "the template checked against today's metadata (who may configure the object)"}}}
UPLOAD = {"type": "object", "properties": {
    "file": {"type": "string", "format": "binary", "description": f"the .docx, at most {MAX_UPLOAD_BYTES // 2**20} MB"},
    "name": {"type": "string", "maxLength": 200}, "description": {"type": "string", "maxLength": 2000},
    "language": {"type": "string", "enum": list(LANGUAGES), "description": "of numbers, dates and words"},
    "groups": {"type": "string", "description": "group names, comma-separated (none: everyone who may print)"}}}


def _multipart(required: bool) -> dict[str, Any]:
    schema = dict(UPLOAD, required=["file", "name"]) if required else UPLOAD
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


def _file(types: list[str], description: str) -> dict[str, Any]:
    return {"description": description, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                    for t in types},
            "headers": {"Content-Disposition": {"schema": {"type": "string"}}}}


def document_paths(b: "_Builder") -> None:
    b.spec.components.schema("DocTemplateProblem", PROBLEM)
    b.spec.components.schema("DocTemplate", TEMPLATE)
    b.spec.components.schema("DocTemplateList", {"type": "object", "properties": {
        "data": {"type": "array", "items": {"$ref": "#/components/schemas/DocTemplate"}}}})
    printable = [o for o in b.objects if b.can(o, "print")]
    if not (b.object_names or printable):
        return
    tag = b.tag("documents", "Word templates (.docx) of an object and documents filled from records")
    names = sorted(set(b.object_names) | {o.api_name for o in printable})
    obj = path_param("object_name", "the object's API name", {"type": "string", "enum": names})
    template = path_param("template_ref", "the template's id", SMALL_ID, example=1)
    base = "/api/v1/objects/{object_name}/templates"
    b.path(base, tag,
           get={"summary": "The object's templates (those you may use; all with their report if you may configure "
                           "the object)", "operationId": "listTemplates", "parameters": [obj],
                "responses": responses({200: ok_json("DocTemplateList")}, *READ)},
           post={"summary": "Upload a template (configure right): checked as a file and against the metadata",
                 "description": "Refused with 422 and `problems` (each tag's text, place and a did-you-mean) when "
                                "a placeholder names no field; with 413 past the size limit; with 422 for a "
                                "damaged, macro-enabled or externally linked file.",
                 "operationId": "createTemplate", "parameters": [obj], "requestBody": _multipart(True),
                 "responses": responses({201: ok_json("DocTemplate", "created")}, *WRITE)})
    b.path(f"{base}/starter", tag, get={
        "summary": "A starter template generated from the metadata: every field and child table",
        "operationId": "starterTemplate", "parameters": [obj, {"name": "language", "in": "query", "schema": {
            "type": "string", "enum": list(LANGUAGES)}}],
        "responses": responses({200: _file([DOCX_TYPE], "the .docx")}, *READ)})
    b.path(f"{base}/{{template_ref}}", tag,
           get={"summary": "A template with its versions and validation report", "operationId": "getTemplate",
                "parameters": [obj, template], "responses": responses({200: ok_json("DocTemplate")}, *READ)},
           put={"summary": "Change a template; a new file becomes its next version (multipart, or JSON without "
                           "a file)", "operationId": "updateTemplate", "parameters": [obj, template],
                "requestBody": _multipart(False), "responses": responses({200: ok_json("DocTemplate")}, *WRITE)},
           delete={"summary": "Delete a template and its versions", "operationId": "deleteTemplate",
                   "parameters": [obj, template], "responses": responses({204: NO_CONTENT}, *READ)})
    b.path(f"{base}/{{template_ref}}/file", tag, get={
        "summary": "Download a version of the template (default: the current one)", "operationId": "templateFile",
        "parameters": [obj, template, {"name": "version", "in": "query", "schema": SMALL_ID}],
        "responses": responses({200: _file([DOCX_TYPE], "the .docx")}, *READ)})
    formats = list(documents.formats())
    fmt = {"name": "format", "in": "query", "description": "docx" + (", or pdf (LibreOffice is installed)"
                                                                      if "pdf" in formats else ""),
           "schema": {"type": "string", "enum": formats}}
    types = [DOCX_TYPE] + (["application/pdf"] if "pdf" in formats else [])
    for o in printable:
        rid = path_param("id", f"the id of a {o.label} record", ID_SCHEMA, example=1)
        b.path(f"/api/v1/records/{o.api_name}/{{id}}/documents/{{template_ref}}", tag, post={
            "summary": f"Fill a template for a {o.label} record (print right; as you see the record)",
            "description": "A field the template uses but you may not read is refused naming it (403); child "
                           "records you may not see are not listed.",
            "operationId": f"document_{o.api_name}", "parameters": [rid, template, fmt],
            "responses": responses({200: _file(types, "the document")}, *READ, 422)})
        b.path(f"/api/v1/records/{o.api_name}/documents/{{template_ref}}", tag, post={
            "summary": f"Fill a template for up to {MAX_BULK_DOCUMENTS} {o.label_plural}: one .zip",
            "operationId": f"documents_{o.api_name}", "parameters": [template, fmt],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["ids"], "properties": {"ids": {
                    "type": "array", "items": ID_SCHEMA, "maxItems": MAX_BULK_DOCUMENTS}}}}}},
            "responses": responses({200: _file(["application/zip"], "the documents")}, *WRITE)})
