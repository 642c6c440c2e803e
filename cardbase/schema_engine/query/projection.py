"""What a read returns: the columns to select for a list of field paths, and how a result
row becomes a record dict (API names and paths as keys, Python values from the field
types, links and users as ``LinkRef(id, display)``). Display values come from the same
statement through LEFT OUTER JOINs, so a page of links costs no extra query per row."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection
from sqlalchemy.sql.elements import ColumnElement

from ..snapshot import FieldInfo
from ..values import LinkRef
from .multi_links import Pending, linked_records
from .paths import FieldAllowed, JoinBuilder, Path, display_text, resolve


@dataclass(frozen=True)
class _Item:
    key: str
    path: Path
    values: slice
    display: slice
    display_field: FieldInfo | None
    visible: int | None = None  # column of the joined target's id when rights may hide it


class Projection:
    """Selected columns (in order) and the decoder of rows that carry them first."""

    def __init__(self, joins: JoinBuilder):
        self.joins = joins
        self.columns: list[ColumnElement] = []
        self.items: list[_Item] = []

    def add(self, key: str, path: Path) -> None:
        values = self._extend(self.joins.columns(path))
        display, display_field, visible = slice(0, 0), None, None
        if path.kind == "links":  # read apart: the owner's id now, the links by ``fill``
            self.items.append(_Item(key, path, values, display, None))
            return
        if path.kind != "value":
            display_field, cols = self.joins.display_columns(path)
            display = self._extend(cols)
        if path.kind == "link":
            marker = self.joins.visibility_column(path.links + (path.field,))
            if marker is not None:
                visible = self._extend([marker]).start
        self.items.append(_Item(key, path, values, display, display_field, visible))

    def _extend(self, cols: Sequence[ColumnElement]) -> slice:
        start = len(self.columns)
        self.columns.extend(cols)
        return slice(start, len(self.columns))

    def labeled(self) -> list[ColumnElement]:
        return [c.label(f"c{i}") for i, c in enumerate(self.columns)]

    def decode(self, row: Sequence[Any]) -> dict[str, Any]:
        record: dict[str, Any] = {}
        for item in self.items:
            values = tuple(row[item.values])
            field = item.path.field
            if item.path.kind == "value":
                record[item.key] = field.ftype.from_db(field, values)
                continue
            if item.path.kind == "links":
                record[item.key] = Pending(values[0])
                continue
            if values[0] is None:
                record[item.key] = None
                continue
            if item.visible is not None and row[item.visible] is None:
                record[item.key] = LinkRef(int(values[0]), None, restricted=True)
                continue
            shown = tuple(row[item.display])
            if item.path.kind == "user":
                text = shown[0] if shown else None
            else:
                text = display_text(item.display_field, shown) if shown else None
            record[item.key] = LinkRef(int(values[0]), text)
        return record

    def fill(self, conn: Connection, records: Sequence[dict[str, Any]]) -> None:
        """Replace the multi-link placeholders ``decode`` left with the linked records:
        one query per multi-link field for all ``records`` (a page costs no query per row)."""
        joins = self.joins
        for item in self.items:
            if item.path.kind != "links":
                continue
            owners = {v.owner_id for r in records if isinstance(v := r.get(item.key), Pending) and v.owner_id}
            found = linked_records(conn, joins.schema, item.path.field, owners, link_filter=joins.link_filter,
                                   field_allowed=joins.field_allowed) if owners else {}
            for record in records:
                value = record.get(item.key)
                if isinstance(value, Pending):
                    record[item.key] = (found.get(value.owner_id) if value.owner_id is not None else None) or None


def build_projection(joins: JoinBuilder, fields: Sequence[str] | None, *,
                     field_allowed: FieldAllowed | None = None) -> Projection:
    """``fields`` None: every field the reader may see (system fields first). Otherwise
    the listed paths; a hidden or unknown one is refused. ``id`` is always included."""
    obj = joins.obj
    projection = Projection(joins)
    id_field = obj.fields_by_name["id"]
    projection.add("id", Path("id", id_field))
    if fields is None:
        for f in obj.fields:
            if f is not id_field and (field_allowed is None or field_allowed(f)):
                projection.add(f.api_name, Path(f.api_name, f))
        return projection
    for text in dict.fromkeys(fields):
        if text != "id":
            projection.add(text, resolve(joins.schema, obj, text, field_allowed=field_allowed, key="fields"))
    return projection
