"""The card of a record: view, edit, create, delete to the trash, restore, history, child
part sets edited in place, link pickers.

``cards.new``          GET/POST /o/<object>/new              (?card=<layout id>, ?<field>=<value> prefills)
``cards.card``         GET/POST /o/<object>/<id>             (?card=<layout id>)
``cards.delete``       POST     /o/<object>/<id>/delete      to the trash (with the version read)
``cards.trash``        GET      /o/<object>/trash
``cards.restore``      POST     /o/<object>/<id>/restore
``cards.link_choices`` GET      /o/<object>/links/<field>?q= JSON [{id, display}], visible records only
``cards.row_form``     GET      /o/<object>/<id>/rows/<child>/<link>/form[?row=<child id>]  an editable row (HTML)
``cards.row_create``   POST     /o/<object>/<id>/rows/<child>/<link>                        a new row (JSON)
``cards.row_save``     POST     /o/<object>/<id>/rows/<child>/<link>/<child id>             a changed row (JSON)
``cards.row_delete``   POST     /o/<object>/<id>/rows/<child>/<link>/<child id>/delete      (JSON)

Every read and write goes through the request's one engine session (reads with the
purpose "read"; handlers that write open it with ``write=True`` first), and a save, a
delete and a restore leave a notice with an Undo button (``actions.undo``). A save
sends only the fields the user changed since the form was read, with the version it was
read at: a stale version is a Conflict, answered with the card showing, per field, what
the user typed and what is saved now (fields only the other person changed are taken
over, the user's own input is kept) and the form's version moved on, so saving again
merges -- nothing is overwritten silently.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from cardbase.schema_engine.errors import CardbaseError, Conflict, Forbidden, InUse, NotFound, ValidationError
from cardbase.schema_engine.layouts.cards import get_card, list_cards
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo
from cardbase.schema_engine.store.session import Session
from cardbase.schema_engine.values import LinkRef
from cardbase.platform.jsonio import loads as strict_json

from ..i18n import current_language
from .card_render import CHILD_PREFIX, FIELD_PREFIX, ListSlot, card_context, child_row_controls
from .display import render_value
from .engine import engine_session, flash_undo
from .errors import PageError, error_page
from .history_links import LinkNames, link_names
from .pick_new import pick_target, picked_page, unseen_page
from . import multi_link_cells, pending_rows, source_fill
from .widgets import MISSING, FieldValueError, widget_for
from .widgets.links import active_users

bp = Blueprint("cards", __name__)

HISTORY_LIMIT = 200
TRASH_PAGE = 100
ACTIONS = {"create": _l("created"), "update": _l("changed"), "delete": _l("moved to the trash"),
           "restore": _l("restored"), "unlink": _l("unlinked"), "relink": _l("linked again"),
           "purge": _l("deleted for good")}


@bp.errorhandler(PageError)
def _page_error(exc: PageError):
    return _error_page(exc.message, exc.status)


@bp.errorhandler(CardbaseError)
def _store_error(exc: CardbaseError):
    return _error_page(exc.message, exc.status)


def _error_page(message: str, status: int):
    if request.accept_mimetypes.best == "application/json":  # the part-set sub-table's script
        return jsonify(ok=False, message=message), status
    return error_page(message, status)


# ---- helpers --------------------------------------------------------------------------------
def _object(name: str, *, write: bool = False) -> ObjectInfo:
    """The object named in the URL, after opening the request's session (a write session
    for handlers that change records: open it before reading, so the whole request is
    one transaction)."""
    schema = engine_session(write=write).schema
    if not schema.has_object(name):
        raise PageError(_("There is no object '%(name)s'.", name=name), 404)
    return schema.object(name)


def _card_id() -> int | None:
    raw = request.args.get("card", "").strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise PageError(_("card: '%(value)s' is not a card id.", value=raw), 400)
    return int(raw)


def _card(obj: ObjectInfo) -> dict[str, Any]:
    try:
        return get_card(engine_session(), obj.api_name, _card_id())
    except NotFound:
        raise PageError(_("'%(object)s' has no card %(card)s.", object=obj.label, card=request.args.get("card")),
                        404) from None


def _card_url(obj: ObjectInfo, record_id: int, **extra) -> str:
    card = request.args.get("card")
    return url_for("cards.card", object_name=obj.api_name, record_id=record_id,
                   **({"card": card} if card else {}), **extra)


def _list_url(obj: ObjectInfo) -> str:
    if "lists.index" in current_app.view_functions:
        return url_for("lists.index", object_name=obj.api_name)
    return url_for("core.home")


def _editable_fields(obj: ObjectInfo, caps: ObjectCapabilities) -> list[FieldInfo]:
    return [f for f in obj.user_fields if caps.writes(f)]


def _read_form(obj: ObjectInfo, fields: list[FieldInfo], prefix: str, originals: Mapping[str, Any] | None,
               language: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[str]]]:
    """(raws, values, errors) of a submitted form: every submitted control's raw value;
    the parsed values of those that changed since ``originals`` (all, when None); the
    messages of those that do not parse."""
    raws: dict[str, Any] = {}
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for f in fields:
        widget = widget_for(f)
        raw = widget.from_form(request.form, prefix + f.api_name)
        if raw is MISSING:
            continue
        raws[f.api_name] = raw
        if originals is not None and f.api_name in originals and widget.same(raw, originals[f.api_name]):
            continue
        try:
            values[f.api_name] = widget.parse(f, raw, language)
        except FieldValueError as exc:
            errors[f.api_name] = [str(exc)]
    return raws, values, errors


def _with_store_problems(form_errors: dict[str, list[str]], store_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The controls that did not parse, plus what the store finds in the rest (required,
    unique, links, rules): every problem of the form at once, not one save at a time.
    A control that did not parse keeps only its own message."""
    merged = dict(form_errors)
    for key, messages in store_errors.items():
        if key not in form_errors:
            merged[key] = list(messages)
    return merged


