"""Fields in the configurator: add and change a field with the options of its type, change
its type after a preview of what converts, reorder the fields, delete a field after
seeing what uses it. Every change goes through SchemaService (validation, the configure
right, the configuration log); its errors show under the input they concern.

The option inputs are generated from each type's declaration (``FieldType.options``, see
schema_engine/field_types/options.py): the kind or the named widget picks the input, the
declaration gives its label, help, range and allowed values. Types with the same
declaration (choice and multi-choice) share one fieldset. Inputs are named
``<type>.<option>`` (``string.length``, ``link.target``) so each fieldset is independent;
choices come as the lists ``choice_value`` / ``choice_label`` / ``choice_color``.
"""
from __future__ import annotations

import json
from typing import Any, Sequence

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.api.metadata import field_json
from cardbase.platform.context import current_actor, get_schema_service
from cardbase.platform.web.nav import field_label, object_label
from cardbase.schema_engine.errors import CardbaseError
from cardbase.schema_engine.field_sources import source_of
from cardbase.schema_engine.field_types import all_types, get_type
from cardbase.schema_engine.field_types.choice import CHOICE_KEY, PALETTE
from cardbase.schema_engine.field_types.lookup import NOT_LOOKED_UP
from cardbase.schema_engine.field_types.options import BOOL, CHOICE_LIST, CONDITION, FORMULA, INT, OBJECT, _l
from cardbase.schema_engine.translations import FIELD_KEYS, clean_translations
from cardbase.platform.jsonio import loads as strict_json

from . import bp
from .common import (user_field, LANGUAGE, FormErrors, checkbox, collect, configurable_object, form_state, is_stale,
                     same_translations, stale_message, text)

# The order types appear in the type menu (types not named here follow, by name).
TYPE_ORDER = ("string", "text", "integer", "decimal", "money", "date", "datetime", "boolean", "choice",
              "multi_choice", "email", "phone", "url", "link", "links", "user", "autonumber", "formula", "lookup",
              "rollup")
FIELD_RENAME = {f"translations.{LANGUAGE}.label": "label_de", f"translations.{LANGUAGE}.help_text": "help_text_de",
                "source.link": "source", "source.field": "source"}
COLOUR_LABELS = {"gray": _l("Grey"), "red": _l("Red"), "orange": _l("Orange"), "yellow": _l("Yellow"),
                 "green": _l("Green"), "teal": _l("Teal"), "blue": _l("Blue"), "indigo": _l("Indigo"),
                 "purple": _l("Purple"), "pink": _l("Pink")}  # translated where shown


def type_menu() -> list[tuple[str, str]]:
    types = {n: t for n, t in all_types().items() if not t.system_only}
    names = [n for n in TYPE_ORDER if n in types] + sorted(n for n in types if n not in TYPE_ORDER)
    return [(n, _(types[n].label or n)) for n in names]


def rule_types() -> dict[str, list[str]]:
    """The field types for which the form offers "required", "unique" and "default":
    only those a user enters (not formulas, rollups, lookups or automatic numbers), and
    unique/default only where the type supports them."""
    types = {n: t for n, t in all_types().items() if not t.system_only}
    entered = [n for n, _label in type_menu() if types[n].writable]
    return {"required": entered, "unique": [n for n in entered if types[n].supports_unique],
            "default": [n for n in entered if types[n].supports_default], "source": entered}


def option_groups() -> list[dict[str, Any]]:
    """One fieldset per distinct option declaration, in the order of the type menu: its
    input prefix (the first type's name), the types it serves and the declaration."""
    groups: list[dict[str, Any]] = []
    types = all_types()
    for name, _label in type_menu():
        ftype = types[name]
        if not ftype.options:
            continue
        for group in groups:
            if group["specs"] is ftype.options:
                group["types"].append(name)
                break
        else:
            groups.append({"prefix": name, "types": [name], "specs": ftype.options,
                           "legend": ftype.options_legend, "empty": ftype.options_empty})
    return groups


