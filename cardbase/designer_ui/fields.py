"""Fields in the configurator: add and change a field with the options of its type, change
its type after a preview of what converts, reorder the fields, delete a field after
seeing what uses it. Every change goes through SchemaService (validation, the configure
right, the configuration log); its errors show under the input they concern.

Option inputs are named ``<type>.<option>`` (``string.length``, ``link.target``) so each
type's fieldset is independent; choices (choice and multi-choice) come as the lists
``choice_value`` / ``choice_label`` / ``choice_color``.
"""
from __future__ import annotations

import json
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.api.metadata import field_json
from cardbase.platform.context import current_actor, get_db
from cardbase.platform.web.nav import field_label, object_label
from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.field_types import all_types
from cardbase.schema_engine.field_types.choice import PALETTE
from cardbase.schema_engine.field_types.link import ON_DELETE
from cardbase.schema_engine.field_types.rollup import AGGREGATES
from cardbase.schema_engine.schema_service import SchemaService
from cardbase.schema_engine.translations import FIELD_KEYS, clean_translations

from . import bp
from .common import (user_field, LANGUAGE, FormErrors, checkbox, collect, configurable_object, form_state, is_stale,
                     same_translations, stale_message, text)

# Options read as whole numbers, as text, as JSON (the rest of a type's options).
INT_OPTIONS = {"string": ("length",), "decimal": ("precision", "scale"), "money": ("scale",),
               "formula": ("scale",)}
TEXT_OPTIONS = {"money": ("currency",), "phone": ("region",), "autonumber": ("pattern",),
                "link": ("target", "on_delete"), "lookup": ("link", "field"),
                "rollup": ("child", "link", "field", "aggregate"), "formula": ("formula",)}
JSON_OPTIONS = {"rollup": ("filter",)}
CHOICE_TYPES = ("choice", "multi_choice")
# The order types appear in the type menu.
TYPE_ORDER = ("string", "text", "integer", "decimal", "money", "date", "datetime", "boolean", "choice",
              "multi_choice", "email", "phone", "url", "link", "user", "autonumber", "formula", "lookup", "rollup")
FIELD_RENAME = {f"translations.{LANGUAGE}.label": "label_de", f"translations.{LANGUAGE}.help_text": "help_text_de"}
ON_DELETE_LABELS = {"restrict": "Refuse to delete a record that is still linked",
                    "cascade": "Delete the linking records too",
                    "set_null": "Empty the link"}
AGGREGATE_LABELS = {"sum": "Sum", "count": "Count", "avg": "Average", "min": "Minimum", "max": "Maximum",
                    "concat": "Joined texts"}
COLOUR_LABELS = {"gray": "Grey", "red": "Red", "orange": "Orange", "yellow": "Yellow", "green": "Green",
                 "teal": "Teal", "blue": "Blue", "indigo": "Indigo", "purple": "Purple", "pink": "Pink"}


def type_menu() -> list[tuple[str, str]]:
    types = {n: t for n, t in all_types().items() if not t.system_only}
    names = [n for n in TYPE_ORDER if n in types] + sorted(n for n in types if n not in TYPE_ORDER)
    return [(n, _(types[n].label or n)) for n in names]


# ---- form <-> spec ------------------------------------------------------------------------------
def options_from_form(type_name: str) -> tuple[dict[str, Any], FormErrors]:
    """The options of ``type_name`` as typed; values that are not numbers or JSON are passed
    on as they are, so the field type's own check words the message."""
    options: dict[str, Any] = {}
    errors = FormErrors()
    for opt in INT_OPTIONS.get(type_name, ()):
        raw = text(f"{type_name}.{opt}").strip()
        if raw:
            try:
                options[opt] = int(raw)
            except ValueError:
                options[opt] = raw
    for opt in TEXT_OPTIONS.get(type_name, ()):
        raw = text(f"{type_name}.{opt}")
        if raw.strip():
            options[opt] = raw if opt == "formula" else raw.strip()
    for opt in JSON_OPTIONS.get(type_name, ()):
        raw = text(f"{type_name}.{opt}").strip()
        if raw:
            try:
                options[opt] = json.loads(raw)
            except ValueError as exc:
                errors.add(f"options.{opt}", _("is not a valid condition (JSON): %(problem)s", problem=str(exc)))
    if type_name in CHOICE_TYPES:
        options["choices"] = choices_from_form()
    return options, errors


