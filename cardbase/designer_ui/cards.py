"""The card designer: several cards per object (one default), each a layout of tabs,
sections (label, 1-4 columns, help) and items (fields with label/help overrides, child
part sets, related lists), arranged by dragging or with the keyboard
(static/card_designer.js), previewed with a real record, and saved through
``layouts.cards`` (which validates and logs). A form opened before someone else changed
the card or the object's fields is refused, never saved over their change; so are the
list's "default card" and "delete" buttons when the cards changed after it was shown."""
from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from cardbase.platform.context import current_actor, engine_session, get_db, get_store
from cardbase.platform.i18n import current_language
from cardbase.platform.web import card_render
from cardbase.platform.web.nav import object_label
from cardbase.schema_engine.errors import CardbaseError, NotFound, ValidationError
from cardbase.schema_engine.layouts import cards as layouts
from cardbase.schema_engine.query.model import ListQuery
from cardbase.platform.jsonio import loads as strict_json

from . import bp
from .common import configurable_object
from .support import SYSTEM_COLUMNS, StaleForm, error_list, fields_state, fingerprint

PREVIEW_RECORDS = 50


def card_state(obj, card: dict[str, Any] | None) -> str:
    """What makes an open card form stale: the card as stored and the object's fields."""
    if card is None or card.get("id") is None:
        return fingerprint(fields_state(obj))
    return fingerprint(fields_state(obj), card["name"], card["is_default"], card["layout"])


def _palette(schema, obj) -> dict[str, Any]:
    """Everything that can be placed: the fields (user fields, then system ones) and the
    lists of records linking here (child part sets and related lists)."""
    language = current_language()
    fields = [{"name": f.api_name, "label": f.label_in(language), "type": f.type, "system": False}
              for f in obj.user_fields]
    for name in SYSTEM_COLUMNS:
        f = obj.fields_by_name.get(name)
        if f is not None:
            fields.append({"name": f.api_name, "label": f.label_in(language), "type": f.type, "system": True})
    lists = []
    for child, link in schema.children(obj):
        kind = "children" if link.options.get("on_delete") == "cascade" else "related"
        columns = [{"name": f.api_name, "label": f.label_in(language)} for f in child.user_fields if f.id != link.id]
        columns += [{"name": "code", "label": child.field("code").label_in(language)}]
        lists.append({"kind": kind, "object": child.api_name, "link": link.api_name,
                      "label": layouts._list_label(schema, obj, child, link),
                      "default_columns": layouts._default_list_columns(child, link), "columns": columns})
    return {"fields": fields, "lists": lists}


def designer_texts() -> dict[str, str]:
    """Words the designer script shows (translated here)."""
    return {
        "tab": _("Tab"), "tab_label": _("Tab label"), "section": _("Section"), "section_label": _("Section label"),
        "columns": _("Columns"), "help": _("Help text"), "label": _("Label on the card"),
        "label_placeholder": _("(the field's own label)"), "column": _("Column"),
        "move_up": _("Move up"), "move_down": _("Move down"), "move_to": _("Move to section"),
        "remove": _("Remove from the card"), "remove_tab": _("Remove tab"), "remove_section": _("Remove section"),
        "add_tab": _("Add tab"), "add_section": _("Add section"), "add": _("Add to section"),
        "add_to": _("Add to"), "palette_empty": _("Every field is on the card."),
        "drop_here": _("Drop fields here"), "child_list": _("Child part set (editable)"),
        "related_list": _("Related list (read-only)"), "list_columns": _("Columns of the list"),
        "kind": _("Shown as"), "system": _("system field"), "details": _("Label and help"),
        "tab_up": _("Move tab left"), "tab_down": _("Move tab right"), "section_up": _("Move section up"),
        "section_down": _("Move section down"), "moved": _("Moved."), "added": _("Added."),
        "removed": _("Removed."), "untitled": _("(no label)"),
        "preview_failed": _("The preview could not be shown."),
    }


def _preview_records(obj) -> list[dict[str, Any]]:
    """The newest records the user may read, to preview the card on."""
    s = engine_session()
    if not s.can(obj, "read"):
        return []
    shown = obj.display_field
    try:
        page = s.list(obj, ListQuery(limit=PREVIEW_RECORDS, sort="-modified_at"), with_count=False)
    except CardbaseError:
        return []
    out = []
    for record in page.data:
        value = record.get(shown.api_name)
        text = shown.ftype.format(shown, value, current_language()) if value not in (None, "") else ""
        out.append({"id": record["id"], "label": f"{record.get('code') or record['id']} {text}".strip()})
    return out


def _render_editor(obj, card: dict[str, Any], *, state: str, errors: list[str] | None = None, status: int = 200):
    schema = engine_session().schema
    data = {"layout": card["layout"], "palette": _palette(schema, obj), "texts": designer_texts(),
            "max_columns": layouts.MAX_COLUMNS}
    return render_template(
        "designer/cards/edit.html", obj=obj, object_title=object_label(obj), card=card, state=state,
        errors=errors or [], data=data, layout_json=json.dumps(card["layout"], ensure_ascii=False),
        records=_preview_records(obj),
    ), status


def cards_list_state(db, obj) -> str:
    """What makes the card list's forms (the default card, delete) stale: every card of
    the object as stored -- its name, whether it is the default, its layout."""
    return fingerprint([[c["id"], c["name"], c["is_default"], layouts.get_card(db, obj.api_name, c["id"])["layout"]]
                        for c in layouts.list_cards(db, obj.api_name)])


def _render_index(obj, *, errors: list[str] | None = None, status: int = 200):
    db = get_db()
    cards = layouts.list_cards(db, obj.api_name)
    return render_template("designer/cards/index.html", obj=obj, object_title=object_label(obj), cards=cards,
                           generated=not cards, state=cards_list_state(db, obj), errors=errors or []), status


