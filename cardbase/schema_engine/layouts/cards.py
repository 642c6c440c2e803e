"""Card layouts: the data-entry forms of an object. An object may have several cards;
one is its default. When none was designed a default is generated from the fields.

Named layout (what the UI and the API see; fields by API name)::

    {"tabs": [{"label": "Main", "sections": [
        {"label": "Details", "columns": 2, "help": "", "items": [
            {"field": "stage", "column": 1, "label": "optional override", "help": "optional help"},
            {"children": {"object": "order_line", "link": "order"}, "label": "Lines",
             "columns": ["product", "quantity", "price", "cost"]},
            {"related": {"object": "task", "link": "deal"}, "label": "Tasks", "columns": ["title", "due"]},
        ]}]}]}

``field`` items place one field (system fields such as ``code`` or ``owner`` too) in
column 1..columns of the section. ``children`` items are the editable sub-table of the
child records linked to this record (order lines of an order), ``related`` items a
read-only list (tasks of a deal); both name the child object and its link field to this
object. A layout with a single tab may leave the tab label empty.

Stored form (``cb_card.layout``): the same JSON with fields as ``#<field id>`` (system
fields by name), the child object/link pair as the link field's id (``"children": "#34"``)
and child columns as ids, so renames never break a card and ``usage.py`` sees the fields
a card uses. References to fields that no longer exist are dropped when a card is read.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

import sqlalchemy as sa

from ..actor import Actor
from ..errors import NotFound, SchemaError
from ..i18n import language
from ..meta_models import CardLayout
from ..references import LIST_KINDS
from ..snapshot import FieldInfo, ObjectInfo, Schema
from .common import (MAX_HELP, MAX_LABEL, check_name, check_text, config_change, field_from_token, field_token,
                     reading)
from ..usage import referenced_field_ids
from .fingerprints import check_unchanged, fingerprint

MAX_TABS = 20
MAX_SECTIONS = 50  # in the whole card
MAX_ITEMS = 500  # in the whole card
MAX_COLUMNS = 4  # columns of a section
MAX_LIST_COLUMNS = 20  # columns of a children/related list
DEFAULT_LIST_COLUMNS = 6
_FIELD_ITEM_KEYS = {"field", "column", "label", "help"}
_LIST_ITEM_KEYS = {"label", "columns", "help"}
_SECTION_KEYS = {"label", "columns", "help", "items"}
_TAB_KEYS = {"label", "sections"}


# ---- public API ------------------------------------------------------------------------------
def list_cards(db, obj_ref: str | int) -> list[dict[str, Any]]:
    """The designed cards of an object, in creation order: ``[{"id", "name", "is_default"}]``
    (empty when none was designed: ``get_card`` then generates one)."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        rows = conn.execute(sa.select(CardLayout.id, CardLayout.name, CardLayout.is_default)
                            .where(CardLayout.object_id == obj.id).order_by(CardLayout.id)).all()
    return [{"id": r.id, "name": r.name, "is_default": bool(r.is_default)} for r in rows]


def get_card(db, obj_ref: str | int, card_id: int | None = None) -> dict[str, Any]:
    """One card: ``{"id", "name", "is_default", "layout": <named layout>}``.

    ``card_id`` None: the object's default card, or -- when no card was designed -- a
    generated one (``id`` None, see ``default_layout``). Fields that no longer exist are
    left out of a stored layout (never an error when a card is shown). NotFound when the
    object has no card ``card_id``."""
    with reading(db) as (conn, schema):
        obj = schema.object(obj_ref)
        row = _card_row(conn, obj, card_id)
    if row is None:
        return {"id": None, "name": obj.label, "is_default": True, "layout": default_layout(schema, obj)}
    return _card_dict(schema, obj, row)


def card_etag(card: Mapping[str, Any]) -> str:
    """The fingerprint of a card as ``get_card`` returns it (the API's ETag)."""
    return fingerprint("card", card)