def choices_from_form() -> list[dict[str, str]]:
    values, labels = request.form.getlist("choice_value"), request.form.getlist("choice_label")
    colours = request.form.getlist("choice_color")
    out = []
    for i in range(max(len(values), len(labels))):
        value = values[i].strip() if i < len(values) else ""
        label = labels[i].strip() if i < len(labels) else ""
        colour = colours[i].strip() if i < len(colours) else ""
        if not value and not label:
            continue  # an empty row of the editor
        choice = {"value": value or label, "label": label or value}
        if colour:
            choice["color"] = colour
        out.append(choice)
    return out


def spec_from_form() -> tuple[dict[str, Any], FormErrors]:
    type_name = text("type")
    spec: dict[str, Any] = {"label": text("label"), "type": type_name, "required": checkbox("required"),
                            "unique": checkbox("unique"), "help_text": text("help_text")}
    if text("name").strip():
        spec["name"] = text("name").strip()
    default = text("default")
    spec["default"] = default if default.strip() else None
    options, errors = options_from_form(type_name)
    spec["options"] = options
    return spec, errors


def values_from_form() -> dict[str, Any]:
    """What the user typed, to show the form again after a refusal."""
    type_name = text("type")
    opts: dict[str, dict[str, Any]] = {}
    for table in (INT_OPTIONS, TEXT_OPTIONS, JSON_OPTIONS):
        for t, names in table.items():
            for opt in names:
                opts.setdefault(t, {})[opt] = text(f"{t}.{opt}")
    return {"label": text("label"), "name": text("name"), "type": type_name, "required": checkbox("required"),
            "unique": checkbox("unique"), "default": text("default"), "help_text": text("help_text"),
            "label_de": text("label_de"), "help_text_de": text("help_text_de"), "opts": opts,
            "choices": choices_from_form() if type_name in CHOICE_TYPES else []}


def values_from_field(schema, obj, field) -> dict[str, Any]:
    """An existing field as form values (options in portable form: names, formula text)."""
    data = field_json(schema, obj, field)
    options = data["options"] or {}
    opts: dict[str, dict[str, Any]] = {}
    for table in (INT_OPTIONS, TEXT_OPTIONS):
        for opt in table.get(field.type, ()):
            value = options.get(opt)
            opts.setdefault(field.type, {})[opt] = "" if value is None else str(value)
    raw = field.ftype.editable_options(field)
    if field.type == "lookup":
        opts["lookup"] = {"link": str(raw.get("link") or ""), "field": str(raw.get("field") or "")}
    elif field.type == "rollup":
        child = schema.object(int(raw["child"])) if schema.has_object(int(raw.get("child") or 0)) else None
        opts["rollup"].update({"child": child.api_name if child else "", "link": str(raw.get("link") or ""),
                               "field": "" if raw.get("field") is None else str(raw["field"])})
    for opt in JSON_OPTIONS.get(field.type, ()):
        value = options.get(opt)
        opts.setdefault(field.type, {})[opt] = json.dumps(value, ensure_ascii=False) if value else ""
    de = field.translations.get(LANGUAGE, {})
    default = data["default"]
    return {"label": field.label, "name": field.api_name, "type": field.type, "required": field.required,
            "unique": field.unique, "default": "" if default is None else _default_text(default),
            "help_text": field.help_text, "label_de": de.get("label", ""), "help_text_de": de.get("help_text", ""),
            "opts": opts, "choices": [dict(c) for c in options.get("choices") or []]}


def _default_text(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (list, dict)):
        return json.dumps(default, ensure_ascii=False)
    return str(default)


def _translations_input(current) -> dict[str, dict[str, str]]:
    merged = {lang: dict(texts) for lang, texts in (current or {}).items()}
    merged[LANGUAGE] = {"label": text("label_de").strip(), "help_text": text("help_text_de").strip()}
    return merged


