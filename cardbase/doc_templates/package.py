"""Is an upload a plain Word document we are willing to keep and fill?

Refused, each with a message naming the problem: too large, not a .docx (damaged, another
kind of file), macro-enabled (.docm, a VBA project, ActiveX controls), or with links to
outside files or addresses Word would fetch when the document opens (a linked template,
image, OLE object, sub-document or frame). Hyperlinks stay: they are only followed when
a reader clicks them."""
from __future__ import annotations

import io
import posixpath
import zipfile

from lxml import etree

from cardbase.schema_engine.errors import ValidationError
from cardbase.schema_engine.i18n import _

from .limits import MAX_PARTS, MAX_UNPACKED_BYTES, MAX_UPLOAD_BYTES

MAIN_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
MACRO_TYPES = ("macroEnabled", "vbaProject", "ms-office.activeX")
HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}"


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": message})


def check_size(size: int) -> None:
    if size > MAX_UPLOAD_BYTES:
        raise _refuse(_("the file is %(size)s MB; a template may have at most %(limit)s MB",
                        size=megabytes(size), limit=MAX_UPLOAD_BYTES // (1024 * 1024)))


def check_docx(content: bytes, filename: str = "template.docx") -> None:
    """Raise ValidationError (key "file") unless ``content`` is a .docx we can keep."""
    check_size(len(content))
    extension = posixpath.splitext(filename.lower())[1]
    if extension in (".docm", ".dotm"):
        raise _refuse(_("%(name)s is a macro-enabled document: save it in Word as a plain .docx", name=filename))
    if extension != ".docx":
        raise _refuse(_("%(name)s is not a Word document: upload a .docx file", name=filename))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _refuse(_("%(name)s is damaged or not a Word document (.docx)", name=filename)) from None
    with archive:
        if len(infos) > MAX_PARTS or sum(i.file_size for i in infos) > MAX_UNPACKED_BYTES:
            raise _refuse(_("%(name)s unpacks to more than %(limit)s MB", name=filename,
                            limit=MAX_UNPACKED_BYTES // (1024 * 1024)))
        names = {i.filename for i in infos}
        if any(n.lower().endswith("vbaproject.bin") or n.lower().startswith("word/activex/") for n in names):
            raise _refuse(_("%(name)s contains macros or ActiveX controls: save it in Word as a plain .docx",
                            name=filename))
        types = _content_types(archive, names, filename)
        if any(marker in t for t in types for marker in MACRO_TYPES):
            raise _refuse(_("%(name)s contains macros or ActiveX controls: save it in Word as a plain .docx",
                            name=filename))
        if MAIN_TYPE not in types:
            raise _refuse(_("%(name)s is damaged or not a Word document (.docx)", name=filename))
        for rels in sorted(n for n in names if n.endswith(".rels")):
            _check_relationships(archive, rels, filename)
    _check_opens(content, filename)


def _xml(archive: zipfile.ZipFile, name: str, filename: str) -> etree._Element:
    try:
        return etree.fromstring(archive.read(name), _PARSER)
    except (etree.XMLSyntaxError, zipfile.BadZipFile, KeyError, OSError, ValueError):
        raise _refuse(_("%(name)s is damaged or not a Word document (.docx)", name=filename)) from None


def _content_types(archive: zipfile.ZipFile, names: set[str], filename: str) -> set[str]:
    if "[Content_Types].xml" not in names:
        raise _refuse(_("%(name)s is damaged or not a Word document (.docx)", name=filename))
    root = _xml(archive, "[Content_Types].xml", filename)
    return {el.get("ContentType", "") for el in root if el.tag in (f"{_CT}Override", f"{_CT}Default")}


def _check_relationships(archive: zipfile.ZipFile, name: str, filename: str) -> None:
    for rel in _xml(archive, name, filename).iter(_REL):
        if rel.get("TargetMode") == "External" and rel.get("Type") != HYPERLINK:
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1] or "?"
            raise _refuse(_("%(name)s links to an outside file or address (%(kind)s: %(target)s) that Word would "
                            "fetch when it opens; embed it instead", name=filename, kind=kind,
                            target=(rel.get("Target") or "")[:200]))


def _check_opens(content: bytes, filename: str) -> None:
    import docx

    try:
        docx.Document(io.BytesIO(content))
    except Exception:  # python-docx raises many kinds for a broken package
        raise _refuse(_("%(name)s is damaged or not a Word document (.docx)", name=filename)) from None
