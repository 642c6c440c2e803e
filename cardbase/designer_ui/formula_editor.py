"""The formula editor: what its field picker and function help offer, and the live check
(a JSON endpoint) that parses and type-checks a formula in the object's context and
returns the error with its character offset, or a preview value computed on a real record.

The preview reads the record - and the linked records and child lists the formula
reaches - through the request's engine session as the user (purpose "read"), so a field
the user may not read cannot be used to peek at values: the preview then says which
field is hidden.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import jsonify, request
from flask_babel import format_date, format_datetime, format_decimal
from flask_babel import gettext as _

from cardbase.formula import FUNCTIONS, FormulaError, compile_formula
from cardbase.formula.tokenizer import format_path
from cardbase.platform.context import engine_session
from cardbase.platform.web.nav import field_label, object_label
from cardbase.schema_engine.computed.keys import parse_key
from cardbase.schema_engine.computed.plan import check_definition
from cardbase.schema_engine.computed.resolver import SchemaResolver, child_lists
from cardbase.schema_engine.errors import CardbaseError, Forbidden, NotFound, SchemaError
from cardbase.schema_engine.field_types import get_type
from cardbase.schema_engine.field_types.base import FieldContext
from cardbase.schema_engine.query.model import ListQuery
from cardbase.schema_engine.snapshot import FieldInfo
from cardbase.schema_engine.values import LinkRef

from . import bp
from .common import configurable_object

PREVIEW_RECORDS = 20
MAX_CHILDREN = 1000
TYPE_WORDS = {"number": "number", "text": "text", "date": "date", "datetime": "date and time",
              "boolean": "TRUE/FALSE", "any": "empty"}


class Hidden(Exception):
    """The formula reads a field (or record) the user may not see."""


# ---- what the editor offers -------------------------------------------------------------------------
def picker_fields(schema, obj, field=None) -> list[dict[str, str]]:
    """References the picker inserts: own fields, fields of linked records, child lists."""
    groups: list[dict[str, Any]] = []
    own = [f for f in obj.fields if f.api_name != "version" and (field is None or f.id != field.id)]
    groups.append({"label": object_label(obj), "items": [
        {"text": format_path([f.label]), "label": field_label(f)} for f in own]})
    for link in obj.user_fields:
        if link.type != "link":
            continue
        target = schema.link_target(link)
        groups.append({"label": f"{field_label(link)} → {object_label(target)}", "items": [
            {"text": format_path([link.label, f.label]), "label": f"{field_label(link)} › {field_label(f)}"}
            for f in target.fields if f.api_name not in ("id", "version")]})
    for step, display, _plain in child_lists(schema, obj):
        groups.append({"label": _("List: %(list)s", list=display), "items": [
            {"text": format_path([display, f.label]), "label": f"{display} › {field_label(f)}"}
            for f in step.target.user_fields if f.id != step.field.id]})
    return [g for g in groups if g["items"]]


def function_help() -> list[dict[str, Any]]:
    out = []
    for name in sorted(FUNCTIONS):
        spec = FUNCTIONS[name]
        out.append({"name": spec.name, "summary": spec.summary, "example": spec.example,
                    "args": spec.min_args, "lists": spec.lists})
    return out


def preview_records(schema, obj) -> list[tuple[int, str]]:
    """The first records the user may read, to compute the preview on."""
    try:
        page = engine_session().list(obj, ListQuery(limit=PREVIEW_RECORDS, sort="-id"), purpose="read",
                                     with_count=False)
    except CardbaseError:
        return []
    shown = obj.display_field
    out = []
    for record in page.data:
        value = record.get(shown.api_name)
        text = value if isinstance(value, str) else (shown.ftype.format(shown, value) if value is not None else "")
        code = record.get("code") or f"#{record['id']}"
        out.append((record["id"], f"{code} · {text}" if text and text != code else str(code)))
    return out


def editor_context(schema, obj, field=None) -> dict[str, Any]:
    return {"fields": picker_fields(schema, obj, field), "functions": function_help(),
            "records": preview_records(schema, obj)}


# ---- the live check ---------------------------------------------------------------------------------
@bp.route("/objects/<object_name>/formula/check", methods=["POST"])
def formula_check(object_name: str):
    schema, obj = configurable_object(object_name)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("formula"), str):
        return jsonify(ok=False, message=_("Send the formula as JSON: {\"formula\": \"...\"}"), position=None), 400
    text = body["formula"]
    field = None
    if isinstance(body.get("field"), str) and body["field"]:
        field = obj.fields_by_name.get(body["field"])
        if field is not None and field.system:
            field = None
    return jsonify(check_formula(schema, obj, text, field, body.get("scale"), body.get("record")))


def check_formula(schema, obj, text: str, field: FieldInfo | None, scale: Any = None,
                  record: Any = None) -> dict[str, Any]:
    """{"ok", "message", "position", "line", "column", "result_type", "preview"}."""
    if not text.strip():
        return {"ok": False, "message": _("Write a formula, e.g. [Price] * [Quantity]"), "position": None}
    try:
        compiled = compile_formula(text, SchemaResolver(schema, obj))
    except FormulaError as exc:
        return {"ok": False, "message": exc.message, "position": exc.position, "line": exc.line,
                "column": exc.column}
    options: dict[str, Any] = {"formula": text}
    if scale not in (None, ""):
        try:
            options["scale"] = int(scale)
        except (TypeError, ValueError):
            options["scale"] = scale
    try:
        ctx = FieldContext(schema, obj, field.id if field else None)
        cleaned = get_type("formula").clean_options(options, ctx)
        draft = FieldInfo(id=field.id if field else 0, object_id=obj.id,
                          api_name=field.api_name if field else "__draft__",
                          label=field.label if field else _("this formula"), type="formula",
                          options=cleaned, column=field.column if field else "f0")
        check_definition(schema, draft)  # a circle through other formulas
    except SchemaError as exc:
        message = "; ".join(m for ms in exc.errors.values() for m in ms)
        return {"ok": False, "message": message, "position": None}
    result = {"ok": True, "message": _("The formula is valid."), "position": None,
              "result_type": compiled.result_type,
              "result_label": _(TYPE_WORDS.get(compiled.result_type, compiled.result_type))}
    result["preview"] = preview(schema, obj, compiled, cleaned, record)
    return result


def preview(schema, obj, compiled, cleaned: dict[str, Any], record_ref: Any) -> dict[str, Any]:
    """The formula's value on one record the user may read (the newest when none chosen)."""
    s = engine_session()
    try:
        if record_ref in (None, ""):
            page = s.list(obj, ListQuery(limit=1, sort="-id"), purpose="read", with_count=False)
            if not page.data:
                return {"ok": False, "message": _("There is no record to compute a preview on yet.")}
            record = page.data[0]
        else:
            record = s.get(obj, int(record_ref), purpose="read")
    except (CardbaseError, ValueError, TypeError):
        return {"ok": False, "message": _("That record cannot be read.")}
    values = {}
    try:
        for key in compiled.references:
            path = parse_key(schema, obj, key)
            values[key] = _read(s, path, 0, record)
    except Hidden as exc:
        return {"ok": False, "record": record["id"],
                "message": _("No preview: you may not read %(what)s.", what=str(exc))}
    raw = compiled.evaluate(values)
    return {"ok": True, "record": record["id"], "code": record.get("code"), "value": _shown(raw, cleaned),
            "empty": raw is None}