def _form_version() -> int | None:
    raw = request.form.get("_version", "")
    return int(raw) if raw.isdigit() else None


def _form_originals() -> dict[str, Any] | None:
    try:
        found = strict_json(request.form.get("_original", ""), what=None)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _record_title(obj: ObjectInfo, record: Mapping[str, Any] | None, language: str) -> str:
    if record is None:
        return _("New %(object)s", object=obj.label_in(language))
    shown = record.get(obj.display_field.api_name)
    if isinstance(shown, LinkRef):
        shown = shown.display
    if shown not in (None, "") and obj.display_field.api_name != "code":
        text = shown if isinstance(shown, str) else obj.display_field.ftype.format(obj.display_field, shown, language)
        return text
    return record.get("code") or f"#{record.get('id')}"


# ---- history --------------------------------------------------------------------------------
def _history_value(schema, field: FieldInfo | None, value: Any, language: str, users: dict[int, str],
                   links: LinkNames | None = None) -> Markup:
    if value is None or value == "" or value == []:
        return Markup('<span class="text-body-secondary">—</span>')
    if field is None:
        return escape(json.dumps(value) if not isinstance(value, str) else value)
    named = (links or {}).get(field.api_name, {})
    if field.ftype.stored_apart and isinstance(value, list):  # a multi-link: each target as the reader sees it
        ids = [v.get("id") if isinstance(v, dict) else v for v in value]
        value = [named.get(i) or LinkRef(i, None, restricted=True) for i in ids if isinstance(i, int)]
    elif isinstance(value, dict) and "id" in value and set(value) <= {"id", "display", "restricted"}:
        value = named.get(value["id"]) or LinkRef(value["id"], value.get("display"), bool(value.get("restricted")))
    elif field.type in ("link",) and isinstance(value, int):
        value = named.get(value, LinkRef(value, None))
    elif field.type in ("user", "owner", "created_by", "modified_by") or (field.system and isinstance(value, int)):
        if isinstance(value, int):
            return escape(users.get(value, f"#{value}"))
    else:
        try:
            value = field.ftype.parse(field, value)
        except (FieldValueError, TypeError, ValueError):
            return escape(str(value))
    return render_value(schema, field, value, language)


