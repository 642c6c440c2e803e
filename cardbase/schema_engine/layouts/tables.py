"""The object's table (its list view, designed by the power user) and the saved views of
users (personal, or shared with everyone who may read the object).

Definition format (named; paths in the filter language's syntax, up to 3 links)::

    {"columns": [{"field": "name", "width": 200}, {"field": "organisation.city"}],
     "sort": "-amount,name", "filter": <filter tree or null>, "page_size": 50}

``width`` is optional (pixels, 40..1000). A saved view may leave ``columns`` empty: it
then shows the table's columns.

Both live in ``cb_view`` with paths stored by field id (``#12.#34``, system fields by
name), like ``rights/stored_filter.py`` does, so renames never break them and
``usage.py`` sees the fields they use. The table design is the row with ``owner_id``
NULL and the reserved name ``TABLE_NAME`` (definition ``{"kind": "table", ...}``);
shared views are ``shared`` rows (``{"kind": "view", ...}``), so solution export/import
carry both; personal views (``shared`` False, ``owner_id`` the user) stay private.

A view is only a query definition: the store applies the reader's rights when it runs
it. Because the store refuses to filter or sort by a field hidden from the reader,
``get_view`` and ``default_table(actor=...)`` leave out the columns, sort keys and filter
conditions a reader may not read, so a shared view from a power user still works for a
junior user (``filter_incomplete`` tells the UI a condition was left out).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import sqlalchemy as sa

from ..actor import Actor
from ..errors import Forbidden, NotFound, SchemaError, ValidationError
from ..meta_models import SavedView
from ..query.filters import GROUP_KEYS
from ..query.model import MAX_LIMIT
from ..query.paths import resolve
from ..query.sort import parse_sort, unsortable
from ..rights.stored_filter import check_filter, to_stored as filter_to_stored
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .common import access_for, check_name, config_change, path_to_named, path_to_stored, reading
from .fingerprints import check_unchanged, fingerprint

TABLE_NAME = "(table)"
TABLE_PREFIX = TABLE_NAME + " "  # further named table designs: "(table) Compact" (table_designs.py)
MAX_TABLE_COLUMNS = 50
MIN_WIDTH, MAX_WIDTH = 40, 1000
DEFAULT_PAGE_SIZE = 50
DEFAULT_COLUMNS = 8  # the display field and up to 7 more
# Newest first: created_at has an index on every object table (physical.py), so even a
# table of millions of records opens with an index scan; a display field of type string
# has no index (and sorts case-insensitively), so sorting by it would sort the whole table.
DEFAULT_SORT = "-created_at"
_DEFINITION_KEYS = {"columns", "sort", "filter", "page_size"}
KEEP = object()  # save_view's definition: keep the stored one exactly as it is (a rename, a (un)share)
_COLUMN_KEYS = {"field", "width"}

FieldAllowed = Callable[[FieldInfo], bool]


# ---- the table design --------------------------------------------------------------------------
def default_table(db, obj_ref: str | int, *, actor: Actor | None = None, policy=None) -> dict[str, Any]:
    """The object's table: the stored design, or the generated one (``generated_table``).

    With ``actor``, columns, sort keys and filter conditions the actor may not read are
    left out (the store would refuse them). Named definition:
    ``{"columns": [{"field", "width"?}], "sort", "filter", "page_size"}``."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        readable = _readable(conn, schema, obj, actor, policy)
        return _table_named(schema, obj, _table_row(conn, obj), readable)


def table_etag(definition: Mapping[str, Any]) -> str:
    """The fingerprint of the table design as ``default_table`` returns it (the API's ETag)."""
    return fingerprint("table", definition)


def _table_named(schema: Schema, obj: ObjectInfo, row, readable: FieldAllowed | None) -> dict[str, Any]:
    stored = row.definition if row is not None else _stored(schema, obj, generated_table(schema, obj))
    return _masked(schema, obj, stored, readable)[0]


def generated_table(schema: Schema, obj: ObjectInfo) -> dict[str, Any]:
    """The table when none was designed: the display field, then up to 7 further user
    fields in field order (long texts left out), newest records first."""
    first = obj.display_field
    columns = [first.api_name]
    for f in obj.user_fields:
        if len(columns) >= DEFAULT_COLUMNS:
            break
        if f.api_name not in columns and f.type != "text":
            columns.append(f.api_name)
    return {"columns": [{"field": c} for c in columns], "sort": DEFAULT_SORT, "filter": None,
            "page_size": DEFAULT_PAGE_SIZE}


