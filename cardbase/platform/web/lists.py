"""The list view of an object: the power user's table (or a saved view) with sorting by
header, a filter builder over any field or link path, quick search, keyset pages, saved
views, a column chooser and exports to CSV and XLSX.

The state of a list lives in the URL (``view``, ``q``, ``sort``, ``filter`` as JSON,
``cols``, ``limit``, ``cursor``), so a list can be bookmarked, shared and reloaded. A
parameter that is present overrides the view's own setting (``filter=`` clears the
view's filter); one that is absent keeps it.

Every read goes through the request's one engine session (purpose "read"; an export checks
purpose "export" in it before the store streams the rows), so what the page shows, sorts,
filters and exports follows the user's rights; what they may do comes from the session's
capabilities. Hidden fields are not offered, and asking for one anyway is refused by the
store like an unknown field.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field as dc_field
from datetime import date
from typing import Any, Callable

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   send_file, stream_with_context, url_for)
from flask_babel import format_number, gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from cardbase.schema_engine import layouts
from cardbase.schema_engine.layouts import table_designs
from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, ValidationError
from cardbase.schema_engine.query.model import MAX_LIMIT, ListQuery, Page
from cardbase.schema_engine.query.reader import PAGE_COUNT_CAP
from cardbase.schema_engine.query.sort import parse_sort
from cardbase.schema_engine.snapshot import FieldInfo, ObjectInfo, Schema
from cardbase.schema_engine.rights.capabilities import ObjectCapabilities
from cardbase.schema_engine.store.session import Session

from ..context import current_actor, get_db, get_store
from ..i18n import current_language
from ..jsonio import JsonInputError, loads, usable_filter
from . import bulk as bulk_changes
from . import export as exports
from .display import align_for, render_value
from .engine import can_read, engine_session, readable
from .errors import error_page
from .filter_form import builder_model, catalogue, operator_labels, path_field, path_label
from .filter_names import entries_json, record_names, wanted_ids

bp = Blueprint("lists", __name__)

MAX_PREV = 40  # pages "Previous" can walk back (cursors kept in the URL)
EXPORT_BATCH = 500  # rows per store read (a page: at most MAX_LIMIT)
# The names of the parts of a list, for messages about bad input.
PART_LABELS = {"filter": _l("Filter"), "sort": _l("Sort"), "cursor": _l("Page position"),
               "limit": _l("Page size"), "search": _l("Search"), "fields": _l("Columns"),
               "view": _l("View"), "table": _l("Table"), "cols": _l("Columns"), "name": _l("Name"), "definition": _l("View")}


# ---- the state of a list --------------------------------------------------------------------------
@dataclass
class ListState:
    """A list as the URL asks for it, on top of the view it starts from."""

    obj: ObjectInfo
    view: dict[str, Any] | None
    columns: list[str]
    sort: str
    filter: dict | None
    q: str
    limit: int
    cursor: str | None = None
    prev: list[str] = dc_field(default_factory=list)
    given: dict[str, str] = dc_field(default_factory=dict)  # the overriding URL parameters
    errors: list[str] = dc_field(default_factory=list)
    filter_incomplete: bool = False
    widths: dict[str, int] = dc_field(default_factory=dict)
    bad_filter: bool = False
    # the view's or the table's stored filter could not be used (shown without it)
    stored_problem: str | None = None
    # the named table design chosen with ?table= (None: the default one)
    table: dict[str, Any] | None = None

    def args(self, **changes: Any) -> dict[str, Any]:
        """Query arguments of this list with ``changes`` (None removes a parameter)."""
        out: dict[str, Any] = {}
        if self.view is not None:
            out["view"] = self.view["id"]
        elif self.table is not None:
            out["table"] = self.table["id"]
        out.update(self.given)
        if self.q:
            out["q"] = self.q
        for key, value in changes.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = value
        return out

    def url(self, endpoint: str = "lists.index", **changes: Any) -> str:
        return url_for(endpoint, object_name=self.obj.api_name, **self.args(**changes))

    def definition(self) -> dict[str, Any]:
        """What "Save view" stores: the list as shown now."""
        return {"columns": [{"field": c} for c in self.columns], "sort": self.sort, "filter": self.filter,
                "page_size": self.limit}

    def sort_keys(self) -> list[tuple[str, bool]]:
        try:
            return parse_sort(self.sort)
        except ValidationError:
            return []

    def hidden(self, *exclude: str) -> list[tuple[str, str]]:
        """(name, value) of the parameters a form must carry to keep the rest of the list."""
        args = self.args()
        return [(k, str(v)) for k, v in args.items() if k not in exclude]


def _message(exc: CardbaseError) -> str:
    if isinstance(exc, ValidationError):
        parts = []
        for key, messages in exc.errors.items():
            base = key.split("[")[0].split(".")[0]
            label = PART_LABELS.get(base)
            parts.append(f"{label}: {' '.join(messages)}" if label else f"{key}: {' '.join(messages)}")
        return "; ".join(parts)
    return exc.message


def _int_arg(raw: str, name: str, low: int, high: int, errors: list[str]) -> int | None:
    text = raw.strip()
    if not re.fullmatch(r"\d{1,12}", text) or not low <= int(text) <= high:
        errors.append(_("%(part)s: must be a whole number from %(low)s to %(high)s, not '%(value)s'",
                        part=PART_LABELS.get(name, name), low=low, high=high, value=raw[:40]))
        return None
    return int(text)


def read_state(s: Session, obj: ObjectInfo, args) -> ListState:
    """The list the request asks for; bad parameters become messages (and are ignored)."""
    db, actor, schema, allowed = s, s.actor, s.schema, readable(s)
    errors: list[str] = []
    view = None
    incomplete = False
    if args.get("view"):
        view_id = _int_arg(args["view"], "view", 1, 2**31, errors)
        if view_id is not None:
            try:
                view = layouts.get_view(db, actor, obj.api_name, view_id)
                incomplete = bool(view.get("filter_incomplete"))
            except NotFound:
                errors.append(_("View: there is no view #%(id)s of %(object)s that you may see.",
                                id=view_id, object=obj.label_plural_in(current_language())))
    table = None
    if view is None and args.get("table"):
        table_id = _int_arg(args["table"], "table", 1, 2**31, errors)
        if table_id is not None:
            try:
                table = table_designs.get_table(db, obj.api_name, table_id, actor=actor)
            except NotFound:
                errors.append(_("Table: %(object)s has no table #%(id)s.", id=table_id,
                                object=obj.label_plural_in(current_language())))
    if view is not None:
        definition = view["definition"]
    elif table is not None:
        definition = table["definition"]
    else:
        definition = layouts.default_table(db, obj.api_name, actor=actor)
    stored_problem = None
    if "filter" not in args:  # a filter in the URL replaces the stored one: a broken one does not matter then
        definition, problem = usable_filter(definition)
        if problem is not None:
            stored_problem = (_("The filter of this view cannot be used (%(problem)s); the list is shown without it.",
                                problem=problem) if view is not None else
                              _("The default filter of the table of %(objects)s cannot be used (%(problem)s); the list "
                                "is shown without it. Someone who may configure %(objects)s can replace it in the "
                                "table designer.", problem=problem, objects=obj.label_plural_in(current_language())))
    given: dict[str, str] = {}

    columns = [c["field"] for c in definition.get("columns") or []]
    if "cols" in args:
        wanted = [p.strip() for raw in args.getlist("cols") for p in raw.split(",") if p.strip()]
        chosen = []
        for path in dict.fromkeys(wanted):
            if path_field(schema, obj, path, allowed) is None:
                errors.append(_("Columns: %(object)s has no field '%(path)s' that you may see.",
                                object=obj.label_in(current_language()), path=path[:80]))
            else:
                chosen.append(path)
        if chosen:
            columns = chosen[:layouts.tables.MAX_TABLE_COLUMNS]
            given["cols"] = ",".join(columns)
    if not columns:
        columns = [obj.display_field.api_name] if allowed(obj.display_field) else ["code"]

    sort = definition.get("sort") or ""
    if "sort" in args:
        sort = args["sort"].strip()[:1000]
        given["sort"] = sort

    tree = definition.get("filter")
    bad_filter = False  # a filter that cannot be read: no rows rather than all of them
    if "filter" in args:
        raw = args["filter"].strip()
        given["filter"] = raw
        tree = None
        if raw:
            try:
                tree = loads(raw, what=None)  # the API's strict reader: no lone surrogates, NUL, NaN, deep nesting
            except JsonInputError as exc:
                errors.append(_("Filter: this is not a valid condition (%(error)s).", error=str(exc)))
                tree, bad_filter = None, True
            else:
                if not isinstance(tree, dict):
                    errors.append(_('Filter: must be a condition like {"field": "name", "op": "eq", "value": "x"}.'))
                    tree, bad_filter = None, True
                elif tree == {}:
                    tree = None

    limit = definition.get("page_size") or layouts.tables.DEFAULT_PAGE_SIZE
    if "limit" in args:
        value = _int_arg(args["limit"], "limit", 1, MAX_LIMIT, errors)
        if value is not None:
            limit = value
            given["limit"] = str(value)

    q = args.get("q", "").strip()
    cursor = args.get("cursor") or None
    prev = [p for p in args.get("prev", "").split(".") if p][-MAX_PREV:]
    widths = {c["field"]: c["width"] for c in definition.get("columns") or [] if c.get("width")}
    return ListState(obj, view, columns, sort, tree, q, limit, cursor, prev, given, errors, incomplete, widths,
                     bad_filter, stored_problem, table)


# ---- pages -----------------------------------------------------------------------------------------
def _object_or_404(schema: Schema, object_name: str) -> ObjectInfo:
    if not schema.has_object(object_name) or not isinstance(object_name, str) or object_name.isdigit():
        abort(404)
    return schema.object(object_name)


def _error_page(title: str, message: str, status: int):
    return error_page(message, status, title=title)


@bp.errorhandler(Forbidden)
def _forbidden(exc: Forbidden):
    return _error_page(_("Not allowed"), exc.message, 403)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound):
    return _error_page(_("Not found"), exc.message, 404)


def count_text(page: Page) -> str:
    """"1,234 records"; "more than 1,000 records" or "about 1,200,000 records" when the
    store estimated (a count past its cap would cost more than the page)."""
    if page.count < 0:
        return ""
    if page.count_is_estimate:
        if page.count <= PAGE_COUNT_CAP:
            return _("more than %(n)s records", n=format_number(PAGE_COUNT_CAP))
        return _("about %(n)s records", n=format_number(page.count))
    return _("1 record") if page.count == 1 else _("%(n)s records", n=format_number(page.count))


@dataclass
class Column:
    path: str
    label: str
    field: FieldInfo
    sortable: bool
    align: str
    direction: str | None = None  # "ascending" / "descending" when the list is sorted by it
    sort_url: str = ""
    width: int | None = None
    first: bool = False

    @property
    def css(self) -> str:
        return " ".join(c for c in ("num" if self.align == "end" else "", "cb-first" if self.first else "") if c)


def _columns(s: Session, state: ListState, language: str) -> list[Column]:
    schema, allowed = s.schema, readable(s)
    keys = state.sort_keys()
    first = keys[0] if keys else None
    out = []
    for path in state.columns:
        field = path_field(schema, state.obj, path, allowed)
        if field is None:
            continue
        sortable = bool(getattr(field.ftype, "sortable", True))
        direction = None
        if first and first[0] == path:
            direction = "descending" if first[1] else "ascending"
        next_sort = f"-{path}" if direction == "ascending" else path
        out.append(Column(path, path_label(schema, state.obj, path, language), field, sortable,
                          align_for(field), direction,
                          state.url(sort=next_sort) if sortable else "", state.widths.get(path), not out))
    return out


def _filter_rows(tree: Any) -> dict[str, Any]:
    """The filter as the builder edits it (nested and/or groups): filter_form.builder_model."""
    return builder_model(tree)


def _views(s: Session, obj: ObjectInfo) -> list[dict[str, Any]]:
    try:
        return layouts.list_views(s, s.actor, obj.api_name)
    except CardbaseError:
        return []


def _links(obj: ObjectInfo, caps: ObjectCapabilities) -> dict[str, str]:
    """Board and calendar of the object, when it has a choice or date field and the
    screens exist."""
    has = current_app.view_functions.__contains__
    out = {}
    visible = [f for f in obj.user_fields if caps.reads(f)]
    if has("boards.board") and any(f.type == "choice" for f in visible):
        out["board"] = url_for("boards.board", object_name=obj.api_name)
    if has("boards.calendar") and any(f.ftype.value_type in ("date", "datetime") for f in visible):
        out["calendar"] = url_for("boards.calendar", object_name=obj.api_name)
    return out


def _open_link(url: str, html: Markup, record_id: int, label: str) -> Markup:
    """The first cell opens the card: the value itself is the link, unless it holds a
    link already (then a small arrow before it does)."""
    if "<a " in html:
        return Markup('<a class="cb-open me-1" href="{}" aria-label="{}">↗</a>').format(url, label) + html
    return Markup('<a class="cb-open fw-semibold" href="{}">{}</a>').format(url, html or f"#{record_id}")


def card_url_maker(obj: ObjectInfo) -> Callable[[int], str | None]:
    """record id -> the URL of its card (one url_for per page, not one per row)."""
    if "cards.card" not in current_app.view_functions:
        return lambda record_id: None
    sample = url_for("cards.card", object_name=obj.api_name, record_id=987654321)
    head, tail = sample.split("987654321", 1)
    return lambda record_id: f"{head}{int(record_id)}{tail}"


@bp.route("/o/<object_name>")
def index(object_name: str):
    s = engine_session()
    schema = s.schema
    obj = _object_or_404(schema, object_name)
    caps = s.capabilities(obj)
    if not caps.can("read"):
        raise Forbidden(_("You may not read %(objects)s.", objects=obj.label_plural_in(current_language())))
    language = current_language()
    state = read_state(s, obj, request.args)
    columns = _columns(s, state, language)
    page, status = None, 200
    if state.bad_filter:
        status = 400  # the message is in state.errors; showing every row instead would mislead
    else:
        try:
            # the rows' versions and codes: a ticked row posts the version it was shown at
            shown = [c.path for c in columns] + [p for p in ("version", "code") if readable(s)(obj.fields_by_name[p])]
            query = ListQuery(filter=state.filter, sort=state.sort or None, limit=state.limit, cursor=state.cursor,
                              search=state.q or None, fields=list(dict.fromkeys(shown)))
            page = s.list(obj, query, purpose="read")
        except ValidationError as exc:
            state.errors.append(_message(exc))
            status = 400
    rows = []
    card_url = card_url_maker(obj)
    bulk = bulk_changes.panel(obj, caps, language) if page is not None and page.data else None
    if page is not None:
        looks = [(c.label, c.css) for c in columns]
        open_label = _("Open the record")
        for record in page.data:
            url = card_url(record["id"])
            cells = [render_value(schema, c.field, record.get(c.path), language) for c in columns]
            if url and cells:
                cells[0] = _open_link(url, cells[0], record["id"], open_label)
            rows.append({"id": record["id"], "url": url, "select": bulk_changes.selection_value(record),
                         "code": record.get("code") or f"#{record['id']}",
                         "cells": [(label, css, html) for (label, css), html in zip(looks, cells)]})
    entries = catalogue(schema, obj, readable(s), can_read(s), language,
                        current_app.view_functions.__contains__)
    labels = operator_labels()
    position = len(state.prev) * state.limit if state.cursor else 0
    nav = {}
    if page is not None and page.next_cursor:
        nav["next"] = state.url(cursor=page.next_cursor, prev=".".join((state.prev + [state.cursor or "~"])[-MAX_PREV:]))
    if state.cursor:
        back = state.prev[-1] if state.prev else "~"
        rest = state.prev[:-1]
        nav["previous"] = state.url(cursor=None if back == "~" else back, prev=".".join(rest) or None)
        nav["first"] = state.url()
    views = _views(s, obj)
    tables = table_designs.list_tables(s, obj.api_name)
    # (made here, not in the template: a translation used in an attribute must be escaped
    # as a whole -- in Jinja only its variables are, and its own quotes would end the attribute)
    delete_view_confirm = _('Delete the view "%(name)s"?', name=state.view["name"]) if state.view else ""
    return render_template(
        "web/lists/index.html", obj=obj, state=state, columns=columns, rows=rows, page=page, status=status,
        count_text=count_text(page) if page is not None else "",
        first_row=position + 1, last_row=position + len(rows), nav=nav,
        entries=entries, filter_model=_filter_rows(state.filter),
        entry_json=_entry_json(s, obj, entries, state.filter, labels, language), views=views, caps=caps, tables=tables,
        links=_links(obj, caps), language=language, bulk=bulk, back=request.full_path.rstrip("?"),
        can_share=caps.can("configure"), chosen=set(state.columns), delete_view_confirm=delete_view_confirm,
        definition_json=json.dumps(state.definition(), default=str),
        new_url=url_for("cards.new", object_name=obj.api_name)
        if caps.can("create") and "cards.new" in current_app.view_functions else None,
    ), status


bp.add_url_rule("/o/<object_name>/bulk", "bulk", bulk_changes.bulk, methods=["POST"])


# ---- saved views ---------------------------------------------------------------------------------
def _back(object_name: str) -> str:
    target = request.form.get("next", "")
    prefix = url_for("lists.index", object_name=object_name)
    return target if target == prefix or target.startswith(prefix + "?") else prefix


def _view_id_or_none(raw: str | None) -> int | None:
    if not raw:
        return None
    if not raw.isdigit():
        raise ValidationError({"view": f"'{raw[:20]}' is not a view id"})
    return int(raw)


def _entry_json(s, obj: ObjectInfo, entries, tree, labels, language: str) -> list[dict[str, Any]]:
    """The builder's fields, those the filter names records of with the records' names."""
    return entries_json(entries, labels, record_names(s, obj, wanted_ids(entries, tree), language))


@bp.route("/o/<object_name>/views", methods=["POST"])
def save_view(object_name: str):
    """Save the list as shown as a view: a new one, or (``view_id``) over one's own view."""
    db, actor, s = get_db(), current_actor(), engine_session()
    obj = _object_or_404(s.schema, object_name)
    try:
        definition = loads(request.form.get("definition") or "{}", what=None)
    except JsonInputError:
        flash(_("View: the list's settings could not be read; reload the page and try again."), "danger")
        return redirect(_back(object_name))
    name = request.form.get("name", "")
    shared = request.form.get("shared") == "1"
    try:
        view_id = _view_id_or_none(request.form.get("view_id"))
        if shared and not s.can(obj, "configure"):
            raise Forbidden(_("Only users who may configure %(objects)s can share views.",
                              objects=obj.label_plural_in(current_language())))
        view = layouts.save_view(db, actor, obj.api_name, name, definition, shared=shared, view_id=view_id)
    except (ValidationError, Forbidden, NotFound) as exc:
        flash(_("The view was not saved. %(problem)s", problem=_message(exc)), "danger")
        return redirect(_back(object_name))
    flash(_("View '%(name)s' saved.", name=view["name"]), "success")
    return redirect(url_for("lists.index", object_name=obj.api_name, view=view["id"]))


