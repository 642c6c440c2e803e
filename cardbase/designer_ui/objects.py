"""Objects in the configurator: create (API name proposed from the label), rename and
describe, German labels, menu order, the list of fields with their order, and delete
after showing what it affects and the user typing the object's API name (refused when
the object changed after the impact was shown)."""
from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.context import current_actor, engine_session, get_schema_service
from cardbase.platform.web.nav import field_label, object_label
from cardbase.schema_engine.accounts.policy import ADMIN
from cardbase.schema_engine.errors import CardbaseError, Forbidden
from cardbase.schema_engine.field_types import get_type
from cardbase.schema_engine.translations import OBJECT_KEYS, clean_translations

from . import bp
from .common import (LANGUAGE, FormErrors, collect, configurable_object, form_state, is_stale, require_admin,
                     same_translations, stale_message, text)

OBJECT_TRANSLATION_INPUTS = {"label": "label_de", "label_plural": "label_plural_de"}
# engine error keys -> form inputs
OBJECT_RENAME = {f"translations.{LANGUAGE}.label": "label_de",
                 f"translations.{LANGUAGE}.label_plural": "label_plural_de"}


def _translations_input(current: dict[str, dict[str, str]] | None = None) -> dict[str, dict[str, str]]:
    merged = {lang: dict(texts) for lang, texts in (current or {}).items()}
    merged[LANGUAGE] = {key: text(name).strip() for key, name in OBJECT_TRANSLATION_INPUTS.items()}
    return merged