def validate_table(db, obj_ref: str | int, definition: Any) -> dict[str, Any]:
    """Check a table definition and return it normalised. Raises ValidationError with
    the key of the problem: ``columns[2].field`` (unknown path), ``columns[1].width``,
    ``columns[3].field`` (listed twice), ``sort``, ``filter``, ``page_size``."""
    schema = db.schema()
    return normalise_definition(schema, schema.object(obj_ref), definition, require_columns=True)


def save_table(db, actor: Actor, obj_ref: str | int, definition: Any, *,
               expected: str | Iterable[str] | None = None, policy=None) -> dict[str, Any]:
    """Store the object's table design (configure right; logged as "save_table"; bumps
    the schema version). Returns the named definition as stored. ``expected``: the
    ``table_etag`` the caller read; when the design is no longer that, Conflict."""
    with config_change(db, actor, "save_table", f"{obj_ref}/table", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        row = _table_row(tx.conn, obj, lock=True)
        if expected is not None:
            shown = _table_named(tx.schema, obj, row, None)
            check_unchanged(expected, shown, table_etag(shown), f"the table of '{obj.label_plural}'")
        named = normalise_definition(tx.schema, obj, definition, require_columns=True)
        stored = {"kind": "table", **definition_to_stored(tx.schema, obj, named)}
        if row is not None and isinstance(row.definition, Mapping) and row.definition.get("default") is True:
            stored["default"] = True
        if row is None:
            tx.conn.execute(sa.insert(SavedView).values(object_id=obj.id, name=TABLE_NAME, owner_id=None,
                                                        shared=True, definition=stored))
        else:
            tx.conn.execute(sa.update(SavedView).where(SavedView.id == row.id).values(definition=stored))
        tx.details = {"object": obj.api_name, "columns": [c["field"] for c in named["columns"]]}
        return named


def reset_table(db, actor: Actor, obj_ref: str | int, *, policy=None) -> None:
    """Forget the default table design (logged as "reset_table"): the oldest other named
    design becomes the default, or, with none left, the generated table is shown again."""
    with config_change(db, actor, "reset_table", f"{obj_ref}/table", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        row = _table_row(tx.conn, obj, lock=True)
        if row is not None:
            tx.conn.execute(sa.delete(SavedView).where(SavedView.id == row.id))
        tx.details = {"object": obj.api_name}


# ---- saved views -------------------------------------------------------------------------------
def list_views(db, actor: Actor, obj_ref: str | int, *, policy=None) -> list[dict[str, Any]]:
    """The views ``actor`` may use on the object: the shared ones and the actor's own
    personal ones, by name: ``[{"id", "name", "shared", "owner_id", "mine"}]``.
    Forbidden without the read right on the object."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        _require_read(conn, schema, obj, actor, policy)
        v = SavedView.__table__.c
        mine = v.owner_id == actor.user_id if actor.user_id is not None else sa.false()
        rows = conn.execute(sa.select(v.id, v.name, v.shared, v.owner_id)
                            .where(v.object_id == obj.id, sa.or_(v.shared.is_(True), mine),
                                   sa.not_(_is_table(v))).order_by(v.name, v.id)).all()
    return [{"id": r.id, "name": r.name, "shared": bool(r.shared), "owner_id": r.owner_id,
             "mine": actor.user_id is not None and r.owner_id == actor.user_id} for r in rows]


def get_view(db, actor: Actor, obj_ref: str | int, view_id: int, *, policy=None) -> dict[str, Any]:
    """One view: ``{"id", "name", "shared", "owner_id", "mine", "definition": {"columns",
    "sort", "filter", "page_size"}, "filter_incomplete"}``, named, with what the actor may
    not read left out. A view without columns gets the table's. NotFound for another
    user's personal view."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        _require_read(conn, schema, obj, actor, policy)
        row = _view_row(conn, obj, actor, view_id)
        return _view_dict(conn, schema, obj, actor, row, _readable(conn, schema, obj, actor, policy))


def view_etag(view: Mapping[str, Any]) -> str:
    """The fingerprint of a view as ``get_view`` returned it to its reader (the API's
    ETag). It covers only what the reader sees: a save keeps what they may not read as
    it is stored at that moment, so it cannot overwrite it with an older state."""
    return fingerprint("view", view)


def _view_dict(conn, schema: Schema, obj: ObjectInfo, actor: Actor, row,
               readable: FieldAllowed | None) -> dict[str, Any]:
    definition, incomplete = _masked(schema, obj, row.definition, readable)
    if not definition["columns"]:
        definition["columns"] = _table_named(schema, obj, _table_row(conn, obj), readable)["columns"]
    return {**_view_head(row, actor), "definition": definition, "filter_incomplete": incomplete}


def save_view(db, actor: Actor, obj_ref: str | int, name: str, definition: Any, *, shared: bool = False,
              view_id: int | None = None, expected: str | Iterable[str] | None = None,
              policy=None) -> dict[str, Any]:
    """Create (``view_id`` None) or change a saved view; returns it as ``get_view`` does.

    The definition may use only what ``actor`` may read: a column, sort key or filter
    condition on a field hidden from them is refused like an unknown field (it names
    the place, e.g. ``columns[1].field``). What the stored view uses that they may not
    read -- they were shown it without -- is kept as it is stored: hidden filter
    conditions stay (and-ed with the new filter), hidden columns stay at their place,
    and a sort left as it was shown keeps its hidden keys. ``definition`` ``KEEP``
    (changing a view only) keeps the stored definition exactly.

    ``expected``: the ``view_etag`` (or several) of the view as the caller read it; when
    the view is no longer that, Conflict (with ``current``, as ``get_view``) and nothing
    is saved.

    Anyone with the read right on the object may keep personal views (only the owner
    sees, changes or deletes one). Shared views -- making one, changing one, turning a
    personal view into one or back -- need the configure right on the object (admins
    always); they are logged as "save_view" and bump the schema version. Names are
    unique per object among the shared views, and among each user's personal views."""
    clean_name = check_name(name)
    if clean_name == TABLE_NAME or clean_name.startswith(TABLE_PREFIX):
        raise SchemaError({"name": f"'{TABLE_NAME}' is reserved for the object's table"})
    if not isinstance(shared, bool):
        raise SchemaError({"shared": "must be true or false"})
    was_shared = False
    if view_id is not None:
        with reading(db) as (conn, schema):
            obj = schema.object(obj_ref)
            was_shared = bool(_view_row(conn, obj, actor, view_id).shared)
    if shared or was_shared:
        with config_change(db, actor, "save_view", f"{obj_ref}/view:{clean_name}", obj_ref, policy) as tx:
            view_id = _write_view(tx.conn, tx.schema, actor, obj_ref, clean_name, definition, shared, view_id,
                                  expected, policy)
            tx.details = {"object": tx.schema.object(obj_ref).api_name, "view_id": view_id,
                          "name": clean_name, "shared": shared}
    else:
        if actor.user_id is None:
            raise Forbidden("a personal view belongs to a user; sign in to save one")
        with db.write() as conn:
            schema = db.schema(conn)
            _require_read(conn, schema, schema.object(obj_ref), actor, policy)
            view_id = _write_view(conn, schema, actor, obj_ref, clean_name, definition, False, view_id,
                                  expected, policy)
    return get_view(db, actor, obj_ref, view_id, policy=policy)


def delete_view(db, actor: Actor, obj_ref: str | int, view_id: int, *, policy=None) -> None:
    """Delete a view: a personal one by its owner; a shared one with the configure right
    (logged as "delete_view")."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        row = _view_row(conn, obj, actor, view_id)
    if row.shared:
        with config_change(db, actor, "delete_view", f"{obj_ref}/view:{row.name}", obj_ref, policy) as tx:
            tx.conn.execute(sa.delete(SavedView).where(SavedView.id == row.id))
            tx.details = {"object": obj.api_name, "view_id": row.id, "name": row.name}
        return
    with db.write() as conn:
        conn.execute(sa.delete(SavedView).where(SavedView.id == row.id, SavedView.owner_id == actor.user_id))


# ---- named <-> stored ----------------------------------------------------------------------------
def normalise_definition(schema: Schema, obj: ObjectInfo, definition: Any, *,
                         require_columns: bool = False) -> dict[str, Any]:
    """Validate a named definition; return ``{"columns", "sort", "filter", "page_size"}``
    with the sort as text ("-amount,name") and an empty filter as None."""
    if not isinstance(definition, Mapping):
        raise ValidationError({"definition": 'must be an object like {"columns": [...], "sort": "-amount"}'})
    errors: dict[str, str] = {}
    for key in sorted(set(definition) - _DEFINITION_KEYS - {"kind"}, key=str):
        errors[str(key)] = f"unknown key; allowed are {', '.join(sorted(_DEFINITION_KEYS))}"
    columns = _columns(schema, obj, definition.get("columns"), require_columns, errors)
    sort = _sort(schema, obj, definition.get("sort"), errors)
    tree = definition.get("filter")
    if tree == {}:
        tree = None
    if tree is not None:
        try:
            check_filter(schema, obj, tree, "filter")
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.errors.items()})
    page_size = definition.get("page_size", DEFAULT_PAGE_SIZE)
    if page_size is None:
        page_size = DEFAULT_PAGE_SIZE
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_LIMIT:
        errors["page_size"] = f"must be a whole number from 1 to {MAX_LIMIT}"
    if errors:
        raise ValidationError(errors)
    return {"columns": columns, "sort": sort, "filter": tree, "page_size": page_size}


def definition_to_stored(schema: Schema, obj: ObjectInfo, named: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised named definition with paths by field id."""
    columns = [{**c, "field": path_to_stored(schema, obj, c["field"])} for c in named["columns"]]
    sort = ",".join(("-" if desc else "") + path_to_stored(schema, obj, name)
                    for name, desc in parse_sort(named["sort"]))
    tree = filter_to_stored(schema, obj, named["filter"]) if named["filter"] is not None else None
    return {"columns": columns, "sort": sort, "filter": tree, "page_size": named["page_size"]}


def definition_to_named(schema: Schema, obj: ObjectInfo, stored: Any,
                        readable: FieldAllowed | None = None) -> tuple[dict[str, Any], bool]:
    """A stored definition with today's names, leaving out what no longer exists or what
    ``readable`` refuses. Returns (definition, whether a filter condition was left out)."""
    return _masked(schema, obj, stored, readable)


def stored_paths(stored: Any) -> list[str]:
    """Every stored path a definition uses (columns, sort, filter)."""
    stored = stored if isinstance(stored, Mapping) else {}
    out = [c.get("field") for c in stored.get("columns") or [] if isinstance(c, Mapping)]
    out += [p.lstrip("+-") for p in (stored.get("sort") or "").split(",") if p] \
        if isinstance(stored.get("sort"), str) else []
    out += _leaf_paths(stored.get("filter"))
    return [p for p in out if isinstance(p, str)]


# ---- internals ---------------------------------------------------------------------------------
def _columns(schema: Schema, obj: ObjectInfo, columns: Any, required: bool, errors: dict[str, str]) -> list[dict]:
    if columns is None:
        columns = []
    if not isinstance(columns, list):
        errors["columns"] = 'must be a list like [{"field": "name", "width": 200}]'
        return []
    if required and not columns:
        errors["columns"] = "must list at least one column"
    if len(columns) > MAX_TABLE_COLUMNS:
        errors["columns"] = f"has {len(columns)} columns; at most {MAX_TABLE_COLUMNS} are allowed"
        return []
    out: list[dict] = []
    seen: dict[str, int] = {}
    for i, col in enumerate(columns):
        where = f"columns[{i}]"
        if isinstance(col, str):
            col = {"field": col}
        if not isinstance(col, Mapping):
            errors[where] = 'must be an object like {"field": "name", "width": 200}'
            continue
        for key in sorted(set(col) - _COLUMN_KEYS, key=str):
            errors[f"{where}.{key}"] = "unknown key; allowed are field, width"
        try:
            path = resolve(schema, obj, col.get("field"), key=f"{where}.field")
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.errors.items()})
            continue
        if path.text in seen:
            errors[f"{where}.field"] = f"'{path.text}' is already column {seen[path.text] + 1}"
            continue
        seen[path.text] = i
        item: dict[str, Any] = {"field": path.text}
        width = col.get("width")
        if width is not None:
            if isinstance(width, bool) or not isinstance(width, int) or not MIN_WIDTH <= width <= MAX_WIDTH:
                errors[f"{where}.width"] = f"must be a whole number of pixels from {MIN_WIDTH} to {MAX_WIDTH}"
                continue
            item["width"] = width
        out.append(item)
    return out


