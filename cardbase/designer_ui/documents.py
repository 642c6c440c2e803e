"""Word templates in the configurator (issue 16, point 6): an object's templates with
their validation reports, upload (a new template or a new version), name, description,
language and groups, versions to download, delete, a starter template generated from the
metadata and a placeholder cheat-sheet to copy from. Everything goes through
``doc_templates.storage`` with the acting user (it checks the configure right, the file
and the placeholders: a refused upload changes nothing and shows each problem with its
text, place and a "did you mean")."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.doc_templates import storage
from cardbase.doc_templates.cheatsheet import cheat_sheet
from cardbase.doc_templates.formatting import LANGUAGE_NAMES, LANGUAGES
from cardbase.doc_templates.limits import MAX_UPLOAD_BYTES
from cardbase.doc_templates.package import megabytes
from cardbase.doc_templates.render import DOCX_TYPE, TemplateProblems
from cardbase.doc_templates.starter import starter_template
from cardbase.platform.context import current_actor, get_db, get_store
from cardbase.platform.i18n import current_language
from cardbase.schema_engine.errors import CardbaseError, NotFound
from cardbase.schema_engine.meta_models import Group

from . import bp
from .common import configurable_object
from .support import error_list

SLACK = 256 * 1024  # form fields around the file


def _groups() -> list[str]:
    with get_db().read() as conn:
        return list(conn.execute(sa.select(Group.name).order_by(Group.name)).scalars())


def _language_choices() -> list[tuple[str, str]]:
    return [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


def _form_values() -> dict[str, Any]:
    values: dict[str, Any] = {"name": request.form.get("name", ""), "description": request.form.get("description", ""),
                              "language": request.form.get("language", "en"),
                              "groups": request.form.getlist("groups")}
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        values["filename"], values["content"] = upload.filename, upload.read(MAX_UPLOAD_BYTES + 1)
    return values


def _too_large() -> str | None:
    size = request.content_length
    if size is not None and size > MAX_UPLOAD_BYTES + SLACK:
        return _("The file is %(size)s MB; a template may have at most %(limit)s MB.", size=megabytes(size),
                 limit=MAX_UPLOAD_BYTES // (1024 * 1024))
    return None


def _index_page(object_name: str, *, errors: list[str] | None = None, problems: list[dict] | None = None,
                form: dict[str, Any] | None = None, status: int = 200):
    schema, obj = configurable_object(object_name)
    templates = storage.list_templates(get_store(), current_actor(), obj.api_name, manage=True)
    return render_template("designer/documents/index.html", obj=obj, templates=templates, errors=errors or [],
                           problems=problems or [], form=form or {"language": "en", "groups": []},
                           groups=_groups(), languages=_language_choices(),
                           sheet=cheat_sheet(schema, obj, current_language()),
                           max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), status


@bp.route("/objects/<object_name>/templates")
def templates_index(object_name: str):
    return _index_page(object_name)


@bp.route("/objects/<object_name>/templates", methods=["POST"])
def templates_upload(object_name: str):
    _schema, obj = configurable_object(object_name)
    too_large = _too_large()
    if too_large:
        return _index_page(object_name, errors=[too_large], status=413)
    request.max_content_length = MAX_UPLOAD_BYTES + SLACK
    values = _form_values()
    if "content" not in values:
        return _index_page(object_name, errors=[_("Choose the .docx file to upload.")], form=values, status=422)
    try:
        created = storage.create_template(get_store(), current_actor(), obj.api_name, **values)
    except TemplateProblems as exc:
        return _index_page(object_name, errors=[_("The template was not saved: some placeholders do not fit the "
                                                  "metadata.")], problems=exc.problems, form=values, status=422)
    except CardbaseError as exc:
        return _index_page(object_name, errors=error_list(exc), form=values, status=exc.status)
    flash(_("Template '%(name)s' saved.", name=created["name"]), "success")
    return redirect(url_for("designer.template_edit", object_name=obj.api_name, template_id=created["id"]))


def _edit_page(object_name: str, template_id: int, *, errors: list[str] | None = None,
               problems: list[dict] | None = None, status: int = 200):
    schema, obj = configurable_object(object_name)
    try:
        template = storage.get_template(get_store(), current_actor(), obj.api_name, template_id)
    except NotFound as exc:
        return render_template("error.html", title=_("Not found"), message=exc.message), 404
    return render_template("designer/documents/edit.html", obj=obj, template=template, errors=errors or [],
                           upload_problems=problems or [], groups=_groups(), languages=_language_choices(),
                           sheet=cheat_sheet(schema, obj, current_language()),
                           max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), status


@bp.route("/objects/<object_name>/templates/<int:template_id>")
def template_edit(object_name: str, template_id: int):
    return _edit_page(object_name, template_id)


@bp.route("/objects/<object_name>/templates/<int:template_id>", methods=["POST"])
def template_update(object_name: str, template_id: int):
    _schema, obj = configurable_object(object_name)
    too_large = _too_large()
    if too_large:
        return _edit_page(object_name, template_id, errors=[too_large], status=413)
    request.max_content_length = MAX_UPLOAD_BYTES + SLACK
    values = _form_values()
    try:
        storage.update_template(get_store(), current_actor(), obj.api_name, template_id, **values)
    except TemplateProblems as exc:
        return _edit_page(object_name, template_id, errors=[_("The new version was not saved: some placeholders do "
                                                              "not fit the metadata.")], problems=exc.problems,
                          status=422)
    except CardbaseError as exc:
        return _edit_page(object_name, template_id, errors=error_list(exc), status=exc.status)
    flash(_("Template saved."), "success")
    return redirect(url_for("designer.template_edit", object_name=obj.api_name, template_id=template_id))


@bp.route("/objects/<object_name>/templates/<int:template_id>/delete", methods=["POST"])
def template_delete(object_name: str, template_id: int):
    _schema, obj = configurable_object(object_name)
    try:
        storage.delete_template(get_store(), current_actor(), obj.api_name, template_id)
    except CardbaseError as exc:
        return _edit_page(object_name, template_id, errors=error_list(exc), status=exc.status)
    flash(_("Template deleted."), "success")
    return redirect(url_for("designer.templates_index", object_name=obj.api_name))


@bp.route("/objects/<object_name>/templates/<int:template_id>/file")
def template_file(object_name: str, template_id: int):
    _schema, obj = configurable_object(object_name)
    number = request.args.get("version", type=int)
    try:
        filename, content = storage.template_content(get_store(), current_actor(), obj.api_name, template_id, number)
    except NotFound as exc:
        return render_template("error.html", title=_("Not found"), message=exc.message), 404
    return _download(content, filename)


@bp.route("/objects/<object_name>/templates/starter.docx")
def template_starter(object_name: str):
    schema, obj = configurable_object(object_name)
    language = request.args.get("language", "en")
    if language not in LANGUAGES:
        language = "en"
    return _download(starter_template(schema, obj, language), f"{obj.api_name}-starter.docx")


def _download(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype=DOCX_TYPE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
