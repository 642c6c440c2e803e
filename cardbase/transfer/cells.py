"""One spreadsheet cell -> the value of a field, in the file's locale.

Each field type already parses spreadsheet text (``FieldType.import_value``: "1.234,50 €",
"Name <mail>", "22.11.2026"); the small readers here add what depends on the *file*
rather than the field: its number and date conventions (``locale``), the region for
phone numbers written without a country code, and links named by code or display value
(resolved for a whole chunk at once, see ``links.py``). One class per concern, found by
field type in ``READERS``."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import phonenumbers

from ..schema_engine.field_types import FieldValueError
from ..schema_engine.field_types.decimal import shown
from ..schema_engine.field_types.phone import region_of
from ..schema_engine.snapshot import FieldInfo
from ..schema_engine.i18n import _

LOCALES = ("auto", "en", "en-US", "en-GB", "de")


@dataclass(frozen=True)
class FileFormat:
    """How the file writes numbers and dates, and the region of local phone numbers."""

    locale: str = "auto"
    region: str | None = None

    def __post_init__(self) -> None:
        if self.locale not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
        if self.region is not None and self.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{self.region!r} is not a region: use a two-letter country code such as DE, AT, US")

    @property
    def decimal_comma(self) -> bool | None:
        """True for German numbers (1.234,50), False for English (1,234.50), None: either."""
        if self.locale == "de":
            return True
        if self.locale.startswith("en"):
            return False
        return None


@dataclass(frozen=True)
class LinkText:
    """A link cell before resolution: the code, id or display value the file names."""

    text: str


class CellReader:
    """Default: the cell as it is. The store parses every value once, with the field type's
    spreadsheet parsing (``ImportOp`` writes with ``importing``); a reader only puts into
    a form that parsing understands what depends on the file."""

    types: ClassVar[tuple[str, ...]] = ()

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        return cell


READERS: dict[str, CellReader] = {}
DEFAULT = CellReader()


def reader(cls: type[CellReader]) -> type[CellReader]:
    for name in cls.types:
        READERS[name] = cls()
    return cls


_DE_GROUPED = re.compile(r"^[+-]?\d{1,3}(\.\d{3})+(,\d+)?$")
_EN_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_DE_PLAIN = re.compile(r"^[+-]?\d+(,\d+)?$")
_EN_PLAIN = re.compile(r"^[+-]?\d+(\.\d+)?$")


def localise_number(text: str, fmt: FileFormat) -> str:
    """Text in the file's convention -> canonical "1234.50"; with no locale the field type's
    rules apply. A number that fits only the other convention is refused, naming both."""
    s = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    comma = fmt.decimal_comma
    if comma is None or not s:
        return text
    grouped, plain = (_DE_GROUPED, _DE_PLAIN) if comma else (_EN_GROUPED, _EN_PLAIN)
    if grouped.match(s) or plain.match(s):
        group, dec = (".", ",") if comma else (",", ".")
        return s.replace(group, "").replace(dec, ".")
    if re.fullmatch(r"[+-]?[\d.,]+([eE][+-]?\d+)?", s):
        if comma:
            raise FieldValueError(_("%(value)s is not a number as this file writes them (German: 1.234,50)",
                                    value=shown(text)))
        raise FieldValueError(_("%(value)s is not a number as this file writes them (English: 1,234.50)",
                                value=shown(text)))
    return text


@reader
class NumberCell(CellReader):
    types = ("decimal", "integer")

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        if isinstance(cell, float):
            cell = Decimal(repr(cell))
        if isinstance(cell, str):
            cell = localise_number(cell, fmt)
        return cell


_SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@reader
class DateCell(CellReader):
    """Adds slashed dates: month first for en-US, day first for en-GB (ambiguous otherwise)."""

    types = ("date",)

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        if isinstance(cell, str):
            m = _SLASHED.match(cell.strip())
            if m and fmt.locale in ("en-US", "en-GB"):
                a, b, year = (int(g) for g in m.groups())
                month, day = (a, b) if fmt.locale == "en-US" else (b, a)
                try:
                    return date(year, month, day)
                except ValueError:
                    raise FieldValueError(_("%(value)s is not a valid date", value=shown(cell))) from None
            if m:
                raise FieldValueError(_("%(value)s is ambiguous: choose the file's locale (en-US: month first, "
                                        "en-GB: day first) or write 2026-11-22", value=shown(cell)))
        if isinstance(cell, datetime):
            return cell.date()
        return cell


@reader
class PhoneCell(CellReader):
    """Numbers without a country code are read in the chosen region (else the field's)."""

    types = ("phone",)

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        if isinstance(cell, (int, float)) and not isinstance(cell, bool):
            cell = str(int(cell))
        region = (fmt.region or "").upper()
        if isinstance(cell, str) and region and region != region_of(field) and cell.strip() \
                and not cell.strip().startswith(("+", "00")):
            try:
                number = phonenumbers.parse(cell.strip(), region)
            except phonenumbers.NumberParseException:
                raise FieldValueError(_("%(value)s is not a valid phone number", value=shown(cell))) from None
            if not phonenumbers.is_valid_number(number):
                raise FieldValueError(_("%(value)s is not a valid phone number in region %(region)s", value=shown(cell),
                                        region=region))
            # E.164 now; the store's validation of the row checks it once more (length, type)
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) + (
                f";ext={number.extension}" if number.extension else "")
        return cell  # in the field's own region: the store's parsing reads it so


@reader
class LinkCell(CellReader):
    """Kept as text: resolved with the chunk (one query per link field)."""

    types = ("link",)

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        return LinkText(str(cell).strip())


@reader
class MultiLinkCell(CellReader):
    """Several records in one cell, separated by ";" (or "," when there is no ";") --
    what the export writes: each kept as text and resolved with the chunk like a link."""

    types = ("links",)

    def read(self, field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            return None
        if isinstance(cell, float) and cell.is_integer():
            cell = int(cell)
        text = str(cell)
        sep = ";" if ";" in text else ","
        return [LinkText(part.strip()) for part in text.split(sep) if part.strip()] or None


def read_cell(field: FieldInfo, cell: Any, fmt: FileFormat) -> Any:
    """``cell`` ready for the field type's import parsing (FieldValueError naming a problem
    of the file's conventions)."""
    if isinstance(cell, str) and not cell.strip():
        return None
    return READERS.get(field.type, DEFAULT).read(field, cell, fmt)