def _sort(schema: Schema, obj: ObjectInfo, spec: Any, errors: dict[str, str]) -> str:
    try:
        keys = parse_sort(spec)
        for name, _desc in keys:
            path = resolve(schema, obj, name, key="sort")
            if not getattr(path.field.ftype, "sortable", True):
                raise unsortable(name, path.field.type)
    except ValidationError as exc:
        errors.update({k: " ".join(v) for k, v in exc.errors.items()})
        return ""
    return ",".join(("-" if desc else "") + name for name, desc in keys)


def _leaf_paths(tree: Any) -> list[str]:
    if isinstance(tree, Mapping):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return _leaf_paths(tree["not"])
        if group is not None:
            return [p for item in (tree[group] if isinstance(tree[group], list) else []) for p in _leaf_paths(item)]
        return [tree["field"]] if "field" in tree else []
    return []


def _named_path(schema: Schema, obj: ObjectInfo, stored: Any, readable: FieldAllowed | None) -> str | None:
    name = path_to_named(schema, obj, stored)
    if name is None:
        return None
    if readable is not None:
        try:
            resolve(schema, obj, name, field_allowed=readable, key="field")
        except ValidationError:
            return None
    return name


def _rename_leaves(tree: Any, names: Mapping[str, str]) -> Any:
    if isinstance(tree, Mapping):
        group = next((k for k in GROUP_KEYS if k in tree), None)
        if group == "not":
            return {"not": _rename_leaves(tree["not"], names)}
        if group is not None:
            return {group: [_rename_leaves(item, names) for item in tree[group]]}
        return {**tree, "field": names[tree["field"]]}
    return tree