# ---- what the form's menus need ---------------------------------------------------------------------
def menus(schema, obj, field=None) -> dict[str, list[tuple[str, ...]]]:
    """Options of the lookup and rollup menus. Fields are named by id (unique across
    objects); the third item groups an option under its object, so the browser narrows
    the field menu to the chosen link's target or child object."""
    out: dict[str, list[tuple[str, ...]]] = {"lookup_link": [], "lookup_field": [], "rollup_child": [],
                                             "rollup_link": [], "rollup_field": []}
    targets = []
    for f in obj.user_fields:
        if f.type == "link" and (field is None or f.id != field.id):
            target = schema.link_target(f)
            out["lookup_link"].append((str(f.id), f"{field_label(f)} → {object_label(target)}", target.api_name))
            if target not in targets:
                targets.append(target)
    for target in targets:
        for f in target.user_fields:
            if f.type not in ("link", "user"):
                out["lookup_field"].append((str(f.id), f"{object_label(target)} › {field_label(f)}", target.api_name))
    seen = set()
    for child, link in schema.children(obj):
        if child.id not in seen:
            seen.add(child.id)
            out["rollup_child"].append((child.api_name, object_label(child, plural=True)))
            for f in child.user_fields:
                if f.type != "link":
                    out["rollup_field"].append((str(f.id), f"{object_label(child, plural=True)} › {field_label(f)}",
                                                child.api_name))
        out["rollup_link"].append((str(link.id), f"{object_label(child, plural=True)} › {field_label(link)}",
                                   child.api_name))
    return out


def _form_context(schema, obj, field, values, errors, **extra) -> dict[str, Any]:
    from .formula_editor import editor_context

    return {"obj": obj, "field": field, "values": values, "errors": errors, "types": type_menu(),
            "objects": [(o.api_name, object_label(o)) for o in schema.objects],
            "on_delete": [(v, _(ON_DELETE_LABELS[v])) for v in ON_DELETE],
            "aggregates": [(v, _(AGGREGATE_LABELS[v])) for v in AGGREGATES],
            "palette": [(c, _(COLOUR_LABELS.get(c, c))) for c in PALETTE],
            "menus": menus(schema, obj, field), "state": form_state(schema, obj),
            "formula": editor_context(schema, obj, field), **extra}


def render_field_form(schema, obj, field, values, errors=None, status: int = 200, **extra):
    return render_template("designer/fields/form.html",
                           **_form_context(schema, obj, field, values, errors or FormErrors(), **extra)), status


def _stale(schema, obj, field):
    errors = FormErrors()
    errors.add(None, stale_message(obj))
    current = values_from_field(schema, obj, field) if field is not None else values_from_form()
    return render_field_form(schema, obj, field, current, errors, status=409)


# ---- add ------------------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/new-field", methods=["GET", "POST"])
def field_new(object_name: str):
    schema, obj = configurable_object(object_name)
    if request.method == "GET":
        values = {"label": "", "name": "", "type": request.args.get("type", "string"), "required": False,
                  "unique": False, "default": "", "help_text": "", "label_de": "", "help_text_de": "",
                  "opts": {}, "choices": []}
        return render_field_form(schema, obj, None, values)
    if is_stale(schema, obj):
        errors = FormErrors()
        errors.add(None, stale_message(obj))
        return render_field_form(schema, obj, None, values_from_form(), errors, status=409)
    actor, db = current_actor(), get_db()
    spec, errors = spec_from_form()
    if not errors:
        try:
            texts = clean_translations(_translations_input({}), FIELD_KEYS)
            service = SchemaService(db)
            field = service.add_field(actor, obj.api_name, spec)
            if texts:
                service.set_translations(actor, obj.api_name, texts, field_ref=field.api_name)
        except CardbaseError as exc:
            errors = collect(exc, FIELD_RENAME)
        else:
            flash(_("Field '%(label)s' added. Everyone sees it at once.", label=field.label), "success")
            if request.form.get("and_new"):
                return redirect(url_for("designer.field_new", object_name=obj.api_name))
            return redirect(url_for("designer.object_edit", object_name=obj.api_name))
    return render_field_form(schema, obj, None, values_from_form(), errors, status=422)


