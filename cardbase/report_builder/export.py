"""A pivot as a table: texts for the page, the table chart and CSV; an XLSX workbook
(openpyxl) with numbers as numbers, money as currency-formatted numbers (one column per
measure and currency: money is never mixed) and the totals row and column.

Spreadsheet formula injection is neutralised in every text cell (a leading = + - @ gets
an apostrophe), as in the list exports."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from .runner import Key, ReportResult
from .serialize import figure_text, group_title, key_label, measure_label

TOTAL = "Total"
_RISKY = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    return "'" + text if text.startswith(_RISKY) else text


ValueColumn = tuple[Key | None, int, str | None, str]


def _value_columns(result: ReportResult, language: str, texts: dict[str, str] | None,
                   locale: str = "en") -> list[ValueColumn]:
    """(column key or None for the total, measure index, currency or None, header)."""
    out: list[ValueColumn] = []
    keys: list[Key | None] = list(result.column_keys) if result.columns else []
    if not result.columns or result.definition.totals:
        keys.append(None)
    for key in keys:
        head = (texts or {}).get("total", TOTAL) if key is None and result.columns else (
            key_label(result.columns, key, locale) if key is not None else "")
        for i, m in enumerate(result.measures):
            label = measure_label(m, language, texts)
            if m.money and not m.measure.percent and _currencies(result, i):
                for currency in _currencies(result, i):
                    out.append((key, i, currency, " · ".join(p for p in (head, label, currency) if p)))
            else:
                out.append((key, i, None, " · ".join(p for p in (head, label) if p)))
    return out


def _currencies(result: ReportResult, index: int) -> list[str]:
    total = result.raw_total[index] if result.raw_total else result.total[index]
    return sorted(total) if isinstance(total, dict) else []


def _figure(result: ReportResult, row: Key | None, column: Key | None, index: int) -> Any:
    if row is None and column is None:
        return result.total[index]
    if row is None:
        return result.column_totals.get(column or (), [None] * len(result.measures))[index]
    if column is None:
        return result.row_totals.get(row, [None] * len(result.measures))[index]
    return result.cell(row, column)[index]


def _rows(result: ReportResult) -> list[Key | None]:
    rows: list[Key | None] = list(result.row_keys) if result.rows else []
    if not result.rows or result.definition.totals:
        rows.append(None)
    return rows


def pivot_rows(result: ReportResult, locale: str = "en", language: str = "en",
               texts: dict[str, str] | None = None) -> tuple[list[str], list[list[str]]]:
    """Header and rows of texts, formatted in the reader's locale."""
    columns = _value_columns(result, language, texts, locale)
    header = [" · ".join(group_title(s, language) for s in result.rows)] + [c[3] for c in columns]
    out = []
    for row in _rows(result):
        label = key_label(result.rows, row, locale) if row is not None else (texts or {}).get("total", TOTAL)
        cells = [label]
        for column, index, currency, _head in columns:
            value = _figure(result, row, column, index)
            if currency is not None:
                value = value.get(currency) if isinstance(value, dict) else None
                cells.append(figure_text(result.measures[index], {currency: value}, locale) if value is not None else "")
            else:
                cells.append(figure_text(result.measures[index], value, locale))
        out.append(cells)
    return header, out


def to_csv(result: ReportResult, locale: str = "en", language: str = "en",
           texts: dict[str, str] | None = None) -> str:
    header, rows = pivot_rows(result, locale, language, texts)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_text(h) for h in header])
    for row in rows:
        writer.writerow([safe_text(c) for c in row])
    return buffer.getvalue()


def to_xlsx(result: ReportResult, title: str, language: str = "en", texts: dict[str, str] | None = None) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = safe_text(title)[:31] or "Report"
    columns = _value_columns(result, language, texts, language)
    sheet.append([safe_text(" · ".join(group_title(s, language) for s in result.rows))] +
                 [safe_text(c[3]) for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in _rows(result):
        label = key_label(result.rows, row, language) if row is not None else (texts or {}).get("total", TOTAL)
        values: list[Any] = [safe_text(label)]
        formats: list[str | None] = [None]
        for column, index, currency, _head in columns:
            value = _figure(result, row, column, index)
            m = result.measures[index]
            if currency is not None:
                value = value.get(currency) if isinstance(value, dict) else None
                formats.append(f'#,##0.00 "{currency}"')
            elif m.measure.percent:
                value = value / 100 if isinstance(value, Decimal) else None
                formats.append("0.00%")
            else:
                formats.append("#,##0.00" if isinstance(value, Decimal) else "#,##0" if isinstance(value, int) else None)
            if isinstance(value, dict):  # percent of money: one text per currency
                value = figure_text(m, value)
            values.append(value)
        sheet.append(values)
        for cell, fmt in zip(sheet[sheet.max_row], formats):
            if fmt:
                cell.number_format = fmt
        if row is None:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