def _masked(schema: Schema, obj: ObjectInfo, stored: Any, readable: FieldAllowed | None) -> tuple[dict, bool]:
    stored = stored if isinstance(stored, Mapping) else {}
    columns: list[dict[str, Any]] = []
    for col in stored.get("columns") or []:
        if not isinstance(col, Mapping):
            continue
        name = _named_path(schema, obj, col.get("field"), readable)
        if name is not None and all(c["field"] != name for c in columns):
            columns.append({**{k: v for k, v in col.items() if k in _COLUMN_KEYS}, "field": name})
    sort = []
    raw_sort = stored.get("sort") if isinstance(stored.get("sort"), str) else ""
    for part in raw_sort.split(","):
        part = part.strip()
        if not part:
            continue
        desc = part.startswith("-")
        name = _named_path(schema, obj, part.lstrip("+-"), readable)
        if name is not None:
            sort.append(("-" if desc else "") + name)
    tree, incomplete = stored.get("filter"), False
    if tree:
        conjuncts = tree["and"] if isinstance(tree, Mapping) and set(tree) == {"and"} \
            and isinstance(tree["and"], list) else [tree]
        kept = []
        for conj in conjuncts:
            paths = _leaf_paths(conj)
            names = {p: _named_path(schema, obj, p, readable) for p in paths}
            known = {p: n for p, n in names.items() if n is not None}
            if len(known) < len(names):
                incomplete = True
                continue
            kept.append(_rename_leaves(conj, known))
        tree = None if not kept else kept[0] if len(kept) == 1 and len(conjuncts) == 1 else {"and": kept}
    else:
        tree = None
    page_size = stored.get("page_size")
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_LIMIT:
        page_size = DEFAULT_PAGE_SIZE
    return {"columns": columns, "sort": ",".join(sort), "filter": tree, "page_size": page_size}, incomplete