@bp.route("/o/<object_name>/views/<int:view_id>/rename", methods=["POST"])
def rename_view(object_name: str, view_id: int):
    db, actor, s = get_db(), current_actor(), engine_session()
    obj = _object_or_404(s.schema, object_name)
    try:
        view = layouts.get_view(s, actor, obj.api_name, view_id)
        if view["shared"] and not s.can(obj, "configure"):
            raise Forbidden(_("Only users who may configure %(objects)s can change shared views.",
                              objects=obj.label_plural_in(current_language())))
        if not view["shared"] and not view["mine"]:
            raise NotFound("no such view")
        view = layouts.save_view(db, actor, obj.api_name, request.form.get("name", ""), view["definition"],
                                 shared=view["shared"], view_id=view_id)
    except (ValidationError, Forbidden, NotFound) as exc:
        flash(_("The view was not renamed. %(problem)s", problem=_message(exc)), "danger")
        return redirect(_back(object_name))
    flash(_("View renamed to '%(name)s'.", name=view["name"]), "success")
    return redirect(url_for("lists.index", object_name=obj.api_name, view=view_id))


@bp.route("/o/<object_name>/views/<int:view_id>/delete", methods=["POST"])
def delete_view(object_name: str, view_id: int):
    db, actor, s = get_db(), current_actor(), engine_session()
    obj = _object_or_404(s.schema, object_name)
    try:
        view = layouts.get_view(s, actor, obj.api_name, view_id)
        if view["shared"] and not s.can(obj, "configure"):
            raise Forbidden(_("Only users who may configure %(objects)s can delete shared views.",
                              objects=obj.label_plural_in(current_language())))
        layouts.delete_view(db, actor, obj.api_name, view_id)
    except (ValidationError, Forbidden, NotFound) as exc:
        flash(_("The view was not deleted. %(problem)s", problem=_message(exc)), "danger")
        return redirect(_back(object_name))
    flash(_("View '%(name)s' deleted.", name=view["name"]), "success")
    return redirect(url_for("lists.index", object_name=obj.api_name))


