"""Streaming readers of spreadsheet files: CSV (delimiter sniffed, encoding detected, BOM
handled) and XLSX (openpyxl read-only: formula cells come back as their text, never
evaluated). A reader yields one row at a time, so memory stays bounded whatever the file's
size; limits (size, columns) are checked before anything is imported."""
from __future__ import annotations

import codecs
import csv
import io
import os
from dataclasses import dataclass, field
from typing import IO, Any, Iterator

from ..schema_engine.errors import ValidationError
from ..schema_engine.i18n import _

MAX_COLUMNS = 500
SNIFF_BYTES = 64 * 1024
DEFAULT_MAX_MB = 512


def max_file_bytes() -> int:
    """The size limit of an import file (``CARDBASE_IMPORT_MAX_MB``, default 512 MB)."""
    try:
        return int(float(os.environ.get("CARDBASE_IMPORT_MAX_MB", DEFAULT_MAX_MB)) * 1024 * 1024)
    except ValueError:
        return DEFAULT_MAX_MB * 1024 * 1024


def check_size(size: int, limit: int | None = None) -> None:
    """Refuse a file over the limit before reading it, naming the limit."""
    limit = max_file_bytes() if limit is None else limit
    if size > limit:
        raise ValidationError({"file": _("is %(size)s MB; the limit is %(limit)s MB", size=f"{size / 1048576:.1f}",
                                         limit=f"{limit / 1048576:.0f}")})


@dataclass
class Sheet:
    """A table read from a file: ``rows()`` yields (line number, cells) from the first line."""

    kind: str
    source: Any
    sheets: list[str] = field(default_factory=list)
    sheet: str | None = None
    encoding: str | None = None
    delimiter: str | None = None

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        reader = _csv_rows if self.kind == "csv" else _xlsx_rows
        for line, cells in reader(self):
            if len(cells) > MAX_COLUMNS:
                raise ValidationError({"file": _("line %(line)s has %(count)s columns; at most %(limit)s columns can "
                                                 "be imported", line=line, count=f"{len(cells):,}", limit=MAX_COLUMNS)})
            yield line, cells


def open_sheet(path: str, *, name: str | None = None, sheet: str | None = None, encoding: str | None = None,
               delimiter: str | None = None, limit: int | None = None) -> Sheet:
    """The file at ``path`` as a Sheet; its kind from the name (``.xlsx``) or its first bytes."""
    check_size(os.path.getsize(path), limit)
    with open(path, "rb") as fh:
        head = fh.read(4)
    name = (name or path).lower()
    if name.endswith((".xlsx", ".xlsm")) or head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, sheet)
    if name.endswith(".xls"):
        raise ValidationError({"file": "old .xls workbooks cannot be read: save the sheet as .xlsx or CSV"})
    return _open_csv(path, encoding, delimiter)


# ---- CSV -----------------------------------------------------------------------------------------
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
FALLBACK = "cp1252"  # what Excel on Windows writes for "CSV" in western Europe


def detect_encoding(sample: bytes) -> str:
    """The file's encoding from its first bytes: a BOM, else UTF-8 if the sample decodes,
    else Windows-1252; a sample with valid UTF-8 letters *and* bytes that are not UTF-8 is
    refused as mixed."""
    for bom, enc in _BOMS:
        if sample.startswith(bom):
            return enc
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    line = sample.count(b"\n", 0, bad_at) + 1
    if any(_is_utf8_letter(chunk) for chunk in sample.split(b"\n")):
        raise ValidationError({"file": _("mixes encodings: some lines are UTF-8, line %(line)s is not "
                                         "(save the whole file as UTF-8)", line=line)})
    return FALLBACK