def _history(s: Session, obj: ObjectInfo, record: Mapping[str, Any], caps: ObjectCapabilities,
             language: str) -> list[dict[str, Any]]:
    schema = s.schema
    users = dict(active_users())
    out = []
    entries = s.history(obj, record["id"], read=record)[:HISTORY_LIMIT]
    links = link_names(s, obj, entries)
    for entry in entries:
        changes = []
        for change in entry["changes"]:
            field = obj.fields_by_name.get(change["field"]) if change["field"] else None
            if field is not None and not caps.reads(field):
                continue  # the store masks hidden fields already; never show one anyway
            changes.append({"label": field.label_in(language) if field else change["label"],
                            "old": _history_value(schema, field, change["old"], language, users, links),
                            "new": _history_value(schema, field, change["new"], language, users, links)})
        out.append({"at": entry["at"], "who": entry["actor"]["display"], "action": entry["action"],
                    "action_text": str(ACTIONS.get(entry["action"], entry["action"])), "changes": changes,
                    "version": entry["version"]})
    return out


# ---- the card -------------------------------------------------------------------------------
def _render_card(obj: ObjectInfo, record: Mapping[str, Any] | None, card: Mapping[str, Any], *, status: int = 200,
                 raws=None, errors=None, conflict=None, record_rights=None, version=None, originals=None,
                 form_message: str | None = None, conflict_changes=None, pending=None):
    s = engine_session()
    language = current_language()
    ctx = card_context(None, s.actor, obj.api_name, record, card["layout"], "edit", raws=raws, errors=errors,
                       conflict=conflict, record_rights=record_rights, language=language, session=s,
                       generated=card.get("id") is None)
    if record is None:  # a new record: its child rows can be added before the first save
        pending_rows.attach(ctx, pending or [], language)
    if version is not None:
        ctx["version"] = version
    if originals is not None:
        ctx["originals_json"] = json.dumps(originals, default=str)
    history = []
    if record is not None:
        history = _history(s, obj, record, ctx["rights"], language)
    cards = list_cards(s, obj.api_name)
    body = render_template(
        "web/cards/card.html", c=ctx, obj=obj, record=record, card=card, cards=cards, history=history,
        title=_record_title(obj, record, language), form_message=form_message,
        conflict_changes=conflict_changes or [], card_arg=request.args.get("card"),
        list_url=_list_url(obj), can_list=("lists.index" in current_app.view_functions))
    return body, status


@bp.route("/o/<object_name>/<int:record_id>", methods=["GET", "POST"])
def card(object_name: str, record_id: int):
    obj = _object(object_name, write=request.method == "POST")
    s = engine_session()
    record = s.get(obj, record_id, purpose="read")
    rights = s.record_rights(obj, record_id)
    layout = _card(obj)
    if request.method == "GET":
        return _render_card(obj, record, layout, record_rights=rights)
    language = current_language()
    mine = s.capabilities(obj)
    if not rights.get("edit") or not mine.can("edit"):
        raise PageError(_("You may not change this %(object)s.", object=obj.label_in(language)), 403)
    version = _form_version()
    originals = _form_originals()
    raws, values, errors = _read_form(obj, _editable_fields(obj, mine), FIELD_PREFIX, originals, language)
    keep = {"record_rights": rights, "raws": raws, "version": version, "originals": originals}
    if version is None:
        errors.setdefault("version", []).append(_("The form is missing the version it was read at; reload the card."))
    elif errors:
        errors = _with_store_problems(errors, s.problems(obj, values, rid=record_id, version=version))
    if errors:
        return _render_card(obj, record, layout, status=422, errors=errors, **keep)
    if not values:
        flash(_("Nothing was changed."), "info")
        return redirect(_card_url(obj, record_id))
    try:
        s.update(obj, record_id, values, version=version, fetch=False)
    except ValidationError as exc:
        return _render_card(obj, record, layout, status=422, errors=exc.errors, **keep)
    except Conflict:
        return _conflict(obj, record_id, layout, raws, originals or {}, rights, mine)
    except Forbidden as exc:
        return _render_card(obj, record, layout, status=403, form_message=exc.message, **keep)
    back = _card_url(obj, record_id)
    flash_undo(_("Saved."), s, back)
    return redirect(back)