def default_layout(schema: Schema, obj: ObjectInfo) -> dict[str, Any]:
    """The generated card: one tab with a section "Details" holding every user field in
    two columns in field order (computed fields too: the UI shows them read-only), then a
    ``children`` item for every child object whose link here deletes with its parent
    (``on_delete`` "cascade": parts such as order lines), then a ``related`` item for
    every other link pointing here (tasks of a deal)."""
    items: list[dict[str, Any]] = [{"field": f.api_name, "column": 1 + i % 2}
                                   for i, f in enumerate(obj.user_fields)]
    for child, link in schema.children(obj):
        kind = "children" if link.options.get("on_delete") == "cascade" else "related"
        items.append({kind: {"object": child.api_name, "link": link.api_name},
                      "label": _list_label(schema, obj, child, link, language()),
                      "columns": _default_list_columns(child, link)})
    return {"tabs": [{"label": "", "sections": [
        {"label": "Details", "columns": 2, "help": "", "items": items}]}]}


def validate_card(db, obj_ref: str | int, layout: Any) -> dict[str, Any]:
    """Check a named layout and return it normalised (every key present, texts stripped,
    defaults filled in). Raises SchemaError whose keys locate each problem, e.g.
    ``{"layout.tabs[0].sections[1].items[2].field": "no field 'foo' on Deal"}``."""
    schema = db.schema()
    return normalise_layout(schema, schema.object(obj_ref), layout)


def save_card(db, actor: Actor, obj_ref: str | int, name: str, layout: Any, *,
              is_default: bool = False, card_id: int | None = None, expected: str | Iterable[str] | None = None,
              policy=None) -> dict[str, Any]:
    """Create (``card_id`` None) or change a card; returns it as ``get_card`` does.

    ``expected``: the ``card_etag`` (or several) of the card as the caller read it; when
    the card is no longer that, Conflict (with ``current``) and nothing is saved.

    Needs the configure right on the object (admins always). The name is unique per
    object (case-insensitive). ``is_default`` True makes this the object's default card
    (the previous default stops being one); False keeps the card's current status -- the
    first card of an object is always the default. Logged as "save_card" and bumps the
    schema version."""
    clean_name = check_name(name)
    if not isinstance(is_default, bool):
        raise SchemaError({"is_default": "must be true or false"})
    with config_change(db, actor, "save_card", f"{obj_ref}/card:{clean_name}", obj_ref, policy) as tx:
        conn, schema = tx.conn, tx.schema
        obj = schema.object(obj_ref)
        if card_id is not None:
            current = _card_row(conn, obj, card_id, lock=True)
            if current is None or current.id != card_id:
                raise NotFound(f"object '{obj.api_name}' has no card #{card_id}")
            shown = _card_dict(schema, obj, current)
            check_unchanged(expected, shown, card_etag(shown), f"the card '{current.name}'")
        stored = layout_to_stored(schema, obj, normalise_layout(schema, obj, layout))
        others = conn.execute(sa.select(CardLayout.id, CardLayout.name, CardLayout.is_default)
                              .where(CardLayout.object_id == obj.id)).all()
        for other in others:
            if other.id != card_id and other.name.casefold() == clean_name.casefold():
                raise SchemaError({"name": f"'{obj.label}' already has a card named '{other.name}'"})
        has_default = any(o.is_default for o in others if o.id != card_id)
        make_default = is_default or not has_default
        if make_default:
            conn.execute(sa.update(CardLayout).where(CardLayout.object_id == obj.id, CardLayout.is_default.is_(True))
                         .values(is_default=False))
        if card_id is None:
            card_id = conn.execute(sa.insert(CardLayout).values(
                object_id=obj.id, name=clean_name, is_default=make_default, layout=stored,
            ).returning(CardLayout.id)).scalar_one()
        else:
            values: dict[str, Any] = {"name": clean_name, "layout": stored}
            if make_default:
                values["is_default"] = True
            conn.execute(sa.update(CardLayout).where(CardLayout.id == card_id).values(**values))
        row = _card_row(conn, obj, card_id)
        tx.details = {"object": obj.api_name, "card_id": card_id, "name": clean_name,
                      "is_default": bool(row.is_default)}
        return _card_dict(schema, obj, row)