# ---- export ----------------------------------------------------------------------------------------
FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@bp.route("/o/<object_name>/export.<fmt>")
def export(object_name: str, fmt: str):
    """The list as shown (view, filter, search, sort, columns), every page of it."""
    if fmt not in FORMATS:
        return _error_page(_("Unknown format"), _("Exports are CSV or XLSX files, not '%(fmt)s'.", fmt=fmt[:20]), 404)
    s = engine_session()
    obj = _object_or_404(s.schema, object_name)
    language = current_language()
    if not (s.can(obj, "read") and s.can(obj, "export")):
        raise Forbidden(_("You may not export %(objects)s.", objects=obj.label_plural_in(language)))
    state = read_state(s, obj, request.args)
    if state.errors:
        return _error_page(_("The export was not made"), " ".join(state.errors), 400)
    if state.stored_problem:  # the list says so on its page; a file cannot, so no file without the filter
        return _error_page(_("The export was not made"), state.stored_problem, 409)
    columns = [exports.Column(c.path, c.label, c.field) for c in _columns(s, state, language)]
    try:
        rows_filter = bulk_changes.selection_filter(state.filter, request.args.get(bulk_changes.IDS))  # "Export selected"
        query = ListQuery(filter=rows_filter, sort=state.sort or None, limit=1, search=state.q or None,
                          fields=[c.path for c in columns])
        # how many rows will come, for the page's progress bar (the list page itself counts
        # only its first thousand rows exactly); exact up to the store's count cap, else left
        # out. Read in the request's session for the purpose "export", which checks the rights.
        total, estimated = s.count(obj, filter=rows_filter, search=state.q or None, purpose="export")
        # the rows stream from the store in its own per-batch transactions (a long download
        # must not hold the request's transaction open); it checks purpose "export" again
        batches = get_store().export(s.actor, obj.api_name, query, batch=EXPORT_BATCH)
        first = next(batches, None)  # rights and the query are checked before any byte is sent
    except ValidationError as exc:
        return _error_page(_("The export was not made"), _message(exc), 400)

    def all_batches():
        if first is not None:
            yield first
            yield from batches

    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", obj.label_plural).strip("-").lower() or obj.api_name
    filename = f"{stem}-{date.today().isoformat()}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"}
    if not estimated:
        headers["X-Total-Count"] = str(total)
    if fmt == "csv":
        body = stream_with_context(exports.csv_chunks(columns, all_batches(), language))
        return Response(body, mimetype="text/csv", content_type=FORMATS["csv"], headers=headers)
    handle = exports.xlsx_file(columns, all_batches(), language, obj.label_plural_in(language))
    response = send_file(handle, mimetype=FORMATS["xlsx"], as_attachment=True, download_name=filename,
                         max_age=0)
    response.content_length = os.fstat(handle.fileno()).st_size  # the browser can show progress
    response.headers["Cache-Control"] = "no-store"
    if not estimated:
        response.headers["X-Total-Count"] = str(total)
    return response