def _conflict(obj: ObjectInfo, record_id: int, layout, raws: dict[str, Any], originals: Mapping[str, Any],
              rights, mine):
    """The card again after a stale save: the record as saved now, the user's input kept
    where they changed a field, the other person's value taken where only they did, and
    per field both values where both did. The form's version becomes the current one."""
    s, language = engine_session(), current_language()
    schema = s.schema
    try:
        current = s.get(obj, record_id, purpose="read")
    except NotFound:
        raise PageError(_("This %(object)s was moved to the trash by someone else while you edited it; "
                          "your changes were not saved.", object=obj.label_in(language)), 409) from None
    merged: dict[str, Any] = {}
    conflict: dict[str, dict] = {}
    changes = []
    for name, mine_raw in raws.items():
        f = obj.fields_by_name[name]
        widget = widget_for(f)
        theirs_raw = widget.to_raw(f, current.get(name), language)
        base = originals.get(name, MISSING)
        they_changed = base is MISSING or not widget.same(base, theirs_raw)
        i_changed = base is MISSING or not widget.same(base, mine_raw)
        if not they_changed:
            merged[name] = mine_raw
            continue
        theirs_html = render_value(schema, f, current.get(name), language)
        label = f.label_in(language)
        if not i_changed or widget.same(mine_raw, theirs_raw):
            merged[name] = theirs_raw  # only they changed it (or both alike): take the saved value
            changes.append({"label": label, "theirs": theirs_html, "state": "taken"})
            continue
        merged[name] = mine_raw
        conflict[name] = {"theirs_html": theirs_html, "theirs_raw": json.dumps(theirs_raw, default=str)}
        changes.append({"label": label, "theirs": theirs_html, "state": "both"})
    new_originals = {f.api_name: widget_for(f).to_raw(f, current.get(f.api_name), language)
                     for f in _editable_fields(obj, mine)}
    return _render_card(obj, current, layout, status=409, raws=merged, conflict=conflict, record_rights=rights,
                        version=current["version"], originals=new_originals, conflict_changes=changes)


@bp.route("/o/<object_name>/new", methods=["GET", "POST"])
def new(object_name: str):
    obj = _object(object_name, write=request.method == "POST")
    s = engine_session()
    language = current_language()
    mine = s.capabilities(obj)
    if not mine.can("read") or not mine.can("create"):
        raise PageError(_("You may not create %(objects)s.", objects=obj.label_plural_in(language)), 403)
    layout = _card(obj)
    fields = _editable_fields(obj, mine)
    if request.method == "GET":
        return _render_card(obj, None, layout, raws=_prefill(s, obj, fields, language))
    raws, values, errors = _read_form(obj, fields, FIELD_PREFIX, None, language)
    # child rows added before the first save (web/pending_rows.py)
    slots = pending_rows.creatable_slots(card_context(None, s.actor, obj.api_name, None, layout["layout"], "edit",
                                                      language=language, session=s))
    pending = pending_rows.read(slots, request.form, language)
    if errors or any(row.errors for row in pending):
        errors = _with_store_problems(errors, s.problems(obj, {k: v for k, v in values.items() if v is not None}))
        return _render_card(obj, None, layout, status=422, raws=raws, errors=errors, pending=pending,
                            form_message=_("Correct the marked values.") if not errors else None)
    try:
        with s.savepoint():  # the record and its rows, or nothing
            created = s.create(obj, {k: v for k, v in values.items() if v is not None})
            for row in pending:
                slot = pending_rows.slot_for(slots, row)
                try:
                    s.create(slot.obj, {**row.values, slot.link.api_name: created["id"]})
                except ValidationError as exc:
                    pending_rows.store_errors(row, exc.errors)
                    raise _RowRefused(slot.label) from None
    except _RowRefused as exc:
        return _render_card(obj, None, layout, status=422, raws=raws, pending=pending,
                            form_message=_("Nothing was saved: a row of %(list)s cannot be saved.", list=str(exc)))
    except ValidationError as exc:
        return _render_card(obj, None, layout, status=422, raws=raws, errors=exc.errors, pending=pending)
    except Forbidden as exc:
        return _render_card(obj, None, layout, status=403, raws=raws, form_message=exc.message, pending=pending)
    pick = pick_target(request.args.get("pick"))
    visible = bool(s.allowed_ids(obj, [created["id"]], "read"))  # not under scope "none", an unmatched rule view
    if pick is not None:  # the window of a link picker's "+ New": hand the record back, if it may be seen
        if not visible:
            return unseen_page(obj, _unseen_name(obj, created, language))
        return picked_page(obj, created, _record_title(obj, created, language), pick)
    if not visible:  # no card to show
        return _saved_out_of_sight(obj, created, language)
    back = _card_url(obj, created["id"])
    if pending:  # the record and its rows are several actions: no single Undo to offer
        flash(_("%(code)s was created with %(n)s rows.", code=created.get("code") or "", n=len(pending)), "success")
        return redirect(back)
    flash_undo(_("%(code)s was created.", code=created.get("code") or ""), s, back)
    return redirect(back)