def delete_card(db, actor: Actor, obj_ref: str | int, card_id: int, *, policy=None) -> None:
    """Delete a card (configure right; logged as "delete_card"). When it was the default,
    the oldest remaining card becomes the default; with none left the generated card is
    shown again."""
    with config_change(db, actor, "delete_card", f"{obj_ref}/card:{card_id}", obj_ref, policy) as tx:
        obj = tx.schema.object(obj_ref)
        row = _card_row(tx.conn, obj, card_id)
        if row is None or row.id != card_id:
            raise NotFound(f"object '{obj.api_name}' has no card #{card_id}")
        tx.conn.execute(sa.delete(CardLayout).where(CardLayout.id == card_id))
        if row.is_default:
            first = tx.conn.execute(sa.select(sa.func.min(CardLayout.id))
                                    .where(CardLayout.object_id == obj.id)).scalar()
            if first is not None:
                tx.conn.execute(sa.update(CardLayout).where(CardLayout.id == first).values(is_default=True))
        tx.details = {"object": obj.api_name, "card_id": card_id, "name": row.name}


def card_fields(layout: Mapping[str, Any]) -> list[str]:
    """API names of the fields placed on a named layout (``field`` items), in order."""
    out: list[str] = []
    for tab in layout.get("tabs") or []:
        for section in tab.get("sections") or []:
            for item in section.get("items") or []:
                if isinstance(item, Mapping) and isinstance(item.get("field"), str) and item["field"] not in out:
                    out.append(item["field"])
    return out


# ---- named <-> stored --------------------------------------------------------------------------
def normalise_layout(schema: Schema, obj: ObjectInfo, layout: Any) -> dict[str, Any]:
    """Validate a named layout against ``schema``; return it normalised."""
    v = _Validator(schema, obj)
    result = v.layout(layout)
    if v.errors:
        raise SchemaError(v.errors)
    return result


def layout_to_stored(schema: Schema, obj: ObjectInfo, named: Mapping[str, Any]) -> dict[str, Any]:
    """A normalised named layout with fields as ``#<id>`` tokens."""
    tabs = []
    for tab in named["tabs"]:
        sections = []
        for section in tab["sections"]:
            items = []
            for item in section["items"]:
                if "field" in item:
                    items.append({**item, "field": field_token(obj.field(item["field"]))})
                    continue
                kind = _kind(item)
                child = schema.object(item[kind]["object"])
                items.append({kind: field_token(child.field(item[kind]["link"])), "label": item["label"],
                              "columns": [field_token(child.field(c)) for c in item["columns"]],
                              **({"help": item["help"]} if item.get("help") else {})})
            sections.append({**section, "items": items})
        tabs.append({"label": tab["label"], "sections": sections})
    return {"tabs": tabs}


def layout_to_named(schema: Schema, obj: ObjectInfo, stored: Any) -> dict[str, Any]:
    """A stored layout with today's names. Never raises: references to fields, links or
    objects that no longer exist are left out (a field placed twice shows once)."""
    stored = stored if isinstance(stored, Mapping) else {}
    tabs_in = stored.get("tabs")
    if not isinstance(tabs_in, list):  # early cards: {"sections": [...]} without tabs
        tabs_in = [{"label": "", "sections": stored.get("sections") or []}]
    placed: set[str] = set()
    tabs = []
    for tab in tabs_in:
        if not isinstance(tab, Mapping):
            continue
        sections = []
        for section in tab.get("sections") or []:
            if not isinstance(section, Mapping):
                continue
            columns = section.get("columns")
            columns = columns if isinstance(columns, int) and 1 <= columns <= MAX_COLUMNS else 1
            raw_items = section.get("items")
            if raw_items is None:  # early cards: "fields": ["#12", ...]
                raw_items = [{"field": f} for f in section.get("fields") or []]
            items = []
            for item in raw_items if isinstance(raw_items, list) else []:
                named = _item_to_named(schema, obj, item, columns, placed)
                if named is not None:
                    items.append(named)
            sections.append({"label": _text(section.get("label", section.get("title"))), "columns": columns,
                             "help": _text(section.get("help")), "items": items})
        tabs.append({"label": _text(tab.get("label")), "sections": sections})
    return {"tabs": tabs}


