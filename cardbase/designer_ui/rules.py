"""Conditional field rules (visible / required / read-only when a condition over the
record holds), edited with the condition builder and saved through
``SchemaService.update_field(..., {"rules": ...})``, which validates them; the record
store enforces them on every channel (docs/field_rules.md)."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cardbase.platform.context import current_actor, get_schema_service
from cardbase.platform.web.nav import field_label, object_label
from cardbase.schema_engine.errors import CardbaseError, ValidationError
from cardbase.schema_engine.field_rules import RULE_KINDS, describe, rules_of

from . import bp
from .common import configurable_object, user_field
from .support import (StaleForm, builder_texts, condition_builder, condition_fields, error_list,
                      fields_state, fingerprint, operator_labels, parse_json_field)


def kind_labels() -> dict[str, str]:
    return {"visible_when": _("Visible only when"), "required_when": _("Required when"),
            "readonly_when": _("Read-only when")}


def _described(obj, field) -> list[tuple[str, str]]:
    named = rules_of(field, obj) or {}
    out = []
    for kind in RULE_KINDS:
        if named.get(kind):
            try:
                out.append((kind_labels()[kind], describe(obj, named[kind])))
            except (KeyError, TypeError, AttributeError):
                out.append((kind_labels()[kind], str(named[kind])))
    return out


@bp.route("/objects/<object_name>/rules")
def rules_index(object_name: str):
    """Every field of the object with its rules in words."""
    _schema, obj = configurable_object(object_name)
    rows = [{"name": f.api_name, "label": field_label(f), "type": f.type, "rules": _described(obj, f)}
            for f in obj.user_fields]
    return render_template("designer/rules/index.html", obj=obj, object_title=object_label(obj), rows=rows)


@bp.route("/objects/<object_name>/fields/<field_name>/rules", methods=["GET", "POST"])
def rules_edit(object_name: str, field_name: str):
    schema, obj = configurable_object(object_name)
    field = user_field(obj, field_name)
    state = fingerprint(fields_state(obj))
    errors: list[str] = []
    status = 200
    values = rules_of(field, obj) or {}
    if request.method == "POST":
        texts = {kind: request.form.get(kind, "") for kind in RULE_KINDS}
        try:
            if request.form.get("state") != state:
                raise StaleForm(_("Someone else changed the fields of %(object)s since you opened this form; "
                                      "nothing was saved. Reload the page to see the current rules, then make "
                                      "your change again.", object=object_label(obj)))
            parsed = {kind: parse_json_field(texts[kind], f"rules.{kind}") for kind in RULE_KINDS}
            bad = [k for k, v in parsed.items() if v is not None and not isinstance(v, dict)]
            if bad:
                raise ValidationError({f"rules.{k}": _("must be a condition object") for k in bad})
            rules = {k: v for k, v in parsed.items() if v}
            get_schema_service().update_field(current_actor(), obj.api_name, field.api_name, {"rules": rules})
        except CardbaseError as exc:
            errors = _rule_errors(exc)
            status = exc.status if exc.status in (403, 404, 409) else 422
            values = {kind: _loose(texts[kind]) for kind in RULE_KINDS}
        else:
            flash(_("The rules of %(field)s were saved.", field=field_label(field)), "success")
            return redirect(url_for("designer.rules_index", object_name=obj.api_name))
    fields = condition_fields(schema, obj, rules=True)  # unchanged: a saved change redirects
    builders = [condition_builder(kind, fields, values.get(kind), kind_labels()[kind]) for kind in RULE_KINDS]
    for b in builders:
        if isinstance(b["value"], str):  # a submitted text that did not parse: show it as typed
            b["text"] = b["value"]
    return render_template("designer/rules/edit.html", obj=obj, object_title=object_label(obj), field=field,
                           field_title=field_label(field), builders=builders, fields=fields, state=state,
                           errors=errors, ops=operator_labels(), texts=builder_texts()), status


def _rule_errors(exc: CardbaseError) -> list[str]:
    """Problems named by the rule they belong to ("Required when: ...")."""
    if not isinstance(exc, ValidationError):
        return error_list(exc)
    labels = kind_labels()
    out = []
    for key, messages in exc.errors.items():
        kind = key.split(".")[1] if key.startswith("rules.") and key.count(".") >= 1 else None
        where = labels.get(kind, key) if kind else key
        out.append(f"{where}: {' '.join(messages)}")
    return out


def _loose(text: str):
    """A submitted condition as the form showed it (parsed when it parses)."""
    try:
        return parse_json_field(text, "x")
    except ValidationError:
        return text
