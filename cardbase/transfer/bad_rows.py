"""The rows an import could not take, as an XLSX file to fix and import again: the file's
own columns, its line number and an error column. Written streaming (openpyxl write-only);
text that a spreadsheet would run as a formula (= + - @ ...) is stored as text."""
from __future__ import annotations

from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class BadRows:
    def __init__(self, path: str, columns: Sequence[str]):
        self.path = path
        self.columns = list(columns)
        self.width = len(columns)
        self.count = 0
        self.book: Workbook | None = None  # made with the first bad row

    def _open(self) -> None:
        self.book = Workbook(write_only=True)
        self.sheet = self.book.create_sheet("Errors")
        self.sheet.append([self._cell(c) for c in ["Line", *self.columns, "Errors"]])

    def _cell(self, value: Any) -> WriteOnlyCell:
        cell = WriteOnlyCell(self.sheet, value=value)
        if isinstance(value, str) and value.startswith(FORMULA_START):
            cell.data_type = "s"  # kept as the text it was, never a formula
        return cell

    def add(self, line: int, cells: Sequence[Any], errors: str) -> None:
        if self.book is None:
            self._open()
        self.count += 1
        own = list(cells[:self.width]) + [""] * (self.width - len(cells))
        self.sheet.append([self._cell(v) for v in [line, *own, errors, *cells[self.width:]]])

    def close(self) -> str | None:
        """Save the file; None when no row was bad (nothing to download)."""
        if self.book is None:
            return None
        self.book.save(self.path)
        return self.path