def _prefix(type_name: str) -> str:
    """The input prefix of ``type_name``'s options (its fieldset's first type)."""
    try:
        specs = get_type(type_name).options
    except CardbaseError:
        return type_name
    return next((g["prefix"] for g in option_groups() if g["specs"] is specs), type_name)


# ---- form <-> spec ------------------------------------------------------------------------------
def options_from_form(type_name: str) -> tuple[dict[str, Any], FormErrors]:
    """The options of ``type_name`` as typed, read by their declared kind; values that are
    not numbers or JSON are passed on as they are, so the option check words the message."""
    options: dict[str, Any] = {}
    errors = FormErrors()
    try:
        specs = get_type(type_name).options
    except CardbaseError:
        return options, errors  # the schema service names the unknown type
    prefix = _prefix(type_name)
    for spec in specs:
        name = f"{prefix}.{spec.name}"
        if spec.kind == CHOICE_LIST:
            options[spec.name] = choices_from_form()
        elif spec.kind == BOOL:
            if name in request.form:
                options[spec.name] = checkbox(name)
        elif spec.kind == INT:
            raw = text(name).strip()
            if raw:
                try:
                    options[spec.name] = int(raw)
                except ValueError:
                    options[spec.name] = raw
        elif spec.kind == CONDITION:
            raw = text(name).strip()
            if raw:
                try:
                    options[spec.name] = strict_json(raw, what=None)
                except ValueError as exc:
                    errors.add(spec.key, _("is not a valid condition (JSON): %(problem)s", problem=str(exc)))
        else:
            raw = text(name)
            if raw.strip():
                options[spec.name] = raw if spec.kind == FORMULA else raw.strip()
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
    if "source" in request.form:  # offered only for fields people enter (its fieldset is disabled otherwise)
        link, _dot, field_name = text("source").strip().partition(".")
        spec["source"] = {"link": link.strip(), "field": field_name.strip()} if link.strip() else None
    options, errors = options_from_form(type_name)
    spec["options"] = options
    return spec, errors


def values_from_form() -> dict[str, Any]:
    """What the user typed, to show the form again after a refusal."""
    type_name = text("type")
    opts: dict[str, dict[str, Any]] = {}
    has_choices = False
    for group in option_groups():
        for spec in group["specs"]:
            if spec.kind == CHOICE_LIST:
                has_choices = has_choices or type_name in group["types"]
            else:
                opts.setdefault(group["prefix"], {})[spec.name] = text(f"{group['prefix']}.{spec.name}")
    return {"label": text("label"), "name": text("name"), "type": type_name, "required": checkbox("required"),
            "unique": checkbox("unique"), "default": text("default"), "help_text": text("help_text"),
            "source": text("source"),
            "label_de": text("label_de"), "help_text_de": text("help_text_de"), "opts": opts,
            "choices": choices_from_form() if has_choices else [],
            "choice_de": {k[len("choice_de-"):]: text(k) for k in request.form if k.startswith("choice_de-")}}


def values_from_field(schema, obj, field) -> dict[str, Any]:
    """An existing field as form values (options in portable form: names, formula text)."""
    data = field_json(schema, obj, field)
    options = data["options"] or {}  # portable: object names, formulas with names
    raw = field.ftype.editable_options(field)  # as stored: the menus name fields by id
    values: dict[str, Any] = {}
    for spec in get_type(field.type).options:
        if spec.kind == CHOICE_LIST:
            continue
        value = raw.get(spec.name) if spec.input_widget == "menu" and spec.kind != OBJECT else options.get(spec.name)
        if spec.kind == CONDITION:
            values[spec.name] = json.dumps(value, ensure_ascii=False) if value else ""
        elif spec.kind == BOOL:
            values[spec.name] = "1" if value else ""
        else:
            values[spec.name] = "" if value is None else str(value)
    opts = {_prefix(field.type): values}
    de = field.translations.get(LANGUAGE, {})
    default = data["default"]
    return {"label": field.label, "name": field.api_name, "type": field.type, "required": field.required,
            "unique": field.unique, "default": "" if default is None else _default_text(default),
            "source": ".".join((source_of(schema, field) or {}).values()),
            "help_text": field.help_text, "label_de": de.get("label", ""), "help_text_de": de.get("help_text", ""),
            "opts": opts, "choices": [dict(c) for c in options.get("choices") or []],
            "choice_de": {k[len(CHOICE_KEY):]: v for k, v in de.items() if k.startswith(CHOICE_KEY)}}


