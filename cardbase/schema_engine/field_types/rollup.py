"""A figure over a child list: the sum, count, average, minimum, maximum or the joined
texts of a field of the records that link here (an order's total over its lines), with
an optional condition in the filter language (only open orders). Computed with one
GROUP BY over the child table for all affected parents (``computed.defs``)."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import SchemaError
from .base import FieldContext, OptionContext
from .computed import (PENDING, REFERENCES, RESULT, ComputedType, decimal_result, field_context,
                       number_scale, plain_result, reference_support, result_of, user_field)
from .options import CHOICE, CONDITION, OBJECT, REFERENCE, OptionSpec, _l
from .money import MAX_SCALE as MONEY_MAX_SCALE, mode_of
from .registry import register

AGGREGATES = ("sum", "count", "avg", "min", "max", "concat")
AVG_EXTRA_PLACES = 2


def rollup_result(aggregate: str, source) -> dict[str, Any]:
    """The result shape of ``aggregate`` over ``source`` (None: count the records)."""
    if aggregate == "count":
        return plain_result("integer")
    if aggregate == "concat":
        return plain_result("text")
    kind = source.ftype.value_type
    shape = result_of(source)  # a formula or lookup over amounts is money too
    if shape["type"] == "money" and aggregate in ("sum", "avg", "min", "max"):
        return money_result(shape["options"], AVG_EXTRA_PLACES if aggregate == "avg" else 0)
    if kind == "number":
        scale = number_scale(source)
        if aggregate == "avg":
            return decimal_result(min(scale + AVG_EXTRA_PLACES, 10))
        return plain_result("integer") if scale == 0 else decimal_result(scale)
    if kind in ("date", "datetime") and aggregate in ("min", "max"):
        return plain_result(kind)
    need = "a number" if aggregate in ("sum", "avg") else "a number, date or date-time"
    raise SchemaError({"options.field": f"'{source.label}' is a {source.type} field; {aggregate} needs {need} field"})


def money_result(source_options: Mapping[str, Any], extra_places: int = 0) -> dict[str, Any]:
    """A figure of amounts is money in the same currency (or currencies) as its source:
    a total of EUR lines is EUR, never a bare number (issue 14, point 1)."""
    options = {k: v for k, v in source_options.items() if k in ("currency", "currencies")}
    options["currency_mode"] = mode_of(source_options)
    options["scale"] = min(int(source_options.get("scale", 2)) + extra_places, MONEY_MAX_SCALE)
    return {"type": "money", "options": options}


@register
class RollupType(ComputedType):
    name = "rollup"
    label = _l("Rollup")
    options_legend = _l("Rollup: a figure over a child list")
    options_empty = _l("No other object links to %(object)s yet, so there is no child list to sum up. Add a link "
                        "field to another object first.")
    options = (
        OptionSpec("child", OBJECT, required=True, widget="menu", placeholder=_l("— choose —"),
                   label=_l("Records of"), doc="the object whose records are aggregated"),
        OptionSpec("link", REFERENCE, widget="menu", placeholder=_l("— the only link —"),
                   label=_l("Linked through"),
                   doc="the link field of the child object to this one (needed when there are several)"),
        OptionSpec("aggregate", CHOICE, required=True, choices=AGGREGATES, label=_l("Figure"),
                   choice_labels={"sum": _l("Sum"), "count": _l("Count"), "avg": _l("Average"), "min": _l("Minimum"),
                                  "max": _l("Maximum"), "concat": _l("Joined texts")}),
        OptionSpec("field", REFERENCE, widget="menu", placeholder=_l("— none (count the records) —"),
                   label=_l("Of the field"), doc="the field of the child object to aggregate (not needed to count)"),
        OptionSpec("filter", CONDITION, label=_l("Only records matching (optional condition)"),
                   help=_l('In the filter language, e.g. {"field": "status", "op": "eq", "value": "open"}')),
    )

    def finish_options(self, options: dict[str, Any], ctx: OptionContext) -> dict[str, Any]:
        fctx = field_context(ctx, self.name)
        schema, obj = fctx.schema, fctx.obj
        child = schema.object(options["child"])
        link = self._link(schema, obj, child, options.get("link"))
        aggregate = options["aggregate"]
        field = None
        if options.get("field") not in (None, ""):
            field = user_field(child, options.get("field"), "options.field", "the field to aggregate")
            if field.ftype.stored_apart:
                raise SchemaError({"options.field": f"'{field.label}' links to several records; a rollup adds up, "
                                                    "counts or joins fields with one value"})
        elif aggregate != "count":
            raise SchemaError({"options.field": f"is required: the field of '{child.label}' to {aggregate}"})
        result = rollup_result(aggregate, field)
        support = reference_support()
        condition = support.condition_to_stored(schema, child, options.get("filter"))
        references = [link.id] + ([field.id] if field is not None and field.id is not None else [])
        references += [int(s) for key in support.condition_keys(condition) for s in key.split(".") if s.isdigit()]
        cleaned = {"child": child.id, "link": link.id, "field": field.id if field is not None else None,
                   "aggregate": aggregate, "filter": condition}
        return {**cleaned, REFERENCES: sorted(set(references)), RESULT: result}

    @staticmethod
    def _link(schema, obj, child, ref: Any):
        links = [f for c, f in schema.children(obj) if c.id == child.id]
        if not links:
            raise SchemaError({"options.child": f"'{child.label}' has no link field to '{obj.label}'"})
        if ref in (None, ""):
            if len(links) > 1:
                names = ", ".join(f.api_name for f in links)
                raise SchemaError({"options.link": f"'{child.label}' links to '{obj.label}' through several "
                                                   f"fields; name one: {names}"})
            return links[0]
        link = user_field(child, ref, "options.link", "")
        if link not in links:
            raise SchemaError({"options.link": f"'{link.label}' of '{child.label}' is not a link to '{obj.label}'"})
        return link

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        pending = options.get(PENDING)
        source = pending if isinstance(pending, Mapping) else options
        out: dict[str, Any] = {k: source.get(k) for k in self.option_names()}
        if isinstance(ctx, FieldContext):
            try:
                schema = ctx.schema
                child = schema.object(int(out["child"]))
                out["child"] = child.api_name
                out["link"] = schema.field_by_id(int(out["link"])).api_name
                if out["field"] is not None:
                    out["field"] = schema.field_by_id(int(out["field"])).api_name
                out["filter"] = reference_support().condition_to_named(schema, child, out["filter"]) if out["filter"] else None
            except Exception:  # a definition that no longer resolves is exported as stored
                pass
        return out