def _unseen_name(obj: ObjectInfo, created: dict[str, Any], language: str) -> str:
    """A record the user may not read, named by its object and code only."""
    return f"{obj.label_in(language)} {created.get('code') or ''}".strip()


def _saved_out_of_sight(obj: ObjectInfo, created: dict[str, Any], language: str):
    """The user may create records they may not read afterwards (record scope "none", a
    rule view the new record does not match): the list with a notice, never a 404 card."""
    record = _unseen_name(obj, created, language)
    flash(_("%(record)s was saved; you cannot see it under your rights.", record=record), "info")
    return redirect(url_for("lists.index", object_name=obj.api_name))


class _RowRefused(Exception):
    """A child row of a new card was refused: the savepoint rolls the record back too."""


def _prefill(s: Session, obj: ObjectInfo, fields: list[FieldInfo], language: str) -> dict[str, Any]:
    """?<field>=<value>: a link by the target's id (its display looked up under the
    actor's rights), other fields as typed."""
    raws: dict[str, Any] = {}
    schema = s.schema
    for f in fields:
        value = request.args.get(f.api_name)
        if value is None:
            continue
        if f.type == "link":
            display = f"#{value}"
            if value.isdigit():
                try:
                    target = s.get(schema.link_target(f), int(value), purpose="read")
                    shown = target.get(schema.link_target(f).display_field.api_name)
                    display = shown.display if isinstance(shown, LinkRef) else (shown or target.get("code"))
                except CardbaseError:
                    display = _("restricted")
            raws[f.api_name] = {"id": value, "display": str(display)}
        elif f.ftype.stored_apart:  # a multi-link: ?tags=3&tags=7, the names as the actor sees them
            raws[f.api_name] = _prefilled_links(s, f, request.args.getlist(f.api_name), language)
        elif f.type == "multi_choice":
            raws[f.api_name] = request.args.getlist(f.api_name)
        elif f.type == "money":
            raws[f.api_name] = [value, f.options.get("currency", "EUR")]
        else:
            raws[f.api_name] = value
    return raws


def _prefilled_links(s: Session, field: FieldInfo, given: list[str], language: str) -> list[dict[str, str]]:
    """The rows a multi-link starts with on a new card: one read for the names; an id the
    actor cannot see (or that is none) stays as given, for the store to refuse on save."""
    target = s.schema.link_target(field)
    ids = [int(v) for v in given if v.isdigit()]
    shown = target.display_field
    found = s.fetch(target, ids, fields=[shown.api_name]) if ids and s.capabilities(target).can("read") else {}
    rows = []
    for value in dict.fromkeys(v.strip() for v in given if v.strip()):
        record = found.get(int(value)) if value.isdigit() else None
        name = _display_text(shown, record, language) if record is not None else None
        rows.append({"id": value, "display": name or f"#{value}"})
    return rows


