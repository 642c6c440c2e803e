"""Child rows on a new parent's card, before its first save (issue 14, point 9).

A new order's card shows its lines' sub-table with an "Add" button like a saved one; the
rows added there are plain form controls named ``p-<child>.<link>-<n>-<field>`` (cards.js
clones a server-rendered template row, ``__n__`` numbering the copies). Saving the card
creates the parent and then each row linked to it, in one savepoint of the request's
session: a row the store refuses leaves nothing behind -- no parent, no row -- and the
card comes back with everything typed and the message at the row's field. A row whose
every control was left empty is ignored."""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dc_field
from typing import Any, Iterable, Mapping

from flask import url_for

from .card_render import ListSlot, _default_of
from .widgets import MISSING, Control, FieldValueError, widget_for

PREFIX = "p-"
MAX_ROWS = 200   # rows of one list in one save
TEMPLATE = "__n__"
_NAME = re.compile(r"p-(?P<key>[A-Za-z_][\w]*\.[A-Za-z_][\w]*)-(?P<n>\d{1,4})-(?P<field>[A-Za-z_]\w*)")


@dataclass
class PendingRow:
    """One row typed on the new card: what was typed, what it parses to, what is wrong."""

    key: str
    index: int
    raws: dict[str, Any] = dc_field(default_factory=dict)
    values: dict[str, Any] = dc_field(default_factory=dict)
    errors: dict[str, list[str]] = dc_field(default_factory=dict)


def creatable_slots(ctx: Mapping[str, Any]) -> list[ListSlot]:
    """The child sub-tables of a card context the user may add rows to."""
    return [slot for tab in ctx.get("tabs") or [] for section in tab.sections for slot in section.lists
            if slot.kind == "children" and slot.can_create]


def name_of(slot: ListSlot, index: int | str, field_name: str) -> str:
    return f"{PREFIX}{slot.key}-{index}-{field_name}"


def _editable(slot: ListSlot) -> list:
    return [f for f in slot.form_columns if f.api_name in slot.editable_names]


def row_cells(slot: ListSlot, index: int | str, raws: Mapping[str, Any], errors: Mapping[str, list[str]],
              language: str) -> list[dict[str, Any]]:
    """The controls of one pending row (the template row with ``index`` TEMPLATE)."""
    cells = []
    for f in _editable(slot):
        control_id = f"cb-pend-{slot.key.replace('.', '-')}-{index}-{f.api_name}"
        widget = widget_for(f)
        raw = raws[f.api_name] if f.api_name in raws else widget.to_raw(f, _default_of(f), language)
        msgs = list(errors.get(f.api_name, []))
        extra = {"url": url_for("cards.link_choices", object_name=slot.obj.api_name, field_name=f.api_name)} \
            if f.type == "link" else {}
        html = widget.control(Control(f, name_of(slot, index, f.api_name), control_id, raw, language,
                                      invalid=bool(msgs), described_by=f"{control_id}-error" if msgs else "",
                                      label=f.label_in(language), extra=extra))
        cells.append({"field": f, "id": control_id, "html": html, "errors": msgs, "label": f.label_in(language)})
    return cells


def attach(ctx: Mapping[str, Any], rows: Iterable[PendingRow], language: str) -> None:
    """Give each creatable sub-table of a new card its template row and the rows typed so far."""
    by_key: dict[str, list[PendingRow]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    for slot in creatable_slots(ctx):
        slot.pending_template = row_cells(slot, TEMPLATE, {}, {}, language)  # type: ignore[attr-defined]
        slot.pending_rows = [(r.index, row_cells(slot, r.index, r.raws, r.errors, language))  # type: ignore[attr-defined]
                             for r in by_key.get(slot.key, [])]
        slot.pending_next = max((r.index for r in by_key.get(slot.key, [])), default=-1) + 1  # type: ignore[attr-defined]


def _empty(raw: Any) -> bool:
    if isinstance(raw, dict):
        return not str(raw.get("id") or "").strip()
    if isinstance(raw, (list, tuple)):
        return all(_empty(r) for r in raw)
    return raw is MISSING or raw is None or str(raw).strip() == ""


def read(slots: Iterable[ListSlot], form: Mapping[str, Any], language: str) -> list[PendingRow]:
    """The rows the form holds for ``slots``, parsed by the child fields' widgets."""
    by_key = {slot.key: slot for slot in slots}
    indexes: dict[str, set[int]] = {}
    for name in form.keys():
        m = _NAME.fullmatch(name)
        if m and m["key"] in by_key:
            indexes.setdefault(m["key"], set()).add(int(m["n"]))
    rows: list[PendingRow] = []
    for key, found in indexes.items():
        slot = by_key[key]
        for index in sorted(found)[:MAX_ROWS]:
            row = PendingRow(key, index)
            for f in _editable(slot):
                widget = widget_for(f)
                raw = widget.from_form(form, name_of(slot, index, f.api_name))
                if raw is MISSING:
                    continue
                row.raws[f.api_name] = raw
                try:
                    value = widget.parse(f, raw, language)
                except FieldValueError as exc:
                    row.errors.setdefault(f.api_name, []).append(str(exc))
                    continue
                if value is not None:
                    row.values[f.api_name] = value
            if all(_empty(r) for r in row.raws.values()) and not row.errors:
                continue  # added and left empty
            rows.append(row)
    return rows


def slot_for(slots: Iterable[ListSlot], row: PendingRow) -> ListSlot:
    return next(s for s in slots if s.key == row.key)


def store_errors(row: PendingRow, errors: Mapping[str, Any]) -> None:
    """A store refusal of the row's create, at the row's fields."""
    for key, messages in errors.items():
        texts = messages if isinstance(messages, list) else [str(messages)]
        row.errors.setdefault(key, []).extend(str(t) for t in texts)
