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

from typing import Any, Callable, Mapping

import sqlalchemy as sa

from ..actor import Actor
from ..errors import Forbidden, NotFound, SchemaError, ValidationError
from ..meta_models import SavedView
from ..query.filters import GROUP_KEYS
from ..query.model import MAX_LIMIT
from ..query.paths import resolve
from ..query.sort import parse_sort
from ..rights.stored_filter import check_filter, to_stored as filter_to_stored
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .common import access_for, check_name, config_change, path_to_named, path_to_stored

TABLE_NAME = "(table)"
MAX_TABLE_COLUMNS = 50
MIN_WIDTH, MAX_WIDTH = 40, 1000
DEFAULT_PAGE_SIZE = 50
DEFAULT_COLUMNS = 8  # the display field and up to 7 more
# Newest first: created_at has an index on every object table (physical.py), so even a
# table of millions of records opens with an index scan; a display field of type string
# has no index (and sorts case-insensitively), so sorting by it would sort the whole table.
DEFAULT_SORT = "-created_at"
_DEFINITION_KEYS = {"columns", "sort", "filter", "page_size"}
_COLUMN_KEYS = {"field", "width"}

FieldAllowed = Callable[[FieldInfo], bool]


# ---- the table design --------------------------------------------------------------------------
def default_table(db, obj_ref: str | int, *, actor: Actor | None = None, policy=None) -> dict[str, Any]:
    """The object's table: the stored design, or the generated one (``generated_table``).

    With ``actor``, columns, sort keys and filter conditions the actor may not read are
    left out (the store would refuse them). Named definition:
    ``{"columns": [{"field", "width"?}], "sort", "filter", "page_size"}``."""
    with db.read() as conn:
        schema = db.schema(conn)
        obj = schema.object(obj_ref)
        readable = _readable(conn, schema, obj, actor, policy)
        row = _table_row(conn, obj)
        if row is None:
            definition = generated_table(schema, obj)
            return _masked(schema, obj, _stored(schema, obj, definition), readable)[0]
        return _masked(schema, obj, row.definition, readable)[0]


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