def _display_text(shown: FieldInfo, record: Mapping[str, Any], language: str) -> str | None:
    value = record.get(shown.api_name)
    if isinstance(value, LinkRef):
        return value.display
    return value if value is None or isinstance(value, str) else shown.ftype.format(shown, value, language)


# ---- delete, trash, restore -------------------------------------------------------------------
@bp.route("/o/<object_name>/<int:record_id>/delete", methods=["POST"])
def delete(object_name: str, record_id: int):
    obj = _object(object_name, write=True)
    s = engine_session(write=True)
    record = s.get(obj, record_id, purpose="read")
    try:
        s.delete(obj, record_id, version=_form_version())
    except Conflict:
        flash(_("%(code)s was changed by someone else since you opened it; look at the changes and delete "
                "again if you still want to.", code=record.get("code")), "error")
        return redirect(_card_url(obj, record_id))
    except (InUse, Forbidden, ValidationError) as exc:
        flash(exc.message, "error")
        return redirect(_card_url(obj, record_id))
    flash_undo(_("%(code)s was moved to the trash.", code=record.get("code")), s, _card_url(obj, record_id))
    return redirect(url_for("cards.trash", object_name=obj.api_name) if not _has_list() else _list_url(obj))


def _has_list() -> bool:
    return "lists.index" in current_app.view_functions


@bp.route("/o/<object_name>/trash")
def trash(object_name: str):
    obj = _object(object_name)
    s = engine_session()
    language = current_language()
    mine = s.capabilities(obj)
    if not mine.can("read"):
        raise PageError(_("You may not read %(objects)s.", objects=obj.label_plural_in(language)), 403)
    shown = obj.display_field if mine.reads(obj.display_field) else obj.fields_by_name["code"]
    wanted = list(dict.fromkeys(["code", shown.api_name, "modified_at", "modified_by"]))
    cursor = request.args.get("cursor") or None
    page = s.list(obj, ListQuery(trash=True, limit=TRASH_PAGE, sort="-modified_at",
                                 fields=[w for w in wanted if mine.reads(w)], cursor=cursor), purpose="read")
    schema = s.schema
    rows = [{"id": r["id"], "code": r.get("code"),
             "title": render_value(schema, shown, r.get(shown.api_name), language) if shown.api_name != "code" else "",
             "at": render_value(schema, obj.fields_by_name["modified_at"], r.get("modified_at"), language),
             "by": render_value(schema, obj.fields_by_name["modified_by"], r.get("modified_by"), language)}
            for r in page.data]
    return render_template("web/cards/trash.html", obj=obj, rows=rows, can_restore=mine.can("delete"),
                           next_cursor=page.next_cursor, list_url=_list_url(obj), can_list=_has_list())


@bp.route("/o/<object_name>/<int:record_id>/restore", methods=["POST"])
def restore(object_name: str, record_id: int):
    obj = _object(object_name, write=True)
    s = engine_session(write=True)
    try:
        restored = s.restore(obj, record_id)
    except (ValidationError, Forbidden, NotFound, InUse) as exc:
        flash(exc.message, "error")
        return redirect(url_for("cards.trash", object_name=obj.api_name))
    back = url_for("cards.card", object_name=obj.api_name, record_id=record_id)
    flash_undo(_("%(code)s was restored.", code=restored.get("code")), s, back)
    return redirect(back)


# ---- link picker ------------------------------------------------------------------------------
@bp.route("/o/<object_name>/links/<field_name>")
def link_choices(object_name: str, field_name: str):
    obj = _object(object_name)
    q = request.args.get("q", "").strip()[:200] or None
    try:
        found = engine_session().link_choices(obj, field_name, q, limit=20)
    except CardbaseError as exc:
        return jsonify(error=type(exc).__name__, message=exc.message), exc.status
    s = engine_session()
    filled = source_fill.fills(s, obj, field_name, list(found), current_language())
    shown = _choice_cells(s, obj, field_name, found) if request.args.get("cells") == "1" else {}
    return jsonify([{"id": ref.id, "display": ref.display if ref.display not in (None, "") else f"#{ref.id}",
                     **({"fill": filled[ref.id]} if ref.id in filled else {}),
                     **({"cells": [str(c) for c in shown[ref.id]]} if ref.id in shown else {})} for ref in found])