def _default_text(default: Any) -> str:
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, (list, dict)):
        return json.dumps(default, ensure_ascii=False)
    return str(default)


def _translations_input(current, choices: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """The field's texts per language from the form: the German label and help text, and
    the German labels of the choices (``choice_de-<value>``); the labels of choices that
    are still choices are kept, those of removed choices dropped."""
    merged = {lang: {k: v for k, v in texts.items() if not k.startswith(CHOICE_KEY) or k[len(CHOICE_KEY):] in choices}
              for lang, texts in (current or {}).items()}
    german = {k: v for k, v in merged.get(LANGUAGE, {}).items() if k.startswith(CHOICE_KEY)}
    for value in choices:
        name = f"choice_de-{value}"
        if name in request.form:
            german.pop(CHOICE_KEY + value, None)
            if text(name).strip():
                german[CHOICE_KEY + value] = text(name).strip()
    german.update({"label": text("label_de").strip(), "help_text": text("help_text_de").strip()})
    merged[LANGUAGE] = german
    return merged


def _choice_values(field) -> list[str]:
    return [c["value"] for c in field.options.get("choices") or ()]


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
            if f.type not in NOT_LOOKED_UP:
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
    from .rollup_filter import rollup_condition_context

    field_menus = menus(schema, obj, field)
    groups = option_groups()
    for group in groups:
        # A type whose first menu has nothing to offer shows its "add ... first" text instead.
        first = next((s for s in group["specs"] if s.input_widget == "menu"), None)
        group["unavailable"] = bool(group["empty"]) and first is not None and \
            not field_menus.get(f"{group['prefix']}_{first.name}")
    return {"obj": obj, "field": field, "values": values, "errors": errors, "types": type_menu(),
            "objects": [(o.api_name, object_label(o)) for o in schema.objects], "option_groups": groups,
            "palette": [(c, _(COLOUR_LABELS.get(c, c))) for c in PALETTE],
            "menus": field_menus, "state": form_state(schema, obj), "rule_types": rule_types(),
            "formula": editor_context(schema, obj, field), **rollup_condition_context(schema, obj), **extra}


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
    actor, service = current_actor(), get_schema_service()
    spec, errors = spec_from_form()
    if not errors:
        try:
            texts = clean_translations(_translations_input({}), FIELD_KEYS)
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
    actor, service = current_actor(), get_schema_service()
    spec, errors = spec_from_form()
    values = values_from_form()
    if errors:
        return render_field_form(schema, obj, field, values, errors, status=422)
    changes = {k: v for k, v in spec.items() if k != "name"}
    if spec.get("name", field.api_name) != field.api_name:
        changes["name"] = spec.get("name")
    type_changed = spec["type"] != field.type
    try:
        texts = clean_translations(_translations_input(field.translations, _choice_values(field)), FIELD_KEYS,
                                   choices=_choice_values(field))  # checked before anything changes
        if type_changed and text("confirm_type") != spec["type"]:
            preview = service.preview_type_change(obj.api_name, field.api_name, changes, actor)
            return render_field_form(schema, obj, field, values, FormErrors(), status=200,
                                     preview=preview, preview_type=spec["type"])
        updated = service.update_field(actor, obj.api_name, field.api_name, changes)
        texts = clean_translations(_translations_input(field.translations, _choice_values(updated)), FIELD_KEYS,
                                   choices=_choice_values(updated))  # the choices as they are now
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
        get_schema_service().reorder_fields(current_actor(), obj.api_name, names)
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
    service = get_schema_service()
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