def _read(s, path, i: int, record: dict[str, Any]) -> Any:
    """The value of ``path`` from position ``i`` on, starting at ``record``."""
    if i == len(path.steps):
        f = path.field
        if f.api_name not in record:
            raise Hidden(f"[{f.label}]")
        value = record[f.api_name]
        if isinstance(value, LinkRef):
            value = value.id
        return f.ftype.formula_value(f, value)
    step = path.steps[i]
    rest_many = any(s.child for s in path.steps[i + 1:])
    if not step.child:
        if step.field.api_name not in record:
            raise Hidden(f"[{step.field.label}]")
        link = record[step.field.api_name]
        if link is None:
            return [] if rest_many else None
        link_id = link.id if isinstance(link, LinkRef) else int(link)
        try:
            target = s.get(step.target, link_id, purpose="read")
        except (NotFound, Forbidden):
            raise Hidden(_("the linked %(object)s record", object=step.target.label)) from None
        return _read(s, path, i + 1, target)
    out: list[Any] = []
    kids: list[dict[str, Any]] = []
    cursor = None
    try:
        while len(kids) < MAX_CHILDREN:
            page = s.children(step.source, record["id"], step.target.id, link=step.field.api_name,
                              query=ListQuery(limit=500, cursor=cursor), purpose="read")
            kids += page.data
            cursor = page.next_cursor
            if not cursor:
                break
    except Forbidden:
        raise Hidden(step.target.label_plural) from None
    for kid in kids:
        value = _read(s, path, i + 1, kid)
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


def _shown(value: Any, cleaned: dict[str, Any]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        scale = cleaned.get("scale", 2)
        quantized = value.quantize(Decimal(1).scaleb(-scale)) if scale is not None else value
        return format_decimal(quantized, format="#,##0." + "0" * scale if scale else "#,##0")
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return format_date(value)
    return str(value)

