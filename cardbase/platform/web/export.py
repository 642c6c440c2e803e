"""Exports of a list view to CSV and XLSX.

The rows come from ``RecordStore.export`` (the view's filter, search, sort and columns,
batch by batch, with the user's rights), so an export holds exactly what the list shows.

Spreadsheet formula injection: a text cell beginning with ``= + - @``, a tab or a carriage
return would run as a formula when the file is opened. In CSV such a cell gets a leading
apostrophe; in XLSX every text is written as a text cell (never a formula), and such a
cell is marked "quote prefix", Excel's own flag for "typed with a leading apostrophe".
Numbers, dates and booleans are written as typed values and need no neutralising.

What a CSV holds must come back unchanged when it is imported again (issue 14, point 7):
numbers are plain numbers -- no thousands separators, the locale's decimal mark, so the
spreadsheet reads them as numbers -- and a money column is followed by its currency
column; a phone number is written as shown ("+49 30 1234567"): the phone type made that
text from a validated number, so it is digits after a plus and can run no formula --
the apostrophe is kept for text that could.
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any, Iterable, Iterator

from flask_babel import gettext as _

from cardbase.schema_engine.field_types.datetime_type import display_timezone
from cardbase.schema_engine.field_types.money import Money
from cardbase.schema_engine.snapshot import FieldInfo
from cardbase.schema_engine.values import LinkRef

from .display import display_for

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
MAX_CELL = 32_767  # Excel's limit for one cell's text


@dataclass(frozen=True)
class Column:
    path: str
    label: str
    field: FieldInfo


def is_dangerous(text: str) -> bool:
    return text.startswith(DANGEROUS_START)


def neutralise(text: str) -> str:
    """The text a spreadsheet shows as text rather than evaluating as a formula."""
    return "'" + text if is_dangerous(text) else text


# Types whose shown text is built from a validated value and can hold no formula, however
# it starts: a phone number is "+", digits and spaces.
FORMULA_FREE_TYPES = frozenset({"phone"})
_FORMULA_FREE_TEXT = re.compile(r"\+?[0-9 ]+(;ext=[0-9]+)?")


def plain_number(value: int | float | Decimal, language: str) -> str:
    """A number as a spreadsheet reads it back: no grouping, the locale's decimal mark
    ("1040.5" / "1040,5"), every digit kept ("1040.50" stays two places)."""
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, Decimal):
        text = format(value, "f")
    else:
        text = str(value)
    return text.replace(".", ",") if language.startswith("de") else text


def cell_text(column: Column, value: Any, language: str) -> str:
    """A value for a CSV cell: numbers plain, the rest as the list shows it (per type and
    locale), safe for a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, LinkRef) and value.restricted:
        return ""
    if isinstance(value, Money):
        return plain_number(value.amount, language)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return plain_number(value, language)
    text = display_for(column.field).text(column.field, value, language)
    if isinstance(value, (bool, dt.date)):
        return text  # the type formatted a date or a yes/no: nothing a spreadsheet could run
    if column.field.type in FORMULA_FREE_TYPES and _FORMULA_FREE_TEXT.fullmatch(text):
        return text
    return neutralise(text)


def currency_text(value: Any) -> str:
    """The currency column beside a money column: the ISO code of the amount."""
    return value.currency if isinstance(value, Money) else ""


def is_money(column: Column) -> bool:
    """Does the column hold money (its amount, then a currency column of its own)?"""
    return column.field.ftype.name == "money" or any(spec.suffix == "currency" for spec in column.field.column_specs)


def csv_delimiter(language: str) -> str:
    """Spreadsheets split CSV by the locale's list separator: ";" where the decimal
    separator is a comma (German), "," otherwise."""
    return ";" if language.startswith("de") else ","


class _Line:
    """A file-like sink for csv.writer that hands back what was written."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return len(text)

    def take(self) -> str:
        out = "".join(self.parts)
        self.parts.clear()
        return out


def csv_chunks(columns: list[Column], batches: Iterable[list[dict[str, Any]]], language: str) -> Iterator[str]:
    """The CSV text (UTF-8 with a byte order mark, so Excel reads the accents), one
    chunk per batch of records, the header first."""
    sink = _Line()
    writer = csv.writer(sink, delimiter=csv_delimiter(language), lineterminator="\r\n")
    money = [is_money(c) for c in columns]
    header: list[str] = []
    for column, with_currency in zip(columns, money):
        header.append(neutralise(column.label))
        if with_currency:
            header.append(neutralise(currency_label(column.label)))
    writer.writerow(header)
    yield BOM + sink.take()
    for batch in batches:
        for record in batch:
            row: list[str] = []
            for column, with_currency in zip(columns, money):
                value = record.get(column.path)
                row.append(cell_text(column, value, language))
                if with_currency:
                    row.append(currency_text(value))
            writer.writerow(row)
        yield sink.take()


def currency_label(label: str) -> str:
    """The heading of a money column's currency column."""
    return _("%(label)s (currency)", label=label)


def _excel_value(column: Column, value: Any, language: str) -> tuple[Any, str | None]:
    """(cell value, number format) for XLSX: typed where Excel has the type."""
    if value is None:
        return None, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, (int, float, Decimal)):
        return value, None
    if isinstance(value, Money):
        currency = re.sub(r"[^A-Za-z]", "", value.currency)[:3]
        scale = max(0, -value.amount.as_tuple().exponent) if isinstance(value.amount, Decimal) else 2
        decimals = "." + "0" * scale if scale else ""
        return value.amount, f'#,##0{decimals} "{currency}"'
    if isinstance(value, dt.datetime):
        local = value.replace(tzinfo=dt.timezone.utc).astimezone(display_timezone()) if value.tzinfo is None \
            else value.astimezone(display_timezone())
        return local.replace(tzinfo=None), "yyyy-mm-dd hh:mm"
    if isinstance(value, dt.date):
        return value, "yyyy-mm-dd"
    if isinstance(value, LinkRef) and value.restricted:
        return None, None
    return display_for(column.field).text(column.field, value, language)[:MAX_CELL], None


def xlsx_file(columns: list[Column], batches: Iterable[list[dict[str, Any]]], language: str,
              title: str) -> IO[bytes]:
    """The workbook (openpyxl write-only mode: rows go straight to disk) in a temporary
    file, rewound; closing it deletes it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))

    def text_cell(text: str, **style: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=text)
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        if is_dangerous(text):
            cell.quotePrefix = True
        for name, value in style.items():
            setattr(cell, name, value)
        return cell

    bold = Font(bold=True)
    sheet.append([text_cell(c.label, font=bold) for c in columns])
    for batch in batches:
        for record in batch:
            row = []
            for column in columns:
                value, number_format = _excel_value(column, record.get(column.path), language)
                if isinstance(value, str):
                    row.append(text_cell(value))
                    continue
                cell = WriteOnlyCell(sheet, value=value)
                if number_format:
                    cell.number_format = number_format
                row.append(cell)
            sheet.append(row)
    out = tempfile.NamedTemporaryFile(prefix="cardbase-export-", suffix=".xlsx")
    workbook.save(out)
    out.flush()
    out.seek(0)
    return out


def _sheet_title(title: str) -> str:
    """Excel refuses []:*?/\\ in sheet names and more than 31 characters."""
    cleaned = re.sub(r"[\[\]:*?/\\]", " ", title).strip()[:31]
    return cleaned or "Export"