def _choice_cells(s: Session, obj: ObjectInfo, field_name: str, found: list[LinkRef]) -> dict[int, list[Markup]]:
    """A multi-link's picker: the cells its table shows beside each choice's name."""
    field = obj.fields_by_name[field_name]
    if not field.ftype.stored_apart:
        return {}
    target = s.schema.link_target(field)
    return multi_link_cells.cells(s, target, multi_link_cells.extra_columns(s, target), [r.id for r in found],
                                  current_language())


# ---- child part sets --------------------------------------------------------------------------
def _part(obj: ObjectInfo, record: Mapping[str, Any], child_name: str, link_name: str) -> ListSlot:
    """The children list of the card's layout for ``child``/``link`` (built like the card)."""
    layout = _card(obj)["layout"]
    for tab in layout.get("tabs") or []:
        for section in tab.get("sections") or []:
            for item in section.get("items") or []:
                spec = item.get("children")
                if spec and spec.get("object") == child_name and spec.get("link") == link_name:
                    ctx = card_context(None, None, obj.api_name, None,
                                       {"tabs": [{"label": "", "sections": [{"label": "", "columns": 1,
                                                                             "items": [item]}]}]}, "preview")
                    for s in ctx["tabs"][0].sections:
                        for slot in s.lists:
                            return slot
    raise PageError(_("This card has no list of %(child)s.", child=child_name), 404)


def _row_html(obj: ObjectInfo, record: Mapping[str, Any], slot: ListSlot, row: Mapping[str, Any] | None, *,
              editing: bool, raws=None, errors=None, message: str | None = None) -> str:
    language = current_language()
    key = str(row["id"]) if row is not None else "new"
    cells = child_row_controls(slot, row, raws, errors, language, key) if editing else None
    schema = engine_session().schema
    return render_template("web/cards/_child_row.html", slot=slot, row=row, cells=cells, editing=editing,
                           parent=record, obj=obj, message=message, language=language, card_arg=request.args.get("card"),
                           render=lambda f, v: render_value(schema, f, v, language))


def _parent_values(obj: ObjectInfo, record_id: int) -> dict[str, str]:
    """The parent's calculated values as they are now (e.g. the order total)."""
    s, language = engine_session(), current_language()
    schema = s.schema
    record = s.get(obj, record_id, purpose="read")
    return {f.api_name: str(render_value(schema, f, record.get(f.api_name), language))
            for f in obj.fields if not f.writable and f.api_name in record}


@bp.route("/o/<object_name>/<int:record_id>/rows/<child_name>/<link_name>/form")
def row_form(object_name: str, record_id: int, child_name: str, link_name: str):
    obj = _object(object_name)
    s = engine_session()
    record = s.get(obj, record_id, purpose="read")
    slot = _part(obj, record, child_name, link_name)
    row = None
    if request.args.get("row"):
        if not request.args["row"].isdigit():
            raise PageError(_("row: '%(value)s' is not a record id.", value=request.args["row"]), 400)
        row = s.get(slot.obj, int(request.args["row"]), purpose="read")
        if not slot.can_edit:
            raise PageError(_("You may not change %(objects)s.", objects=slot.label), 403)
    elif not slot.can_create:
        raise PageError(_("You may not add %(objects)s.", objects=slot.label), 403)
    return _row_html(obj, record, slot, row, editing=True)


@bp.route("/o/<object_name>/<int:record_id>/rows/<child_name>/<link_name>", methods=["POST"])
def row_create(object_name: str, record_id: int, child_name: str, link_name: str):
    return row_save(object_name, record_id, child_name, link_name, None)