# ---- change -----------------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/fields/<field_name>", methods=["GET", "POST"])
def field_edit(object_name: str, field_name: str):
    schema, obj = configurable_object(object_name)
    field = user_field(obj, field_name)
    if request.method == "GET":
        return render_field_form(schema, obj, field, values_from_field(schema, obj, field))
    if is_stale(schema, obj):
        return _stale(schema, obj, field)
    actor, db = current_actor(), get_db()
    service = SchemaService(db)
    spec, errors = spec_from_form()
    values = values_from_form()
    if errors:
        return render_field_form(schema, obj, field, values, errors, status=422)
    changes = {k: v for k, v in spec.items() if k != "name"}
    if spec.get("name", field.api_name) != field.api_name:
        changes["name"] = spec.get("name")
    type_changed = spec["type"] != field.type
    try:
        texts = clean_translations(_translations_input(field.translations), FIELD_KEYS)
        if type_changed and text("confirm_type") != spec["type"]:
            preview = service.preview_type_change(obj.api_name, field.api_name, changes)
            return render_field_form(schema, obj, field, values, FormErrors(), status=200,
                                     preview=preview, preview_type=spec["type"])
        updated = service.update_field(actor, obj.api_name, field.api_name, changes)
        if not same_translations(updated.translations, texts):
            service.set_translations(actor, obj.api_name, texts, field_ref=updated.api_name)
    except CardbaseError as exc:
        errors = collect(exc, FIELD_RENAME)
        extra = {}
        if errors.failures:
            extra = {"preview": {"total": errors.total, "failures": errors.failures, "convertible": None},
                     "preview_type": spec["type"]}
        return render_field_form(schema, obj, field, values, errors, status=409 if errors.failures else 422, **extra)
    flash(_("Field '%(label)s' saved. The change applies to everyone at once.", label=updated.label), "success")
    return redirect(url_for("designer.object_edit", object_name=obj.api_name))


# ---- reorder ------------------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/field-order", methods=["POST"])
def field_order(object_name: str):
    schema, obj = configurable_object(object_name)
    from .objects import render_object_page

    if is_stale(schema, obj):
        errors = FormErrors()
        errors.add(None, stale_message(obj))
        return render_object_page(schema, obj, errors=errors, status=409)
    names = request.form.getlist("order")
    move = text("move")
    if move:
        name, _sep, direction = move.partition(":")
        if name in names and direction in ("up", "down"):
            i = names.index(name)
            j = i - 1 if direction == "up" else i + 1
            if 0 <= j < len(names):
                names[i], names[j] = names[j], names[i]
    try:
        SchemaService(get_db()).reorder_fields(current_actor(), obj.api_name, names)
    except CardbaseError as exc:
        return render_object_page(schema, obj, errors=collect(exc), status=422)
    flash(_("Field order saved."), "success")
    anchor = {"_anchor": "cb-fields-title"}
    return redirect(url_for("designer.object_edit", object_name=obj.api_name, **anchor))


# ---- delete -------------------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/fields/<field_name>/delete", methods=["GET", "POST"])
def field_delete(object_name: str, field_name: str):
    schema, obj = configurable_object(object_name)
    field = user_field(obj, field_name)
    service = SchemaService(get_db())
    errors = FormErrors()
    status = 200
    if request.method == "POST":
        if is_stale(schema, obj):
            errors.add(None, stale_message(obj))
            status = 409
        else:
            try:
                service.remove_field(current_actor(), obj.api_name, field.api_name)
            except CardbaseError as exc:
                errors = collect(exc)
                status = 409
            else:
                flash(_("Field '%(label)s' and its values were deleted.", label=field.label), "success")
                return redirect(url_for("designer.object_edit", object_name=obj.api_name))
    usages = service.field_usages(obj.api_name, field.api_name)
    return render_template("designer/fields/delete.html", obj=obj, field=field, usages=usages, errors=errors,
                           state=form_state(schema, obj)), status

