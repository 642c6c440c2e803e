"""A value calculated from the record's own fields, its linked records and its child lists
with the spreadsheet-like formula language (``cardbase.formula``, docs/formula.md):
``[Price] * [Quantity]``, ``SUM([Order lines].[Cost])``, ``[Organisation].[City]``.

The formula is checked when it is saved (the error names the position and the reason)
and stored in canonical form, references as field ids ({#12}), so renames never break
it; it is shown and exported with the current names."""
from __future__ import annotations

from typing import Any, Mapping

from ...formula import FormulaError, compile_formula, load_canonical, render
from ..errors import SchemaError
from .base import FieldContext, OptionContext
from .computed import (MAX_SCALE, PENDING, REFERENCES, RESULT, ComputedType, check_scale, decimal_result,
                       field_context, plain_result, reference_support, result_of)
from .money import MAX_SCALE as MONEY_MAX_SCALE, mode_of
from .options import FORMULA, INT, WITHIN, OptionSpec, _l
from ..i18n import _
from .registry import register


def _as_shown(exc, text: str, resolver):
    """An error in a stored formula ({#12} tokens, re-checked after a schema change)
    points into the formula as it is shown, with names."""
    if "{#" not in text:
        return exc
    try:
        load_canonical(text, resolver)
    except FormulaError as shown:
        return shown
    return exc

RESULT_TYPES = {"text": "text", "date": "date", "datetime": "datetime", "boolean": "boolean"}


def money_fields(schema, references) -> list:
    """The money fields (or calculated fields with a money result) a formula reads."""
    found = []
    for key in references:
        last = key.split(".")[-1].lstrip("c")
        if not last.isdigit():
            continue
        try:
            field = schema.field_by_id(int(last))
        except Exception:  # noqa: BLE001 - a reference the compiler resolved always exists
            continue
        try:
            shape = result_of(field)
        except SchemaError:
            continue
        if shape["type"] == "money":
            found.append((field, shape["options"]))
    return found


def money_result(schema, references, scale: int) -> dict[str, Any] | None:
    """A number calculated from amounts is money (issue 14, point 1): in their one fixed
    currency; with a currency per record, in the record's (a record whose amounts are in
    several currencies gets no value). Amounts of different fixed currencies are refused:
    they cannot be added or compared without converting them."""
    read = money_fields(schema, references)
    if not read:
        return None
    fixed = sorted({o.get("currency") or "EUR" for _f, o in read if mode_of(o) == "fixed"})
    if len(fixed) > 1:
        names = ", ".join(f"'{f.label}' ({o.get('currency') or 'EUR'})" for f, o in read)
        raise SchemaError({"options.formula": _("mixes amounts in %(currencies)s: %(fields)s; amounts in different "
                                                "currencies cannot be calculated together",
                                                currencies=" and ".join(fixed), fields=names)})
    per_record = [o for _f, o in read if mode_of(o) != "fixed"]
    options: dict[str, Any] = {"scale": min(scale, MONEY_MAX_SCALE)}
    if per_record and not fixed:
        options.update(currency=per_record[0].get("currency") or "EUR", currency_mode="per_record")
    else:
        options.update(currency=fixed[0] if fixed else "EUR", currency_mode="fixed")
    return {"type": "money", "options": options}


@register
class FormulaType(ComputedType):
    name = "formula"
    label = _l("Formula")
    options_legend = _l("Formula")
    options = (
        OptionSpec("formula", FORMULA, required=True, label=_l("Calculate"),
                   doc="the formula, e.g. [Price] * [Quantity]"),
        OptionSpec("scale", INT, minimum=0, maximum=MAX_SCALE, widget=WITHIN,
                   label=_l("Decimal places of a number result"), help=_l("default 2")),
    )

    def finish_options(self, options: dict[str, Any], ctx: OptionContext) -> dict[str, Any]:
        fctx = field_context(ctx, self.name)
        text = options["formula"]
        resolver = reference_support().formula_resolver(fctx.schema, fctx.obj)
        try:
            compiled = compile_formula(text, resolver)
        except FormulaError as exc:
            raise SchemaError({"options.formula": str(_as_shown(exc, text, resolver))}) from None
        if compiled.result_type not in ("number", *RESULT_TYPES):
            raise SchemaError({"options.formula": "the result has no type: the formula is always empty "
                                                  "or only passes a link on (name a field of the linked record)"})
        scale = check_scale(options, compiled.result_type)  # None exactly when the result is not a number
        result = decimal_result(scale) if scale is not None else plain_result(RESULT_TYPES[compiled.result_type])
        ids = sorted({int(seg.lstrip("c")) for key in compiled.references for seg in key.split(".")
                      if seg.lstrip("c").isdigit()})
        if scale is not None:
            result = money_result(fctx.schema, compiled.references, scale) or result
        cleaned: dict[str, Any] = {"formula": compiled.canonical}
        if compiled.result_type == "number":
            cleaned["scale"] = scale
        return {**cleaned, REFERENCES: ids, RESULT: result}

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        """The formula with the current names: [Price] * [Quantity]."""
        pending = options.get(PENDING)
        source = pending if isinstance(pending, Mapping) else options
        out = {k: v for k, v in source.items() if k in self.option_names()}
        if isinstance(ctx, FieldContext) and isinstance(out.get("formula"), str):
            out["formula"] = render(out["formula"], reference_support().formula_resolver(ctx.schema, ctx.obj))
        return out