def _check_translations(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return clean_translations(texts, OBJECT_KEYS)


def _position(raw: str) -> int | str:
    raw = raw.strip()
    try:
        return int(raw)
    except ValueError:
        return raw  # the service says "must be a whole number"


# ---- new object ---------------------------------------------------------------------------------
@bp.route("/new-object", methods=["GET", "POST"])
def object_new():
    require_admin("create objects")  # docs/rights.md
    actor, service = current_actor(), get_schema_service()
    values: dict[str, Any] = {"label": "", "label_plural": "", "name": "", "description": "",
                              "label_de": "", "label_plural_de": ""}
    errors = FormErrors()
    if request.method == "POST":
        values = {k: text(k) for k in values}
        spec = {"label": values["label"], "label_plural": values["label_plural"],
                "description": values["description"]}
        if values["name"].strip():
            spec["name"] = values["name"].strip()
        try:
            texts = _check_translations(_translations_input())
            obj = service.create_object(actor, spec)
            if texts:
                service.set_translations(actor, obj.api_name, texts)
        except CardbaseError as exc:
            errors = collect(exc, OBJECT_RENAME)
        else:
            flash(_("Object '%(label)s' created. Now add its fields.", label=obj.label), "success")
            return redirect(url_for("designer.object_edit", object_name=obj.api_name))
    return render_template("designer/objects/new.html", values=values, errors=errors), 422 if errors else 200


# ---- object settings and fields ---------------------------------------------------------------------
def _object_values(obj) -> dict[str, Any]:
    de = obj.translations.get(LANGUAGE, {})
    return {"label": obj.label, "label_plural": obj.label_plural, "name": obj.api_name,
            "description": obj.description, "position": str(obj.position),
            "label_de": de.get("label", ""), "label_plural_de": de.get("label_plural", ""),
            "code_pattern": obj.code_pattern, "display_field": obj.display_field.api_name}


# Fields a record can be titled by: one short value (not long texts, lists or links).
TITLE_TYPES = ("string", "email", "phone", "url", "autonumber", "integer", "decimal", "date", "choice", "formula")


def _title_choices(obj) -> list[tuple[str, str]]:
    """(api name, label) of the fields a record's title can come from; its code first."""
    return [("code", _("Code"))] + [(f.api_name, field_label(f)) for f in obj.user_fields if f.type in TITLE_TYPES]


def _field_rows(schema, obj) -> list[dict[str, Any]]:
    rows = []
    for f in obj.user_fields:
        ftype = get_type(f.type)
        rows.append({"name": f.api_name, "label": f.label, "shown": field_label(f),
                     "type": f.type, "type_label": _(ftype.label) if ftype.label else f.type,
                     "required": f.required, "unique": f.unique, "help": f.help_text,
                     "target": object_label(schema.link_target(f)) if f.type in ("link", "links") else None})
    return rows


def render_object_page(schema, obj, values=None, errors=None, status: int = 200):
    return render_template(
        "designer/objects/edit.html", obj=obj, values=values or _object_values(obj), errors=errors or FormErrors(),
        fields=_field_rows(schema, obj), state=form_state(schema, obj), may_delete=ADMIN.is_admin(current_actor()),
        may_order=ADMIN.is_admin(current_actor()), title_choices=_title_choices(obj),
    ), status


@bp.route("/objects/<object_name>", methods=["GET", "POST"])
def object_edit(object_name: str):
    schema, obj = configurable_object(object_name)
    if request.method == "GET":
        return render_object_page(schema, obj)
    if is_stale(schema, obj):
        errors = FormErrors()
        errors.add(None, stale_message(obj))
        return render_object_page(schema, obj, errors=errors, status=409)
    actor, service = current_actor(), get_schema_service()
    values = {k: text(k) for k in ("label", "label_plural", "name", "description", "position",
                                   "label_de", "label_plural_de", "code_pattern", "display_field")}
    changes: dict[str, Any] = {}
    for key in ("label", "label_plural", "description"):
        current = getattr(obj, key)
        if values[key] != current:
            changes[key] = values[key]
    if "code_pattern" in request.form and values["code_pattern"].strip() != obj.code_pattern:
        changes["code_pattern"] = values["code_pattern"]  # applies to records created from now on
    if "display_field" in request.form and values["display_field"] != obj.display_field.api_name:
        changes["display_field"] = values["display_field"]
    if values["name"].strip() != obj.api_name:
        changes["name"] = values["name"].strip()
    if "position" in request.form and values["position"].strip() != str(obj.position):
        changes["position"] = _position(values["position"])  # the service: admins only (MENU_ORDER)
    try:
        texts = _check_translations(_translations_input(obj.translations))
        if changes:
            obj = service.update_object(actor, obj.api_name, changes)
        if not same_translations(obj.translations, texts):
            obj = service.set_translations(actor, obj.api_name, texts)
    except CardbaseError as exc:
        return render_object_page(schema, obj, values, collect(exc, OBJECT_RENAME),
                                  status=403 if isinstance(exc, Forbidden) else 422)
    flash(_("Saved. The change applies to everyone at once."), "success")
    return redirect(url_for("designer.object_edit", object_name=obj.api_name))


# ---- menu order ---------------------------------------------------------------------------------
@bp.route("/object-order", methods=["POST"])
def object_order():
    """Move one object up or down in the menu (buttons on the start page). The schema
    service decides who may (admins: ``MENU_ORDER``), as for the API."""
    actor = current_actor()
    schema = engine_session().schema
    names = [o.api_name for o in schema.objects]
    name, _sep, direction = text("move").partition(":")
    try:
        if int(text("schema_version", "-1")) != schema.version and text("order") != ",".join(names):
            flash(_("The menu changed meanwhile (someone else configured it); nothing was moved. "
                    "This is the current order."), "error")
            return redirect(url_for("designer.index"))
    except ValueError:
        abort(400)
    if name not in names or direction not in ("up", "down"):
        abort(400)
    i = names.index(name)
    j = i - 1 if direction == "up" else i + 1
    if 0 <= j < len(names):
        names[i], names[j] = names[j], names[i]
        try:
            get_schema_service().reorder_objects(actor, names)
        except Forbidden:
            abort(403)
    return redirect(url_for("designer.index", _anchor=f"object-{name}"))


# ---- delete ---------------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/delete", methods=["GET", "POST"])
def object_delete(object_name: str):
    schema, obj = configurable_object(object_name)
    require_admin("delete objects")
    actor, service = current_actor(), get_schema_service()
    errors = FormErrors()
    status = 200
    if request.method == "POST":
        typed = text("confirm_name").strip()
        if is_stale(schema, obj):  # the impact shown was computed on another state of the object
            errors.add(None, stale_message(obj))
            status = 409
        elif typed != obj.api_name:
            errors.add("confirm_name", _("Type the API name '%(name)s' exactly to confirm; nothing was deleted.",
                                         name=obj.api_name))
            status = 422
        else:
            try:
                service.delete_object(actor, obj.api_name)
            except CardbaseError as exc:
                errors = collect(exc)
                status = 409
            else:
                flash(_("Object '%(label)s' and its records were deleted.", label=obj.label), "success")
                return redirect(url_for("designer.index"))
    impact = service.object_impact(obj.api_name)
    return render_template("designer/objects/delete.html", obj=obj, impact=impact, errors=errors,
                           typed=text("confirm_name"), state=form_state(schema, obj)), status