@bp.route("/o/<object_name>/<int:record_id>/rows/<child_name>/<link_name>/<int:child_id>", methods=["POST"])
def row_save(object_name: str, record_id: int, child_name: str, link_name: str, child_id: int | None):
    obj = _object(object_name, write=True)
    s, language = engine_session(write=True), current_language()
    record = s.get(obj, record_id, purpose="read")
    slot = _part(obj, record, child_name, link_name)
    fields = [f for f in slot.form_columns if f.api_name in slot.editable_names]
    current = s.get(slot.obj, child_id, purpose="read") if child_id is not None else None
    if current is not None:
        link_value = current.get(slot.link.api_name)
        if not isinstance(link_value, LinkRef) or link_value.id != record_id:
            raise PageError(_("That %(child)s does not belong to this record.", child=slot.obj.label_in(language)), 404)
    raws, values, errors = _read_form(slot.obj, fields, CHILD_PREFIX, None, language)

    def refused(status: int, message: str, errs=None, row=current):
        html = _row_html(obj, record, slot, row, editing=True, raws=raws, errors=errs or {}, message=message)
        return jsonify(ok=False, message=message, errors=errs or {}, row=html), status

    if errors:
        found = (s.problems(slot.obj, {**{k: v for k, v in values.items() if v is not None},
                                       slot.link.api_name: record_id}) if child_id is None
                 else s.problems(slot.obj, values, rid=child_id, version=_form_version()))
        return refused(422, _("Correct the marked values."), _with_store_problems(errors, found))
    try:
        if child_id is None:
            if not slot.can_create:
                raise Forbidden(_("You may not add %(objects)s.", objects=slot.label))
            saved = s.create(slot.obj, {**{k: v for k, v in values.items() if v is not None},
                                        slot.link.api_name: record_id})
        else:
            version = _form_version()
            if version is None:
                return refused(422, _("The row is missing the version it was read at; reload the card."))
            saved = s.update(slot.obj, child_id, values, version=version)
    except ValidationError as exc:
        return refused(422, _("Correct the marked values."), exc.errors)
    except Conflict:
        now = s.get(slot.obj, child_id, purpose="read")
        changed = [f.label_in(language) for f in fields
                   if not widget_for(f).same(widget_for(f).to_raw(f, now.get(f.api_name), language),
                                             widget_for(f).to_raw(f, current.get(f.api_name), language))]
        message = _("Someone else changed this row meanwhile (%(fields)s). Your input is kept; check it against "
                    "the saved values below and save again.", fields=", ".join(changed) or _("no visible field"))
        html = _row_html(obj, record, slot, now, editing=True, raws=raws, message=message)
        saved_row = _row_html(obj, record, slot, now, editing=False)
        return jsonify(ok=False, conflict=True, message=message, row=html, saved=saved_row), 409
    except (Forbidden, InUse) as exc:
        return refused(exc.status, exc.message)
    fresh = s.get(slot.obj, saved["id"], purpose="read")
    return jsonify(ok=True, row=_row_html(obj, record, slot, fresh, editing=False),
                   parent=_parent_values(obj, record_id), id=saved["id"])


@bp.route("/o/<object_name>/<int:record_id>/rows/<child_name>/<link_name>/<int:child_id>/delete",
          methods=["POST"])
def row_delete(object_name: str, record_id: int, child_name: str, link_name: str, child_id: int):
    obj = _object(object_name, write=True)
    s, language = engine_session(write=True), current_language()
    record = s.get(obj, record_id, purpose="read")
    slot = _part(obj, record, child_name, link_name)
    current = s.get(slot.obj, child_id, purpose="read")
    link_value = current.get(slot.link.api_name)
    if not isinstance(link_value, LinkRef) or link_value.id != record_id:
        raise PageError(_("That %(child)s does not belong to this record.", child=slot.obj.label_in(language)), 404)
    try:
        s.delete(slot.obj, child_id, version=_form_version())
    except Conflict:
        return jsonify(ok=False, message=_("Someone else changed this row meanwhile; reload the card and "
                                           "delete again if you still want to.")), 409
    except (Forbidden, InUse, ValidationError) as exc:
        return jsonify(ok=False, message=exc.message), exc.status
    return jsonify(ok=True, parent=_parent_values(obj, record_id),
                   message=_("%(code)s was moved to the trash.", code=current.get("code")))