def save_table(db, actor: Actor, obj_ref: str | int, definition: Any, *, policy=None) -> dict[str, Any]:
    """Store the object's table design (configure right; logged as "save_table"; bumps
    the schema version). Returns the named definition as stored."""
    with config_change(db, actor, "save_table", f"{obj_ref}/table", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        named = normalise_definition(tx.schema, obj, definition, require_columns=True)
        stored = {"kind": "table", **definition_to_stored(tx.schema, obj, named)}
        row = _table_row(tx.conn, obj)
        if row is None:
            tx.conn.execute(sa.insert(SavedView).values(object_id=obj.id, name=TABLE_NAME, owner_id=None,
                                                        shared=True, definition=stored))
        else:
            tx.conn.execute(sa.update(SavedView).where(SavedView.id == row.id).values(definition=stored))
        tx.details = {"object": obj.api_name, "columns": [c["field"] for c in named["columns"]]}
        return named


def reset_table(db, actor: Actor, obj_ref: str | int, *, policy=None) -> None:
    """Forget the table design: the generated table is shown again (logged as "reset_table")."""
    with config_change(db, actor, "reset_table", f"{obj_ref}/table", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        tx.conn.execute(sa.delete(SavedView).where(*_table_where(obj)))
        tx.details = {"object": obj.api_name}


# ---- saved views -------------------------------------------------------------------------------
def list_views(db, actor: Actor, obj_ref: str | int, *, policy=None) -> list[dict[str, Any]]:
    """The views ``actor`` may use on the object: the shared ones and the actor's own
    personal ones, by name: ``[{"id", "name", "shared", "owner_id", "mine"}]``.
    Forbidden without the read right on the object."""
    with db.read() as conn:
        schema = db.schema(conn)
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
    with db.read() as conn:
        schema = db.schema(conn)
        obj = schema.object(obj_ref)
        _require_read(conn, schema, obj, actor, policy)
        row = _view_row(conn, obj, actor, view_id)
        readable = _readable(conn, schema, obj, actor, policy)
        definition, incomplete = _masked(schema, obj, row.definition, readable)
        if not definition["columns"]:
            table = _table_row(conn, obj)
            stored = table.definition if table is not None else _stored(schema, obj, generated_table(schema, obj))
            definition["columns"] = _masked(schema, obj, stored, readable)[0]["columns"]
    return {**_view_head(row, actor), "definition": definition, "filter_incomplete": incomplete}


def save_view(db, actor: Actor, obj_ref: str | int, name: str, definition: Any, *, shared: bool = False,
              view_id: int | None = None, policy=None) -> dict[str, Any]:
    """Create (``view_id`` None) or change a saved view; returns it as ``get_view`` does.

    Anyone with the read right on the object may keep personal views (only the owner
    sees, changes or deletes one). Shared views -- making one, changing one, turning a
    personal view into one or back -- need the configure right on the object (admins
    always); they are logged as "save_view" and bump the schema version. Names are
    unique per object among the shared views, and among each user's personal views."""
    clean_name = check_name(name)
    if clean_name == TABLE_NAME:
        raise SchemaError({"name": f"'{TABLE_NAME}' is reserved for the object's table"})
    if not isinstance(shared, bool):
        raise SchemaError({"shared": "must be true or false"})
    was_shared = False
    if view_id is not None:
        with db.read() as conn:
            obj = db.schema(conn).object(obj_ref)
            was_shared = bool(_view_row(conn, obj, actor, view_id).shared)
    if shared or was_shared:
        with config_change(db, actor, "save_view", f"{obj_ref}/view:{clean_name}", obj_ref, policy) as tx:
            view_id = _write_view(tx.conn, tx.schema, actor, obj_ref, clean_name, definition, shared, view_id)
            tx.details = {"object": tx.schema.object(obj_ref).api_name, "view_id": view_id,
                          "name": clean_name, "shared": shared}
    else:
        if actor.user_id is None:
            raise Forbidden("a personal view belongs to a user; sign in to save one")
        with db.write() as conn:
            schema = db.schema(conn)
            _require_read(conn, schema, schema.object(obj_ref), actor, policy)
            view_id = _write_view(conn, schema, actor, obj_ref, clean_name, definition, False, view_id)
    return get_view(db, actor, obj_ref, view_id, policy=policy)


def delete_view(db, actor: Actor, obj_ref: str | int, view_id: int, *, policy=None) -> None:
    """Delete a view: a personal one by its owner; a shared one with the configure right
    (logged as "delete_view")."""
    with db.read() as conn:
        obj = db.schema(conn).object(obj_ref)
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
                raise ValidationError({"sort": f"'{name}': a {path.field.type} field cannot be sorted"})
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
    columns = []
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
            if any(n is None for n in names.values()):
                incomplete = True
                continue
            kept.append(_rename_leaves(conj, names))
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
    return sa.and_(v.owner_id.is_(None), v.name == TABLE_NAME)


def _table_where(obj: ObjectInfo) -> list:
    v = SavedView.__table__.c
    return [v.object_id == obj.id, _is_table(v)]


def _table_row(conn, obj: ObjectInfo):
    v = SavedView.__table__.c
    return conn.execute(sa.select(v.id, v.definition).where(*_table_where(obj)).order_by(v.id).limit(1)).first()


def _view_row(conn, obj: ObjectInfo, actor: Actor, view_id: Any):
    """A view the actor may see (shared, or their own); NotFound otherwise, so another
    user's personal view does not even show it exists."""
    if isinstance(view_id, bool) or not isinstance(view_id, int):
        raise NotFound(f"object '{obj.api_name}' has no view {view_id!r}")
    v = SavedView.__table__.c
    row = conn.execute(sa.select(v.id, v.name, v.shared, v.owner_id, v.definition)
                       .where(v.id == view_id, v.object_id == obj.id, sa.not_(_is_table(v)))).first()
    if row is None or not (row.shared or (actor.user_id is not None and row.owner_id == actor.user_id)):
        raise NotFound(f"object '{obj.api_name}' has no view #{view_id}")
    return row


def _view_head(row, actor: Actor) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "shared": bool(row.shared), "owner_id": row.owner_id,
            "mine": actor.user_id is not None and row.owner_id == actor.user_id}


def _write_view(conn, schema: Schema, actor: Actor, obj_ref: str | int, name: str, definition: Any,
                shared: bool, view_id: int | None) -> int:
    obj = schema.object(obj_ref)
    if view_id is not None:
        row = _view_row(conn, obj, actor, view_id)
        if not row.shared and row.owner_id != actor.user_id:  # pragma: no cover - _view_row hides it
            raise NotFound(f"object '{obj.api_name}' has no view #{view_id}")
    if not shared and actor.user_id is None:
        raise Forbidden("a personal view belongs to a user; sign in to save one")
    named = normalise_definition(schema, obj, definition)
    stored = {"kind": "view", **definition_to_stored(schema, obj, named)}
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
