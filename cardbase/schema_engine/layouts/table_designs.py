"""Several named table designs per object, one of them the default (like cards).

The list page opens with the default design and offers the others in a chooser; the
table designer creates, renames, changes, makes default and deletes them. Each design is
a ``cb_view`` row without owner, like the single table design before it: named
``"(table) <name>"`` (the design saved before there were several keeps the name
``"(table)"`` and is shown as "Standard"), its stored definition marked
``"default": true`` when it is the default (``tables.default_row`` picks it). Solutions
carry them as the shared views they are, so an import brings every design and its
default mark along.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from ..actor import Actor
from ..errors import NotFound, SchemaError
from ..i18n import _
from ..meta_models import SavedView
from ..snapshot import ObjectInfo
from .common import check_name, config_change, reading
from .fingerprints import check_unchanged, fingerprint
from .tables import (TABLE_PREFIX, _masked, _readable, _stored, _table_rows, default_row,
                     definition_to_stored, generated_table, normalise_definition)

STANDARD = "Standard"  # the shown name of the generated table and of a design saved before names


def design_name(row) -> str:
    """The name a design row is shown with."""
    return row.name[len(TABLE_PREFIX):] if row.name.startswith(TABLE_PREFIX) else _(STANDARD)


def list_tables(source, obj_ref: str | int) -> list[dict[str, Any]]:
    """The designed tables of the object, oldest first: ``[{"id", "name", "is_default"}]``
    (empty when none was designed: the generated table is then the only one)."""
    with reading(source) as (conn, schema):
        rows = _table_rows(conn, schema.object(obj_ref))
    default = default_row(rows)
    return [{"id": r.id, "name": design_name(r), "is_default": r is default} for r in rows]


def get_table(source, obj_ref: str | int, table_id: int | None = None, *, actor: Actor | None = None,
              policy=None) -> dict[str, Any]:
    """One design: ``{"id", "name", "is_default", "definition"}``; ``table_id`` None: the
    default one (or the generated table, id None). With ``actor`` what they may not read
    is left out of the definition, as ``tables.default_table`` does. NotFound for an id
    that is no table design of this object."""
    with reading(source) as (conn, schema):
        obj = schema.object(obj_ref)
        rows = _table_rows(conn, obj)
        readable = _readable(conn, schema, obj, actor, policy)
        default = default_row(rows)
        row = default if table_id is None else _find(rows, obj, table_id)
        if row is None:
            stored = _stored(schema, obj, generated_table(schema, obj))
            return {"id": None, "name": _(STANDARD), "is_default": True,
                    "definition": _masked(schema, obj, stored, readable)[0]}
        return {"id": row.id, "name": design_name(row), "is_default": row is default,
                "definition": _masked(schema, obj, row.definition, readable)[0]}


def design_etag(design: Mapping[str, Any]) -> str:
    """The fingerprint of a design as ``get_table`` returns it (the API's ETag)."""
    return fingerprint("table_design", design)


def save_design(db, actor: Actor, obj_ref: str | int, name: Any, definition: Any, *,
                table_id: int | None = None, is_default: bool = False,
                expected: str | Iterable[str] | None = None, policy=None) -> dict[str, Any]:
    """Create (``table_id`` None) or change a named table design (configure right; logged
    as "save_table"; bumps the schema version). Names are unique per object
    (case-insensitive). ``is_default`` True makes it the default (the previous default
    stops being one); False keeps its status; the first design is always the default.
    ``expected``: the ``design_etag`` the caller read (Conflict when it changed since)."""
    clean_name = check_name(name)
    if not isinstance(is_default, bool):
        raise SchemaError({"is_default": "must be true or false"})
    with config_change(db, actor, "save_table", f"{obj_ref}/table:{clean_name}", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        rows = _table_rows(tx.conn, obj, lock=True)
        default = default_row(rows)
        row = None if table_id is None else _find(rows, obj, table_id)
        if row is not None and expected is not None:
            shown = {"id": row.id, "name": design_name(row), "is_default": row is default,
                     "definition": _masked(tx.schema, obj, row.definition, None)[0]}
            check_unchanged(expected, shown, design_etag(shown), f"the table '{shown['name']}'")
        for other in rows:
            if other is not row and design_name(other).casefold() == clean_name.casefold():
                raise SchemaError({"name": f"'{obj.label_plural}' already has a table named '{design_name(other)}'"})
        named = normalise_definition(tx.schema, obj, definition, require_columns=True)
        make_default = is_default or default is None or row is default
        stored: dict[str, Any] = {"kind": "table", **definition_to_stored(tx.schema, obj, named)}
        if make_default:
            stored["default"] = True
            _clear_default(tx.conn, [r for r in rows if r is not row])
        values = {"name": TABLE_PREFIX + clean_name, "definition": stored}
        if row is None:
            new_id = tx.conn.execute(sa.insert(SavedView).values(
                object_id=obj.id, owner_id=None, shared=True, **values).returning(SavedView.id)).scalar_one()
        else:
            new_id = row.id
            tx.conn.execute(sa.update(SavedView).where(SavedView.id == row.id).values(**values))
        tx.details = {"object": obj.api_name, "table_id": new_id, "name": clean_name,
                      "columns": [c["field"] for c in named["columns"]]}
        return {"id": new_id, "name": clean_name, "is_default": make_default, "definition": named}


def delete_design(db, actor: Actor, obj_ref: str | int, table_id: int, *, policy=None) -> None:
    """Delete a named table design (configure right; logged as "delete_table"). When it
    was the default, the oldest remaining design becomes the default (``default_row``);
    with none left the generated table is shown again."""
    with config_change(db, actor, "delete_table", f"{obj_ref}/table:{table_id}", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        rows = _table_rows(tx.conn, obj, lock=True)
        row = _find(rows, obj, table_id)
        tx.conn.execute(sa.delete(SavedView).where(SavedView.id == row.id))
        tx.details = {"object": obj.api_name, "table_id": row.id, "name": design_name(row)}


def _find(rows: list, obj: ObjectInfo, table_id: Any):
    if isinstance(table_id, bool) or not isinstance(table_id, int):
        raise NotFound(f"object '{obj.api_name}' has no table {table_id!r}")
    for row in rows:
        if row.id == table_id:
            return row
    raise NotFound(f"object '{obj.api_name}' has no table #{table_id}")


def _clear_default(conn, rows: list) -> None:
    for r in rows:
        if isinstance(r.definition, Mapping) and r.definition.get("default") is True:
            conn.execute(sa.update(SavedView).where(SavedView.id == r.id)
                         .values(definition={k: v for k, v in r.definition.items() if k != "default"}))
