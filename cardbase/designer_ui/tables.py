"""The table designer: the object's list view -- columns (the object's fields, system
fields and the fields of linked objects one level deep), their order and widths, the
default sort (several levels), the default filter (the condition builder) and the page
size -- saved through ``layouts.tables.save_table``, which validates and logs."""
from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.context import current_actor, engine_session, get_db, get_store
from cardbase.platform.jsonio import JsonInputError, loads, usable_filter
from cardbase.platform.web.nav import object_label
from cardbase.schema_engine.errors import CardbaseError, NotFound, ValidationError
from cardbase.schema_engine.layouts import table_designs
from cardbase.schema_engine.layouts import tables as layouts
from cardbase.schema_engine.query.model import MAX_LIMIT

from . import bp
from .common import configurable_object
from .support import (StaleForm, builder_texts, condition_fields, error_list, fields_state, fingerprint,
                      operator_labels)


def table_state(obj, definition: dict[str, Any]) -> str:
    return fingerprint(fields_state(obj), definition)


def sort_levels(sort: Any) -> list[dict[str, Any]]:
    """"-amount,name" -> [{"field": "amount", "desc": True}, {"field": "name", "desc": False}]."""
    if isinstance(sort, list):
        sort = ",".join(s for s in sort if isinstance(s, str))
    out = []
    for part in (sort or "").split(","):
        part = part.strip()
        if part:
            out.append({"field": part.lstrip("-+"), "desc": part.startswith("-")})
    return out


def table_texts() -> dict[str, str]:
    return {"move_up": _("Move up"), "move_down": _("Move down"), "remove": _("Remove column"),
            "width": _("Width in pixels"), "width_auto": _("automatic"), "add": _("Add column"),
            "sort_field": _("Sort by"), "direction": _("Direction"), "asc": _("ascending"), "desc": _("descending"),
            "remove_sort": _("Remove sort level"), "add_sort": _("Add sort level"), "no_columns": _("No columns yet."),
            "all_placed": _("Every field is a column."), "no_match": _("No other column matches."), "moved": _("Moved."),
            "added": _("Added."),
            "removed": _("Removed."), "then": _("then")}


def _render(obj, definition: dict[str, Any], *, state: str, errors: list[str] | None = None, status: int = 200,
            problem: str | None = None, design: dict[str, Any] | None = None):
    """The form; ``problem``: why the stored default filter cannot be used (it is left out)."""
    schema = engine_session().schema  # the request's snapshot (a saved change redirects)
    columns = condition_fields(schema, obj, links=True)  # the same paths a filter may use
    filter_text = json.dumps(definition.get("filter"), ensure_ascii=False, indent=1) if definition.get("filter") else ""
    if isinstance(definition.get("filter"), str):
        filter_text = definition["filter"]
    data = {"columns": [{"field": c["field"], **({"width": c["width"]} if c.get("width") else {})}
                        for c in definition.get("columns") or [] if isinstance(c, dict)],
            "sort": sort_levels(definition.get("sort")), "available": columns, "texts": table_texts(),
            "min_width": layouts.MIN_WIDTH, "max_width": layouts.MAX_WIDTH}
    designs = table_designs.list_tables(get_db(), obj.api_name)
    return render_template(
        "designer/tables/edit.html", obj=obj, object_title=object_label(obj), data=data, state=state,
        design=design, designs=designs,
        errors=errors or [], filter_text=filter_text, filter_problem=problem,
        page_size=definition.get("page_size") or layouts.DEFAULT_PAGE_SIZE,
        max_page_size=MAX_LIMIT, fields=columns, ops=operator_labels(), texts=builder_texts(),
        definition_json=json.dumps({k: v for k, v in data.items() if k in ("columns", "sort")}, ensure_ascii=False),
    ), status


@bp.route("/objects/<object_name>/table", methods=["GET", "POST"])
def table_design(object_name: str):
    _schema, obj = configurable_object(object_name)
    db = get_db()
    table_id = _table_id()
    try:
        design = table_designs.get_table(db, obj.api_name, table_id)
    except NotFound:
        return _render(obj, layouts.default_table(db, obj.api_name), state="", status=404,
                       errors=[_("%(object)s has no table #%(id)s.", object=object_label(obj),
                                 id=request.args.get("table"))], design=None)
    stored = design["definition"] if table_id is not None else layouts.default_table(db, obj.api_name)
    state = table_state(obj, stored)  # of the design as stored, so saving over a broken filter is not "stale"
    current, problem = usable_filter(stored)
    if request.method == "GET":
        return _render(obj, current, state=state, problem=problem, design=design)
    if request.form.get("action") in _DESIGN_ACTIONS:
        return _DESIGN_ACTIONS[request.form["action"]](obj, design, stored, current, state)
    if request.form.get("action") == "reset":
        try:
            layouts.reset_table(db, current_actor(), obj.api_name, policy=get_store().policy)
        except CardbaseError as exc:
            return _render(obj, current, state=state, errors=error_list(exc), status=exc.status)
        flash(_("The table of %(object)s is generated from the fields again.", object=object_label(obj)), "success")
        if design["id"] is not None and table_designs.list_tables(db, obj.api_name):
            flash(_("The default table design was deleted; %(object)s now open with the next design.",
                    object=object_label(obj)), "success")
        return redirect(url_for("designer.table_design", object_name=obj.api_name))
    posted: dict[str, Any] = dict(current)
    try:
        posted = _posted_definition()
        if request.form.get("state") != state:
            raise StaleForm(_(
                "Someone else changed the table or the fields of %(object)s since you opened this form; your "
                "changes were not saved. Reload the page to see the current table and make your change again.",
                object=object_label(obj)))
        if table_id is None:
            layouts.save_table(db, current_actor(), obj.api_name, posted, policy=get_store().policy)
        else:
            table_designs.save_design(db, current_actor(), obj.api_name, design["name"], posted, table_id=table_id,
                                      policy=get_store().policy)
    except CardbaseError as exc:
        if isinstance(exc, _WithDefinition):
            posted = exc.definition
        status = exc.status if exc.status in (403, 404, 409) else 422
        return _render(obj, posted, state=state, errors=error_list(exc), status=status, design=design)
    flash(_("The table of %(object)s was saved.", object=object_label(obj)), "success")
    return redirect(url_for("designer.table_design", object_name=obj.api_name, table=table_id))