def _stale_list(obj):
    """The card list again, as it is now, with why nothing was done (409)."""
    return _render_index(obj, status=409, errors=[_(
        "Someone else changed the cards of %(object)s since you opened this page; nothing was changed. "
        "This is the current list: check it and try again.", object=object_label(obj))])


@bp.route("/objects/<object_name>/cards")
def cards_index(object_name: str):
    return _render_index(configurable_object(object_name)[1])


@bp.route("/objects/<object_name>/cards/new", methods=["GET", "POST"])
def cards_new(object_name: str):
    schema, obj = configurable_object(object_name)
    card = {"id": None, "name": "" if layouts.list_cards(get_db(), obj.api_name) else obj.label,
            "is_default": False, "layout": layouts.default_layout(schema, obj)}
    state = card_state(obj, None)
    if request.method == "POST":
        return _save(obj, card, state)
    return _render_editor(obj, card, state=state)


@bp.route("/objects/<object_name>/cards/<int:card_id>", methods=["GET", "POST"])
def cards_edit(object_name: str, card_id: int):
    _schema, obj = configurable_object(object_name)
    try:
        card = layouts.get_card(get_db(), obj.api_name, card_id)
    except NotFound:
        abort(404)
    state = card_state(obj, card)
    if request.method == "POST":
        return _save(obj, card, state)
    return _render_editor(obj, card, state=state)


def _save(obj, card: dict[str, Any], state: str):
    """Validate and save the posted layout; on any problem show the editor again with
    what was posted (nothing is lost) and the problems."""
    name = request.form.get("name", "")
    is_default = request.form.get("is_default") == "1"
    raw = request.form.get("layout", "")
    posted: Any = card["layout"]
    try:
        try:
            posted = strict_json(raw, what=None)
        except ValueError:
            raise ValidationError({"layout": _("the layout sent by the form is not valid JSON")}) from None
        if request.form.get("state") != state:
            raise StaleForm(_(
                "Someone else changed this card or the fields of %(object)s since you opened it; your changes "
                "were not saved. Reload the designer to see the current card and make your change again.",
                object=object_label(obj)))
        saved = layouts.save_card(get_db(), current_actor(), obj.api_name, name, posted,
                                  is_default=is_default, card_id=card["id"], policy=get_store().policy)
    except CardbaseError as exc:
        shown = {**card, "name": name, "is_default": is_default or card["is_default"],
                 "layout": posted if isinstance(posted, dict) else card["layout"]}
        status = exc.status if exc.status in (403, 404, 409) else 422
        return _render_editor(obj, shown, state=state, errors=error_list(exc), status=status)
    flash(_("The card %(name)s was saved.", name=saved["name"]), "success")
    return redirect(url_for("designer.cards_edit", object_name=obj.api_name, card_id=saved["id"]))


@bp.route("/objects/<object_name>/cards/default", methods=["POST"])
def cards_default(object_name: str):
    """Make the chosen card the default one (the radio buttons of the list)."""
    _schema, obj = configurable_object(object_name)
    db = get_db()
    if request.form.get("state") != cards_list_state(db, obj):
        return _stale_list(obj)
    try:
        card_id = int(request.form.get("card_id", ""))
        card = layouts.get_card(db, obj.api_name, card_id)
        layouts.save_card(db, current_actor(), obj.api_name, card["name"], card["layout"],
                          is_default=True, card_id=card_id, policy=get_store().policy)
    except ValueError:
        flash(_("Choose the card that shall be the default."), "error")
    except CardbaseError as exc:
        flash("; ".join(error_list(exc)), "error")
    else:
        flash(_("%(name)s is now the default card.", name=card["name"]), "success")
    return redirect(url_for("designer.cards_index", object_name=obj.api_name))


@bp.route("/objects/<object_name>/cards/<int:card_id>/delete", methods=["POST"])
def cards_delete(object_name: str, card_id: int):
    _schema, obj = configurable_object(object_name)
    if request.form.get("state") != cards_list_state(get_db(), obj):
        return _stale_list(obj)
    try:
        layouts.delete_card(get_db(), current_actor(), obj.api_name, card_id, policy=get_store().policy)
    except NotFound:
        abort(404)
    except CardbaseError as exc:
        flash("; ".join(error_list(exc)), "error")
    else:
        flash(_("The card was deleted."), "success")
    return redirect(url_for("designer.cards_index", object_name=obj.api_name))


@bp.route("/objects/<object_name>/cards/preview", methods=["POST"])
def cards_preview(object_name: str):
    """The card as an end user would see it, for the layout being designed and a real
    record (JSON in: {"layout", "record_id"}; JSON out: {"html"} or {"errors"})."""
    _schema, obj = configurable_object(object_name)
    db = get_db()
    actor = current_actor()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(errors=[_("send a JSON object with the layout and the record")]), 400
    try:
        layout = layouts.validate_card(db, obj.api_name, body.get("layout"))
        record = None
        record_id = body.get("record_id")
        if record_id not in (None, ""):
            try:
                record = engine_session().get(obj, int(record_id))
            except (TypeError, ValueError):
                raise ValidationError({"record_id": _("must be a record id")}) from None
        html = _preview_html(db, actor, obj, record, layout)
    except CardbaseError as exc:
        return jsonify(errors=error_list(exc)), 422 if isinstance(exc, ValidationError) else exc.status
    return jsonify(html=str(html))


def _preview_html(db, actor, obj, record, layout) -> Markup:
    """The card exactly as the end-user card renders it (card_render), in preview mode."""
    context = card_render.card_context(db, actor, obj.api_name, record, layout, mode="preview",
                                       session=engine_session())
    return Markup(render_template("web/cards/_layout.html", c=context))
