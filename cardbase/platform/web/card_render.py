"""The render context of a card: a card layout (``schema_engine.layouts.cards``) filled
with a record, the actor's rights and the form's state, ready for the Jinja partial
``web/cards/_layout.html``.

``card_context(db, actor, obj_ref, record, layout, mode)`` is callable without a route
(inside any request): the card route uses it with mode "edit", the card designer's live
preview with mode "preview" (no record, no child records, nothing posted). It reads
through the request's one engine session (``session=`` or ``engine_session()``); ``db`` and
``actor`` are kept for the designer's call and must be the request's.

Rights come from the session's capabilities (``s.capabilities(obj)``), the same answer the
store applies: fields the actor may not read are not in the context at all, fields they
may not write are disabled (calculated and system fields show their value read-only),
and the child lists carry the actor's create, edit and delete rights on the child object
(the store refuses a row the row rules exclude).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field as dc_field
from typing import Any, Mapping

from flask import current_app, g, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from cardbase.schema_engine.actor import Actor
from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.field_rules import field_rules_state, rules_json
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.schema_engine.store.session import Session

from ..context import engine_session
from ..i18n import current_language
from .display import render_value
from .widgets import Control, FieldValueError, widget_for

MAX_CHILD_ROWS = 500     # child records shown in a sub-table (order lines)
MAX_RELATED_ROWS = 20    # records shown in a related list; "all N" links to the list
FIELD_PREFIX = "f-"      # form names of the card's fields
CHILD_PREFIX = "c-"      # form names in a child row


# ---- the context ----------------------------------------------------------------------------
@dataclass
class FieldSlot:
    """One field on the card."""

    field: FieldInfo
    label: str
    help: str
    editable: bool                 # a control (else the value, read-only)
    html: Markup                   # the control or the value
    control_id: str
    errors: list[str] = dc_field(default_factory=list)
    required: bool = False
    hidden_by_rule: bool = False
    readonly_by_rule: bool = False
    conflict: dict[str, Any] | None = None   # {"theirs_html", "theirs_raw", "state": "auto"|"both"}
    column: int = 1


@dataclass
class ListSlot:
    """A child sub-table (``children``: editable in place) or a related list (read-only)."""

    kind: str
    obj: ObjectInfo
    link: FieldInfo
    label: str
    help: str
    columns: list[FieldInfo]
    rows: list[dict[str, Any]]
    total: int
    can_create: bool
    can_edit: bool
    can_delete: bool
    key: str                       # "<child object>.<link>": the id of the list on the page
    new_url: str | None = None     # a related list's "New" (prefilled with the parent)
    all_url: str | None = None     # the full list, when more rows exist than shown
    form_columns: list[FieldInfo] = dc_field(default_factory=list)  # what a row form edits
    editable_names: frozenset[str] = frozenset()
    heads: list[tuple[FieldInfo, str, bool]] = dc_field(default_factory=list)  # (field, label, numeric)
    row_url: str = ""              # a child's card URL without its id
    edit_text: str = ""
    edit_label: str = ""
    delete_text: str = ""
    delete_label: str = ""

    def __post_init__(self) -> None:
        # computed once per list, not once per row (a card may show hundreds of rows)
        language = current_language()
        self.heads = [(f, f.label_in(language), f.ftype.value_type == "number" or f.type == "money")
                      for f in self.form_columns]
        self.row_url = url_for("cards.card", object_name=self.obj.api_name, record_id=0)[:-1]
        self.edit_text, self.delete_text = _("Edit"), _("Delete")
        self.edit_label, self.delete_label = _("Edit"), _("Delete")


@dataclass
class Section:
    label: str
    help: str
    columns: int
    grid: list[list[FieldSlot]]
    lists: list[ListSlot]


@dataclass
class Tab:
    id: str
    label: str
    sections: list[Section]


def card_context(db, actor: Actor | None, obj_ref: str | int, record: Mapping[str, Any] | None,
                 layout: Mapping[str, Any], mode: str = "edit", *, raws: Mapping[str, Any] | None = None,
                 errors: Mapping[str, list[str]] | None = None, conflict: Mapping[str, dict] | None = None,
                 record_rights: Mapping[str, bool] | None = None, language: str | None = None,
                 session: Session | None = None, generated: bool = False) -> dict[str, Any]:
    """The render context of ``layout`` (a named card layout: ``{"tabs": [...]}``).

    ``record`` None: a new record (mode "edit") or the designer's preview (mode
    "preview"). ``raws`` are the values the user typed (by field name, as the widgets
    hold them) and win over the record's; ``errors`` the messages by field name;
    ``conflict`` per field what the saved record now holds (see ``cards.py``).
    ``record_rights`` (read/edit/delete on this record) defaults to the object rights."""
    if mode not in ("edit", "preview"):
        raise ValueError(f"mode must be 'edit' or 'preview', not {mode!r}")
    if session is None and actor is not None and g.get("cardbase_actor") is None:
        g.cardbase_actor = actor  # the request's actor (a request without a signed-in user)
    s = session or engine_session()
    if actor is not None and s.actor != actor:
        raise ValueError("card_context renders for the request's actor only")
    language = language or current_language()
    schema = s.schema
    obj = schema.object(obj_ref)
    list_items = [item for tab in layout.get("tabs") or [] for s in tab.get("sections") or []
                  for item in s.get("items") or [] if "children" in item or "related" in item]
    child_objects = {obj.api_name: obj}
    for item in list_items:
        kind = "children" if "children" in item else "related"
        name = item[kind]["object"]
        if schema.has_object(name):
            child_objects[name] = schema.object(name)
    rights = {name: s.capabilities(o) for name, o in child_objects.items()}
    mine = rights[obj.api_name]
    is_new = record is None
    if record_rights is None:
        record_rights = {"read": mine.can("read"), "edit": mine.can("create") if is_new else mine.can("edit"),
                         "delete": mine.can("delete") and not is_new}
    may_write = mode == "preview" or (mine.can("create") if is_new else bool(record_rights.get("edit")))
    raws = dict(raws or {})
    errors = dict(errors or {})
    conflict = dict(conflict or {})

    # the values the rules see: what the form holds, else the record's
    rule_values: dict[str, Any] = dict(record or {})
    for name, raw in raws.items():
        f = obj.fields_by_name.get(name)
        if f is None:
            continue
        try:
            rule_values[name] = widget_for(f).parse(f, raw, language)
        except (FieldValueError, CardbaseError, TypeError, ValueError):
            rule_values[name] = None
    rules = {k: v for k, v in rules_json(schema, obj).items() if mine.reads(k)}
    rule_state = field_rules_state(schema, obj, rule_values) if rules else {}
    # values of the fields the rules read, for fields the card shows no control of
    read_by_rules: dict[str, Any] = {}
    for tree in (t for kinds in rules.values() for t in kinds.values()):
        for name in _leaf_names(tree):
            f = obj.fields_by_name.get(name)
            if f is not None and mine.reads(f):
                read_by_rules[name] = _rule_json(f, rule_values.get(name))

    tabs: list[Tab] = []
    placed: set[str] = set()
    for t_index, tab in enumerate(layout.get("tabs") or []):
        sections = []
        for section in tab.get("sections") or []:
            n = section.get("columns") or 1
            grid: list[list[FieldSlot]] = [[] for _ in range(n)]
            lists: list[ListSlot] = []
            for item in section.get("items") or []:
                if "field" in item:
                    f = obj.fields_by_name.get(item["field"])
                    if f is None or not mine.reads(f) or f.api_name in ("id", "version"):
                        continue  # hidden fields are not rendered at all
                    placed.add(f.api_name)
                    slot = _field_slot(schema, obj, f, item, record, raws, errors, conflict, rule_state,
                                       mine, may_write, language, mode)
                    grid[min(max(slot.column, 1), n) - 1].append(slot)
                else:
                    found = _list_slot(s, obj, record, item, rights, mode, language)
                    if found is not None:
                        lists.append(found)
            sections.append(Section(_section_label(section.get("label") or "", generated), section.get("help") or "",
                                    n, grid, lists))
        tabs.append(Tab(f"cb-tab-{t_index}", tab.get("label") or "", sections))

    # errors of fields not on the layout (a required field the power user left off) still show
    loose = {name: msgs for name, msgs in errors.items() if name not in placed}
    summary = []
    for tab in tabs:
        for section in tab.sections:
            for column in section.grid:
                for slot in column:
                    for message in slot.errors:
                        summary.append({"field": slot.field.api_name, "label": slot.label, "message": message,
                                        "target": slot.control_id})
    for name, msgs in loose.items():
        f = obj.fields_by_name.get(name)
        label = f.label_in(language) if f is not None and mine.reads(f) else name
        for message in msgs:
            summary.append({"field": name, "label": label, "message": message, "target": None})
    originals = {}
    if record is not None:
        for f in obj.user_fields:
            if mine.writes(f):
                originals[f.api_name] = widget_for(f).to_raw(f, record.get(f.api_name), language)
    return {
        "obj": obj, "record": record, "mode": mode, "is_new": is_new, "tabs": tabs, "language": language,
        "rights": mine, "record_rights": record_rights, "may_write": may_write and mode == "edit",
        "rules_json": {"rules": rules, "values": read_by_rules,
                                     "types": {f.api_name: f.type for f in obj.user_fields if f.api_name in rules
                                               or f.api_name in read_by_rules}} if rules else {},
        "error_summary": summary, "conflict": bool(conflict),
        "version": record.get("version") if record is not None else None,
        "originals_json": json.dumps(originals, default=str),
        "field_prefix": FIELD_PREFIX, "child_prefix": CHILD_PREFIX,
        "render": lambda f, v: render_value(schema, f, v, language),
    }


def _leaf_names(tree: Any) -> list[str]:
    if isinstance(tree, dict):
        for key in ("and", "or"):
            if isinstance(tree.get(key), list):
                return [n for t in tree[key] for n in _leaf_names(t)]
        if "not" in tree:
            return _leaf_names(tree["not"])
        if isinstance(tree.get("field"), str):
            return [tree["field"]]
    return []


def _rule_json(f: FieldInfo, value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "id") and f.type in ("link", "user"):
        return value.id
    try:
        shown = f.ftype.to_json(f, value)
    except (TypeError, ValueError, AttributeError):
        return None
    return shown["amount"] if isinstance(shown, dict) and "amount" in shown else shown


def _section_label(label: str, generated: bool) -> str:
    return _("Details") if generated and label == "Details" else label


def _field_slot(schema: Schema, obj: ObjectInfo, f: FieldInfo, item: Mapping[str, Any], record, raws, errors,
                conflict, rule_state, mine: ObjectCapabilities, may_write: bool, language: str,
                mode: str) -> FieldSlot:
    label = item.get("label") or f.label_in(language)
    help_text = item.get("help") or f.help_in(language)
    state = rule_state.get(f.api_name, {})
    control_id = f"cb-f-{f.api_name}"
    editable = f.writable and may_write
    value = record.get(f.api_name) if record is not None else None
    msgs = list(errors.get(f.api_name, []))
    slot = FieldSlot(f, label, help_text, editable, Markup(""), control_id, msgs,
                     required=bool(state.get("required", f.required)) if f.writable else False,
                     hidden_by_rule=not state.get("visible", True),
                     readonly_by_rule=bool(state.get("readonly", False)), column=item.get("column") or 1)
    if not editable:
        slot.html = render_value(schema, f, value, language)
        return slot
    widget = widget_for(f)
    if f.api_name in raws:
        raw = raws[f.api_name]
    elif record is not None:
        raw = widget.to_raw(f, value, language)
    else:
        raw = widget.to_raw(f, _default_of(f), language)
    described = " ".join(x for x in (f"{control_id}-help" if help_text else "",
                                     f"{control_id}-error" if msgs else "") if x)
    disabled = not mine.writes(f) or slot.readonly_by_rule
    extra = {}
    if f.type == "link" or f.ftype.stored_apart:  # a link or a multi-link: the picker's choices
        extra["url"] = url_for("cards.link_choices", object_name=obj.api_name, field_name=f.api_name)
    slot.html = widget.control(Control(f, FIELD_PREFIX + f.api_name, control_id, raw, language, disabled=disabled,
                                       required=slot.required and not slot.hidden_by_rule, invalid=bool(msgs),
                                       described_by=described, label=label, extra=extra))
    if f.api_name in conflict:
        slot.conflict = conflict[f.api_name]
    return slot


def _default_of(f: FieldInfo) -> Any:
    """What a new record's control starts with: the field's default, a dynamic one
    ("today", "now", "me") resolved for the reader now; None when there is none."""
    try:
        return f.ftype.default_value(f, engine_session().actor.user_id)
    except (FieldValueError, TypeError, ValueError):
        return None


def _list_slot(s: Session, obj: ObjectInfo, record, item, rights: Mapping[str, ObjectCapabilities],
               mode: str, language: str) -> ListSlot | None:
    schema = s.schema
    kind = "children" if "children" in item else "related"
    spec = item[kind]
    if not schema.has_object(spec["object"]):
        return None
    child = schema.object(spec["object"])
    r = rights.get(child.api_name)
    if r is None or not r.can("read") or not r.reads(spec["link"]):
        return None  # the user may not see these records (or how they link here)
    link = child.fields_by_name[spec["link"]]
    columns = [child.fields_by_name[c] for c in item.get("columns") or []
               if c in child.fields_by_name and c != link.api_name and r.reads(c)]
    if not columns:
        columns = [child.fields_by_name["code"]]
    editable = frozenset(c.api_name for c in columns if r.writes(c))
    form_columns = list(columns)
    if kind == "children":  # a new row must be able to fill the child's required fields
        for f in child.user_fields:
            if f.required and f.writable and f is not link and f not in form_columns and r.writes(f):
                form_columns.append(f)
                editable = editable | {f.api_name}
    rows: list[dict[str, Any]] = []
    total = 0
    key = f"{child.api_name}.{link.api_name}"
    all_url = None
    if record is not None:  # the designer's preview of a sample record shows its rows too
        limit = MAX_CHILD_ROWS if kind == "children" else MAX_RELATED_ROWS
        wanted = list(dict.fromkeys(["code", "version", *[c.api_name for c in form_columns]]))
        # the records linking here; the card read the parent in this session already (so
        # not ``s.children``, which would read it again to check it is visible)
        condition = {"field": link.api_name, "op": "eq", "value": record["id"]}
        try:
            page = s.list(child, ListQuery(filter=condition, limit=limit, fields=wanted, sort="id"), purpose="read")
        except CardbaseError:
            return None
        rows = page.data
        total = page.count if page.count >= 0 else len(rows)
        if (page.next_cursor or page.has_more) and total > len(rows):
            if "lists.index" in current_app.view_functions:
                all_url = url_for("lists.index", object_name=child.api_name,
                                  filter=json.dumps({"field": link.api_name, "op": "eq", "value": record["id"]}))
    new_url = None
    if kind == "related" and record is not None and r.can("create") and r.writes(link):
        new_url = url_for("cards.new", object_name=child.api_name, **{link.api_name: record["id"]})
    label = item.get("label") or child.label_plural_in(language)
    return ListSlot(kind, child, link, label, item.get("help") or "", columns, rows, total,
                    can_create=kind == "children" and r.can("create") and r.writes(link),
                    can_edit=kind == "children" and r.can("edit") and bool(editable),
                    can_delete=kind == "children" and r.can("delete"), key=key, new_url=new_url, all_url=all_url,
                    form_columns=form_columns, editable_names=editable)


# ---- child rows -------------------------------------------------------------------------------
def child_row_controls(slot: ListSlot, row: Mapping[str, Any] | None, raws: Mapping[str, Any] | None,
                       errors: Mapping[str, list[str]] | None, language: str, row_key: str) -> list[dict[str, Any]]:
    """The cells of a child row being edited: per form column a control (or the value)."""
    raws = raws or {}
    errors = errors or {}
    schema_cells = []
    for f in slot.form_columns:
        control_id = f"cb-row-{row_key}-{f.api_name}"
        msgs = list(errors.get(f.api_name, []))
        writes = f.api_name in slot.editable_names
        if writes or f.writable:  # an entered field the user may only read: its control, disabled (as on the card)
            widget = widget_for(f)
            if writes and f.api_name in raws:
                raw = raws[f.api_name]
            elif row is not None:
                raw = widget.to_raw(f, row.get(f.api_name), language)
            else:  # a new row starts from the field's default (a quantity of 1)
                raw = widget.to_raw(f, _default_of(f), language)
            extra = {"url": url_for("cards.link_choices", object_name=slot.obj.api_name, field_name=f.api_name)} \
                if f.type == "link" else {}
            html = widget.control(Control(f, CHILD_PREFIX + f.api_name, control_id, raw, language,
                                          disabled=not writes, required=f.required and writes, invalid=bool(msgs),
                                          described_by=f"{control_id}-error" if msgs else "",
                                          label=f.label_in(language), extra=extra))
            schema_cells.append({"field": f, "html": html, "id": control_id, "errors": msgs, "editable": True,
                                 "label": f.label_in(language)})
        else:
            schema_cells.append({"field": f, "html": None, "id": control_id, "errors": msgs, "editable": False,
                                 "label": f.label_in(language),
                                 "value": row.get(f.api_name) if row is not None else None})
    return schema_cells