def _stored(schema: Schema, obj: ObjectInfo, named: Mapping[str, Any]) -> dict[str, Any]:
    return definition_to_stored(schema, obj, named)


def _readable(conn, schema: Schema, obj: ObjectInfo, actor: Actor | None, policy) -> FieldAllowed | None:
    if actor is None:
        return None
    return access_for(conn, schema, actor, policy).field_readable(obj)


def _require_read(conn, schema: Schema, obj: ObjectInfo, actor: Actor, policy) -> None:
    if not access_for(conn, schema, actor, policy).can(obj, "read"):
        raise Forbidden(f"reading '{obj.label_plural}' needs the read right")


def _is_table(v) -> sa.ColumnElement:
    """The rows of an object's table designs: no owner, named "(table)" or "(table) <name>"."""
    return sa.and_(v.owner_id.is_(None),
                   sa.or_(v.name == TABLE_NAME, v.name.startswith(TABLE_PREFIX, autoescape=True)))


def _table_where(obj: ObjectInfo) -> list:
    v = SavedView.__table__.c
    return [v.object_id == obj.id, _is_table(v)]


def _table_rows(conn, obj: ObjectInfo, *, lock: bool = False) -> list:
    """All table designs of the object (id, name, definition), oldest first."""
    v = SavedView.__table__.c
    stmt = sa.select(v.id, v.name, v.definition).where(*_table_where(obj)).order_by(v.id)
    return list(conn.execute(stmt.with_for_update() if lock else stmt))


