"""Documents in the browser (issue 16, point 6): the card's "Documents" menu (each template
the user may use, as .docx and -- where LibreOffice is installed -- PDF) and the list's
"Documents for the selection" (one .zip). Everything goes through ``doc_templates`` in the
request's engine session: the print right, the template's groups, the user's row filter
and field mask, the sandbox and its limits, exactly as in the API."""
from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_babel import gettext as _

from cardbase.doc_templates import documents, storage
from cardbase.doc_templates.limits import MAX_BULK_DOCUMENTS
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.snapshot import ObjectInfo

from .bulk import SELECT
from .engine import engine_session
from .errors import error_page

bp = Blueprint("documents", __name__)
_ROW = re.compile(r"(\d{1,12}):\d{1,9}")


@bp.errorhandler(CardbaseError)
def _engine_error(exc: CardbaseError):
    if isinstance(exc, ValidationError) and exc.errors:
        message = " ".join(m for msgs in exc.errors.values() for m in msgs)
        return error_page(message, 422, _("The document could not be made"))
    return error_page(exc.message, exc.status if exc.status in (403, 404) else 400)


def document_templates(obj: ObjectInfo) -> list[dict[str, Any]]:
    """The templates of ``obj`` the signed-in user may fill (for the card's menu and the
    list's selection bar), in the request's session; empty without the print right."""
    return storage.usable_templates(engine_session(), obj)


def document_formats() -> tuple[str, ...]:
    return documents.formats()


@bp.get("/o/<object_name>/<int:record_id>/documents/<int:template_id>")
def document(object_name: str, record_id: int, template_id: int):
    made = documents.render_document(engine_session(), object_name, template_id, record_id,
                                     request.args.get("format", "docx"))
    return _download(made)


@bp.post("/o/<object_name>/documents")
def selection(object_name: str):
    back = _back(object_name)
    ids = []
    for item in request.form.getlist(SELECT):
        m = _ROW.fullmatch(item.strip())
        if m is None:
            flash(_("'%(value)s' is not a record of this list.", value=item[:40]), "danger")
            return redirect(back)
        ids.append(int(m.group(1)))
    if not ids:
        flash(_("No documents were made: select at least one record first."), "danger")
        return redirect(back)
    if len(ids) > MAX_BULK_DOCUMENTS:
        flash(_("No documents were made: at most %(max)s at once, and %(n)s were selected.",
                max=MAX_BULK_DOCUMENTS, n=len(ids)), "danger")
        return redirect(back)
    raw = request.form.get("template", "")
    if not raw.isdigit():
        flash(_("Choose a template."), "danger")
        return redirect(back)
    try:
        made = documents.render_archive(engine_session(), object_name, int(raw), ids,
                                        request.form.get("format", "docx"))
    except CardbaseError as exc:
        message = " ".join(m for msgs in exc.errors.values() for m in msgs) \
            if isinstance(exc, ValidationError) and exc.errors else exc.message
        flash(_("No documents were made: %(problem)s", problem=message), "danger")
        return redirect(back)
    return _download(made)


def _back(object_name: str) -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("lists.index", object_name=object_name)


def _download(made: documents.Document) -> Response:
    response = Response(made.content, mimetype=made.mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=made.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)
    app.add_template_global(document_templates, "document_templates")
    app.add_template_global(document_formats, "document_formats")