def stored_field_ids(stored: Any) -> set[int]:
    """Ids of the user fields a stored layout refers to (for tools; ``usage.py`` finds
    the same through the ``#<id>`` tokens)."""

    return referenced_field_ids(stored)


# ---- internals ---------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _kind(item: Mapping[str, Any]) -> str:
    return next(k for k in LIST_KINDS if k in item)


def _item_to_named(schema: Schema, obj: ObjectInfo, item: Any, columns: int, placed: set[str]) -> dict | None:
    if isinstance(item, str):
        item = {"field": item}
    if not isinstance(item, Mapping):
        return None
    if "field" in item:
        field = field_from_token(schema, obj, item["field"])
        if field is None or field.api_name in placed:
            return None
        placed.add(field.api_name)
        column = item.get("column")
        out: dict[str, Any] = {"field": field.api_name,
                               "column": min(column, columns) if isinstance(column, int) and column >= 1 else 1}
        for key in ("label", "help"):
            if _text(item.get(key)):
                out[key] = item[key]
        return out
    kind = next((k for k in LIST_KINDS if k in item), None)
    if kind is None or not isinstance(item[kind], str) or not item[kind].startswith("#"):
        return None
    try:
        link = schema.field_by_id(int(item[kind][1:]))
    except (NotFound, ValueError):
        return None
    if link.type != "link" or int(link.options.get("target", 0)) != obj.id:
        return None
    child = schema.object(link.object_id)
    cols = []
    for token in item.get("columns") or []:
        f = field_from_token(schema, child, token)
        if f is not None and f.api_name not in cols:
            cols.append(f.api_name)
    out = {kind: {"object": child.api_name, "link": link.api_name},
           "label": _shown_list_label(schema, obj, child, link, item.get("label")), "columns": cols}
    if _text(item.get("help")):
        out["help"] = item["help"]
    return out


def _list_label(schema: Schema, obj: ObjectInfo, child: ObjectInfo, link: FieldInfo,
                reader: str | None = None) -> str:
    """A child list's heading when the power user gave none: the child's plural, plus the
    link when several lead here. Stored in the base language; read in the reader's (a
    German user reads "Aufgaben", not "Tasks")."""
    plural = child.label_plural_in(reader)
    links = [f for c, f in schema.children(obj) if c.id == child.id]
    return plural if len(links) == 1 else f"{plural} ({link.label_in(reader)})"


def _shown_list_label(schema: Schema, obj: ObjectInfo, child: ObjectInfo, link: FieldInfo, stored: Any) -> str:
    """The heading a reader sees: the power user's own label, else (or when it is just the
    generated one) the generated label in the reader's language."""
    text = _text(stored)
    if text and text != _list_label(schema, obj, child, link):
        return text
    return _list_label(schema, obj, child, link, language())


def _default_list_columns(child: ObjectInfo, link: FieldInfo) -> list[str]:
    cols = [f.api_name for f in child.user_fields if f.id != link.id and f.type != "text"]
    return cols[:DEFAULT_LIST_COLUMNS] or ["code"]


def _card_row(conn, obj: ObjectInfo, card_id: int | None, *, lock: bool = False):
    c = CardLayout.__table__.c
    stmt = sa.select(c.id, c.name, c.is_default, c.layout).where(c.object_id == obj.id)
    if lock:  # a save compares and writes in one transaction (SQLite: BEGIN IMMEDIATE already)
        stmt = stmt.with_for_update()
    if card_id is not None:
        if isinstance(card_id, bool) or not isinstance(card_id, int):
            raise NotFound(f"object '{obj.api_name}' has no card {card_id!r}")
        row = conn.execute(stmt.where(c.id == card_id)).first()
        if row is None:
            raise NotFound(f"object '{obj.api_name}' has no card #{card_id}")
        return row
    return conn.execute(stmt.order_by(c.is_default.desc(), c.id).limit(1)).first()


