"""The value of a field of the linked record ("source" of a field): a contact's City from
its Organisation. Kept current: when the organisation's city changes, so do its contacts'
(``computed.engine``). Stored in columns of the looked-up field's type, so a lookup of a
money field filters, sorts and formats like money, of a choice like that choice."""
from __future__ import annotations

from typing import Any, Mapping

from ..errors import SchemaError
from .base import FieldContext, OptionContext
from .computed import PENDING, REFERENCES, RESULT, ComputedType, field_context, result_of, user_field
from .options import REFERENCE, OptionSpec, _l
from .registry import register

NOT_LOOKED_UP = ("link", "user")


@register
class LookupType(ComputedType):
    name = "lookup"
    label = _l("Lookup")
    options_legend = _l("Lookup: show a field of the linked record")
    options_empty = _l("%(object)s has no link field yet. Add a link field first; a lookup shows a field of the "
                        "linked record.")
    options = (
        OptionSpec("link", REFERENCE, required=True, widget="menu", placeholder=_l("— choose —"),
                   label=_l("Follow the link field"), doc="the link field of this object to follow"),
        OptionSpec("field", REFERENCE, required=True, widget="menu", placeholder=_l("— choose —"),
                   label=_l("Show this field of the linked record"), doc="the field of the linked object to show"),
    )

    def finish_options(self, options: dict[str, Any], ctx: OptionContext) -> dict[str, Any]:
        fctx = field_context(ctx, self.name)
        link = user_field(fctx.obj, options.get("link"), "options.link",
                          f"the link field of '{fctx.obj.label}' to follow")
        if link.type != "link":
            raise SchemaError({"options.link": f"'{link.label}' is not a link field"})
        target = fctx.schema.link_target(link)
        field = user_field(target, options.get("field"), "options.field",
                           f"the field of '{target.label}' to show")
        if field.system or field.type in NOT_LOOKED_UP:
            raise SchemaError({"options.field": f"'{field.label}' is a {field.type} field; look up a value field "
                                                "(to follow a link further, use a formula such as "
                                                "[Organisation].[Owner])"})
        return {"link": link.id, "field": field.id, REFERENCES: [link.id, field.id], RESULT: result_of(field)}

    def export_options(self, options: Mapping[str, Any], ctx: OptionContext) -> dict[str, Any]:
        pending = options.get(PENDING)
        source = pending if isinstance(pending, Mapping) else options
        out: dict[str, Any] = {k: source.get(k) for k in self.option_names()}
        if isinstance(ctx, FieldContext):
            try:
                link = ctx.schema.field_by_id(int(out["link"]))
                out = {"link": link.api_name, "field": ctx.schema.field_by_id(int(out["field"])).api_name}
            except Exception:  # a definition that no longer resolves is exported as stored
                pass
        return out