def _is_utf8_letter(chunk: bytes) -> bool:
    """Does the chunk hold non-ASCII text that is valid UTF-8?"""
    if chunk.isascii():
        return False
    try:
        chunk.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _open_csv(path: str, encoding: str | None, delimiter: str | None) -> Sheet:
    with open(path, "rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ValidationError({"encoding": f"{encoding!r} is not an encoding this system knows"}) from None
        if encoding.replace("-", "").replace("_", "").lower() == "utf8" and sample.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
    else:
        encoding = detect_encoding(sample)
    if delimiter is None:
        delimiter = sniff_delimiter(sample.decode(encoding, errors="replace"))
    elif len(delimiter) != 1:
        raise ValidationError({"delimiter": "must be one character"})
    return Sheet("csv", path, encoding=encoding, delimiter=delimiter)


CANDIDATES = ",;\t|"


def sniff_delimiter(text: str) -> str:
    """csv.Sniffer on the lines that hold a candidate delimiter at all (a title line above
    the table would mislead it); a comma when it cannot tell."""
    if "\n" in text:
        text = text[: text.rfind("\n")]
    lines = [line for line in text.splitlines() if any(c in line for c in CANDIDATES)]
    try:
        return csv.Sniffer().sniff("\n".join(lines[:200]), delimiters=CANDIDATES).delimiter
    except csv.Error:
        return ","


def _decoded_lines(path: str, encoding: str) -> Iterator[str]:
    """The file's text line by line; a byte the encoding cannot read is an error naming the
    line; in a file read as Windows-1252, a UTF-8 line is refused as mixed."""
    if codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):  # not byte-oriented: lines need decoding first
        yield from _wide_lines(path, encoding)
        return
    decoder = codecs.getincrementaldecoder(encoding)()
    fallback = encoding == FALLBACK
    with open(path, "rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if fallback and _is_utf8_letter(raw):
                raise ValidationError({"file": _("mixes encodings: line %(line)s is UTF-8, earlier lines are not "
                                                 "(save the whole file as UTF-8)", line=number)})
            try:
                yield decoder.decode(raw, final=False)
            except UnicodeDecodeError as exc:
                raise ValidationError({"file": _("line %(line)s is not valid %(encoding)s (byte %(byte)s); the file "
                                                 "mixes encodings or is not in this encoding", line=number,
                                                 encoding=encoding, byte=f"{raw[exc.start]:#04x}")}) from None
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


def _wide_lines(path: str, encoding: str) -> Iterator[str]:
    with open(path, "rb") as raw, io.TextIOWrapper(raw, encoding=encoding, newline="") as text:
        done = 0
        try:
            for line in text:
                done += 1
                yield line
        except UnicodeDecodeError:
            raise ValidationError({"file": f"line {done + 1} is not valid {encoding}"}) from None


def _csv_rows(sheet: Sheet) -> Iterator[tuple[int, list[Any]]]:
    csv.field_size_limit(1 << 24)
    reader = csv.reader(_decoded_lines(sheet.source, sheet.encoding or "utf-8"), delimiter=sheet.delimiter or ",")
    try:
        for cells in reader:
            yield reader.line_num, [c.replace("\x00", "") for c in cells]
    except csv.Error as exc:
        raise ValidationError({"file": f"line {reader.line_num} cannot be read as CSV: {exc}"}) from None


# ---- XLSX ----------------------------------------------------------------------------------------
def _load_workbook(path: str) -> Any:
    import openpyxl

    try:
        # read_only streams the sheet; data_only=False keeps formulas as their text (never evaluated)
        return openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ValidationError({"file": _("is not a readable .xlsx workbook (%(problem)s)",
                                         problem=type(exc).__name__)}) from None


def _open_xlsx(path: str, sheet: str | None) -> Sheet:
    book = _load_workbook(path)
    try:
        names = list(book.sheetnames)
    finally:
        book.close()
    if sheet is None:
        sheet = names[0] if names else None
    elif sheet not in names:
        raise ValidationError({"sheet": _("there is no sheet %(sheet)s; the workbook has %(names)s",
                                          sheet=repr(sheet), names=", ".join(names))})
    return Sheet("xlsx", path, sheets=names, sheet=sheet)


def _xlsx_rows(sheet: Sheet) -> Iterator[tuple[int, list[Any]]]:
    book = _load_workbook(sheet.source)
    try:
        ws = book[sheet.sheet]
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(values)
            while cells and cells[-1] is None:
                cells.pop()
            yield number, ["" if v is None else v for v in cells]
    finally:
        book.close()


def sheet_from_bytes(data: bytes, directory: str, name: str, **options: Any) -> tuple[str, Sheet]:
    """Keep an upload in ``directory`` (a job may read it again later) and open it."""
    check_size(len(data), options.pop("limit", None))
    os.makedirs(directory, exist_ok=True)
    import tempfile

    suffix = ".xlsx" if name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    fd, path = tempfile.mkstemp(prefix="import-", suffix=suffix, dir=directory)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path, open_sheet(path, name=name, **options)


def copy_stream(stream: IO[bytes], directory: str, name: str, limit: int | None = None) -> str:
    """Write an upload stream to a file, refusing it as soon as it passes the limit."""
    import tempfile

    limit = max_file_bytes() if limit is None else limit
    os.makedirs(directory, exist_ok=True)
    suffix = ".xlsx" if name.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    fd, path = tempfile.mkstemp(prefix="import-", suffix=suffix, dir=directory)
    size = 0
    with os.fdopen(fd, "wb") as fh:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                fh.close()
                os.unlink(path)
                check_size(size, limit)
            fh.write(chunk)
    return path

