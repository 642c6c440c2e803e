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
                       field_context, plain_result, reference_support)
from .options import FORMULA, INT, WITHIN, OptionSpec, _l
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