def default_row(rows: list):
    """The default among table design rows: the one marked ``"default": true``, else the
    one named exactly "(table)" (designs saved before there were several), else the oldest."""
    for row in rows:
        if isinstance(row.definition, Mapping) and row.definition.get("default") is True:
            return row
    for row in rows:
        if row.name == TABLE_NAME:
            return row
    return rows[0] if rows else None


def _table_row(conn, obj: ObjectInfo, *, lock: bool = False):
    return default_row(_table_rows(conn, obj, lock=lock))


def _view_row(conn, obj: ObjectInfo, actor: Actor, view_id: Any, *, lock: bool = False):
    """A view the actor may see (shared, or their own); NotFound otherwise, so another
    user's personal view does not even show it exists."""
    if isinstance(view_id, bool) or not isinstance(view_id, int):
        raise NotFound(f"object '{obj.api_name}' has no view {view_id!r}")
    v = SavedView.__table__.c
    stmt = sa.select(v.id, v.name, v.shared, v.owner_id, v.definition) \
        .where(v.id == view_id, v.object_id == obj.id, sa.not_(_is_table(v)))
    row = conn.execute(stmt.with_for_update() if lock else stmt).first()
    if row is None or not (row.shared or (actor.user_id is not None and row.owner_id == actor.user_id)):
        raise NotFound(f"object '{obj.api_name}' has no view #{view_id}")
    return row


def _view_head(row, actor: Actor) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "shared": bool(row.shared), "owner_id": row.owner_id,
            "mine": actor.user_id is not None and row.owner_id == actor.user_id}


def _refuse_hidden(schema: Schema, obj: ObjectInfo, named: Mapping[str, Any], readable: FieldAllowed | None) -> None:
    """A ValidationError naming each column, sort key and filter condition of a (valid)
    named definition on a field the reader may not read, worded like an unknown field's."""
    if readable is None:
        return
    errors: dict[str, str] = {}
    checks = [(c["field"], f"columns[{i}].field") for i, c in enumerate(named["columns"])]
    checks += [(key, "sort") for key, _desc in parse_sort(named["sort"])]
    checks += [(path, "filter") for path in _leaf_paths(named["filter"])]
    for path, key in checks:
        if key in errors:
            continue
        try:
            resolve(schema, obj, path, field_allowed=readable, key=key)
        except ValidationError as exc:
            errors.update({k: " ".join(v) for k, v in exc.errors.items()})
    if errors:
        raise ValidationError(errors)


def _hidden(schema: Schema, obj: ObjectInfo, stored_path: Any, readable: FieldAllowed) -> bool:
    """Does the stored path exist today but name a field the reader may not read?"""
    return path_to_named(schema, obj, stored_path) is not None and \
        _named_path(schema, obj, stored_path, readable) is None


