"""Bulk changes from the list (like Airtable, Baserow and NocoDB): tick rows, then set one
field to one value for all of them, or move them to the trash.

``lists.bulk``       POST /o/<object>/bulk       (form: csrf_token, next, r = "id:version" per
                     ticked row, op = change|trash, field, v-<field> = the field's control)
``lists.export``     GET  /o/<object>/export.csv?...&ids=3,5,8  "Export selected": the list's
                     export (its columns, sort and filter) narrowed to the ticked rows

Every row carries the version the page showed, so a record changed by someone else in
the meantime is a Conflict for that row, never a silent overwrite. A change is ONE
``bulk_write``, a move to the trash ONE ``bulk_delete``: each one ChangeSet and one action,
so the notice's Undo is the ordinary ``actions.undo``. A problem anywhere changes nothing,
and the list comes back with a message naming each failing record by its code and field.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from flask import flash, redirect, request, url_for
from flask_babel import format_number, gettext as _
from markupsafe import Markup

from cardbase.schema_engine.errors import CardbaseError, Forbidden, ValidationError
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.operations import MAX_BULK
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.store.validation import BulkValidationError

from ..i18n import current_language
from .engine import engine_session, flash_undo
from .widgets import MISSING, Control, FieldValueError, widget_for

SELECT = "r"            # one "id:version" per ticked row
IDS = "ids"             # the ticked rows of an export: "3,5,8"
VALUE_PREFIX = "v-"     # the chosen field's control: v-<api name>
MAX_NAMED = 20          # failing records listed in a message
_PAIR = re.compile(r"(\d{1,12}):(\d{1,9})")


# ---- what the list page shows ---------------------------------------------------------------
@dataclass
class BulkField:
    name: str
    label: str
    control_id: str
    html: Markup


@dataclass
class BulkPanel:
    url: str
    fields: list[BulkField]
    can_trash: bool
    has_links: bool
    can_export: bool = False


def selection_filter(tree: Any, raw: str | None) -> Any:
    """The list's filter narrowed to the rows of an "Export selected" (``ids=3,5,8``);
    ``tree`` unchanged without ``ids``. ValidationError naming ``ids`` for anything but a
    list of record ids (at most MAX_BULK)."""
    if raw is None:
        return tree
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    bad = next((p for p in parts if not re.fullmatch(r"[1-9]\d{0,11}", p)), None)
    if bad is not None or not parts:
        raise ValidationError({IDS: _("'%(value)s' is not a list of record ids (e.g. 3,5,8).",
                                      value=(bad or raw)[:40])})
    if len(parts) > MAX_BULK:
        raise ValidationError({IDS: _("At most %(max)s records can be exported as a selection; %(n)s were selected.",
                                      max=format_number(MAX_BULK), n=format_number(len(parts)))})
    condition = {"field": "id", "op": "in", "value": sorted({int(p) for p in parts})}
    return condition if not tree else {"and": [tree, condition]}


def writable_fields(obj: ObjectInfo, caps: ObjectCapabilities) -> list[FieldInfo]:
    """The fields the actor may set on existing records (the card's editable fields)."""
    # (a multi-link's control is the card's: the chosen records become the set of every ticked row)
    return [f for f in obj.user_fields if f.writable and caps.writes(f)] if caps.can("edit") else []


def panel(obj: ObjectInfo, caps: ObjectCapabilities, language: str) -> BulkPanel | None:
    """The toolbar of ticked rows, or None when the actor may neither edit, delete, export
    nor print (documents for the selection: web/documents.py)."""
    fields = writable_fields(obj, caps)
    can_trash = caps.can("delete")
    can_export = caps.can("export")
    if not fields and not can_trash and not can_export and not caps.can("print"):
        return None
    out = []
    for f in fields:
        widget = widget_for(f)
        control_id = f"cb-bulk-v-{f.api_name}"
        label = f.label_in(language)
        extra = {}
        if f.type == "link" or f.ftype.stored_apart:  # a link or a multi-link: the picker's choices
            extra["url"] = url_for("cards.link_choices", object_name=obj.api_name, field_name=f.api_name)
        html = widget.control(Control(f, VALUE_PREFIX + f.api_name, control_id, widget.to_raw(f, None, language),
                                      language, label=label, extra=extra))
        out.append(BulkField(f.api_name, label, control_id, html))
    return BulkPanel(url_for("lists.bulk", object_name=obj.api_name), out, can_trash,
                     any(f.type == "link" or f.ftype.stored_apart for f in fields), can_export)


# ---- reading the post ----------------------------------------------------------------------------
def _selected() -> list[tuple[int, int]]:
    """(id, version) of the ticked rows, each record once; bad items are refused."""
    out: dict[int, int] = {}
    for item in request.form.getlist(SELECT):
        m = _PAIR.fullmatch(item.strip())
        if m is None:
            raise ValidationError({SELECT: _("'%(value)s' is not a record of this list (id:version).",
                                             value=item[:40])})
        out.setdefault(int(m.group(1)), int(m.group(2)))
    return list(out.items())


def _codes(s: Session, obj: ObjectInfo, ids: list[int]) -> dict[int, str]:
    found = s.fetch(obj, ids, fields=["code"])
    return {rid: str(found[rid].get("code") or f"#{rid}") if rid in found else f"#{rid}" for rid in ids}


def _problems(headline: str, lines: list[str]) -> Markup:
    shown = lines[:MAX_NAMED]
    items = Markup("").join(Markup("<li>{}</li>").format(line) for line in shown)
    more = len(lines) - len(shown)
    if more:
        items += Markup("<li>{}</li>").format(_("… and %(n)s more", n=format_number(more)))
    return Markup('{}<ul class="mb-0 cb-bulk-problems">{}</ul>').format(headline, items)


def _count(n: int, one: str, many: str) -> str:
    return one if n == 1 else many.replace("{n}", format_number(n))


# ---- the post ------------------------------------------------------------------------------------
def bulk(object_name: str):
    from .lists import _back, _object_or_404  # the list owns its URL and its object lookup

    s = engine_session(write=True)
    obj = _object_or_404(s.schema, object_name)
    caps = s.capabilities(obj)
    language = current_language()
    back = _back(object_name)
    op = request.form.get("op", "")
    if op not in ("change", "trash"):
        flash(_("Choose what to do with the selected records."), "danger")
        return redirect(back)
    if op == "change" and not caps.can("edit"):
        raise Forbidden(_("You may not change %(objects)s.", objects=obj.label_plural_in(language)))
    if op == "trash" and not caps.can("delete"):
        raise Forbidden(_("You may not delete %(objects)s.", objects=obj.label_plural_in(language)))
    try:
        selected = _selected()
    except ValidationError as exc:
        flash(" ".join(m for msgs in exc.errors.values() for m in msgs), "danger")
        return redirect(back)
    if not selected:
        flash(_("Nothing was changed: select at least one record first."), "danger")
        return redirect(back)
    if len(selected) > MAX_BULK:
        flash(_("Nothing was changed: at most %(max)s records can be changed at once, and %(n)s were selected. "
                "Narrow the list with a filter and work through it in parts.",
                max=format_number(MAX_BULK), n=format_number(len(selected))), "danger")
        return redirect(back)
    if op == "change":
        return _change(s, obj, caps, selected, back, language)
    return _trash(s, obj, selected, back, language)


def _change(s: Session, obj: ObjectInfo, caps: ObjectCapabilities, selected: list[tuple[int, int]], back: str,
            language: str):
    name = request.form.get("field", "")
    fields = {f.api_name: f for f in writable_fields(obj, caps)}
    field = fields.get(name)
    if field is None:
        raise Forbidden(_("You may not change the field '%(field)s' of %(objects)s.", field=name[:80],
                          objects=obj.label_plural_in(language)))
    label = field.label_in(language)
    widget = widget_for(field)
    raw = widget.from_form(request.form, VALUE_PREFIX + name)
    try:
        value = widget.parse(field, None if raw is MISSING else raw, language)
    except FieldValueError as exc:
        flash(_("Nothing was changed. %(field)s: %(problem)s", field=label, problem=str(exc)), "danger")
        return redirect(back)
    rows = [{"id": rid, "version": version, name: value} for rid, version in selected]
    try:
        s.bulk_write(obj, rows)
    except BulkValidationError as exc:
        codes = _codes(s, obj, [rid for rid, _v in selected])
        lines = []
        for i, errors in sorted(exc.rows.items()):
            code = codes[selected[i][0]]
            for key, messages in errors.items():
                lines.append(_row_problem(obj, code, key, messages, language))
        headline = _("Nothing was changed: %(bad)s of %(n)s records cannot be changed.",
                     bad=format_number(len(exc.rows)), n=format_number(len(selected)))
        flash(_problems(headline, lines), "danger")
        return redirect(back)
    except CardbaseError as exc:
        flash(_("Nothing was changed: %(problem)s", problem=exc.message), "danger")
        return redirect(back)
    n = len(selected)
    flash_undo(_count(n, _("1 record changed."), _("{n} records changed.")), s, back)
    return redirect(back)


def _row_problem(obj: ObjectInfo, code: str, key: str, messages: list[str], language: str) -> str:
    if key == "version":
        return _("%(code)s was changed by someone else since the list was shown; reload the list and try again.",
                 code=code)
    text = " ".join(messages)
    field = obj.fields_by_name.get(key)
    if key == "id" or field is None:
        return f"{code}: {text}"
    return f"{code} – {field.label_in(language)}: {text}"


def _trash(s: Session, obj: ObjectInfo, selected: list[tuple[int, int]], back: str, language: str):
    try:
        s.bulk_delete(obj, selected)  # one action: the notice's Undo restores them all
    except BulkValidationError as exc:
        codes = _codes(s, obj, [rid for rid, _v in selected])
        lines = [_row_problem(obj, codes[selected[i][0]], key, messages, language)
                 for i, errors in sorted(exc.rows.items()) for key, messages in errors.items()]
        headline = _("Nothing was moved to the trash: %(bad)s of %(n)s records cannot be deleted.",
                     bad=format_number(len(exc.rows)), n=format_number(len(selected)))
        flash(_problems(headline, lines), "danger")
        return redirect(back)
    except CardbaseError as exc:  # a link's on-delete rule refuses (InUse), a cascade needs rights …
        flash(_("Nothing was moved to the trash: %(problem)s", problem=_message(exc)), "danger")
        return redirect(back)
    n = len(selected)
    flash_undo(_count(n, _("1 record moved to the trash."), _("{n} records moved to the trash.")), s, back)
    return redirect(back)


def _message(exc: CardbaseError) -> str:
    if isinstance(exc, ValidationError) and exc.errors:
        return " ".join(m for msgs in exc.errors.values() for m in (msgs if isinstance(msgs, list) else [msgs]))
    return exc.message


def selection_value(record: Mapping[str, Any]) -> str:
    """What a row's checkbox posts: the record's id and the version the page shows."""
    return f"{int(record['id'])}:{int(record.get('version') or 0)}"