def _table_id() -> int | None:
    raw = request.args.get("table", "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1  # -1: no such design (NotFound)


# ---- named designs: new, rename / make default, delete ------------------------------------------------
def _new_design(obj, design, stored, current, state):
    """A new named design, starting as a copy of the one shown."""
    try:
        made = table_designs.save_design(get_db(), current_actor(), obj.api_name, request.form.get("name"),
                                         current, policy=get_store().policy)
    except CardbaseError as exc:
        return _render(obj, current, state=state, errors=error_list(exc), status=_status(exc), design=design)
    flash(_("The table %(name)s was added.", name=made["name"]), "success")
    return redirect(url_for("designer.table_design", object_name=obj.api_name, table=made["id"]))


def _rename_design(obj, design, stored, current, state):
    """Rename the design shown, and make it the default when asked."""
    try:
        saved = table_designs.save_design(get_db(), current_actor(), obj.api_name, request.form.get("name"),
                                          stored, table_id=design["id"], is_default=bool(request.form.get("is_default")),
                                          policy=get_store().policy)
    except CardbaseError as exc:
        return _render(obj, current, state=state, errors=error_list(exc), status=_status(exc), design=design)
    flash(_("The table %(name)s was saved.", name=saved["name"]), "success")
    return redirect(url_for("designer.table_design", object_name=obj.api_name, table=saved["id"]))


def _delete_design(obj, design, stored, current, state):
    try:
        if design["id"] is None:
            raise ValidationError({"table": _("the generated table cannot be deleted")})
        table_designs.delete_design(get_db(), current_actor(), obj.api_name, design["id"], policy=get_store().policy)
    except CardbaseError as exc:
        return _render(obj, current, state=state, errors=error_list(exc), status=_status(exc), design=design)
    flash(_("The table %(name)s was deleted.", name=design["name"]), "success")
    return redirect(url_for("designer.table_design", object_name=obj.api_name))


def _status(exc: CardbaseError) -> int:
    return exc.status if exc.status in (403, 404, 409) else 422


_DESIGN_ACTIONS = {"new_design": _new_design, "rename_design": _rename_design, "delete_design": _delete_design}


def _posted_definition() -> dict[str, Any]:
    """The definition the form sends: columns and sort levels as JSON (hidden input,
    kept by table_designer.js), the filter as JSON (the condition builder), the page size."""
    errors: dict[str, str] = {}
    try:
        body = loads(request.form.get("definition") or "{}", what=None)
    except JsonInputError:
        body = None
    if not isinstance(body, dict):
        raise ValidationError({"definition": _("the columns sent by the form are not valid JSON")})
    sort = body.get("sort") or []
    if not isinstance(sort, list):
        errors["sort"] = _("must be a list of sort levels")
        sort = []
    sort_text = ",".join(("-" if s.get("desc") else "") + str(s.get("field"))
                         for s in sort if isinstance(s, dict) and s.get("field"))
    filter_raw = request.form.get("filter", "")
    tree: Any = None
    if filter_raw.strip():
        try:
            tree = loads(filter_raw, what=None)  # the API's strict reader: no lone surrogates, NUL, NaN, deep nesting
        except JsonInputError as exc:
            errors["filter"] = _("is not a valid condition (%(error)s)", error=str(exc))
            tree = filter_raw
    size_text = request.form.get("page_size", "").strip()
    page_size: Any = layouts.DEFAULT_PAGE_SIZE
    if size_text:
        try:
            page_size = int(size_text)
        except ValueError:
            errors["page_size"] = _("must be a whole number from 1 to %(max)s", max=MAX_LIMIT)
            page_size = size_text
    definition = {"columns": body.get("columns") or [], "sort": sort_text or None, "filter": tree,
                  "page_size": page_size}
    if errors:
        exc = ValidationError(errors)
        raise _WithDefinition(exc, definition)
    return definition


class _WithDefinition(ValidationError):
    """A form error that still carries what was posted (to show it again)."""

    def __init__(self, exc: ValidationError, definition: dict[str, Any]):
        super().__init__(exc.errors)
        self.definition = definition