def _conjuncts(tree: Any) -> list[Any]:
    """The top-level and-ed conditions of a filter (what ``_masked`` keeps or leaves out)."""
    if not tree:
        return []
    if isinstance(tree, Mapping) and set(tree) == {"and"} and isinstance(tree["and"], list):
        return list(tree["and"])
    return [tree]


def _keep_hidden(schema: Schema, obj: ObjectInfo, old: Any, new: dict[str, Any], new_sort: str,
                 readable: FieldAllowed | None) -> dict[str, Any]:
    """``new`` (stored form, written by a reader who was shown ``old`` without what they
    may not read) with the parts of ``old`` they may not read put back: hidden columns at
    their place, hidden filter conditions and-ed, the stored sort when the reader left
    the sort as they were shown it. Paths to fields that no longer exist are dropped."""
    if readable is None or not isinstance(old, Mapping):
        return new
    out = dict(new)
    columns = list(new["columns"])
    for i, col in enumerate(old.get("columns") or []):
        if isinstance(col, Mapping) and _hidden(schema, obj, col.get("field"), readable):
            columns.insert(min(i, len(columns)), dict(col))
    out["columns"] = columns
    stored_sort = old.get("sort")
    old_sort = stored_sort if isinstance(stored_sort, str) else ""
    if any(_hidden(schema, obj, p.strip().lstrip("+-"), readable) for p in old_sort.split(",") if p.strip()) \
            and _masked(schema, obj, old, readable)[0]["sort"] == new_sort:
        out["sort"] = old_sort
    kept = [c for c in _conjuncts(old.get("filter"))
            if any(_hidden(schema, obj, p, readable) for p in _leaf_paths(c))
            and all(path_to_named(schema, obj, p) is not None for p in _leaf_paths(c))]
    if kept:
        conditions = _conjuncts(new["filter"]) + kept
        out["filter"] = conditions[0] if len(conditions) == 1 else {"and": conditions}
    return out


def _write_view(conn, schema: Schema, actor: Actor, obj_ref: str | int, name: str, definition: Any,
                shared: bool, view_id: int | None, expected: str | Iterable[str] | None = None,
                policy=None) -> int:
    obj = schema.object(obj_ref)
    readable = _readable(conn, schema, obj, actor, policy)
    row = None
    if view_id is not None:
        row = _view_row(conn, obj, actor, view_id, lock=True)
        if not row.shared and row.owner_id != actor.user_id:  # pragma: no cover - _view_row hides it
            raise NotFound(f"object '{obj.api_name}' has no view #{view_id}")
        if expected is not None:
            shown = _view_dict(conn, schema, obj, actor, row, readable)
            check_unchanged(expected, shown, view_etag(shown), f"the view '{row.name}'")
    if not shared and actor.user_id is None:
        raise Forbidden("a personal view belongs to a user; sign in to save one")
    if definition is KEEP:
        if row is None:
            raise SchemaError({"definition": "is required"})
        stored = dict(row.definition) if isinstance(row.definition, Mapping) else {"kind": "view"}
    else:
        named = normalise_definition(schema, obj, definition)
        _refuse_hidden(schema, obj, named, readable)
        stored = {"kind": "view", **definition_to_stored(schema, obj, named)}
        if row is not None:
            stored = _keep_hidden(schema, obj, row.definition, stored, named["sort"], readable)
    v = SavedView.__table__.c
    same = sa.and_(v.shared.is_(True), sa.not_(_is_table(v))) if shared else \
        sa.and_(v.shared.is_(False), v.owner_id == actor.user_id)
    for other_id, other_name in conn.execute(sa.select(v.id, v.name).where(v.object_id == obj.id, same)):
        if other_id != view_id and other_name.casefold() == name.casefold():
            whose = "a shared view" if shared else "a view of yours"
            raise SchemaError({"name": f"'{obj.label_plural}' already has {whose} named '{other_name}'"})
    owner = actor.user_id
    if view_id is None:
        return conn.execute(sa.insert(SavedView).values(
            object_id=obj.id, name=name, owner_id=owner, shared=shared, definition=stored,
        ).returning(SavedView.id)).scalar_one()
    values: dict[str, Any] = {"name": name, "shared": shared, "definition": stored}
    if not shared:
        values["owner_id"] = owner
    conn.execute(sa.update(SavedView).where(SavedView.id == view_id).values(**values))
    return view_id