def _card_dict(schema: Schema, obj: ObjectInfo, row) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "is_default": bool(row.is_default),
            "layout": layout_to_named(schema, obj, row.layout)}


class _Validator:
    """Walks a named layout collecting every problem under its location."""

    def __init__(self, schema: Schema, obj: ObjectInfo):
        self.schema, self.obj = schema, obj
        self.errors: dict[str, str] = {}
        self.placed: dict[str, str] = {}  # field name -> where it was first placed
        self.sections = 0
        self.items = 0

    def err(self, key: str, message: str) -> None:
        self.errors.setdefault(key, message)

    def keys(self, node: Mapping, allowed: set[str], where: str) -> None:
        for k in sorted(set(node) - allowed, key=str):
            self.err(f"{where}.{k}", f"unknown key; allowed are {', '.join(sorted(allowed))}")

    def text(self, node: Mapping, key: str, where: str, max_len: int) -> str:
        errors: dict[str, str] = {}
        value = check_text(node.get(key), f"{where}.{key}", max_len, errors)
        for k, v in errors.items():
            self.err(k, v)
        return value

    def whole(self, value: Any, key: str, low: int, high: int, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.err(key, f"must be a whole number from {low} to {high}")
            return default
        return value

    def layout(self, layout: Any) -> dict[str, Any]:
        where = "layout"
        if not isinstance(layout, Mapping):
            self.err(where, 'must be an object like {"tabs": [{"label": "Main", "sections": [...]}]}')
            return {"tabs": []}
        self.keys(layout, {"tabs"}, where)
        tabs = layout.get("tabs")
        if not isinstance(tabs, list) or not tabs:
            self.err(f"{where}.tabs", "must be a non-empty list of tabs")
            return {"tabs": []}
        if len(tabs) > MAX_TABS:
            self.err(f"{where}.tabs", f"has {len(tabs)} tabs; at most {MAX_TABS} are allowed")
            return {"tabs": []}
        return {"tabs": [self.tab(t, f"{where}.tabs[{i}]", len(tabs)) for i, t in enumerate(tabs)]}

    def tab(self, tab: Any, where: str, count: int) -> dict[str, Any]:
        if not isinstance(tab, Mapping):
            self.err(where, "must be an object with a label and sections")
            return {"label": "", "sections": []}
        self.keys(tab, _TAB_KEYS, where)
        label = self.text(tab, "label", where, MAX_LABEL)
        if count > 1 and not label and f"{where}.label" not in self.errors:
            self.err(f"{where}.label", "is required when the card has several tabs")
        sections = tab.get("sections")
        if not isinstance(sections, list):
            self.err(f"{where}.sections", "must be a list of sections")
            return {"label": label, "sections": []}
        self.sections += len(sections)
        if self.sections > MAX_SECTIONS:
            self.err("layout", f"has more than {MAX_SECTIONS} sections; at most {MAX_SECTIONS} are allowed")
            return {"label": label, "sections": []}
        return {"label": label, "sections": [self.section(s, f"{where}.sections[{i}]") for i, s in enumerate(sections)]}

    def section(self, section: Any, where: str) -> dict[str, Any]:
        if not isinstance(section, Mapping):
            self.err(where, "must be an object with a label, columns and items")
            return {"label": "", "columns": 1, "help": "", "items": []}
        self.keys(section, _SECTION_KEYS, where)
        label = self.text(section, "label", where, MAX_LABEL)
        help_text = self.text(section, "help", where, MAX_HELP)
        columns = self.whole(section.get("columns"), f"{where}.columns", 1, MAX_COLUMNS, 1)
        items = section.get("items", [])
        if not isinstance(items, list):
            self.err(f"{where}.items", "must be a list of items")
            items = []
        self.items += len(items)
        if self.items > MAX_ITEMS:
            self.err("layout", f"has more than {MAX_ITEMS} items; at most {MAX_ITEMS} are allowed")
            items = []
        out = [self.item(item, f"{where}.items[{i}]", columns) for i, item in enumerate(items)]
        return {"label": label, "columns": columns, "help": help_text, "items": [o for o in out if o is not None]}

    def item(self, item: Any, where: str, columns: int) -> dict[str, Any] | None:
        if isinstance(item, str):  # shorthand: a field name
            item = {"field": item}
        if not isinstance(item, Mapping):
            self.err(where, 'must be an object: {"field": ...}, {"children": ...} or {"related": ...}')
            return None
        kinds = [k for k in ("field",) + LIST_KINDS if k in item]
        if len(kinds) != 1:
            self.err(where, "must have exactly one of 'field', 'children' or 'related'")
            return None
        if kinds[0] == "field":
            return self.field_item(item, where, columns)
        return self.list_item(item, kinds[0], where)

    def field_item(self, item: Mapping, where: str, columns: int) -> dict[str, Any] | None:
        self.keys(item, _FIELD_ITEM_KEYS, where)
        name = item["field"]
        column = self.whole(item.get("column"), f"{where}.column", 1, columns, 1)
        label = self.text(item, "label", where, MAX_LABEL)
        help_text = self.text(item, "help", where, MAX_HELP)
        if not isinstance(name, str) or not name:
            self.err(f"{where}.field", "must be the name of a field")
            return None
        if not self.obj.has_field(name):
            self.err(f"{where}.field", f"no field '{name}' on {self.obj.label}")
            return None
        if name in self.placed:
            self.err(f"{where}.field", f"'{name}' is already placed at {self.placed[name]}")
            return None
        self.placed[name] = where
        out: dict[str, Any] = {"field": name, "column": column}
        if label:
            out["label"] = label
        if help_text:
            out["help"] = help_text
        return out

    def list_item(self, item: Mapping, kind: str, where: str) -> dict[str, Any] | None:
        self.keys(item, _LIST_ITEM_KEYS | {kind}, where)
        ref = item[kind]
        key = f"{where}.{kind}"
        if not isinstance(ref, Mapping) or set(ref) != {"object", "link"}:
            self.err(key, 'must be {"object": <child object>, "link": <its link field to this object>}')
            return None
        child_name, link_name = ref.get("object"), ref.get("link")
        if not isinstance(child_name, str) or not self.schema.has_object(child_name):
            self.err(f"{key}.object", f"there is no object {child_name!r}")
            return None
        child = self.schema.object(child_name)
        link = child.fields_by_name.get(link_name) if isinstance(link_name, str) else None
        if link is None:
            self.err(f"{key}.link", f"no field {link_name!r} on {child.label}")
            return None
        if link.type != "link" or int(link.options.get("target", 0)) != self.obj.id:
            self.err(f"{key}.link", f"'{link_name}' of {child.label} is not a link to {self.obj.label}")
            return None
        label = self.text(item, "label", where, MAX_LABEL) or _list_label(self.schema, self.obj, child, link)
        help_text = self.text(item, "help", where, MAX_HELP)
        cols = item.get("columns")
        if cols is None:
            cols = _default_list_columns(child, link)
        if not isinstance(cols, list) or not cols:
            self.err(f"{where}.columns", f"must be a non-empty list of fields of {child.label}")
            cols = []
        elif len(cols) > MAX_LIST_COLUMNS:
            self.err(f"{where}.columns", f"has {len(cols)} columns; at most {MAX_LIST_COLUMNS} are allowed")
            cols = []
        names: list[str] = []
        for i, col in enumerate(cols):
            ckey = f"{where}.columns[{i}]"
            if not isinstance(col, str) or not child.has_field(col):
                self.err(ckey, f"no field {col!r} on {child.label}" if not isinstance(col, str)
                         else f"no field '{col}' on {child.label}")
            elif col in names:
                self.err(ckey, f"'{col}' is listed twice")
            else:
                names.append(col)
        out = {kind: {"object": child.api_name, "link": link.api_name}, "label": label, "columns": names}
        if help_text:
            out["help"] = help_text
        return out
