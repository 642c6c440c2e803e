"""Producing documents for channels (the card's Documents button, the list's bulk .zip,
the REST API): a template of the object, filled for records as the session's actor, as
.docx or -- when LibreOffice is installed -- PDF."""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import Sequence

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.i18n import _
from cardbase.schema_engine.snapshot import ObjectInfo
from cardbase.schema_engine.store.session import Session

from . import pdf
from .limits import MAX_BULK_DOCUMENTS
from .render import DOCX_TYPE, DocumentRenderer
from .storage import template_file

ZIP_TYPE = "application/zip"


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes
    mimetype: str


def formats() -> tuple[str, ...]:
    """The formats documents can be produced in on this server."""
    return ("docx", "pdf") if pdf.available() else ("docx",)


def _format(fmt: str) -> str:
    if fmt not in formats():
        if fmt == "pdf":
            raise ValidationError({"format": _("PDF is not available: LibreOffice is not installed on the server")})
        raise ValidationError({"format": _("%(value)s is not a document format; use one of %(formats)s",
                                           value=repr(fmt), formats=", ".join(formats()))})
    return fmt


def safe_filename(text: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", text, flags=re.UNICODE).strip(" ._")
    return cleaned[:120] or "document"


class DocumentMaker:
    """One template of ``obj``, checked once, producing documents for records."""

    def __init__(self, session: Session, obj_ref: str | int | ObjectInfo, template_id: int, fmt: str = "docx"):
        self.session = session
        self.obj = session.require_purpose(obj_ref, "print")
        self.format = _format(fmt)
        self.template = template_file(session, self.obj, template_id)
        self.renderer = DocumentRenderer(session, self.template)

    def document(self, record_id: int) -> Document:
        made = self._docx(record_id)
        if self.format == "pdf":
            return self._as_pdf([made])[0]
        return made

    def _docx(self, record_id: int) -> Document:
        code, content = self.renderer.render_named(record_id)
        return Document(safe_filename(f"{self.template.name} {code}") + ".docx", content, DOCX_TYPE)

    @staticmethod
    def _as_pdf(made: list[Document]) -> list[Document]:
        pdfs = pdf.to_pdfs([d.content for d in made])
        return [Document(d.filename[:-len(".docx")] + ".pdf", content, pdf.PDF_TYPE) for d, content in zip(made, pdfs)]

    def archive(self, record_ids: Sequence[int]) -> Document:
        """One .zip of the documents of ``record_ids``: all of them or none."""
        ids = list(dict.fromkeys(record_ids))
        if not ids:
            raise ValidationError({"ids": _("select at least one record")})
        if len(ids) > MAX_BULK_DOCUMENTS:
            raise ValidationError({"ids": _("at most %(limit)s documents at once", limit=MAX_BULK_DOCUMENTS)})
        made = [self._docx(rid) for rid in ids]
        if self.format == "pdf":
            made = self._as_pdf(made)  # one LibreOffice run for all of them
        out = io.BytesIO()
        used: set[str] = set()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for rid, document in zip(ids, made):
                name = document.filename
                if name in used:
                    stem, dot, ext = name.rpartition(".")
                    name = f"{stem} ({rid}).{ext}"
                used.add(name)
                archive.writestr(name, document.content)
        return Document(safe_filename(self.template.name) + ".zip", out.getvalue(), ZIP_TYPE)


def render_document(session: Session, obj_ref: str | int, template_id: int, record_id: int,
                    fmt: str = "docx") -> Document:
    return DocumentMaker(session, obj_ref, template_id, fmt).document(record_id)


def render_archive(session: Session, obj_ref: str | int, template_id: int, record_ids: Sequence[int],
                   fmt: str = "docx") -> Document:
    return DocumentMaker(session, obj_ref, template_id, fmt).archive(record_ids)
