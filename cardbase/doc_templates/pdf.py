"""PDF from a filled .docx with LibreOffice (``soffice --headless --convert-to pdf``), when
it is installed; otherwise the PDF option is not offered anywhere (``available``). Each
conversion runs in a temporary directory with a profile of its own, so conversions in
parallel do not share LibreOffice's lock, and is stopped after ``TIMEOUT`` seconds."""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.i18n import _

TIMEOUT = 120
PDF_TYPE = "application/pdf"


def soffice() -> str | None:
    """The LibreOffice program, if installed (CARDBASE_SOFFICE names another)."""
    named = os.environ.get("CARDBASE_SOFFICE")
    if named:
        return shutil.which(named)
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice() is not None


def to_pdf(document: bytes) -> bytes:
    return to_pdfs([document])[0]


def to_pdfs(documents: list[bytes]) -> list[bytes]:
    """PDFs of several .docx files in one LibreOffice run (it starts once: a .zip of PDFs
    costs one start-up, not one per document)."""
    program = soffice()
    if program is None:
        raise ValidationError({"format": _("PDF is not available: LibreOffice is not installed on the server")})
    with tempfile.TemporaryDirectory(prefix="cardbase-pdf-") as tmp:
        sources = []
        for i, document in enumerate(documents):
            source = Path(tmp) / f"document-{i}.docx"
            source.write_bytes(document)
            sources.append(source)
        command = [program, "--headless", "--norestore", "--nolockcheck",
                   f"-env:UserInstallation={Path(tmp, 'profile').as_uri()}",
                   "--convert-to", "pdf", "--outdir", tmp, *map(str, sources)]
        try:
            subprocess.run(command, check=True, timeout=TIMEOUT + 2 * len(documents), capture_output=True, cwd=tmp,
                           env={**os.environ, "HOME": tmp})
        except (subprocess.SubprocessError, OSError) as exc:
            raise ValidationError({"format": _("the PDF could not be made: %(reason)s",
                                               reason=type(exc).__name__)}) from None
        results = [source.with_suffix(".pdf") for source in sources]
        if not all(r.exists() for r in results):
            raise ValidationError({"format": _("the PDF could not be made: %(reason)s", reason="no output")})
        return [r.read_bytes() for r in results]
