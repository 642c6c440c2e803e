"""The import as an operation of the store's one change pipeline: a chunk of creates and
updates applied like a bulk write (rights, validation, formulas, history, events, one
action per chunk), recorded as kind "import" so the history and undo show what it was."""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from ..schema_engine.snapshot import FieldInfo, ObjectInfo
from ..schema_engine.store.operations import BulkOp, CreateOp, UpdateOp
from ..schema_engine.store.validation import RowErrors, parse_row


class ImportOp(BulkOp):
    """Rows without "id" are created (keeping a "code" the file gives), rows with "id" and
    "version" update that record; every row's errors by its index, all or nothing."""

    kind = "import"

    def __init__(self, obj: ObjectInfo, rows: Sequence[Mapping[str, Any]]):
        super().__init__(obj, rows)
        if self.creates:
            keep = any(isinstance(rows[i], Mapping) and rows[i].get("code") for i in self.creates)
            self.create = CreateOp(obj, [rows[i] for i in self.creates], single=False, keep_codes=keep, importing=True)
        if self.update is not None:
            self.update = ImportUpdateOp(obj, self.update.rows, single=False)


class ImportUpdateOp(UpdateOp):
    """An update whose values are spreadsheet cells: parsed by the field types' import parsing."""

    def parse(self, tx: Any, i: int, values: Mapping[str, Any]) -> tuple[dict[FieldInfo, Any], RowErrors]:
        access = tx.access
        return parse_row(self.obj, values, creating=False, importing=True, readable=access.field_readable(self.obj),
                         writable=lambda f: access.field_writable(self.obj, f))
